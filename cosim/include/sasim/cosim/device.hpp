// CosimDevice: the whole sasim accelerator as the host driver sees it
// (spec::DeviceBackend): the verilated core (rtl/sa_core.sv) driven by the
// RTL <-> TLM bridge (axi_bridge.hpp) into the configured SystemC memory
// system (interconnect -> L2 -> DRAM | fixed | ideal). Device memory is the
// memory system's BackingStore; write()/read() use it without timing.
//
// run() starts the program on the core and simulates until it is done:
// SystemC time advances across runs, the core keeps its SRAM contents. A run
// that stops making progress for watchdog_cycles cycles, a program the core
// rejects (illegal instruction, operands out of range, missing FINISH, bus
// error) or a bus-protocol violation end in spec::DeviceError with the core's
// state dump. RunResult::counters holds this run's counters: "core.<name>"
// (sa_core's performance counters, spec::kCounters) and every memory
// system and bridge counter ("bridge.", "<mem>.noc.", "<mem>.l2.", ...).
//
// Several cores (DeviceConfig::cores, docs/multicore.md): each core has its own
// bridge (one initiator port of the interconnect, counters "<name>.bridge<k>."),
// SRAMs and thread; launch() starts one program per core at the same cycle and
// returns when every core is done. SYNC instructions meet at the device's
// barrier (barrier.hpp). run() is a launch of one program on core 0.
//
// Uses the current SystemC context; one CosimDevice per context (tests make a
// fresh context per device).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "sasim/cosim/core_model.hpp"
#include "sasim/cosim/timed_core.hpp"
#include "sasim/mem/memory_system.hpp"
#include "sasim/mem/stats.hpp"
#include "sasim/spec/backend.hpp"

namespace sasim::cosim {

class TraceWriter;

// A sampling window of a run (set_sampling): `cycles` core cycles from device
// cycle `first_cycle` (the cycles of all runs so far, counted from the
// first); the last window of a run is shorter.
struct DeviceWindow {
  std::uint64_t run = 0;  // index of the run (every run() counts)
  std::uint64_t first_cycle = 0;
  std::uint64_t cycles = 0;
  double start_us = 0, end_us = 0;  // simulated time
  double clock_mhz = 0;             // the core clock during the window
  bool last = false;                // the run's last window
  // The window's events: core.<counter> (the contract's counters) and every
  // memory-system and bridge counter, as in RunResult::counters.
  spec::Counters counters;
};

inline constexpr unsigned kMaxCores = 16;

struct DeviceConfig {
  unsigned cores = 1;            // cores of the device, 1..kMaxCores, all alike
  spec::CoreSpec core;           // built into the variant cache when not linked in (RTL engines)
  Engine engine = Engine::kRtl;  // the core's engine (timed_core.hpp)
  mem::MemorySystemConfig memory;
  bool lockstep = false;                   // bridge reference mode: one wait() per cycle
  std::uint64_t watchdog_cycles = 100000;  // cycles without progress end a run
  std::string wave_file;                   // FST of the core when not empty
};

class CosimDevice final : public spec::DeviceBackend {
 public:
  // Throws spec::SpecError for a core outside the contract, and
  // std::invalid_argument for a core variant that is not built or a bad
  // memory or bridge configuration.
  explicit CosimDevice(const DeviceConfig& cfg);
  ~CosimDevice() override;
  CosimDevice(const CosimDevice&) = delete;
  CosimDevice& operator=(const CosimDevice&) = delete;

  const spec::DeviceSpec& params() const override { return params_; }
  void write(std::uint64_t addr, const std::uint8_t* data, std::uint64_t len) override;
  void read(std::uint64_t addr, std::uint8_t* data, std::uint64_t len) override;
  spec::RunResult run(std::uint64_t prog_addr, std::uint64_t n_insn) override;
  unsigned cores() const override { return cfg_.cores; }
  // A core's failure ends the launch with spec::DeviceError naming the core
  // (and, with several cores, the barrier's state); the other cores run on
  // until done or stopped at a SYNC that can no longer complete.
  spec::LaunchResult launch(const std::vector<spec::CoreLaunch>& programs) override;

  const DeviceConfig& config() const { return cfg_; }

  // Calls on_window every `every` (>= 1) cycles of each run and at its end,
  // from the next run on (`every` 0: no sampling). One-core devices only, as
  // set_trace. The memory system is
  // synchronised at each window edge; no cycle changes.
  void set_sampling(std::uint64_t every, std::function<void(const DeviceWindow&)> on_window);
  // Records the next runs into `trace` (nullptr: stop); the caller keeps it.
  void set_trace(TraceWriter* trace);
  // The core clock of the next runs (DVFS), (0, 100000] MHz; the memory
  // system keeps its own. Starts at core.clock_mhz.
  void set_clock_mhz(double mhz);
  double clock_mhz() const;
  // Core cycles of every run so far, and the simulated time now.
  std::uint64_t device_cycles() const;
  double now_us() const;
  mem::StatsRegistry& stats() { return stats_; }
  const mem::MemorySystem& memory() const;
  // Peak MAC/s of the device (cores x rows x cols x clock).
  double peak_macs_per_s() const;
  // One line per bound: peak MAC/s, peak memory bandwidth.
  std::string describe_bounds() const;

 private:
  struct Top;
  DeviceConfig cfg_;
  spec::DeviceSpec params_;
  mem::StatsRegistry stats_;
  std::unique_ptr<Top> top_;
};

}  // namespace sasim::cosim
