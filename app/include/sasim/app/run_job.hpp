// The device GEMM job (`sasim run`): one GEMM on the whole device (on
// core.count > 1 cores the rows of C split across them, or K split and the
// partials reduced on the device: gemm.split, docs/multicore.md), the
// verilated core behind the SystemC memory system (app::make_cosim_device),
// driven by the host driver (host::Driver) from the YAML config: random
// operands in device memory, C = A * B by the host's GEMM kernel, C read back and
// compared bit for bit with the golden model (model::gemm with the kernel's
// fold), statistics printed and written as JSON.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "sasim/app/array_job.hpp"
#include "sasim/app/config.hpp"
#include "sasim/spec/backend.hpp"

namespace sasim::app {

struct RunJobResult {
  // The whole device: cycles to the last core's done; counters summed over
  // the cores (core.*, device.bridge.*) plus the memory system's.
  spec::RunResult run;
  spec::LaunchResult launch;  // per core (core.count > 1: the split-K GEMM)
  bool match = false;
  std::optional<Mismatch> mismatch;
  double wall_seconds = 0;  // host time of the device run (co-simulation speed)
  nlohmann::json stats;     // written to <out_dir>/<name>/stats.json
};

// Throws ConfigError for a core that is not verilated into this build,
// spec::DeviceError when the run fails (watchdog, device error).
RunJobResult run_job(const Config& cfg);

// The statistics summary: bounds, cycles and their split, utilization, SRAM,
// memory traffic, cache and DRAM figures, the golden-model check.
std::string run_summary(const Config& cfg, const RunJobResult& r);

}  // namespace sasim::app
