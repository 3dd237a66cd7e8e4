// FunctionalDevice: hand-made programs for every instruction, checked against
// hand-computed results, and the errors (instruction index and field).
#include <gtest/gtest.h>

#include <functional>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <vector>

#include "sasim/isa/encode.hpp"
#include "sasim/model/functional_device.hpp"

namespace {

using namespace sasim;  // spec, isa, model, mem, cosim, host, app
using sasim::model::Datapath;

constexpr std::uint64_t kBase = 0x8000'0000;

spec::DeviceSpec params(Datapath dp, unsigned rows, unsigned cols) {
  return spec::device_of(spec::core_of(dp, rows, cols, 64, 16), 1 << 16);
}

std::vector<isa::Instruction> prog(std::initializer_list<isa::Instruction> l) {
  std::vector<isa::Instruction> v(l);
  v.push_back(isa::encode_finish());
  return v;
}

void expect_error(const std::function<void()>& f, std::initializer_list<std::string> parts) {
  try {
    f();
    ADD_FAILURE() << "no exception";
  } catch (const std::invalid_argument& e) {
    const std::string msg = e.what();
    for (const std::string& s : parts) {
      EXPECT_NE(msg.find(s), std::string::npos) << "'" << s << "' not in: " << msg;
    }
  }
}

std::vector<std::uint8_t> iota_bytes(std::size_t n, std::uint8_t first = 1) {
  std::vector<std::uint8_t> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::uint8_t>(first + i);
  return v;
}

TEST(FunctionalDevice, LoadSpadWithStrideAndStoreBack) {
  model::FunctionalDevice d(params(Datapath::kInt8, 4, 4));
  d.write_dram(kBase, iota_bytes(64));
  // 3 rows of 2 elements, 8 bytes apart, into spad rows 5..7.
  const isa::DmaArgs ld{isa::Sram::kSpad, false, 5, 3, 2, kBase + 1, 8};
  const isa::DmaArgs st{isa::Sram::kSpad, false, 5, 3, 2, kBase + 0x100, 3};
  EXPECT_EQ(spec::instructions(d.run(prog({isa::encode_load(ld), isa::encode_store(st)}))), 3u);
  for (unsigned r = 0; r < 3; ++r) {
    for (unsigned c = 0; c < 2; ++c) EXPECT_EQ(d.spad(5 + r, c), 2 + 8 * r + c) << r << "," << c;
    EXPECT_EQ(d.spad(5 + r, 2), 0u);
  }
  EXPECT_EQ(d.spad(4, 0), 0u);
  EXPECT_EQ(d.read_dram(kBase + 0x100, 9),
            (std::vector<std::uint8_t>{2, 3, 0, 10, 11, 0, 18, 19, 0}));
}

TEST(FunctionalDevice, LoadAndStoreTransposed) {
  model::FunctionalDevice d(params(Datapath::kInt8, 4, 2));  // W = 4
  d.write_dram(kBase, iota_bytes(32));
  // DRAM 2 rows x 3 cols (stride 4) -> spad[10 + c][r].
  const isa::DmaArgs ld{isa::Sram::kSpad, true, 10, 2, 3, kBase, 4};
  const isa::DmaArgs st{isa::Sram::kSpad, true, 10, 2, 3, kBase + 0x80, 3};
  d.run(prog({isa::encode_load(ld), isa::encode_store(st)}));
  for (unsigned r = 0; r < 2; ++r) {
    for (unsigned c = 0; c < 3; ++c) EXPECT_EQ(d.spad(10 + c, r), 1 + 4 * r + c);
  }
  EXPECT_EQ(d.read_dram(kBase + 0x80, 6), (std::vector<std::uint8_t>{1, 2, 3, 5, 6, 7}));
}

TEST(FunctionalDevice, Bf16ElementsAreTwoBytesLittleEndian) {
  model::FunctionalDevice d(params(Datapath::kBf16, 2, 2));
  d.write_dram(kBase, {0x80, 0x3F, 0x00, 0xC0});  // 1.0, -2.0
  d.run(prog({isa::encode_load({isa::Sram::kSpad, false, 0, 1, 2, kBase, 0}),
              isa::encode_store({isa::Sram::kSpad, true, 0, 1, 1, kBase + 8, 2})}));
  EXPECT_EQ(d.spad(0, 0), 0x3F80u);
  EXPECT_EQ(d.spad(0, 1), 0xC000u);
  EXPECT_EQ(d.read_dram(kBase + 8, 2), (std::vector<std::uint8_t>{0x80, 0x3F}));
}

TEST(FunctionalDevice, AccumulatorLoadStoreWordsAndTranspose) {
  model::FunctionalDevice d(params(Datapath::kInt8, 2, 2));
  d.write_dram(kBase, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16});
  d.run(prog({isa::encode_load({isa::Sram::kAcc, false, 3, 2, 2, kBase, 8}),
              isa::encode_store({isa::Sram::kAcc, true, 3, 2, 2, kBase + 0x40, 8})}));
  EXPECT_EQ(d.acc(3, 0), 0x04030201u);
  EXPECT_EQ(d.acc(3, 1), 0x08070605u);
  EXPECT_EQ(d.acc(4, 0), 0x0C0B0A09u);
  EXPECT_EQ(d.acc(4, 1), 0x100F0E0Du);
  // Transposed store: DRAM (r, c) = acc[3 + c][r].
  EXPECT_EQ(d.read_dram(kBase + 0x40, 16),
            (std::vector<std::uint8_t>{1, 2, 3, 4, 9, 10, 11, 12, 5, 6, 7, 8, 13, 14, 15, 16}));
}

