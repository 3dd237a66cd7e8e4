// sa_core (the whole accelerator RTL) against the FunctionalDevice, with a
// behavioural AXI slave of random latency and random handshake gaps
// (tests/support/axi_test_memory.hpp), no SystemC: DMA round trips of every
// layout (spad/acc, transposed, unaligned addresses and strides, partial
// rows), GEMM programs of the firmware kernel for every dataflow, errors
// (illegal, range, alignment, missing FINISH, bus error) and a dependency
// deadlock. Every result compared byte for byte with the golden device.
#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "sasim/cosim/core_model.hpp"
#include "sasim/host/gemm_kernel.hpp"
#include "sasim/isa/encode.hpp"
#include "sasim/model/functional_device.hpp"
#include "sasim/model/numerics.hpp"
#include "support/axi_test_memory.hpp"
#include "support/gemm_case.hpp"

namespace {

using namespace sasim;  // spec, isa, model, mem, cosim, host, app
using model::Dataflow;
using model::Datapath;

constexpr std::uint64_t kBase = 0x8000'0000;
constexpr std::uint64_t kBytes = std::uint64_t{8} << 20;
constexpr std::uint64_t kProg = kBase + (std::uint64_t{7} << 20);

spec::CoreSpec small(Datapath dp) { return spec::core_of(dp, 4, 4, 512, 256, 16); }

spec::DeviceSpec params_of(const spec::CoreSpec& s) { return spec::device_of(s, kBytes, kBase); }

struct Bench {
  spec::CoreSpec shape;
  std::unique_ptr<cosim::CoreModel> core;
  sasim::test::AxiTestMemory mem;
  model::FunctionalDevice golden;

  Bench(const spec::CoreSpec& s, sasim::test::AxiTestMemory::Timing t, std::uint32_t seed)
      : shape(s),
        core(cosim::make_core_model(s, {"", 2, seed})),
        mem(kBase, kBytes, s.bus_bytes, t, seed),
        golden(params_of(s)) {}

