// Random legal programs in lock-step with the golden device (tests/support/
// random_program.hpp): each program runs on the co-simulated device (the
// verilated core behind a random memory system, with the model engine's core
// compared to it in every cycle: Engine::kCheck) and on model::FunctionalDevice;
// the output window of memory is compared byte for byte, the contract's
// counters by name and the instruction counts. SASIM_RANDOM_PROGRAMS sets how
// many per datapath (default 1000; the `long` label runs 10 000), SASIM_TEST_SEED the seed.
// A failure names the program's number, its seed and the first difference.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "support/device_pair.hpp"
#include "support/random_program.hpp"
#include "support/test_seed.hpp"

namespace {

using namespace sasim;  // spec, isa, model, mem, cosim, host, app

std::uint64_t programs() {
  const char* s = std::getenv("SASIM_RANDOM_PROGRAMS");
  return (s != nullptr && *s != '\0') ? std::strtoull(s, nullptr, 0) : 1000;
}

void run_programs(model::Datapath dp, std::uint64_t salt) {
  const std::uint64_t n = programs();
  const std::uint64_t seed = test::test_seed(0x5A51'3AC0'0000'0100ull) ^ salt;
  std::mt19937_64 rng(seed);
  // Most programs on the 4 x 4 core (many overlapping tiles), a quarter on the 16 x 16 one.
  const spec::CoreSpec small = spec::core_of(dp, 4, 4, 512, 256, 16),
                       big = spec::core_of(dp, 16, 16, 8192, 1024, 16);
  std::uint64_t instructions = 0, cycles = 0;
  for (std::uint64_t k = 0; k < n; ++k) {
    const std::uint64_t program_seed = rng();
    std::mt19937_64 prng(program_seed);
    cosim::DeviceConfig cfg = test::random_device(prng() % 4 ? small : big, prng);
    cfg.engine = cosim::Engine::kCheck;
    SCOPED_TRACE("program " + std::to_string(k) + " (seed " + std::to_string(program_seed) +
                 "): " + test::describe(cfg));
    test::DevicePair p(cfg);
    test::ProgramGenerator gen(p.dev.params(), program_seed);
    const test::RandomProgram r = gen.make(8 + static_cast<unsigned>(prng() % 40));
    const host::CheckReport check = host::check_program(p.dev.params(), r.program);
    ASSERT_TRUE(check.ok()) << "program " << k << " (seed " << program_seed
                            << "): " << check.summary();
    std::vector<std::uint8_t> in(test::RandomProgram::kWindow);
    for (auto& b : in) b = static_cast<std::uint8_t>(prng());
    p.write(r.in, in);
    p.write(r.out, std::vector<std::uint8_t>(test::RandomProgram::kWindow, 0));
    spec::RunResult res;
    try {
      res = p.run(r.program);  // counters and instruction counts
    } catch (const std::exception& e) {
      FAIL() << e.what();  // with the program's seed and memory system (the trace above)
    }
    std::vector<std::uint8_t> got(test::RandomProgram::kWindow);
    p.dev.read(r.out, got.data(), got.size());
    const auto want = p.golden.read_dram(r.out, got.size());
    for (std::size_t i = 0; i < got.size(); ++i)
      ASSERT_EQ(unsigned{got[i]}, unsigned{want[i]})
          << "program " << k << " (seed " << program_seed << ", " << r.program.size()
          << " instructions): output byte " << i;
    if (::testing::Test::HasFailure())
      FAIL() << "program " << k << " (seed " << program_seed << ")";
    instructions += r.program.size();
    cycles += res.cycles;
  }
  std::printf("%llu random %s programs, %llu instructions, %llu cycles: device = golden\n",
              static_cast<unsigned long long>(n), std::string(model::to_string(dp)).c_str(),
              static_cast<unsigned long long>(instructions),
              static_cast<unsigned long long>(cycles));
}

TEST(RandomPrograms, Int8DeviceEqualsGolden) { run_programs(model::Datapath::kInt8, 1); }
TEST(RandomPrograms, Bf16DeviceEqualsGolden) { run_programs(model::Datapath::kBf16, 2); }

}  // namespace
