// ISA encoder: fields land where spec/contract.json puts them, ranges are enforced.
#include <gtest/gtest.h>

#include <initializer_list>
#include <random>
#include <string>
#include <tuple>
#include <utility>

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

// get/set work on whole words; against the definition bit by bit, for every
// position and width a field can have, on a random background: set writes the
// field's bits and no other, get reads them back.
TEST(Isa, FieldAccessMatchesTheBitwiseDefinitionAtEveryPosition) {
  std::mt19937_64 rng(7);
  auto bit = [](const isa::Instruction& i, unsigned b) {
    return (i.words[b / 64] >> (b % 64)) & 1u;
  };
  for (unsigned lsb = 0; lsb < 128; ++lsb) {
    for (unsigned width = 1; width <= 64 && lsb + width <= 128; ++width) {
      const isa::Field f{"f", lsb, width};
      isa::Instruction i;
      i.words = {rng(), rng()};
      const isa::Instruction before = i;
      const std::uint64_t v = width == 64 ? rng() : rng() & ((std::uint64_t{1} << width) - 1);
      std::uint64_t want_old = 0;
      for (unsigned k = 0; k < width; ++k) want_old |= bit(before, lsb + k) << k;
      ASSERT_EQ(i.get(f), want_old) << "lsb " << lsb << " width " << width;
      i.set(f, v);
      for (unsigned b = 0; b < 128; ++b) {
        const bool in = b >= lsb && b < lsb + width;
        ASSERT_EQ(bit(i, b), in ? (v >> (b - lsb)) & 1u : bit(before, b))
            << "lsb " << lsb << " width " << width << " bit " << b;
      }
      ASSERT_EQ(i.get(f), v) << "lsb " << lsb << " width " << width;
    }
  }
}

// Every (field, value) pair reads back from the word.
void expect_fields(const isa::Instruction& i,
                   std::initializer_list<std::pair<const isa::Field&, std::uint64_t>> want) {
  for (const auto& [f, v] : want) EXPECT_EQ(i.get(f), v) << f.name;
}

TEST(Isa, LoadEncodesEveryField) {
  const isa::DmaArgs a{isa::Sram::kAcc, true, 0x1234, 17, 300, 0x80'0000'1000, 4096};
  const isa::Instruction i = isa::encode_load(a, {true, false, false, true});
  EXPECT_EQ(isa::opcode_of(i), isa::Opcode::kLoad);
  expect_fields(i, {{isa::common::kOpcode, 1},
                    {isa::common::kPopPrev, 1},
                    {isa::common::kPopNext, 0},
                    {isa::common::kPushPrev, 0},
                    {isa::common::kPushNext, 1},
                    {isa::dma::kSram, 1},
                    {isa::dma::kTranspose, 1},
                    {isa::dma::kSramRow, 0x1234},
                    {isa::dma::kRows, 17},
                    {isa::dma::kCols, 300},
                    {isa::dma::kDramAddr, 0x80'0000'1000},
                    {isa::dma::kDramStride, 4096}});
}

TEST(Isa, GemmVecConfigFinish) {
  const isa::Instruction g = isa::encode_gemm(
      {isa::Dataflow::kIs, true, true, 10, 20, 30, 4095, 40}, {false, true, true, false});
  EXPECT_EQ(isa::opcode_of(g), isa::Opcode::kGemm);
  expect_fields(g, {{isa::gemm::kDataflow, 2},
                    {isa::gemm::kReuse, 1},
                    {isa::gemm::kAccumulate, 1},
                    {isa::gemm::kPreRow, 10},
                    {isa::gemm::kInRow, 20},
                    {isa::gemm::kBRow, 30},
                    {isa::gemm::kLen, 4095},
                    {isa::gemm::kAccRow, 40},
                    {isa::common::kPopNext, 1},
                    {isa::common::kPushPrev, 1}});

  const isa::Instruction v =
      isa::encode_vec({isa::VecOp::kAxpy, isa::Sram::kSpad, 1, 2, 3, 4, 0xBF800000u});
  EXPECT_EQ(isa::opcode_of(v), isa::Opcode::kVec);
  expect_fields(v, {{isa::vec::kOp, 4},
                    {isa::vec::kDstSram, 0},
                    {isa::vec::kSrcRow, 1},
                    {isa::vec::kSrc2Row, 2},
                    {isa::vec::kDstRow, 3},
                    {isa::vec::kRows, 4},
                    {isa::vec::kImm, 0xBF800000u}});

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
