// FunctionalBackend: a DeviceBackend over the instruction-level golden model
// (FunctionalDevice). run() reads the program's 16-byte little-endian words
// from device memory (words[0], the low 64 bits, first), decodes them and runs
// them sequentially until FINISH (no timing: cycles are 0). Dependency flags
// are ignored, as on FunctionalDevice; check_program (program_check.hpp) is
// what catches a program that would race on the real device.
#pragma once

#include <cstdint>

#include "sasim/model/functional_device.hpp"
#include "sasim/spec/backend.hpp"

namespace sasim::model {

class FunctionalBackend final : public spec::DeviceBackend {
 public:
  // Throws spec::SpecError as FunctionalDevice's constructor.
  explicit FunctionalBackend(const spec::DeviceSpec& p, unsigned cores = 1) : dev_(p, cores) {}

  const spec::DeviceSpec& params() const override { return dev_.params(); }
  void write(std::uint64_t addr, const std::uint8_t* data, std::uint64_t len) override;
  void read(std::uint64_t addr, std::uint8_t* data, std::uint64_t len) override;
  // std::invalid_argument for n_insn of 0 or a program outside the memory;
  // spec::DeviceError for everything FunctionalDevice::run rejects (illegal
  // instruction, out-of-range field, no FINISH), with its message. Counters:
  // the contract's functional ones (FunctionalDevice::run).
  spec::RunResult run(std::uint64_t prog_addr, std::uint64_t n_insn) override;
  unsigned cores() const override { return dev_.cores(); }
  // FunctionalDevice::run_all of the programs; per core its functional
  // counters, cycles 0, nothing shared.
  spec::LaunchResult launch(const std::vector<spec::CoreLaunch>& programs) override;

  FunctionalDevice& device() { return dev_; }
  const FunctionalDevice& device() const { return dev_; }

 private:
  FunctionalDevice dev_;
};

}  // namespace sasim::model
