// ISA encoder: fields land where spec/contract.json puts them, ranges are enforced.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <tuple>

#include "sasim/isa/encode.hpp"

namespace {

namespace isa = sasim::isa;

TEST(Isa, FieldSetGetRoundTripAcrossTheWordBoundary) {
  isa::Instruction i;
  i.set(isa::dma::kDramAddr, 0xAB'CDEF'0123);  // bits 50..89, spans words 0 and 1
  EXPECT_EQ(i.get(isa::dma::kDramAddr), 0xAB'CDEF'0123u);
  // Bit 50 is bit 50 of word 0, bit 64 is bit 0 of word 1.
  EXPECT_EQ((i.words[0] >> 50) & 0x3FFF, 0xAB'CDEF'0123u & 0x3FFF);
  EXPECT_EQ(i.words[1] & 0x3FFFFFF, (0xAB'CDEF'0123u >> 14) & 0x3FFFFFF);
  i.set(isa::dma::kDramAddr, 0);
  EXPECT_EQ(i.words[0], 0u);
  EXPECT_EQ(i.words[1], 0u);
}

TEST(Isa, LoadEncodesEveryField) {
  const isa::DmaArgs a{isa::Sram::kAcc, true, 0x1234, 17, 300, 0x80'0000'1000, 4096};
  const isa::Instruction i = isa::encode_load(a, {true, false, false, true});
  EXPECT_EQ(isa::opcode_of(i), isa::Opcode::kLoad);
  EXPECT_EQ(i.get(isa::common::kOpcode), 1u);
  EXPECT_EQ(i.get(isa::common::kPopPrev), 1u);
  EXPECT_EQ(i.get(isa::common::kPopNext), 0u);
  EXPECT_EQ(i.get(isa::common::kPushPrev), 0u);
  EXPECT_EQ(i.get(isa::common::kPushNext), 1u);
  EXPECT_EQ(i.get(isa::dma::kSram), 1u);
  EXPECT_EQ(i.get(isa::dma::kTranspose), 1u);
  EXPECT_EQ(i.get(isa::dma::kSramRow), 0x1234u);
  EXPECT_EQ(i.get(isa::dma::kRows), 17u);
  EXPECT_EQ(i.get(isa::dma::kCols), 300u);
  EXPECT_EQ(i.get(isa::dma::kDramAddr), 0x80'0000'1000u);
  EXPECT_EQ(i.get(isa::dma::kDramStride), 4096u);
}

TEST(Isa, GemmVecConfigFinish) {
  const isa::Instruction g = isa::encode_gemm(
      {isa::Dataflow::kIs, true, true, 10, 20, 30, 4095, 40}, {false, true, true, false});
  EXPECT_EQ(isa::opcode_of(g), isa::Opcode::kGemm);
  EXPECT_EQ(g.get(isa::gemm::kDataflow), 2u);
  EXPECT_EQ(g.get(isa::gemm::kReuse), 1u);
  EXPECT_EQ(g.get(isa::gemm::kAccumulate), 1u);
  EXPECT_EQ(g.get(isa::gemm::kPreRow), 10u);
  EXPECT_EQ(g.get(isa::gemm::kInRow), 20u);
  EXPECT_EQ(g.get(isa::gemm::kBRow), 30u);
  EXPECT_EQ(g.get(isa::gemm::kLen), 4095u);
  EXPECT_EQ(g.get(isa::gemm::kAccRow), 40u);
  EXPECT_EQ(g.get(isa::common::kPopNext), 1u);
  EXPECT_EQ(g.get(isa::common::kPushPrev), 1u);

  const isa::Instruction v =
      isa::encode_vec({isa::VecOp::kAxpy, isa::Sram::kSpad, 1, 2, 3, 4, 0xBF800000u});
  EXPECT_EQ(isa::opcode_of(v), isa::Opcode::kVec);
  EXPECT_EQ(v.get(isa::vec::kOp), 4u);
  EXPECT_EQ(v.get(isa::vec::kDstSram), 0u);
  EXPECT_EQ(v.get(isa::vec::kSrcRow), 1u);
  EXPECT_EQ(v.get(isa::vec::kSrc2Row), 2u);
  EXPECT_EQ(v.get(isa::vec::kDstRow), 3u);
  EXPECT_EQ(v.get(isa::vec::kRows), 4u);
  EXPECT_EQ(v.get(isa::vec::kImm), 0xBF800000u);

  EXPECT_EQ(isa::encode_config(7).get(isa::config::kInt8Shift), 7u);
  const isa::Instruction f = isa::encode_finish();
  EXPECT_EQ(isa::opcode_of(f), isa::Opcode::kFinish);
  EXPECT_EQ(f.words[0], 15u);
  EXPECT_EQ(f.words[1], 0u);
}

TEST(Isa, OutOfRangeArgumentsNameFieldAndRange) {
  isa::DmaArgs a;
  a.rows = 4096;
  try {
    isa::encode_load(a);
    FAIL();
  } catch (const std::out_of_range& e) {
    EXPECT_STREQ(e.what(), "instruction field dma.rows: 4096 is out of range (allowed 1..4095)");
  }
  a.rows = 0;
  try {
    isa::encode_store(a);
    FAIL();
  } catch (const std::out_of_range& e) {
    EXPECT_STREQ(e.what(), "instruction field dma.rows: 0 is out of range (allowed 1..4095)");
  }
  isa::GemmArgs g;
  g.acc_row = 1u << 16;
  EXPECT_THROW(isa::encode_gemm(g), std::out_of_range);
  EXPECT_THROW(isa::encode_config(32), std::out_of_range);
}

TEST(Isa, IllegalOpcodesAreRejected) {
  isa::Instruction i;  // all zero: zeroed memory must not decode
  EXPECT_THROW(isa::opcode_of(i), std::invalid_argument);
  i.set(isa::common::kOpcode, 9);
  EXPECT_THROW(isa::opcode_of(i), std::invalid_argument);
}

}  // namespace

