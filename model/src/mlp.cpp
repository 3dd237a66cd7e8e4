// fp32 reference MLP trainer (see mlp.hpp for the equations).
#include "sasim/model/mlp.hpp"

#include <algorithm>
#include <cmath>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace sasim::model {

namespace {

// Chunk of rows evaluated at once by evaluate()/mean_loss() (bounds memory).
constexpr std::size_t kEvalChunk = 1024;

template <typename T>
[[noreturn]] void bad_field(const std::string& field, const T& value, const std::string& allowed) {
  std::ostringstream os;
  os << field << ": " << value << " is out of range (allowed " << allowed << ")";
  throw std::invalid_argument(os.str());
}

// Uniform in [0, 1) from the top 24 bits of one draw: exact in float and
// independent of the standard library (unlike std::uniform_real_distribution).
float uniform01(std::mt19937_64& rng) { return static_cast<float>(rng() >> 40) * 0x1.0p-24f; }

std::string shape(Eigen::Index r, Eigen::Index c) {
  return std::to_string(r) + "x" + std::to_string(c);
}

}  // namespace

Batch gather_batch(const SampleView& samples, std::span<const std::size_t> indices) {
  const std::size_t f = samples.features;
  if (f == 0 || samples.pixels.size() != samples.count() * f) {
    throw std::invalid_argument("gather_batch: " + std::to_string(samples.pixels.size()) +
                                " pixels do not hold " + std::to_string(samples.count()) +
                                " images of " + std::to_string(f) + " features");
  }
  Batch b;
  b.x.resize(static_cast<Eigen::Index>(indices.size()), static_cast<Eigen::Index>(f));
  b.labels.resize(indices.size());
  for (std::size_t r = 0; r < indices.size(); ++r) {
    const std::size_t i = indices[r];
    if (i >= samples.count()) {
      throw std::out_of_range("gather_batch: index " + std::to_string(i) + " (batch row " +
                              std::to_string(r) + ") >= sample count " +
                              std::to_string(samples.count()));
    }
    const std::uint8_t* src = samples.pixels.data() + i * f;
    float* dst = b.x.data() + r * f;
    for (std::size_t k = 0; k < f; ++k) dst[k] = static_cast<float>(src[k]) / 255.0f;
    b.labels[r] = samples.labels[i];
  }
  return b;
}

void MlpConfig::validate(const std::string& prefix) const {
  const auto n = [](auto v) { return std::to_string(v); };
  if (layers.size() < 2 || layers.size() > kMaxLayers) {
    bad_field(prefix + "layers", n(layers.size()) + " entries",
              "2.." + n(kMaxLayers) + ": inputs, hidden layers, classes");
  }
  for (std::size_t i = 0; i < layers.size(); ++i) {
    if (layers[i] < 1 || layers[i] > kMaxWidth)
      bad_field(prefix + "layers[" + n(i) + "]", layers[i], "1.." + n(kMaxWidth));
  }
  if (layers.back() > kMaxClasses) {
    bad_field(prefix + "layers (the last entry, classes)", layers.back(),
              "1.." + n(kMaxClasses) + ", labels are 8-bit");
  }
  validate_rates(lr, momentum, prefix);
  validate_adam(beta1, beta2, eps, weight_decay, prefix);
  if (optimizer != Optimizer::kSgd && momentum != 0.0f)
    bad_field(prefix + "momentum", momentum,
              std::string("0 with optimizer ") + to_string(optimizer) + ", which uses beta1");
  if (optimizer == Optimizer::kSgd && weight_decay != 0.0f)
    bad_field(prefix + "weight_decay", weight_decay, "0 with optimizer sgd: adam and adamw only");
  if (batch < 1 || batch > kMaxBatch) bad_field(prefix + "batch", batch, "1.." + n(kMaxBatch));
  if (warmup_steps > kMaxSteps)
    bad_field(prefix + "warmup_steps", warmup_steps, "0.." + n(kMaxSteps));
  if (step_size < 1 || step_size > kMaxSteps)
    bad_field(prefix + "step_size", step_size, "1.." + n(kMaxSteps));
  if (!(gamma > 0.0f && gamma <= 1.0f)) bad_field(prefix + "gamma", gamma, "(0, 1]");
  if (!(lr_min >= 0.0f && lr_min <= lr))
    bad_field(prefix + "lr_min", lr_min, "[0, lr = " + std::to_string(lr) + "]");
  if (total_steps > kMaxSteps) bad_field(prefix + "total_steps", total_steps, "0.." + n(kMaxSteps));
}

