#include "sasim/app/plots.hpp"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "sasim/app/gnuplot.hpp"
#include "sasim/host/files.hpp"

namespace sasim::app {

namespace fs = std::filesystem;

namespace {

constexpr std::uint64_t kMaxInput = std::uint64_t{4} << 30;

std::string read_input(const fs::path& p, const std::string& what) {
  try {
    return host::read_file(p, kMaxInput, what);
  } catch (const host::FileError& e) {
    throw PlotError(e.what());
  }
}

fs::path out_dir(const fs::path& out) {
  const fs::path dir = out.has_parent_path() ? out.parent_path() : fs::path(".");
  fs::create_directories(dir);
  return dir;
}

}  // namespace

std::vector<fs::path> plot_power(const std::vector<fs::path>& csvs, std::vector<std::string> labels,
                                 double cap_watts, const fs::path& out, std::ostream& log) {
  if (csvs.empty()) throw PlotError("sasim plot power: no power.csv given");
  if (!labels.empty() && labels.size() != csvs.size())
    throw PlotError("sasim plot power: " + std::to_string(labels.size()) + " labels for " +
                    std::to_string(csvs.size()) + " files (one --label per file, or none)");
  std::ostringstream body;
  std::ostringstream top, bottom;
  // The data go into the script (it renders again on its own); milliseconds
  // of simulated time, each window a step.
  for (std::size_t i = 0; i < csvs.size(); ++i) {
    const std::string text = read_input(csvs[i], "power table");
    std::istringstream in(text);
    std::string header;
    std::getline(in, header);
    if (header.rfind("step,start_us,end_us,cycles,clock_mhz,volts,", 0) != 0 ||
        header.find(",power_w") == std::string::npos)
      throw PlotError(csvs[i].string() + ": not a sasim power.csv (its header is '" +
                      header.substr(0, 80) + "')");
    body << "$p" << i << " << EOD\n";
    std::size_t rows = 0;
    for (std::string line; std::getline(in, line);) {
      std::vector<std::string> f;
      std::stringstream ls(line);
      for (std::string x; std::getline(ls, x, ',');) f.push_back(x);
      if (f.size() < 10)
        throw PlotError(csvs[i].string() + ": row " + std::to_string(rows + 2) + " has " +
                        std::to_string(f.size()) + " fields");
      // start_ms end_ms clock power, each a number
      double v[4] = {};
      const std::size_t col[4] = {1, 2, 4, 9};
      for (int c = 0; c < 4; ++c) {
        char* end = nullptr;
        v[c] = std::strtod(f[col[c]].c_str(), &end);
        if (f[col[c]].empty() || *end != '\0')
          throw PlotError(csvs[i].string() + ": row " + std::to_string(rows + 2) + ", column " +
                          std::to_string(col[c] + 1) + ": '" + f[col[c]].substr(0, 40) +
                          "' is not a number");
      }
      body << v[0] * 1e-3 << " " << v[1] * 1e-3 << " " << v[2] << " " << v[3] << "\n";
      ++rows;
    }
    body << "EOD\n";
    if (rows == 0) throw PlotError(csvs[i].string() + ": no windows");
    const std::string label =
        labels.empty() ? csvs[i].parent_path().filename().string() : labels[i];
    top << (i ? ", " : "") << "$p" << i << " using 1:4 with steps lw 1.5 title "
        << gnuplot_quoted(label);
    bottom << (i ? ", " : "") << "$p" << i << " using 1:3 with steps lw 2 title "
           << gnuplot_quoted(label);
  }
  body << "set grid\nset key top right\n";
  std::ostringstream plot;
  plot << "set multiplot layout 2,1\nset size 1,0.68\nset origin 0,0.32\n"
       << "set title 'power over time (sampling windows)'\nset ylabel 'W'\nset xlabel ''\n"
       << "set yrange [0:*]\n";
  if (cap_watts > 0) {
    plot << "set arrow 1 from graph 0, first " << cap_watts << " to graph 1, first " << cap_watts
         << " nohead dt 2 lw 2 lc rgb 'red'\nset label 1 'cap " << cap_watts
         << " W' at graph 0.01, first " << cap_watts << " offset 0,0.6 tc rgb 'red'\n";
  }
  plot << "plot " << top.str() << "\nunset arrow 1\nunset label 1\n"
       << "set size 1,0.32\nset origin 0,0\nset title ''\nset ylabel 'core MHz'\n"
       << "set xlabel 'simulated time (ms)'\nset yrange [0:*]\nset offsets 0, 0, graph 0.15, 0\n"
       << "set key bottom right\nplot " << bottom.str() << "\nunset multiplot\n";
  return render_gnuplot(out_dir(out), out.filename().string(), body.str(), plot.str(), log,
                        "sasim plot", 1100, 700);
}

std::vector<fs::path> plot_trace(const fs::path& trace,
                                 std::pair<std::uint64_t, std::uint64_t> window,
                                 const fs::path& out, std::ostream& log) {
  nlohmann::json t;
  try {
    t = nlohmann::json::parse(read_input(trace, "trace"));
  } catch (const nlohmann::json::exception& e) {
    throw PlotError(trace.string() + ": not JSON (" + e.what() + ")");
  }
  if (!t.is_object() || !t.contains("traceEvents") || !t["traceEvents"].is_array())
    throw PlotError(trace.string() + ": not a trace-event file (no traceEvents list)");
  // Device threads in their sort order; slices by name.
  std::map<int, std::string> thread;  // tid -> name
  std::map<int, std::int64_t> order;  // tid -> sort index
  struct Box {
    std::uint64_t begin, end;
    int tid;
  };
  std::map<std::string, std::vector<Box>> by_name;
  std::uint64_t lo = ~std::uint64_t{0}, hi = 0;
  for (const auto& e : t["traceEvents"]) {
    if (e.value("pid", 0) != 1) continue;
    const std::string ph = e.value("ph", "");
    const int tid = e.value("tid", 0);
    if (ph == "M" && e.value("name", "") == "thread_name")
      thread[tid] = e["args"].value("name", "?");
    else if (ph == "M" && e.value("name", "") == "thread_sort_index")
      order[tid] = e["args"].value("sort_index", 0);
    else if (ph == "X" && e.contains("args") && e["args"].contains("cycle")) {
      const std::uint64_t b = e["args"]["cycle"], n = e["args"]["cycles"];
      const std::uint64_t bb = std::max(b, window.first), ee = std::min(b + n, window.second);
      if (bb >= ee) continue;
      by_name[e.value("name", "?")].push_back({bb, ee, tid});
      lo = std::min(lo, bb);
      hi = std::max(hi, ee);
    }
  }
  if (by_name.empty())
    throw PlotError(trace.string() + ": no device slices in the window " +
                    std::to_string(window.first) + ":" + std::to_string(window.second));
  std::vector<int> tids;
  for (const auto& [tid, name] : thread) tids.push_back(tid);
  std::sort(tids.begin(), tids.end(), [&](int a, int b) { return order[a] < order[b]; });
  std::map<int, int> row;
  for (std::size_t i = 0; i < tids.size(); ++i) row[tids[i]] = int(tids.size() - 1 - i);
  std::ostringstream body, plot;
  std::size_t k = 0;
  plot << "plot ";
  for (const auto& [name, boxes] : by_name) {
    body << "$s" << k << " << EOD\n";
    for (const Box& b : boxes) body << b.begin << " " << b.end << " " << row[b.tid] << "\n";
    body << "EOD\n";
    plot << (k ? ", " : "") << "$s" << k
         << " using (($1+$2)/2):3:(($2-$1)/2):(0.38) with boxxyerror fs solid 0.85 noborder "
            "title "
         << gnuplot_quoted(name);
    ++k;
  }
  body << "set title "
       << gnuplot_quoted("sasim trace " + trace.filename().string() + ", cycles " +
                         std::to_string(lo) + ".." + std::to_string(hi))
       << "\nset xlabel 'device cycle'\nset xrange [" << lo << ":" << hi
       << "]\nset yrange [-0.6:" << tids.size() - 0.4 << "]\nset ytics (";
  for (std::size_t i = 0; i < tids.size(); ++i)
    body << (i ? ", " : "") << gnuplot_quoted(thread[tids[i]]) << " " << row[tids[i]];
  body << ")\nset grid xtics\nset key outside right top\nset format x '%.0f'\n";
  return render_gnuplot(out_dir(out), out.filename().string(), body.str(), plot.str(), log,
                        "sasim plot", 1300, 40 + 28 * int(tids.size()) + 120);
}

}  // namespace sasim::app
