// Golden semantics of the vector unit (vector.hpp).
#include "sasim/model/vector.hpp"

#include <stdexcept>
#include <string>

#include "sasim/model/numerics.hpp"

namespace sasim::model {
namespace {

using u32 = std::uint32_t;

bool is_nan_bits(u32 v) { return (v & 0x7FFFFFFFu) > 0x7F800000u; }

u32 lane_fp32(isa::VecOp op, u32 x, u32 b, u32 imm) {
  switch (op) {
    case isa::VecOp::kAddRow:
      return fp32_add(x, b);
    case isa::VecOp::kRelu:
      return is_nan_bits(x) ? kCanonicalNan : (fp32_gt_zero(x) ? x : 0u);
    case isa::VecOp::kReluMask:
      return fp32_gt_zero(b) ? (is_nan_bits(x) ? kCanonicalNan : x) : 0u;
    case isa::VecOp::kScale:
      return fp32_mul(imm, x);
    case isa::VecOp::kAxpy:
      return fp32_add(fp32_mul(imm, x), b);
    case isa::VecOp::kMul:
      return fp32_mul(x, b);
    case isa::VecOp::kAddImm:
      return fp32_add(x, imm);
    default:
      break;
  }
  throw std::logic_error("lane_fp32: not a binary32 vector op");
}

u32 lane_int32(isa::VecOp op, u32 x, u32 b, u32 imm) {
  const auto sx = static_cast<std::int32_t>(x);
  const auto sb = static_cast<std::int32_t>(b);
  switch (op) {
    case isa::VecOp::kAddRow:
      return x + b;  // modulo 2^32
    case isa::VecOp::kRelu:
      return sx > 0 ? x : 0u;
    case isa::VecOp::kReluMask:
      return sb > 0 ? x : 0u;
    case isa::VecOp::kScale:
      return imm * x;  // low 32 bits of the product
    case isa::VecOp::kAxpy:
      return imm * x + b;
    case isa::VecOp::kMul:
      return x * b;  // low 32 bits of the product
    case isa::VecOp::kAddImm:
      return x + imm;
    default:
      break;
  }
  throw std::logic_error("lane_int32: not an int32 vector op");
}

}  // namespace

std::int8_t requantize_int8(std::int32_t x, unsigned shift) {
  if (shift > 31) {
    throw std::out_of_range("requantize_int8: shift " + std::to_string(shift) +
                            " is out of range (allowed 0..31)");
  }
  const std::int64_t v = x;
  std::int64_t q = v >> shift;  // floor(x / 2^shift): arithmetic shift
  if (shift > 0) {
    const std::int64_t rem = v - (q << shift);  // discarded bits, 0 <= rem < 2^shift
    const std::int64_t half = std::int64_t{1} << (shift - 1);
    if (rem > half || (rem == half && (q & 1) != 0)) ++q;
  }
  if (q > 127) q = 127;
  if (q < -128) q = -128;
  return static_cast<std::int8_t>(q);
}

std::uint32_t vec_lane(Datapath dp, isa::VecOp op, std::uint32_t x, std::uint32_t b,
                       std::uint32_t imm, unsigned shift) {
  if (shift > 31) {
    throw std::out_of_range("vec_lane: shift " + std::to_string(shift) +
                            " is out of range (allowed 0..31)");
  }
  switch (op) {
    case isa::VecOp::kAddRow:
    case isa::VecOp::kRelu:
    case isa::VecOp::kReluMask:
    case isa::VecOp::kScale:
    case isa::VecOp::kAxpy:
    case isa::VecOp::kMul:
    case isa::VecOp::kAddImm:
      return dp == Datapath::kBf16 ? lane_fp32(op, x, b, imm) : lane_int32(op, x, b, imm);
    case isa::VecOp::kDiv:
      return fp32_div(x, b);
    case isa::VecOp::kSqrt:
      return fp32_sqrt(x);
    case isa::VecOp::kToBf16:
      return f32_to_bf16(bits_to_f32(x));
    case isa::VecOp::kToInt8:
      return static_cast<u32>(
          static_cast<std::int32_t>(requantize_int8(static_cast<std::int32_t>(x), shift)));
    case isa::VecOp::kCopy:
      return x;
  }
  throw std::invalid_argument("vec_lane: vec_op " + std::to_string(static_cast<unsigned>(op)) +
                              " is not in the ISA");
}

}  // namespace sasim::model
