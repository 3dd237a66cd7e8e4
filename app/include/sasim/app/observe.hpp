// What a job watches on its co-simulated device besides its result: the power
// monitor and governor (power.hpp; power.csv) and the timeline
// (run.trace_file, cosim::TraceWriter), wired to the device's sampling and
// trace hooks. The jobs (run, train) build one after the device.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>

#include "sasim/app/config.hpp"
#include "sasim/app/power.hpp"
#include "sasim/cosim/device.hpp"
#include "sasim/cosim/trace.hpp"
#include "sasim/host/files.hpp"

namespace sasim::app {

class JobObservers {
 public:
  // Hooks `dev` (sampling when power.sample_cycles > 0, the trace when
  // run.trace_file is set: the file appears whole at finish()).
  JobObservers(const Config& cfg, cosim::CosimDevice& dev);
  ~JobObservers();
  JobObservers(const JobObservers&) = delete;
  JobObservers& operator=(const JobObservers&) = delete;

  PowerMonitor& power() { return power_; }
  // Useful MACs of what ran since the last call.
  void useful_macs(double m) { power_.add_useful_macs(m); }
  // After a training step or an inference batch: the governor sets the
  // device's clock for what comes next.
  void after_step();
  // The host's phases (host::DeviceMlp::PhaseHook), and any other span.
  void phase(const char* name, std::size_t layer, bool begin);
  void span_begin();
  void span_end(const std::string& track, const std::string& name);

  // Writes <dir>/power.csv (when sampling) and the trace; returns the stats'
  // {"power": ..., "trace": {"file", "events", "window"}} entries.
  nlohmann::json finish(const std::filesystem::path& dir);

 private:
  void on_window(const cosim::DeviceWindow& w);

  const Config& cfg_;
  cosim::CosimDevice& dev_;
  PowerMonitor power_;
  std::unique_ptr<host::AtomicFile> trace_file_;
  std::unique_ptr<cosim::TraceWriter> trace_;
  std::pair<std::uint64_t, std::uint64_t> window_;
  std::uint64_t phase_cycle_ = 0, span_cycle_ = 0;
  double phase_us_ = 0, span_us_ = 0;
};

}  // namespace sasim::app
