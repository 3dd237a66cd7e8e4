// fp32 reference trainer for a multi-layer perceptron: the accuracy reference
// that the on-device training of sasim is compared against.
//
// Network: layers = {n_0, n_1, ..., n_L}; weight layer l (0 <= l < L) maps
// n_l inputs to n_{l+1} outputs:
//
//   a_0 = X                                  (batch x n_0)
//   z_l = a_l W_l + b_l                      W_l: n_l x n_{l+1}, row-major;
//                                            b_l: 1 x n_{l+1}, added to every row
//   a_{l+1} = relu(z_l)      for l < L - 1   (hidden layers)
//   logits  = z_{L-1}                        (no activation on the output layer)
//
// Loss: softmax cross-entropy, the mean over the batch rows:
//   loss = 1/B sum_i (logsumexp(z_i) - z_i[y_i]),   dlogits = (softmax(z) - onehot(y)) / B
// evaluated with the row maximum subtracted (stable for any finite logits).
//
// Backward, with dY_l = dloss/dz_l (dY_{L-1} = dlogits):
//   dW_l = a_l^T dY_l,   db_l = column sums of dY_l,
//   dY_{l-1} = (dY_l W_l^T) .* [a_l > 0]      (ReLU mask; the subgradient at 0 is 0)
//
// Update (step()), with lr = the schedule's rate of the step (lr_at) and the
// config's optimizer (MlpConfig::rule_at gives each step's binary32 scalars):
//   sgd, mu = momentum:
//     mu == 0:  W -= lr * dW                      (plain SGD, no velocity buffers)
//     mu >  0:  v = mu * v + dW;  W -= lr * v     (heavy ball, PyTorch's convention:
//                                                  v starts at 0, lr is not folded in)
//   adam / adamw (Kingma & Ba; AdamW: Loshchilov & Hutter), step t = 1, 2, ...,
//   wd = weight_decay, with PyTorch's bias correction written as
//     g  = dW + wd * W                             (adam only, when wd > 0)
//     m  = b1 * m + (1 - b1) * g
//     v  = b2 * v + (1 - b2) * g * g
//     W  = W * (1 - lr * wd)                       (adamw only, when wd > 0)
//     W -= s * m / (sqrt(v) + e)
//   where s = lr * sqrt(1 - b2^t) / (1 - b1^t) and e = eps * sqrt(1 - b2^t):
//   the same step as lr * m_hat / (sqrt(v_hat) + eps) with m_hat = m / (1 -
//   b1^t), v_hat = v / (1 - b2^t), with the two corrections folded into
//   scalars (no per-element division by them). m and v start at 0.
// The same for b (weight decay included, as PyTorch applies it to every
// parameter given to the optimizer).
//
// Initialisation (deterministic from config.seed, see ReferenceMlp()): biases 0;
// W_l uniform in [-r, r], drawn row-major, layer by layer, from one
// std::mt19937_64(seed):
//   hidden (ReLU) layers: He-uniform,     r = sqrt(6 / n_l)
//   output layer:         Glorot-uniform, r = sqrt(6 / (n_l + n_{l+1}))
// A uniform is (rng() >> 40) * 2^-24 in [0, 1) (24 random bits, exact in
// float), not std::uniform_real_distribution, so the weights are the same with
// every standard library.
//
// Everything is single-threaded fp32 Eigen and deterministic: the same config
// and the same data order give bit-identical parameters on a given build. The
// model is built with -ffp-contract=off; Eigen's vectorised GEMM fixes its own
// summation order, so a golden comparison against the device must allow for
// rounding differences (this is the accuracy reference, not a bit-exact one).
#pragma once

#include <Eigen/Core>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sasim/spec/contract.hpp"

