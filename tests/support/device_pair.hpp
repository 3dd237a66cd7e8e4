// The co-simulated device and its golden twin (model::FunctionalDevice),
// loaded with the same bytes and run on the same programs: memory compared
// byte for byte, the contract's counters by name (the functional ones equal),
// instruction counts equal.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "sasim/cosim/device.hpp"
#include "sasim/isa/encode.hpp"
#include "sasim/model/functional_device.hpp"
#include "support/sc_test.hpp"

namespace sasim::test {

// Both devices report every contract counter under the same name (the
// functional device those the program alone determines), with the same values
// and instruction counts.
inline void expect_same_counters(const spec::Counters& functional, const spec::RunResult& r) {
  for (const spec::CounterInfo& k : spec::kCounters) {
    const std::string n = "core." + std::string(k.name);
    EXPECT_TRUE(r.counters.contains(n)) << n;
    EXPECT_EQ(functional.contains(n), k.functional) << n;
  }
  for (const auto& [n, v] : functional) EXPECT_EQ(r.counters.at(n), v) << n;
  EXPECT_EQ(r.instructions(), spec::instructions(functional));
}

// The device and its golden twin (as many cores), loaded with the same bytes.
struct DevicePair {
  cosim::CosimDevice dev;
  model::FunctionalDevice golden;
  std::uint64_t base;

  explicit DevicePair(const cosim::DeviceConfig& c)
      : dev((sasim::mem::test::fresh_systemc(), c)),
        golden(dev.params(), c.cores),
        base(dev.params().dram_base) {}

  void write(std::uint64_t addr, const std::vector<std::uint8_t>& v) {
    dev.write(addr, v.data(), v.size());
    golden.write_dram(addr, v);
  }
  void random(std::uint64_t addr, std::uint64_t len, std::mt19937& rng) {
    std::vector<std::uint8_t> v(len);
    for (auto& b : v) b = static_cast<std::uint8_t>(rng());
    write(addr, v);
  }
  spec::RunResult run(const std::vector<isa::Instruction>& prog) {
    // The program lies at 60 MiB, or in the last 64 KiB of a smaller memory.
    const std::uint64_t at = base + std::min<std::uint64_t>(std::uint64_t{60} << 20,
                                                            dev.params().dram_bytes - (64 << 10));
    const auto w = isa::program_bytes(prog);
    dev.write(at, w.data(), w.size());
    spec::RunResult r = dev.run(at, prog.size());
    expect_same_counters(golden.run(prog), r);
    EXPECT_EQ(r.instructions(), prog.size());
    return r;
  }
  void expect_same(std::uint64_t addr, std::uint64_t len) {
    std::vector<std::uint8_t> got(len);
    dev.read(addr, got.data(), len);
    const auto want = golden.read_dram(addr, len);
    for (std::uint64_t i = 0; i < len; ++i)
      ASSERT_EQ(unsigned{got[i]}, unsigned{want[i]}) << "byte " << i << " of " << len;
  }
};

}  // namespace sasim::test
