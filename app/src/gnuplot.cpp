#include "sasim/app/gnuplot.hpp"

#include <unistd.h>

#include <cstdlib>
#include <sstream>

#include "sasim/cosim/subprocess.hpp"
#include "sasim/host/files.hpp"

namespace sasim::app {

namespace fs = std::filesystem;

std::string gnuplot_quoted(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("''") : std::string(1, c == '\n' ? ' ' : c);
  return q + "'";
}

fs::path find_gnuplot() {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "/usr/bin");
  for (std::string d; std::getline(dirs, d, ':');) {
    const fs::path p = fs::path(d) / "gnuplot";
    std::error_code ec;
    if (fs::exists(p, ec)) return p;
  }
  return {};
}

std::vector<fs::path> render_gnuplot(const fs::path& dir, const std::string& stem,
                                     const std::string& body, const std::string& plot,
                                     std::ostream& log, const std::string& who, int width,
                                     int height) {
  const fs::path gnuplot = find_gnuplot();
  if (gnuplot.empty()) {
    log << who
        << ": WARNING: gnuplot is not installed (Debian package gnuplot-nox; ./sasim installs "
           "it): no figure "
        << stem << "\n";
    return {};
  }
  // The script names the final files; sasim renders into temporary names
  // (-e) and renames them.
  const std::string tmp = ".tmp." + std::to_string(::getpid());
  const fs::path png = dir / (stem + ".png"), svg = dir / (stem + ".svg");
  const std::string size = std::to_string(width) + "," + std::to_string(height);
  std::ostringstream gp;
  gp << body << "if (!exists(\"png\")) png = " << gnuplot_quoted(png.filename().string())
     << "\nif (!exists(\"svg\")) svg = " << gnuplot_quoted(svg.filename().string())
     << "\nset terminal pngcairo size " << size << " noenhanced font \",11\"\nset output png\n"
     << plot << "\nset terminal svg size " << size
     << " noenhanced dynamic font \"Helvetica,13\"\nset output svg\n"
     << plot << "\nunset output\n";
  const fs::path script = dir / (stem + ".gp");
  host::write_file_atomic(script, gp.str());
  const int rc = cosim::run_process(
      {gnuplot.string(), "-e",
       "png=" + gnuplot_quoted(png.string() + tmp) + "; svg=" + gnuplot_quoted(svg.string() + tmp),
       script.string()},
      dir / "gnuplot.log");
  std::error_code ec;
  if (rc != 0) {
    log << who << ": WARNING: gnuplot failed on " << script.string() << " (see "
        << (dir / "gnuplot.log").string() << ")\n";
    fs::remove(png.string() + tmp, ec);
    fs::remove(svg.string() + tmp, ec);
    return {};
  }
  fs::rename(png.string() + tmp, png, ec);
  fs::rename(svg.string() + tmp, svg, ec);
  return {png, svg};
}

}  // namespace sasim::app
