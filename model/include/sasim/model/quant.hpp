// Quantized int8 inference of a trained MLP: the host's quantization of the
// trained parameters and the golden model of the int8 device's forward pass
// (host/include/sasim/host/quant_mlp.hpp runs it on the int8 core). See
// docs/training.md, "Quantized inference".
//
// Scales are per tensor and symmetric; a real value v is stored as round(v /
// scale) (round half to even), saturated:
//   input X (the model's inputs, pixels / 255 as model::Batch holds them):
//                             in_scale = max |x| of the calibration images
//                             / 127;  X_q in [-128, 127]
//   weights W_l:              w_scale = max |w32| / 127;  W_q in [-127, 127]
//   biases b_l:               round(b32 / (in_scale * w_scale)) in int32
//                             (the scale of the layer's int32 products)
//   hidden activations:       the layer's int32 pre-activation z_q scaled by
//                             2^-shift: X_{l+1} = TO_INT8(RELU(z_q)) with the
//                             CONFIG int8_shift, so the next in_scale is
//                             in_scale * w_scale * 2^shift. shift is the
//                             smallest in 0..31 for which the largest RELU(z_q)
//                             of the calibration images does not saturate.
// The vector unit requantizes by a power of two only (TO_INT8), so the
// hidden scales are the only ones not chosen freely; the logits stay int32
// (the arg-max needs no scale).
//
// Forward pass, per layer l (integer only, the device's numerics):
//   z_q = gemm(int8, X_q, W_q) (int32, wrapping)  ADD_ROW b_q (wrapping);
//   hidden: X_{l+1} = TO_INT8(RELU(z_q), shift_l); last: logits = z_q.
#pragma once

#include <cstdint>
#include <vector>

#include "sasim/model/gemm.hpp"
#include "sasim/model/mlp.hpp"
#include "sasim/model/mlp_golden.hpp"

namespace sasim::model {

struct QuantLayer {
  RawMatrix w;          // in x out int8 (two's complement in the low 8 bits)
  AccMatrix b;          // 1 x out int32
  double in_scale = 0;  // the real value of one step of the layer's int8 input
  double w_scale = 0;   // the real value of one step of w
  unsigned shift = 0;   // hidden layers: TO_INT8's shift (0 for the last layer)
};

struct QuantMlp {
  std::vector<QuantLayer> layers;
  std::uint64_t calibration_images = 0;
};

// Quantizes the fp32 master weights and biases of `s` (s.w32, s.b32) with the
// calibration images `calib` (the model's inputs, one image a row, as
// model::Batch::x holds them; at least one).
// Throws std::invalid_argument for an empty calibration set, a feature count
// that differs from the first layer's inputs, non-finite parameters and a
// hidden layer whose pre-activation exceeds 127 * 2^31 (no shift fits).
QuantMlp quantize_mlp(const MlpState& s, const RowMatrixXf& calib);

// The int8 operands of inputs x (as calib): round(x / in_scale), saturated to
// [-128, 127].
RawMatrix quantize_input(const QuantMlp& q, const RowMatrixXf& x);

// The int32 logits of the int8 forward pass (see the header comment).
// `hidden`, when given, receives each hidden layer's int8 output.
AccMatrix int8_logits(const QuantMlp& q, const RawMatrix& xq,
                      std::vector<RawMatrix>* hidden = nullptr);

// The arg-max class of each row of int32 logits (the lowest index on ties).
std::vector<unsigned> int8_predict(const AccMatrix& logits);

}  // namespace sasim::model