// C = A * B with A = [[1, 2], [3, -4]], B = [[5, 6], [7, 8]]:
// C = [[19, 22], [-13, -14]].
void put_rows(model::FunctionalDevice& d, unsigned row, std::vector<std::vector<int>> m) {
  for (unsigned r = 0; r < m.size(); ++r) {
    for (unsigned c = 0; c < m[r].size(); ++c) {
      d.set_spad(row + r, c, static_cast<std::uint16_t>(m[r][c] & 0xFF));
    }
  }
}
void expect_acc(const model::FunctionalDevice& d, unsigned row, std::vector<std::vector<int>> m) {
  for (unsigned r = 0; r < m.size(); ++r) {
    for (unsigned c = 0; c < m[r].size(); ++c) {
      EXPECT_EQ(static_cast<std::int32_t>(d.acc(row + r, c)), m[r][c]) << r << "," << c;
    }
  }
}

TEST(FunctionalDevice, GemmWeightStationary) {
  model::FunctionalDevice d(params(Datapath::kInt8, 2, 2));
  put_rows(d, 0, {{5, 6}, {7, 8}});   // stationary B
  put_rows(d, 2, {{1, 2}, {3, -4}});  // rows of A
  isa::GemmArgs g{isa::Dataflow::kWs, false, false, 0, 2, 0, 2, 4};
  d.run(prog({isa::encode_gemm(g)}));
  expect_acc(d, 4, {{19, 22}, {-13, -14}});
  // reuse keeps the stationary B although its rows changed; accumulate adds.
  put_rows(d, 0, {{0, 0}, {0, 0}});
  g.reuse = true;
  g.accumulate = true;
  d.run(prog({isa::encode_gemm(g)}));
  expect_acc(d, 4, {{38, 44}, {-26, -28}});
  // without reuse the zero rows are loaded: accumulating adds 0.
  g.reuse = false;
  d.run(prog({isa::encode_gemm(g)}));
  expect_acc(d, 4, {{38, 44}, {-26, -28}});
  g.accumulate = false;  // write: 0
  d.run(prog({isa::encode_gemm(g)}));
  expect_acc(d, 4, {{0, 0}, {0, 0}});
}

TEST(FunctionalDevice, GemmInputStationaryGivesColumnsOfC) {
  model::FunctionalDevice d(params(Datapath::kInt8, 2, 2));
  put_rows(d, 0, {{1, 3}, {2, -4}});  // A^T
  put_rows(d, 2, {{5, 7}, {6, 8}});   // columns of B
  d.run(prog({isa::encode_gemm({isa::Dataflow::kIs, false, false, 0, 2, 0, 2, 0})}));
  expect_acc(d, 0, {{19, -13}, {22, -14}});  // C^T
}

