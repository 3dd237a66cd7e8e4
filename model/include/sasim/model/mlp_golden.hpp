// The golden model of one MLP training step on the device
// (host/include/sasim/host/mlp_trainer.hpp): the same decomposition into
// kernels, each with the device's numerics (train_golden.hpp), so the device's
// parameters equal these bit for bit after every step.
//
// Step on a batch X (B x n_0, bf16) with labels:
//   forward, layer l: z_l = X_l W_l + b_l (fp32, WS fold), X_{l+1} =
//     bf16(relu(z_l)) for hidden layers; logits = z_{L-1};
//   loss (on the host): ReferenceMlp::loss_and_grad on the fp32 logits gives
//     the mean softmax cross-entropy and dY_{L-1} = dloss/dlogits (fp32);
//   backward, layer l = L-1 .. 0: dense_backward(X_l, W_l, dY_l, z_l for
//     hidden layers) gives dW_l, db_l and dY_{l-1} = dX (l > 0);
//   update: the rule of the step (MlpConfig::rule_at): SGD (momentum when mu
//     > 0; sgd_update, sgd_momentum_update) or Adam / AdamW (adam_update) on
//     the fp32 master weights and biases, then the bf16 copy of the weights.
// Initial parameters: ReferenceMlp's (same seed), the weights' fp32 values as
// master weights, biases 0, velocities and moments 0.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "sasim/model/gemm.hpp"
#include "sasim/model/mlp.hpp"

namespace sasim::model {

struct MlpState {
  std::vector<AccMatrix> w32;  // n_l x n_{l+1} binary32 master weights
  std::vector<RawMatrix> wbf;  // their bf16 copies (the GEMM operands)
  std::vector<AccMatrix> b32;  // 1 x n_{l+1}
  std::vector<AccMatrix> vw;   // velocities (sgd, momentum > 0) or first moments (adam,
  std::vector<AccMatrix> vb;   // adamw), else empty
  std::vector<AccMatrix> sw;   // second moments (adam, adamw), else empty
  std::vector<AccMatrix> sb;
};

// The initial state for `cfg` (validated).
MlpState mlp_init(const MlpConfig& cfg);

// Pixels (0..255) of a batch as bf16 operands: f32_to_bf16(p / 255.0f).
RawMatrix to_bf16_input(const RowMatrixXf& x);

// The intermediate tensors of a step, per layer l (what the device holds
// after the step): z = X_l W_l + b_l (fp32), act = X_{l+1} (bf16, hidden
// layers only; empty for the last), dz = the gradient at z (fp32: ReLU mask
// applied for hidden layers, dloss/dlogits for the last), dw and db.
struct MlpTrace {
  std::vector<AccMatrix> z, dz, dw, db;
  std::vector<RawMatrix> act;
};

// The first tensor in which two states (or two traces) differ, bit for bit,
// as "layer 1 bf16 weights" (a shape or layer-count mismatch counts as a
// difference); "" when they are equal.
std::string first_difference(const MlpState& a, const MlpState& b);
std::string first_difference(const MlpTrace& a, const MlpTrace& b);

// The folds of the device's GEMMs in a step (train_golden.hpp
// dense_backward): k_fold of the WS GEMMs (the array's rows), dw_fold of the
// weight gradient (host::step_folds gives both for a device).
// shards: the cores of a data-parallel step (dense_backward).
// tensor: the cores of a tensor-parallel step (docs/multicore.md): the
// layers pair up, layer 2j split by columns, layer 2j+1 by rows, each core
// holding slice i = [n i / tensor, n (i + 1) / tensor) of the hidden layer
// n = n_{2j+1}. Two results are then sums of the cores' partial products,
// added in core order (gemm_slices over those slices, fold k_fold each):
// z of layer 2j+1 (before its bias) and, for j > 0, dX of layer 2j (the
// gradient reaching layer 2j-1). Every other tensor is the one-core one.
// At most one of shards and tensor above 1; tensor > 1 needs an even number
// of layers (std::invalid_argument from mlp_step otherwise).
struct StepFolds {
  Eigen::Index k_fold = 0, dw_fold = 0;
  Eigen::Index shards = 1;
  Eigen::Index tensor = 1;
};

// Step `step` (0-based, for the learning-rate schedule: cfg.lr_at(step)) of
// a run; returns the mean loss. `trace`, when given, receives the
// intermediates.
float mlp_step(MlpState& s, const MlpConfig& cfg, std::uint64_t step, const RawMatrix& x,
               std::span<const std::uint8_t> labels, const StepFolds& folds,
               MlpTrace* trace = nullptr);

}  // namespace sasim::model
