#include "sasim/app/device.hpp"

#include <filesystem>

#include "sasim/model/functional_backend.hpp"

namespace sasim::app {

cosim::DeviceConfig device_config(const Config& cfg, const DeviceOptions& opt) {
  cosim::DeviceConfig d;
  d.core = cfg.core;
  d.cores = cfg.cores;
  d.engine = cfg.run.engine;
  d.memory = cfg.memory_system();
  d.lockstep = opt.lockstep;
  d.watchdog_cycles = cfg.run.watchdog_cycles;
  if (cfg.run.waves || opt.waves) {
    const std::filesystem::path wf(cfg.run.wave_file);
    if (wf.has_parent_path()) std::filesystem::create_directories(wf.parent_path());
    d.wave_file = cfg.run.wave_file;
  }
  return d;
}

std::unique_ptr<cosim::CosimDevice> make_cosim_device(const Config& cfg, const DeviceOptions& opt) {
  return std::make_unique<cosim::CosimDevice>(device_config(cfg, opt));
}

std::unique_ptr<spec::DeviceBackend> make_device(const Config& cfg, DeviceKind kind,
                                                 const DeviceOptions& opt) {
  if (kind == DeviceKind::kCosim) return make_cosim_device(cfg, opt);
  // The functional device holds the whole device memory in host RAM.
  constexpr std::uint64_t kMaxFunctionalBytes = std::uint64_t{1} << 30;
  if (cfg.memory.size > kMaxFunctionalBytes) {
    throw ConfigError(cfg.source + ": memory.size: " + std::to_string(cfg.memory.size) +
                      " bytes is too large for the functional device, which holds the memory "
                      "in host RAM (allowed up to " +
                      std::to_string(kMaxFunctionalBytes) + ")");
  }
  return std::make_unique<model::FunctionalBackend>(cfg.device(), cfg.cores);
}

}  // namespace sasim::app
