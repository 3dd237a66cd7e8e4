// Unit tests of the golden model (numerics.hpp, gemm.hpp, types.hpp) against
// hand-computed cases. Expected bit patterns are written as literals; the
// comments give the exact values they were derived from.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <random>
#include <stdexcept>
#include <vector>

#include "sasim/model/gemm.hpp"
#include "sasim/model/numerics.hpp"
#include "sasim/model/types.hpp"

#if defined(__SSE__)
#include <xmmintrin.h>
#endif

namespace sasim::model {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

using Eigen::Index;

// Straightforward transcription of the GEMM spec on the scalar model: the
// reference the optimised gemm() must match bit for bit.
AccMatrix reference_gemm(Datapath dp, const RawMatrix& a, const RawMatrix& b, Index k_fold) {
  AccMatrix c = AccMatrix::Zero(a.rows(), b.cols());
  for (Index m = 0; m < a.rows(); ++m) {
    for (Index n = 0; n < b.cols(); ++n) {
      std::uint32_t acc = 0;
      for (Index k0 = 0; k0 < a.cols(); k0 += k_fold) {
        std::uint32_t s = 0;  // +0
        for (Index k = k0; k < std::min(a.cols(), k0 + k_fold); ++k) {
          s = mac(dp, s, a(m, k), b(k, n));
        }
        acc = k0 == 0 ? s : add(dp, acc, s);
      }
      c(m, n) = acc;
    }
  }
  return c;
}

RawMatrix filled(Index rows, Index cols, std::uint16_t v) {
  return RawMatrix::Constant(rows, cols, v);
}

bool is_nan_bits(std::uint32_t v) { return (v & 0x7F800000u) == 0x7F800000u && (v & 0x7FFFFFu); }

// ---------------------------------------------------------------------------
// types.hpp
// ---------------------------------------------------------------------------

TEST(ModelTypes, EncodingsMatchRtlPackage) {
  // rtl/sa_pkg.sv: DP_INT8 = 0, DP_BF16 = 1; DF_WS = 0, DF_OS = 1, DF_IS = 2.
  EXPECT_EQ(static_cast<int>(Datapath::kInt8), 0);
  EXPECT_EQ(static_cast<int>(Datapath::kBf16), 1);
  EXPECT_EQ(static_cast<int>(Dataflow::kWs), 0);
  EXPECT_EQ(static_cast<int>(Dataflow::kOs), 1);
  EXPECT_EQ(static_cast<int>(Dataflow::kIs), 2);
  EXPECT_EQ(op_width(Datapath::kInt8), 8u);
  EXPECT_EQ(op_width(Datapath::kBf16), 16u);
}

TEST(ModelTypes, ToStringAndParseRoundTrip) {
  EXPECT_EQ(to_string(Datapath::kInt8), "int8");
  EXPECT_EQ(to_string(Datapath::kBf16), "bf16");
  EXPECT_EQ(to_string(Dataflow::kWs), "ws");
  EXPECT_EQ(to_string(Dataflow::kOs), "os");
  EXPECT_EQ(to_string(Dataflow::kIs), "is");
  for (Datapath dp : {Datapath::kInt8, Datapath::kBf16}) {
    EXPECT_EQ(parse_datapath(to_string(dp)), dp);
  }
  for (Dataflow df : {Dataflow::kWs, Dataflow::kOs, Dataflow::kIs}) {
    EXPECT_EQ(parse_dataflow(to_string(df)), df);
  }
  EXPECT_EQ(parse_datapath("BF16"), Datapath::kBf16);
  EXPECT_EQ(parse_dataflow("IS"), Dataflow::kIs);
  for (OperandMix mix : {OperandMix::kUniform, OperandMix::kEdgeCases, OperandMix::kSpecials}) {
    EXPECT_EQ(parse_operand_mix(to_string(mix)), mix);
  }
}

TEST(ModelTypes, ParseRejectsUnknownNames) {
  EXPECT_FALSE(parse_datapath("").has_value());
  EXPECT_FALSE(parse_datapath("int16").has_value());
  EXPECT_FALSE(parse_datapath("bf16 ").has_value());
  EXPECT_FALSE(parse_dataflow("rs").has_value());
  EXPECT_FALSE(parse_dataflow("w").has_value());
  EXPECT_FALSE(parse_operand_mix("random").has_value());
}

// ---------------------------------------------------------------------------
// fp32_add
// ---------------------------------------------------------------------------

TEST(ModelFp32Add, RoundsTiesToEven) {
  // 1 = 0x3F800000, ulp(1) = 2^-23; 2^-24 = 0x33800000 (half an ulp).
  EXPECT_EQ(fp32_add(0x3F800000u, 0x33800000u), 0x3F800000u);  // 1 + 2^-24: tie -> 1 (even)
  // 3*2^-24 = 1.5*2^-23 = 0x34400000; 1 + 1.5 ulp: tie between 1+ulp (odd), 1+2ulp.
  EXPECT_EQ(fp32_add(0x3F800000u, 0x34400000u), 0x3F800002u);  // 1 + 2^-22
  // (1 + 2^-23) + 2^-24: tie, odd mantissa rounds up to 1 + 2^-22.
  EXPECT_EQ(fp32_add(0x3F800001u, 0x33800000u), 0x3F800002u);
  // 1 + 2^-24 (1 + 2^-23): just above the tie -> up.
  EXPECT_EQ(fp32_add(0x3F800000u, 0x33800001u), 0x3F800001u);
  // 1 + 2^-25: below half an ulp -> 1.
  EXPECT_EQ(fp32_add(0x3F800000u, 0x33000000u), 0x3F800000u);
  // Negative: -1 + -2^-24 -> -1; -1 + -(3*2^-24) -> -(1 + 2^-22).
  EXPECT_EQ(fp32_add(0xBF800000u, 0xB3800000u), 0xBF800000u);
  EXPECT_EQ(fp32_add(0xBF800000u, 0xB4400000u), 0xBF800002u);
  // 2^24 + 1: ulp(2^24) = 2, tie -> 2^24 (0x4B800000); 2^24 + 3 -> 2^24 + 4.
  EXPECT_EQ(fp32_add(0x4B800000u, 0x3F800000u), 0x4B800000u);
  EXPECT_EQ(fp32_add(0x4B800000u, 0x40400000u), 0x4B800002u);
}

TEST(ModelFp32Add, SubnormalSumsAreExact) {
  // min subnormal 2^-149 = 0x00000001.
  EXPECT_EQ(fp32_add(0x00000001u, 0x00000001u), 0x00000002u);
  // max subnormal + min subnormal = min normal 2^-126.
  EXPECT_EQ(fp32_add(0x007FFFFFu, 0x00000001u), 0x00800000u);
  // min normal - min subnormal = max subnormal.
  EXPECT_EQ(fp32_add(0x00800000u, 0x80000001u), 0x007FFFFFu);
  // (2^-126 + 2^-149) - 2^-126 = 2^-149 (result subnormal, exact).
  EXPECT_EQ(fp32_add(0x00800001u, 0x80800000u), 0x00000001u);
  // 0x00400000 (2^-127) + 0x00400000 = 2^-126 (normal).
  EXPECT_EQ(fp32_add(0x00400000u, 0x00400000u), 0x00800000u);
}

TEST(ModelFp32Add, OverflowsToInfinity) {
  // max finite (2 - 2^-23) * 2^127 = 0x7F7FFFFF, ulp = 2^104.
  EXPECT_EQ(fp32_add(0x7F7FFFFFu, 0x7F7FFFFFu), 0x7F800000u);
  EXPECT_EQ(fp32_add(0xFF7FFFFFu, 0xFF7FFFFFu), 0xFF800000u);
  // max + 2^103 (0x73000000): half an ulp, odd mantissa -> rounds up to inf.
  EXPECT_EQ(fp32_add(0x7F7FFFFFu, 0x73000000u), 0x7F800000u);
  // max + 2^102 (0x72800000): quarter ulp -> max.
  EXPECT_EQ(fp32_add(0x7F7FFFFFu, 0x72800000u), 0x7F7FFFFFu);
  // inf + finite = inf.
  EXPECT_EQ(fp32_add(0x7F800000u, 0xBF800000u), 0x7F800000u);
  EXPECT_EQ(fp32_add(0xFF800000u, 0x7F7FFFFFu), 0xFF800000u);
}

TEST(ModelFp32Add, NansAreCanonical) {
  EXPECT_EQ(fp32_add(0x7F800000u, 0xFF800000u), 0x7FC00000u);  // inf + -inf
  EXPECT_EQ(fp32_add(0xFF800000u, 0x7F800000u), 0x7FC00000u);
  EXPECT_EQ(fp32_add(0x7F800001u, 0x3F800000u), 0x7FC00000u);  // signalling NaN in
  EXPECT_EQ(fp32_add(0xFFC00000u, 0x00000000u), 0x7FC00000u);  // negative NaN in
  EXPECT_EQ(fp32_add(0x7FFFFFFFu, 0xFFFFFFFFu), 0x7FC00000u);  // payloads dropped
  EXPECT_EQ(canonicalize(bits_to_f32(0xFFA00005u)), 0x7FC00000u);
}

TEST(ModelFp32Add, SignedZeros) {
  EXPECT_EQ(fp32_add(0x3FC00000u, 0xBFC00000u), 0x00000000u);  // 1.5 + -1.5 = +0
  EXPECT_EQ(fp32_add(0x80000001u, 0x00000001u), 0x00000000u);  // subnormal x + -x = +0
  EXPECT_EQ(fp32_add(0x80000000u, 0x80000000u), 0x80000000u);  // -0 + -0 = -0
  EXPECT_EQ(fp32_add(0x00000000u, 0x80000000u), 0x00000000u);  // +0 + -0 = +0
  EXPECT_EQ(fp32_add(0x80000000u, 0x00000000u), 0x00000000u);
  EXPECT_EQ(fp32_add(0x80000000u, 0xBF800000u), 0xBF800000u);  // -0 + -1 = -1
}

// ---------------------------------------------------------------------------
// bf16
// ---------------------------------------------------------------------------

TEST(ModelBf16Mul, ExactProducts) {
  // 1.5 (0x3FC0) * 1.5 = 2.25 = 1.125 * 2^1.
  EXPECT_EQ(bf16_mul(0x3FC0, 0x3FC0), 0x40100000u);
  // (255/128)^2 = 65025 * 2^-14: 16 significant bits, exact.
  EXPECT_EQ(bf16_mul(0x3FFF, 0x3FFF), 0x407E0100u);
  // -0.5 * 4 = -2; 2^127 * 2^-126 = 2.
  EXPECT_EQ(bf16_mul(0xBF00, 0x4080), 0xC0000000u);
  EXPECT_EQ(bf16_mul(0x7F00, 0x0080), 0x40000000u);
  // max bf16 * 1 = max bf16 widened.
  EXPECT_EQ(bf16_mul(0x7F7F, 0x3F80), 0x7F7F0000u);
  // (255/128 * 2^126) * (255/128) = 65025/16384 * 2^126: finite, exact.
  EXPECT_EQ(bf16_mul(0x7EFF, 0x3FFF), 0x7F7E0100u);
  // bf16 subnormal input 0x0001 = 2^-133 is kept: * 1 = 2^-133 = 2^16 * 2^-149.
  EXPECT_EQ(bf16_mul(0x0001, 0x3F80), 0x00010000u);
  // Signed zeros: -0 * 1 = -0, -1 * +0 = -0, -0 * -0 = +0.
  EXPECT_EQ(bf16_mul(0x8000, 0x3F80), 0x80000000u);
  EXPECT_EQ(bf16_mul(0xBF80, 0x0000), 0x80000000u);
  EXPECT_EQ(bf16_mul(0x8000, 0x8000), 0x00000000u);
}

TEST(ModelBf16Mul, UnderflowRoundsIntoSubnormals) {
  // 2^-126 (0x0080) * 2^-10 (0x3A80) = 2^-136 = 2^13 * 2^-149: exact subnormal.
  EXPECT_EQ(bf16_mul(0x0080, 0x3A80), 0x00002000u);
  // (255/128 * 2^-126) * 0.5 = 255 * 2^-134 = 0x7F8000 * 2^-149: exact.
  EXPECT_EQ(bf16_mul(0x00FF, 0x3F00), 0x007F8000u);
  // 1.5*2^-126 (0x00C0) * 2^-23 (0x3400) = 1.5 * 2^-149: tie -> 2 (even).
  EXPECT_EQ(bf16_mul(0x00C0, 0x3400), 0x00000002u);
  // 1.25*2^-126 (0x00A0) * 2^-22 (0x3480) = 2.5 * 2^-149: tie -> 2 (even).
  EXPECT_EQ(bf16_mul(0x00A0, 0x3480), 0x00000002u);
  // 1.25*2^-126 * 2^-23 = 1.25 * 2^-149 -> 1.
  EXPECT_EQ(bf16_mul(0x00A0, 0x3400), 0x00000001u);
  // 1.75*2^-126 (0x00E0) * 2^-23 = 1.75 * 2^-149 -> 2.
  EXPECT_EQ(bf16_mul(0x00E0, 0x3400), 0x00000002u);
  // 1.5*2^-126 * 2^-24 (0x3380) = 0.75 * 2^-149 -> 1 (min subnormal).
  EXPECT_EQ(bf16_mul(0x00C0, 0x3380), 0x00000001u);
  // 255/128*2^-126 * 2^-22 = 255/64 * 2^-149 = 3.984375 -> 4.
  EXPECT_EQ(bf16_mul(0x00FF, 0x3480), 0x00000004u);
  // 2^-126 * 2^-24 = 2^-150: tie between 0 and 2^-149 -> +0 / -0 (even).
  EXPECT_EQ(bf16_mul(0x0080, 0x3380), 0x00000000u);
  EXPECT_EQ(bf16_mul(0x8080, 0x3380), 0x80000000u);
  // 1.5*2^-126 * -2^-24 = -0.75 * 2^-149 -> -2^-149.
  EXPECT_EQ(bf16_mul(0x00C0, 0xB380), 0x80000001u);
}

TEST(ModelBf16Mul, OverflowAndSpecials) {
  EXPECT_EQ(bf16_mul(0x7F00, 0x4000), 0x7F800000u);  // 2^127 * 2 = 2^128 -> inf
  EXPECT_EQ(bf16_mul(0xFF00, 0x4000), 0xFF800000u);  // -> -inf
  EXPECT_EQ(bf16_mul(0x7F7F, 0x7F7F), 0x7F800000u);  // max * max
  EXPECT_EQ(bf16_mul(0x7F7F, 0xBFFF), 0xFF800000u);  // max * -(255/128) -> -inf
  EXPECT_EQ(bf16_mul(0x7F80, 0xBF80), 0xFF800000u);  // inf * -1
  EXPECT_EQ(bf16_mul(0x0000, 0x7F80), 0x7FC00000u);  // 0 * inf = canonical NaN
  EXPECT_EQ(bf16_mul(0xFF81, 0x3F80), 0x7FC00000u);  // NaN (signalling, negative) in
}

TEST(ModelBf16Convert, F32ToBf16RoundsTiesToEven) {
  EXPECT_EQ(f32_to_bf16(bits_to_f32(0x3F808000u)), 0x3F80);  // tie, even -> down
  EXPECT_EQ(f32_to_bf16(bits_to_f32(0x3F818000u)), 0x3F82);  // tie, odd -> up
  EXPECT_EQ(f32_to_bf16(bits_to_f32(0x3F808001u)), 0x3F81);  // above tie
  EXPECT_EQ(f32_to_bf16(bits_to_f32(0x3F807FFFu)), 0x3F80);  // below tie
  EXPECT_EQ(f32_to_bf16(bits_to_f32(0xBF808000u)), 0xBF80);  // negative tie
  EXPECT_EQ(f32_to_bf16(bits_to_f32(0xBF818000u)), 0xBF82);
  EXPECT_EQ(f32_to_bf16(bits_to_f32(0x00008000u)), 0x0000);  // subnormal tie -> 0
  EXPECT_EQ(f32_to_bf16(bits_to_f32(0x00018000u)), 0x0002);  // subnormal tie -> up
  EXPECT_EQ(f32_to_bf16(bits_to_f32(0x007FFFFFu)), 0x0080);  // max subnormal -> min normal
  EXPECT_EQ(f32_to_bf16(bits_to_f32(0x7F7F7FFFu)), 0x7F7F);  // stays max bf16
  EXPECT_EQ(f32_to_bf16(bits_to_f32(0x7F7FFFFFu)), 0x7F80);  // max f32 -> inf
  EXPECT_EQ(f32_to_bf16(bits_to_f32(0xFF7F8000u)), 0xFF80);  // tie at the top -> -inf
  EXPECT_EQ(f32_to_bf16(bits_to_f32(0x7F800000u)), 0x7F80);
  EXPECT_EQ(f32_to_bf16(bits_to_f32(0xFF800000u)), 0xFF80);
  EXPECT_EQ(f32_to_bf16(bits_to_f32(0x80000000u)), 0x8000);
  // NaN whose payload is only in the low half must not turn into inf.
  EXPECT_EQ(f32_to_bf16(bits_to_f32(0x7F800001u)), 0x7FC0);
  EXPECT_EQ(f32_to_bf16(bits_to_f32(0xFFFFFFFFu)), 0x7FC0);
}

TEST(ModelBf16Convert, Bf16ToF32IsExactWidening) {
  EXPECT_EQ(f32_to_bits(bf16_to_f32(0x3F80)), 0x3F800000u);
  EXPECT_EQ(f32_to_bits(bf16_to_f32(0x8001)), 0x80010000u);
  EXPECT_EQ(f32_to_bits(bf16_to_f32(0xFF80)), 0xFF800000u);
  EXPECT_EQ(bf16_to_f32(0x4B80), 16777216.0f);
}

// ---------------------------------------------------------------------------
// int8
// ---------------------------------------------------------------------------

TEST(ModelInt8, ExtremeProducts) {
  EXPECT_EQ(int8_mul(0x80, 0x80), 0x00004000u);  // -128 * -128 = 16384
  EXPECT_EQ(int8_mul(0x80, 0x7F), 0xFFFFC080u);  // -128 * 127 = -16256
  EXPECT_EQ(int8_mul(0x7F, 0x7F), 0x00003F01u);  // 127 * 127 = 16129
  EXPECT_EQ(int8_mul(0xFF, 0x02), 0xFFFFFFFEu);  // -1 * 2
  EXPECT_EQ(int8_mul(0x00, 0x80), 0x00000000u);
  // The upper byte of the raw operand is ignored.
  EXPECT_EQ(int8_mul(0xAB80, 0x1280), 0x00004000u);
  EXPECT_EQ(int8_mul(0x01FF, 0xFF02), 0xFFFFFFFEu);
}

TEST(ModelInt8, Int32AddWraps) {
  EXPECT_EQ(int32_add(0x7FFFFFFFu, 0x00000001u), 0x80000000u);
  EXPECT_EQ(int32_add(0xFFFFFFFFu, 0x00000001u), 0x00000000u);
  EXPECT_EQ(int32_add(0x80000000u, 0xFFFFFFFFu), 0x7FFFFFFFu);
  EXPECT_EQ(mac(Datapath::kInt8, 0x7FFFC000u, 0x80, 0x80), 0x80000000u);  // + 16384 wraps
}

// ---------------------------------------------------------------------------
// Host arithmetic: no flush-to-zero, no denormals-are-zero, no fusion.
// ---------------------------------------------------------------------------

[[gnu::noinline]] float mul_then_add(float a, float b, float c) { return a * b + c; }

TEST(ModelHost, KeepsSubnormals) {
  EXPECT_EQ(fp32_add(0x00000001u, 0x00000001u), 0x00000002u);
  EXPECT_EQ(bf16_mul(0x0080, 0x3F00), 0x00400000u);  // 2^-126 * 0.5 = 2^-127
  volatile float tiny = bits_to_f32(0x00000003u);
  EXPECT_EQ(f32_to_bits(tiny * 1.0f), 0x00000003u);  // DAZ would give 0
#if defined(__SSE__)
  // MXCSR bit 15 = FTZ, bit 6 = DAZ.
  EXPECT_EQ(_mm_getcsr() & 0x8040u, 0u);
#endif
}

TEST(ModelHost, DoesNotFuseMultiplyAdd) {
  // x = 1 + 2^-12: x*x = 1 + 2^-11 + 2^-24 rounds (tie, even) to 1 + 2^-11,
  // so x*x - (1 + 2^-11) is +0 unfused and 2^-24 (0x33800000) fused.
  volatile float x = bits_to_f32(0x3F800800u);
  volatile float c = bits_to_f32(0xBF801000u);
  EXPECT_EQ(f32_to_bits(mul_then_add(x, x, c)), 0x00000000u);
  // The same through mac(): -2^-149 + (1.5*2^-126 * 2^-24): the product
  // rounds to 2^-149, giving +0; fused it would be -2^-151 -> -0.
  EXPECT_EQ(mac(Datapath::kBf16, 0x80000001u, 0x00C0, 0x3380), 0x00000000u);
}

// ---------------------------------------------------------------------------
// GEMM
// ---------------------------------------------------------------------------

TEST(ModelGemm, SmallInt8HandComputed) {
  // A = [[1, -2, 3], [-128, 127, 0]], B = [[4, -5], [6, 7], [-8, 127]]
  RawMatrix a(2, 3);
  a << 0x01, 0xFE, 0x03, 0x80, 0x7F, 0x00;
  RawMatrix b(3, 2);
  b << 0x04, 0xFB, 0x06, 0x07, 0xF8, 0x7F;
  AccMatrix expected(2, 2);
  expected << 0xFFFFFFE0u,  // 4 - 12 - 24 = -32
      0x0000016Au,          // -5 - 14 + 381 = 362
      0x000000FAu,          // -512 + 762 + 0 = 250
      0x000005F9u;          // 640 + 889 + 0 = 1529
  for (Index k_fold : {1, 2, 3, 7}) {
    EXPECT_EQ(gemm(Datapath::kInt8, a, b, k_fold), expected) << "k_fold " << k_fold;
  }
  Eigen::MatrixXd expected_d(2, 2);
  expected_d << -32, 362, 250, 1529;
  EXPECT_EQ(gemm_double(Datapath::kInt8, a, b), expected_d);
  EXPECT_EQ(to_double_acc(Datapath::kInt8, expected), expected_d);
}

TEST(ModelGemm, Int8AccumulatorWraps) {
  // 131073 * (-128 * -128) = 2147500032 = 0x80004000 > INT32_MAX.
  const Index k = 131073;
  const RawMatrix a = filled(1, k, 0x80);
  EXPECT_EQ(gemm(Datapath::kInt8, a, filled(k, 1, 0x80), 16)(0, 0), 0x80004000u);
  // 196608 * (-128 * 127) = -3196059648 = 0x41800000 mod 2^32.
  const Index k2 = 196608;
  EXPECT_EQ(gemm(Datapath::kInt8, filled(1, k2, 0x80), filled(k2, 1, 0x7F), k2)(0, 0), 0x41800000u);
}

TEST(ModelGemm, SmallBf16HandComputed) {
  // A = [[1, 2, -0.5], [1.5, 0, 3]], B = [[0.25, -1], [4, 0.5], [2, 8]]
  RawMatrix a(2, 3);
  a << 0x3F80, 0x4000, 0xBF00, 0x3FC0, 0x0000, 0x4040;
  RawMatrix b(3, 2);
  b << 0x3E80, 0xBF80, 0x4080, 0x3F00, 0x4000, 0x4100;
  AccMatrix expected(2, 2);
  expected << 0x40E80000u,  // 0.25 + 8 - 1 = 7.25
      0xC0800000u,          // -1 + 1 - 4 = -4
      0x40CC0000u,          // 0.375 + 0 + 6 = 6.375
      0x41B40000u;          // -1.5 + 0 + 24 = 22.5
  for (Index k_fold : {1, 2, 3, 4}) {
    EXPECT_EQ(gemm(Datapath::kBf16, a, b, k_fold), expected) << "k_fold " << k_fold;
  }
}

TEST(ModelGemm, Bf16FoldSizeChangesResult) {
  // Products 2^24, 1, 1, -2^24 (A = [2^24, 1, 1, -2^24], B = ones).
  RawMatrix a(1, 4);
  a << 0x4B80, 0x3F80, 0x3F80, 0xCB80;
  const RawMatrix b = filled(4, 1, 0x3F80);
  // One fold: 2^24 + 1 -> 2^24 (tie, even), + 1 -> 2^24, - 2^24 -> +0.
  EXPECT_EQ(gemm(Datapath::kBf16, a, b, 4)(0, 0), 0x00000000u);
  // Folds of 2: s0 = 2^24 + 1 -> 2^24; s1 = 1 - 2^24 = -16777215 (exact);
  // C = 2^24 - 16777215 = 1.
  EXPECT_EQ(gemm(Datapath::kBf16, a, b, 2)(0, 0), 0x3F800000u);
  // Folds of 1: 2^24 + 1 -> 2^24, + 1 -> 2^24, - 2^24 = +0.
  EXPECT_EQ(gemm(Datapath::kBf16, a, b, 1)(0, 0), 0x00000000u);
  // Through fold_size: OS accumulates all K in one fold, WS/IS with 2 rows fold by 2.
  EXPECT_EQ(gemm(Datapath::kBf16, a, b, fold_size(Dataflow::kOs, 2, 4))(0, 0), 0x00000000u);
  EXPECT_EQ(gemm(Datapath::kBf16, a, b, fold_size(Dataflow::kWs, 2, 4))(0, 0), 0x3F800000u);
  EXPECT_EQ(gemm(Datapath::kBf16, a, b, fold_size(Dataflow::kIs, 2, 4))(0, 0), 0x3F800000u);
}

TEST(ModelGemm, Bf16FoldsCombineLeftToRight) {
  // Products 2^24, 0, 1, 0, 1, 0 in folds of 2: s = (2^24, 1, 1).
  // ((2^24 + 1) + 1) = 2^24 (two ties to even); 2^24 + (1 + 1) would be 2^24 + 2.
  RawMatrix a(1, 6);
  a << 0x4B80, 0x0000, 0x3F80, 0x0000, 0x3F80, 0x0000;
  const RawMatrix b = filled(6, 1, 0x3F80);
  EXPECT_EQ(gemm(Datapath::kBf16, a, b, 2)(0, 0), 0x4B800000u);
  // Products 1, 0, 1, 0, 2^24, 0: 1 + 1 = 2, 2 + 2^24 = 2^24 + 2 (exact).
  RawMatrix a2(1, 6);
  a2 << 0x3F80, 0x0000, 0x3F80, 0x0000, 0x4B80, 0x0000;
  EXPECT_EQ(gemm(Datapath::kBf16, a2, b, 2)(0, 0), 0x4B800001u);
}

TEST(ModelGemm, Bf16FoldSumsStartAtPositiveZero) {
  // -1 * +0 = -0, and +0 + -0 = +0: the result is +0, not -0.
  RawMatrix a(1, 1);
  a << 0xBF80;
  RawMatrix b(1, 1);
  b << 0x0000;
  EXPECT_EQ(gemm(Datapath::kBf16, a, b, 1)(0, 0), 0x00000000u);
  // K = 0: every result is +0.
  EXPECT_EQ(gemm(Datapath::kBf16, RawMatrix(2, 0), RawMatrix(0, 3), 4), AccMatrix::Zero(2, 3));
}

TEST(ModelGemm, Bf16DoesNotFuse) {
  // Products -2^-149 (exact) then 1.5*2^-150 (rounds to 2^-149): unfused
  // sum +0, a fused accumulate would give -2^-151 -> -0.
  RawMatrix a(1, 2);
  a << 0x8080, 0x00C0;
  RawMatrix b(2, 1);
  b << 0x3400, 0x3380;
  EXPECT_EQ(gemm(Datapath::kBf16, a, b, 2)(0, 0), 0x00000000u);
  EXPECT_EQ(gemm(Datapath::kBf16, a, b, 1)(0, 0), 0x00000000u);
}

TEST(ModelGemm, Bf16SpecialsGiveCanonicalNan) {
  RawMatrix a(2, 2);
  a << 0x7F80, 0x3F80,  // [inf, 1]
      0x7F81, 0x3F80;   // [sNaN, 1]
  RawMatrix b(2, 2);
  b << 0x3F80, 0x0000,  // inf * 1, inf * 0 = NaN
      0xFF80, 0x3F80;   // 1 * -inf, 1 * 1
  AccMatrix expected(2, 2);
  expected << 0x7FC00000u, 0x7FC00000u,  // inf + -inf; NaN + 1
      0x7FC00000u, 0x7FC00000u;          // NaN + -inf; NaN + 1
  EXPECT_EQ(gemm(Datapath::kBf16, a, b, 2), expected);
  RawMatrix c(1, 2);
  c << 0x7F80, 0x7F80;  // inf * 1 + inf * 1 stays inf
  EXPECT_EQ(gemm(Datapath::kBf16, c, filled(2, 1, 0x3F80), 1)(0, 0), 0x7F800000u);
}

TEST(ModelGemm, MatchesScalarReferenceOnRandomOperands) {
  std::mt19937_64 rng(0x5A5A5A5Aull);
  struct Shape {
    Index m, k, n;
  };
  int nan_results = 0;
  for (Datapath dp : {Datapath::kInt8, Datapath::kBf16}) {
    for (OperandMix mix : {OperandMix::kUniform, OperandMix::kEdgeCases, OperandMix::kSpecials}) {
      for (Shape s : {Shape{1, 1, 1}, Shape{5, 7, 3}, Shape{9, 33, 17}, Shape{16, 40, 19}}) {
        const RawMatrix a = random_operands(dp, s.m, s.k, rng, mix);
        const RawMatrix b = random_operands(dp, s.k, s.n, rng, mix);
        for (Index k_fold : {Index{1}, Index{3}, Index{4}, Index{8}, s.k, s.k + 5}) {
          const AccMatrix c = gemm(dp, a, b, k_fold);
          ASSERT_EQ(c, reference_gemm(dp, a, b, k_fold))
              << to_string(dp) << " " << to_string(mix) << " " << s.m << "x" << s.k << "x" << s.n
              << " k_fold " << k_fold;
          if (dp == Datapath::kBf16) {
            for (Index i = 0; i < c.size(); ++i) {
              if (is_nan_bits(c.data()[i])) {
                ++nan_results;
                ASSERT_EQ(c.data()[i], kCanonicalNan);
              }
            }
          }
        }
      }
    }
  }
  EXPECT_GT(nan_results, 0);  // kSpecials (and overflowing kEdgeCases) produced NaNs
}

TEST(ModelGemm, Int8MatchesDoubleProductExactly) {
  std::mt19937_64 rng(7);
  const RawMatrix a = random_operands(Datapath::kInt8, 33, 100, rng, OperandMix::kEdgeCases);
  const RawMatrix b = random_operands(Datapath::kInt8, 100, 21, rng, OperandMix::kUniform);
  EXPECT_EQ(to_double_acc(Datapath::kInt8, gemm(Datapath::kInt8, a, b, 8)),
            gemm_double(Datapath::kInt8, a, b));
}

TEST(ModelGemm, Bf16Large256IsFast) {
  std::mt19937_64 rng(256);
  const RawMatrix a = random_operands(Datapath::kBf16, 256, 256, rng, OperandMix::kUniform);
  const RawMatrix b = random_operands(Datapath::kBf16, 256, 256, rng, OperandMix::kUniform);
  const auto t0 = std::chrono::steady_clock::now();
  const AccMatrix c = gemm(Datapath::kBf16, a, b, 16);
  const auto t1 = std::chrono::steady_clock::now();
  EXPECT_LT(std::chrono::duration<double>(t1 - t0).count(), 2.0);
  // Spot-check a few elements against the scalar reference.
  for (Index i : {0, 77, 255}) {
    const AccMatrix ref = reference_gemm(Datapath::kBf16, a.row(i), b.middleCols(i / 2, 3), 16);
    EXPECT_EQ(ref, c.block(i, i / 2, 1, 3));
  }
}

TEST(ModelGemm, ShapeErrors) {
  const RawMatrix a = RawMatrix::Zero(2, 3);
  const RawMatrix b = RawMatrix::Zero(4, 2);
  EXPECT_THROW(gemm(Datapath::kInt8, a, b, 1), std::invalid_argument);
  EXPECT_THROW(gemm(Datapath::kBf16, a, b, 1), std::invalid_argument);
  EXPECT_THROW(gemm_double(Datapath::kBf16, a, b), std::invalid_argument);
  EXPECT_THROW(fp32_error_bound(a, b, 1), std::invalid_argument);
  const RawMatrix b_ok = RawMatrix::Zero(3, 2);
  EXPECT_THROW(gemm(Datapath::kBf16, a, b_ok, 0), std::invalid_argument);
  EXPECT_THROW(gemm(Datapath::kInt8, a, b_ok, -1), std::invalid_argument);
  EXPECT_THROW(fp32_error_bound(a, b_ok, 0), std::invalid_argument);
  EXPECT_NO_THROW(gemm(Datapath::kBf16, a, b_ok, 1));
  EXPECT_THAT([&] { gemm(Datapath::kInt8, a, b, 1); },
              ThrowsMessage<std::invalid_argument>(AllOf(HasSubstr("2x3"), HasSubstr("4x2"))));
}

TEST(ModelGemm, FoldSize) {
  EXPECT_EQ(fold_size(Dataflow::kWs, 8, 100), 8);
  EXPECT_EQ(fold_size(Dataflow::kIs, 4, 3), 4);
  EXPECT_EQ(fold_size(Dataflow::kOs, 8, 100), 100);
  EXPECT_EQ(fold_size(Dataflow::kOs, 8, 0), 1);
  EXPECT_THROW(fold_size(Dataflow::kWs, 0, 10), std::invalid_argument);
  EXPECT_THROW(fold_size(Dataflow::kOs, 4, -1), std::invalid_argument);
}

// ---------------------------------------------------------------------------
// Double reference and error bound
// ---------------------------------------------------------------------------

TEST(ModelBound, Bf16WithinErrorBoundOfDoubleProduct) {
  std::mt19937_64 rng(1234);
  for (Index k : {1, 16, 100, 257}) {
    const RawMatrix a = random_operands(Datapath::kBf16, 24, k, rng, OperandMix::kUniform);
    const RawMatrix b = random_operands(Datapath::kBf16, k, 20, rng, OperandMix::kUniform);
    const Eigen::MatrixXd ref = gemm_double(Datapath::kBf16, a, b);
    for (Index k_fold : {Index{1}, Index{4}, Index{16}, k}) {
      const Eigen::MatrixXd c = to_double_acc(Datapath::kBf16, gemm(Datapath::kBf16, a, b, k_fold));
      const Eigen::MatrixXd bound = fp32_error_bound(a, b, k_fold);
      // The double reference is accurate to ~k*2^-53 relative: negligible.
      EXPECT_TRUE(((c - ref).cwiseAbs().array() <= bound.array() * (1 + 1e-6)).all())
          << "k " << k << " k_fold " << k_fold;
    }
  }
}

TEST(ModelBound, Bf16EdgeCasesWithinBoundWhenNoOverflow) {
  // Short K: with 8% near-max operands most long dot products overflow.
  std::mt19937_64 rng(99);
  const Index k = 16;
  const RawMatrix a = random_operands(Datapath::kBf16, 48, k, rng, OperandMix::kEdgeCases);
  const RawMatrix b = random_operands(Datapath::kBf16, k, 48, rng, OperandMix::kEdgeCases);
  const Eigen::MatrixXd ref = gemm_double(Datapath::kBf16, a, b);
  const Eigen::MatrixXd abs_sum =
      to_double(Datapath::kBf16, a).cwiseAbs() * to_double(Datapath::kBf16, b).cwiseAbs();
  for (Index k_fold : {1, 4, 16}) {
    const Eigen::MatrixXd c = to_double_acc(Datapath::kBf16, gemm(Datapath::kBf16, a, b, k_fold));
    const Eigen::MatrixXd bound = fp32_error_bound(a, b, k_fold);
    int checked = 0;
    for (Index i = 0; i < c.size(); ++i) {
      if (abs_sum.data()[i] >= 0x1.0p126) continue;  // partial sums might overflow
      ++checked;
      EXPECT_LE(std::abs(c.data()[i] - ref.data()[i]), bound.data()[i] * (1 + 1e-6))
          << "element " << i << " k_fold " << k_fold;
    }
    EXPECT_GT(checked, 400);
  }
}

TEST(ModelBound, BoundFormula) {
  // A = [1, 1, 1], B = [1; -1; 1]: sum |a||b| = 3; k_fold 2 -> 2 folds, n = 4.
  RawMatrix a(1, 3);
  a << 0x3F80, 0x3F80, 0x3F80;
  RawMatrix b(3, 1);
  b << 0x3F80, 0xBF80, 0x3F80;
  const double u = 0x1.0p-24;
  const double gamma4 = 4 * u / (1 - 4 * u);
  const double expected = gamma4 * 3 + 3 * 0x1.0p-150 * (1 + gamma4);
  EXPECT_DOUBLE_EQ(fp32_error_bound(a, b, 2)(0, 0), expected);
  // k_fold 3 -> 1 fold, n = 4 as well; k_fold 1 -> 3 folds, n = 4.
  EXPECT_DOUBLE_EQ(fp32_error_bound(a, b, 1)(0, 0), expected);
  // k_fold 8 -> n = 9.
  const double gamma9 = 9 * u / (1 - 9 * u);
  EXPECT_DOUBLE_EQ(fp32_error_bound(a, b, 8)(0, 0), gamma9 * 3 + 3 * 0x1.0p-150 * (1 + gamma9));
  EXPECT_DOUBLE_EQ(gemm_double(Datapath::kBf16, a, b)(0, 0), 1.0);
}

TEST(ModelBound, UnderflowTermIsNeeded) {
  // 1.5*2^-126 * 2^-24 = 0.75 * 2^-149 rounds to 2^-149: error 2^-151, far
  // above gamma_2 * 1.5*2^-150, but within the K * 2^-150 underflow term.
  RawMatrix a(1, 1);
  a << 0x00C0;
  RawMatrix b(1, 1);
  b << 0x3380;
  const double exact = 0x1.8p-150;
  EXPECT_DOUBLE_EQ(gemm_double(Datapath::kBf16, a, b)(0, 0), exact);
  const double c = to_double_acc(Datapath::kBf16, gemm(Datapath::kBf16, a, b, 1))(0, 0);
  EXPECT_EQ(c, 0x1.0p-149);
  const double u = 0x1.0p-24;
  const double gamma2 = 2 * u / (1 - 2 * u);
  EXPECT_GT(std::abs(c - exact), gamma2 * exact);
  EXPECT_LE(std::abs(c - exact), fp32_error_bound(a, b, 1)(0, 0));
}

// ---------------------------------------------------------------------------
// Random operands
// ---------------------------------------------------------------------------

TEST(ModelRandom, Int8OperandsCoverRange) {
  std::mt19937_64 rng(1);
  const RawMatrix m = random_operands(Datapath::kInt8, 64, 64, rng, OperandMix::kUniform);
  EXPECT_TRUE((m.array() <= 0xFF).all());  // upper byte is zero
  const Eigen::MatrixXd v = to_double(Datapath::kInt8, m);
  EXPECT_EQ(v.minCoeff(), -128.0);
  EXPECT_EQ(v.maxCoeff(), 127.0);
  EXPECT_NEAR(v.mean(), -0.5, 3.0);
  const RawMatrix e = random_operands(Datapath::kInt8, 32, 32, rng, OperandMix::kEdgeCases);
  EXPECT_GT((e.array() == 0x80).count(), 50);  // -128 is frequent
  EXPECT_GT((e.array() == 0x7F).count(), 30);
}

TEST(ModelRandom, Bf16UniformInRange) {
  std::mt19937_64 rng(2);
  const RawMatrix m = random_operands(Datapath::kBf16, 64, 64, rng, OperandMix::kUniform);
  const Eigen::MatrixXd v = to_double(Datapath::kBf16, m);
  EXPECT_TRUE(v.allFinite());
  EXPECT_LE(v.maxCoeff(), 2.0);
  EXPECT_GE(v.minCoeff(), -2.0);
  EXPECT_GT(v.maxCoeff(), 1.9);
  EXPECT_LT(v.minCoeff(), -1.9);
  EXPECT_NEAR(v.cwiseAbs().mean(), 1.0, 0.1);
}

TEST(ModelRandom, Bf16EdgeCasesAndSpecials) {
  std::mt19937_64 rng(3);
  const RawMatrix e = random_operands(Datapath::kBf16, 64, 64, rng, OperandMix::kEdgeCases);
  const auto exponent = [](std::uint16_t v) { return (v >> 7) & 0xFF; };
  int pos_zero = 0, neg_zero = 0, subnormal = 0, tiny = 0, huge = 0, negative = 0, special = 0;
  for (Index i = 0; i < e.size(); ++i) {
    const std::uint16_t v = e.data()[i];
    pos_zero += v == 0x0000;
    neg_zero += v == 0x8000;
    subnormal += exponent(v) == 0 && (v & 0x7F) != 0;
    tiny += exponent(v) >= 1 && exponent(v) <= 4;
    huge += exponent(v) >= 250 && exponent(v) <= 254;
    negative += (v & 0x8000) != 0 && v != 0x8000;
    special += exponent(v) == 0xFF;
  }
  EXPECT_GT(pos_zero, 100);
  EXPECT_GT(neg_zero, 100);
  EXPECT_GT(subnormal, 100);
  EXPECT_GT(tiny, 100);
  EXPECT_GT(huge, 100);
  EXPECT_GT(negative, 1000);
  EXPECT_EQ(special, 0);  // no inf/NaN in kEdgeCases

  const RawMatrix s = random_operands(Datapath::kBf16, 64, 64, rng, OperandMix::kSpecials);
  int inf = 0, nan = 0;
  for (Index i = 0; i < s.size(); ++i) {
    const std::uint16_t v = s.data()[i];
    inf += (v & 0x7FFF) == 0x7F80;
    nan += exponent(v) == 0xFF && (v & 0x7F) != 0;
  }
  EXPECT_GT(inf, 50);
  EXPECT_GT(nan, 50);
}

TEST(ModelRandom, DeterministicForSeed) {
  std::mt19937_64 r1(42), r2(42), r3(43);
  for (OperandMix mix : {OperandMix::kUniform, OperandMix::kEdgeCases, OperandMix::kSpecials}) {
    const RawMatrix m1 = random_operands(Datapath::kBf16, 8, 9, r1, mix);
    const RawMatrix m2 = random_operands(Datapath::kBf16, 8, 9, r2, mix);
    const RawMatrix m3 = random_operands(Datapath::kBf16, 8, 9, r3, mix);
    EXPECT_EQ(m1, m2);
    EXPECT_NE(m1, m3);
  }
  EXPECT_EQ(random_operands(Datapath::kInt8, 0, 5, r1).size(), 0);
  EXPECT_THROW(random_operands(Datapath::kInt8, -1, 5, r1), std::invalid_argument);
}

}  // namespace
}  // namespace sasim::model
