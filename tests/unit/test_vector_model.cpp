// Unit tests of the vector unit's golden semantics (model::vec_lane,
// vector.hpp) against hand-computed cases. Expected bit patterns are literals;
// the comments give the exact values they come from.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <stdexcept>

#include "sasim/model/numerics.hpp"
#include "sasim/model/vector.hpp"
#include "sasim/spec/contract.hpp"

namespace sasim::model {
namespace {

using u32 = std::uint32_t;
using isa::VecOp;

constexpr Datapath kFp = Datapath::kBf16;   // binary32 lanes
constexpr Datapath kInt = Datapath::kInt8;  // int32 lanes

u32 i32(std::int32_t v) { return static_cast<u32>(v); }

// fp32 lane helpers: op(x, b, imm), shift 0.
u32 fp(VecOp op, u32 x, u32 b = 0, u32 imm = 0) { return vec_lane(kFp, op, x, b, imm, 0); }
u32 in(VecOp op, u32 x, u32 b = 0, u32 imm = 0) { return vec_lane(kInt, op, x, b, imm, 0); }

// binary32 constants
constexpr u32 kOne = 0x3F800000, kTwo = 0x40000000, kHalf = 0x3F000000, kThree = 0x40400000;
constexpr u32 kMinusOne = 0xBF800000, kMinusTwo = 0xC0000000;
constexpr u32 kPosZero = 0x00000000, kNegZero = 0x80000000;
constexpr u32 kPosInf = 0x7F800000, kNegInf = 0xFF800000, kMaxNormal = 0x7F7FFFFF;
constexpr u32 kMinSub = 0x00000001, kNegMinSub = 0x80000001;
constexpr u32 kQNan = 0x7FC00000;

// ---------------------------------------------------------------------------
// ADD_ROW
// ---------------------------------------------------------------------------
TEST(VectorModel, AddRowFp32) {
  EXPECT_EQ(fp(VecOp::kAddRow, kOne, kTwo), kThree);      // 1 + 2 = 3
  EXPECT_EQ(fp(VecOp::kAddRow, kOne, 0x33800000), kOne);  // 1 + 2^-24: tie, 1 is even
  EXPECT_EQ(fp(VecOp::kAddRow, 0x3F800001, 0x33800000),
            0x3F800002u);                                          // (1+2^-23) + 2^-24 -> 1+2^-22
  EXPECT_EQ(fp(VecOp::kAddRow, kMinSub, kMinSub), 0x00000002u);    // subnormals kept
  EXPECT_EQ(fp(VecOp::kAddRow, kPosZero, kNegZero), kPosZero);     // +0 + -0 = +0
  EXPECT_EQ(fp(VecOp::kAddRow, kNegZero, kNegZero), kNegZero);     // -0 + -0 = -0
  EXPECT_EQ(fp(VecOp::kAddRow, kOne, kMinusOne), kPosZero);        // x + (-x) = +0
  EXPECT_EQ(fp(VecOp::kAddRow, kMaxNormal, kMaxNormal), kPosInf);  // overflow
  EXPECT_EQ(fp(VecOp::kAddRow, kPosInf, kNegInf), kQNan);          // inf - inf
  EXPECT_EQ(fp(VecOp::kAddRow, 0xFFC00001, kOne), kQNan);          // NaN made canonical
}

TEST(VectorModel, AddRowInt32Wraps) {
  EXPECT_EQ(in(VecOp::kAddRow, 5, i32(-7)), i32(-2));
  EXPECT_EQ(in(VecOp::kAddRow, 0x7FFFFFFF, 1), 0x80000000u);
  EXPECT_EQ(in(VecOp::kAddRow, 0x80000000, 0xFFFFFFFF), 0x7FFFFFFFu);
}

// ---------------------------------------------------------------------------
// RELU, RELU_MASK
// ---------------------------------------------------------------------------
TEST(VectorModel, ReluFp32) {
  EXPECT_EQ(fp(VecOp::kRelu, kOne), kOne);
  EXPECT_EQ(fp(VecOp::kRelu, kMinusOne), kPosZero);
  EXPECT_EQ(fp(VecOp::kRelu, kPosZero), kPosZero);
  EXPECT_EQ(fp(VecOp::kRelu, kNegZero), kPosZero);  // -0 -> +0
  EXPECT_EQ(fp(VecOp::kRelu, kMinSub), kMinSub);    // smallest positive value is > 0
  EXPECT_EQ(fp(VecOp::kRelu, kNegMinSub), kPosZero);
  EXPECT_EQ(fp(VecOp::kRelu, kPosInf), kPosInf);
  EXPECT_EQ(fp(VecOp::kRelu, kNegInf), kPosZero);
  EXPECT_EQ(fp(VecOp::kRelu, kQNan), kQNan);
  EXPECT_EQ(fp(VecOp::kRelu, 0xFFC00001), kQNan);  // negative NaN with payload
  EXPECT_EQ(fp(VecOp::kRelu, 0x7F800001), kQNan);  // signalling NaN
  // b does not matter
  EXPECT_EQ(fp(VecOp::kRelu, kTwo, kMinusOne), kTwo);
}

TEST(VectorModel, ReluInt32) {
  EXPECT_EQ(in(VecOp::kRelu, 5), 5u);
  EXPECT_EQ(in(VecOp::kRelu, i32(-5)), 0u);
  EXPECT_EQ(in(VecOp::kRelu, 0), 0u);
  EXPECT_EQ(in(VecOp::kRelu, 0x7FFFFFFF), 0x7FFFFFFFu);
  EXPECT_EQ(in(VecOp::kRelu, 0x80000000), 0u);
}

TEST(VectorModel, ReluMaskFp32) {
  EXPECT_EQ(fp(VecOp::kReluMask, kMinusTwo, kOne), kMinusTwo);  // b > 0: x, sign kept
  EXPECT_EQ(fp(VecOp::kReluMask, kNegZero, kOne), kNegZero);    // x passed bit for bit
  EXPECT_EQ(fp(VecOp::kReluMask, kTwo, kMinSub), kTwo);         // subnormal b > 0
  EXPECT_EQ(fp(VecOp::kReluMask, kTwo, kPosInf), kTwo);
  EXPECT_EQ(fp(VecOp::kReluMask, kTwo, kPosZero), kPosZero);  // b = +0 is not > 0
  EXPECT_EQ(fp(VecOp::kReluMask, kTwo, kNegZero), kPosZero);
  EXPECT_EQ(fp(VecOp::kReluMask, kTwo, kMinusOne), kPosZero);
  EXPECT_EQ(fp(VecOp::kReluMask, kTwo, kNegInf), kPosZero);
  EXPECT_EQ(fp(VecOp::kReluMask, kTwo, kQNan), kPosZero);  // NaN b counts as not > 0
  EXPECT_EQ(fp(VecOp::kReluMask, kTwo, 0x7F800001), kPosZero);
  EXPECT_EQ(fp(VecOp::kReluMask, kMinusTwo, kNegMinSub), kPosZero);
  EXPECT_EQ(fp(VecOp::kReluMask, 0x7FA00000, kOne), kQNan);  // passed NaN made canonical
  EXPECT_EQ(fp(VecOp::kReluMask, 0x7FA00000, kMinusOne), kPosZero);
}

TEST(VectorModel, ReluMaskInt32) {
  EXPECT_EQ(in(VecOp::kReluMask, i32(-9), 1), i32(-9));
  EXPECT_EQ(in(VecOp::kReluMask, i32(-9), 0x7FFFFFFF), i32(-9));
  EXPECT_EQ(in(VecOp::kReluMask, 9, 0), 0u);
  EXPECT_EQ(in(VecOp::kReluMask, 9, i32(-1)), 0u);
  EXPECT_EQ(in(VecOp::kReluMask, 9, 0x80000000), 0u);  // signed compare
}

// ---------------------------------------------------------------------------
// SCALE, AXPY
// ---------------------------------------------------------------------------
TEST(VectorModel, ScaleFp32) {
  EXPECT_EQ(fp(VecOp::kScale, kHalf, 0, kThree), 0x3FC00000u);           // 3 * 0.5 = 1.5
  EXPECT_EQ(fp(VecOp::kScale, 0x3F800001, 0, 0x3F800001), 0x3F800002u);  // (1+2^-23)^2 -> 1+2^-22
  EXPECT_EQ(fp(VecOp::kScale, 0x00000003, 0, kHalf), 0x00000002u);  // 1.5 * 2^-149: tie -> 2 (even)
  EXPECT_EQ(fp(VecOp::kScale, kMinSub, 0, kHalf), kPosZero);        // 0.5 * 2^-149: tie -> 0
  EXPECT_EQ(fp(VecOp::kScale, kMinSub, 0, 0xBF000000), kNegZero);   // signed underflow
  EXPECT_EQ(fp(VecOp::kScale, 0x00800000, 0, kHalf),
            0x00400000u);  // 2^-126 / 2 = 2^-127 (subnormal)
  EXPECT_EQ(fp(VecOp::kScale, 0x00800001, 0, kHalf), 0x00400000u);  // 2^-127 + 2^-150: tie -> even
  EXPECT_EQ(fp(VecOp::kScale, 0x00800003, 0, kHalf),
            0x00400002u);  // 2^-127 + 1.5 * 2^-149 -> +2 ulp
  EXPECT_EQ(fp(VecOp::kScale, kMinSub, 0, 0x7F000000), 0x34800000u);  // 2^-149 * 2^127 = 2^-22
  EXPECT_EQ(fp(VecOp::kScale, 0x7F000000, 0, kTwo), kPosInf);         // 2^127 * 2: overflow
  EXPECT_EQ(fp(VecOp::kScale, kMaxNormal, 0, kMinusOne), 0xFF7FFFFFu);
  EXPECT_EQ(fp(VecOp::kScale, kPosZero, 0, kPosInf), kQNan);       // inf * 0
  EXPECT_EQ(fp(VecOp::kScale, kPosZero, 0, kMinusOne), kNegZero);  // -1 * +0 = -0
  EXPECT_EQ(fp(VecOp::kScale, kNegInf, 0, kMinusTwo), kPosInf);
  EXPECT_EQ(fp(VecOp::kScale, 0xFFC00001, 0, kOne), kQNan);
}

TEST(VectorModel, ScaleInt32Wraps) {
  EXPECT_EQ(in(VecOp::kScale, 5, 0, i32(-3)), i32(-15));
  EXPECT_EQ(in(VecOp::kScale, 0x10000, 0, 0x10000), 0u);              // 2^32 mod 2^32
  EXPECT_EQ(in(VecOp::kScale, 0x8001, 0, 0x10000), 0x80010000u);      // wraps negative
  EXPECT_EQ(in(VecOp::kScale, 0x80000000, 0, i32(-1)), 0x80000000u);  // -INT_MIN wraps
}

TEST(VectorModel, AxpyFp32) {
  EXPECT_EQ(fp(VecOp::kAxpy, kThree, kOne, kTwo), 0x40E00000u);  // 2 * 3 + 1 = 7
  // SGD step W + (-lr) * dW: 1 + (-0.25) * 2 = 0.5
  EXPECT_EQ(fp(VecOp::kAxpy, kTwo, kOne, 0xBE800000), kHalf);
  EXPECT_EQ(fp(VecOp::kAxpy, kPosZero, kOne, kPosInf), kQNan);      // inf * 0 + 1
  EXPECT_EQ(fp(VecOp::kAxpy, kOne, kNegInf, kPosInf), kQNan);       // inf - inf
  EXPECT_EQ(fp(VecOp::kAxpy, kNegZero, kNegZero, kOne), kNegZero);  // -0 + -0
}

// (1 + 2^-12)^2 = 1 + 2^-11 + 2^-24. Rounded to binary32 the product is a tie
// and goes to the even 1 + 2^-11; adding -(1 + 2^-11) then gives +0. A fused
// multiply-add would give the exact 2^-24.
TEST(VectorModel, AxpyRoundsTwiceNotFused) {
  const u32 a = 0x3F800800;      // 1 + 2^-12
  const u32 b = 0xBF801000;      // -(1 + 2^-11)
  const u32 fused = 0x33800000;  // 2^-24
  EXPECT_EQ(fp(VecOp::kAxpy, a, b, a), kPosZero);
  EXPECT_EQ(f32_to_bits(std::fma(bits_to_f32(a), bits_to_f32(a), bits_to_f32(b))), fused);
  EXPECT_EQ(fp(VecOp::kScale, a, 0, a), 0x3F801000u);  // the rounded product alone
}

TEST(VectorModel, AxpyInt32Wraps) {
  EXPECT_EQ(in(VecOp::kAxpy, 3, i32(-7), 2), i32(-1));
  EXPECT_EQ(in(VecOp::kAxpy, 2, 1, 0x40000000), 0x80000001u);
}

// ---------------------------------------------------------------------------
// TO_BF16
// ---------------------------------------------------------------------------
TEST(VectorModel, ToBf16RoundsToNearestEven) {
  for (const Datapath dp : {kFp, kInt}) {  // the same bit operation on both datapaths
    auto cvt = [dp](u32 x) { return vec_lane(dp, VecOp::kToBf16, x, 0xDEADBEEF, 0x12345678, 7); };
    EXPECT_EQ(cvt(kOne), 0x3F80u);
    EXPECT_EQ(cvt(0x3F808000), 0x3F80u);  // 1 + 2^-8: tie between 0x3F80 and 0x3F81 -> even
    EXPECT_EQ(cvt(0x3F818000), 0x3F82u);  // tie between 0x3F81 and 0x3F82 -> even
    EXPECT_EQ(cvt(0x3F808001), 0x3F81u);  // just above the tie
    EXPECT_EQ(cvt(0x3F807FFF), 0x3F80u);  // just below
    EXPECT_EQ(cvt(0xBF818000), 0xBF82u);  // negative tie
    EXPECT_EQ(cvt(0x00008000), 0x0000u);  // subnormal tie -> 0
    EXPECT_EQ(cvt(0x00018000), 0x0002u);  // subnormal tie -> 2
    EXPECT_EQ(cvt(0x007FFFFF), 0x0080u);  // largest subnormal rounds up to the smallest normal
    EXPECT_EQ(cvt(kNegZero), 0x8000u);
    EXPECT_EQ(cvt(kMaxNormal), 0x7F80u);  // rounds up to +inf
    EXPECT_EQ(cvt(0x7F7F7FFF), 0x7F7Fu);
    EXPECT_EQ(cvt(kNegInf), 0xFF80u);
    EXPECT_EQ(cvt(0xFFC00001), 0x7FC0u);  // NaN -> canonical bf16 NaN
    EXPECT_EQ(cvt(0x7F800001), 0x7FC0u);  // payload only in the low bits: still NaN
  }
}

// ---------------------------------------------------------------------------
// TO_INT8
// ---------------------------------------------------------------------------
TEST(VectorModel, ToInt8RoundsHalfToEvenAndSaturates) {
  struct Case {
    unsigned shift;
    std::int32_t x;
    std::int32_t want;
  };
  const Case cases[] = {
      {0, 0, 0},
      {0, 127, 127},
      {0, 128, 127},
      {0, -128, -128},
      {0, -129, -128},
      {0, INT32_MAX, 127},
      {0, INT32_MIN, -128},
      {1, 1, 0},    // 0.5 -> 0
      {1, 3, 2},    // 1.5 -> 2
      {1, 5, 2},    // 2.5 -> 2
      {1, 7, 4},    // 3.5 -> 4
      {1, 2, 1},    // exact
      {1, -1, 0},   // -0.5 -> 0
      {1, -3, -2},  // -1.5 -> -2
      {1, -5, -2},  // -2.5 -> -2
      {4, 24, 2},   // 1.5 -> 2
      {4, 40, 2},   // 2.5 -> 2
      {4, 41, 3},   // 2.5625 -> 3
      {4, 39, 2},   // 2.4375 -> 2
      {4, -24, -2},
      {4, -40, -2},
      {4, -41, -3},
      {4, -39, -2},
      {8, 32384, 126},     // 126.5 -> 126
      {8, 32640, 127},     // 127.5 -> 128 -> saturates
      {8, 65408, 127},     // 255.5
      {8, -32640, -128},   // -127.5 -> -128
      {8, -32896, -128},   // -128.5 -> -128 (even)
      {8, -32897, -128},   // -128.50390625 -> -129 -> saturates
      {30, INT32_MAX, 2},  // 1.999999999 -> 2
      {30, INT32_MIN, -2},
      {31, INT32_MAX, 1},  // 0.9999999995 -> 1
      {31, INT32_MIN, -1},
      {31, 0x40000000, 0},    // 0.5 -> 0
      {31, 0x40000001, 1},    // just above 0.5
      {31, -0x40000000, 0},   // -0.5 -> 0
      {31, -0x40000001, -1},  // just below -0.5
  };
  for (const Case& c : cases) {
    EXPECT_EQ(requantize_int8(c.x, c.shift), c.want) << "x=" << c.x << " shift=" << c.shift;
    for (const Datapath dp : {kInt, kFp}) {  // an integer operation on the bits on both datapaths
      EXPECT_EQ(vec_lane(dp, VecOp::kToInt8, i32(c.x), 0xFFFFFFFF, 0x3F800000, c.shift),
                i32(c.want))
          << "x=" << c.x << " shift=" << c.shift;
    }
  }
}

// Cross-check against round-to-nearest-even in double: x / 2^shift is exact
// in a double (31 significant bits), std::nearbyint rounds ties to even.
TEST(VectorModel, ToInt8MatchesDoubleRounding) {
  std::mt19937_64 rng(0x7E57'1A78);
  for (int i = 0; i < 200'000; ++i) {
    const u32 r = static_cast<u32>(rng());
    const unsigned shift = static_cast<unsigned>(rng() % 32);
    // Mostly values that land in or near the int8 range after the shift.
    const std::int32_t x = (i % 2)
                               ? static_cast<std::int32_t>(r)
                               : static_cast<std::int32_t>(r) >> (31 - std::min(shift + 9, 31u));
    const double q = std::nearbyint(std::ldexp(static_cast<double>(x), -static_cast<int>(shift)));
    const double want = std::fmin(127.0, std::fmax(-128.0, q));
    ASSERT_EQ(requantize_int8(x, shift), static_cast<std::int8_t>(want))
        << "x=" << x << " shift=" << shift;
  }
}

// ---------------------------------------------------------------------------
// COPY, argument checks
// ---------------------------------------------------------------------------
TEST(VectorModel, CopyMovesBitsUnchanged) {
  for (const Datapath dp : {kFp, kInt}) {
    for (const u32 x : {0u, kNegZero, 0x7F800001u, 0xFFC00001u, 0x12345678u, 0xFFFFFFFFu}) {
      EXPECT_EQ(vec_lane(dp, VecOp::kCopy, x, 0xAAAAAAAA, 0x55555555, 31), x);
    }
  }
}

// ---------------------------------------------------------------------------
// MUL, DIV, SQRT, ADD_IMM (the optimizers' element-wise operations)
// ---------------------------------------------------------------------------
TEST(VectorModel, MulFp32IsTheRoundedProductOfTwoRows) {
  EXPECT_EQ(fp(VecOp::kMul, kThree, kHalf), 0x3FC00000u);      // 1.5
  EXPECT_EQ(fp(VecOp::kMul, kMinusTwo, kThree), 0xC0C00000u);  // -6
  // (1 + 2^-23)^2 = 1 + 2^-22 + 2^-46: rounds to 1 + 2^-22.
  EXPECT_EQ(fp(VecOp::kMul, 0x3F800001, 0x3F800001), 0x3F800002u);
  EXPECT_EQ(fp(VecOp::kMul, kPosInf, kPosZero), kQNan);
  EXPECT_EQ(fp(VecOp::kMul, kMinSub, kHalf), kPosZero);  // 2^-150: a tie, to even 0
  EXPECT_EQ(fp(VecOp::kMul, kMaxNormal, kTwo), kPosInf);
  // imm is not read.
  EXPECT_EQ(fp(VecOp::kMul, kTwo, kThree, kMinusOne), 0x40C00000u);
}

TEST(VectorModel, MulAndAddImmInt32Wrap) {
  EXPECT_EQ(in(VecOp::kMul, i32(-7), i32(6)), i32(-42));
  EXPECT_EQ(in(VecOp::kMul, 0x10000u, 0x10000u), 0u);  // 2^32 wraps to 0
  EXPECT_EQ(in(VecOp::kAddImm, 0x7FFFFFFFu, 0, 1), 0x80000000u);
  EXPECT_EQ(in(VecOp::kAddImm, i32(5), 0xDEAD, i32(-9)), i32(-4));  // b is not read
}

TEST(VectorModel, AddImmFp32) {
  EXPECT_EQ(fp(VecOp::kAddImm, kOne, 0, kTwo), kThree);
  EXPECT_EQ(fp(VecOp::kAddImm, kOne, kMaxNormal, kMinusOne), kPosZero);  // +0 under RNE
  EXPECT_EQ(fp(VecOp::kAddImm, kNegZero, 0, kNegZero), kNegZero);
  EXPECT_EQ(fp(VecOp::kAddImm, kPosInf, 0, kNegInf), kQNan);
  // Adam's epsilon: 1e-8 (0x322BCC77) onto 0 is exactly 1e-8.
  EXPECT_EQ(fp(VecOp::kAddImm, kPosZero, 0, 0x322BCC77), 0x322BCC77u);
}

TEST(VectorModel, DivFp32IsCorrectlyRoundedOnBothDatapaths) {
  for (const Datapath dp : {kFp, kInt}) {
    const auto div = [dp](u32 x, u32 y) { return vec_lane(dp, VecOp::kDiv, x, y, 0x12345678, 3); };
    EXPECT_EQ(div(kOne, kThree), 0x3EAAAAABu);  // 1/3 = 0x3EAAAAAA.AAA.. rounds up
    EXPECT_EQ(div(kTwo, kThree), 0x3F2AAAABu);
    EXPECT_EQ(div(kThree, kMinusTwo), 0xBFC00000u);  // -1.5, exact
    EXPECT_EQ(div(kPosZero, kPosZero), kQNan);
    EXPECT_EQ(div(kPosInf, kNegInf), kQNan);
    EXPECT_EQ(div(kOne, kNegZero), kNegInf);
    EXPECT_EQ(div(kNegInf, kTwo), kNegInf);
    EXPECT_EQ(div(kOne, kPosInf), kPosZero);
    EXPECT_EQ(div(kNegZero, kThree), kNegZero);
    EXPECT_EQ(div(0x7FA00000, kOne), kQNan);  // a signalling NaN in, canonical out
    // Into and out of the subnormals: 2^-126 / 2 = 2^-127 (exact subnormal),
    // 2^-149 / 2 = 2^-150 (a tie: to even 0), 3 * 2^-149 / 2 = 1.5 * 2^-149
    // (a tie: to even 2^-148), 2^-149 / 2^-149 = 1.
    EXPECT_EQ(div(0x00800000, kTwo), 0x00400000u);
    EXPECT_EQ(div(kMinSub, kTwo), kPosZero);
    EXPECT_EQ(div(0x00000003, kTwo), 0x00000002u);
    EXPECT_EQ(div(kMinSub, kMinSub), kOne);
    EXPECT_EQ(div(kMaxNormal, kHalf), kPosInf);  // overflow
    EXPECT_EQ(div(kMaxNormal, kMinSub), kPosInf);
    EXPECT_EQ(div(kMinSub, kMaxNormal), kPosZero);  // total underflow
  }
}

TEST(VectorModel, SqrtFp32IsCorrectlyRoundedOnBothDatapaths) {
  for (const Datapath dp : {kFp, kInt}) {
    const auto sq = [dp](u32 x) { return vec_lane(dp, VecOp::kSqrt, x, 0xFFFFFFFF, 7, 0); };
    EXPECT_EQ(sq(0x40800000), kTwo);     // sqrt(4)
    EXPECT_EQ(sq(kTwo), 0x3FB504F3u);    // sqrt(2) = 1.41421354 (rounded down)
    EXPECT_EQ(sq(kThree), 0x3FDDB3D7u);  // sqrt(3)
    EXPECT_EQ(sq(kNegZero), kNegZero);   // sqrt(-0) = -0
    EXPECT_EQ(sq(kPosZero), kPosZero);
    EXPECT_EQ(sq(kPosInf), kPosInf);
    EXPECT_EQ(sq(kMinusOne), kQNan);
    EXPECT_EQ(sq(kNegInf), kQNan);
    EXPECT_EQ(sq(kNegMinSub), kQNan);
    EXPECT_EQ(sq(kMinSub), 0x1A3504F3u);     // sqrt(2^-149) = 2^-74.5
    EXPECT_EQ(sq(0x00000004), 0x1AB504F3u);  // sqrt(2^-147) = 2^-73.5
    EXPECT_EQ(sq(0x00000020), 0x1B800000u);  // sqrt(2^-144) = 2^-72, exact
    EXPECT_EQ(sq(kMaxNormal), 0x5F7FFFFFu);
  }
}

TEST(VectorModel, DivAndSqrtMatchDoublePrecisionRounding) {
  // A binary32 quotient or square root rounded from the double result is
  // correctly rounded (double has more than 2 * 24 + 2 bits), away from the
  // subnormal range.
  std::mt19937 rng(17);
  for (int i = 0; i < 20000; ++i) {
    const u32 x = (rng() & 0x807FFFFFu) | ((64 + rng() % 128) << 23);
    const u32 y = (rng() & 0x807FFFFFu) | ((64 + rng() % 128) << 23);
    const float q = static_cast<float>(double(bits_to_f32(x)) / double(bits_to_f32(y)));
    EXPECT_EQ(fp(VecOp::kDiv, x, y), f32_to_bits(q)) << std::hex << x << " / " << y;
    const u32 p = x & 0x7FFFFFFFu;
    const float r = static_cast<float>(std::sqrt(double(bits_to_f32(p))));
    EXPECT_EQ(fp(VecOp::kSqrt, p), f32_to_bits(r)) << std::hex << "sqrt " << p;
  }
}

TEST(VectorModel, RejectsOpsOutsideTheIsaAndLargeShifts) {
  for (unsigned op = 12; op < 16; ++op) {
    EXPECT_THROW(vec_lane(kFp, static_cast<VecOp>(op), 0, 0, 0, 0), std::invalid_argument);
  }
  EXPECT_THROW(vec_lane(kInt, VecOp::kToInt8, 0, 0, 0, 32), std::out_of_range);
  EXPECT_THROW(requantize_int8(0, 32), std::out_of_range);
}

TEST(VectorModel, Fp32GreaterThanZero) {
  EXPECT_TRUE(fp32_gt_zero(kMinSub));
  EXPECT_TRUE(fp32_gt_zero(kOne));
  EXPECT_TRUE(fp32_gt_zero(kPosInf));
  EXPECT_FALSE(fp32_gt_zero(kPosZero));
  EXPECT_FALSE(fp32_gt_zero(kNegZero));
  EXPECT_FALSE(fp32_gt_zero(kNegMinSub));
  EXPECT_FALSE(fp32_gt_zero(kQNan));
  EXPECT_FALSE(fp32_gt_zero(0x7F800001));
  EXPECT_FALSE(fp32_gt_zero(0xFFC00000));
}

}  // namespace
}  // namespace sasim::model
