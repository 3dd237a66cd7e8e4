// `sasim plot`: figures of a run's outputs, drawn with gnuplot (gnuplot.hpp).
//   power: power.csv files (power.hpp) over simulated time, with the core
//          clock below: one line per file (a capped and an uncapped run);
//   trace: a Gantt chart of a trace (trace.hpp) over a window of cycles.
#pragma once

#include <cstdint>
#include <filesystem>
#include <ostream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace sasim::app {

// A bad input file (missing, not a power.csv / trace, an empty window).
class PlotError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// <out>.png/.svg/.gp; labels (one per file, or none: the files' folders);
// cap_watts > 0 draws the cap.
std::vector<std::filesystem::path> plot_power(const std::vector<std::filesystem::path>& csvs,
                                              std::vector<std::string> labels, double cap_watts,
                                              const std::filesystem::path& out, std::ostream& log);

// The device tracks of `trace` over device cycles [window.first, window.second)
// (the trace's own extent when {0, max}).
std::vector<std::filesystem::path> plot_trace(const std::filesystem::path& trace,
                                              std::pair<std::uint64_t, std::uint64_t> window,
                                              const std::filesystem::path& out, std::ostream& log);

}  // namespace sasim::app
