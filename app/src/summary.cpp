#include "sasim/app/summary.hpp"

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

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

std::string engine_text(const Config& cfg) {
  switch (cfg.run.engine) {
    case cosim::Engine::kRtl:
      return "RTL";
    case cosim::Engine::kModel:
      return "cycle model";
    case cosim::Engine::kCheck:
      return "RTL checked against the cycle model every cycle";
  }
  return "?";
}

std::string correlation_class(const Config& cfg) {
  return std::string(model::to_string(cfg.core.datapath)) + "/" +
         std::string(model::to_string(cfg.core.dataflow)) + "/" + cfg.memory.model;
}

std::string engine_line(const Config& cfg) {
  if (cfg.run.engine != cosim::Engine::kModel) return "";
  const std::string path = std::string(SASIM_SOURCE_DIR) + "/docs/correlation.json";
  std::ifstream in(path);
  nlohmann::json j;
  try {
    if (in) j = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception&) {
    j = nullptr;
  }
  if (!j.is_object() || !j.contains("classes")) {
    return "  engine           cycle model of sa_core (no correlation table at " + path +
           ": run tests/correlation/correlate.py)\n";
  }
  const std::string cls = correlation_class(cfg);
  char line[400];
  const auto& classes = j.at("classes");
  if (classes.contains(cls)) {
    const auto& c = classes.at(cls);
    std::snprintf(line, sizeof line,
                  "  engine           cycle model of sa_core: %.3f %% max cycle error against "
                  "the RTL on the %d correlated %s configs (%.3f %% on all %d; "
                  "docs/correlation.md)\n",
                  100.0 * c.at("max_cycle_error").get<double>(), c.at("points").get<int>(),
                  cls.c_str(), 100.0 * j.at("max_cycle_error").get<double>(),
                  j.at("points").get<int>());
  } else {
    std::snprintf(line, sizeof line,
                  "  engine           cycle model of sa_core: no correlated config of class %s; "
                  "%.3f %% max cycle error against the RTL on all %d (docs/correlation.md)\n",
                  cls.c_str(), 100.0 * j.at("max_cycle_error").get<double>(),
                  j.at("points").get<int>());
  }
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