TEST(FunctionalDevice, GemmOutputStationary) {
  model::FunctionalDevice d(params(Datapath::kInt8, 2, 2));
  put_rows(d, 0, {{1, 3}, {2, -4}});  // columns of A, k = 0, 1
  put_rows(d, 8, {{5, 6}, {7, 8}});   // rows of B
  isa::GemmArgs g{isa::Dataflow::kOs, false, false, 0, 0, 8, 2, 1};
  d.run(prog({isa::encode_gemm(g)}));
  expect_acc(d, 1, {{19, 22}, {-13, -14}});
  g.accumulate = true;
  g.len = 1;  // only k = 0: A[:,0] x B[0,:] = [[5, 6], [15, 18]]
  d.run(prog({isa::encode_gemm(g)}));
  expect_acc(d, 1, {{24, 28}, {2, 4}});
}

TEST(FunctionalDevice, GemmOnARectangularArrayUsesAllRows) {
  model::FunctionalDevice d(params(Datapath::kInt8, 4, 2));  // R = 4, C = 2, W = 4
  put_rows(d, 0, {{1, 2}, {3, 4}, {5, 6}, {7, 8}});
  put_rows(d, 4, {{1, 1, 1, 1}, {1, 0, 0, -1}});
  d.run(prog({isa::encode_gemm({isa::Dataflow::kWs, false, false, 0, 4, 0, 2, 0})}));
  expect_acc(d, 0, {{16, 20}, {-6, -6}});
  // OS on R = 4 x C = 2: acc rows 0..3.
  put_rows(d, 10, {{1, 2, 3, 4}});  // A column (k = 0)
  put_rows(d, 11, {{10, -1}});      // B row
  d.run(prog({isa::encode_gemm({isa::Dataflow::kOs, false, false, 0, 10, 11, 1, 2})}));
  expect_acc(d, 2, {{10, -1}, {20, -2}, {30, -3}, {40, -4}});
}

TEST(FunctionalDevice, Bf16GemmIsBinary32) {
  model::FunctionalDevice d(params(Datapath::kBf16, 2, 2));
  // A = [[1, 2]], B = [[3, 0.5], [-1, 4]] -> [[1, 8.5]]
  d.set_spad(0, 0, 0x4040);
  d.set_spad(0, 1, 0x3F00);
  d.set_spad(1, 0, 0xBF80);
  d.set_spad(1, 1, 0x4080);
  d.set_spad(2, 0, 0x3F80);
  d.set_spad(2, 1, 0x4000);
  d.run(prog({isa::encode_gemm({isa::Dataflow::kWs, false, false, 0, 2, 0, 1, 0})}));
  EXPECT_EQ(d.acc(0, 0), 0x3F800000u);
  EXPECT_EQ(d.acc(0, 1), 0x41080000u);
  // Order: 2^24 + 1 + 1 in ascending r (2^24, then +1 rounds to even twice) = 2^24.
  d.set_spad(3, 0, 0x4B80);  // 2^24
  d.set_spad(3, 1, 0x3F80);
  d.set_spad(4, 0, 0x3F80);
  d.set_spad(4, 1, 0x3F80);
  d.set_spad(5, 0, 0x3F80);
  d.set_spad(5, 1, 0x3F80);
  d.run(prog({isa::encode_gemm({isa::Dataflow::kWs, false, false, 4, 5, 0, 1, 1}),
              isa::encode_gemm({isa::Dataflow::kWs, false, true, 4, 3, 0, 1, 1})}));
  // first: [1,1] x [[1,1],[1,1]] = [2, 2]; then += [2^24*1 + 1*1, 2^24 + 1] = 2^24
  // (2^24 + 1 -> 2^24 ties to even), so 2 + 2^24 = 2^24 + 2 exactly.
  EXPECT_EQ(d.acc(1, 0), 0x4B800001u);
  EXPECT_EQ(d.acc(1, 1), 0x4B800001u);
}

