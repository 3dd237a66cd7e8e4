// Golden models of the training kernels the device runs (host/
// mlp_kernels.hpp), with the device's exact numerics: every element goes
// through the same operations, in the same order, as on the vector unit
// (model::vec_lane) and the array (model::gemm with the kernel's fold).
#pragma once

#include <cstdint>
#include <vector>

#include "sasim/model/gemm.hpp"
#include "sasim/model/mlp.hpp"

namespace sasim::model {

// Bias and activation of a dense layer on the bf16 datapath, from the fp32
// GEMM result c (binary32 bits, M x N) and the fp32 bias (N values):
//   z = c + bias             (VEC ADD_ROW: binary32 RNE)
//   a = relu ? RELU(z) : z   (VEC RELU: +0 for negatives, -0 and NaN... as vec_lane)
//   y = TO_BF16(a)           (round to nearest even, bits 15:0)
struct BiasAct {
  AccMatrix z;  // pre-activation, binary32 bits
  RawMatrix y;  // activation, bf16 bits
};
BiasAct bias_act(const AccMatrix& c, const std::vector<std::uint32_t>& bias, bool relu);

// A whole dense layer: c = model::gemm(bf16, x, w, k_fold), then bias_act.
BiasAct dense_forward(const RawMatrix& x, const RawMatrix& w,
                      const std::vector<std::uint32_t>& bias, bool relu, Eigen::Index k_fold);

// --- Backward pass and optimizer step (firmware: transpose, relu_backward,
// dense_backward, sgd_update) -------------------------------------------------

// The plain transpose (a bit copy: what the transposed DMA does).
RawMatrix transpose(const RawMatrix& m);

// TO_BF16 of every lane (binary32 -> bf16 RNE, vec_lane).
RawMatrix to_bf16(const AccMatrix& a);

// ReLU backward: dz = RELU_MASK(dy, z) = z > 0 ? dy : +0 (vec_lane, x = dy,
// b = z), dz_bf = TO_BF16(dz). Throws std::invalid_argument on a shape
// mismatch.
struct ReluBackward {
  AccMatrix dz;     // binary32 bits
  RawMatrix dz_bf;  // bf16 bits
};
ReluBackward relu_backward(const AccMatrix& dy, const AccMatrix& z);

// The backward pass of a dense layer with the device kernel's decomposition:
//   dz    = z ? RELU_MASK(dy, *z) : dy,  dz_bf = TO_BF16(dz)
//   dw    = gemm(bf16, x^T, dz_bf, dw_fold)
//   db    = gemm(bf16, ones(1 x M) (bf16 0x3F80), dz_bf, k_fold)   (1 x N)
//   dx    = gemm(bf16, dz_bf, w^T, k_fold)
// k_fold: the WS fold of the device's GEMM kernel (array rows); dw_fold: the
// fold of its OS weight-gradient GEMM (host::weight_gradient_fold: the whole
// batch when it fits). x: M x K bf16, w: K x N bf16, dy (and z): M x N
// binary32. Throws std::invalid_argument on shape mismatches.
// shards > 1 (data-parallel training on that many cores): the batch is split
// into `shards` equal consecutive slices of rows (M % shards == 0); dw and
// db are each slice's gemm (dw_fold and k_fold of the slice) summed in slice
// order (gemm_slices), as the cores reduce them; dz and dx are row-wise and
// unchanged.
struct DenseGrads {
  AccMatrix dz;
  RawMatrix dz_bf;
  AccMatrix dw;  // K x N
  AccMatrix db;  // 1 x N
  AccMatrix dx;  // M x K
};
DenseGrads dense_backward(const RawMatrix& x, const RawMatrix& w, const AccMatrix& dy,
                          const AccMatrix* z, Eigen::Index k_fold, Eigen::Index dw_fold,
                          Eigen::Index shards = 1);

// One SGD step per element with the vector unit's rounding (vec_lane AXPY:
// product rounded, then sum rounded):
//   plain:     w32 = AXPY(-lr, x = g, b = w32)
//   momentum:  v = AXPY(mu, x = v, b = g);  w32 = AXPY(-lr, x = v, b = w32)
//   wbf = TO_BF16(w32)
// v is empty without momentum. Throws std::invalid_argument on shape
// mismatches.
struct SgdStep {
  AccMatrix w32;
  AccMatrix v;
  RawMatrix wbf;
};
SgdStep sgd_update(const AccMatrix& w32, const AccMatrix& g, float lr);
SgdStep sgd_momentum_update(const AccMatrix& w32, const AccMatrix& g, const AccMatrix& v, float lr,
                            float mu);

// One Adam / AdamW step per element (r: MlpConfig::rule_at, optimizer adam or
// adamw) with the vector unit's operations, each rounded (RNE, binary32):
//   g  = AXPY(l2, x = w, b = g)            (has_l2: g = l2 * w + g)
//   m  = AXPY(1 - b1, x = g, b = SCALE(m, b1))
//   v  = AXPY(1 - b2, x = MUL(g, g), b = SCALE(v, b2))
//   u  = DIV(m, ADD_IMM(SQRT(v), eps_hat))
//   w  = SCALE(w, decay)                   (has_decay)
//   w  = AXPY(neg_step, x = u, b = w)
//   wbf = TO_BF16(w)
// Throws std::invalid_argument on shape mismatches or an SGD rule.
struct AdamStep {
  AccMatrix w32, m, v;
  RawMatrix wbf;
};
AdamStep adam_update(const AccMatrix& w32, const AccMatrix& g, const AccMatrix& m,
                     const AccMatrix& v, const UpdateRule& r);

}  // namespace sasim::model