namespace {

// decode_* inverts encode_* for every field (random in-range values).
TEST(Isa, DecodeInvertsEncode) {
  std::mt19937_64 rng(7);
  auto r = [&](unsigned bits) { return static_cast<std::uint32_t>(rng() & ((1ull << bits) - 1)); };
  for (int i = 0; i < 200; ++i) {
    const isa::DmaArgs d{isa::Sram(r(1)),
                         r(1) != 0,
                         r(16),
                         1 + r(11),
                         1 + r(11),
                         rng() & ((1ull << 40) - 1),
                         rng() & ((1ull << 24) - 1)};
    for (const isa::Instruction& w : {isa::encode_load(d), isa::encode_store(d)}) {
      const isa::DmaArgs e = isa::decode_dma(w);
      EXPECT_EQ(
          std::tie(e.sram, e.transpose, e.sram_row, e.rows, e.cols, e.dram_addr, e.dram_stride),
          std::tie(d.sram, d.transpose, d.sram_row, d.rows, d.cols, d.dram_addr, d.dram_stride));
    }
    const isa::GemmArgs g{
        isa::Dataflow(r(2) % 3), r(1) != 0, r(1) != 0, r(16), r(16), r(16), 1 + r(11), r(16)};
    const isa::GemmArgs h = isa::decode_gemm(isa::encode_gemm(g));
    EXPECT_EQ(
        std::tie(h.dataflow, h.reuse, h.accumulate, h.pre_row, h.in_row, h.b_row, h.len, h.acc_row),
        std::tie(g.dataflow, g.reuse, g.accumulate, g.pre_row, g.in_row, g.b_row, g.len,
                 g.acc_row));
    const isa::VecArgs v{isa::VecOp(r(3)),
                         isa::Sram(r(1)),
                         r(16),
                         r(16),
                         r(16),
                         1 + r(11),
                         static_cast<std::uint32_t>(rng())};
    const isa::VecArgs u = isa::decode_vec(isa::encode_vec(v));
    EXPECT_EQ(std::tie(u.op, u.dst_sram, u.src_row, u.src2_row, u.dst_row, u.rows, u.imm),
              std::tie(v.op, v.dst_sram, v.src_row, v.src2_row, v.dst_row, v.rows, v.imm));
  }
}

}  // namespace
