// Several cores on one memory system (docs/multicore.md): SYNC as a fence on
// one core and as the barrier of several, the split-K GEMM with its on-device
// reduce-scatter on 2 and 4 verilated cores checked bit for bit against the
// golden multi-core device, lock-step against decoupled co-simulation, the
// model engine against the RTL, and the errors of a barrier that can never
// complete (a hung core caught by the watchdog, a core that ends early).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "sasim/cosim/device.hpp"
#include "sasim/host/multicore_kernels.hpp"
#include "sasim/host/program_check.hpp"
#include "sasim/isa/encode.hpp"
#include "sasim/model/functional_device.hpp"
#include "support/device_pair.hpp"
#include "support/sc_test.hpp"

namespace {

using namespace sasim;  // spec, isa, model, cosim, host
using model::Dataflow;
using model::Datapath;
using ::testing::HasSubstr;

constexpr std::uint64_t kMiB = std::uint64_t{1} << 20;

cosim::DeviceConfig config(Datapath dp, unsigned cores,
                           cosim::Engine engine = cosim::Engine::kRtl) {
  cosim::DeviceConfig c;
  c.cores = cores;
  c.engine = engine;
  c.core = spec::core_of(dp, 4, 4, 512, 256, 16);
  c.memory.memory.size = 64 * kMiB;
  return c;
}

// A multi-core device and its golden twin (FunctionalDevice with as many
// cores), loaded with the same bytes.
struct Twin : test::DevicePair {
  using DevicePair::DevicePair;

