// fp32 reference MLP trainer: config validation, initialisation, forward
// against an independent double-precision implementation, softmax
// cross-entropy, gradients against central finite differences, the SGD and
// momentum updates, determinism, and training on synthetic and real data.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <initializer_list>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "sasim/host/dataset.hpp"
#include "sasim/model/mlp.hpp"

namespace {

using ::testing::StrEq;
using ::testing::ThrowsMessage;

namespace host = sasim::host;
using sasim::model::MlpConfig;
using sasim::model::ReferenceMlp;
using sasim::model::RowMatrixXf;

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

RowMatrixXf random_input(Eigen::Index rows, Eigen::Index cols, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  RowMatrixXf x(rows, cols);
  for (Eigen::Index i = 0; i < x.size(); ++i) {
    x.data()[i] = static_cast<float>(rng() >> 40) * 0x1.0p-24f;  // [0, 1)
  }
  return x;
}

// --- An independent double-precision MLP (plain loops) ---------------------

struct DoubleNet {
  std::vector<Eigen::MatrixXd> w;
  std::vector<Eigen::RowVectorXd> b;
};

DoubleNet to_double(const ReferenceMlp& m) {
  DoubleNet n;
  for (std::size_t l = 0; l < m.num_layers(); ++l) {
    n.w.push_back(m.weight(l).cast<double>());
    n.b.push_back(m.bias(l).cast<double>());
  }
  return n;
}

// Logits of n on x; min_abs_z gets the smallest |pre-activation| of a hidden
// unit, negatives the number of inactive hidden units.
Eigen::MatrixXd ref_logits(const DoubleNet& n, const Eigen::MatrixXd& x,
                           double* min_abs_z = nullptr, int* negatives = nullptr) {
  Eigen::MatrixXd a = x;
  if (min_abs_z) *min_abs_z = INFINITY;
  if (negatives) *negatives = 0;
  for (std::size_t l = 0; l < n.w.size(); ++l) {
    Eigen::MatrixXd z(a.rows(), n.w[l].cols());
    for (Eigen::Index i = 0; i < a.rows(); ++i) {
      for (Eigen::Index j = 0; j < n.w[l].cols(); ++j) {
        double s = n.b[l](j);
        for (Eigen::Index k = 0; k < a.cols(); ++k) s += a(i, k) * n.w[l](k, j);
        const bool hidden = l + 1 < n.w.size();
        if (hidden && min_abs_z) *min_abs_z = std::min(*min_abs_z, std::abs(s));
        if (hidden && negatives) *negatives += s < 0;
        z(i, j) = hidden ? std::max(s, 0.0) : s;
      }
    }
    a = z;
  }
  return a;
}

double ref_loss(const DoubleNet& n, const Eigen::MatrixXd& x, const std::vector<std::uint8_t>& y) {
  const Eigen::MatrixXd z = ref_logits(n, x);
  double total = 0;
  for (Eigen::Index i = 0; i < z.rows(); ++i) {
    const double m = z.row(i).maxCoeff();
    double s = 0;
    for (Eigen::Index j = 0; j < z.cols(); ++j) s += std::exp(z(i, j) - m);
    total += m + std::log(s) - z(i, y[static_cast<std::size_t>(i)]);
  }
  return total / static_cast<double>(z.rows());
}

// --- Config ------------------------------------------------------------------

std::string config_error(const std::function<void(MlpConfig&)>& edit) {
  MlpConfig c;
  edit(c);
  try {
    c.validate();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  ADD_FAILURE() << "validate() accepted the config";
  return {};
}

TEST(MlpConfig, ValidateNamesFieldAndRange) {
  EXPECT_NO_THROW(MlpConfig{}.validate());
  EXPECT_EQ(config_error([](MlpConfig& c) { c.lr = 0.0f; }),
            "mlp.lr: 0 is out of range (allowed (0, 100])");
  EXPECT_EQ(config_error([](MlpConfig& c) { c.lr = NAN; }).substr(0, 7), "mlp.lr:");
  EXPECT_EQ(config_error([](MlpConfig& c) { c.momentum = 1.0f; }),
            "mlp.momentum: 1 is out of range (allowed [0, 1))");
  EXPECT_EQ(config_error([](MlpConfig& c) { c.batch = 0; }),
            "mlp.batch: 0 is out of range (allowed 1..4095)");
  EXPECT_EQ(
      config_error([](MlpConfig& c) { c.layers = {784}; }),
      "mlp.layers: 1 entries is out of range (allowed 2..16: inputs, hidden layers, classes)");
  EXPECT_EQ(config_error([](MlpConfig& c) {
              c.layers = {784, 0, 10};
            }),
            "mlp.layers[1]: 0 is out of range (allowed 1..4096)");
  EXPECT_EQ(config_error([](MlpConfig& c) {
              c.layers = {784, 300};
            }),
            "mlp.layers (the last entry, classes): 300 is out of range (allowed 1..256, labels "
            "are 8-bit)");
  EXPECT_THROW(ReferenceMlp(MlpConfig{.layers = {4}}), std::invalid_argument);
  // The config loader names its own keys.
  EXPECT_THAT([] { MlpConfig{.batch = 0}.validate("train."); },
              ThrowsMessage<std::invalid_argument>(
                  StrEq("train.batch: 0 is out of range (allowed 1..4095)")));
}

// --- Initialisation ------------------------------------------------------------

TEST(ReferenceMlp, InitIsHeUniformAndSeeded) {
  const ReferenceMlp m(MlpConfig{});
  ASSERT_EQ(m.num_layers(), 2u);
  const double r0 = std::sqrt(6.0 / 784.0);           // He-uniform (ReLU layer)
  const double r1 = std::sqrt(6.0 / (128.0 + 10.0));  // Glorot-uniform (output)
  const RowMatrixXf& w0 = m.weight(0);
  ASSERT_EQ(w0.rows(), 784);
  ASSERT_EQ(w0.cols(), 128);
  EXPECT_LE(w0.cwiseAbs().maxCoeff(), r0);
  EXPECT_GT(w0.cwiseAbs().maxCoeff(), 0.999 * r0);
  // Uniform on [-r, r]: mean 0, variance r^2 / 3. With N = 100352 samples the
  // standard error of the mean is 1.8e-3 r and of the variance 0.3 % of r^2/3,
  // so these bounds are more than 5 sigma wide.
  const double mean = w0.cast<double>().mean();
  const double var = (w0.cast<double>().array() - mean).square().mean();
  EXPECT_LT(std::abs(mean), 0.01 * r0);
  EXPECT_NEAR(var, r0 * r0 / 3.0, 0.02 * r0 * r0 / 3.0);
  EXPECT_LE(m.weight(1).cwiseAbs().maxCoeff(), r1);
  EXPECT_GT(m.weight(1).cwiseAbs().maxCoeff(), 0.9 * r1);
  EXPECT_TRUE(m.bias(0).isZero(0.0f));
  EXPECT_TRUE(m.bias(1).isZero(0.0f));
  EXPECT_EQ(m.weight_velocity(0).size(), 0);  // no momentum buffers without momentum

  const ReferenceMlp same(MlpConfig{});
  EXPECT_EQ(m.weight(0), same.weight(0));
  EXPECT_EQ(m.weight(1), same.weight(1));
  const ReferenceMlp other(MlpConfig{.seed = 2});
  EXPECT_NE(m.weight(0), other.weight(0));
}

// --- Forward and loss ---------------------------------------------------------

TEST(ReferenceMlp, ForwardMatchesDoubleReference) {
  ReferenceMlp m(MlpConfig{.layers = {20, 16, 12, 5}, .seed = 11});
  std::mt19937_64 rng(3);
  for (std::size_t l = 0; l < m.num_layers(); ++l) {
    for (Eigen::Index j = 0; j < m.bias(l).size(); ++j) {
      m.bias(l)(j) = static_cast<float>(rng() >> 40) * 0x1.0p-24f - 0.5f;
    }
  }
  const RowMatrixXf x = random_input(9, 20, 5);
  const RowMatrixXf z = m.forward(x);
  const Eigen::MatrixXd ref = ref_logits(to_double(m), x.cast<double>());
  ASSERT_EQ(z.rows(), 9);
  ASSERT_EQ(z.cols(), 5);
  // fp32 sums of <= 20 terms of size O(1): errors of a few 1e-7.
  EXPECT_LT((z.cast<double>() - ref).cwiseAbs().maxCoeff(), 1e-5);
  // Cached activations: X, then ReLU outputs (non-negative), then the logits.
  EXPECT_EQ(m.activation(0), x);
  EXPECT_GE(m.activation(1).minCoeff(), 0.0f);
  EXPECT_EQ(m.activation(3), z);
  // The const paths agree with forward().
  EXPECT_EQ(m.logits(x), z);
  const auto p = m.predict(x);
  for (Eigen::Index i = 0; i < z.rows(); ++i) {
    Eigen::Index best;
    ref.row(i).maxCoeff(&best);
    EXPECT_EQ(p[static_cast<std::size_t>(i)], static_cast<unsigned>(best)) << "row " << i;
  }
  EXPECT_THROW(m.forward(random_input(2, 19, 1)), std::invalid_argument);
}

TEST(ReferenceMlp, SoftmaxCrossEntropy) {
  RowMatrixXf d;
  // Equal logits: loss log(C); gradient (1/C - onehot) / B.
  const RowMatrixXf zero = RowMatrixXf::Zero(2, 4);
  const std::vector<std::uint8_t> y{1, 3};
  EXPECT_NEAR(ReferenceMlp::loss_and_grad(zero, y, d), std::log(4.0), 1e-6);
  for (int i = 0; i < 2; ++i) {
    for (int j = 0; j < 4; ++j) {
      EXPECT_FLOAT_EQ(d(i, j), (0.25f - (j == y[i] ? 1.0f : 0.0f)) / 2.0f) << i << "," << j;
    }
  }
  // Huge logits stay finite (the row maximum is subtracted before exp).
  RowMatrixXf big(2, 3);
  big << 1000.0f, 0.0f, -1000.0f, 1000.0f, 0.0f, -1000.0f;
  const std::vector<std::uint8_t> y2{0, 2};
  const float loss = ReferenceMlp::loss_and_grad(big, y2, d);
  EXPECT_FLOAT_EQ(loss, (0.0f + 2000.0f) / 2.0f);
  EXPECT_TRUE(d.allFinite());
  EXPECT_FLOAT_EQ(d(1, 0), 0.5f);   // softmax 1 on class 0, divided by B = 2
  EXPECT_FLOAT_EQ(d(1, 2), -0.5f);  // -onehot / B
  for (int i = 0; i < 2; ++i) EXPECT_NEAR(d.row(i).sum(), 0.0f, 1e-7f);
  const std::vector<std::uint8_t> bad{0, 3};
  EXPECT_THROW(ReferenceMlp::loss_and_grad(big, bad, d), std::invalid_argument);
  const std::vector<std::uint8_t> short_labels{0};
  EXPECT_THROW(ReferenceMlp::loss_and_grad(big, short_labels, d), std::invalid_argument);
}

// --- Gradients ----------------------------------------------------------------

TEST(ReferenceMlp, GradientsMatchCentralDifferences) {
  // Two hidden layers so the ReLU mask and dX = dY W^T are both exercised.
  ReferenceMlp m(MlpConfig{.layers = {7, 6, 5, 3}, .seed = 4});
  std::mt19937_64 rng(9);
  for (std::size_t l = 0; l < m.num_layers(); ++l) {
    for (Eigen::Index j = 0; j < m.bias(l).size(); ++j) {
      m.bias(l)(j) = static_cast<float>(rng() >> 40) * 0x1.0p-24f * 0.4f - 0.2f;
    }
  }
  const RowMatrixXf x = random_input(5, 7, 21);
  const std::vector<std::uint8_t> y{0, 2, 1, 2, 0};
  RowMatrixXf dlogits;
  ReferenceMlp::loss_and_grad(m.forward(x), y, dlogits);
  m.backward(dlogits);

  // Numerical gradient in double on the same (exactly converted) parameters.
  // eps = 1e-6: truncation error ~eps^2 |f'''| ~ 1e-12, rounding ~1e-16/eps =
  // 1e-10, so the numerical side is good to ~1e-10. A perturbation moves any
  // pre-activation by at most ~eps * 6 * 5 (fan-in x |a|, |W| < 1), far below
  // the 1e-4 margin asserted below, so no ReLU kink lies inside [-eps, eps]
  // and the loss is smooth there.
  const double eps = 1e-6;
  DoubleNet n = to_double(m);
  const Eigen::MatrixXd xd = x.cast<double>();
  double min_abs_z = 0;
  int negatives = 0;
  ref_logits(n, xd, &min_abs_z, &negatives);
  ASSERT_GT(min_abs_z, 1e-4) << "a hidden unit sits at a ReLU kink; pick another seed";
  ASSERT_GT(negatives, 5) << "the ReLU mask must matter";
  // Analytic side: fp32, each gradient entry a sum of <= 6 x 5 products of
  // O(0.3) terms, relative rounding ~1e-7 per operation: absolute errors of a
  // few 1e-7. The tolerance 1e-5 + 1e-4 |g| is ~20x that, while a real bug
  // (missing mask, wrong 1/B, transposed product) changes entries by O(|g|),
  // with |g| up to ~0.1 here (asserted below).
  const auto check = [&](double analytic, double& param, const std::string& what) {
    const double saved = param;
    param = saved + eps;
    const double up = ref_loss(n, xd, y);
    param = saved - eps;
    const double down = ref_loss(n, xd, y);
    param = saved;
    const double numeric = (up - down) / (2 * eps);
    EXPECT_NEAR(analytic, numeric, 1e-5 + 1e-4 * std::abs(numeric)) << what;
    return std::abs(numeric);
  };
  double largest = 0;
  int checked = 0;
  for (std::size_t l = 0; l < m.num_layers(); ++l) {
    for (Eigen::Index i = 0; i < n.w[l].rows(); ++i) {
      for (Eigen::Index j = 0; j < n.w[l].cols(); ++j) {
        largest = std::max(largest, check(m.weight_grad(l)(i, j), n.w[l](i, j),
                                          "dW" + std::to_string(l) + "(" + std::to_string(i) + "," +
                                              std::to_string(j) + ")"));
        ++checked;
      }
    }
    for (Eigen::Index j = 0; j < n.b[l].size(); ++j) {
      largest = std::max(largest, check(m.bias_grad(l)(j), n.b[l](j),
                                        "db" + std::to_string(l) + "(" + std::to_string(j) + ")"));
      ++checked;
    }
  }
  EXPECT_EQ(checked, 7 * 6 + 6 + 6 * 5 + 5 + 5 * 3 + 3);
  EXPECT_GT(largest, 1e-2);
  // The exposed intermediate gradients obey the documented formulas.
  EXPECT_EQ(m.output_grad(2), dlogits);
  const RowMatrixXf dw0 = m.activation(0).transpose() * m.output_grad(0);
  EXPECT_LT((dw0 - m.weight_grad(0)).cwiseAbs().maxCoeff(), 1e-7f);
  for (Eigen::Index i = 0; i < m.activation(1).size(); ++i) {
    if (m.activation(1).data()[i] == 0.0f) EXPECT_EQ(m.output_grad(0).data()[i], 0.0f);
  }
}

// --- Updates ------------------------------------------------------------------

TEST(ReferenceMlp, SgdStepIsExact) {
  ReferenceMlp m(MlpConfig{.layers = {6, 4, 3}, .lr = 0.25f, .seed = 2});
  const RowMatrixXf x = random_input(4, 6, 1);
  const std::vector<std::uint8_t> y{0, 1, 2, 1};
  const RowMatrixXf w0 = m.weight(0);
  const Eigen::RowVectorXf b1 = m.bias(1);
  const float loss = m.train_batch(x, y);
  EXPECT_GT(loss, 0.0f);
  for (Eigen::Index i = 0; i < w0.size(); ++i) {
    EXPECT_EQ(m.weight(0).data()[i], w0.data()[i] - 0.25f * m.weight_grad(0).data()[i]);
  }
  for (Eigen::Index j = 0; j < b1.size(); ++j) {
    EXPECT_EQ(m.bias(1)(j), b1(j) - 0.25f * m.bias_grad(1)(j));
  }
  EXPECT_FALSE(m.weight_grad(0).isZero(0.0f));
}

TEST(ReferenceMlp, MomentumStepIsHeavyBall) {
  // v = mu v + g; W -= lr v, starting from v = 0.
  const float lr = 0.1f, mu = 0.9f;
  ReferenceMlp m(MlpConfig{.layers = {6, 4, 3}, .lr = lr, .momentum = mu, .seed = 2});
  const RowMatrixXf x = random_input(4, 6, 1);
  const std::vector<std::uint8_t> y{0, 1, 2, 1};
  const RowMatrixXf w0 = m.weight(0);
  m.train_batch(x, y);
  const RowMatrixXf g1 = m.weight_grad(0);
  EXPECT_EQ(m.weight_velocity(0), g1);
  const RowMatrixXf w1 = m.weight(0);
  m.train_batch(x, y);
  const RowMatrixXf g2 = m.weight_grad(0);
  for (Eigen::Index i = 0; i < w0.size(); ++i) {
    EXPECT_EQ(w1.data()[i], w0.data()[i] - lr * g1.data()[i]);
    const float v2 = mu * g1.data()[i] + g2.data()[i];
    EXPECT_EQ(m.weight_velocity(0).data()[i], v2);
    EXPECT_EQ(m.weight(0).data()[i], w1.data()[i] - lr * v2);
  }
}

// Adam and AdamW against the textbook equations in double (Kingma & Ba with
// PyTorch's bias correction; AdamW's decay lr * wd * W), over three steps of
// the model's own gradients: within 1e-5 relative (the model rounds every
// operation to binary32, the check does not) and the step's scalars
// exactly as rule_at defines them.
TEST(ReferenceMlp, AdamFollowsTheTextbookEquations) {
  for (const auto opt : {sasim::model::Optimizer::kAdam, sasim::model::Optimizer::kAdamW}) {
    MlpConfig cfg{.layers = {6, 4, 3}, .lr = 0.01f, .seed = 2};
    cfg.optimizer = opt;
    cfg.weight_decay = 0.1f;
    const sasim::model::UpdateRule r0 = cfg.rule_at(0);
    EXPECT_EQ(r0.neg_step,
              static_cast<float>(-0.01f * std::sqrt(1 - double(0.999f)) / (1 - double(0.9f))));
    EXPECT_EQ(r0.eps_hat, static_cast<float>(double(1e-8f) * std::sqrt(1 - double(0.999f))));
    EXPECT_EQ(r0.has_l2, opt == sasim::model::Optimizer::kAdam);
    EXPECT_EQ(r0.has_decay, opt == sasim::model::Optimizer::kAdamW);
    ReferenceMlp m(cfg);
    const RowMatrixXf x = random_input(4, 6, 1);
    const std::vector<std::uint8_t> y{0, 1, 2, 1};
    const Eigen::Index n = m.weight(1).size();
    std::vector<double> w(m.weight(1).data(), m.weight(1).data() + n), mm(n, 0.0), vv(n, 0.0);
    const double b1 = 0.9f, b2 = 0.999f, eps = 1e-8f, wd = 0.1f, lr = 0.01f;
    for (int t = 1; t <= 3; ++t) {
      m.train_batch(x, y);
      const RowMatrixXf& g = m.weight_grad(1);
      for (Eigen::Index i = 0; i < n; ++i) {
        double gi = g.data()[i];
        if (opt == sasim::model::Optimizer::kAdam) gi += wd * w[i];
        mm[i] = b1 * mm[i] + (1 - b1) * gi;
        vv[i] = b2 * vv[i] + (1 - b2) * gi * gi;
        const double mh = mm[i] / (1 - std::pow(b1, t)), vh = vv[i] / (1 - std::pow(b2, t));
        if (opt == sasim::model::Optimizer::kAdamW) w[i] *= 1 - lr * wd;
        w[i] -= lr * mh / (std::sqrt(vh) + eps);
        EXPECT_NEAR(m.weight(1).data()[i], w[i], 1e-5 * std::abs(w[i]) + 1e-9)
            << sasim::model::to_string(opt) << " step " << t << " element " << i;
        EXPECT_NEAR(m.weight_velocity(1).data()[i], mm[i], 1e-5 * std::abs(mm[i]) + 1e-12);
        EXPECT_NEAR(m.weight_second_moment(1).data()[i], vv[i], 1e-5 * vv[i] + 1e-15);
      }
    }
    EXPECT_EQ(m.steps_taken(), 3u);
  }
}

TEST(MlpConfig, OptimizerFieldsAreChecked) {
  const auto error = [](const std::function<void(MlpConfig&)>& change) {
    MlpConfig c;
    change(c);
    try {
      c.validate();
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  using sasim::model::Optimizer;
  EXPECT_EQ(error([](MlpConfig& c) { c.optimizer = Optimizer::kAdam; }), "");
  EXPECT_EQ(error([](MlpConfig& c) {
              c.optimizer = Optimizer::kAdam;
              c.momentum = 0.9f;
            }),
            "mlp.momentum: 0.9 is out of range (allowed 0 with optimizer adam, which uses beta1)");
  EXPECT_EQ(error([](MlpConfig& c) { c.weight_decay = 0.1f; }),
            "mlp.weight_decay: 0.1 is out of range (allowed 0 with optimizer sgd: adam and adamw "
            "only)");
  EXPECT_EQ(error([](MlpConfig& c) { c.beta1 = 1.0f; }),
            "mlp.beta1: 1 is out of range (allowed [0, 1))");
  EXPECT_EQ(error([](MlpConfig& c) { c.eps = 0.0f; }),
            "mlp.eps: 0 is out of range (allowed [1e-30, 1])");
  EXPECT_EQ(sasim::model::parse_optimizer("adamw"), Optimizer::kAdamW);
  EXPECT_FALSE(sasim::model::parse_optimizer("Adam").has_value());
  // State tensors per parameter.
  MlpConfig c;
  EXPECT_EQ(c.moments(), 0u);
  c.momentum = 0.5f;
  EXPECT_EQ(c.moments(), 1u);
  c.momentum = 0;
  c.optimizer = Optimizer::kAdamW;
  EXPECT_EQ(c.moments(), 2u);
}

// --- Training -----------------------------------------------------------------

TEST(ReferenceMlp, DeterministicTraining) {
  const host::Dataset d = host::synthetic_dataset(600, 12, 12, 10, 17);
  const MlpConfig cfg{.layers = {144, 32, 16, 10}, .lr = 0.05f, .momentum = 0.9f, .seed = 99};
  const auto train = [&](const MlpConfig& c) {
    ReferenceMlp m(c);
    for (std::uint64_t e = 0; e < 2; ++e)
      m.train_epoch(d.samples(), host::shuffled_order(600, 5, e));
    return m;
  };
  const ReferenceMlp a = train(cfg);
  const ReferenceMlp b = train(cfg);
  MlpConfig other = cfg;
  other.seed = 100;
  const ReferenceMlp c = train(other);
  for (std::size_t l = 0; l < a.num_layers(); ++l) {
    EXPECT_EQ(a.weight(l), b.weight(l)) << "layer " << l;  // bit-identical
    EXPECT_EQ(a.bias(l), b.bias(l)) << "layer " << l;
    EXPECT_EQ(a.weight_velocity(l), b.weight_velocity(l)) << "layer " << l;
    EXPECT_NE(a.weight(l), c.weight(l)) << "layer " << l;
  }
}

TEST(ReferenceMlp, LearnsSyntheticData) {
  // 2000 training and 1000 held-out images of one synthetic distribution.
  const host::Dataset all = host::synthetic_dataset(3000, 28, 28, 10, 2024);
  const host::Dataset train = host::subset(all, 0, 2000);
  const host::Dataset held_out = host::subset(all, 2000, 1000);
  ReferenceMlp m(MlpConfig{.seed = 7});
  const double loss0 = m.mean_loss(train.samples());
  const double acc0 = m.evaluate(held_out.samples());
  std::vector<double> epoch_loss;
  for (std::uint64_t e = 0; e < 3; ++e) {
    epoch_loss.push_back(m.train_epoch(train.samples(), host::shuffled_order(2000, 7, e)));
  }
  const double loss3 = m.mean_loss(train.samples());
  const double acc = m.evaluate(held_out.samples());
  std::printf(
      "synthetic: loss %.4f -> epochs %.4f %.4f %.4f -> %.4f; held-out accuracy %.4f -> %.4f\n",
      loss0, epoch_loss[0], epoch_loss[1], epoch_loss[2], loss3, acc0, acc);
  EXPECT_NEAR(loss0, std::log(10.0), 1.0);  // about chance at init
  EXPECT_LT(epoch_loss[2], epoch_loss[0]);
  EXPECT_LT(loss3, 0.5 * loss0);
  EXPECT_LT(acc0, 0.5);
  EXPECT_GT(acc, 0.90);
}

TEST(ReferenceMlp, FashionMnistSliceOneEpoch) {
  if (!host::fashion_mnist_installed())
    GTEST_SKIP() << "dataset-fashion-mnist is not installed (" << host::kFashionMnistDir
                 << "); ./sasim installs it";
  // 1 epoch on the first 6000 training images, scored on the first 2000 test
  // images, 784-128-10. After so few steps (750) the final iterate is noisy:
  // over model/order seeds 1..20 this config scored 78.7 % mean, 1.5 % sd,
  // 76.3 % min (the default lr 0.1, batch 32, plain SGD: 72.9 % mean, 2.5 % sd,
  // its 188 steps are too few). The run is deterministic for a given build;
  // the margin covers builds whose Eigen kernels round differently.
  const host::Dataset train = host::subset(host::load_fashion_mnist(host::Split::kTrain), 0, 6000);
  const host::Dataset test = host::subset(host::load_fashion_mnist(host::Split::kTest), 0, 2000);
  ReferenceMlp m(MlpConfig{.lr = 0.003f, .momentum = 0.95f, .batch = 8, .seed = 1});
  const auto t0 = std::chrono::steady_clock::now();
  const float loss = m.train_epoch(train.samples(), host::shuffled_order(6000, 1, 0));
  const double train_s = seconds_since(t0);
  const double acc = m.evaluate(test.samples());
  std::printf("fashion-mnist 6000/2000: epoch loss %.4f, test accuracy %.4f, epoch %.3f s\n", loss,
              acc, train_s);
  EXPECT_LT(loss, 1.0f);
  EXPECT_GT(acc, 0.75);
}

}  // namespace