  void write(std::uint64_t addr, const std::vector<std::uint8_t>& v) {
    std::copy(v.begin(), v.end(), mem.at(addr, v.size()));
    golden.write_dram(addr, v);
  }
  void random_fill(std::uint64_t addr, std::uint64_t len, std::mt19937& rng) {
    std::vector<std::uint8_t> v(len);
    for (auto& b : v) b = static_cast<std::uint8_t>(rng());
    write(addr, v);
  }
  // Runs the program on the core; returns false if it did not finish within
  // `limit` cycles. `watch` sees each cycle's bus inputs and outputs.
  using Watch = std::function<void(const cosim::AxiIn&, const cosim::AxiOut&)>;
  bool run(const std::vector<isa::Instruction>& prog, std::uint64_t limit = 2'000'000,
           const Watch& watch = {}) {
    const std::vector<std::uint8_t> words = isa::program_bytes(prog);
    std::copy(words.begin(), words.end(), mem.at(kProg, words.size()));
    core->start(kProg, static_cast<std::uint32_t>(prog.size()));
    cosim::AxiIn in;
    cosim::AxiOut out;
    for (std::uint64_t c = 0; c < limit; ++c) {
      mem.drive(in);
      core->cycle(in, out);
      if (watch) watch(in, out);
      mem.observe(out);
      if (core->done() && mem.idle()) return true;
    }
    return false;
  }
  void expect_same(std::uint64_t addr, std::uint64_t len, const std::string& what) {
    const auto g = golden.read_dram(addr, len);
    const std::uint8_t* r = mem.at(addr, len);
    for (std::uint64_t i = 0; i < len; ++i) {
      ASSERT_EQ(static_cast<unsigned>(r[i]), static_cast<unsigned>(g[i]))
          << what << ": byte " << i << " (address " << addr + i << ")";
    }
  }
};

isa::Instruction dma(bool load, isa::Sram s, bool tr, unsigned row, unsigned rows, unsigned cols,
                     std::uint64_t addr, std::uint64_t stride, isa::Deps d = {}) {
  isa::DmaArgs a{s, tr, row, rows, cols, addr, stride};
  return load ? isa::encode_load(a, d) : isa::encode_store(a, d);
}

const sasim::test::AxiTestMemory::Timing kRandom{1, 30, 0.7, 0.7};
const sasim::test::AxiTestMemory::Timing kFast{1, 1, 1.0, 1.0};

// LOAD a block, STORE it elsewhere (same layout), both with random
// alignments; the destination must equal the golden device's.
TEST(Core, DmaRoundTripsEveryLayout) {
  for (Datapath dp : {Datapath::kInt8, Datapath::kBf16}) {
    std::mt19937 rng(dp == Datapath::kInt8 ? 11 : 12);
    for (int trial = 0; trial < 24; ++trial) {
      Bench b(small(dp), kRandom, 100 + trial);
      const bool acc = trial % 2;
      const bool tr = (trial / 2) % 2;
      const unsigned eb = acc ? 4 : (dp == Datapath::kBf16 ? 2 : 1);
      const unsigned width = acc ? 4 : 4;  // W = C = 4
      const unsigned rows = tr ? 1 + rng() % width : 1 + rng() % 40;
      const unsigned cols = tr ? 1 + rng() % 40 : 1 + rng() % width;
      const std::uint64_t src = kBase + 4096 + eb * (rng() % 64);
      const std::uint64_t dst = kBase + (1 << 20) + eb * (rng() % 64);
      const std::uint64_t stride = eb * (cols + rng() % 20);
      b.random_fill(kBase, 64 * 1024, rng);
      b.random_fill(kBase + (1 << 20), 64 * 1024, rng);
      const isa::Sram s = acc ? isa::Sram::kAcc : isa::Sram::kSpad;
      const unsigned row0 = rng() % 8;
      std::vector<isa::Instruction> prog = {
          dma(true, s, tr, row0, rows, cols, src, stride, {false, false, false, true}),
          dma(false, s, tr, row0, rows, cols, dst, stride, {true, false, false, false}),
          isa::encode_finish()};
      // LOAD -> STORE needs a token path through EXEC: relay with a CONFIG.
      prog.insert(prog.begin() + 1, isa::encode_config(0, {true, false, false, true}));
      ASSERT_TRUE(b.run(prog)) << "trial " << trial << "\n" << b.core->dump_state();
      ASSERT_EQ(b.core->error(), spec::CoreError::kNone) << spec::describe(b.core->error());
      b.golden.run(prog);
      b.expect_same(kBase + (1 << 20), 64 * 1024,
                    "trial " + std::to_string(trial) + (acc ? " acc" : " spad") +
                        (tr ? " transposed" : "") + " rows " + std::to_string(rows) + " cols " +
                        std::to_string(cols));
    }
  }
}

// The store DMA streams: with a memory that is always ready and takes W
// beats before their AW, the rows of a STORE leave at one beat per cycle
// (row r+1 is read with row r's last beat, each burst's AW goes with its first
// beat) and the next STORE starts two cycles after the last beat (its
// acceptance and its first row read), without waiting for the 40-cycle write
// responses of the one before. Four STOREs of 16 accumulator rows of 64
// bytes (4 beats each, rows 128 bytes apart: one burst per row), the stored
// bytes compared with the golden device.
TEST(Core, StoresStreamAtBusRateAndOverlapTheirResponses) {
  const spec::CoreSpec shape = spec::core_of(Datapath::kBf16, 16, 16, 8192, 1024, 16);
  const sasim::test::AxiTestMemory::Timing ideal{40, 40, 1.0, 1.0, true};
  Bench b(shape, ideal, 3);
  std::mt19937 rng(21);
  const std::uint64_t src = kBase + 4096, dst = kBase + (1 << 20);
  b.random_fill(src, 64 * 64, rng);
  std::vector<isa::Instruction> prog = {
      dma(true, isa::Sram::kAcc, false, 0, 64, 16, src, 64, {false, false, false, true}),
      // LOAD -> STORE needs a token path through EXEC: relay with a CONFIG.
      isa::encode_config(0, {true, false, false, true})};
  for (unsigned k = 0; k < 4; ++k) {
    prog.push_back(dma(false, isa::Sram::kAcc, false, 16 * k, 16, 16, dst + 16 * 128 * k, 128,
                       {k == 0, false, false, false}));
  }
  prog.push_back(isa::encode_finish());
  std::vector<std::uint64_t> beats;  // the cycles of the W handshakes
  std::uint64_t cycle = 0;
  ASSERT_TRUE(b.run(prog, 100'000, [&](const cosim::AxiIn& in, const cosim::AxiOut& out) {
    if (out.w_valid && in.w_ready) beats.push_back(cycle);
    ++cycle;
  })) << b.core->dump_state();
  ASSERT_EQ(b.core->error(), spec::CoreError::kNone) << spec::describe(b.core->error());
  b.golden.run(prog);
  b.expect_same(dst, 4 * 16 * 128, "stored rows");
  ASSERT_EQ(beats.size(), 4u * 16 * 4);
  for (std::size_t i = 1; i < beats.size(); ++i) {
    const std::uint64_t gap = beats[i] - beats[i - 1] - 1;  // cycles without a beat
    EXPECT_EQ(gap, i % 64 == 0 ? 2u : 0u) << "before beat " << i << " (STORE " << i / 64 << ")";
  }
}

