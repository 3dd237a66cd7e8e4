// The one place a device is assembled from a validated Config: every job, the
// benchmarks and the tests build their device here, so a sweep point, a run
// and a test of the same config simulate the same thing.
#pragma once

#include <memory>

#include "sasim/app/config.hpp"
#include "sasim/cosim/device.hpp"
#include "sasim/spec/backend.hpp"

namespace sasim::app {

enum class DeviceKind {
  kFunctional,  // model::FunctionalBackend: the golden device, no timing
  kCosim,       // cosim::CosimDevice: the verilated core behind the memory system
};

struct DeviceOptions {
  bool lockstep = false;  // the bridge's reference mode (one wait() per cycle)
  bool waves = false;     // write cfg.run.wave_file (also when cfg.run.waves)
};

// The co-simulated device's configuration: core, memory system, watchdog,
// waveform (its folder is created).
cosim::DeviceConfig device_config(const Config& cfg, const DeviceOptions& opt = {});

// Throws ConfigError for a core that is not verilated into this build (naming
// how to build it).
std::unique_ptr<cosim::CosimDevice> make_cosim_device(const Config& cfg,
                                                      const DeviceOptions& opt = {});
// The functional device refuses a memory.size over 1 GiB (it holds the memory
// in host RAM) with a ConfigError.
std::unique_ptr<spec::DeviceBackend> make_device(const Config& cfg, DeviceKind kind,
                                                 const DeviceOptions& opt = {});

}  // namespace sasim::app