namespace sasim::model {

using RowMatrixXf = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// A non-owning view of a labelled set of 8-bit images: count x features pixels,
// row-major (image i is pixels[i * features, (i + 1) * features)), one label per
// image. sasim::host::Dataset::samples() makes one.
struct SampleView {
  std::span<const std::uint8_t> pixels;
  std::span<const std::uint8_t> labels;
  std::size_t features = 0;
  std::size_t count() const { return labels.size(); }
};

// A mini-batch: x is indices.size() x features with pixel / 255.0f, labels in
// the same order.
struct Batch {
  RowMatrixXf x;
  std::vector<std::uint8_t> labels;
};

// Gathers the images `indices` of `samples` into a batch (pixel / 255.0f).
// Throws std::out_of_range for an index >= samples.count() and
// std::invalid_argument if the view's sizes disagree.
Batch gather_batch(const SampleView& samples, std::span<const std::size_t> indices);

// The learning rate of step t (0-based) of a run (MlpConfig::lr_at):
//   warm-up (t < W = warmup_steps): lr * (t + 1) / W;
//   then, with u = t - W:
//     constant: lr
//     step:     lr * gamma^floor(u / step_size)
//     cosine:   lr_min + (lr - lr_min) * (1 + cos(pi * min(u, T) / T)) / 2,
//               T = max(1, total_steps - W)
// computed in double and rounded once to binary32, the rate every trainer
// (device, golden, fp32 reference) uses in that step.
enum class LrSchedule { kConstant, kStep, kCosine };
const char* to_string(LrSchedule s);
std::optional<LrSchedule> parse_lr_schedule(std::string_view name);

// The optimizer: "sgd" (with momentum when momentum > 0), "adam" (L2 weight
// decay added to the gradient) or "adamw" (decoupled weight decay).
enum class Optimizer { kSgd, kAdam, kAdamW };
const char* to_string(Optimizer o);
std::optional<Optimizer> parse_optimizer(std::string_view name);

// One step's element-wise update with its binary32 scalars (MlpConfig::
// rule_at): each is computed in double from the config's binary32 values and
// rounded once, so the device, the golden model and the fp32 reference use
// the same numbers.
struct UpdateRule {
  Optimizer optimizer = Optimizer::kSgd;
  float lr = 0;        // the step's learning rate (lr_at)
  float momentum = 0;  // sgd
  // adam / adamw, t = step + 1:
  float beta1 = 0, one_minus_beta1 = 0, beta2 = 0, one_minus_beta2 = 0;
  float eps_hat = 0;   // eps * sqrt(1 - beta2^t)
  float neg_step = 0;  // -lr * sqrt(1 - beta2^t) / (1 - beta1^t)
  float l2 = 0;        // adam with weight_decay > 0: g += l2 * w
  float decay = 1;     // adamw with weight_decay > 0: w *= decay = 1 - lr * weight_decay
  bool has_l2 = false, has_decay = false;
  // fp32 state tensors per parameter besides the master values: 0 (plain
  // SGD), 1 (SGD's velocity), 2 (Adam's first and second moments).
  unsigned moments() const { return optimizer != Optimizer::kSgd ? 2 : momentum > 0 ? 1 : 0; }
};

struct MlpConfig {
  std::vector<unsigned> layers{784, 128, 10};  // n_0 (inputs) ... n_L (classes)
  float lr = 0.1f;                             // the base (peak) learning rate
  float momentum = 0.0f;
  unsigned batch = 32;
  std::uint64_t seed = 1;
  LrSchedule schedule = LrSchedule::kConstant;
  std::uint64_t warmup_steps = 0;  // 0..kMaxSteps
  std::uint64_t step_size = 1000;  // step: 1..kMaxSteps
  float gamma = 0.1f;              // step: (0, 1]
  float lr_min = 0.0f;             // cosine: [0, lr]
  std::uint64_t total_steps = 0;   // cosine: the run's steps, 0..kMaxSteps
  // The optimizer (momentum is sgd's; beta1, beta2, eps and weight_decay are
  // adam's and adamw's, ignored by sgd).
  Optimizer optimizer = Optimizer::kSgd;
  float beta1 = 0.9f;         // [0, 1)
  float beta2 = 0.999f;       // [0, 1)
  float eps = 1e-8f;          // [kMinEps, 1]
  float weight_decay = 0.0f;  // [0, 1]

  static constexpr std::uint64_t kMaxSteps = 100'000'000;
  static constexpr double kMinEps = 1e-30;
  // The learning rate of step t.
  float lr_at(std::uint64_t t) const;
  // The update of step t (0-based): lr_at(t) and the optimizer's scalars.
  UpdateRule rule_at(std::uint64_t t) const;
  // The fp32 state tensors per parameter besides the master values
  // (UpdateRule::moments).
  unsigned moments() const { return rule_at(0).moments(); }

  static constexpr std::size_t kMaxLayers = 16;  // entries of `layers`
  static constexpr unsigned kMaxWidth = 4096;    // features of a layer
  static constexpr unsigned kMaxClasses = 256;   // labels are 8-bit
  // The batch is a count field of the device's programs (isa::kMaxCount).
  static constexpr unsigned kMaxBatch = static_cast<unsigned>(isa::kMaxCount);

  static constexpr double kMaxLr = 100.0;

  // Throws std::invalid_argument naming the field (after `prefix`), its value
  // and the allowed range: layers has 2..kMaxLayers entries, each
  // 1..kMaxWidth, the last (classes) at most kMaxClasses; lr and momentum as
  // validate_rates; batch 1..kMaxBatch; the schedule's fields as above;
  // the optimizer's fields as above, momentum 0 with adam and adamw.
  void validate(const std::string& prefix = "mlp.") const;
  // The one range check of the optimizer's rates, for the values as written
  // (a config's doubles) and as the binary32 the optimizer uses (1e-300 is 0
  // there, -1e-300 is -0): lr in (0, kMaxLr], momentum in [0, 1).
  static void validate_rates(double lr, double momentum, const std::string& prefix = "mlp.");
  // The same for adam's and adamw's fields: beta1 and beta2 in [0, 1), eps
  // in [kMinEps, 1], weight_decay in [0, 1].
  static void validate_adam(double beta1, double beta2, double eps, double weight_decay,
                            const std::string& prefix = "mlp.");
};

class ReferenceMlp {
 public:
  // Validates the config and initialises the parameters (see the header comment).
  explicit ReferenceMlp(MlpConfig config);