// Two STOREs to the same bytes without a token between them (the second
// starts while the first waits for its responses): memory ends with the
// second's data, as on the golden device; also with W beats before their AW
// and random handshakes.
TEST(Core, StoresToTheSameBytesLandInProgramOrder) {
  for (bool w_first : {false, true}) {
    sasim::test::AxiTestMemory::Timing t = kRandom;
    t.w_before_aw = w_first;
    Bench b(small(Datapath::kBf16), t, 9);
    std::mt19937 rng(w_first ? 31 : 32);
    const std::uint64_t src = kBase + 4096, dst = kBase + (1 << 20) + 8;
    b.random_fill(src, 32 * 16, rng);
    b.random_fill(dst - 64, 1024, rng);
    const std::vector<isa::Instruction> prog = {
        dma(true, isa::Sram::kAcc, false, 0, 32, 4, src, 16, {false, false, false, true}),
        isa::encode_config(0, {true, false, false, true}),
        dma(false, isa::Sram::kAcc, false, 0, 16, 4, dst, 24, {true, false, false, false}),
        dma(false, isa::Sram::kAcc, false, 16, 16, 3, dst + 4, 24),
        dma(false, isa::Sram::kAcc, false, 8, 1, 4, dst + 24, 16),
        isa::encode_finish()};
    ASSERT_TRUE(b.run(prog)) << b.core->dump_state();
    ASSERT_EQ(b.core->error(), spec::CoreError::kNone) << spec::describe(b.core->error());
    b.golden.run(prog);
    b.expect_same(dst - 64, 1024, w_first ? "W before AW" : "AW first");
  }
}

// A VEC starts beside an unfinished GEMM whose rows it does not touch, but
// completes after it: its token releases a STORE of the GEMM's result, which
// must read the finished rows (the golden device runs in program order). The
// same program with the VEC reading the GEMM's rows waits for the GEMM and
// takes longer; both bit-exact, with random memory timing too.
TEST(Core, VecBesideGemmCompletesInProgramOrder) {
  for (const auto& timing : {kFast, kRandom}) {
    std::uint64_t cycles[2] = {0, 0};
    for (bool dependent : {false, true}) {
      Bench b(small(Datapath::kBf16), timing, 5);
      std::mt19937 rng(dependent ? 51 : 52);
      const std::uint64_t src = kBase + 4096, dst = kBase + (1 << 20);
      b.random_fill(src, 64 * 1024, rng);
      isa::GemmArgs g;
      g.pre_row = 300;
      g.in_row = 0;
      g.len = 200;
      g.acc_row = 0;
      isa::VecArgs v;
      v.op = isa::VecOp::kScale;
      v.src_row = dependent ? 10 : 220;
      v.dst_row = 230;
      v.rows = 4;
      v.imm = model::f32_to_bits(0.5f);
      const std::vector<isa::Instruction> prog = {
          dma(true, isa::Sram::kSpad, false, 0, 200, 4, src, 8),
          dma(true, isa::Sram::kSpad, false, 300, 4, 4, src + 2048, 8),
          dma(true, isa::Sram::kAcc, false, 220, 4, 4, src + 4096, 16, {false, false, false, true}),
          isa::encode_gemm(g, {true, false, false, false}),
          isa::encode_vec(v, {false, false, false, true}),
          dma(false, isa::Sram::kAcc, false, 0, 200, 4, dst, 16, {true, false, false, false}),
          dma(false, isa::Sram::kAcc, false, 230, 4, 4, dst + 8192, 16),
          isa::encode_finish()};
      ASSERT_TRUE(b.run(prog)) << b.core->dump_state();
      ASSERT_EQ(b.core->error(), spec::CoreError::kNone) << spec::describe(b.core->error());
      b.golden.run(prog);
      b.expect_same(dst, 8192 + 64, dependent ? "VEC on the GEMM's rows" : "VEC beside the GEMM");
      cycles[dependent] = b.core->perf()[static_cast<std::size_t>(spec::CounterId::kCycles)];
    }
    EXPECT_LT(cycles[0], cycles[1]);
  }
}

class CoreGemm : public ::testing::TestWithParam<test::GemmCase> {};

