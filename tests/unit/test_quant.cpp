// Quantized int8 inference: the host's quantization and the golden int8
// forward pass (model/quant.hpp) against a plain integer computation written
// independently, and the device kernel (host::DeviceInt8Mlp,
// int8_dense_program) on the functional int8 device bit for bit against the
// golden model, for shapes from 1 x 1 over primes and three layers to the
// MNIST MLP's on a 16 x 16 and a tiny 4 x 4 device; argument errors.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "sasim/host/mlp_kernels.hpp"
#include "sasim/host/quant_mlp.hpp"
#include "sasim/model/functional_backend.hpp"
#include "sasim/model/numerics.hpp"
#include "sasim/model/quant.hpp"

namespace {

using namespace sasim;  // spec, isa, model, mem, cosim, host, app

spec::DeviceSpec params(model::Datapath dp, unsigned rows, unsigned cols, unsigned spad,
                        unsigned acc) {
  return spec::device_of(spec::core_of(dp, rows, cols, spad, acc), std::uint64_t{16} << 20);
}

// A trained-looking fp32 state for `layers`: normal weights of std 1/sqrt(in),
// small biases of both signs.
model::MlpState random_state(const std::vector<Eigen::Index>& layers, std::mt19937& rng) {
  model::MlpState s;
  for (std::size_t l = 0; l + 1 < layers.size(); ++l) {
    std::normal_distribution<float> w(0.0f, 1.0f / std::sqrt(float(layers[l])));
    std::normal_distribution<float> b(0.0f, 0.1f);
    model::AccMatrix w32(layers[l], layers[l + 1]), b32(1, layers[l + 1]);
    for (Eigen::Index i = 0; i < w32.size(); ++i) w32.data()[i] = model::f32_to_bits(w(rng));
    for (Eigen::Index i = 0; i < b32.size(); ++i) b32.data()[i] = model::f32_to_bits(b(rng));
    s.w32.push_back(w32);
    s.b32.push_back(b32);
  }
  return s;
}

// Inputs 0..1 in steps of 1/255 (pixels / 255), a third of them 0 (as in
// Fashion-MNIST).
model::RowMatrixXf random_pixels(Eigen::Index n, Eigen::Index f, std::mt19937& rng) {
  std::uniform_int_distribution<int> d(-128, 255);
  model::RowMatrixXf x(n, f);
  for (Eigen::Index i = 0; i < x.size(); ++i) x.data()[i] = float(std::max(0, d(rng))) / 255.0f;
  return x;
}

std::int64_t s8(std::uint16_t v) { return static_cast<std::int8_t>(v & 0xFF); }

// The forward pass in plain 64-bit integers: sums, bias, max(., 0), the
// shift as a rounded division (ties to even) in double, saturation. No value
// of these tests leaves int32, so no wrapping is needed.
std::vector<std::vector<std::int64_t>> plain_forward(const model::QuantMlp& q,
                                                     const model::RawMatrix& xq) {
  std::vector<std::vector<std::int64_t>> out;
  std::vector<std::int64_t> x(xq.size());
  Eigen::Index cols = xq.cols();
  for (Eigen::Index i = 0; i < xq.size(); ++i) x[std::size_t(i)] = s8(xq.data()[i]);
  for (std::size_t l = 0; l < q.layers.size(); ++l) {
    const model::QuantLayer& y = q.layers[l];
    const Eigen::Index n = y.w.cols();
    std::vector<std::int64_t> z(std::size_t(xq.rows() * n));
    for (Eigen::Index r = 0; r < xq.rows(); ++r)
      for (Eigen::Index c = 0; c < n; ++c) {
        std::int64_t acc = static_cast<std::int32_t>(y.b(0, c));
        for (Eigen::Index k = 0; k < cols; ++k) acc += x[std::size_t(r * cols + k)] * s8(y.w(k, c));
        EXPECT_LE(std::llabs(acc), std::int64_t{1} << 31) << "the test leaves int32";
        z[std::size_t(r * n + c)] = acc;
      }
    if (l + 1 < q.layers.size())
      for (auto& v : z) {
        const double d =
            std::nearbyint(double(std::max<std::int64_t>(v, 0)) / std::ldexp(1.0, int(y.shift)));
        v = std::int64_t(std::min(127.0, d));
      }
    out.push_back(z);
    x = z;
    cols = n;
  }
  return out;
}

TEST(Quantize, ScalesShiftsAndTheGoldenForwardPass) {
  std::mt19937 rng(5);
  const model::MlpState s = random_state({29, 23, 17, 5}, rng);
  const model::RowMatrixXf calib = random_pixels(64, 29, rng);
  const model::QuantMlp q = model::quantize_mlp(s, calib);
  ASSERT_EQ(q.layers.size(), 3u);
  EXPECT_EQ(q.calibration_images, 64u);
  EXPECT_DOUBLE_EQ(q.layers[0].in_scale, calib.maxCoeff() / 127.0);
  for (std::size_t l = 0; l < 3; ++l) {
    const model::QuantLayer& y = q.layers[l];
    // The largest weight maps to +-127, every weight to its rounded multiple.
    bool top = false;
    for (Eigen::Index i = 0; i < y.w.size(); ++i) {
      const double v = model::bits_to_f32(s.w32[l].data()[i]) / y.w_scale;
      EXPECT_LE(std::fabs(v - double(s8(y.w.data()[i]))), 0.5) << "layer " << l;
      top = top || std::llabs(s8(y.w.data()[i])) == 127;
    }
    EXPECT_TRUE(top) << "layer " << l << " does not use the int8 range";
    for (Eigen::Index c = 0; c < y.b.cols(); ++c)
      EXPECT_LE(std::fabs(model::bits_to_f32(s.b32[l](0, c)) / (y.in_scale * y.w_scale) -
                          double(static_cast<std::int32_t>(y.b(0, c)))),
                0.5);
    if (l > 0) {  // the scale a hidden layer's shift gives the next one
      const model::QuantLayer& p = q.layers[l - 1];
      EXPECT_DOUBLE_EQ(y.in_scale, p.in_scale * p.w_scale * std::ldexp(1.0, int(p.shift)));
    }
  }
  // Each hidden shift is the smallest that keeps the calibration maximum
  // unsaturated.
  const model::RawMatrix xc = model::quantize_input(q, calib);
  const auto plain = plain_forward(q, xc);
  std::vector<model::RawMatrix> hidden;
  const model::AccMatrix logits = model::int8_logits(q, xc, &hidden);
  ASSERT_EQ(hidden.size(), 2u);
  for (std::size_t l = 0; l < 2; ++l) {
    // Re-run the pre-activation without the requantization: shift 0 in a copy.
    model::QuantMlp pre = q;
    pre.layers.resize(l + 1);
    pre.layers[l].shift = 0;
    const model::AccMatrix z = model::int8_logits(pre, model::quantize_input(q, calib));
    std::int64_t m = 0;
    for (Eigen::Index i = 0; i < z.size(); ++i)
      m = std::max<std::int64_t>(m, static_cast<std::int32_t>(z.data()[i]));
    const unsigned k = q.layers[l].shift;
    EXPECT_LE(m, std::int64_t{127} << k) << "layer " << l << " saturates at shift " << k;
    if (k > 0)
      EXPECT_GT(m, std::int64_t{127} << (k - 1)) << "layer " << l << ": a smaller shift fits";
    for (Eigen::Index i = 0; i < hidden[l].size(); ++i)
      ASSERT_EQ(s8(hidden[l].data()[i]), plain[l][std::size_t(i)]) << "layer " << l << " at " << i;
  }
  for (Eigen::Index i = 0; i < logits.size(); ++i)
    ASSERT_EQ(static_cast<std::int32_t>(logits.data()[i]), plain[2][std::size_t(i)]) << i;
  // Inputs: x / in_scale rounded; the largest maps to 127.
  EXPECT_EQ(s8(xc.maxCoeff()), 127);
  const std::vector<unsigned> pred = model::int8_predict(logits);
  ASSERT_EQ(pred.size(), 64u);
  for (Eigen::Index r = 0; r < logits.rows(); ++r)
    for (Eigen::Index c = 0; c < logits.cols(); ++c)
      EXPECT_LE(static_cast<std::int32_t>(logits(r, c)),
                static_cast<std::int32_t>(logits(r, pred[std::size_t(r)])));
}

TEST(Quantize, TiesPickTheLowestClassAndBadInputsAreRejected) {
  model::AccMatrix l(2, 3);
  l << 5, 7, 7, 0xFFFFFFFFu, 0xFFFFFFFEu, 0xFFFFFFFFu;  // -1, -2, -1
  EXPECT_EQ(model::int8_predict(l), (std::vector<unsigned>{1, 0}));
  std::mt19937 rng(1);
  model::MlpState s = random_state({8, 4, 2}, rng);
  EXPECT_THROW(model::quantize_mlp(s, model::RowMatrixXf(0, 8)), std::invalid_argument);
  EXPECT_THROW(model::quantize_mlp(s, random_pixels(4, 7, rng)), std::invalid_argument);
  s.w32[1](0, 0) = model::f32_to_bits(std::nanf(""));
  EXPECT_THROW(model::quantize_mlp(s, random_pixels(4, 8, rng)), std::invalid_argument);
}

struct Case {
  unsigned rows, cols, spad, acc;
  std::vector<Eigen::Index> layers;
  Eigen::Index batch;
};

class Int8Inference : public ::testing::TestWithParam<Case> {};

TEST_P(Int8Inference, DeviceEqualsTheGoldenModel) {
  const Case c = GetParam();
  model::FunctionalBackend dev(params(model::Datapath::kInt8, c.rows, c.cols, c.spad, c.acc));
  host::Driver drv(dev);
  std::mt19937 rng(static_cast<unsigned>(c.layers.size() * 131 + c.batch));
  const model::MlpState s = random_state(c.layers, rng);
  const model::QuantMlp q = model::quantize_mlp(s, random_pixels(50, c.layers[0], rng));
  host::DeviceInt8Mlp mlp(drv, q, std::uint64_t(c.batch));
  for (int b = 0; b < 2; ++b) {  // twice: nothing of the first batch stays behind
    const model::RawMatrix xq = model::quantize_input(q, random_pixels(c.batch, c.layers[0], rng));
    spec::RunResult r;
    const model::AccMatrix got = mlp.logits(xq, &r);
    std::vector<model::RawMatrix> hidden;
    const model::AccMatrix want = model::int8_logits(q, xq, &hidden);
    ASSERT_TRUE((got.array() == want.array()).all()) << "logits differ, batch " << b;
    const std::vector<model::RawMatrix> dh = mlp.hidden();
    ASSERT_EQ(dh.size(), hidden.size());
    for (std::size_t l = 0; l < dh.size(); ++l) {
      ASSERT_TRUE((dh[l].array() == hidden[l].array()).all()) << "hidden layer " << l;
      if (c.batch * c.layers[l + 1] >= 16) {  // both sides of the ReLU, some saturation-free values
        EXPECT_TRUE((dh[l].array() == 0).any()) << "hidden layer " << l;
        EXPECT_TRUE((dh[l].array() != 0).any()) << "hidden layer " << l;
      }
    }
    EXPECT_GT(r.instructions(), 0u);
  }
}

INSTANTIATE_TEST_SUITE_P(Shapes, Int8Inference,
                         ::testing::Values(Case{4, 4, 512, 256, {1, 1}, 1},
                                           Case{4, 4, 512, 256, {29, 37, 13, 5}, 13},
                                           Case{4, 4, 512, 16, {17, 9, 3}, 45},    // several chunks
                                           Case{4, 8, 16, 256, {29, 37, 10}, 13},  // spad < acc / 2
                                           Case{16, 16, 8192, 1024, {784, 128, 10}, 32}));

TEST(Int8Inference, RejectsWhatItCannotRun) {
  std::mt19937 rng(3);
  const model::MlpState s = random_state({8, 4, 2}, rng);
  const model::QuantMlp q = model::quantize_mlp(s, random_pixels(4, 8, rng));
  model::FunctionalBackend bf(params(model::Datapath::kBf16, 4, 4, 512, 256));
  host::Driver dbf(bf);
  EXPECT_THROW(host::DeviceInt8Mlp(dbf, q, 4), std::invalid_argument);
  model::FunctionalBackend i8(params(model::Datapath::kInt8, 4, 4, 512, 256));
  host::Driver d8(i8);
  EXPECT_THROW(host::DeviceInt8Mlp(d8, q, 0), std::invalid_argument);
  host::DeviceInt8Mlp mlp(d8, q, 4);
  EXPECT_THROW(mlp.logits(model::RawMatrix(3, 8)), std::invalid_argument);
  EXPECT_THROW(host::int8_dense_program(i8.params(), 4, 8, 4, {0, 8}, {64, 4}, {128, 16}, {256, 16},
                                        {512, 4}, 32u, d8.gemm_options()),
               std::invalid_argument);
  EXPECT_THROW(host::int8_dense_program(bf.params(), 4, 8, 4, {0, 8}, {64, 4}, {128, 16}, {256, 16},
                                        {512, 4}, 3u, dbf.gemm_options()),
               std::invalid_argument);
}

}  // namespace
