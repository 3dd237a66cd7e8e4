#include "sasim/model/train_golden.hpp"

#include <stdexcept>
#include <string>
#include <utility>

#include "sasim/model/numerics.hpp"
#include "sasim/model/vector.hpp"

namespace sasim::model {

BiasAct bias_act(const AccMatrix& c, const std::vector<std::uint32_t>& bias, bool relu) {
  if (bias.size() != static_cast<std::size_t>(c.cols()))
    throw std::invalid_argument("bias_act: " + std::to_string(bias.size()) + " bias values for " +
                                std::to_string(c.cols()) + " columns");
  BiasAct r{AccMatrix(c.rows(), c.cols()), RawMatrix(c.rows(), c.cols())};
  for (Eigen::Index i = 0; i < c.rows(); ++i) {
    for (Eigen::Index j = 0; j < c.cols(); ++j) {
      const std::uint32_t z = vec_lane(Datapath::kBf16, isa::VecOp::kAddRow, c(i, j),
                                       bias[static_cast<std::size_t>(j)], 0, 0);
      const std::uint32_t a = relu ? vec_lane(Datapath::kBf16, isa::VecOp::kRelu, z, 0, 0, 0) : z;
      r.z(i, j) = z;
      r.y(i, j) =
          static_cast<std::uint16_t>(vec_lane(Datapath::kBf16, isa::VecOp::kToBf16, a, 0, 0, 0));
    }
  }
  return r;
}

BiasAct dense_forward(const RawMatrix& x, const RawMatrix& w,
                      const std::vector<std::uint32_t>& bias, bool relu, Eigen::Index k_fold) {
  return bias_act(gemm(Datapath::kBf16, x, w, k_fold), bias, relu);
}

namespace {

std::uint32_t lane(isa::VecOp op, std::uint32_t x, std::uint32_t b = 0, std::uint32_t imm = 0) {
  return vec_lane(Datapath::kBf16, op, x, b, imm, 0);
}

template <typename A, typename B>
void require_same_shape(const A& a, const B& b, const char* what) {
  if (a.rows() != b.rows() || a.cols() != b.cols())
    throw std::invalid_argument(std::string(what) + ": " + std::to_string(a.rows()) + " x " +
                                std::to_string(a.cols()) + " and " + std::to_string(b.rows()) +
                                " x " + std::to_string(b.cols()) + " differ");
}

}  // namespace

RawMatrix transpose(const RawMatrix& m) { return m.transpose(); }

RawMatrix to_bf16(const AccMatrix& a) {
  RawMatrix r(a.rows(), a.cols());
  for (Eigen::Index i = 0; i < a.size(); ++i)
    r.data()[i] = static_cast<std::uint16_t>(lane(isa::VecOp::kToBf16, a.data()[i]));
  return r;
}

ReluBackward relu_backward(const AccMatrix& dy, const AccMatrix& z) {
  require_same_shape(dy, z, "relu_backward");
  ReluBackward r{AccMatrix(dy.rows(), dy.cols()), RawMatrix()};
  for (Eigen::Index i = 0; i < dy.size(); ++i)
    r.dz.data()[i] = lane(isa::VecOp::kReluMask, dy.data()[i], z.data()[i]);
  r.dz_bf = to_bf16(r.dz);
  return r;
}

DenseGrads dense_backward(const RawMatrix& x, const RawMatrix& w, const AccMatrix& dy,
                          const AccMatrix* z, Eigen::Index k_fold, Eigen::Index dw_fold,
                          Eigen::Index shards) {
  if (x.cols() != w.rows() || dy.rows() != x.rows() || dy.cols() != w.cols())
    throw std::invalid_argument(
        "dense_backward: x " + std::to_string(x.rows()) + " x " + std::to_string(x.cols()) +
        ", w " + std::to_string(w.rows()) + " x " + std::to_string(w.cols()) + " and dy " +
        std::to_string(dy.rows()) + " x " + std::to_string(dy.cols()) + " do not fit");
  DenseGrads g;
  if (z != nullptr) {
    ReluBackward rb = relu_backward(dy, *z);
    g.dz = std::move(rb.dz);
    g.dz_bf = std::move(rb.dz_bf);
  } else {
    g.dz = dy;
    g.dz_bf = to_bf16(dy);
  }
  const RawMatrix ones = RawMatrix::Constant(1, x.rows(), 0x3F80);  // bf16 1.0
  if (shards < 1 || x.rows() % shards != 0)
    throw std::invalid_argument("dense_backward: " + std::to_string(x.rows()) +
                                " rows do not split into " + std::to_string(shards) + " shards");
  const std::vector<Eigen::Index> bounds = even_bounds(x.rows(), shards);
  g.dw = gemm_slices(Datapath::kBf16, transpose(x), g.dz_bf, bounds,
                     std::vector<Eigen::Index>(static_cast<std::size_t>(shards), dw_fold));
  g.db = gemm_slices(Datapath::kBf16, ones, g.dz_bf, bounds,
                     std::vector<Eigen::Index>(static_cast<std::size_t>(shards), k_fold));
  g.dx = gemm(Datapath::kBf16, g.dz_bf, transpose(w), k_fold);
  return g;
}

SgdStep sgd_update(const AccMatrix& w32, const AccMatrix& g, float lr) {
  require_same_shape(w32, g, "sgd_update");
  const std::uint32_t neg_lr = f32_to_bits(-lr);
  SgdStep s{AccMatrix(w32.rows(), w32.cols()), AccMatrix(), RawMatrix()};
  for (Eigen::Index i = 0; i < w32.size(); ++i)
    s.w32.data()[i] = lane(isa::VecOp::kAxpy, g.data()[i], w32.data()[i], neg_lr);
  s.wbf = to_bf16(s.w32);
  return s;
}

SgdStep sgd_momentum_update(const AccMatrix& w32, const AccMatrix& g, const AccMatrix& v, float lr,
                            float mu) {
  require_same_shape(w32, g, "sgd_momentum_update");
  require_same_shape(w32, v, "sgd_momentum_update");
  const std::uint32_t neg_lr = f32_to_bits(-lr), mu_bits = f32_to_bits(mu);
  SgdStep s{AccMatrix(w32.rows(), w32.cols()), AccMatrix(v.rows(), v.cols()), RawMatrix()};
  for (Eigen::Index i = 0; i < w32.size(); ++i) {
    s.v.data()[i] = lane(isa::VecOp::kAxpy, v.data()[i], g.data()[i], mu_bits);
    s.w32.data()[i] = lane(isa::VecOp::kAxpy, s.v.data()[i], w32.data()[i], neg_lr);
  }
  s.wbf = to_bf16(s.w32);
  return s;
}

AdamStep adam_update(const AccMatrix& w32, const AccMatrix& g, const AccMatrix& m,
                     const AccMatrix& v, const UpdateRule& r) {
  require_same_shape(w32, g, "adam_update");
  require_same_shape(w32, m, "adam_update");
  require_same_shape(w32, v, "adam_update");
  if (r.optimizer == Optimizer::kSgd)
    throw std::invalid_argument("adam_update: the rule is sgd's, not adam's or adamw's");
  const auto bits = [](float f) { return f32_to_bits(f); };
  AdamStep s{AccMatrix(w32.rows(), w32.cols()), AccMatrix(m.rows(), m.cols()),
             AccMatrix(v.rows(), v.cols()), RawMatrix()};
  for (Eigen::Index i = 0; i < w32.size(); ++i) {
    std::uint32_t gi = g.data()[i], wi = w32.data()[i];
    if (r.has_l2) gi = lane(isa::VecOp::kAxpy, wi, gi, bits(r.l2));
    const std::uint32_t mi =
        lane(isa::VecOp::kAxpy, gi, lane(isa::VecOp::kScale, m.data()[i], 0, bits(r.beta1)),
             bits(r.one_minus_beta1));
    const std::uint32_t vi =
        lane(isa::VecOp::kAxpy, lane(isa::VecOp::kMul, gi, gi),
             lane(isa::VecOp::kScale, v.data()[i], 0, bits(r.beta2)), bits(r.one_minus_beta2));
    const std::uint32_t d =
        lane(isa::VecOp::kAddImm, lane(isa::VecOp::kSqrt, vi), 0, bits(r.eps_hat));
    const std::uint32_t u = lane(isa::VecOp::kDiv, mi, d);
    if (r.has_decay) wi = lane(isa::VecOp::kScale, wi, 0, bits(r.decay));
    s.w32.data()[i] = lane(isa::VecOp::kAxpy, u, wi, bits(r.neg_step));
    s.m.data()[i] = mi;
    s.v.data()[i] = vi;
  }
  s.wbf = to_bf16(s.w32);
  return s;
}

}  // namespace sasim::model