TEST(FunctionalDevice, VecOpsOnInt8) {
  model::FunctionalDevice d(params(Datapath::kInt8, 2, 2));
  d.set_acc(0, 0, static_cast<std::uint32_t>(-5));
  d.set_acc(0, 1, 300);
  d.set_acc(1, 0, 10);
  d.set_acc(1, 1, static_cast<std::uint32_t>(-1));
  auto v = [](isa::VecOp op, isa::Sram dst, unsigned src, unsigned src2, unsigned drow,
              unsigned rows, std::uint32_t imm = 0) {
    return isa::encode_vec({op, dst, src, src2, drow, rows, imm});
  };
  d.run(prog({v(isa::VecOp::kAddRow, isa::Sram::kAcc, 0, 1, 2, 1),      // [5, 299]
              v(isa::VecOp::kRelu, isa::Sram::kAcc, 0, 0, 3, 1),        // [0, 300]
              v(isa::VecOp::kReluMask, isa::Sram::kAcc, 0, 1, 4, 1),    // [-5, 0]
              v(isa::VecOp::kScale, isa::Sram::kAcc, 0, 0, 5, 1, 3),    // [-15, 900]
              v(isa::VecOp::kAxpy, isa::Sram::kAcc, 0, 1, 6, 1, 2),     // [0, 599]
              v(isa::VecOp::kCopy, isa::Sram::kAcc, 0, 0, 7, 2),        // rows 0, 1
              isa::encode_config(2),                                    // shift 2
              v(isa::VecOp::kToInt8, isa::Sram::kSpad, 0, 0, 9, 1)}));  // [-1, 75]
  expect_acc(d, 2, {{5, 299}, {0, 300}, {-5, 0}, {-15, 900}, {0, 599}, {-5, 300}, {10, -1}});
  EXPECT_EQ(d.int8_shift(), 2u);
  // -5 / 4 = -1.25 -> -1 (0xFF, low 8 bits); 300 / 4 = 75.
  EXPECT_EQ(d.spad(9, 0), 0xFFu);
  EXPECT_EQ(d.spad(9, 1), 75u);
}

TEST(FunctionalDevice, VecToBf16WritesTheScratchpad) {
  model::FunctionalDevice d(params(Datapath::kBf16, 2, 2));
  d.set_acc(0, 0, 0x3F808000u);  // 1.00390625: tie -> even 0x3F80
  d.set_acc(0, 1, 0xC0490FDBu);  // -pi -> 0xC049
  d.run(prog({isa::encode_vec({isa::VecOp::kToBf16, isa::Sram::kSpad, 0, 0, 3, 1, 0}),
              isa::encode_vec({isa::VecOp::kScale, isa::Sram::kAcc, 0, 0, 1, 1, 0x40000000u})}));
  EXPECT_EQ(d.spad(3, 0), 0x3F80u);
  EXPECT_EQ(d.spad(3, 1), 0xC049u);
  EXPECT_EQ(d.acc(1, 0), 0x40008000u);  // 2 * x, exact
  EXPECT_EQ(d.acc(1, 1), 0xC0C90FDBu);
}

TEST(FunctionalDevice, FinishStopsTheProgram) {
  model::FunctionalDevice d(params(Datapath::kInt8, 2, 2));
  const std::vector<isa::Instruction> p{
      isa::encode_config(3), isa::encode_finish(), isa::encode_config(7),
      isa::Instruction{}};  // an illegal word after FINISH is never decoded
  EXPECT_EQ(spec::instructions(d.run(p)), 2u);
  EXPECT_EQ(d.int8_shift(), 3u);
  expect_error([&] { d.run({isa::encode_config(1)}); }, {"without FINISH"});
}

