// program_check: footprints (hand-computed, and cross-checked against what
// FunctionalDevice really reads and writes), assign_dependencies on hand-made
// and random programs, and check_program catching races, deadlocks, leftover
// tokens and meaningless flags, including in broken GEMM kernel programs.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "sasim/host/gemm_kernel.hpp"
#include "sasim/host/program_check.hpp"
#include "sasim/isa/encode.hpp"
#include "sasim/model/functional_device.hpp"

namespace {

using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

using namespace sasim;  // spec, isa, model, mem, cosim, host, app
using sasim::model::Dataflow;
using sasim::model::Datapath;

constexpr std::uint64_t kBase = 0x8000'0000;

spec::DeviceSpec params(Datapath dp, unsigned rows, unsigned cols, unsigned spad = 64,
                        unsigned acc = 32, std::uint64_t dram = 1 << 16) {
  return spec::device_of(spec::core_of(dp, rows, cols, spad, acc), dram);
}

std::vector<isa::Instruction> prog(std::initializer_list<isa::Instruction> l) {
  std::vector<isa::Instruction> v(l);
  v.push_back(isa::encode_finish());
  return v;
}

isa::Deps deps(bool pop_prev, bool pop_next, bool push_prev, bool push_next) {
  return {pop_prev, pop_next, push_prev, push_next};
}

// The four flags of an instruction as a string "pp pn Pp Pn" of 0/1.
std::string flags(const isa::Instruction& i) {
  std::string s;
  for (const isa::Field* f : {&isa::common::kPopPrev, &isa::common::kPopNext,
                              &isa::common::kPushPrev, &isa::common::kPushNext}) {
    s += i.get(*f) ? '1' : '0';
  }
  return s;
}

bool has(const host::CheckReport& r, std::initializer_list<std::string> parts) {
  for (const std::string& e : r.errors) {
    if (std::all_of(parts.begin(), parts.end(),
                    [&](const std::string& p) { return e.find(p) != std::string::npos; })) {
      return true;
    }
  }
  return false;
}

using host::Access;
using host::Space;

TEST(ProgramCheck, FootprintsOfEveryInstruction) {
  const spec::DeviceSpec p = params(Datapath::kBf16, 4, 2);  // R 4, C 2, W 4, 2-byte elements
  EXPECT_EQ(host::footprint(p, isa::encode_load({isa::Sram::kSpad, false, 5, 3, 2, kBase + 1, 8})),
            (std::vector<Access>{{Space::kSpad, true, 5, 3, 0, 0},
                                 {Space::kMem, false, kBase + 1, 3, 8, 4}}));
  // Transposed: `cols` SRAM rows.
  EXPECT_EQ(host::footprint(p, isa::encode_load({isa::Sram::kSpad, true, 10, 2, 3, kBase, 6})),
            (std::vector<Access>{{Space::kSpad, true, 10, 3, 0, 0},
                                 {Space::kMem, false, kBase, 2, 6, 6}}));
  EXPECT_EQ(host::footprint(p, isa::encode_store({isa::Sram::kAcc, false, 3, 2, 2, kBase, 16})),
            (std::vector<Access>{{Space::kAcc, false, 3, 2, 0, 0},
                                 {Space::kMem, true, kBase, 2, 16, 8}}));
  EXPECT_EQ(host::footprint(p, isa::encode_gemm({isa::Dataflow::kWs, false, true, 8, 20, 0, 7, 1})),
            (std::vector<Access>{{Space::kSpad, false, 8, 4, 0, 0},
                                 {Space::kSpad, false, 20, 7, 0, 0},
                                 {Space::kAcc, true, 1, 7, 0, 0}}));
  EXPECT_EQ(host::footprint(p, isa::encode_gemm({isa::Dataflow::kIs, true, false, 8, 20, 0, 7, 1})),
            (std::vector<Access>{{Space::kSpad, false, 20, 7, 0, 0},
                                 {Space::kAcc, true, 1, 7, 0, 0}}));  // reuse: no preload
  EXPECT_EQ(
      host::footprint(p, isa::encode_gemm({isa::Dataflow::kOs, false, false, 0, 2, 30, 5, 9})),
      (std::vector<Access>{{Space::kSpad, false, 2, 5, 0, 0},
                           {Space::kSpad, false, 30, 5, 0, 0},
                           {Space::kAcc, true, 9, 4, 0, 0}}));  // R accumulator rows
  EXPECT_EQ(
      host::footprint(p, isa::encode_vec({isa::VecOp::kAddRow, isa::Sram::kAcc, 1, 5, 9, 2, 0})),
      (std::vector<Access>{{Space::kAcc, false, 1, 2, 0, 0},
                           {Space::kAcc, false, 5, 2, 0, 0},
                           {Space::kAcc, true, 9, 2, 0, 0}}));
  EXPECT_EQ(
      host::footprint(p, isa::encode_vec({isa::VecOp::kToBf16, isa::Sram::kSpad, 1, 5, 9, 2, 0})),
      (std::vector<Access>{{Space::kAcc, false, 1, 2, 0, 0}, {Space::kSpad, true, 9, 2, 0, 0}}));
  EXPECT_TRUE(host::footprint(p, isa::encode_config(3)).empty());
  EXPECT_TRUE(host::footprint(p, isa::encode_finish()).empty());
  EXPECT_EQ(host::to_string(Access{Space::kSpad, true, 16, 16, 0, 0}), "spad rows 16..31 (write)");
  EXPECT_THROW(host::footprint(p, isa::Instruction{}), std::invalid_argument);
}

// A random valid instruction (no GEMM reuse: the stationary register is EXEC
// state, not a place).
isa::Instruction random_insn(const spec::DeviceSpec& p, std::mt19937_64& rng) {
  auto pick = [&](std::uint64_t lo, std::uint64_t hi) {
    return std::uniform_int_distribution<std::uint64_t>(lo, hi)(rng);
  };
  const unsigned W = p.width(), R = p.rows, C = p.cols;
  switch (pick(0, 3)) {
    case 0:
    case 1: {  // LOAD or STORE
      isa::DmaArgs a;
      a.sram = pick(0, 1) ? isa::Sram::kAcc : isa::Sram::kSpad;
      a.transpose = pick(0, 1);
      const unsigned width = a.sram == isa::Sram::kAcc ? C : W;
      const unsigned cap = a.sram == isa::Sram::kAcc ? p.acc_rows : p.spad_rows;
      const unsigned eb = a.sram == isa::Sram::kAcc ? 4 : p.elem_bytes();
      a.rows = static_cast<std::uint32_t>(pick(1, a.transpose ? width : 6));
      a.cols = static_cast<std::uint32_t>(pick(1, a.transpose ? 6 : width));
      const unsigned n = a.transpose ? a.cols : a.rows;
      a.sram_row = static_cast<std::uint32_t>(pick(0, cap - n));
      // Element-aligned, as the ISA requires.
      a.dram_stride = pick(0, 3) == 0 ? 0 : (a.cols + pick(0, 9)) * eb;
      a.dram_addr = kBase + eb * pick(0, 128);
      return pick(0, 1) ? isa::encode_load(a) : isa::encode_store(a);
    }
    case 2: {
      isa::GemmArgs g;
      g.dataflow = static_cast<isa::Dataflow>(pick(0, 2));
      g.accumulate = pick(0, 1);
      g.len = static_cast<std::uint32_t>(pick(1, 6));
      g.pre_row = static_cast<std::uint32_t>(pick(0, p.spad_rows - R));
      g.in_row = static_cast<std::uint32_t>(pick(0, p.spad_rows - g.len));
      g.b_row = static_cast<std::uint32_t>(pick(0, p.spad_rows - g.len));
      const unsigned acc_n = g.dataflow == isa::Dataflow::kOs ? R : g.len;
      g.acc_row = static_cast<std::uint32_t>(pick(0, p.acc_rows - acc_n));
      return isa::encode_gemm(g);
    }
    default: {
      isa::VecArgs v;
      v.op = isa::kAllVecOps[pick(0, std::size(isa::kAllVecOps) - 1)];
      v.dst_sram = pick(0, 1) ? isa::Sram::kSpad : isa::Sram::kAcc;
      v.rows = static_cast<std::uint32_t>(pick(1, 4));
      v.src_row = static_cast<std::uint32_t>(pick(0, p.acc_rows - v.rows));
      v.src2_row = static_cast<std::uint32_t>(pick(0, p.acc_rows - v.rows));
      const unsigned cap = v.dst_sram == isa::Sram::kSpad ? p.spad_rows : p.acc_rows;
      v.dst_row = static_cast<std::uint32_t>(pick(0, cap - v.rows));
      v.imm = static_cast<std::uint32_t>(rng());
      return isa::encode_vec(v);
    }
  }
}

// Every place as a flat list: spad rows, acc rows, memory bytes.
struct State {
  std::vector<std::vector<std::uint32_t>> spad, acc;
  std::vector<std::uint8_t> mem;
};
State snapshot(const model::FunctionalDevice& d) {
  const spec::DeviceSpec& p = d.params();
  State s;
  s.spad.assign(p.spad_rows, std::vector<std::uint32_t>(p.width()));
  s.acc.assign(p.acc_rows, std::vector<std::uint32_t>(p.cols));
  for (unsigned r = 0; r < p.spad_rows; ++r) {
    for (unsigned c = 0; c < p.width(); ++c) s.spad[r][c] = d.spad(r, c);
  }
  for (unsigned r = 0; r < p.acc_rows; ++r) {
    for (unsigned c = 0; c < p.cols; ++c) s.acc[r][c] = d.acc(r, c);
  }
  s.mem = d.read_dram(p.dram_base, p.dram_bytes);
  return s;
}

struct Sets {
  std::vector<bool> spad, acc, mem;
};
Sets places(const spec::DeviceSpec& p, const std::vector<Access>& fp, bool writes) {
  Sets s{std::vector<bool>(p.spad_rows), std::vector<bool>(p.acc_rows),
         std::vector<bool>(p.dram_bytes)};
  for (const Access& a : fp) {
    if (a.write != writes) continue;
    if (a.space == Space::kMem) {
      for (std::uint64_t i = 0; i < a.count; ++i) {
        for (std::uint64_t b = 0; b < a.row_bytes; ++b) {
          s.mem[a.first + i * a.stride + b - p.dram_base] = true;
        }
      }
    } else {
      auto& v = a.space == Space::kSpad ? s.spad : s.acc;
      for (std::uint64_t r = a.first; r < a.first + a.count; ++r) v[r] = true;
    }
  }
  return s;
}

TEST(ProgramCheck, FootprintsCoverWhatTheFunctionalDeviceTouches) {
  std::mt19937_64 rng(7);
  for (const spec::DeviceSpec& p :
       {params(Datapath::kInt8, 4, 2, 32, 16, 2048), params(Datapath::kBf16, 2, 4, 32, 16, 2048)}) {
    for (int t = 0; t < 300; ++t) {
      const isa::Instruction in = random_insn(p, rng);
      SCOPED_TRACE("trial " + std::to_string(t) + ": " + std::to_string(in.words[0]) + " " +
                   std::to_string(in.words[1]));
      const std::vector<Access> fp = host::footprint(p, in);
      const Sets w = places(p, fp, true), r = places(p, fp, false);
      // Two devices in random states that differ only outside the footprint.
      model::FunctionalDevice a(p), b(p);
      std::vector<std::uint8_t> ma(p.dram_bytes), mb(p.dram_bytes);
      for (std::uint64_t i = 0; i < p.dram_bytes; ++i) {
        ma[i] = static_cast<std::uint8_t>(rng());
        mb[i] = r.mem[i] || w.mem[i] ? ma[i] : static_cast<std::uint8_t>(rng());
      }
      a.write_dram(p.dram_base, ma);
      b.write_dram(p.dram_base, mb);
      for (unsigned row = 0; row < p.spad_rows; ++row) {
        for (unsigned c = 0; c < p.width(); ++c) {
          const auto v = static_cast<std::uint16_t>(rng());
          a.set_spad(row, c, v);
          b.set_spad(row, c, r.spad[row] || w.spad[row] ? v : static_cast<std::uint16_t>(rng()));
        }
      }
      for (unsigned row = 0; row < p.acc_rows; ++row) {
        for (unsigned c = 0; c < p.cols; ++c) {
          const auto v = static_cast<std::uint32_t>(rng());
          a.set_acc(row, c, v);
          b.set_acc(row, c, r.acc[row] || w.acc[row] ? v : static_cast<std::uint32_t>(rng()));
        }
      }
      const State a0 = snapshot(a);
      a.run({in, isa::encode_finish()});
      b.run({in, isa::encode_finish()});
      const State a1 = snapshot(a), b1 = snapshot(b);
      // Writes: nothing outside the write set changed. Reads: inside the
      // footprint both devices agree, so nothing outside the reads mattered.
      for (unsigned row = 0; row < p.spad_rows; ++row) {
        if (!w.spad[row]) EXPECT_EQ(a1.spad[row], a0.spad[row]) << "spad row " << row;
        if (w.spad[row] || r.spad[row]) EXPECT_EQ(a1.spad[row], b1.spad[row]) << "spad " << row;
      }
      for (unsigned row = 0; row < p.acc_rows; ++row) {
        if (!w.acc[row]) EXPECT_EQ(a1.acc[row], a0.acc[row]) << "acc row " << row;
        if (w.acc[row] || r.acc[row]) EXPECT_EQ(a1.acc[row], b1.acc[row]) << "acc " << row;
      }
      for (std::uint64_t i = 0; i < p.dram_bytes; ++i) {
        if (!w.mem[i]) ASSERT_EQ(a1.mem[i], a0.mem[i]) << "byte " << i;
        if (w.mem[i] || r.mem[i]) ASSERT_EQ(a1.mem[i], b1.mem[i]) << "byte " << i;
      }
    }
  }
}

TEST(ProgramCheck, AssignsTheLeastTokensForAHandMadeProgram) {
  const spec::DeviceSpec p = params(Datapath::kInt8, 4, 4);
  const isa::Instruction ld = isa::encode_load({isa::Sram::kSpad, false, 0, 8, 4, kBase, 4});
  const isa::Instruction ld_b = isa::encode_load({isa::Sram::kSpad, false, 8, 4, 4, kBase, 4});
  const isa::Instruction g = isa::encode_gemm({isa::Dataflow::kWs, false, false, 8, 0, 0, 8, 0});
  const isa::Instruction st = isa::encode_store({isa::Sram::kAcc, false, 0, 8, 4, kBase + 256, 16});
  // Flags already present are replaced.
  isa::Instruction ld_flagged = isa::encode_load({isa::Sram::kSpad, false, 0, 8, 4, kBase, 4},
                                                 deps(false, true, false, true));
  std::vector<isa::Instruction> v = prog({ld_flagged, ld_b, g, st, ld, ld_b, g, st});
  host::assign_dependencies(p, v);
  // Order: pp pn Pp Pn.
  EXPECT_EQ(flags(v[0]), "0000");  // implied by the later load's token
  EXPECT_EQ(flags(v[1]), "0001");
  EXPECT_EQ(flags(v[2]), "1011");  // RAW from loads; to STORE; WAR to the reloads
  EXPECT_EQ(flags(v[3]), "1010");  // RAW from GEMM; WAR to the second GEMM
  EXPECT_EQ(flags(v[4]), "0100");
  EXPECT_EQ(flags(v[5]), "0001");
  EXPECT_EQ(flags(v[6]), "1101");
  EXPECT_EQ(flags(v[7]), "1000");
  EXPECT_EQ(flags(v[8]), "0000");  // FINISH
  const host::CheckReport rep = host::check_program(p, v);
  EXPECT_TRUE(rep.ok()) << rep.summary();
  EXPECT_EQ(rep.queue_length, (std::array<std::size_t, 3>{4, 2, 2}));
  EXPECT_EQ(rep.tokens, (std::array<std::size_t, 4>{2, 1, 2, 1}));
  EXPECT_EQ(rep.max_tokens, (std::array<std::size_t, 4>{1, 1, 1, 1}));
  // Three LOADs free to run ahead of three GEMMs: three tokens at once.
  const host::CheckReport ahead = host::check_program(
      p,
      prog(
          {isa::encode_load({isa::Sram::kSpad, false, 0, 4, 4, kBase, 4}, deps(0, 0, 0, 1)),
           isa::encode_load({isa::Sram::kSpad, false, 4, 4, 4, kBase, 4}, deps(0, 0, 0, 1)),
           isa::encode_load({isa::Sram::kSpad, false, 8, 4, 4, kBase, 4}, deps(0, 0, 0, 1)),
           isa::encode_gemm({isa::Dataflow::kWs, false, false, 0, 0, 0, 4, 0}, deps(1, 0, 0, 0)),
           isa::encode_gemm({isa::Dataflow::kWs, false, false, 4, 4, 0, 4, 0}, deps(1, 0, 0, 0)),
           isa::encode_gemm({isa::Dataflow::kWs, false, false, 8, 8, 0, 4, 0}, deps(1, 0, 0, 0))}));
  EXPECT_TRUE(ahead.ok()) << ahead.summary();
  EXPECT_EQ(ahead.max_tokens, (std::array<std::size_t, 4>{3, 0, 0, 0}));
}

TEST(ProgramCheck, RelaysLoadStoreConflictsThroughExec) {
  const spec::DeviceSpec p = params(Datapath::kInt8, 4, 4);
  const isa::Instruction st = isa::encode_store({isa::Sram::kAcc, false, 0, 1, 1, kBase, 0});
  const isa::Instruction ld = isa::encode_load({isa::Sram::kSpad, true, 0, 4, 1, kBase, 0});
  const isa::Instruction relay = isa::encode_vec({isa::VecOp::kCopy, isa::Sram::kAcc, 5, 0, 5, 1});
  std::vector<isa::Instruction> v = prog({st, relay, ld});
  host::assign_dependencies(p, v);
  EXPECT_EQ(flags(v[0]), "0010");
  EXPECT_EQ(flags(v[1]), "0110");
  EXPECT_EQ(flags(v[2]), "0100");
  EXPECT_TRUE(host::check_program(p, v).ok());
  // The same DMA queue writing the same rows twice: relayed as well.
  const isa::Instruction zero = isa::encode_load({isa::Sram::kSpad, false, 0, 4, 4, kBase, 0});
  std::vector<isa::Instruction> w = prog({zero, relay, ld});
  host::assign_dependencies(p, w);
  EXPECT_EQ(flags(w[0]), "0001");
  EXPECT_EQ(flags(w[1]), "1010");
  EXPECT_EQ(flags(w[2]), "0100");
  EXPECT_TRUE(host::check_program(p, w).ok());
  // Two LOADs of one slot with a GEMM reading it between need no relay: the
  // GEMM before that reader must not wait for the slot's load (prefetch).
  const isa::Instruction ldx = isa::encode_load({isa::Sram::kSpad, false, 8, 4, 4, kBase, 4});
  const isa::Instruction ld0 = isa::encode_load({isa::Sram::kSpad, false, 0, 4, 4, kBase, 4});
  const isa::Instruction ga = isa::encode_gemm({isa::Dataflow::kWs, false, false, 8, 8, 0, 4, 0});
  const isa::Instruction gb = isa::encode_gemm({isa::Dataflow::kWs, false, false, 0, 8, 0, 4, 4});
  std::vector<isa::Instruction> pf = prog({ldx, ld0, ga, gb, ld0, gb});
  host::assign_dependencies(p, pf);
  EXPECT_EQ(flags(pf[0]), "0001");
  EXPECT_EQ(flags(pf[1]), "0001");
  EXPECT_EQ(flags(pf[2]), "1000");  // waits for its own operand only
  EXPECT_EQ(flags(pf[3]), "1010");
  EXPECT_EQ(flags(pf[4]), "0101");
  EXPECT_EQ(flags(pf[5]), "1000");
  EXPECT_TRUE(host::check_program(p, pf).ok());
  // Nothing in EXEC between: impossible with tokens.
  std::vector<isa::Instruction> x = prog({st, ld, relay});
  EXPECT_THAT([&] { host::assign_dependencies(p, x); },
              ThrowsMessage<std::invalid_argument>(
                  HasSubstr("instruction 1 (LOAD) conflicts with instruction 0 (STORE)")));
  std::vector<isa::Instruction> no_finish{ld};
  EXPECT_THROW(host::assign_dependencies(p, no_finish), std::invalid_argument);
  std::vector<isa::Instruction> beyond =
      prog({isa::encode_load({isa::Sram::kSpad, false, 62, 3, 1, kBase, 0})});
  EXPECT_THROW(host::assign_dependencies(p, beyond), std::invalid_argument);
}

TEST(ProgramCheck, CatchesRacesDeadlocksAndLeftoverTokens) {
  const spec::DeviceSpec p = params(Datapath::kInt8, 4, 4);
  const isa::DmaArgs ld_a{isa::Sram::kSpad, false, 0, 4, 4, kBase, 4};
  const isa::DmaArgs ld_b{isa::Sram::kSpad, false, 4, 4, 4, kBase + 64, 4};
  const isa::GemmArgs g{isa::Dataflow::kWs, false, false, 0, 4, 0, 4, 0};
  const isa::GemmArgs g_other{isa::Dataflow::kWs, false, false, 8, 12, 0, 4, 8};
  const isa::DmaArgs st{isa::Sram::kAcc, false, 0, 4, 4, kBase + 256, 16};

  // Race: the GEMM reads rows the LOADs write, with no token.
  host::CheckReport r = host::check_program(
      p, prog({isa::encode_load(ld_a), isa::encode_load(ld_b), isa::encode_gemm(g)}));
  EXPECT_FALSE(r.ok());
  EXPECT_TRUE(has(r, {"race", "instruction 2 (GEMM)", "instruction 1 (LOAD)", "spad rows 4..7"}))
      << r.summary();
  EXPECT_TRUE(has(r, {"race", "instruction 2 (GEMM)", "instruction 0 (LOAD)", "spad rows 0..3"}))
      << r.summary();
  // Tokens count: the first LOAD's token orders only that LOAD.
  r = host::check_program(p,
                          prog({isa::encode_load(ld_a, deps(0, 0, 0, 1)), isa::encode_load(ld_b),
                                isa::encode_gemm(g_other, deps(1, 0, 0, 0)), isa::encode_gemm(g)}));
  EXPECT_TRUE(has(r, {"race", "instruction 3 (GEMM)", "instruction 1 (LOAD)"})) << r.summary();
  EXPECT_FALSE(has(r, {"instruction 0 (LOAD)"})) << r.summary();
  // Ordered: the second LOAD pushes, the GEMM pops; then STORE after GEMM.
  r = host::check_program(
      p, prog({isa::encode_load(ld_a), isa::encode_load(ld_b, deps(0, 0, 0, 1)),
               isa::encode_gemm(g, deps(1, 0, 0, 1)), isa::encode_store(st, deps(1, 0, 0, 0))}));
  EXPECT_TRUE(r.ok()) << r.summary();
  // Deadlock: a pop nobody pushes.
  r = host::check_program(p, prog({isa::encode_load(ld_a), isa::encode_gemm(g, deps(1, 0, 0, 0))}));
  EXPECT_TRUE(has(r, {"deadlock", "EXEC head 1", "LOAD->EXEC=0"})) << r.summary();
  // A cycle of waits: GEMM waits for the STORE, which waits for the GEMM.
  r = host::check_program(p, prog({isa::encode_gemm(g_other, deps(0, 1, 0, 1)),
                                   isa::encode_store(st, deps(1, 0, 1, 0))}));
  EXPECT_TRUE(has(r, {"deadlock", "EXEC head 0", "STORE head 1"})) << r.summary();
  // A push nobody pops.
  r = host::check_program(p, prog({isa::encode_load(ld_a, deps(0, 0, 0, 1))}));
  EXPECT_TRUE(has(r, {"1 token(s) on LOAD->EXEC never popped", "instruction 0 (LOAD)"}))
      << r.summary();
  // Flags that name no queue, and FINISH with a flag.
  r = host::check_program(
      p, {isa::encode_load(ld_a, deps(1, 0, 0, 0)), isa::encode_store(st, deps(0, 0, 0, 1)),
          isa::encode_finish(deps(0, 0, 1, 0))});
  EXPECT_TRUE(has(r, {"instruction 0 (LOAD): pop_prev names no queue"})) << r.summary();
  EXPECT_TRUE(has(r, {"instruction 1 (STORE): push_next names no queue"})) << r.summary();
  EXPECT_TRUE(has(r, {"instruction 2 (FINISH): push_prev is set"})) << r.summary();
  // No FINISH, illegal opcode, rows beyond the SRAM.
  EXPECT_TRUE(has(host::check_program(p, {isa::encode_load(ld_a)}), {"no FINISH"}));
  EXPECT_TRUE(has(host::check_program(p, {isa::Instruction{}}), {"illegal opcode 0"}));
  EXPECT_TRUE(has(host::check_program(
                      p, prog({isa::encode_load({isa::Sram::kAcc, false, 30, 4, 4, kBase, 16})})),
                  {"acc rows 30..33", "beyond the SRAM"}));
  // Instructions after FINISH are never fetched.
  EXPECT_TRUE(
      host::check_program(p, {isa::encode_finish(), isa::encode_gemm(g, deps(1, 0, 0, 0))}).ok());
}

TEST(ProgramCheck, MemoryConflictsAndDmaWritesInOneQueue) {
  const spec::DeviceSpec p = params(Datapath::kInt8, 4, 4);
  // STORE writes bytes a later LOAD reads: needs a chain through EXEC.
  const isa::DmaArgs st{isa::Sram::kAcc, false, 0, 2, 2, kBase + 8, 32};  // bytes 8..15, 40..47
  const isa::DmaArgs ld{isa::Sram::kSpad, false, 0, 1, 4, kBase + 44, 0};
  host::CheckReport r = host::check_program(p, prog({isa::encode_store(st), isa::encode_load(ld)}));
  EXPECT_TRUE(has(r, {"race", "instruction 1 (LOAD) [LOAD] memory", "instruction 0 (STORE)"}))
      << r.summary();
  const isa::DmaArgs ld_apart{isa::Sram::kSpad, false, 0, 2, 4, kBase + 16, 32};  // 16..19, 48..51
  EXPECT_TRUE(
      host::check_program(p, prog({isa::encode_store(st), isa::encode_load(ld_apart)})).ok());
  // Two LOADs writing the same rows: a race by default, fine with the option off.
  const isa::DmaArgs zero{isa::Sram::kSpad, false, 0, 4, 4, kBase, 0};
  const std::vector<isa::Instruction> waw = prog({isa::encode_load(zero), isa::encode_load(ld)});
  EXPECT_TRUE(has(host::check_program(p, waw), {"race", "instruction 1 (LOAD)", "instruction 0"}));
  host::CheckOptions lax;
  lax.order_dma_writes_in_queue = false;
  EXPECT_TRUE(host::check_program(p, waw, lax).ok());
  // STOREs writing the same bytes likewise.
  const std::vector<isa::Instruction> st2 = prog({isa::encode_store(st), isa::encode_store(st)});
  EXPECT_FALSE(host::check_program(p, st2).ok());
  EXPECT_TRUE(host::check_program(p, st2, lax).ok());
}

// Do two instructions access a common place, at least one writing it?
bool conflict(const spec::DeviceSpec& p, const isa::Instruction& a, const isa::Instruction& b) {
  for (const Access& x : host::footprint(p, a)) {
    for (const Access& y : host::footprint(p, b)) {
      if (x.space != y.space || !(x.write || y.write)) continue;
      if (x.space != Space::kMem) {
        if (x.first < y.first + y.count && y.first < x.first + x.count) return true;
        continue;
      }
      for (std::uint64_t i = 0; i < x.count; ++i) {
        for (std::uint64_t j = 0; j < y.count; ++j) {
          const std::uint64_t xl = x.first + i * x.stride, yl = y.first + j * y.stride;
          if (xl < yl + y.row_bytes && yl < xl + x.row_bytes) return true;
        }
      }
    }
  }
  return false;
}

// Clears, on channel c, the push and/or the pop of the first matched pair
// (k-th push, k-th pop) whose two instructions conflict.
void drop_pair(const spec::DeviceSpec& p, std::vector<isa::Instruction>& v, host::Channel c,
               bool push, bool pop) {
  const isa::Field* push_f[] = {&isa::common::kPushNext, &isa::common::kPushPrev,
                                &isa::common::kPushNext, &isa::common::kPushPrev};
  const isa::Field* pop_f[] = {&isa::common::kPopPrev, &isa::common::kPopNext,
                               &isa::common::kPopPrev, &isa::common::kPopNext};
  const host::Queue from[] = {host::Queue::kLoad, host::Queue::kExec, host::Queue::kExec,
                              host::Queue::kStore};
  const host::Queue to[] = {host::Queue::kExec, host::Queue::kLoad, host::Queue::kStore,
                            host::Queue::kExec};
  const auto k = static_cast<std::size_t>(c);
  std::vector<std::size_t> pushers, poppers;
  for (std::size_t i = 0; i < v.size() && host::queue_of(v[i]) != host::Queue::kCtrl; ++i) {
    if (host::queue_of(v[i]) == from[k] && v[i].get(*push_f[k])) pushers.push_back(i);
    if (host::queue_of(v[i]) == to[k] && v[i].get(*pop_f[k])) poppers.push_back(i);
  }
  ASSERT_EQ(pushers.size(), poppers.size());
  for (std::size_t n = 0; n < pushers.size(); ++n) {
    if (!conflict(p, v[pushers[n]], v[poppers[n]])) continue;
    if (push) v[pushers[n]].set(*push_f[k], 0);
    if (pop) v[poppers[n]].set(*pop_f[k], 0);
    return;
  }
  FAIL() << "no token on " << host::to_string(c) << " between conflicting instructions";
}

TEST(ProgramCheck, KernelProgramsPassAndEveryMissingTokenIsCaught) {
  struct Case {
    Datapath dp;
    Dataflow df;
    unsigned spad, acc, M, K, N;
  };
  // Enough output blocks that every channel carries tokens (WAR on P slots
  // and on accumulator buffers), with and without padding.
  const Case cases[] = {{Datapath::kInt8, Dataflow::kWs, 4096, 64, 70, 12, 40},
                        {Datapath::kBf16, Dataflow::kWs, 64, 64, 40, 13, 40},
                        {Datapath::kBf16, Dataflow::kIs, 4096, 64, 40, 13, 70},
                        {Datapath::kInt8, Dataflow::kOs, 4096, 64, 12, 40, 24},
                        {Datapath::kBf16, Dataflow::kOs, 64, 64, 12, 80, 24}};
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(sasim::model::to_string(c.dp)) + " " +
                 std::string(sasim::model::to_string(c.df)) + " spad " + std::to_string(c.spad));
    const spec::DeviceSpec p = params(c.dp, 4, 4, c.spad, c.acc, 1 << 20);
    host::GemmOptions o;
    o.zero_addr = kBase;
    const std::vector<isa::Instruction> good = host::gemm_program(
        p, c.df, c.M, c.K, c.N, kBase + 0x1000, kBase + 0x4000, kBase + 0x8000, o);
    const host::CheckReport rep = host::check_program(p, good);
    ASSERT_TRUE(rep.ok()) << rep.summary();
    for (std::size_t ch = 0; ch < 4; ++ch) {
      const auto channel = static_cast<host::Channel>(ch);
      SCOPED_TRACE(host::to_string(channel));
      ASSERT_GT(rep.tokens[ch], 0u);
      std::vector<isa::Instruction> v = good;
      drop_pair(p, v, channel, true, true);  // still balanced: a race
      host::CheckReport r = host::check_program(p, v);
      EXPECT_TRUE(has(r, {"race"})) << r.summary();
      v = good;
      drop_pair(p, v, channel, false, true);  // a push nobody pops
      r = host::check_program(p, v);
      EXPECT_TRUE(has(r, {"never popped", host::to_string(channel)})) << r.summary();
      v = good;
      drop_pair(p, v, channel, true, false);  // a pop waiting forever
      r = host::check_program(p, v);
      EXPECT_TRUE(has(r, {"deadlock"})) << r.summary();
    }
  }
}

