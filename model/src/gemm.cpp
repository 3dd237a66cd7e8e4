// Golden GEMM, references, error bounds and operand generators (gemm.hpp).
#include "sasim/model/gemm.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "sasim/model/numerics.hpp"
#include "sasim/model/vector.hpp"

#if defined(__FAST_MATH__)
#error "sasim's golden model needs IEEE arithmetic: do not build it with -ffast-math"
#endif

namespace sasim::model {
namespace {

using Eigen::Index;
using FloatMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using Int64Matrix = Eigen::Matrix<std::int64_t, Eigen::Dynamic, Eigen::Dynamic>;

std::string shape(const char* name, Index rows, Index cols) {
  std::ostringstream os;
  os << name << " is " << rows << "x" << cols;
  return os.str();
}

void check_shapes(const char* fn, const RawMatrix& a, const RawMatrix& b) {
  if (a.cols() != b.rows()) {
    throw std::invalid_argument(std::string(fn) + ": inner dimensions differ (" +
                                shape("A", a.rows(), a.cols()) + ", " +
                                shape("B", b.rows(), b.cols()) + ")");
  }
}

void check_k_fold(const char* fn, Index k_fold) {
  if (k_fold < 1) {
    throw std::invalid_argument(std::string(fn) + ": k_fold must be >= 1, got " +
                                std::to_string(k_fold));
  }
}

std::int8_t int8_value(std::uint16_t raw) { return static_cast<std::int8_t>(raw & 0xFFu); }

// int8: the wrapped int32 sum does not depend on the order or the folds, so
// compute the exact product in int64 (|sum| <= 2^14 * K, no overflow for any
// realistic K) and reduce modulo 2^32.
AccMatrix gemm_int8(const RawMatrix& a, const RawMatrix& b) {
  const Int64Matrix a64 = a.unaryExpr([](std::uint16_t v) { return std::int64_t{int8_value(v)}; });
  const Int64Matrix b64 = b.unaryExpr([](std::uint16_t v) { return std::int64_t{int8_value(v)}; });
  Int64Matrix c64(a.rows(), b.cols());
  c64.noalias() = a64 * b64;
  return c64.unaryExpr(
      [](std::int64_t v) { return static_cast<std::uint32_t>(static_cast<std::uint64_t>(v)); });
}

// bf16: the ordered loops of the spec, vectorised over n. Each s[n] sees its
// k in ascending order, every product and every sum is one binary32 operation
// (-ffp-contract=off: no fused multiply-add), and bf16 x bf16 products in
// binary32 are exactly bf16_mul without canonicalisation. NaN canonicalisation
// is deferred to the end: once an accumulator is NaN it stays NaN whatever its
// payload (every operation with a NaN operand yields a NaN), so
// canonicalising the final value equals canonicalising after every step.
AccMatrix gemm_bf16(const RawMatrix& a, const RawMatrix& b, Index k_fold) {
  const Index m_dim = a.rows();
  const Index k_dim = a.cols();
  const Index n_dim = b.cols();
  const FloatMatrix af = a.unaryExpr([](std::uint16_t v) { return bf16_to_f32(v); });
  const FloatMatrix bf = b.unaryExpr([](std::uint16_t v) { return bf16_to_f32(v); });
  FloatMatrix c = FloatMatrix::Zero(m_dim, n_dim);  // K = 0: +0
  std::vector<float> s(static_cast<std::size_t>(n_dim));
  float* const sp = s.data();

  for (Index m = 0; m < m_dim; ++m) {
    float* const cp = c.row(m).data();
    for (Index k0 = 0; k0 < k_dim; k0 += k_fold) {
      const Index k1 = std::min(k_dim, k0 + k_fold);
      std::fill(s.begin(), s.end(), 0.0f);  // s_f = +0
      for (Index k = k0; k < k1; ++k) {
        const float am = af(m, k);
        const float* const bp = bf.row(k).data();
        for (Index n = 0; n < n_dim; ++n) {
          const float p = am * bp[n];  // rounded product
          sp[n] = sp[n] + p;           // rounded sum
        }
      }
      if (k0 == 0) {
        std::copy(s.begin(), s.end(), cp);  // C = s_0
      } else {
        for (Index n = 0; n < n_dim; ++n) cp[n] = cp[n] + sp[n];  // C = add(C, s_f)
      }
    }
  }
  return c.unaryExpr([](float v) { return canonicalize(v); });
}

// Raw random bits without the implementation-defined std distributions.
std::uint64_t below(std::mt19937_64& rng, std::uint64_t n) { return rng() % n; }
double unit(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }
std::uint16_t random_sign(std::mt19937_64& rng) {
  return static_cast<std::uint16_t>((rng() >> 63) << 15);
}
// bf16 with the given biased exponent range [lo, hi], random mantissa.
std::uint16_t bf16_with_exponent(std::mt19937_64& rng, unsigned lo, unsigned hi) {
  const auto e = static_cast<std::uint16_t>(lo + below(rng, hi - lo + 1));
  const auto mant = static_cast<std::uint16_t>(below(rng, 128));
  return static_cast<std::uint16_t>(random_sign(rng) | (e << 7) | mant);
}

std::uint16_t int8_bits(int v) { return static_cast<std::uint16_t>(v & 0xFF); }

std::uint16_t random_int8(std::mt19937_64& rng, OperandMix mix) {
  const int uniform = static_cast<int>(below(rng, 256)) - 128;
  if (mix == OperandMix::kUniform) return int8_bits(uniform);
  const auto r = below(rng, 100);
  if (r < 15) return int8_bits(-128);
  if (r < 25) return int8_bits(127);
  if (r < 35) return int8_bits(-1);
  if (r < 45) return int8_bits(0);
  if (r < 50) return int8_bits(1);
  return int8_bits(uniform);
}

std::uint16_t random_bf16_uniform(std::mt19937_64& rng) {
  return f32_to_bf16(static_cast<float>(unit(rng) * 4.0 - 2.0));
}

std::uint16_t random_bf16_edge(std::mt19937_64& rng, const std::array<std::uint16_t, 8>& pool) {
  const auto r = below(rng, 100);
  if (r < 30) return random_bf16_uniform(rng);
  if (r < 38) return 0x0000;  // +0
  if (r < 46) return 0x8000;  // -0
  if (r < 54) {               // subnormal
    return static_cast<std::uint16_t>(random_sign(rng) | (1 + below(rng, 127)));
  }
  if (r < 62) return bf16_with_exponent(rng, 1, 4);      // near the minimum normal
  if (r < 70) return bf16_with_exponent(rng, 250, 254);  // near the maximum
  if (r < 80) {                                          // exact cancellation
    return static_cast<std::uint16_t>(random_sign(rng) | pool[below(rng, pool.size())]);
  }
  if (r < 92) return bf16_with_exponent(rng, 127 - 40, 127 + 40);  // wide range
  // small integers +-1..+-32, exact in bf16
  const auto v = static_cast<float>(1 + below(rng, 32));
  return static_cast<std::uint16_t>(random_sign(rng) | f32_to_bf16(v));
}

std::uint16_t random_bf16(std::mt19937_64& rng, OperandMix mix,
                          const std::array<std::uint16_t, 8>& pool) {
  if (mix == OperandMix::kUniform) return random_bf16_uniform(rng);
  if (mix == OperandMix::kSpecials) {
    const auto r = below(rng, 100);
    if (r < 6) return static_cast<std::uint16_t>(random_sign(rng) | 0x7F80u);  // +-inf
    if (r < 10) {  // NaN: exponent all ones, nonzero mantissa (quiet or signalling)
      return static_cast<std::uint16_t>(random_sign(rng) | 0x7F80u | (1 + below(rng, 127)));
    }
  }
  return random_bf16_edge(rng, pool);
}

}  // namespace

AccMatrix gemm(Datapath dp, const RawMatrix& a, const RawMatrix& b, Index k_fold) {
  check_shapes("sasim::model::gemm", a, b);
  check_k_fold("sasim::model::gemm", k_fold);
  return dp == Datapath::kBf16 ? gemm_bf16(a, b, k_fold) : gemm_int8(a, b);
}

Index fold_size(Dataflow df, Index rows, Index K) {
  if (rows < 1) {
    throw std::invalid_argument("sasim::model::fold_size: rows must be >= 1, got " +
                                std::to_string(rows));
  }
  if (K < 0) {
    throw std::invalid_argument("sasim::model::fold_size: K must be >= 0, got " +
                                std::to_string(K));
  }
  return df == Dataflow::kOs ? std::max<Index>(K, 1) : rows;
}

Eigen::MatrixXd to_double(Datapath dp, const RawMatrix& m) {
  if (dp == Datapath::kBf16) {
    return m.unaryExpr([](std::uint16_t v) { return static_cast<double>(bf16_to_f32(v)); });
  }
  return m.unaryExpr([](std::uint16_t v) { return static_cast<double>(int8_value(v)); });
}

Eigen::MatrixXd to_double_acc(Datapath dp, const AccMatrix& m) {
  if (dp == Datapath::kBf16) {
    return m.unaryExpr([](std::uint32_t v) { return static_cast<double>(bits_to_f32(v)); });
  }
  return m.unaryExpr(
      [](std::uint32_t v) { return static_cast<double>(static_cast<std::int32_t>(v)); });
}

Eigen::MatrixXd gemm_double(Datapath dp, const RawMatrix& a, const RawMatrix& b) {
  check_shapes("sasim::model::gemm_double", a, b);
  Eigen::MatrixXd c(a.rows(), b.cols());
  c.noalias() = to_double(dp, a) * to_double(dp, b);
  return c;
}

// Derivation of the bound (Higham, "Accuracy and Stability of Numerical
// Algorithms", ch. 3). Let u = 2^-24 (binary32 unit roundoff) and
// gamma_n = n*u / (1 - n*u).
//  * Products: a bf16 significand has 8 bits, so a product of two has at most
//    16 and is exact in binary32 unless it overflows (excluded: the bound is
//    only claimed for finite results) or underflows into the subnormal range,
//    where it is off by at most half the subnormal spacing, 2^-150.
//  * Sums: every binary32 addition is fl(x + y) = (x + y)(1 + d), |d| <= u
//    (exact when the result is subnormal). An element is a fold sum of at
//    most k_fold products started from +0 (the first addition is exact), then
//    up to F - 1 additions combining the F folds, so each product passes
//    through at most n = k_fold + F roundings, and
//        computed = sum_k (p_k + e_k) (1 + t_k),  |t_k| <= gamma_n,
//    where e_k is the underflow error of product k.
//  Hence |computed - sum_k a_mk b_kn|
//        <= gamma_n * sum_k |a_mk||b_kn| + K * 2^-150 * (1 + gamma_n).
//  The second term only matters for tiny (subnormal-range) products; with
//  normal products it is far below the first. The double evaluation of the
//  sum of |a||b| is accurate to ~K*2^-53 relative, negligible against gamma_n.
Eigen::MatrixXd fp32_error_bound(const RawMatrix& a, const RawMatrix& b, Index k_fold) {
  check_shapes("sasim::model::fp32_error_bound", a, b);
  check_k_fold("sasim::model::fp32_error_bound", k_fold);
  const Index k_dim = a.cols();
  const Index folds = k_dim == 0 ? 0 : 1 + (k_dim - 1) / k_fold;  // no overflow for huge k_fold
  const double u = 0x1.0p-24;
  const double n = static_cast<double>(k_fold) + static_cast<double>(folds);
  const double gamma =
      n * u < 1.0 ? n * u / (1.0 - n * u) : std::numeric_limits<double>::infinity();
  Eigen::MatrixXd abs_sum(a.rows(), b.cols());
  abs_sum.noalias() =
      to_double(Datapath::kBf16, a).cwiseAbs() * to_double(Datapath::kBf16, b).cwiseAbs();
  const double underflow = static_cast<double>(k_dim) * 0x1.0p-150 * (1.0 + gamma);
  return (gamma * abs_sum.array() + underflow).matrix();
}

namespace {
constexpr std::array<std::string_view, 3> kOperandMixNames = {"uniform", "edge", "specials"};
}  // namespace

std::string_view to_string(OperandMix mix) {
  return kOperandMixNames.at(static_cast<std::size_t>(mix));
}

std::optional<OperandMix> parse_operand_mix(std::string_view s) {
  return parse_name<OperandMix>(s, kOperandMixNames);
}

RawMatrix random_operands(Datapath dp, Index rows, Index cols, std::mt19937_64& rng,
                          OperandMix mix) {
  if (rows < 0 || cols < 0) {
    throw std::invalid_argument("sasim::model::random_operands: negative shape " +
                                std::to_string(rows) + "x" + std::to_string(cols));
  }
  RawMatrix m(rows, cols);
  if (dp == Datapath::kInt8) {
    for (Index r = 0; r < rows; ++r) {
      for (Index c = 0; c < cols; ++c) m(r, c) = random_int8(rng, mix);
    }
    return m;
  }
  // Magnitudes shared by the matrix (exponents 2^-7 .. 2^7): with random signs
  // they make products that cancel exactly.
  std::array<std::uint16_t, 8> pool{};
  if (mix != OperandMix::kUniform) {
    for (auto& p : pool) {
      p = static_cast<std::uint16_t>(bf16_with_exponent(rng, 120, 134) & 0x7FFFu);
    }
  }
  for (Index r = 0; r < rows; ++r) {
    for (Index c = 0; c < cols; ++c) m(r, c) = random_bf16(rng, mix, pool);
  }
  return m;
}

std::vector<Index> even_bounds(Index k, Index shards) {
  if (shards < 1) throw std::invalid_argument("even_bounds: " + std::to_string(shards) + " shards");
  std::vector<Index> b;
  for (Index i = 0; i <= shards; ++i) b.push_back(even_bound(k, i, shards));
  return b;
}

AccMatrix gemm_slices(Datapath dp, const RawMatrix& a, const RawMatrix& b,
                      const std::vector<Index>& bounds, const std::vector<Index>& folds) {
  const Index K = a.cols();
  if (bounds.size() < 2 || bounds.front() != 0 || bounds.back() != K ||
      !std::is_sorted(bounds.begin(), bounds.end()) || folds.size() + 1 != bounds.size())
    throw std::invalid_argument("gemm_slices: " + std::to_string(bounds.size()) + " bounds and " +
                                std::to_string(folds.size()) +
                                " folds do not cover K = " + std::to_string(K) + " in order");
  AccMatrix sum;
  for (std::size_t i = 0; i + 1 < bounds.size(); ++i) {
    const Index k0 = bounds[i], kn = bounds[i + 1] - bounds[i];
    const AccMatrix part = gemm(dp, a.middleCols(k0, kn), b.middleRows(k0, kn), folds[i]);
    if (i == 0) {
      sum = part;
      continue;
    }
    for (Index e = 0; e < sum.size(); ++e)
      sum.data()[e] = vec_lane(dp, isa::VecOp::kAddRow, sum.data()[e], part.data()[e], 0, 0);
  }
  return sum;
}

}  // namespace sasim::model
