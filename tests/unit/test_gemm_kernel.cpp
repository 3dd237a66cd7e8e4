// gemm_program on the FunctionalDevice: every result bit-exact against
// model::gemm with the program's fold, for both datapaths, all dataflows,
// several arrays and shapes (including operands far larger than the
// scratchpad) and pitched operands, starting from scratchpad, accumulator and
// memory full of garbage (inf/NaN); every program passes check_program and
// touches no byte outside its operands; the plan and the instruction and byte
// counts of the 256^3 case; overlap under a simple timing model; argument
// checks.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <initializer_list>
#include <iostream>
#include <random>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "sasim/host/gemm_kernel.hpp"
#include "sasim/host/program_check.hpp"
#include "sasim/isa/encode.hpp"
#include "sasim/model/functional_device.hpp"
#include "sasim/model/gemm.hpp"

namespace {

using namespace sasim;  // spec, isa, model, mem, cosim, host, app
using model::Dataflow;
using model::Datapath;

constexpr std::uint64_t kBase = 0x8000'0000;
constexpr std::uint8_t kGarbage = 0xA5;

spec::DeviceSpec params(Datapath dp, unsigned rows, unsigned cols, unsigned spad = 4096,
                        unsigned acc = 1024) {
  return spec::device_of(spec::core_of(dp, rows, cols, spad, acc), std::uint64_t{4} << 20);
}

// Extra bytes after every row of A, B and C (0: packed).
struct Pads {
  unsigned a = 0, b = 0, c = 0;
};

struct Layout {
  host::MatrixRef a, b, c;
  std::uint64_t zero;
};

std::uint64_t span(const host::MatrixRef& m, std::uint64_t rows, std::uint64_t row_bytes) {
  return (rows - 1) * m.stride + row_bytes;
}

// Zero region first, then A, B and C at odd offsets.
Layout layout(const spec::DeviceSpec& p, unsigned M, unsigned K, unsigned N, Pads pads) {
  const std::uint64_t eb = p.elem_bytes();
  Layout l;
  l.zero = kBase + 0x10;
  l.a = {kBase + 0x100 + 3 * eb, K * eb + pads.a * eb};
  const std::uint64_t a_end = l.a.addr + span(l.a, M, K * eb);
  l.b = {(a_end + 63) / 64 * 64 + 8, N * eb + pads.b * eb};
  const std::uint64_t b_end = l.b.addr + span(l.b, K, N * eb);
  l.c = {(b_end + 63) / 64 * 64 + 4, N * 4 + pads.c * 4};
  return l;
}

// Is [lo, hi) inside one row of m?
bool in_rows(std::uint64_t lo, std::uint64_t hi, const host::MatrixRef& m, std::uint64_t rows,
             std::uint64_t row_bytes) {
  if (lo < m.addr) return false;
  const std::uint64_t r = rows > 1 ? (lo - m.addr) / m.stride : 0;
  const std::uint64_t row = m.addr + r * (rows > 1 ? m.stride : 0);
  return r < rows && hi <= row + row_bytes;
}

// LOADs read only rows of A, B and the zero region; STOREs write only rows of C.
void expect_footprint_inside(const spec::DeviceSpec& p, const std::vector<isa::Instruction>& prog,
                             const Layout& l, unsigned M, unsigned K, unsigned N) {
  const std::uint64_t eb = p.elem_bytes();
  int bad = 0;
  for (std::size_t i = 0; i < prog.size(); ++i) {
    for (const host::Access& x : host::footprint(p, prog[i])) {
      if (x.space != host::Space::kMem) continue;
      for (std::uint64_t r = 0; r < x.count; ++r) {
        const std::uint64_t lo = x.first + r * x.stride, hi = lo + x.row_bytes;
        const bool ok = x.write
                            ? in_rows(lo, hi, l.c, M, N * 4)
                            : in_rows(lo, hi, l.a, M, K * eb) || in_rows(lo, hi, l.b, K, N * eb) ||
                                  (lo >= l.zero && hi <= l.zero + host::gemm_zero_bytes(p));
        if (!ok && ++bad <= 3) {
          ADD_FAILURE() << "instruction " << i << ": " << host::to_string(x) << " row " << r
                        << " is outside its operands";
        }
      }
    }
  }
}

std::uint32_t word(const std::vector<std::uint8_t>& v, std::size_t at) {
  return v[at] | v[at + 1] << 8 | v[at + 2] << 16 | std::uint32_t{v[at + 3]} << 24;
}

// Runs C = A * B through gemm_program and compares bit for bit.
void check_gemm(const spec::DeviceSpec& p, Dataflow df, unsigned M, unsigned K, unsigned N,
                std::uint64_t seed, model::OperandMix mix = model::OperandMix::kUniform,
                Pads pads = {}) {
  SCOPED_TRACE(std::string(model::to_string(p.datapath)) + " " + std::string(model::to_string(df)) +
               " array " + std::to_string(p.rows) + "x" + std::to_string(p.cols) + " spad " +
               std::to_string(p.spad_rows) + " acc " + std::to_string(p.acc_rows) + " M,K,N " +
               std::to_string(M) + "," + std::to_string(K) + "," + std::to_string(N) + " pads " +
               std::to_string(pads.a) + "," + std::to_string(pads.b) + "," +
               std::to_string(pads.c) + " seed " + std::to_string(seed) + " mix " +
               std::string(model::to_string(mix)));
  std::mt19937_64 rng(seed);
  const model::RawMatrix a = model::random_operands(p.datapath, M, K, rng, mix);
  const model::RawMatrix b = model::random_operands(p.datapath, K, N, rng, mix);
  const std::uint64_t eb = p.elem_bytes();
  const Layout l = layout(p, M, K, N, pads);

  model::FunctionalDevice d(p);
  // Garbage everywhere: the program must not depend on the initial state.
  const std::uint16_t g16 = p.datapath == Datapath::kBf16 ? 0x7F80 : 0x7F;  // +inf / 127
  for (unsigned r = 0; r < p.spad_rows; ++r) {
    for (unsigned c = 0; c < p.width(); ++c) d.set_spad(r, c, (r + c) % 3 ? g16 : 0xFFC1);
  }
  for (unsigned r = 0; r < p.acc_rows; ++r) {
    for (unsigned c = 0; c < p.cols; ++c) d.set_acc(r, c, 0x7FC00001u + r);
  }
  const std::uint64_t c_end = l.c.addr + span(l.c, M, N * 4);
  d.write_dram(kBase, std::vector<std::uint8_t>(c_end - kBase + 64, kGarbage));
  d.write_dram(l.zero, std::vector<std::uint8_t>(host::gemm_zero_bytes(p), 0));
  auto put = [&](const model::RawMatrix& m, const host::MatrixRef& ref) {
    for (Eigen::Index r = 0; r < m.rows(); ++r) {
      std::vector<std::uint8_t> row;
      for (Eigen::Index c = 0; c < m.cols(); ++c) {
        row.push_back(static_cast<std::uint8_t>(m(r, c)));
        if (eb == 2) row.push_back(static_cast<std::uint8_t>(m(r, c) >> 8));
      }
      d.write_dram(ref.addr + r * ref.stride, row);
    }
  };
  put(a, l.a);
  put(b, l.b);
  const std::vector<std::uint8_t> before = d.read_dram(kBase, c_end - kBase + 64);

  host::GemmOptions opts;
  opts.zero_addr = l.zero;
  const std::vector<isa::Instruction> prog =
      host::gemm_program(p, df, M, K, N, l.a, l.b, l.c, opts);
  const host::CheckReport rep = host::check_program(p, prog);
  EXPECT_TRUE(rep.ok()) << rep.summary();
  expect_footprint_inside(p, prog, l, M, K, N);
  EXPECT_EQ(spec::instructions(d.run(prog)), prog.size());

  const auto fold = static_cast<Eigen::Index>(host::gemm_program_fold(p, df, K));
  if (2 * K <= p.spad_rows) EXPECT_EQ(fold, model::fold_size(df, p.rows, K));
  const model::AccMatrix want = model::gemm(p.datapath, a, b, fold);
  const std::vector<std::uint8_t> after = d.read_dram(kBase, c_end - kBase + 64);
  int bad = 0;
  for (unsigned m = 0; m < M; ++m) {
    for (unsigned n = 0; n < N; ++n) {
      const std::uint32_t v = word(after, l.c.addr - kBase + m * l.c.stride + n * 4);
      if (v != want(m, n) && ++bad <= 5) {
        ADD_FAILURE() << "C[" << m << "][" << n << "] = " << std::hex << v << ", want "
                      << want(m, n);
      }
    }
  }
  EXPECT_EQ(bad, 0);
  // Every byte that is not an element of C is unchanged (A, B, gaps, zeros).
  int changed = 0;
  for (std::uint64_t i = 0; i < after.size(); ++i) {
    const std::uint64_t addr = kBase + i;
    const bool in_c =
        addr >= l.c.addr && addr < c_end && (addr - l.c.addr) % l.c.stride < std::uint64_t{N} * 4;
    if (!in_c && after[i] != before[i] && ++changed <= 3) {
      ADD_FAILURE() << "byte 0x" << std::hex << addr << " outside C changed";
    }
  }
  EXPECT_EQ(changed, 0);
}

constexpr std::array<Datapath, 2> kDatapaths{Datapath::kInt8, Datapath::kBf16};
constexpr std::array<Dataflow, 3> kDataflows{Dataflow::kWs, Dataflow::kOs, Dataflow::kIs};

TEST(GemmKernel, AllDataflowsArraysAndShapesAreBitExact) {
  const std::array<std::pair<unsigned, unsigned>, 3> arrays{{{4, 4}, {16, 16}, {4, 8}}};
  const std::array<std::array<unsigned, 3>, 6> shapes{
      {{1, 1, 1}, {7, 5, 3}, {31, 37, 41}, {16, 16, 16}, {3, 20, 9}, {2, 3, 5}}};
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

TEST(GemmKernel, PitchedOperandsKeepTheGapsIntact) {
  std::uint64_t seed = 2500;
  for (Datapath dp : kDatapaths) {
    for (Dataflow df : kDataflows) {
      check_gemm(params(dp, 4, 4), df, 9, 11, 7, ++seed, model::OperandMix::kSpecials, {3, 5, 2});
      check_gemm(params(dp, 8, 4, 64, 16), df, 37, 19, 23, ++seed, model::OperandMix::kUniform,
                 {1, 64, 7});
    }
  }
}

TEST(GemmKernel, OperandsFarLargerThanTheScratchpad) {
  std::uint64_t seed = 3000;
  for (Datapath dp : kDatapaths) {
    for (Dataflow df : kDataflows) {
      check_gemm(params(dp, 4, 4, 64, 64), df, 200, 300, 150, ++seed);
      check_gemm(params(dp, 8, 4, 64, 64), df, 67, 101, 53, ++seed);  // K % R != 0
      check_gemm(params(dp, 4, 4, 8, 4), df, 9, 13, 6, ++seed);       // tiny SRAMs
    }
  }
}

// Per-class counts and bytes of a program.
struct Counts {
  std::array<std::size_t, 16> op{};
  std::uint64_t load_bytes = 0, store_bytes = 0;
  std::vector<std::uint64_t> gemm_len;
};
Counts count(const spec::DeviceSpec& p, const std::vector<isa::Instruction>& prog) {
  Counts c;
  for (const isa::Instruction& i : prog) {
    const isa::Opcode op = isa::opcode_of(i);
    ++c.op[static_cast<std::size_t>(op)];
    if (op == isa::Opcode::kGemm) c.gemm_len.push_back(i.get(isa::gemm::kLen));
    for (const host::Access& a : host::footprint(p, i)) {
      if (a.space == host::Space::kMem)
        (a.write ? c.store_bytes : c.load_bytes) += a.count * a.row_bytes;
    }
  }
  return c;
}

TEST(GemmKernel, PlansBufferAsDocumented) {
  // The 256^3 example of the header: resident A panel, 4 B slots, 2 accumulators.
  const host::GemmPlan big =
      host::gemm_plan(params(Datapath::kInt8, 16, 16, 8192, 1024), Dataflow::kWs, 256, 256, 256);
  EXPECT_TRUE(big.resident);
  EXPECT_EQ(big.panels, 1u);
  EXPECT_EQ(big.p_slots, 4u);
  EXPECT_EQ(big.acc_buffers, 2u);
  EXPECT_EQ(big.chunk, 256u);
  EXPECT_EQ(big.chunks, 1u);
  EXPECT_EQ(big.tiles, 16u);
  EXPECT_EQ(big.k_blocks, 16u);
  EXPECT_EQ(big.gemms(), 256u);
  EXPECT_EQ(big.p_base, 4096u);
  EXPECT_FALSE(big.zero_p_pad);
  // Room for two panels: chunks alternate; chunk = acc_rows / 2, balanced.
  const host::GemmPlan two =
      host::gemm_plan(params(Datapath::kInt8, 4, 4, 4096, 64), Dataflow::kWs, 100, 40, 8);
  EXPECT_TRUE(two.resident);
  EXPECT_EQ(two.panels, 2u);
  EXPECT_EQ(two.chunk, 25u);  // 100 rows in 4 chunks of <= 32
  EXPECT_EQ(two.chunks, 4u);
  // K too large for a panel: X streamed through 2 slots.
  const host::GemmPlan st =
      host::gemm_plan(params(Datapath::kBf16, 4, 4, 64, 64), Dataflow::kIs, 200, 301, 150);
  EXPECT_FALSE(st.resident);
  EXPECT_EQ(st.x_slots, 2u);
  EXPECT_TRUE(st.zero_x_pad);
  EXPECT_TRUE(st.zero_p_pad);
  EXPECT_EQ(st.p_base, 3 * st.chunk);  // 2 ring slots + the zeroed partial slot
  EXPECT_LE(st.p_base + st.p_slots * st.p_rows, 64u);
  // OS: one GEMM reduces K; double-buffered A^T panel and B slots when they fit.
  const host::GemmPlan os =
      host::gemm_plan(params(Datapath::kBf16, 4, 4, 4096, 1024), Dataflow::kOs, 50, 300, 50);
  EXPECT_TRUE(os.resident);
  EXPECT_EQ(os.k_step, 300u);
  EXPECT_EQ(os.panels, 2u);
  EXPECT_EQ(os.p_slots, 2u);
  EXPECT_EQ(os.acc_buffers, 2u);
  // With an epilogue (a fused update), OS rotates up to four blocks: three
  // when only three fit, four when more would.
  host::GemmOptions ep;
  ep.epilogue = [](const host::GemmBlock&, std::vector<isa::Instruction>&) {};
  for (const auto& [acc, want] :
       std::initializer_list<std::pair<unsigned, unsigned>>{{8, 2}, {12, 3}, {16, 4}, {1024, 4}}) {
    ep.acc_rows = acc;
    EXPECT_EQ(
        host::gemm_plan(params(Datapath::kBf16, 4, 4, 4096, 1024), Dataflow::kOs, 50, 300, 50, ep)
            .acc_buffers,
        want)
        << acc << " accumulator rows";
  }
  // OS with several chunks: every B tile resident (read once), 2 A^T panels.
  const host::GemmPlan osr =
      host::gemm_plan(params(Datapath::kInt8, 16, 16, 8192, 1024), Dataflow::kOs, 256, 256, 256);
  EXPECT_TRUE(osr.p_resident);
  EXPECT_EQ(osr.p_slots, 16u);
  EXPECT_EQ(osr.panels, 2u);
  EXPECT_EQ(osr.p_base, 512u);
  EXPECT_THROW(host::gemm_plan(params(Datapath::kInt8, 4, 4, 4, 64), Dataflow::kWs, 8, 8, 8),
               std::invalid_argument);
}

TEST(GemmKernel, SeveralChunksKeepEveryPTileResident) {
  // acc_rows 16: chunks of 8 rows (WS: M, IS: N), so P tiles are reused by 5
  // chunks; with room for all of them, A and B are each read exactly once.
  std::uint64_t seed = 4000;
  for (Datapath dp : kDatapaths) {
    for (Dataflow df : kDataflows) {
      const spec::DeviceSpec p = params(dp, 4, 4, 4096, 16);
      const host::GemmPlan pl = host::gemm_plan(p, df, 37, 20, 38);
      EXPECT_TRUE(pl.p_resident) << model::to_string(df);
      EXPECT_GT(pl.chunks, 1u);
      const auto prog =
          host::gemm_program(p, df, 37, 20, 38, kBase, kBase + 0x10000, kBase + 0x20000);
      EXPECT_EQ(count(p, prog).load_bytes, (37u * 20 + 20u * 38) * p.elem_bytes());
      check_gemm(p, df, 37, 20, 38, ++seed);
      check_gemm(p, df, 37, 19, 38, ++seed, model::OperandMix::kSpecials, {1, 2, 3});
    }
  }
}

// A simple timing model of the three queues (the RTL's figures): DMA moves
// `bus` bytes per cycle per row (one element per cycle transposed) and
// completes `latency` cycles after its last beat; a GEMM occupies the array
// max(len, R + C) cycles and completes R + C cycles after its stream; a pop
// waits for the completion of its matched push. Returns the finishing cycle.
std::uint64_t estimate_cycles(const spec::DeviceSpec& p, const std::vector<isa::Instruction>& prog,
                              std::uint64_t latency = 100, std::uint64_t bus = 16) {
  std::array<std::uint64_t, 3> free_at{}, done_at{};
  std::array<std::vector<std::uint64_t>, 4> push_done;  // per channel
  std::array<std::size_t, 4> popped{};
  const std::array<const isa::Field*, 4> pop_field{&isa::common::kPopPrev, &isa::common::kPopNext,
                                                   &isa::common::kPopPrev, &isa::common::kPopNext};
  const std::array<host::Queue, 4> pop_queue{host::Queue::kExec, host::Queue::kLoad,
                                             host::Queue::kStore, host::Queue::kExec};
  const std::array<const isa::Field*, 4> push_field{
      &isa::common::kPushNext, &isa::common::kPushPrev, &isa::common::kPushNext,
      &isa::common::kPushPrev};
  const std::array<host::Queue, 4> push_queue{host::Queue::kLoad, host::Queue::kExec,
                                              host::Queue::kExec, host::Queue::kStore};
  std::uint64_t end = 0;
  for (const isa::Instruction& i : prog) {  // token edges point forward: program order works
    const host::Queue q = host::queue_of(i);
    if (q == host::Queue::kCtrl) break;
    const auto k = static_cast<std::size_t>(q);
    std::uint64_t start = free_at[k];
    for (std::size_t c = 0; c < 4; ++c) {
      if (pop_queue[c] == q && i.get(*pop_field[c])) {
        EXPECT_LT(popped[c], push_done[c].size()) << "token edge pointing backwards";
        if (popped[c] < push_done[c].size()) start = std::max(start, push_done[c][popped[c]++]);
      }
    }
    std::uint64_t busy = 1, done = 0;
    if (q == host::Queue::kExec && isa::opcode_of(i) == isa::Opcode::kGemm) {
      busy = std::max<std::uint64_t>(i.get(isa::gemm::kLen), p.rows + p.cols);
      done = start + busy + p.rows + p.cols;
    } else if (q == host::Queue::kExec) {
      done = start + 1;
    } else {
      busy = 0;
      for (const host::Access& a : host::footprint(p, i)) {
        if (a.space != host::Space::kMem) continue;
        const bool tr = i.get(isa::dma::kTranspose) != 0;  // same bit in STORE
        const std::uint64_t eb = i.get(isa::dma::kSram) ? 4 : p.elem_bytes();
        busy = tr ? a.count * (a.row_bytes / eb) : a.count * ((a.row_bytes + bus - 1) / bus);
      }
      done = start + busy + latency;
    }
    free_at[k] = start + busy;
    done_at[k] = std::max(done_at[k], done);  // in-order completion
    for (std::size_t c = 0; c < 4; ++c) {
      if (push_queue[c] == q && i.get(*push_field[c])) push_done[c].push_back(done_at[k]);
    }
    end = std::max(end, done_at[k]);
  }
  return end;
}

TEST(GemmKernel, The256CubeMovesEveryOperandOnceAndOverlaps) {
  const spec::DeviceSpec p = params(Datapath::kInt8, 16, 16, 8192, 1024);
  const std::vector<isa::Instruction> prog =
      host::gemm_program(p, Dataflow::kWs, 256, 256, 256, kBase, kBase + 0x10000, kBase + 0x20000);
  const Counts c = count(p, prog);
  EXPECT_EQ(prog.size(), 545u);
  EXPECT_EQ(c.op[static_cast<std::size_t>(isa::Opcode::kLoad)], 16u + 256u);
  EXPECT_EQ(c.op[static_cast<std::size_t>(isa::Opcode::kGemm)], 256u);
  EXPECT_EQ(c.op[static_cast<std::size_t>(isa::Opcode::kStore)], 16u);
  EXPECT_EQ(c.op[static_cast<std::size_t>(isa::Opcode::kVec)], 0u);
  EXPECT_EQ(c.load_bytes, 2u * 256 * 256);   // A once, B once
  EXPECT_EQ(c.store_bytes, 4u * 256 * 256);  // C once
  EXPECT_TRUE(
      std::all_of(c.gemm_len.begin(), c.gemm_len.end(), [](std::uint64_t l) { return l == 256; }));
  const host::CheckReport rep = host::check_program(p, prog);
  EXPECT_TRUE(rep.ok()) << rep.summary();
  EXPECT_EQ(rep.queue_length, (std::array<std::size_t, 3>{272, 256, 16}));
  std::cout << "[   INFO   ] token counters needed: LOAD->EXEC " << rep.max_tokens[0]
            << ", EXEC->LOAD " << rep.max_tokens[1] << ", EXEC->STORE " << rep.max_tokens[2]
            << ", STORE->EXEC " << rep.max_tokens[3] << "\n";
  for (std::size_t m : rep.max_tokens) EXPECT_LE(m, 8u);  // slots bound every channel
  // Compute bound: 256 GEMMs x 256 cycles, plus the first loads and the last
  // store; a single-buffered program would pay every load and store serially.
  const std::uint64_t cycles = estimate_cycles(p, prog);
  std::cout << "[   INFO   ] 256^3 int8 WS 16x16: " << cycles << " cycles in the timing model ("
            << 256 * 256 << " GEMM cycles)\n";
  EXPECT_GE(cycles, 256u * 256);
  EXPECT_LT(cycles, 256u * 256 * 105 / 100) << cycles;
  check_gemm(p, Dataflow::kWs, 256, 256, 256, 42);
}

TEST(GemmKernel, GemmsRunBackToBackAcrossTilesAndChunks) {
  // WS with chunks of >= R + C rows: the EXEC queue never waits once the first
  // tile's panel is in, also across chunk boundaries with two panels (spad
  // 2048) and with one panel reloaded block by block (spad 1024).
  for (unsigned spad : {2048u, 1024u}) {
    const spec::DeviceSpec p = params(Datapath::kBf16, 8, 8, spad, 256);
    const host::GemmPlan pl = host::gemm_plan(p, Dataflow::kWs, 300, 64, 128);
    EXPECT_EQ(pl.panels, spad == 2048 ? 2u : 1u);
    EXPECT_EQ(pl.chunks, 3u);
    const std::vector<isa::Instruction> prog =
        host::gemm_program(p, Dataflow::kWs, 300, 64, 128, kBase, kBase + 0x10000, kBase + 0x20000);
    EXPECT_TRUE(host::check_program(p, prog).ok());
    std::uint64_t exec = 0;
    for (const isa::Instruction& i : prog) {
      if (isa::opcode_of(i) == isa::Opcode::kGemm) {
        exec += std::max<std::uint64_t>(i.get(isa::gemm::kLen), 16);
      }
    }
    EXPECT_EQ(exec, 3u * 16 * 8 * 100);
    const std::uint64_t cycles = estimate_cycles(p, prog);
    std::cout << "[   INFO   ] spad " << spad << ": " << cycles << " cycles, GEMMs " << exec
              << "\n";
    EXPECT_LT(cycles, exec + 1500) << "spad " << spad << ": " << cycles << " vs " << exec;
  }
}

TEST(GemmKernel, OsSplitsKOnlyWhenTheScratchpadIsTooSmall) {
  const spec::DeviceSpec big = params(Datapath::kBf16, 4, 4, 4096);
  EXPECT_EQ(host::gemm_program_fold(big, Dataflow::kOs, 300), 300u);
  EXPECT_EQ(host::gemm_program_fold(big, Dataflow::kWs, 300), 4u);
  EXPECT_EQ(host::gemm_program_fold(big, Dataflow::kIs, 300), 4u);
  EXPECT_EQ(host::gemm_program_fold(params(Datapath::kBf16, 4, 4, 64), Dataflow::kOs, 300), 32u);
  EXPECT_EQ(host::gemm_program_fold(params(Datapath::kBf16, 4, 4, 64), Dataflow::kOs, 32), 32u);
  // The 12-bit len field: at most 4095 per GEMM.
  EXPECT_EQ(host::gemm_program_fold(params(Datapath::kBf16, 4, 4, 16384), Dataflow::kOs, 5000),
            4095u);
}

TEST(GemmKernel, ProgramShape) {
  const spec::DeviceSpec p = params(Datapath::kInt8, 4, 4);
  const auto prog = host::gemm_program(p, Dataflow::kWs, 4, 4, 4, kBase, kBase + 64, kBase + 128);
  // One step: LOAD A, LOAD B, GEMM, STORE, FINISH; no zero padding needed.
  ASSERT_EQ(prog.size(), 5u);
  EXPECT_EQ(isa::opcode_of(prog[0]), isa::Opcode::kLoad);
  EXPECT_EQ(prog[0].get(isa::common::kPushNext), 0u);
  EXPECT_EQ(isa::opcode_of(prog[1]), isa::Opcode::kLoad);
  EXPECT_EQ(prog[1].get(isa::common::kPushNext), 1u);
  EXPECT_EQ(isa::opcode_of(prog[2]), isa::Opcode::kGemm);
  EXPECT_EQ(prog[2].get(isa::common::kPopPrev), 1u);
  EXPECT_EQ(prog[2].get(isa::common::kPushNext), 1u);
  EXPECT_EQ(prog[2].get(isa::common::kPushPrev), 0u);
  EXPECT_EQ(isa::opcode_of(prog[3]), isa::Opcode::kStore);
  EXPECT_EQ(prog[3].get(isa::common::kPopPrev), 1u);
  EXPECT_EQ(prog[3].get(isa::common::kPushPrev), 0u);
  EXPECT_EQ(isa::opcode_of(prog[4]), isa::Opcode::kFinish);
  EXPECT_TRUE(host::check_program(p, prog).ok());
}

TEST(GemmKernel, Bf16PartialKZeroesTheStreamedPadOnceThroughARelay) {
  const spec::DeviceSpec p = params(Datapath::kBf16, 4, 4, 4096, 1024);
  const auto prog =
      host::gemm_program(p, Dataflow::kWs, 8, 6, 8, kBase + 64, kBase + 256, kBase + 512, {kBase});
  // LOAD zeros (rows of the partial block, W columns, stride 0), VEC COPY relay.
  ASSERT_GE(prog.size(), 3u);
  EXPECT_EQ(isa::opcode_of(prog[0]), isa::Opcode::kLoad);
  EXPECT_EQ(prog[0].get(isa::dma::kDramAddr), kBase);
  EXPECT_EQ(prog[0].get(isa::dma::kDramStride), 0u);
  EXPECT_EQ(prog[0].get(isa::dma::kCols), 4u);
  EXPECT_EQ(prog[0].get(isa::common::kPushNext), 1u);
  EXPECT_EQ(isa::opcode_of(prog[2]), isa::Opcode::kVec);
  EXPECT_EQ(prog[2].get(isa::common::kPopPrev), 1u);
  EXPECT_EQ(prog[2].get(isa::common::kPushPrev), 1u);
  EXPECT_TRUE(host::check_program(p, prog).ok()) << host::check_program(p, prog).summary();
  // int8 needs no streamed zeros: garbage times the zero stationary rows is 0.
  const auto i8 = host::gemm_program(params(Datapath::kInt8, 4, 4), Dataflow::kWs, 8, 6, 8,
                                     kBase + 64, kBase + 256, kBase + 512, {kBase});
  EXPECT_EQ(
      count(params(Datapath::kInt8, 4, 4), i8).op[static_cast<std::size_t>(isa::Opcode::kVec)], 0u);
}

TEST(GemmKernel, RejectsShapesAndAddressesThatCannotWork) {
  const spec::DeviceSpec p = params(Datapath::kInt8, 4, 4);
  const std::uint64_t end = kBase + p.dram_bytes;
  auto prog = [&](const spec::DeviceSpec& q, Dataflow df, std::uint64_t M, std::uint64_t K,
                  std::uint64_t N, std::uint64_t a, std::uint64_t b, std::uint64_t c) {
    return [=] { (void)host::gemm_program(q, df, M, K, N, a, b, c, {end - 64}); };
  };
  auto msg = [](auto f) -> std::string {
    try {
      f();
    } catch (const std::invalid_argument& e) {
      return e.what();
    }
    return "no exception";
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
  EXPECT_THROW(prog(params(Datapath::kInt8, 4, 4, 4), Dataflow::kWs, 8, 8, 8, kBase, kBase + 64,
                    kBase + 128)(),
               std::invalid_argument);  // spad_rows <= R
  EXPECT_THROW(prog(params(Datapath::kInt8, 4, 4, 64, 3), Dataflow::kOs, 8, 8, 8, kBase, kBase + 64,
                    kBase + 128)(),
               std::invalid_argument);  // acc_rows < R
  EXPECT_NO_THROW(prog(p, Dataflow::kOs, 1, 4095, 1, kBase, kBase + 8192, kBase + 16384)());
  EXPECT_NO_THROW(prog(p, Dataflow::kOs, 1, 4096, 1, kBase, kBase + 8192, kBase + 16384)());
  EXPECT_NO_THROW(prog(p, Dataflow::kWs, 8, 8, 8, kBase, kBase, kBase + 128)());  // A = B ok

  // Strides: below the row, beyond the 24-bit field; one-row matrices ignore them.
  const host::MatrixRef a{kBase, 8}, b{kBase + 0x1000, 8}, c{kBase + 0x2000, 32};
  EXPECT_NE(msg([&] {
              (void)host::gemm_program(p, Dataflow::kWs, 8, 8, 8, {kBase, 7}, b, c);
            }).find("A row stride of 7 bytes is below its row of 8 bytes"),
            std::string::npos);
  EXPECT_NE(msg([&] {
              (void)host::gemm_program(p, Dataflow::kWs, 2, 8, 8, {kBase, 1 << 24}, b, c);
            }).find("24-bit"),
            std::string::npos);
  EXPECT_NO_THROW((void)host::gemm_program(p, Dataflow::kWs, 1, 8, 8, {kBase, 0}, b, c));
  // C interleaved with A in one pitched buffer: no overlap, row by row.
  EXPECT_NO_THROW(
      (void)host::gemm_program(p, Dataflow::kWs, 8, 8, 8, {kBase, 64}, b, {kBase + 16, 64}));
  EXPECT_NE(msg([&] {
              (void)host::gemm_program(p, Dataflow::kWs, 8, 8, 8, {kBase, 64}, b, {kBase + 4, 64});
            }).find("C overlaps A or B"),
            std::string::npos);
  // Zero region: required for K % R != 0 (WS/IS), not for OS; not inside C.
  EXPECT_NE(msg([&] {
              (void)host::gemm_program(p, Dataflow::kWs, 8, 7, 8, a, b, c);
            }).find("needs GemmOptions::zero_addr (4 bytes of zero)"),
            std::string::npos);
  EXPECT_NO_THROW((void)host::gemm_program(p, Dataflow::kOs, 8, 7, 8, a, b, c));
  EXPECT_NO_THROW((void)host::gemm_program(p, Dataflow::kWs, 8, 8, 8, a, b, c));
  EXPECT_NE(msg([&] {
              (void)host::gemm_program(p, Dataflow::kIs, 8, 7, 8, a, b, c, {c.addr + 32});
            }).find("C overlaps the zero region"),
            std::string::npos);
  EXPECT_NE(msg([&] {
              (void)host::gemm_program(p, Dataflow::kIs, 8, 7, 8, a, b, c, {end - 2});
            }).find("zero region"),
            std::string::npos);
}

}  // namespace
