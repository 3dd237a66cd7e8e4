#include "sasim/app/summary.hpp"

#include <cstdio>

namespace sasim::app {

std::string l2_line(const Config& cfg, const spec::Counters& c, const std::string& prefix) {
  if (cfg.l2.bypass) return "  L2               bypassed\n";
  const auto n = [&](const char* k) { return double(c.at(prefix + "l2." + k)); };
  const double h = n("hits"), m = n("misses");
  char line[320];
  std::snprintf(line, sizeof line,
                "  L2 (%s, %s)  hits %.0f, misses %.0f (hit rate %.1f %%), evictions %.0f, "
                "write-backs %.0f\n",
                cfg.l2.replacement.c_str(), cfg.l2.write_policy.c_str(), h, m,
                h + m > 0 ? 100.0 * h / (h + m) : 0.0, n("evictions"), n("writebacks"));
  return line;
}

std::string memory_line(const Config& cfg, const spec::Counters& c, const std::string& prefix,
                        double seconds) {
  if (cfg.memory.model != "dram") {
    const std::string m = prefix + cfg.memory.model + ".";
    return "  memory           " + cfg.memory.model + " model (" +
           std::to_string(c.at(m + "reads")) + " reads, " + std::to_string(c.at(m + "writes")) +
           " writes)\n";
  }
  const auto n = [&](const char* k) { return double(c.at(prefix + "dram." + k)); };
  const double rh = n("row_hits"), rm = n("row_misses"), rc = n("row_conflicts");
  const double rd = n("bytes_read"), wr = n("bytes_written");
  char line[320];
  std::snprintf(line, sizeof line,
                "  DRAM             %.0f B read, %.0f B written (%.2f GB/s), row hits %.0f, "
                "empty %.0f, conflicts %.0f (row-hit rate %.1f %%)\n",
                rd, wr, seconds > 0 ? (rd + wr) / seconds * 1e-9 : 0.0, rh, rm, rc,
                rh + rm + rc > 0 ? 100.0 * rh / (rh + rm + rc) : 0.0);
  return line;
}

std::string duration_text(double s) {
  char b[32];
  if (s >= 3600)
    std::snprintf(b, sizeof b, "%dh%02dm", int(s / 3600), int(s / 60) % 60);
  else if (s >= 60)
    std::snprintf(b, sizeof b, "%dm%02ds", int(s / 60), int(s) % 60);
  else
    std::snprintf(b, sizeof b, "%.0fs", s);
  return b;
}

}  // namespace sasim::app
