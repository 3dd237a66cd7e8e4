#include "sasim/model/functional_backend.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

namespace sasim::model {

void FunctionalBackend::write(std::uint64_t addr, const std::uint8_t* data, std::uint64_t len) {
  dev_.write_dram(addr, std::vector<std::uint8_t>(data, data + len));
}

void FunctionalBackend::read(std::uint64_t addr, std::uint8_t* data, std::uint64_t len) {
  const std::vector<std::uint8_t> v = dev_.read_dram(addr, len);
  std::copy(v.begin(), v.end(), data);
}

namespace {

std::vector<isa::Instruction> read_program(const FunctionalDevice& dev, std::uint64_t prog_addr,
                                           std::uint64_t n_insn) {
  if (n_insn == 0) throw std::invalid_argument("FunctionalBackend::run: empty program");
  if (n_insn > dev.params().dram_bytes / 16) {
    throw std::invalid_argument("FunctionalBackend::run: " + std::to_string(n_insn) +
                                " instructions do not fit in the device memory");
  }
  const std::vector<std::uint8_t> bytes = dev.read_dram(prog_addr, n_insn * 16);
  std::vector<isa::Instruction> prog(n_insn);
  for (std::uint64_t i = 0; i < n_insn; ++i) {
    for (unsigned w = 0; w < 2; ++w) {
      std::uint64_t v = 0;
      for (unsigned b = 0; b < 8; ++b) v |= std::uint64_t{bytes[i * 16 + w * 8 + b]} << (8 * b);
      prog[i].words[w] = v;
    }
  }
  return prog;
}

}  // namespace

spec::LaunchResult FunctionalBackend::launch(const std::vector<spec::CoreLaunch>& programs) {
  if (programs.empty() || programs.size() > dev_.cores())
    throw std::invalid_argument("device launch: " + std::to_string(programs.size()) +
                                " programs for a device of " + std::to_string(dev_.cores()) +
                                " cores (allowed 1.." + std::to_string(dev_.cores()) + ")");
  std::vector<std::vector<isa::Instruction>> progs;
  for (const spec::CoreLaunch& p : programs)
    progs.push_back(read_program(dev_, p.prog_addr, p.n_insn));
  spec::LaunchResult res;
  try {
    for (spec::Counters& c : dev_.run_all(progs)) res.cores.push_back(spec::RunResult{0, c});
  } catch (const std::invalid_argument& e) {
    throw spec::DeviceError(std::string("functional device: ") + e.what());
  }
  return res;
}

spec::RunResult FunctionalBackend::run(std::uint64_t prog_addr, std::uint64_t n_insn) {
  const std::vector<isa::Instruction> prog = read_program(dev_, prog_addr, n_insn);
  spec::RunResult res;
  try {
    res.counters = dev_.run(prog);
  } catch (const std::invalid_argument& e) {
    throw spec::DeviceError(std::string("functional device: ") + e.what());
  }
  return res;
}

}  // namespace sasim::model
