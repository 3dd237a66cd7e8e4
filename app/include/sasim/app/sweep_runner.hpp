// Running a sweep (sweep.hpp): every point is one `sasim <command>` process
// with the base config and the point's --set values, its output in
// <out>/<sweep name>/points/<point id>/. A finished point leaves result.json
// there (written atomically), which makes a sweep resumable: a re-run skips
// the points whose result is there and whose inputs (base config text,
// assignments, command, RTL and build key) are unchanged, and a sweep killed
// at any moment, even with SIGKILL, loses no finished point. After each point
// the table is rewritten: sweep.csv (one row per point: the axis values, the
// status, the error, the metrics) and sweep.jsonl (the same with every
// counter); at the end the plots (plots/*.png and *.svg, gnuplot).
#pragma once

#include <cstddef>
#include <filesystem>
#include <iosfwd>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sasim/app/sweep.hpp"

namespace sasim::app {

struct SweepOptions {
  std::filesystem::path out_dir = "out/sweeps";  // the sweep's folder is <out_dir>/<name>
  unsigned jobs = 0;                             // points at once; 0: the machine's cores
  unsigned build_jobs = 1;                       // core builds at once (variant cache)
  std::string runner = "local";                  // local | slurm
  bool progress_bar = false;                     // redraw one line (a terminal) or print lines
  // slurm: the points are one job array (sbatch), at most `jobs` tasks at once
  // (0: no limit); each task runs `sasim sweep --run-point I` on the shared
  // output folder, and the runner waits for the array and tabulates it.
  std::vector<std::string> sbatch_args;  // extra sbatch options (--partition=..., --time=...)
  double slurm_poll_seconds = 2.0;
};

struct SweepSummary {
  std::filesystem::path dir;
  std::size_t points = 0, ran = 0, reused = 0, failed = 0;
  double wall_seconds = 0;
};

SweepSummary run_sweep(const Sweep& sweep, const SweepOptions& options, std::ostream& progress);

// What run_sweep would do, without doing it: one line per point (index, id,
// values, and "done", "invalid: ...", or "to run", with the variant it needs
// built), then a summary. Writes nothing.
void plan_sweep(const Sweep& sweep, const SweepOptions& options, std::ostream& out);

// One point: runs it (its process, its log) and writes its result.json; the
// result is returned too. What the local pool does for each point, and what a
// Slurm array task does for its point.
nlohmann::json run_point(const Sweep& sweep, const SweepPoint& point,
                         const std::filesystem::path& sweep_dir);

// What a Slurm array task runs: sasim sweep --run-point I --point-key K (the
// same sweep file and --set options), i.e. run_point() for point I, after
// checking that the point's key is still K (empty: not checked).
nlohmann::json run_one_point(const Sweep& sweep, std::size_t index, const std::string& key,
                             const SweepOptions& options);

// The inputs' fingerprint of a point: a result.json with another one is stale.
std::string point_key(const Sweep& sweep, const SweepPoint& point);

// The table row of a point's result: the axis values, status, error and
// metrics (sweep_metrics(); null where the command has no such figure).
nlohmann::json table_row(const Sweep& sweep, const SweepPoint& point, const nlohmann::json& result);

// Writes sweep.csv and sweep.jsonl (atomically) from the results known so
// far (null: not done yet, left out).
void write_tables(const Sweep& sweep, const std::vector<nlohmann::json>& results,
                  const std::filesystem::path& sweep_dir);

// plots/<y>_vs_<x>[_by_<group>].png and .svg for each plot of the sweep
// (gnuplot); returns the files written. Points that failed are left out.
std::vector<std::filesystem::path> write_plots(const Sweep& sweep,
                                               const std::vector<nlohmann::json>& results,
                                               const std::filesystem::path& sweep_dir,
                                               std::ostream& log);

}  // namespace sasim::app