  // Stores the programs at 60 MiB (1 MiB apart), launches them on both devices
  // and compares the cores' functional counters.
  spec::LaunchResult launch(const std::vector<std::vector<isa::Instruction>>& progs) {
    std::vector<spec::CoreLaunch> l;
    for (std::size_t i = 0; i < progs.size(); ++i) {
      const std::uint64_t at = base + 60 * kMiB + i * kMiB / 4;
      const auto w = isa::program_bytes(progs[i]);
      dev.write(at, w.data(), w.size());
      l.push_back({at, progs[i].size()});
    }
    spec::LaunchResult r = dev.launch(l);
    const std::vector<spec::Counters> g = golden.run_all(progs);
    EXPECT_EQ(r.cores.size(), progs.size());
    for (std::size_t i = 0; i < g.size() && i < r.cores.size(); ++i) {
      for (const auto& [name, v] : g[i]) EXPECT_EQ(r.cores[i].counters.at(name), v) << name;
      EXPECT_EQ(r.cores[i].instructions(), progs[i].size()) << "core " << i;
    }
    return r;
  }
};

// LOAD a block into the scratchpad, SYNC, STORE it elsewhere: no tokens, the
// fence alone orders the STORE after the LOAD.
std::vector<isa::Instruction> copy_through_fence(std::uint64_t src, std::uint64_t dst, bool sync) {
  isa::DmaArgs d;
  d.rows = 64;
  d.cols = 4;
  d.dram_addr = src;
  d.dram_stride = 4 * 2;
  std::vector<isa::Instruction> prog{isa::encode_load(d)};
  if (sync) prog.push_back(isa::encode_sync());
  d.dram_addr = dst;
  prog.push_back(isa::encode_store(d));
  prog.push_back(isa::encode_finish());
  return prog;
}

TEST(Sync, FenceOrdersOneCore) {
  Twin t(config(Datapath::kBf16, 1));
  std::mt19937 rng(5);
  const std::uint64_t src = t.base, dst = t.base + kMiB;
  t.random(src, 64 * 8, rng);
  const spec::DeviceSpec& p = t.dev.params();
  // Without the SYNC the STORE races with the LOAD; with it the program is
  // race free without a single token.
  EXPECT_FALSE(host::check_program(p, copy_through_fence(src, dst, false)).ok());
  const auto prog = copy_through_fence(src, dst, true);
  const host::CheckReport rep = host::check_program(p, prog);
  ASSERT_TRUE(rep.ok()) << rep.summary();
  EXPECT_EQ(rep.tokens, (std::array<std::size_t, 4>{}));
  const spec::LaunchResult r = t.launch({prog});
  t.expect_same(dst, 64 * 8);
  const spec::Counters& c = r.cores[0].counters;
  EXPECT_EQ(c.at("core.insn_ctrl"), 2u);  // SYNC and FINISH
  // The SYNC waits while the LOAD runs (its 64 rows take well over 64 cycles).
  EXPECT_GT(c.at("core.sync_wait"), 64u);
  EXPECT_LT(c.at("core.sync_wait"), r.cycles);
  EXPECT_EQ(c.at("device.bridge.barriers"), 1u);
  EXPECT_EQ(c.at("device.bridge.barrier_wait_cycles"), 0u);
  // After the release the STORE of 64 rows runs: the phase after the barrier.
  EXPECT_GT(c.at("device.bridge.after_barrier_cycles"), 64u);
  EXPECT_LE(c.at("device.bridge.after_barrier_cycles") + c.at("core.sync_wait"), r.cycles);
  EXPECT_EQ(r.cores[0].cycles, r.cycles);
}

// A SYNC that waits for the fetch unit to go quiet: SYNC as the first
// instruction, several in a row, and the model engine cycle for cycle.
TEST(Sync, RepeatedFencesMatchTheModelEngine) {
  std::vector<isa::Instruction> prog;
  for (int i = 0; i < 20; ++i) prog.push_back(isa::encode_sync());
  prog.push_back(isa::encode_finish());
  std::uint64_t cycles[2] = {};
  for (const cosim::Engine e : {cosim::Engine::kCheck, cosim::Engine::kModel}) {
    Twin t(config(Datapath::kInt8, 1, e));
    const spec::LaunchResult r = t.launch({prog});
    EXPECT_EQ(r.cores[0].counters.at("core.insn_ctrl"), 21u);
    EXPECT_EQ(r.cores[0].counters.at("device.bridge.barriers"), 20u);
    cycles[e == cosim::Engine::kModel] = r.cycles;
  }
  EXPECT_EQ(cycles[0], cycles[1]);
  EXPECT_GT(cycles[0], 20u * 2);  // at least a cycle to arrive and one to be released each
}

struct SplitCase {
  Datapath dp;
  Dataflow df;
  unsigned cores;
  std::uint64_t m, k, n;
};

std::string split_name(const ::testing::TestParamInfo<SplitCase>& i) {
  const SplitCase& c = i.param;
  return std::string(c.dp == Datapath::kBf16 ? "bf16" : "int8") + "_" +
         std::string(spec::to_string(c.df)) + "_" + std::to_string(c.cores) + "cores_" +
         std::to_string(c.m) + "x" + std::to_string(c.k) + "x" + std::to_string(c.n);
}

class SplitK : public ::testing::TestWithParam<SplitCase> {};

// Phase 1 on every core, SYNC, the reduce-scatter: C and every partial equal
// the golden multi-core device's bit for bit; each core's functional counters
// too; lock-step co-simulation gives the same cycles per core; the model
// engine the same cycles and counters as the RTL.
TEST_P(SplitK, BitExactOnSeveralCores) {
  const SplitCase g = GetParam();
  const std::uint64_t eb = g.dp == Datapath::kBf16 ? 2 : 1;
  std::vector<spec::LaunchResult> runs;
  for (const auto& [engine, lockstep] :
       std::vector<std::pair<cosim::Engine, bool>>{{cosim::Engine::kRtl, false},
                                                   {cosim::Engine::kRtl, true},
                                                   {cosim::Engine::kModel, false}}) {
    cosim::DeviceConfig cfg = config(g.dp, g.cores, engine);
    cfg.lockstep = lockstep;
    Twin t(cfg);
    std::mt19937 rng(static_cast<unsigned>(g.m * 31 + g.k * 7 + g.n + g.cores));
    const std::uint64_t a = t.base, b = t.base + 4 * kMiB, c = t.base + 8 * kMiB,
                        zero = t.base + 40 * kMiB;
    t.random(a, g.m * g.k * eb, rng);
    t.random(b, g.k * g.n * eb, rng);
    std::vector<host::MatrixRef> parts;
    for (unsigned i = 0; i < g.cores; ++i) parts.push_back({t.base + (12 + 2 * i) * kMiB, g.n * 4});
    const auto progs =
        host::split_k_gemm_programs(t.dev.params(), g.df, g.m, g.k, g.n, {a, g.k * eb},
                                    {b, g.n * eb}, parts, {c, g.n * 4}, zero);
    for (const auto& prog : progs) {
      const host::CheckReport rep = host::check_program(t.dev.params(), prog);
      ASSERT_TRUE(rep.ok()) << rep.summary();
    }
    const spec::LaunchResult r = t.launch(progs);
    t.expect_same(c, g.m * g.n * 4);
    for (const host::MatrixRef& part : parts) t.expect_same(part.addr, g.m * g.n * 4);
    // And the host's golden: the slices' model::gemm summed in core order.
    const auto raw = [&](std::uint64_t addr, std::uint64_t rows, std::uint64_t cols) {
      std::vector<std::uint8_t> v(rows * cols * eb);
      t.dev.read(addr, v.data(), v.size());
      model::RawMatrix m(static_cast<Eigen::Index>(rows), static_cast<Eigen::Index>(cols));
      for (std::uint64_t i = 0; i < rows * cols; ++i)
        m.data()[i] = eb == 2 ? static_cast<std::uint16_t>(v[2 * i] | v[2 * i + 1] << 8) : v[i];
      return m;
    };
    const model::AccMatrix want = host::split_k_gemm_golden(t.dev.params(), g.df, raw(a, g.m, g.k),
                                                            raw(b, g.k, g.n), g.cores);
    std::vector<std::uint8_t> got(g.m * g.n * 4);
    t.dev.read(c, got.data(), got.size());
    for (std::uint64_t i = 0; i < g.m * g.n; ++i) {
      const std::uint32_t w = got[4 * i] | got[4 * i + 1] << 8 | got[4 * i + 2] << 16 |
                              std::uint32_t{got[4 * i + 3]} << 24;
      ASSERT_EQ(w, want.data()[i]) << "element " << i;
    }
    for (unsigned i = 0; i < g.cores; ++i) {
      EXPECT_EQ(r.cores[i].counters.at("device.bridge.barriers"), 1u) << "core " << i;
      EXPECT_GT(r.cores[i].counters.at("core.sync_wait"), 0u) << "core " << i;
      EXPECT_LE(r.cores[i].cycles, r.cycles);
    }
    // Every core's traffic went through the one interconnect.
    std::uint64_t bridge_bytes = 0;
    for (const auto& core : r.cores)
      bridge_bytes += core.counters.at("device.bridge.read_bytes") +
                      core.counters.at("device.bridge.write_bytes");
    EXPECT_GT(bridge_bytes, 0u);
    runs.push_back(r);
  }
  // Lock-step and decoupled: the same cycles, core by core.
  ASSERT_EQ(runs.size(), 3u);
  EXPECT_EQ(runs[0].cycles, runs[1].cycles);
  for (unsigned i = 0; i < g.cores; ++i) {
    EXPECT_EQ(runs[0].cores[i].cycles, runs[1].cores[i].cycles) << "core " << i;
    // The model engine: the same cycles and every core counter.
    EXPECT_EQ(runs[0].cores[i].cycles, runs[2].cores[i].cycles) << "core " << i;
    for (const spec::CounterInfo& k : spec::kCounters) {
      const std::string name = "core." + std::string(k.name);
      EXPECT_EQ(runs[0].cores[i].counters.at(name), runs[2].cores[i].counters.at(name))
          << "core " << i << " " << name;
    }
  }
  EXPECT_EQ(runs[0].shared, runs[2].shared);
}

INSTANTIATE_TEST_SUITE_P(Cores, SplitK,
                         ::testing::Values(SplitCase{Datapath::kBf16, Dataflow::kWs, 2, 32, 64, 8},
                                           SplitCase{Datapath::kBf16, Dataflow::kOs, 4, 32, 64, 8},
                                           SplitCase{Datapath::kInt8, Dataflow::kWs, 4, 20, 40, 12},
                                           SplitCase{Datapath::kInt8, Dataflow::kIs, 2, 16, 24, 8}),
                         split_name);

// Core 1 hangs (an EXEC instruction waits for a LOAD token that never comes)
// while core 0 waits at its SYNC: core 1's watchdog ends the launch, and the
// message names the hung core, its state and the barrier's.
TEST(Barrier, HungCoreIsCaughtByTheWatchdog) {
  cosim::DeviceConfig cfg = config(Datapath::kInt8, 2);
  cfg.watchdog_cycles = 3000;
  Twin t(cfg);
  const std::vector<isa::Instruction> waits{isa::encode_sync(), isa::encode_finish()};
  isa::Deps pop;
  pop.pop_prev = true;
  isa::VecArgs v;
  v.rows = 1;
  const std::vector<isa::Instruction> hangs{isa::encode_vec(v, pop), isa::encode_sync(),
                                            isa::encode_finish()};
  std::vector<spec::CoreLaunch> l;
  for (const auto* prog : {&waits, &hangs}) {
    const std::uint64_t at = t.base + 60 * kMiB + l.size() * 4096;
    const auto w = isa::program_bytes(*prog);
    t.dev.write(at, w.data(), w.size());
    l.push_back({at, prog->size()});
  }
  try {
    t.dev.launch(l);
    FAIL() << "the launch returned";
  } catch (const spec::DeviceError& e) {
    const std::string m = e.what();
    // The hung core, its watchdog and its state.
    EXPECT_THAT(m, HasSubstr("core 1: device run failed: device.bridge1: watchdog: no progress "
                             "for 3000 cycles"));
    EXPECT_THAT(m, HasSubstr("heads waiting for a token: LOAD 0, EXEC from LOAD 1"));
    // The waiting core: drained at its SYNC, released by the abort.
    EXPECT_THAT(m, HasSubstr("core 0: device run failed: core 0 reached SYNC #1"));
    EXPECT_THAT(m, HasSubstr("the barrier can never complete"));
    EXPECT_THAT(m, HasSubstr("at a SYNC: drained, waiting for the other cores"));
    // The barrier at the end.
    EXPECT_THAT(m, HasSubstr("barrier:\n  core 0: ended in cycle 60 (aborted at its SYNC)"));
    EXPECT_THAT(m, HasSubstr("core 1: ended in cycle 3061 (bridge error), 0 SYNCs passed"));
  }
}

// A core that finishes without the SYNC the others wait at: a clear error on
// both devices, never a hang; the device runs the next launch.
TEST(Barrier, CoreThatEndsEarlyIsAnError) {
  Twin t(config(Datapath::kBf16, 2));
  const std::vector<isa::Instruction> waits{isa::encode_sync(), isa::encode_finish()};
  const std::vector<isa::Instruction> ends{isa::encode_finish()};
  EXPECT_THROW(t.golden.run_all({waits, ends}), std::invalid_argument);
  for (const auto& order : {std::vector{waits, ends}, std::vector{ends, waits}}) {
    std::vector<spec::CoreLaunch> l;
    for (const auto& prog : order) {
      const std::uint64_t at = t.base + 60 * kMiB + l.size() * 4096;
      const auto w = isa::program_bytes(prog);
      t.dev.write(at, w.data(), w.size());
      l.push_back({at, prog.size()});
    }
    EXPECT_THROW(
        {
          try {
            t.dev.launch(l);
          } catch (const spec::DeviceError& e) {
            EXPECT_THAT(e.what(), HasSubstr("the barrier can never complete"));
            throw;
          }
        },
        spec::DeviceError);
  }
  // Both cores were reset: a correct launch runs.
  const spec::LaunchResult r = t.launch({waits, waits});
  EXPECT_EQ(r.cores[0].counters.at("device.bridge.barriers"), 1u);
  EXPECT_EQ(r.cores[0].cycles, r.cores[1].cycles);
}

TEST(Barrier, LaunchArgumentsAreChecked) {
  Twin t(config(Datapath::kInt8, 2));
  EXPECT_THROW(t.dev.launch({}), std::invalid_argument);
  EXPECT_THROW(t.dev.launch({{t.base, 1}, {t.base, 1}, {t.base, 1}}), std::invalid_argument);
  cosim::DeviceConfig bad = config(Datapath::kInt8, 17);
  mem::test::fresh_systemc();
  EXPECT_THROW(cosim::CosimDevice d(bad), std::invalid_argument);
}

}  // namespace
