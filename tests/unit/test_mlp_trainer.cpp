// Checked training runs: the device trainer (DeviceMlp on the functional device
// with a 16 x 16 core's sizes) against the golden training step
// (model::mlp_step): after every step the loss, every intermediate tensor and
// every parameter, bf16 weight copy, velocity and moment are compared bit for
// bit; the loss goes down. 20 steps of the 784-128-10 MLP (batch 32, SGD with
// momentum) on real Fashion-MNIST images (when installed), and deeper
// networks on generated data (plain SGD, Adam, AdamW).
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "sasim/host/dataset.hpp"
#include "sasim/host/gemm_kernel.hpp"
#include "sasim/host/mlp_trainer.hpp"
#include "sasim/model/functional_backend.hpp"
#include "sasim/model/mlp_golden.hpp"

namespace {

using namespace sasim;  // spec, isa, model, mem, cosim, host, app

spec::DeviceSpec core16() {
  return spec::device_of(spec::core_of(model::Datapath::kBf16, 16, 16, 8192, 1024),
                         std::uint64_t{64} << 20);
}

// `steps` checked steps of the device trainer on `data` (784 features): after
// every step the loss, every intermediate tensor and every parameter equal
// the golden step; returns the losses.
std::vector<float> checked_steps(const host::Dataset& data, const model::MlpConfig& cfg,
                                 int steps) {
  const std::vector<std::size_t> order = host::shuffled_order(data.count, 7, 0);
  model::FunctionalBackend dev(core16());
  host::Driver drv(dev);
  model::MlpState gold = model::mlp_init(cfg);
  host::DeviceMlp mlp(drv, cfg, gold, /*keep_gradients=*/true);
  const model::StepFolds folds = host::step_folds(dev.params(), cfg);
  std::vector<float> losses;
  for (int step = 0; step < steps; ++step) {
    const model::Batch b = host::make_batch(data, order, std::size_t(step) * cfg.batch, cfg.batch);
    const model::RawMatrix x = model::to_bf16_input(b.x);
    const host::StepStats st = mlp.step(x, b.labels);
    model::MlpTrace gt;
    const float gold_loss =
        model::mlp_step(gold, cfg, std::uint64_t(step), x, b.labels, folds, &gt);
    EXPECT_EQ(st.loss, gold_loss) << "step " << step;
    EXPECT_EQ(model::first_difference(mlp.state(), gold), "") << "step " << step;
    EXPECT_EQ(model::first_difference(mlp.trace(), gt), "") << "step " << step;
    EXPECT_EQ(gt.act.back().size(), 0) << "the last layer has no bf16 activation";
    losses.push_back(st.loss);
  }
  return losses;
}

// Mean of losses[first, first + n).
float mean(const std::vector<float>& losses, std::size_t first, std::size_t n) {
  float s = 0;
  for (std::size_t i = first; i < first + n; ++i) s += losses[i];
  return s / float(n);
}

TEST(MlpTrainer, TwentyCheckedStepsOnFashionMnist) {
  if (!host::fashion_mnist_installed())
    GTEST_SKIP() << "dataset-fashion-mnist is not installed (" << host::kFashionMnistDir
                 << "); ./sasim installs it";
  model::MlpConfig cfg;  // 784-128-10, batch 32
  cfg.lr = 0.01f;
  cfg.momentum = 0.9f;
  const std::vector<float> losses =
      checked_steps(host::load_fashion_mnist(host::Split::kTrain), cfg, 20);
  EXPECT_LT(mean(losses, 15, 5), mean(losses, 0, 5) * 0.8f)
      << "mean loss of steps 0-4 " << mean(losses, 0, 5) << ", 15-19 " << mean(losses, 15, 5);
}

// The same without the data set: generated 28 x 28 images of 10 classes,
// plain SGD, a 784-32-16-10 network (two hidden layers: the data gradient
// through a hidden layer's ReLU is exercised twice).
TEST(MlpTrainer, CheckedStepsOnSyntheticData) {
  model::MlpConfig cfg;
  cfg.layers = {784, 32, 16, 10};
  cfg.lr = 0.05f;
  cfg.momentum = 0.0f;
  const std::vector<float> losses =
      checked_steps(host::synthetic_dataset(30 * cfg.batch, 28, 28, 10, 11), cfg, 30);
  EXPECT_LT(mean(losses, 25, 5), mean(losses, 0, 5) * 0.8f)
      << "mean loss of steps 0-4 " << mean(losses, 0, 5) << ", 25-29 " << mean(losses, 25, 5);
}

// Adam (with L2 weight decay) and AdamW (decoupled) on the 784-32-16-10
// network: 20 checked steps each, with the first and second moments compared
// after every step; a cosine schedule after warm-up moves the rate (and the
// bias correction the step) every step.
TEST(MlpTrainer, CheckedAdamAndAdamWSteps) {
  for (const model::Optimizer opt : {model::Optimizer::kAdam, model::Optimizer::kAdamW}) {
    model::MlpConfig cfg;
    cfg.layers = {784, 32, 16, 10};
    cfg.lr = 0.002f;
    cfg.momentum = 0.0f;
    cfg.optimizer = opt;
    cfg.weight_decay = 0.01f;
    cfg.schedule = model::LrSchedule::kCosine;
    cfg.warmup_steps = 3;
    cfg.total_steps = 20;
    const std::vector<float> losses =
        checked_steps(host::synthetic_dataset(20 * cfg.batch, 28, 28, 10, 11), cfg, 20);
    EXPECT_LT(mean(losses, 15, 5), mean(losses, 0, 5) * 0.8f)
        << model::to_string(opt) << ": mean loss of steps 0-4 " << mean(losses, 0, 5) << ", 15-19 "
        << mean(losses, 15, 5);
  }
}

// Without keep_gradients the step never writes dW and db (the fused update
// applies them in the accumulator) and ends in the same state, bit for bit;
// trace() then refuses instead of returning stale gradients.
TEST(MlpTrainer, KeepingTheGradientsChangesNothingElse) {
  model::MlpConfig cfg;
  cfg.layers = {784, 32, 10};
  cfg.lr = 0.05f;
  cfg.momentum = 0.5f;
  const host::Dataset data = host::synthetic_dataset(3 * cfg.batch, 28, 28, 10, 5);
  const std::vector<std::size_t> order = host::shuffled_order(data.count, 3, 0);
  model::FunctionalBackend d1(core16()), d2(core16());
  host::Driver drv1(d1), drv2(d2);
  const model::MlpState init = model::mlp_init(cfg);
  host::DeviceMlp keep(drv1, cfg, init, true), lean(drv2, cfg, init, false);
  for (int step = 0; step < 3; ++step) {
    const model::Batch b = host::make_batch(data, order, std::size_t(step) * cfg.batch, cfg.batch);
    const model::RawMatrix x = model::to_bf16_input(b.x);
    const host::StepStats a = keep.step(x, b.labels), c = lean.step(x, b.labels);
    EXPECT_EQ(a.loss, c.loss) << "step " << step;
    EXPECT_EQ(model::first_difference(keep.state(), lean.state()), "") << "step " << step;
  }
  EXPECT_THROW(lean.trace(), std::logic_error);
  EXPECT_NO_THROW(keep.trace());
}

// The bounds of the default step, worked out by hand from the byte lists of
// mlp_trainer.hpp (784-128-10, batch 32, plain SGD, 16 x 16, 16-byte bus).
TEST(MlpTrainer, StepBoundsOfTheDefaultStep) {
  model::MlpConfig cfg;  // 784-128-10, batch 32, momentum 0
  cfg.momentum = 0.0f;
  const host::StepBounds b =
      host::step_bounds(cfg, spec::core_of(model::Datapath::kBf16, 16, 16, 8192, 1024, 16));
  // forward: X 50176 + W 200704 + b 512 (layer 1), act 8192 + W 2560 + b 40.
  EXPECT_EQ(b.forward.read_bytes, 50176u + 200704 + 512 + 8192 + 2560 + 40);
  EXPECT_EQ(b.forward.write_bytes, 16384u + 8192 + 1280);  // z1, act1, logits
  EXPECT_EQ(b.forward.macs, 32u * (784 * 128 + 128 * 10));
  // data gradient: z of layer 1 (its mask, applied to layer 2's dX), dY and W
  // of layer 2; dZ (bf16) x 2. dX in fp32 never crosses (MaskBelow).
  EXPECT_EQ(b.data_grad.read_bytes, 16384u + 1280 + 2560);
  EXPECT_EQ(b.data_grad.write_bytes, 8192u + 640);
  EXPECT_EQ(b.data_grad.macs, 32u * 128 * 10);
  // weight update: X, dZ, w32 + b32 in; w32 + b32 and the bf16 W out.
  EXPECT_EQ(b.weight_update.read_bytes, 50176u + 8192 + 401408 + 512 + 8192 + 640 + 5120 + 40);
  EXPECT_EQ(b.weight_update.write_bytes, 401408u + 512 + 200704 + 5120 + 40 + 2560);
  EXPECT_DOUBLE_EQ(b.weight_update.memory_cycles, 610344.0 / 16);
  EXPECT_DOUBLE_EQ(b.forward.compute_cycles, 32.0 * (784 * 128 + 128 * 10) / 256);
  EXPECT_DOUBLE_EQ(b.step().cycles(), (262184.0 + 20224.0 + 610344.0) / 16);
  EXPECT_EQ(b.step().macs, b.forward.macs + b.data_grad.macs + b.weight_update.macs);
  // Momentum adds the velocities, read and written once.
  cfg.momentum = 0.9f;
  const host::StepBounds m =
      host::step_bounds(cfg, spec::core_of(model::Datapath::kBf16, 16, 16, 8192, 1024, 16));
  EXPECT_EQ(m.weight_update.read_bytes - b.weight_update.read_bytes, 401408u + 512 + 5120 + 40);
  EXPECT_EQ(m.weight_update.write_bytes - b.weight_update.write_bytes, 401408u + 512 + 5120 + 40);
}

// lr_at against hand-worked values of each schedule, warm-up included.
TEST(MlpTrainer, LearningRateSchedules) {
  model::MlpConfig c;
  c.lr = 0.1f;
  EXPECT_EQ(c.lr_at(0), 0.1f);
  EXPECT_EQ(c.lr_at(123456), 0.1f);
  c.warmup_steps = 4;  // 0.025, 0.05, 0.075, then 0.1
  EXPECT_EQ(c.lr_at(0), static_cast<float>(0.1f * 1.0 / 4));
  EXPECT_EQ(c.lr_at(2), static_cast<float>(double(0.1f) * 3 / 4));
  EXPECT_EQ(c.lr_at(4), 0.1f);
  c.schedule = model::LrSchedule::kStep;
  c.step_size = 10;
  c.gamma = 0.5f;
  EXPECT_EQ(c.lr_at(4 + 9), 0.1f);                                   // u = 9
  EXPECT_EQ(c.lr_at(4 + 10), static_cast<float>(double(0.1f) / 2));  // u = 10
  EXPECT_EQ(c.lr_at(4 + 25), static_cast<float>(double(0.1f) / 4));  // u = 25
  c.schedule = model::LrSchedule::kCosine;
  c.lr_min = 0.02f;
  c.total_steps = 104;          // T = 100 after the warm-up
  EXPECT_EQ(c.lr_at(4), 0.1f);  // cos 0 = 1
  EXPECT_EQ(c.lr_at(54), static_cast<float>(double(0.02f) + (double(0.1f) - 0.02f) / 2));
  EXPECT_EQ(c.lr_at(104), 0.02f);  // the end, and after it
  EXPECT_EQ(c.lr_at(500), 0.02f);
  EXPECT_GT(c.lr_at(30), c.lr_at(31));
  // Ranges.
  model::MlpConfig bad = c;
  bad.gamma = 0.0f;
  EXPECT_THROW(bad.validate(), std::invalid_argument);
  bad = c;
  bad.lr_min = 0.2f;
  EXPECT_THROW(bad.validate(), std::invalid_argument);
  bad = c;
  bad.step_size = 0;
  EXPECT_THROW(bad.validate(), std::invalid_argument);
  EXPECT_EQ(model::parse_lr_schedule("cosine"), model::LrSchedule::kCosine);
  EXPECT_FALSE(model::parse_lr_schedule("Cosine").has_value());
}

// The comparison the checked runs rely on finds a single flipped bit in
// every tensor of a state and of a trace, and a shape mismatch.
TEST(MlpTrainer, FirstDifferenceFindsEveryTensor) {
  model::MlpConfig cfg;
  cfg.layers = {6, 5, 3};
  cfg.batch = 4;
  cfg.momentum = 0.5f;
  const model::MlpState s = model::mlp_init(cfg);
  EXPECT_EQ(model::first_difference(s, s), "");
  const auto flip_state = [&](auto member, std::size_t l, const char* want) {
    model::MlpState t = s;
    auto& m = (t.*member)[l];
    m.data()[m.size() - 1] ^= 1u;
    EXPECT_EQ(model::first_difference(t, s), "layer " + std::to_string(l) + " " + want);
  };
  flip_state(&model::MlpState::w32, 1, "fp32 weights");
  flip_state(&model::MlpState::wbf, 0, "bf16 weights");
  flip_state(&model::MlpState::b32, 1, "biases");
  flip_state(&model::MlpState::vw, 0, "weight velocities (first moments)");
  flip_state(&model::MlpState::vb, 1, "bias velocities (first moments)");
  model::MlpState nov = s;
  nov.vw.clear();
  nov.vb.clear();
  EXPECT_EQ(model::first_difference(nov, s), "the presence of velocities (first moments)");
  {
    model::MlpConfig adam = cfg;
    adam.momentum = 0;
    adam.optimizer = model::Optimizer::kAdam;
    const model::MlpState a = model::mlp_init(adam);
    EXPECT_EQ(model::first_difference(a, a), "");
    model::MlpState t = a;
    t.sw[1].data()[3] ^= 1u;
    EXPECT_EQ(model::first_difference(t, a), "layer 1 weight second moments");
    t = a;
    t.sb[0].data()[0] ^= 1u;
    EXPECT_EQ(model::first_difference(t, a), "layer 0 bias second moments");
    t = a;
    t.sw.clear();
    t.sb.clear();
    EXPECT_EQ(model::first_difference(t, a), "the presence of second moments");
  }

  const host::Dataset data = host::synthetic_dataset(cfg.batch, 2, 3, 3, 5);
  const std::vector<std::size_t> order = host::shuffled_order(data.count, 1, 0);
  const model::Batch b = host::make_batch(data, order, 0, cfg.batch);
  model::MlpState g = s;
  model::MlpTrace tr;
  model::mlp_step(g, cfg, 0, model::to_bf16_input(b.x), b.labels, {4, 4}, &tr);
  EXPECT_EQ(model::first_difference(tr, tr), "");
  const auto flip_trace = [&](auto member, std::size_t l, const char* want) {
    model::MlpTrace t = tr;
    auto& m = (t.*member)[l];
    m.data()[0] ^= 1u;
    EXPECT_EQ(model::first_difference(t, tr), "layer " + std::to_string(l) + " " + want);
  };
  flip_trace(&model::MlpTrace::z, 1, "pre-activations z");
  flip_trace(&model::MlpTrace::act, 0, "bf16 activations");
  flip_trace(&model::MlpTrace::dz, 0, "gradient at z");
  flip_trace(&model::MlpTrace::dw, 1, "dW");
  flip_trace(&model::MlpTrace::db, 0, "db");
  model::MlpTrace wrong = tr;
  wrong.dw[0] = model::AccMatrix::Zero(1, 1);
  EXPECT_EQ(model::first_difference(wrong, tr), "layer 0 dW");
}

TEST(MlpTrainer, RejectsMismatchedInputs) {
  model::MlpConfig cfg;
  cfg.layers = {20, 8, 4};
  cfg.batch = 4;
  model::FunctionalBackend dev(core16());
  host::Driver drv(dev);
  host::DeviceMlp mlp(drv, cfg, model::mlp_init(cfg));
  const model::RawMatrix x(3, 20);
  const std::vector<std::uint8_t> labels(3, 0);
  EXPECT_THROW(mlp.step(x, labels), std::invalid_argument);
  model::MlpConfig other = cfg;
  other.layers = {20, 9, 4};
  EXPECT_THROW(host::DeviceMlp(drv, cfg, model::mlp_init(other)), std::invalid_argument);
}

}  // namespace
