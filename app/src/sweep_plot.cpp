// The plots of a sweep: gnuplot scripts (kept beside the figures, so that a
// user can restyle them) rendered to PNG and SVG.

#include <algorithm>
#include <cstdlib>
#include <map>
#include <ostream>
#include <set>
#include <sstream>

#include "sasim/app/gnuplot.hpp"
#include "sasim/app/sweep_runner.hpp"

namespace sasim::app {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

bool is_number(const std::string& s, double& v) {
  char* end = nullptr;
  v = std::strtod(s.c_str(), &end);
  return !s.empty() && end && *end == '\0';
}

// The keys an axis stands for in a plot: its zip group, or itself.
std::vector<std::string> keys_of(const Sweep& s, const std::string& axis) {
  for (const auto& g : s.zip_groups)
    if (std::find(g.begin(), g.end(), axis) != g.end()) return g;
  return {axis};
}

// A point's value on a plot axis: "8x16" for a zip group of two keys.
std::string label_of(const SweepPoint& p, const std::vector<std::string>& keys) {
  std::string l;
  for (const auto& k : keys)
    for (const auto& [kk, v] : p.values)
      if (kk == k) l += (l.empty() ? "" : "x") + v;
  return l;
}

std::string join(const std::vector<std::string>& v, const char* sep) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : sep) + x;
  return s;
}

}  // namespace

std::vector<fs::path> write_plots(const Sweep& s, const std::vector<json>& results,
                                  const fs::path& dir, std::ostream& log) {
  std::vector<fs::path> written;
  if (s.plots.empty()) return written;
  if (find_gnuplot().empty()) {
    log << "sasim sweep: WARNING: gnuplot is not installed (Debian package gnuplot-nox; "
           "./sasim installs it): no plots, the tables are complete\n";
    return written;
  }
  const fs::path plots = dir / "plots";
  fs::create_directories(plots);
  for (const auto& pl : s.plots) {
    // x positions in the order the sweep lists them; numeric when all are.
    const auto xkeys = keys_of(s, pl.x);
    const auto gkeys = pl.group.empty() ? std::vector<std::string>{} : keys_of(s, pl.group);
    std::vector<std::string> xs, groups;
    for (const auto& p : s.points) {
      const std::string x = label_of(p, xkeys), g = label_of(p, gkeys);
      if (std::find(xs.begin(), xs.end(), x) == xs.end()) xs.push_back(x);
      if (std::find(groups.begin(), groups.end(), g) == groups.end()) groups.push_back(g);
    }
    bool numeric = xkeys.size() == 1;
    std::vector<double> xv(xs.size());
    for (std::size_t i = 0; i < xs.size(); ++i) numeric = numeric && is_number(xs[i], xv[i]);
    // Other axes that vary are averaged.
    std::set<std::string> averaged;
    for (const auto& k : s.axis_keys) {
      if (std::find(xkeys.begin(), xkeys.end(), k) != xkeys.end() ||
          std::find(gkeys.begin(), gkeys.end(), k) != gkeys.end())
        continue;
      std::set<std::string> vals;
      for (const auto& p : s.points)
        for (const auto& [kk, v] : p.values)
          if (kk == k) vals.insert(v);
      if (vals.size() > 1) averaged.insert(k);
    }
    // (group, x) -> sum, count over the points that finished with a value.
    std::map<std::pair<std::string, std::string>, std::pair<double, int>> acc;
    for (const auto& p : s.points) {
      const json& r = results[p.index];
      if (r.is_null() || r.value("status", "") != "ok") continue;
      const json row = table_row(s, p, r);
      if (!row[pl.y].is_number()) continue;
      auto& a = acc[{label_of(p, gkeys), label_of(p, xkeys)}];
      a.first += row[pl.y].get<double>();
      a.second += 1;
    }
    const std::string stem = pl.y + "_vs_" + pl.x + (pl.group.empty() ? "" : "_by_" + pl.group);
    std::ostringstream gp;
    gp << "# " << stem << ": written by sasim sweep from " << (dir / "sweep.csv").string()
       << "\n# gnuplot " << stem << ".gp renders it again.\n";
    for (std::size_t gi = 0; gi < groups.size(); ++gi) {
      gp << "$g" << gi << " << EOD\n";
      std::vector<std::pair<double, double>> pts;
      for (std::size_t xi = 0; xi < xs.size(); ++xi) {
        const auto it = acc.find({groups[gi], xs[xi]});
        if (it == acc.end()) continue;
        pts.emplace_back(numeric ? xv[xi] : double(xi), it->second.first / it->second.second);
      }
      std::sort(pts.begin(), pts.end());
      for (const auto& [x, y] : pts) gp << x << " " << y << "\n";
      gp << "EOD\n";
    }
    std::string title = s.name + ": " + pl.y;
    if (!averaged.empty()) {
      title += " (mean over";
      for (const auto& k : averaged) title += " " + k;
      title += ")";
    }
    gp << "set title " << gnuplot_quoted(title) << "\nset xlabel "
       << gnuplot_quoted(join(xkeys, " x ")) << "\nset ylabel " << gnuplot_quoted(pl.y)
       << "\nset grid\nset key below title " << gnuplot_quoted(join(gkeys, " x "))
       << "\nset offsets graph 0.03, graph 0.03, graph 0.05, 0\n";
    if (!pl.log_y) gp << "set yrange [0:*]\n";  // the metrics are never negative
    if (pl.log_x && numeric) gp << "set logscale x 2\n";
    if (pl.log_y) gp << "set logscale y\n";
    if (!numeric) {
      gp << "set xtics (";
      for (std::size_t i = 0; i < xs.size(); ++i)
        gp << (i ? ", " : "") << gnuplot_quoted(xs[i]) << " " << i;
      gp << ")\n";
    } else {
      gp << "set xtics (";
      for (std::size_t i = 0; i < xs.size(); ++i)
        gp << (i ? ", " : "") << gnuplot_quoted(xs[i]) << " " << xv[i];
      gp << ")\n";
    }
    std::ostringstream plot;
    plot << "plot ";
    for (std::size_t gi = 0; gi < groups.size(); ++gi)
      plot << (gi ? ", " : "") << "$g" << gi << " using 1:2 with linespoints lw 2 pt 7 title "
           << gnuplot_quoted(groups[gi].empty() ? pl.y : groups[gi]);
    for (auto& f : render_gnuplot(plots, stem, gp.str(), plot.str(), log, "sasim sweep"))
      written.push_back(f);
  }
  return written;
}

}  // namespace sasim::app