const char* to_string(LrSchedule s) {
  switch (s) {
    case LrSchedule::kConstant:
      return "constant";
    case LrSchedule::kStep:
      return "step";
    case LrSchedule::kCosine:
      return "cosine";
  }
  return "?";
}

std::optional<LrSchedule> parse_lr_schedule(std::string_view name) {
  for (LrSchedule s : {LrSchedule::kConstant, LrSchedule::kStep, LrSchedule::kCosine})
    if (name == to_string(s)) return s;
  return std::nullopt;
}

const char* to_string(Optimizer o) {
  switch (o) {
    case Optimizer::kSgd:
      return "sgd";
    case Optimizer::kAdam:
      return "adam";
    case Optimizer::kAdamW:
      return "adamw";
  }
  return "?";
}

std::optional<Optimizer> parse_optimizer(std::string_view name) {
  for (Optimizer o : {Optimizer::kSgd, Optimizer::kAdam, Optimizer::kAdamW})
    if (name == to_string(o)) return o;
  return std::nullopt;
}

UpdateRule MlpConfig::rule_at(std::uint64_t t) const {
  UpdateRule r;
  r.optimizer = optimizer;
  r.lr = lr_at(t);
  if (optimizer == Optimizer::kSgd) {
    r.momentum = momentum;
    return r;
  }
  const double b1 = beta1, b2 = beta2, n = double(t) + 1;
  const double c1 = 1 - std::pow(b1, n), c2 = std::sqrt(1 - std::pow(b2, n));
  r.beta1 = beta1;
  r.one_minus_beta1 = static_cast<float>(1 - b1);
  r.beta2 = beta2;
  r.one_minus_beta2 = static_cast<float>(1 - b2);
  r.eps_hat = static_cast<float>(double(eps) * c2);
  r.neg_step = static_cast<float>(-double(r.lr) * c2 / c1);
  if (weight_decay > 0.0f) {
    if (optimizer == Optimizer::kAdam) {
      r.has_l2 = true;
      r.l2 = weight_decay;
    } else {
      r.has_decay = true;
      r.decay = static_cast<float>(1 - double(r.lr) * double(weight_decay));
    }
  }
  return r;
}

float MlpConfig::lr_at(std::uint64_t t) const {
  const double base = lr;
  if (t < warmup_steps) return static_cast<float>(base * double(t + 1) / double(warmup_steps));
  const std::uint64_t u = t - warmup_steps;
  double r = base;
  if (schedule == LrSchedule::kStep) {
    r = base * std::pow(double(gamma), double(u / step_size));
  } else if (schedule == LrSchedule::kCosine) {
    const std::uint64_t T =
        std::max<std::uint64_t>(1, total_steps > warmup_steps ? total_steps - warmup_steps : 0);
    const double x = double(std::min(u, T)) / double(T);
    r = double(lr_min) + (base - double(lr_min)) * (1.0 + std::cos(M_PI * x)) / 2.0;
  }
  return static_cast<float>(r);
}

void MlpConfig::validate_rates(double lr, double momentum, const std::string& prefix) {
  if (!(lr > 0 && lr <= kMaxLr && static_cast<float>(lr) > 0.0f))
    bad_field(prefix + "lr", lr, "(0, " + std::to_string(static_cast<int>(kMaxLr)) + "]");
  if (!(momentum >= 0 && momentum < 1 && static_cast<float>(momentum) < 1.0f))
    bad_field(prefix + "momentum", momentum, "[0, 1)");
}

