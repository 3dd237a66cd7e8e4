// Energy of a run from its event counts (docs/energy.md): a per-event table
// (the YAML's `energy` section, in pJ, 45 nm defaults from Horowitz, ISSCC
// 2014) applied to the counters the run already has. Nothing here changes
// what the device computes or how long it takes.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "sasim/spec/backend.hpp"

namespace sasim::app {

struct Config;

// pJ per event. The defaults and their sources are in docs/energy.md; a
// coefficient without a public figure defaults to 0 and says so there.
struct EnergyConfig {
  double mac_int8_pj = 0.23;              // int8 mult 0.2 + int8 add 0.03
  double mac_bf16_pj = 2.0;               // derived: fp16 mult 1.1 + fp32 add 0.9
  double pe_idle_pj = 0.0;                // a PE for a cycle without a useful MAC
  double sram_pj_per_byte_8kib = 1.25;    // 8 KB SRAM: 10 pJ per 64-bit access
  double vector_op_pj = 4.6;              // one lane element: fp32 mult 3.7 + add 0.9
  double interconnect_pj_per_byte = 0.0;  // on-chip interconnect
  double dram_pj_per_byte = 162.5;        // 1.3 nJ per 64-bit access
  double dram_activate_pj = 0.0;          // per activate, beyond dram_pj_per_byte
  double static_pj_per_cycle = 0.0;       // leakage of the whole device per core cycle

  // Throws std::invalid_argument "<key>: ..." for a coefficient outside
  // 0..1e6 pJ (or not a number).
  void validate() const;
  // The YAML keys and their members, in order: the one list of the fields.
  static const std::vector<std::pair<const char*, double EnergyConfig::*>>& fields();
};

// Energy per byte of an SRAM of `bytes`: the 8 KiB figure scaled by
// sqrt(bytes / 8 KiB) (bit-line and word-line length; docs/energy.md).
double sram_pj_per_byte(const EnergyConfig& e, double bytes);

// The energy of the events in `c` (the names of a device run: core.*,
// <mem_prefix>noc.*, l2.*, dram.*) for the core and memory system of `cfg`
// with `useful_macs` multiply-accumulates:
//   {"total_pj", "pj_per_mac", "components": {"mac", "pe_idle", "scratchpad",
//    "accumulator", "vector", "interconnect", "l2", "dram", "static"}}
// Components the run has no counters for are 0.
nlohmann::json energy_json(const Config& cfg, const spec::Counters& c, double useful_macs,
                           const std::string& mem_prefix = "device.mem.");

// The sum of several energy_json() results (the phases of a training step).
nlohmann::json energy_sum(const std::vector<nlohmann::json>& parts);

// "  energy           12.3 uJ, 4.56 pJ/MAC: MAC 10 %, SRAM 40 %, L2 20 %, DRAM 30 %, other 0 %\n"
// (uJ, mJ or J, whichever keeps the figure between 1 and 1000)
std::string energy_line(const nlohmann::json& energy, const std::string& label = "energy");

}  // namespace sasim::app
