// Figures drawn by gnuplot (Debian package gnuplot-nox): the script is kept
// beside the figures so that a user can restyle it, and sasim renders it into
// temporary files that are renamed, so a killed run never leaves half a figure.
#pragma once

#include <filesystem>
#include <ostream>
#include <string>
#include <vector>

namespace sasim::app {

// A gnuplot single-quoted string: no escapes and no `command` substitution
// (which double-quoted strings do); '' stands for '.
std::string gnuplot_quoted(const std::string& s);

// The gnuplot on PATH, or an empty path.
std::filesystem::path find_gnuplot();

// Writes <dir>/<stem>.gp, `body` (data blocks, titles, axes) followed by
// `plot` (the commands that draw, given once per terminal), and renders
// <stem>.png and <stem>.svg at width x height pixels. Returns the two
// figures, or nothing after writing "<who>: WARNING: ..." to `log` (gnuplot
// missing or failing; its messages are in <dir>/gnuplot.log).
std::vector<std::filesystem::path> render_gnuplot(const std::filesystem::path& dir,
                                                  const std::string& stem, const std::string& body,
                                                  const std::string& plot, std::ostream& log,
                                                  const std::string& who, int width = 960,
                                                  int height = 600);

}  // namespace sasim::app