void MlpConfig::validate_adam(double beta1, double beta2, double eps, double weight_decay,
                              const std::string& prefix) {
  const auto below_one = [&](const char* k, double v) {
    if (!(v >= 0 && v < 1 && static_cast<float>(v) < 1.0f)) bad_field(prefix + k, v, "[0, 1)");
  };
  below_one("beta1", beta1);
  below_one("beta2", beta2);
  if (!(eps >= kMinEps && eps <= 1)) {
    std::ostringstream range;
    range << "[" << kMinEps << ", 1]";
    bad_field(prefix + "eps", eps, range.str());
  }
  if (!(weight_decay >= 0 && weight_decay <= 1))
    bad_field(prefix + "weight_decay", weight_decay, "[0, 1]");
}

ReferenceMlp::ReferenceMlp(MlpConfig config) : config_(std::move(config)) {
  config_.validate();
  const std::size_t n_layers = config_.layers.size() - 1;
  std::mt19937_64 rng(config_.seed);
  for (std::size_t l = 0; l < n_layers; ++l) {
    const auto in = static_cast<Eigen::Index>(config_.layers[l]);
    const auto out = static_cast<Eigen::Index>(config_.layers[l + 1]);
    const bool relu = l + 1 < n_layers;
    const float r = relu ? std::sqrt(6.0f / static_cast<float>(in))
                         : std::sqrt(6.0f / static_cast<float>(in + out));
    RowMatrixXf w(in, out);
    for (Eigen::Index i = 0; i < in; ++i) {
      for (Eigen::Index j = 0; j < out; ++j) w(i, j) = (2.0f * uniform01(rng) - 1.0f) * r;
    }
    weights_.push_back(std::move(w));
    biases_.push_back(Eigen::RowVectorXf::Zero(out));
    dweights_.push_back(RowMatrixXf::Zero(in, out));
    dbiases_.push_back(Eigen::RowVectorXf::Zero(out));
    const unsigned moments = config_.moments();
    vweights_.push_back(moments >= 1 ? RowMatrixXf::Zero(in, out) : RowMatrixXf());
    vbiases_.push_back(moments >= 1 ? Eigen::RowVectorXf::Zero(out) : Eigen::RowVectorXf());
    sweights_.push_back(moments >= 2 ? RowMatrixXf::Zero(in, out) : RowMatrixXf());
    sbiases_.push_back(moments >= 2 ? Eigen::RowVectorXf::Zero(out) : Eigen::RowVectorXf());
  }
}

void ReferenceMlp::check_shapes(const RowMatrixXf& x) const {
  if (x.cols() != static_cast<Eigen::Index>(inputs())) {
    throw std::invalid_argument("ReferenceMlp: input has " + std::to_string(x.cols()) +
                                " columns, the network takes " + std::to_string(inputs()));
  }
  for (std::size_t l = 0; l < num_layers(); ++l) {
    const auto in = static_cast<Eigen::Index>(config_.layers[l]);
    const auto out = static_cast<Eigen::Index>(config_.layers[l + 1]);
    if (weights_[l].rows() != in || weights_[l].cols() != out || biases_[l].cols() != out) {
      throw std::invalid_argument("ReferenceMlp: layer " + std::to_string(l) + " has W " +
                                  shape(weights_[l].rows(), weights_[l].cols()) + ", b " +
                                  shape(1, biases_[l].cols()) + ", expected W " + shape(in, out) +
                                  ", b " + shape(1, out));
    }
  }
}

RowMatrixXf ReferenceMlp::run(const RowMatrixXf& x, std::vector<RowMatrixXf>* acts) const {
  check_shapes(x);
  if (acts) {
    acts->resize(num_layers() + 1);
    (*acts)[0] = x;
  }
  RowMatrixXf a = x;
  for (std::size_t l = 0; l < num_layers(); ++l) {
    RowMatrixXf z(a.rows(), weights_[l].cols());
    z.noalias() = a * weights_[l];
    z.rowwise() += biases_[l];
    if (l + 1 < num_layers()) z = z.cwiseMax(0.0f);
    a = std::move(z);
    if (acts) (*acts)[l + 1] = a;
  }
  return a;
}

