// The device job (`sasim run`, the README's main command): one GEMM on the
// whole device, the verilated core behind the SystemC memory system, driven
// by the host driver (fw::Driver) from the YAML config: random operands in
// device memory, C = A * B by the firmware's GEMM kernel, C read back and
// compared bit for bit with the golden model (model::gemm with the kernel's
// fold), statistics printed and written as JSON.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "sasim/fw/backend.hpp"
#include "sasim/sim/config.hpp"
#include "sasim/sim/gemm_job.hpp"

namespace sasim::sim {

struct DeviceJobResult {
  fw::RunResult run;
  bool match = false;
  std::optional<Mismatch> mismatch;
  double wall_seconds = 0;  // host time of the device run (co-simulation speed)
  nlohmann::json stats;     // written to <out_dir>/<name>/stats.json
};

// Throws ConfigError for a core that is not verilated into this build,
// fw::DeviceError when the run fails (watchdog, device error).
DeviceJobResult run_device_job(const Config& cfg);

// The statistics summary: bounds, cycles and their split, utilization, SRAM,
// memory traffic, cache and DRAM figures, the golden-model check.
std::string device_summary(const Config& cfg, const DeviceJobResult& r);

}  // namespace sasim::sim
