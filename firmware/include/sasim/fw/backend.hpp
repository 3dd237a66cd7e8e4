// DeviceBackend: what the host driver (driver.hpp) needs from a device. Two
// implementations: FunctionalBackend (firmware/, the instruction-level golden
// model, no timing) and the co-simulated RTL device (sim/, CosimDevice: the
// verilated sa_core behind the SystemC memory system).
#pragma once

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>

#include "sasim/fw/functional_device.hpp"

namespace sasim::fw {

// Raised by run(): watchdog (no progress), illegal instruction, bus error.
// what() names the cause and carries the device's state dump.
class DeviceError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct RunResult {
  std::uint64_t cycles = 0;        // device clock cycles from start to done (0: untimed)
  std::uint64_t instructions = 0;  // instructions executed, FINISH included
  // Named counters of the run ("core.exec_busy", "l2.hits", ...), backend specific.
  std::map<std::string, std::uint64_t> counters;
};

class DeviceBackend {
 public:
  virtual ~DeviceBackend() = default;
  virtual const DeviceParams& params() const = 0;
  // Backdoor (untimed) access to device memory [dram_base, dram_base + dram_bytes).
  // Throws std::invalid_argument outside it.
  virtual void write(std::uint64_t addr, const std::uint8_t* data, std::uint64_t len) = 0;
  virtual void read(std::uint64_t addr, std::uint8_t* data, std::uint64_t len) = 0;
  // Runs the program of n_insn 16-byte little-endian instruction words stored
  // at prog_addr until FINISH. Throws DeviceError (or std::invalid_argument for
  // a malformed program the backend rejects before running).
  virtual RunResult run(std::uint64_t prog_addr, std::uint64_t n_insn) = 0;
};

}  // namespace sasim::fw