const RowMatrixXf& ReferenceMlp::forward(const RowMatrixXf& x) {
  run(x, &acts_);
  return acts_.back();
}

float ReferenceMlp::loss_and_grad(const RowMatrixXf& logits, std::span<const std::uint8_t> labels,
                                  RowMatrixXf& dlogits) {
  const Eigen::Index batch = logits.rows();
  const Eigen::Index classes = logits.cols();
  if (batch == 0 || classes == 0) {
    throw std::invalid_argument("loss_and_grad: empty logits " + shape(batch, classes));
  }
  if (labels.size() != static_cast<std::size_t>(batch)) {
    throw std::invalid_argument("loss_and_grad: " + std::to_string(labels.size()) + " labels for " +
                                std::to_string(batch) + " logit rows");
  }
  dlogits.resize(batch, classes);
  const float inv_batch = 1.0f / static_cast<float>(batch);
  double total = 0.0;
  for (Eigen::Index i = 0; i < batch; ++i) {
    const unsigned y = labels[static_cast<std::size_t>(i)];
    if (y >= static_cast<unsigned>(classes)) {
      throw std::invalid_argument("loss_and_grad: label " + std::to_string(y) + " of row " +
                                  std::to_string(i) + " >= classes " + std::to_string(classes));
    }
    const float m = logits.row(i).maxCoeff();
    float sum = 0.0f;
    for (Eigen::Index j = 0; j < classes; ++j) {
      const float e = std::exp(logits(i, j) - m);
      dlogits(i, j) = e;
      sum += e;
    }
    // loss_i = logsumexp(z_i) - z_i[y] = log(sum) - (z_i[y] - m); sum >= 1.
    total += static_cast<double>(std::log(sum)) - static_cast<double>(logits(i, y) - m);
    const float inv_sum = 1.0f / sum;
    for (Eigen::Index j = 0; j < classes; ++j) {
      dlogits(i, j) = (dlogits(i, j) * inv_sum - (j == y ? 1.0f : 0.0f)) * inv_batch;
    }
  }
  return static_cast<float>(total / static_cast<double>(batch));
}

void ReferenceMlp::backward(const RowMatrixXf& dlogits) {
  if (acts_.size() != num_layers() + 1 || dlogits.rows() != acts_.back().rows() ||
      dlogits.cols() != acts_.back().cols()) {
    throw std::logic_error("ReferenceMlp::backward: dlogits " +
                           shape(dlogits.rows(), dlogits.cols()) +
                           " does not match the logits of the last forward()");
  }
  douts_.resize(num_layers());
  douts_.back() = dlogits;
  for (std::size_t l = num_layers(); l-- > 0;) {
    const RowMatrixXf& dy = douts_[l];
    dweights_[l].noalias() = acts_[l].transpose() * dy;
    dbiases_[l] = dy.colwise().sum();
    if (l > 0) {
      RowMatrixXf dx(dy.rows(), weights_[l].rows());
      dx.noalias() = dy * weights_[l].transpose();
      // a_l = relu(z_{l-1}) > 0 exactly where z_{l-1} > 0.
      douts_[l - 1] = (acts_[l].array() > 0.0f).select(dx, 0.0f);
    }
  }
}

namespace {

// One Adam / AdamW step on a parameter tensor (the header's equations, each
// operation in binary32 as the device's vector unit does it).
template <typename M>
void adam_step(M& w, const M& dw, M& m, M& v, const UpdateRule& r) {
  auto g = dw.array().eval();
  if (r.has_l2) g = r.l2 * w.array() + g;
  m.array() = r.beta1 * m.array() + r.one_minus_beta1 * g;
  v.array() = r.beta2 * v.array() + r.one_minus_beta2 * (g * g);
  if (r.has_decay) w.array() *= r.decay;
  w.array() = r.neg_step * (m.array() / (v.array().sqrt() + r.eps_hat)) + w.array();
}

}  // namespace

