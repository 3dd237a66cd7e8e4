// gemm_program on the FunctionalDevice: every result bit-exact against
// model::gemm with the program's fold, for both datapaths, all dataflows,
// several arrays and shapes (including operands far larger than the
// scratchpad), starting from scratchpad/accumulator contents full of garbage
// (inf/NaN), plus the dependency-token protocol and the argument checks.
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <random>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include "sasim/fw/functional_device.hpp"
#include "sasim/fw/gemm_kernel.hpp"
#include "sasim/isa/encode.hpp"
#include "sasim/model/gemm.hpp"

namespace {

namespace isa = sasim::isa;
namespace fw = sasim::fw;
namespace model = sasim::model;
using model::Dataflow;
using model::Datapath;

constexpr std::uint64_t kBase = 0x8000'0000;

fw::DeviceParams params(Datapath dp, unsigned rows, unsigned cols, unsigned spad = 4096,
                        unsigned acc = 1024) {
  fw::DeviceParams p;
  p.datapath = dp;
  p.rows = rows;
  p.cols = cols;
  p.spad_rows = spad;
  p.acc_rows = acc;
  p.dram_bytes = std::uint64_t{4} << 20;
  return p;
}

std::vector<std::uint8_t> to_bytes(Datapath dp, const model::RawMatrix& m) {
  std::vector<std::uint8_t> v;
  for (Eigen::Index r = 0; r < m.rows(); ++r) {
    for (Eigen::Index c = 0; c < m.cols(); ++c) {
      v.push_back(static_cast<std::uint8_t>(m(r, c)));
      if (dp == Datapath::kBf16) v.push_back(static_cast<std::uint8_t>(m(r, c) >> 8));
    }
  }
  return v;
}

// Simulates the LOAD, EXEC and STORE queues with token counters: every queue
// runs in order, an instruction starts when the tokens it pops are there.
// Returns true if every instruction ran and no token is left over.
bool tokens_balanced(const std::vector<isa::Instruction>& prog) {
  std::array<std::vector<isa::Instruction>, 3> q;  // 0 LOAD, 1 EXEC, 2 STORE
  for (const isa::Instruction& i : prog) {
    const isa::Opcode op = isa::opcode_of(i);
    if (op == isa::Opcode::kFinish) break;
    q[op == isa::Opcode::kLoad ? 0 : op == isa::Opcode::kStore ? 2 : 1].push_back(i);
  }
  // tok[a][b]: tokens sent from queue a to queue b.
  std::array<std::array<int, 3>, 3> tok{};
  std::array<std::size_t, 3> head{};
  for (bool progress = true; progress;) {
    progress = false;
    for (int k = 0; k < 3; ++k) {
      while (head[k] < q[k].size()) {
        const isa::Instruction& i = q[k][head[k]];
        const bool pp = i.get(isa::common::kPopPrev), pn = i.get(isa::common::kPopNext);
        if ((pp && (k == 0 || tok[k - 1][k] == 0)) || (pn && (k == 2 || tok[k + 1][k] == 0))) {
          break;
        }
        if (pp) --tok[k - 1][k];
        if (pn) --tok[k + 1][k];
        if (i.get(isa::common::kPushPrev)) {
          if (k == 0) return false;
          ++tok[k][k - 1];
        }
        if (i.get(isa::common::kPushNext)) {
          if (k == 2) return false;
          ++tok[k][k + 1];
        }
        ++head[k];
        progress = true;
      }
    }
  }
  for (int k = 0; k < 3; ++k) {
    if (head[k] != q[k].size()) return false;
    for (int j = 0; j < 3; ++j) {
      if (tok[k][j] != 0) return false;
    }
  }
  return true;
}

// Runs C = A * B through gemm_program and compares bit for bit.
void check_gemm(const fw::DeviceParams& p, Dataflow df, unsigned M, unsigned K, unsigned N,
                std::uint64_t seed, model::OperandMix mix = model::OperandMix::kUniform) {
  SCOPED_TRACE(std::string(model::to_string(p.datapath)) + " " + std::string(model::to_string(df)) +
               " array " + std::to_string(p.rows) + "x" + std::to_string(p.cols) + " spad " +
               std::to_string(p.spad_rows) + " acc " + std::to_string(p.acc_rows) + " M,K,N " +
               std::to_string(M) + "," + std::to_string(K) + "," + std::to_string(N) + " seed " +
               std::to_string(seed) + " mix " + std::string(model::to_string(mix)));
  std::mt19937_64 rng(seed);
  const model::RawMatrix a = model::random_operands(p.datapath, M, K, rng, mix);
  const model::RawMatrix b = model::random_operands(p.datapath, K, N, rng, mix);
  const std::uint64_t eb = p.elem_bytes();
  const std::uint64_t a_addr = kBase + 0x40;
  const std::uint64_t b_addr = (a_addr + M * K * eb + 63) / 64 * 64 + 8;
  const std::uint64_t c_addr = (b_addr + K * N * eb + 63) / 64 * 64 + 4;

  fw::FunctionalDevice d(p);
  // Garbage everywhere: the program must not depend on the initial state.
  const std::uint16_t g16 = p.datapath == Datapath::kBf16 ? 0x7F80 : 0x7F;  // +inf / 127
  for (unsigned r = 0; r < p.spad_rows; ++r) {
    for (unsigned c = 0; c < p.width(); ++c) d.set_spad(r, c, (r + c) % 3 ? g16 : 0xFFC1);
  }
  for (unsigned r = 0; r < p.acc_rows; ++r) {
    for (unsigned c = 0; c < p.cols; ++c) d.set_acc(r, c, 0x7FC00001u + r);
  }
  d.write_dram(a_addr, to_bytes(p.datapath, a));
  d.write_dram(b_addr, to_bytes(p.datapath, b));
  d.write_dram(c_addr, std::vector<std::uint8_t>(std::size_t{M} * N * 4, 0xA5));

  const std::vector<isa::Instruction> prog =
      fw::gemm_program(p, df, M, K, N, a_addr, b_addr, c_addr);
  EXPECT_TRUE(tokens_balanced(prog));
  EXPECT_EQ(d.run(prog), prog.size());

  const auto fold = static_cast<Eigen::Index>(fw::gemm_program_fold(p, df, K));
  if (2 * K <= p.spad_rows) EXPECT_EQ(fold, model::fold_size(df, p.rows, K));
  const model::AccMatrix want = model::gemm(p.datapath, a, b, fold);
  const std::vector<std::uint8_t> got = d.read_dram(c_addr, std::uint64_t{M} * N * 4);
  int bad = 0;
  for (unsigned m = 0; m < M; ++m) {
    for (unsigned n = 0; n < N; ++n) {
      const std::uint8_t* w = &got[(std::size_t{m} * N + n) * 4];
      const std::uint32_t v = w[0] | w[1] << 8 | w[2] << 16 | std::uint32_t{w[3]} << 24;
      if (v != want(m, n) && ++bad <= 5) {
        ADD_FAILURE() << "C[" << m << "][" << n << "] = " << std::hex << v << ", want "
                      << want(m, n);
      }
    }
  }
  EXPECT_EQ(bad, 0);
}

constexpr std::array<Datapath, 2> kDatapaths{Datapath::kInt8, Datapath::kBf16};
constexpr std::array<Dataflow, 3> kDataflows{Dataflow::kWs, Dataflow::kOs, Dataflow::kIs};

TEST(GemmKernel, AllDataflowsArraysAndShapesAreBitExact) {
  const std::array<std::pair<unsigned, unsigned>, 3> arrays{{{4, 4}, {16, 16}, {4, 8}}};
  const std::array<std::array<unsigned, 3>, 5> shapes{
      {{1, 1, 1}, {7, 5, 3}, {31, 37, 41}, {16, 16, 16}, {3, 20, 9}}};
  std::uint64_t seed = 1000;
  for (Datapath dp : kDatapaths) {
    for (Dataflow df : kDataflows) {
      for (auto [r, c] : arrays) {
        for (const auto& s : shapes) check_gemm(params(dp, r, c), df, s[0], s[1], s[2], ++seed);
      }
    }
  }
}

TEST(GemmKernel, EightByFourArrayAndEdgeOperands) {
  std::uint64_t seed = 2000;
  for (Datapath dp : kDatapaths) {
    for (Dataflow df : kDataflows) {
      check_gemm(params(dp, 8, 4), df, 13, 29, 11, ++seed, model::OperandMix::kEdgeCases);
      check_gemm(params(dp, 4, 8), df, 13, 29, 11, ++seed, model::OperandMix::kSpecials);
    }
  }
}

TEST(GemmKernel, OperandsFarLargerThanTheScratchpad) {
  std::uint64_t seed = 3000;
  for (Datapath dp : kDatapaths) {
    for (Dataflow df : kDataflows) {
      check_gemm(params(dp, 4, 4, 64, 64), df, 200, 300, 150, ++seed);
      check_gemm(params(dp, 8, 4, 64, 64), df, 67, 101, 53, ++seed);  // K % R != 0
    }
  }
}

TEST(GemmKernel, OsSplitsKOnlyWhenTheScratchpadIsTooSmall) {
  const fw::DeviceParams big = params(Datapath::kBf16, 4, 4, 4096);
  EXPECT_EQ(fw::gemm_program_fold(big, Dataflow::kOs, 300), 300u);
  EXPECT_EQ(fw::gemm_program_fold(big, Dataflow::kWs, 300), 4u);
  EXPECT_EQ(fw::gemm_program_fold(big, Dataflow::kIs, 300), 4u);
  EXPECT_EQ(fw::gemm_program_fold(params(Datapath::kBf16, 4, 4, 64), Dataflow::kOs, 300), 32u);
  EXPECT_EQ(fw::gemm_program_fold(params(Datapath::kBf16, 4, 4, 64), Dataflow::kOs, 32), 32u);
}

TEST(GemmKernel, ProgramShape) {
  const fw::DeviceParams p = params(Datapath::kInt8, 4, 4);
  const auto prog = fw::gemm_program(p, Dataflow::kWs, 4, 4, 4, kBase, kBase + 64, kBase + 128);
  // One step: LOAD B, LOAD A, GEMM, STORE, FINISH; no zero padding needed.
  ASSERT_EQ(prog.size(), 5u);
  EXPECT_EQ(isa::opcode_of(prog[0]), isa::Opcode::kLoad);
  EXPECT_EQ(isa::opcode_of(prog[1]), isa::Opcode::kLoad);
  EXPECT_EQ(prog[1].get(isa::common::kPushNext), 1u);
  EXPECT_EQ(isa::opcode_of(prog[2]), isa::Opcode::kGemm);
  EXPECT_EQ(prog[2].get(isa::common::kPopPrev), 1u);
  EXPECT_EQ(prog[2].get(isa::common::kPushNext), 1u);
  EXPECT_EQ(isa::opcode_of(prog[3]), isa::Opcode::kStore);
  EXPECT_EQ(prog[3].get(isa::common::kPopPrev), 1u);
  EXPECT_EQ(isa::opcode_of(prog[4]), isa::Opcode::kFinish);
  EXPECT_TRUE(tokens_balanced(prog));
}

TEST(GemmKernel, RejectsShapesAndAddressesThatCannotWork) {
  const fw::DeviceParams p = params(Datapath::kInt8, 4, 4);
  const std::uint64_t end = kBase + p.dram_bytes;
  auto prog = [&](const fw::DeviceParams& q, Dataflow df, std::uint64_t M, std::uint64_t K,
                  std::uint64_t N, std::uint64_t a, std::uint64_t b, std::uint64_t c) {
    return [=] { (void)fw::gemm_program(q, df, M, K, N, a, b, c); };
  };
  EXPECT_THROW(prog(p, Dataflow::kWs, 0, 1, 1, kBase, kBase + 64, kBase + 128)(),
               std::invalid_argument);
  EXPECT_THROW(prog(p, Dataflow::kWs, 1, 0, 1, kBase, kBase + 64, kBase + 128)(),
               std::invalid_argument);
  EXPECT_THROW(prog(p, Dataflow::kWs, 8, 8, 8, kBase - 1, kBase + 64, kBase + 128)(),
               std::invalid_argument);
  EXPECT_THROW(prog(p, Dataflow::kWs, 8, 8, 8, kBase, kBase + 64, end - 8)(),
               std::invalid_argument);
  EXPECT_THROW(prog(p, Dataflow::kWs, 8, 8, 8, kBase, kBase + 64, kBase + 100)(),
               std::invalid_argument);  // C overlaps B
  EXPECT_THROW(prog(p, Dataflow::kOs, 1, 4096, 1, kBase, kBase + 8192, kBase + 16384)(),
               std::invalid_argument);
  EXPECT_THROW(prog(params(Datapath::kInt8, 4, 4, 4), Dataflow::kWs, 8, 8, 8, kBase, kBase + 64,
                    kBase + 128)(),
               std::invalid_argument);  // spad_rows <= R
  EXPECT_THROW(prog(params(Datapath::kInt8, 4, 4, 64, 3), Dataflow::kOs, 8, 8, 8, kBase, kBase + 64,
                    kBase + 128)(),
               std::invalid_argument);  // acc_rows < R
  EXPECT_NO_THROW(prog(p, Dataflow::kOs, 1, 4095, 1, kBase, kBase + 8192, kBase + 16384)());
  EXPECT_NO_THROW(prog(p, Dataflow::kWs, 8, 8, 8, kBase, kBase, kBase + 128)());  // A = B ok
}

}  // namespace
