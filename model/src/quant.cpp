#include "sasim/model/quant.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "sasim/model/numerics.hpp"
#include "sasim/model/vector.hpp"

namespace sasim::model {

namespace {

// round(v) (half to even, the default rounding mode) saturated to [lo, hi].
std::int64_t round_sat(double v, std::int64_t lo, std::int64_t hi) {
  const double r = std::nearbyint(v);
  if (r <= double(lo)) return lo;
  if (r >= double(hi)) return hi;
  return static_cast<std::int64_t>(r);
}

std::uint16_t int8_bits(std::int64_t v) { return static_cast<std::uint16_t>(v & 0xFF); }

// z_q = X_q W_q + b_q on the int32 lanes (the accumulator, then ADD_ROW).
AccMatrix layer_acc(const QuantLayer& y, const RawMatrix& xq) {
  AccMatrix z = gemm(Datapath::kInt8, xq, y.w, std::max<Eigen::Index>(1, xq.cols()));
  for (Eigen::Index i = 0; i < z.rows(); ++i)
    for (Eigen::Index c = 0; c < z.cols(); ++c)
      z(i, c) = vec_lane(Datapath::kInt8, isa::VecOp::kAddRow, z(i, c), y.b(0, c), 0, 0);
  return z;
}

// The next layer's int8 input: TO_INT8(RELU(z_q), shift).
RawMatrix hidden_out(const AccMatrix& z, unsigned shift) {
  RawMatrix h(z.rows(), z.cols());
  for (Eigen::Index i = 0; i < z.size(); ++i) {
    const std::uint32_t r = vec_lane(Datapath::kInt8, isa::VecOp::kRelu, z.data()[i], 0, 0, 0);
    h.data()[i] = static_cast<std::uint16_t>(
        vec_lane(Datapath::kInt8, isa::VecOp::kToInt8, r, 0, 0, shift) & 0xFF);
  }
  return h;
}

}  // namespace

QuantMlp quantize_mlp(const MlpState& s, const RowMatrixXf& calib) {
  if (s.w32.empty() || s.b32.size() != s.w32.size())
    throw std::invalid_argument("quantize_mlp: the state has no layers or mismatched biases");
  if (calib.rows() == 0) throw std::invalid_argument("quantize_mlp: no calibration images");
  if (calib.cols() != s.w32.front().rows())
    throw std::invalid_argument("quantize_mlp: calibration images of " +
                                std::to_string(calib.cols()) + " pixels for a first layer of " +
                                std::to_string(s.w32.front().rows()) + " inputs");
  QuantMlp q;
  q.calibration_images = static_cast<std::uint64_t>(calib.rows());
  const double top_in = calib.cwiseAbs().maxCoeff();
  const double in_scale = top_in > 0 ? top_in / 127.0 : 1.0;
  const std::size_t L = s.w32.size();
  for (std::size_t l = 0; l < L; ++l) {
    const AccMatrix& w32 = s.w32[l];
    const AccMatrix& b32 = s.b32[l];
    double wmax = 0;
    for (Eigen::Index i = 0; i < w32.size(); ++i) {
      const float v = bits_to_f32(w32.data()[i]);
      if (!std::isfinite(v))
        throw std::invalid_argument("quantize_mlp: layer " + std::to_string(l) +
                                    " has a non-finite weight");
      wmax = std::max(wmax, double(std::fabs(v)));
    }
    QuantLayer y;
    y.in_scale = l == 0 ? in_scale : 0.0;  // hidden: set below, from the shift
    y.w_scale = wmax > 0 ? wmax / 127.0 : 1.0;
    y.w.resize(w32.rows(), w32.cols());
    for (Eigen::Index i = 0; i < w32.size(); ++i)
      y.w.data()[i] = int8_bits(round_sat(bits_to_f32(w32.data()[i]) / y.w_scale, -127, 127));
    for (Eigen::Index c = 0; c < b32.cols(); ++c)
      if (!std::isfinite(bits_to_f32(b32(0, c))))
        throw std::invalid_argument("quantize_mlp: layer " + std::to_string(l) +
                                    " has a non-finite bias");
    q.layers.push_back(std::move(y));
  }
  // Layer by layer on the calibration images' int8 forward pass: the bias at
  // the scale of the layer's products, then (hidden layers) the shift and the
  // next layer's input scale.
  RawMatrix x = quantize_input(q, calib);
  for (std::size_t l = 0; l < L; ++l) {
    QuantLayer& y = q.layers[l];
    const double acc_scale = y.in_scale * y.w_scale;
    y.b.resize(1, s.b32[l].cols());
    for (Eigen::Index c = 0; c < y.b.cols(); ++c)
      y.b(0, c) = static_cast<std::uint32_t>(round_sat(bits_to_f32(s.b32[l](0, c)) / acc_scale,
                                                       std::numeric_limits<std::int32_t>::min(),
                                                       std::numeric_limits<std::int32_t>::max()));
    if (l + 1 == L) break;
    const AccMatrix z = layer_acc(y, x);
    std::int64_t top = 0;
    for (Eigen::Index i = 0; i < z.size(); ++i)
      top = std::max<std::int64_t>(top, static_cast<std::int32_t>(z.data()[i]));
    unsigned k = 0;
    while ((std::int64_t{127} << k) < top) {
      if (++k > 31)
        throw std::invalid_argument("quantize_mlp: layer " + std::to_string(l) +
                                    ": the calibration pre-activation " + std::to_string(top) +
                                    " exceeds 127 * 2^31");
    }
    y.shift = k;
    q.layers[l + 1].in_scale = acc_scale * std::ldexp(1.0, int(k));
    x = hidden_out(z, k);
  }
  return q;
}

RawMatrix quantize_input(const QuantMlp& q, const RowMatrixXf& x) {
  if (q.layers.empty()) throw std::invalid_argument("quantize_input: no layers");
  if (x.cols() != q.layers.front().w.rows())
    throw std::invalid_argument("quantize_input: images of " + std::to_string(x.cols()) +
                                " pixels for a first layer of " +
                                std::to_string(q.layers.front().w.rows()) + " inputs");
  const double s = q.layers.front().in_scale;
  RawMatrix r(x.rows(), x.cols());
  for (Eigen::Index i = 0; i < x.size(); ++i)
    r.data()[i] = int8_bits(round_sat(double(x.data()[i]) / s, -128, 127));
  return r;
}

AccMatrix int8_logits(const QuantMlp& q, const RawMatrix& xq, std::vector<RawMatrix>* hidden) {
  if (q.layers.empty()) throw std::invalid_argument("int8_logits: no layers");
  if (hidden) hidden->clear();
  RawMatrix x = xq;
  for (std::size_t l = 0;; ++l) {
    const QuantLayer& y = q.layers[l];
    if (x.cols() != y.w.rows())
      throw std::invalid_argument("int8_logits: layer " + std::to_string(l) + " takes " +
                                  std::to_string(y.w.rows()) + " inputs, not " +
                                  std::to_string(x.cols()));
    AccMatrix z = layer_acc(y, x);
    if (l + 1 == q.layers.size()) return z;
    x = hidden_out(z, y.shift);
    if (hidden) hidden->push_back(x);
  }
}

std::vector<unsigned> int8_predict(const AccMatrix& logits) {
  std::vector<unsigned> p(static_cast<std::size_t>(logits.rows()));
  for (Eigen::Index i = 0; i < logits.rows(); ++i) {
    Eigen::Index best = 0;
    for (Eigen::Index c = 1; c < logits.cols(); ++c)
      if (static_cast<std::int32_t>(logits(i, c)) > static_cast<std::int32_t>(logits(i, best)))
        best = c;
    p[static_cast<std::size_t>(i)] = static_cast<unsigned>(best);
  }
  return p;
}

}  // namespace sasim::model
