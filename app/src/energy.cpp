#include "sasim/app/energy.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>
#include <utility>
#include <vector>

#include "sasim/app/config.hpp"

namespace sasim::app {

namespace {

constexpr double kMaxPj = 1e6;

}  // namespace

const std::vector<std::pair<const char*, double EnergyConfig::*>>& EnergyConfig::fields() {
  static const std::vector<std::pair<const char*, double EnergyConfig::*>> kFields = {
      {"mac_int8_pj", &EnergyConfig::mac_int8_pj},
      {"mac_bf16_pj", &EnergyConfig::mac_bf16_pj},
      {"pe_idle_pj", &EnergyConfig::pe_idle_pj},
      {"sram_pj_per_byte_8kib", &EnergyConfig::sram_pj_per_byte_8kib},
      {"vector_op_pj", &EnergyConfig::vector_op_pj},
      {"interconnect_pj_per_byte", &EnergyConfig::interconnect_pj_per_byte},
      {"dram_pj_per_byte", &EnergyConfig::dram_pj_per_byte},
      {"dram_activate_pj", &EnergyConfig::dram_activate_pj},
      {"static_pj_per_cycle", &EnergyConfig::static_pj_per_cycle}};
  return kFields;
}

void EnergyConfig::validate() const {
  for (const auto& [name, member] : fields()) {
    const double v = this->*member;
    if (!(v >= 0 && v <= kMaxPj)) {
      char b[64];
      std::snprintf(b, sizeof b, "%g", v);
      throw std::invalid_argument(std::string(name) + ": " + b +
                                  " is out of range (allowed 0..1e6 pJ)");
    }
  }
}

double sram_pj_per_byte(const EnergyConfig& e, double bytes) {
  return e.sram_pj_per_byte_8kib * std::sqrt(bytes / 8192.0);
}

nlohmann::json energy_json(const Config& cfg, const spec::Counters& c, double useful_macs,
                           const std::string& mem) {
  const EnergyConfig& e = cfg.energy;
  const auto n = [&](const std::string& k) {
    return c.contains(k) ? static_cast<double>(c.at(k)) : 0.0;
  };
  // The core's counters by their contract names (spec/contract.json).
  const auto core_n = [&](spec::CounterId id) { return n(spec::counter_name(id)); };
  const spec::CoreSpec& core = cfg.core;
  const double pes = double(core.rows) * core.cols;
  const double cycles = core_n(spec::CounterId::kCycles);
  const double elem = core.elem_bytes();
  const double spad_row = double(core.width()) * elem, acc_row = double(core.cols) * 4;
  const double spad_bytes = double(core.spad_rows) * spad_row;
  const double acc_bytes = double(core.acc_rows) * acc_row;
  const bool bf16 = core.datapath == spec::Datapath::kBf16;

  nlohmann::json comp;
  comp["mac"] = useful_macs * (bf16 ? e.mac_bf16_pj : e.mac_int8_pj);
  comp["pe_idle"] = std::max(0.0, pes * cycles - useful_macs) * e.pe_idle_pj;
  comp["scratchpad"] =
      (core_n(spec::CounterId::kSpadReads) + core_n(spec::CounterId::kSpadWrites)) * spad_row *
      sram_pj_per_byte(e, spad_bytes);
  comp["accumulator"] = (core_n(spec::CounterId::kAccReads) + core_n(spec::CounterId::kAccWrites)) *
                        acc_row * sram_pj_per_byte(e, acc_bytes);
  comp["vector"] = core_n(spec::CounterId::kVecRows) * core.cols * e.vector_op_pj;
  comp["interconnect"] = n(mem + "noc.bytes") * e.interconnect_pj_per_byte;
  // The L2 moves what crosses the interconnect, plus a line per fill and per
  // write-back.
  const double l2_bytes =
      cfg.l2.bypass ? 0.0
                    : n(mem + "noc.bytes") +
                          (n(mem + "l2.misses") + n(mem + "l2.writebacks")) * cfg.l2.line_bytes;
  comp["l2"] = l2_bytes * sram_pj_per_byte(e, double(cfg.l2.size_bytes));
  comp["dram"] = (n(mem + "dram.bytes_read") + n(mem + "dram.bytes_written")) * e.dram_pj_per_byte +
                 n(mem + "dram.activates") * e.dram_activate_pj;
  comp["static"] = cycles * e.static_pj_per_cycle;
  double total = 0;
  for (const auto& [k, v] : comp.items()) total += v.get<double>();
  return {{"total_pj", total},
          {"pj_per_mac", useful_macs > 0 ? nlohmann::json(total / useful_macs) : nlohmann::json()},
          {"components", comp}};
}

nlohmann::json energy_sum(const std::vector<nlohmann::json>& parts) {
  nlohmann::json comp = nlohmann::json::object();
  double total = 0, macs = 0;
  for (const auto& p : parts) {
    for (const auto& [k, v] : p.at("components").items())
      comp[k] = comp.value(k, 0.0) + v.get<double>();
    total += p.at("total_pj").get<double>();
    if (p.at("pj_per_mac").is_number() && p.at("pj_per_mac").get<double>() > 0)
      macs += p.at("total_pj").get<double>() / p.at("pj_per_mac").get<double>();
  }
  return {{"total_pj", total},
          {"pj_per_mac", macs > 0 ? nlohmann::json(total / macs) : nlohmann::json()},
          {"components", comp}};
}

std::string energy_line(const nlohmann::json& j, const std::string& label) {
  const double total = j.at("total_pj").get<double>();
  const auto& c = j.at("components");
  const auto pct = [&](double v) { return total > 0 ? 100.0 * v / total : 0.0; };
  const double sram = c.at("scratchpad").get<double>() + c.at("accumulator").get<double>();
  const double other = c.at("pe_idle").get<double>() + c.at("vector").get<double>() +
                       c.at("interconnect").get<double>() + c.at("static").get<double>();
  char per_mac[48] = "";
  if (j.at("pj_per_mac").is_number())
    std::snprintf(per_mac, sizeof per_mac, ", %.3g pJ/MAC", j.at("pj_per_mac").get<double>());
  // uJ, mJ or J, whichever keeps the figure between 1 and 1000.
  const double uj = total * 1e-6;
  const double shown = uj >= 1e6 ? uj * 1e-6 : uj >= 1e3 ? uj * 1e-3 : uj;
  const char* unit = uj >= 1e6 ? "J" : uj >= 1e3 ? "mJ" : "uJ";
  char b[320];
  std::snprintf(b, sizeof b,
                "  %-16s %.4g %s%s: MAC %.1f %%, SRAM %.1f %%, L2 %.1f %%, DRAM %.1f %%, other "
                "%.1f %%\n",
                label.c_str(), shown, unit, per_mac, pct(c.at("mac").get<double>()), pct(sram),
                pct(c.at("l2").get<double>()), pct(c.at("dram").get<double>()), pct(other));
  return b;
}

}  // namespace sasim::app