TEST(ProgramCheck, AssignedRandomProgramsPassTheCheck) {
  std::mt19937_64 rng(11);
  const spec::DeviceSpec p = params(Datapath::kBf16, 4, 2, 32, 16, 4096);
  int checked = 0, broken = 0;
  for (int t = 0; t < 200; ++t) {
    SCOPED_TRACE("program " + std::to_string(t));
    std::vector<isa::Instruction> v;
    for (int i = 0; i < 30; ++i) {
      v.push_back(random_insn(p, rng));
      // An EXEC instruction after every DMA: a relay is always possible.
      if (host::queue_of(v.back()) != host::Queue::kExec) v.push_back(isa::encode_config(1));
    }
    v.push_back(isa::encode_finish());
    host::assign_dependencies(p, v);
    const host::CheckReport r = host::check_program(p, v);
    EXPECT_TRUE(r.ok()) << r.summary();
    ++checked;
    // Removing every token of the program leaves races (the programs are dense).
    for (isa::Instruction& i : v) {
      for (const isa::Field* f : {&isa::common::kPopPrev, &isa::common::kPopNext,
                                  &isa::common::kPushPrev, &isa::common::kPushNext}) {
        i.set(*f, 0);
      }
    }
    broken += !host::check_program(p, v).ok();
  }
  EXPECT_EQ(checked, 200);
  EXPECT_GT(broken, 190);
}