void ReferenceMlp::step() {
  const UpdateRule r = config_.rule_at(steps_++);
  const float lr = r.lr, mu = r.momentum;
  for (std::size_t l = 0; l < num_layers(); ++l) {
    if (r.optimizer != Optimizer::kSgd) {
      adam_step(weights_[l], dweights_[l], vweights_[l], sweights_[l], r);
      adam_step(biases_[l], dbiases_[l], vbiases_[l], sbiases_[l], r);
    } else if (mu > 0.0f) {
      vweights_[l] = mu * vweights_[l] + dweights_[l];
      vbiases_[l] = mu * vbiases_[l] + dbiases_[l];
      weights_[l] -= lr * vweights_[l];
      biases_[l] -= lr * vbiases_[l];
    } else {
      weights_[l] -= lr * dweights_[l];
      biases_[l] -= lr * dbiases_[l];
    }
  }
}

float ReferenceMlp::train_batch(const RowMatrixXf& x, std::span<const std::uint8_t> labels) {
  RowMatrixXf dlogits;
  const float loss = loss_and_grad(forward(x), labels, dlogits);
  backward(dlogits);
  step();
  return loss;
}

float ReferenceMlp::train_epoch(const SampleView& samples, std::span<const std::size_t> order) {
  double total = 0.0;
  for (std::size_t first = 0; first < order.size(); first += config_.batch) {
    const std::size_t n = std::min<std::size_t>(config_.batch, order.size() - first);
    const Batch b = gather_batch(samples, order.subspan(first, n));
    total += static_cast<double>(train_batch(b.x, b.labels)) * static_cast<double>(n);
  }
  return order.empty() ? 0.0f : static_cast<float>(total / static_cast<double>(order.size()));
}

RowMatrixXf ReferenceMlp::logits(const RowMatrixXf& x) const { return run(x, nullptr); }

std::vector<unsigned> ReferenceMlp::predict(const RowMatrixXf& x) const {
  const RowMatrixXf z = logits(x);
  std::vector<unsigned> out(static_cast<std::size_t>(z.rows()));
  for (Eigen::Index i = 0; i < z.rows(); ++i) {
    Eigen::Index best = 0;
    z.row(i).maxCoeff(&best);  // first maximum on ties
    out[static_cast<std::size_t>(i)] = static_cast<unsigned>(best);
  }
  return out;
}

double ReferenceMlp::evaluate(const SampleView& samples) const {
  std::size_t correct = 0;
  std::vector<std::size_t> idx;
  for (std::size_t first = 0; first < samples.count(); first += kEvalChunk) {
    const std::size_t n = std::min(kEvalChunk, samples.count() - first);
    idx.resize(n);
    for (std::size_t k = 0; k < n; ++k) idx[k] = first + k;
    const Batch b = gather_batch(samples, idx);
    const std::vector<unsigned> p = predict(b.x);
    for (std::size_t k = 0; k < n; ++k) correct += p[k] == b.labels[k];
  }
  return samples.count() == 0 ? 0.0
                              : static_cast<double>(correct) / static_cast<double>(samples.count());
}

double ReferenceMlp::mean_loss(const SampleView& samples) const {
  double total = 0.0;
  std::vector<std::size_t> idx;
  RowMatrixXf dlogits;
  for (std::size_t first = 0; first < samples.count(); first += kEvalChunk) {
    const std::size_t n = std::min(kEvalChunk, samples.count() - first);
    idx.resize(n);
    for (std::size_t k = 0; k < n; ++k) idx[k] = first + k;
    const Batch b = gather_batch(samples, idx);
    total +=
        static_cast<double>(loss_and_grad(logits(b.x), b.labels, dlogits)) * static_cast<double>(n);
  }
  return samples.count() == 0 ? 0.0 : total / static_cast<double>(samples.count());
}

}  // namespace sasim::model