TEST_P(CoreGemm, MatchesGoldenDevice) {
  const test::GemmCase g = GetParam();
  for (const auto& timing : {kFast, kRandom}) {
    Bench b(small(g.dp), timing, 7);
    std::mt19937 rng(g.m * 131 + g.k * 17 + g.n);
    const unsigned eb = g.dp == Datapath::kBf16 ? 2 : 1;
    const std::uint64_t a = kBase, bb = kBase + (2 << 20), c = kBase + (4 << 20);
    b.random_fill(a, std::uint64_t{g.m} * g.k * eb, rng);
    b.random_fill(bb, std::uint64_t{g.k} * g.n * eb, rng);
    // Zero region for K padding (memory starts zeroed on both sides).
    host::GemmOptions opt;
    opt.zero_addr = kBase + (6 << 20);
    const auto prog = host::gemm_program(params_of(b.shape), g.df, g.m, g.k, g.n, a, bb, c, opt);
    ASSERT_TRUE(b.run(prog, 20'000'000)) << b.core->dump_state() << " program of " << prog.size();
    ASSERT_EQ(b.core->error(), spec::CoreError::kNone)
        << spec::describe(b.core->error()) << " at instruction " << b.core->error_pc();
    b.golden.run(prog);
    // The counters agree with the program: instructions per queue, array steps.
    std::uint64_t loads = 0, execs = 0, stores = 0, steps = 0;
    for (const auto& in : prog) {
      const isa::Opcode op = isa::opcode_of(in);
      loads += op == isa::Opcode::kLoad;
      stores += op == isa::Opcode::kStore;
      execs += op == isa::Opcode::kGemm || op == isa::Opcode::kVec || op == isa::Opcode::kConfig;
      if (op == isa::Opcode::kGemm) steps += in.get(isa::gemm::kLen);
    }
    const cosim::CorePerf perf = b.core->perf();
    const auto counter = [&](spec::CounterId id) { return perf[static_cast<std::size_t>(id)]; };
    EXPECT_EQ(counter(spec::CounterId::kInsnLoad), loads);
    EXPECT_EQ(counter(spec::CounterId::kInsnExec), execs);
    EXPECT_EQ(counter(spec::CounterId::kInsnStore), stores);
    EXPECT_EQ(counter(spec::CounterId::kArraySteps), steps);
    EXPECT_GE(counter(spec::CounterId::kCycles), steps);
    b.expect_same(c, std::uint64_t{g.m} * g.n * 4, "C");
  }
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, CoreGemm,
    ::testing::ValuesIn(test::gemm_cases({"int8 ws 1x1x1", "int8 ws 13x7x11", "int8 ws 37x29x23",
                                          "int8 ws 300x200x13", "int8 os 13x7x11",
                                          "int8 is 13x7x11", "bf16 ws 1x1x1", "bf16 ws 13x7x11",
                                          "bf16 os 17x9x5", "bf16 is 5x9x17"})),
    test::gemm_case_name);

// Every vector operation over many rows, to the accumulator and to the
// scratchpad, both datapaths: LOAD random accumulator rows, run the VEC, STORE
// the destination; bytes compared with the golden device.
TEST(Core, VectorOpsOverManyRows) {
  const auto& ops = isa::kAllVecOps;
  for (Datapath dp : {Datapath::kInt8, Datapath::kBf16}) {
    std::mt19937 rng(dp == Datapath::kInt8 ? 41 : 42);
    for (isa::VecOp op : ops) {
      for (bool to_spad : {false, true}) {
        Bench b(small(dp), kRandom, 7);
        const unsigned rows = 1 + rng() % 40;
        const std::uint64_t src = kBase, dst = kBase + (1 << 20);
        b.random_fill(src, 2 * 64 * 4 * 4, rng);
        b.random_fill(dst, 64 * 4 * 4, rng);
        const unsigned eb = to_spad ? (dp == Datapath::kBf16 ? 2 : 1) : 4;
        const isa::Sram dsram = to_spad ? isa::Sram::kSpad : isa::Sram::kAcc;
        const std::uint32_t imm = static_cast<std::uint32_t>(rng());
        std::vector<isa::Instruction> prog = {
            dma(true, isa::Sram::kAcc, false, 0, rows, 4, src, 16),
            dma(true, isa::Sram::kAcc, false, 64, rows, 4, src + 64 * 16, 16,
                {false, false, false, true}),
            isa::encode_config(rng() % 32),
            isa::encode_vec({op, dsram, 0, 64, 128, rows, imm}, {true, false, false, true}),
            dma(false, dsram, false, 128, rows, 4, dst, 4 * eb, {true, false, false, false}),
            isa::encode_finish()};
        // The token of the second LOAD covers both (LOADs complete in order).
        ASSERT_TRUE(b.run(prog)) << b.core->dump_state();
        ASSERT_EQ(b.core->error(), spec::CoreError::kNone) << spec::describe(b.core->error());
        b.golden.run(prog);
        b.expect_same(dst, 64 * 4 * 4,
                      std::string(model::to_string(dp)) + " op " +
                          std::to_string(static_cast<unsigned>(op)) + (to_spad ? " spad" : " acc") +
                          " rows " + std::to_string(rows));
      }
    }
  }
}

