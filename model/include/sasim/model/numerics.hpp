// Bit-exact scalar semantics of the sasim datapaths (see docs/numerics.md).
//
// int8:  products are exact (16 bit), the int32 accumulator wraps modulo 2^32.
// bf16:  bf16 x bf16 is the IEEE binary32 product of the two exact values, rounded
//        once to nearest-even (exact unless it over- or underflows binary32);
//        accumulation is IEEE binary32 addition, round to nearest, ties to even,
//        with gradual underflow (subnormal inputs and results are kept, never
//        flushed). Every NaN result is the canonical quiet NaN 0x7FC00000.
//
// The binary32 operations use the host's IEEE-754 arithmetic (SSE on x86-64,
// no FTZ/DAZ, no FMA contraction: the model is built with -ffp-contract=off),
// so the golden model is IEEE by construction; tests check the host obeys it.
#pragma once

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>

#include "sasim/model/types.hpp"

namespace sasim::model {

static_assert(std::numeric_limits<float>::is_iec559, "sasim needs IEEE-754 binary32 floats");

inline constexpr std::uint32_t kCanonicalNan = 0x7FC00000u;
inline constexpr std::uint16_t kBf16CanonicalNan = 0x7FC0u;

inline float bits_to_f32(std::uint32_t b) { return std::bit_cast<float>(b); }
inline std::uint32_t f32_to_bits(float f) { return std::bit_cast<std::uint32_t>(f); }

// A NaN result becomes the canonical NaN; everything else is unchanged.
inline std::uint32_t canonicalize(float f) {
  return std::isnan(f) ? kCanonicalNan : f32_to_bits(f);
}

// bf16 <-> binary32. bf16 -> f32 is exact; f32 -> bf16 rounds to nearest-even,
// NaN becomes the canonical bf16 NaN 0x7FC0.
inline float bf16_to_f32(std::uint16_t b) { return bits_to_f32(std::uint32_t{b} << 16); }
inline std::uint16_t f32_to_bf16(float f) {
  if (std::isnan(f)) return kBf16CanonicalNan;
  const std::uint32_t u = f32_to_bits(f);
  const std::uint32_t rounding = 0x7FFFu + ((u >> 16) & 1u);
  return static_cast<std::uint16_t>((u + rounding) >> 16);
}

// bf16 x bf16 -> binary32 bits (one rounding, canonical NaN).
inline std::uint32_t bf16_mul(std::uint16_t a, std::uint16_t b) {
  return canonicalize(bf16_to_f32(a) * bf16_to_f32(b));
}

// binary32 + binary32 -> binary32 bits (RNE, canonical NaN).
inline std::uint32_t fp32_add(std::uint32_t x, std::uint32_t y) {
  return canonicalize(bits_to_f32(x) + bits_to_f32(y));
}

// binary32 x binary32 -> binary32 bits (RNE, gradual underflow, canonical NaN).
// Not a PE operation: the vector unit's SCALE and AXPY (vector.hpp).
inline std::uint32_t fp32_mul(std::uint32_t x, std::uint32_t y) {
  return canonicalize(bits_to_f32(x) * bits_to_f32(y));
}

// binary32 / binary32 and sqrt(binary32) -> binary32 bits (IEEE-754: correctly
// rounded, RNE, gradual underflow, canonical NaN). The vector unit's DIV and
// SQRT (vector.hpp), on both datapaths.
inline std::uint32_t fp32_div(std::uint32_t x, std::uint32_t y) {
  return canonicalize(bits_to_f32(x) / bits_to_f32(y));
}
inline std::uint32_t fp32_sqrt(std::uint32_t x) { return canonicalize(std::sqrt(bits_to_f32(x))); }

// int8 x int8 -> int32 (exact), as 32 bits.
inline std::uint32_t int8_mul(std::uint16_t a, std::uint16_t b) {
  const auto sa = static_cast<std::int8_t>(a & 0xFFu);
  const auto sb = static_cast<std::int8_t>(b & 0xFFu);
  return static_cast<std::uint32_t>(std::int32_t{sa} * std::int32_t{sb});
}

// int32 + int32, wrapping modulo 2^32.
inline std::uint32_t int32_add(std::uint32_t x, std::uint32_t y) { return x + y; }

// Datapath-generic product and accumulator addition. Operands are raw bit
// patterns: int8 in the low 8 bits (two's complement), bf16 in 16 bits.
inline std::uint32_t mul(Datapath dp, std::uint16_t a, std::uint16_t b) {
  return dp == Datapath::kBf16 ? bf16_mul(a, b) : int8_mul(a, b);
}
inline std::uint32_t add(Datapath dp, std::uint32_t x, std::uint32_t y) {
  return dp == Datapath::kBf16 ? fp32_add(x, y) : int32_add(x, y);
}
// One PE step: acc + a * b (product rounded, then sum rounded: no fusion).
inline std::uint32_t mac(Datapath dp, std::uint32_t acc, std::uint16_t a, std::uint16_t b) {
  return add(dp, acc, mul(dp, a, b));
}

}  // namespace sasim::model