  const MlpConfig& config() const { return config_; }
  // L, the number of weight layers (layers.size() - 1).
  std::size_t num_layers() const { return weights_.size(); }
  unsigned inputs() const { return config_.layers.front(); }
  unsigned classes() const { return config_.layers.back(); }

  // --- Parameters, gradients and cached tensors (l < num_layers()) ----------
  // Mutable access lets a test or the device path set parameters; shapes must
  // be kept (the next forward() checks them).
  const RowMatrixXf& weight(std::size_t l) const { return weights_.at(l); }
  RowMatrixXf& weight(std::size_t l) { return weights_.at(l); }
  const Eigen::RowVectorXf& bias(std::size_t l) const { return biases_.at(l); }
  Eigen::RowVectorXf& bias(std::size_t l) { return biases_.at(l); }
  // Gradients of the last backward() (zero before the first).
  const RowMatrixXf& weight_grad(std::size_t l) const { return dweights_.at(l); }
  const Eigen::RowVectorXf& bias_grad(std::size_t l) const { return dbiases_.at(l); }
  // Momentum buffers v (sgd) or first moments m (adam, adamw); empty
  // matrices for plain SGD.
  const RowMatrixXf& weight_velocity(std::size_t l) const { return vweights_.at(l); }
  const Eigen::RowVectorXf& bias_velocity(std::size_t l) const { return vbiases_.at(l); }
  // Second moments v (adam, adamw), else empty.
  const RowMatrixXf& weight_second_moment(std::size_t l) const { return sweights_.at(l); }
  const Eigen::RowVectorXf& bias_second_moment(std::size_t l) const { return sbiases_.at(l); }
  // Activations of the last forward(): activation(0) = X, activation(l) =
  // relu(z_{l-1}) for 0 < l < L, activation(L) = logits. l <= num_layers().
  const RowMatrixXf& activation(std::size_t l) const { return acts_.at(l); }
  // dY_l = dloss/dz_l of the last backward() (output_grad(L-1) = dlogits).
  const RowMatrixXf& output_grad(std::size_t l) const { return douts_.at(l); }

  // --- Training pieces --------------------------------------------------------
  // Forward pass that caches every activation for backward(); returns the
  // logits (batch x classes). Throws std::invalid_argument if x.cols() !=
  // inputs() or a parameter has the wrong shape.
  const RowMatrixXf& forward(const RowMatrixXf& x);
  // Softmax cross-entropy of `logits` against `labels` (one per row): returns
  // the mean loss and writes dloss/dlogits to `dlogits`. Throws
  // std::invalid_argument on a size mismatch, an empty batch or a label >=
  // logits.cols().
  static float loss_and_grad(const RowMatrixXf& logits, std::span<const std::uint8_t> labels,
                             RowMatrixXf& dlogits);
  // Backpropagates dlogits through the cached forward() activations into the
  // gradients (all of them overwritten). Throws std::logic_error without a
  // matching forward().
  void backward(const RowMatrixXf& dlogits);
  // One parameter update from the current gradients (see the header comment)
  // with the learning rate of the next step of the schedule (lr_at of the
  // number of steps taken so far).
  void step();
  // forward + loss_and_grad + backward + step on one batch; returns its loss.
  float train_batch(const RowMatrixXf& x, std::span<const std::uint8_t> labels);
  std::uint64_t steps_taken() const { return steps_; }

  // One epoch: the images `order` (indices into samples, any length) in
  // consecutive batches of config().batch, the last one possibly smaller.
  // Returns the mean training loss over the epoch's samples (each batch's loss
  // weighted by its size, before its step).
  float train_epoch(const SampleView& samples, std::span<const std::size_t> order);

  // --- Inference (const, leaves the cached tensors alone) --------------------
  RowMatrixXf logits(const RowMatrixXf& x) const;
  // Arg-max class per row (the lowest index on ties).
  std::vector<unsigned> predict(const RowMatrixXf& x) const;
  // Fraction of samples predicted correctly (0 for an empty set).
  double evaluate(const SampleView& samples) const;
  // Mean softmax cross-entropy over all samples.
  double mean_loss(const SampleView& samples) const;

 private:
  void check_shapes(const RowMatrixXf& x) const;
  // Runs the network on x; fills acts (L + 1 entries) when non-null.
  RowMatrixXf run(const RowMatrixXf& x, std::vector<RowMatrixXf>* acts) const;

  MlpConfig config_;
  std::vector<RowMatrixXf> weights_, dweights_, vweights_, sweights_;
  std::vector<Eigen::RowVectorXf> biases_, dbiases_, vbiases_, sbiases_;
  std::vector<RowMatrixXf> acts_, douts_;
  std::uint64_t steps_ = 0;  // step() calls so far
};

}  // namespace sasim::model
