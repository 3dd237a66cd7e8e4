// Golden GEMM of the sasim systolic array, plus double-precision references,
// error bounds (for sanity checks) and random operand generators.
//
// C = A (M x K) * B (K x N). The array accumulates in "folds" of k_fold
// consecutive k (k_fold = array rows for WS and IS, k_fold = K for OS; see
// fold_size()). For every (m, n):
//
//   for each fold f, over k in [f*k_fold, min(K, (f+1)*k_fold)):
//     s_f = +0;  for k ascending: s_f = add(s_f, mul(A[m,k], B[k,n]))
//   C[m,n] = s_0;  for f = 1, 2, ...: C[m,n] = add(C[m,n], s_f)
//
// with mul/add from numerics.hpp. For int8 this is the int32 sum wrapped
// modulo 2^32 (the order is irrelevant); for bf16 the order fixes every
// binary32 rounding, so the result is bit-exact.
#pragma once

#include <Eigen/Core>
#include <cstdint>
#include <optional>
#include <random>
#include <string_view>
#include <vector>

#include "sasim/model/types.hpp"

namespace sasim::model {

// Operands as raw bit patterns: int8 in the low 8 bits (two's complement, the
// upper 8 bits are ignored), bf16 as all 16 bits.
using RawMatrix = Eigen::Matrix<std::uint16_t, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
// Results as raw 32-bit patterns: int32 (two's complement) or binary32.
using AccMatrix = Eigen::Matrix<std::uint32_t, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// Bit-exact golden GEMM (see the header comment). Throws std::invalid_argument
// if a.cols() != b.rows() or k_fold < 1. With K = 0 every result is +0.
AccMatrix gemm(Datapath dp, const RawMatrix& a, const RawMatrix& b, Eigen::Index k_fold);

// K split into `shards` consecutive slices [K i / shards, K (i + 1) / shards)
// (or at the given bounds, ascending from 0 to K), each slice's gemm with
// its fold, and the slices' results added in slice order, element by
// element with the vector unit's ADD_ROW (binary32 RNE on bf16, wrap-around
// int32 on int8): the numbers of several cores reducing their partial
// products on the device (host/multicore_kernels.hpp). folds: one per slice.
// Throws std::invalid_argument for bounds that do not cover K in ascending
// order or a folds count that differs.
AccMatrix gemm_slices(Datapath dp, const RawMatrix& a, const RawMatrix& b,
                      const std::vector<Eigen::Index>& bounds,
                      const std::vector<Eigen::Index>& folds);
// Bound i of `shards` equal slices of k: k i / shards. The one formula by
// which the multi-core kernels split rows, columns and K across the cores
// (host::core_rows) and the golden model sums their slices.
inline Eigen::Index even_bound(Eigen::Index k, Eigen::Index i, Eigen::Index shards) {
  return k * i / shards;
}
// Equal slices: bounds even_bound(k, i, shards) for i = 0 .. shards.
std::vector<Eigen::Index> even_bounds(Eigen::Index k, Eigen::Index shards);

// Number of consecutive k accumulated inside the array before a partial sum
// leaves it: `rows` for WS and IS, K for OS (at least 1, so that K = 0 is a
// valid, empty fold). Throws std::invalid_argument if rows < 1 or K < 0.
Eigen::Index fold_size(Dataflow df, Eigen::Index rows, Eigen::Index K);

// --- Plain floating-point references (sanity bounds, not bit-exact) --------

// Operand values: int8 -> integer value, bf16 -> exact value (inf/NaN kept).
Eigen::MatrixXd to_double(Datapath dp, const RawMatrix& m);
// Accumulator values: int8 -> int32 value, bf16 -> binary32 value.
Eigen::MatrixXd to_double_acc(Datapath dp, const AccMatrix& m);
// Double-precision product of the operand values (exact for int8 while the
// sums stay below 2^53; for bf16 every product is exact in double and only the
// double additions round). Throws std::invalid_argument on a shape mismatch.
Eigen::MatrixXd gemm_double(Datapath dp, const RawMatrix& a, const RawMatrix& b);

// Per-element bound on |gemm(kBf16, a, b, k_fold) - exact product| for bf16
// operands (a, b hold bf16 bits). Meaningful for finite operands whose
// partial sums do not overflow binary32; see gemm.cpp for the derivation.
// Throws std::invalid_argument on a shape mismatch or k_fold < 1.
Eigen::MatrixXd fp32_error_bound(const RawMatrix& a, const RawMatrix& b, Eigen::Index k_fold);

// --- Random operands --------------------------------------------------------

enum class OperandMix {
  // int8: uniform over [-128, 127]; bf16: f32_to_bf16 of uniform [-2, 2].
  kUniform,
  // int8: extremes (-128, 127, -1, 0, 1) mixed with uniform values.
  // bf16: finite only: +-0, subnormals, near-min-normal and near-max
  // exponents (products under- and overflow), a small pool of magnitudes with
  // random signs (exact cancellation), wide exponent range, small integers.
  kEdgeCases,
  // kEdgeCases plus, for bf16, +-inf and NaNs with arbitrary payloads
  // (including signalling patterns). int8 has no specials: same as kEdgeCases.
  kSpecials,
};

std::string_view to_string(OperandMix mix);                       // "uniform" | "edge" | "specials"
std::optional<OperandMix> parse_operand_mix(std::string_view s);  // case-insensitive

// rows x cols random operands of datapath dp (int8 values stored as their low
// 8 bits, upper byte 0). Uses only raw rng() output, so a given seed yields the
// same matrix with every standard library.
RawMatrix random_operands(Datapath dp, Eigen::Index rows, Eigen::Index cols, std::mt19937_64& rng,
                          OperandMix mix = OperandMix::kUniform);

}  // namespace sasim::model