// The analyses are memoized (a training run submits the same programs every
// step): a repeated call answers as the first did, and a program, device or
// option that differs in anything is analysed anew, not answered from the
// memo of a near one.
TEST(ProgramCheck, MemoizedAnalysesAnswerOnlyForTheSameProgramDeviceAndOptions) {
  const spec::DeviceSpec p = params(Datapath::kInt8, 4, 4);
  const isa::Instruction ld = isa::encode_load({isa::Sram::kSpad, false, 0, 8, 4, kBase, 4});
  const isa::Instruction g = isa::encode_gemm({isa::Dataflow::kWs, false, false, 8, 0, 0, 8, 0});
  const isa::Instruction st = isa::encode_store({isa::Sram::kAcc, false, 0, 8, 4, kBase + 256, 16});
  // A second block on other rows and addresses: independent of the first.
  const isa::Instruction ld2 = isa::encode_load({isa::Sram::kSpad, false, 16, 8, 4, kBase + 64, 4});
  const isa::Instruction g2 = isa::encode_gemm({isa::Dataflow::kWs, false, false, 8, 16, 0, 8, 8});
  const isa::Instruction st2 =
      isa::encode_store({isa::Sram::kAcc, false, 8, 8, 4, kBase + 512, 16});
  const std::vector<isa::Instruction> bare = prog({ld, g, st, ld2, g2, st2});
  std::vector<isa::Instruction> a = bare, b = bare;
  host::assign_dependencies(p, a);
  host::assign_dependencies(p, b);  // from the memo
  EXPECT_EQ(a, b);
  EXPECT_NE(a, bare);
  // The bare program races; with tokens it does not; asked again, the same.
  for (int round = 0; round < 2; ++round) {
    EXPECT_TRUE(has(host::check_program(p, bare), {"race"}));
    EXPECT_TRUE(host::check_program(p, a).ok());
  }
  // One error at most when asked for one (max_errors is part of the key).
  host::CheckOptions one;
  one.max_errors = 1;
  EXPECT_GT(host::check_program(p, bare).errors.size(), 1u);
  EXPECT_EQ(host::check_program(p, bare, one).errors.size(), 1u);
  // A single field changed: the STOREs of both blocks now write the same
  // place, which needs tokens the independent blocks did not.
  std::vector<isa::Instruction> c = bare;
  c[5].set(isa::dma::kDramAddr, c[2].get(isa::dma::kDramAddr));
  const std::vector<isa::Instruction> c_bare = c;
  host::assign_dependencies(p, c);
  EXPECT_NE(c, a);
  EXPECT_TRUE(host::check_program(p, c).ok()) << host::check_program(p, c).summary();
  // a's tokens on c's program: the same words but one field, a race.
  std::vector<isa::Instruction> mixed = a;
  mixed[5].set(isa::dma::kDramAddr, c[5].get(isa::dma::kDramAddr));
  EXPECT_TRUE(has(host::check_program(p, mixed), {"race"}))
      << host::check_program(p, mixed).summary();
  // Another device (a smaller scratchpad): the rows are beyond it.
  const spec::DeviceSpec small = params(Datapath::kInt8, 4, 4, 4);
  EXPECT_TRUE(host::check_program(p, a).ok());
  EXPECT_TRUE(has(host::check_program(small, a), {"beyond the SRAM"}));
  EXPECT_THROW(host::assign_dependencies(small, c = c_bare), std::invalid_argument);
}

}  // namespace
