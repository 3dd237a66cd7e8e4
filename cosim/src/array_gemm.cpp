#include "sasim/cosim/array_gemm.hpp"

#include <algorithm>
#include <stdexcept>

#include "sasim/model/numerics.hpp"

namespace sasim::cosim {

using model::Dataflow;

namespace {
std::uint64_t ceil_div(std::uint64_t a, std::uint64_t b) { return (a + b - 1) / b; }
}  // namespace

GemmTiling gemm_tiling(Dataflow df, const spec::CoreSpec& s, const GemmDims& d) {
  const std::uint64_t R = s.rows, C = s.cols;
  GemmTiling t;
  switch (df) {
    case Dataflow::kWs:
      t.folds = ceil_div(d.k, R) * ceil_div(d.n, C);
      t.stream_len = d.m;
      t.tile_period = std::max(d.m, R + C);
      break;
    case Dataflow::kIs:
      t.folds = ceil_div(d.k, R) * ceil_div(d.m, C);
      t.stream_len = d.n;
      t.tile_period = std::max(d.n, R + C);
      break;
    case Dataflow::kOs:
      t.folds = ceil_div(d.m, R) * ceil_div(d.n, C);
      t.stream_len = d.k;
      t.tile_period = std::max(d.k, R);
      break;
  }
  return t;
}

std::uint64_t gemm_formula_cycles(Dataflow df, const spec::CoreSpec& s, const GemmDims& d) {
  const std::uint64_t R = s.rows, C = s.cols;
  const GemmTiling t = gemm_tiling(df, s, d);
  if (df == Dataflow::kOs) return t.stream_len + 2 * R + C - 1 + (t.folds - 1) * t.tile_period;
  return 2 * R + C + t.stream_len + (t.folds - 1) * t.tile_period;
}

ArrayProgram build_gemm_program(Dataflow df, const spec::CoreSpec& s, const model::RawMatrix& a,
                                const model::RawMatrix& b) {
  if (a.cols() != b.rows() || a.rows() == 0 || a.cols() == 0 || b.cols() == 0) {
    throw std::invalid_argument("GEMM operands do not match: A is " + std::to_string(a.rows()) +
                                "x" + std::to_string(a.cols()) + ", B is " +
                                std::to_string(b.rows()) + "x" + std::to_string(b.cols()));
  }
  const Eigen::Index M = a.rows(), K = a.cols(), N = b.cols();
  const Eigen::Index R = s.rows, C = s.cols;
  // Zero-padded element access (raw 0 is +0 for bf16 and 0 for int8).
  auto A = [&](Eigen::Index m, Eigen::Index k) -> std::uint16_t {
    return (m < M && k < K) ? a(m, k) : 0;
  };
  auto B = [&](Eigen::Index k, Eigen::Index n) -> std::uint16_t {
    return (k < K && n < N) ? b(k, n) : 0;
  };

  ArrayProgram p;
  p.dataflow = df;
  auto flags = [](Eigen::Index i, Eigen::Index len) {
    return static_cast<std::uint8_t>((i == 0 ? ArrayProgram::kFirst : 0) |
                                     (i == len - 1 ? ArrayProgram::kLast : 0));
  };
  switch (df) {
    case Dataflow::kWs:  // stationary B tile, stream rows of A
      for (Eigen::Index n0 = 0; n0 < N; n0 += C)
        for (Eigen::Index k0 = 0; k0 < K; k0 += R) {
          for (Eigen::Index r = 0; r < R; ++r)
            for (Eigen::Index c = 0; c < C; ++c) p.pre.push_back(B(k0 + r, n0 + c));
          for (Eigen::Index m = 0; m < M; ++m) {
            for (Eigen::Index r = 0; r < R; ++r) p.in_a.push_back(A(m, k0 + r));
            p.in_flags.push_back(flags(m, M));
          }
          p.expected_outputs += M;
        }
      break;
    case Dataflow::kIs:  // stationary A^T tile, stream columns of B
      for (Eigen::Index m0 = 0; m0 < M; m0 += C)
        for (Eigen::Index k0 = 0; k0 < K; k0 += R) {
          for (Eigen::Index r = 0; r < R; ++r)
            for (Eigen::Index c = 0; c < C; ++c) p.pre.push_back(A(m0 + c, k0 + r));
          for (Eigen::Index n = 0; n < N; ++n) {
            for (Eigen::Index r = 0; r < R; ++r) p.in_a.push_back(B(k0 + r, n));
            p.in_flags.push_back(flags(n, N));
          }
          p.expected_outputs += N;
        }
      break;
    case Dataflow::kOs:  // stream columns of A and rows of B over K
      for (Eigen::Index m0 = 0; m0 < M; m0 += R)
        for (Eigen::Index n0 = 0; n0 < N; n0 += C) {
          for (Eigen::Index k = 0; k < K; ++k) {
            for (Eigen::Index r = 0; r < R; ++r) p.in_a.push_back(A(m0 + r, k));
            for (Eigen::Index c = 0; c < C; ++c) p.in_b.push_back(B(k, n0 + c));
            p.in_flags.push_back(flags(k, K));
          }
          p.expected_outputs += R;
        }
      break;
  }
  return p;
}

model::AccMatrix assemble_gemm_result(Dataflow df, const spec::CoreSpec& s, const GemmDims& d,
                                      const ArrayRunResult& run) {
  const auto M = static_cast<Eigen::Index>(d.m), K = static_cast<Eigen::Index>(d.k),
             N = static_cast<Eigen::Index>(d.n);
  const Eigen::Index R = s.rows, C = s.cols;
  model::AccMatrix c_mat = model::AccMatrix::Zero(M, N);
  std::size_t v = 0;  // next result vector
  auto out = [&](std::size_t vec, Eigen::Index col) { return run.out[vec * C + col]; };
  // Fold accumulation in ascending k, as the golden model specifies.
  auto accumulate = [&](Eigen::Index m, Eigen::Index n, bool first_fold, std::uint32_t x) {
    c_mat(m, n) = first_fold ? x : model::add(s.datapath, c_mat(m, n), x);
  };
  switch (df) {
    case Dataflow::kWs:
      for (Eigen::Index n0 = 0; n0 < N; n0 += C)
        for (Eigen::Index k0 = 0; k0 < K; k0 += R)
          for (Eigen::Index m = 0; m < M; ++m, ++v)
            for (Eigen::Index c = 0; c < C && n0 + c < N; ++c)
              accumulate(m, n0 + c, k0 == 0, out(v, c));
      break;
    case Dataflow::kIs:
      for (Eigen::Index m0 = 0; m0 < M; m0 += C)
        for (Eigen::Index k0 = 0; k0 < K; k0 += R)
          for (Eigen::Index n = 0; n < N; ++n, ++v)
            for (Eigen::Index c = 0; c < C && m0 + c < M; ++c)
              accumulate(m0 + c, n, k0 == 0, out(v, c));
      break;
    case Dataflow::kOs:
      for (Eigen::Index m0 = 0; m0 < M; m0 += R)
        for (Eigen::Index n0 = 0; n0 < N; n0 += C)
          for (Eigen::Index r = 0; r < R; ++r, ++v)
            for (Eigen::Index c = 0; c < C; ++c)
              if (m0 + r < M && n0 + c < N) c_mat(m0 + r, n0 + c) = out(v, c);
      break;
  }
  return c_mat;
}

GemmRun run_gemm(ArrayModel& array, Dataflow df, const model::RawMatrix& a,
                 const model::RawMatrix& b, const Handshakes& hs, const RunLimits& limits) {
  const spec::CoreSpec& s = array.spec();
  const GemmDims d{static_cast<std::uint64_t>(a.rows()), static_cast<std::uint64_t>(a.cols()),
                   static_cast<std::uint64_t>(b.cols())};
  const ArrayProgram prog = build_gemm_program(df, s, a, b);
  const ArrayRunResult run = run_program(array, prog, hs, limits);
  GemmRun g;
  g.c = assemble_gemm_result(df, s, d, run);
  g.cycles = run.cycles;
  g.formula_cycles = gemm_formula_cycles(df, s, d);
  g.macs = d.m * d.k * d.n;
  g.folds = gemm_tiling(df, s, d).folds;
  g.utilization = static_cast<double>(g.macs) /
                  (static_cast<double>(s.rows) * s.cols * static_cast<double>(g.cycles));
  return g;
}

}  // namespace sasim::cosim