// The load DMA and the vector unit write the accumulator in the same cycles
// (different rows): a LOAD runs while a VEC of the previous LOAD's rows writes.
TEST(Core, LoadAndVectorWriteTheAccumulatorTogether) {
  for (std::uint32_t seed : {1u, 2u, 3u}) {
    Bench b(small(Datapath::kInt8), kRandom, seed);
    std::mt19937 rng(seed);
    const unsigned n = 60;
    const std::uint64_t src = kBase, dst = kBase + (1 << 20);
    b.random_fill(src, 2 * n * 16, rng);
    const isa::Deps push{false, false, false, true}, pop_push{true, false, false, true},
        pop{true, false, false, false};
    const std::vector<isa::Instruction> prog = {
        dma(true, isa::Sram::kAcc, false, 0, n, 4, src, 16, push),
        dma(true, isa::Sram::kAcc, false, 192, n, 4, src + n * 16, 16, push),
        isa::encode_vec({isa::VecOp::kCopy, isa::Sram::kAcc, 0, 0, 64, n, 0}, pop_push),
        isa::encode_config(0, pop_push),
        dma(false, isa::Sram::kAcc, false, 64, n, 4, dst, 16, pop),
        dma(false, isa::Sram::kAcc, false, 192, n, 4, dst + n * 16, 16, pop),
        isa::encode_finish()};
    ASSERT_TRUE(b.run(prog)) << b.core->dump_state();
    ASSERT_EQ(b.core->error(), spec::CoreError::kNone) << spec::describe(b.core->error());
    b.golden.run(prog);
    b.expect_same(dst, 2 * n * 16, "seed " + std::to_string(seed));
  }
}

// Bad programs stop the core with the error code and the index of the
// offending instruction.
TEST(Core, ReportsProgramErrors) {
  struct Bad {
    std::vector<isa::Instruction> prog;
    spec::CoreError err;
    std::uint32_t pc;
  };
  isa::Instruction zero;  // opcode 0: zeroed memory never decodes
  const auto load = [](unsigned row, unsigned rows, std::uint64_t addr) {
    return dma(true, isa::Sram::kSpad, false, row, rows, 4, addr, 8);
  };
  const std::vector<Bad> cases = {
      {{isa::encode_config(0), zero, isa::encode_finish()}, spec::CoreError::kIllegal, 1},
      {{load(500, 13, kBase), isa::encode_finish()}, spec::CoreError::kRange, 0},
      {{isa::encode_config(1), isa::encode_config(2)}, spec::CoreError::kNoFinish, 2},
      {{load(0, 2, kBase + kBytes), isa::encode_finish()}, spec::CoreError::kBusRead, 0},
  };
  for (const Bad& c : cases) {
    Bench b(small(Datapath::kInt8), kRandom, 3);
    ASSERT_TRUE(b.run(c.prog, 100'000)) << spec::describe(c.err) << "\n" << b.core->dump_state();
    EXPECT_EQ(b.core->error(), c.err) << spec::describe(b.core->error());
    if (c.err != spec::CoreError::kBusRead)
      EXPECT_EQ(b.core->error_pc(), c.pc) << spec::describe(c.err);
  }
  // bf16 elements are 2 bytes: an odd address is misaligned.
  Bench b(small(Datapath::kBf16), kRandom, 3);
  ASSERT_TRUE(b.run(
      {dma(true, isa::Sram::kSpad, false, 0, 1, 4, kBase + 1, 8), isa::encode_finish()}, 100'000));
  EXPECT_EQ(b.core->error(), spec::CoreError::kAlign);
}

// A GEMM waiting for a token no LOAD pushes never finishes; the state dump
// shows where it waits.
TEST(Core, DeadlockIsVisibleInTheStateDump) {
  Bench b(small(Datapath::kInt8), kFast, 5);
  isa::GemmArgs g;
  g.len = 4;
  const std::vector<isa::Instruction> prog = {isa::encode_gemm(g, {true, false, false, false}),
                                              isa::encode_finish()};
  EXPECT_FALSE(b.run(prog, 5'000));
  const std::string dump = b.core->dump_state();
  EXPECT_NE(dump.find("EXEC from LOAD 1"), std::string::npos) << dump;
  EXPECT_NE(dump.find("EXEC 1"), std::string::npos) << dump;
}

}  // namespace
