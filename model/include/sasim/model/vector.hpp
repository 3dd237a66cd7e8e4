// Golden semantics of the vector unit (VEC instruction, rtl/sa_vpu.sv): one
// 32-bit lane at a time. See docs/numerics.md, "Vector unit".
//
// A lane holds binary32 bits on the bf16 datapath and int32 bits on the int8
// datapath. x is the source row's lane, b the second row's (bias, saved
// pre-activation, y), imm the instruction's 32-bit scalar, shift the CONFIG
// int8_shift (0..31).
//
//   op         bf16 datapath (binary32)              int8 datapath (int32)
//   ADD_ROW    x + b (RNE)                           x + b (wrap)
//   RELU       NaN -> NaN; x > 0 ? x : +0            max(x, 0)
//   RELU_MASK  b > 0 ? x : +0 (NaN b is not > 0;     b > 0 ? x : 0 (signed)
//              a NaN x passed is made canonical)
//   SCALE      imm * x (RNE)                         imm * x (wrap)
//   AXPY       (imm * x) + b, two roundings          imm * x + b (wrap)
//   TO_BF16    binary32 -> bf16 RNE in bits 15:0, bits 31:16 zero (both datapaths)
//   TO_INT8    int32 >> shift, round half to even, saturate to [-128, 127],
//              sign-extended to 32 bits (both datapaths: an integer operation
//              on the lane bits)
//   COPY       x, bit for bit (both datapaths; no NaN canonicalisation)
//   MUL        x * b (RNE)                           x * b (wrap)
//   DIV        x / b, binary32 RNE (both datapaths)
//   SQRT       sqrt(x), binary32 RNE (both datapaths)
//   ADD_IMM    x + imm (RNE)                         x + imm (wrap)
//
// Every binary32 NaN result (all ops but TO_BF16, TO_INT8 and COPY) is the
// canonical 0x7FC00000; TO_BF16 gives the canonical bf16 NaN 0x7FC0.
#pragma once

#include <cstdint>

#include "sasim/model/types.hpp"
#include "sasim/spec/contract.hpp"

namespace sasim::model {

// One lane of a VEC instruction. Throws std::invalid_argument for an op value
// outside the ISA's vec_op enum and std::out_of_range for shift > 31.
std::uint32_t vec_lane(Datapath dp, isa::VecOp op, std::uint32_t x, std::uint32_t b,
                       std::uint32_t imm, unsigned shift);

// TO_INT8 on its own: int32 x, arithmetically shifted right by shift (0..31)
// with round-half-to-even on the discarded bits, saturated to [-128, 127].
std::int8_t requantize_int8(std::int32_t x, unsigned shift);

// binary32 `v > 0` (false for zeros of either sign, negatives and NaNs).
constexpr bool fp32_gt_zero(std::uint32_t v) {
  return (v >> 31) == 0 && v != 0 && v <= 0x7F800000u;
}

}  // namespace sasim::model
