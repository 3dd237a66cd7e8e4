// DeviceBackend: the contract between the host driver and a device. Two
// implementations: model::FunctionalBackend (the instruction-level golden
// device, no timing) and cosim::CosimDevice (the verilated sa_core behind the
// SystemC memory system). Both report the contract's core counters under the
// same names ("core.<name>", spec::kCounters): the functional device those the
// program alone determines, the co-simulated device all of them plus the
// memory system's and the bridge's.
#pragma once

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "sasim/spec/device_spec.hpp"

namespace sasim::spec {

// Raised by run(): watchdog (no progress), illegal instruction, bus error.
// what() names the cause and carries the device's state dump.
class DeviceError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// "core.cycles": the name both devices report a contract counter under.
std::string counter_name(CounterId id);

// Named counters of a run. Looking up a name that is not there is an error
// (std::out_of_range naming it), never 0: a renamed counter cannot silently
// zero a report.
class Counters {
 public:
  using Map = std::map<std::string, std::uint64_t, std::less<>>;

  void set(const std::string& name, std::uint64_t v) { m_[name] = v; }
  // Adds every counter of `o` (a name new to this set starts from 0).
  void add(const Counters& o);
  std::uint64_t at(std::string_view name) const;
  std::uint64_t at(CounterId id) const { return at(counter_name(id)); }
  bool contains(std::string_view name) const { return m_.find(name) != m_.end(); }
  std::size_t size() const { return m_.size(); }
  Map::const_iterator begin() const { return m_.begin(); }
  Map::const_iterator end() const { return m_.end(); }
  bool operator==(const Counters&) const = default;

 private:
  Map m_;
};

// Instructions executed, FINISH included: the sum of the queues' insn_*
// counters (the same on both devices).
std::uint64_t instructions(const Counters& c);

struct RunResult {
  std::uint64_t cycles = 0;  // device clock cycles from start to done (0: untimed)
  Counters counters;
  std::uint64_t instructions() const { return spec::instructions(counters); }
  // Adds another run's cycles and counters (phases of a training step).
  void add(const RunResult& o);
};

// One core's program of a launch.
struct CoreLaunch {
  std::uint64_t prog_addr = 0;
  std::uint64_t n_insn = 0;
};

// A launch of one program per core.
struct LaunchResult {
  std::uint64_t cycles = 0;      // from the common start until the last core is done
  std::vector<RunResult> cores;  // per core: its cycles to its done, its "core.*" counters
                                 // and its bridge's (under the one-core names)
  Counters shared;               // the rest: the memory system's, for all cores together
  // The whole launch as one run: cycles, the cores' counters summed, shared.
  RunResult total() const;
};

class DeviceBackend {
 public:
  virtual ~DeviceBackend() = default;
  virtual const DeviceSpec& params() const = 0;
  // Backdoor (untimed) access to device memory [dram_base, dram_base + dram_bytes).
  // Throws std::invalid_argument outside it.
  virtual void write(std::uint64_t addr, const std::uint8_t* data, std::uint64_t len) = 0;
  virtual void read(std::uint64_t addr, std::uint8_t* data, std::uint64_t len) = 0;
  // Runs the program of n_insn 16-byte little-endian instruction words stored
  // at prog_addr until FINISH. Throws DeviceError (or std::invalid_argument for
  // a malformed program the backend rejects before running).
  virtual RunResult run(std::uint64_t prog_addr, std::uint64_t n_insn) = 0;
  // Cores of the device (docs/multicore.md).
  virtual unsigned cores() const { return 1; }
  // Runs programs[i] on core i, all starting together (1 <= programs.size()
  // <= cores()); SYNC instructions meet at the device's barrier. The default,
  // for one-core devices, is run() of the single program with the "core."
  // counters (and "device.bridge.") in cores[0] and the others in shared.
  virtual LaunchResult launch(const std::vector<CoreLaunch>& programs);
};

}  // namespace sasim::spec