TEST(FunctionalDevice, ErrorsNameTheInstructionAndTheField) {
  model::FunctionalDevice d(params(Datapath::kInt8, 4, 2));  // W = 4, spad 64, acc 16
  auto run = [&](isa::Instruction bad) {
    return [&d, bad] { d.run({isa::encode_config(0), bad, isa::encode_finish()}); };
  };
  expect_error(run(isa::encode_load({isa::Sram::kSpad, false, 62, 3, 1, kBase, 0})),
               {"instruction 1 (LOAD)", "dma.sram_row", "62..64", "scratchpad"});
  expect_error(run(isa::encode_load({isa::Sram::kSpad, false, 0, 1, 5, kBase, 0})),
               {"instruction 1 (LOAD)", "dma.cols", "5"});
  expect_error(run(isa::encode_load({isa::Sram::kAcc, false, 0, 1, 3, kBase, 0})),
               {"dma.cols", "3"});
  expect_error(run(isa::encode_load({isa::Sram::kSpad, true, 0, 5, 1, kBase, 0})),
               {"dma.rows", "5"});
  expect_error(run(isa::encode_load({isa::Sram::kSpad, false, 0, 2, 1, kBase - 1, 0})),
               {"dma.dram_addr", "outside"});
  expect_error(run(isa::encode_store({isa::Sram::kAcc, false, 0, 2, 2, kBase + 0xFFF8, 8})),
               {"instruction 1 (STORE)", "dma.dram_addr"});
  expect_error(run(isa::encode_store({isa::Sram::kAcc, false, 15, 2, 1, kBase, 0})),
               {"dma.sram_row", "accumulator"});
  expect_error(run(isa::encode_gemm({isa::Dataflow::kWs, false, false, 61, 0, 0, 1, 0})),
               {"instruction 1 (GEMM)", "gemm.pre_row"});
  expect_error(run(isa::encode_gemm({isa::Dataflow::kWs, false, false, 0, 60, 0, 5, 0})),
               {"gemm.in_row"});
  expect_error(run(isa::encode_gemm({isa::Dataflow::kWs, false, false, 0, 0, 0, 5, 12})),
               {"gemm.acc_row"});
  expect_error(run(isa::encode_gemm({isa::Dataflow::kOs, false, false, 0, 0, 63, 2, 0})),
               {"gemm.b_row"});
  expect_error(run(isa::encode_gemm({isa::Dataflow::kOs, false, false, 0, 0, 0, 1, 13})),
               {"gemm.acc_row"});
  isa::Instruction df3 = isa::encode_gemm({});
  df3.set(isa::gemm::kDataflow, 3);
  expect_error(run(df3), {"gemm.dataflow", "3"});
  isa::Instruction len0 = isa::encode_gemm({});
  len0.set(isa::gemm::kLen, 0);
  expect_error(run(len0), {"gemm.len", "0"});
  expect_error(run(isa::encode_vec({isa::VecOp::kAddRow, isa::Sram::kAcc, 0, 15, 0, 2, 0})),
               {"instruction 1 (VEC)", "vec.src2_row"});
  expect_error(run(isa::encode_vec({isa::VecOp::kCopy, isa::Sram::kSpad, 0, 0, 63, 2, 0})),
               {"vec.dst_row", "scratchpad"});
  isa::Instruction op12 = isa::encode_vec({});
  op12.set(isa::vec::kOp, 12);
  expect_error(run(op12), {"vec.op", "12"});
  isa::Instruction illegal;
  expect_error(run(illegal), {"instruction 1 (?)", "opcode", "0"});
  model::FunctionalDevice fresh(params(Datapath::kInt8, 2, 2));
  expect_error(
      [&] {
        fresh.run(prog({isa::encode_gemm({isa::Dataflow::kWs, true, false, 0, 0, 0, 1, 0})}));
      },
      {"instruction 0 (GEMM)", "gemm.reuse"});
}

TEST(FunctionalDevice, BackdoorChecksTheRange) {
  model::FunctionalDevice d(params(Datapath::kInt8, 2, 2));
  d.write_dram(kBase + 0xFFFE, {1, 2});
  EXPECT_EQ(d.read_dram(kBase + 0xFFFE, 2), (std::vector<std::uint8_t>{1, 2}));
  EXPECT_THROW(d.write_dram(kBase + 0xFFFF, {1, 2}), std::invalid_argument);
  EXPECT_THROW(d.read_dram(kBase - 1, 1), std::invalid_argument);
  EXPECT_THROW(model::FunctionalDevice(params(Datapath::kInt8, 0, 2)), std::invalid_argument);
}

}  // namespace
