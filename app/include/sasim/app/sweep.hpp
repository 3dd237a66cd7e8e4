// Design-space sweeps (`sasim sweep`, docs/sweeps.md). A sweep file
// (configs/sweeps/) names a base config, the sasim command every point runs,
// and axes: config key paths with lists of values, combined as a cartesian
// product of the `axes` and of the `zip` groups (whose keys advance together),
// minus the `exclude` entries. Every point is a full config, checked like a
// file before anything runs. The runner (sweep_runner.hpp) runs the points
// and tabulates them.
#pragma once

#include <cstddef>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "sasim/app/config.hpp"

namespace sasim::app {

// A sweep file that cannot be used; what() names the file, the field or axis
// and the value.
class SweepError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// key path = YAML value text (e.g. {"core.rows", "32"}), as --set takes it.
using Assignment = std::pair<std::string, std::string>;

struct SweepPoint {
  std::size_t index = 0;           // position in the sweep (0-based)
  std::vector<Assignment> values;  // one per axis key, in Sweep::axis_keys order
  std::string id;                  // stable name of the point (hash of its values)
  std::string key;                 // fingerprint of its inputs (sweep_runner.hpp point_key)
  std::string error;               // set when the point's config is not valid
  Config config;                   // the point's effective config (when valid)
  std::string set_text() const;    // "core.rows=32 core.dataflow=os"
};

// A plot of a metric (a sweep.csv column) against an axis, one line per value
// of `group` (optional); other axes that vary are averaged (the title says so).
// An axis of a zip group stands for the whole group: x: core.rows in a group
// with core.cols plots against "8x16" and the like.
struct SweepPlot {
  std::string x, y, group;
  bool log_x = false, log_y = false;
};

struct Sweep {
  std::string source;                  // the sweep file, as given
  std::string name;                    // its stem: the output folder's name
  std::string command;                 // run | array | train | mem
  std::filesystem::path base;          // the base config (relative to the sweep file)
  std::string base_text;               // its text, read once: the points run from this copy
  std::vector<Assignment> set;         // applied to every point before its axis values
  std::vector<std::string> overrides;  // the command line's --set (part of `set`)
  bool skip_invalid = false;           // invalid points kept as failed (load_sweep)
  std::vector<std::string> axis_keys;
  std::vector<std::vector<std::string>> zip_groups;  // the keys of each zip group
  std::vector<SweepPoint> points;                    // excluded points removed
  std::size_t excluded = 0;
  std::vector<SweepPlot> plots;
};

// The metrics of a sweep table (sweep.csv columns after the axes), also what
// a plot's `y` may name.
const std::vector<std::string>& sweep_metrics();

// Reads and expands a sweep file; `overrides` (--set on the sweep command)
// apply to every point after the file's `set`. Every point's config is loaded
// and validated: with skip_invalid false the first few bad points throw one
// SweepError naming the file, the axis values and the config error; with it
// true they are kept with their error (recorded as failed, never run).
// `only_point` >= 0 checks only that point's config (a Slurm task running it).
Sweep load_sweep(const std::filesystem::path& file, const std::vector<std::string>& overrides,
                 bool skip_invalid, long long only_point = -1);

}  // namespace sasim::app
