// The checked training run on the RTL device: steps of the 784-128-10 MLP
// (batch 32; SGD, Adam or AdamW) on real Fashion-MNIST images through the
// verilated bf16 16 x 16 core and the SystemC memory system; after every step
// the loss, every intermediate tensor (pre-activations, bf16 activations,
// gradients at the pre-activations, dW, db) and every parameter, bf16 weight
// copy, velocity and moment equal the golden training step (model::mlp_step)
// bit for bit.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "sasim/cosim/device.hpp"
#include "sasim/host/dataset.hpp"
#include "sasim/host/gemm_kernel.hpp"
#include "sasim/host/mlp_trainer.hpp"
#include "sasim/model/functional_backend.hpp"
#include "sasim/model/mlp_golden.hpp"
#include "support/sc_test.hpp"

namespace {

using namespace sasim;  // spec, isa, model, mem, cosim, host, app

// 20 checked steps per learning-rate schedule: constant with momentum, step
// decay, cosine after a linear warm-up (the rate changes every step); and per
// optimizer: Adam with L2 weight decay (constant rate: the bias correction
// moves the step), AdamW with decoupled weight decay under the cosine.
struct ScheduleCase {
  const char* name;
  model::LrSchedule schedule;
  std::uint64_t warmup;
  float momentum;
  model::Optimizer optimizer = model::Optimizer::kSgd;
  float weight_decay = 0.0f;
};

// One checked step on batch `step` of `order`: the device's step, then the
// golden step from the same state; the loss, every intermediate tensor and
// every parameter and optimizer state must be equal (fatal failures
// otherwise). With `print`, the device's cycles per phase and its wall time.
host::StepStats checked_step(host::DeviceMlp& mlp, model::MlpState& gold,
                             const model::MlpConfig& cfg, const host::Dataset& data,
                             const std::vector<std::size_t>& order, int step,
                             const model::StepFolds& folds, bool print) {
  const model::Batch b = host::make_batch(data, order, std::size_t(step) * cfg.batch, cfg.batch);
  const model::RawMatrix x = model::to_bf16_input(b.x);
  const auto t0 = std::chrono::steady_clock::now();
  const host::StepStats st = mlp.step(x, b.labels);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  model::MlpTrace gt;
  const float gold_loss = model::mlp_step(gold, cfg, std::uint64_t(step), x, b.labels, folds, &gt);
  if (print)
    std::printf("step %2d loss %.4f cycles fwd %llu dX %llu dW+upd %llu (reduction %llu), %.2f s\n",
                step, st.loss, static_cast<unsigned long long>(st.forward.cycles),
                static_cast<unsigned long long>(st.data_grad.cycles),
                static_cast<unsigned long long>(st.weight_update.cycles),
                static_cast<unsigned long long>(st.reduction), secs);
  [&] {
    ASSERT_EQ(st.loss, gold_loss) << "step " << step;
    ASSERT_EQ(model::first_difference(mlp.trace(), gt), "") << "step " << step;
    ASSERT_EQ(model::first_difference(mlp.state(), gold), "") << "step " << step;
  }();
  return st;
}

class DeviceTraining : public ::testing::TestWithParam<ScheduleCase> {};

TEST_P(DeviceTraining, CheckedStepsOnTheRtlCore) {
  if (!host::fashion_mnist_installed())
    GTEST_SKIP() << "dataset-fashion-mnist is not installed (" << host::kFashionMnistDir
                 << "); ./sasim installs it";
  const ScheduleCase sc = GetParam();
  const int steps = 20;
  sasim::mem::test::fresh_systemc();
  cosim::DeviceConfig dc;
  dc.core = spec::core_of(model::Datapath::kBf16, 16, 16, 8192, 1024, 16);
  dc.memory.memory.size = std::uint64_t{64} << 20;
  cosim::CosimDevice dev(dc);
  host::Driver drv(dev);
  model::MlpConfig cfg;  // 784-128-10, batch 32
  cfg.lr = sc.optimizer == model::Optimizer::kSgd ? 0.01f : 0.001f;
  cfg.momentum = sc.momentum;
  cfg.optimizer = sc.optimizer;
  cfg.weight_decay = sc.weight_decay;
  cfg.schedule = sc.schedule;
  cfg.warmup_steps = sc.warmup;
  cfg.step_size = 6;
  cfg.gamma = 0.5f;
  cfg.lr_min = 0.001f;
  cfg.total_steps = steps;
  if (sc.schedule != model::LrSchedule::kConstant || sc.warmup > 0) {
    EXPECT_NE(cfg.lr_at(0), cfg.lr_at(steps - 1)) << "the schedule does not move";
  }
  const host::Dataset data = host::load_fashion_mnist(host::Split::kTrain);
  const std::vector<std::size_t> order = host::shuffled_order(data.count, 7, 0);
  model::MlpState gold = model::mlp_init(cfg);
  host::DeviceMlp mlp(drv, cfg, gold, /*keep_gradients=*/true);
  const model::StepFolds folds = host::step_folds(dev.params(), cfg);
  for (int step = 0; step < steps; ++step) {
    checked_step(mlp, gold, cfg, data, order, step, folds, /*print=*/true);
    if (HasFatalFailure()) return;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Schedules, DeviceTraining,
    ::testing::Values(ScheduleCase{"constant_momentum", model::LrSchedule::kConstant, 0, 0.9f},
                      ScheduleCase{"step", model::LrSchedule::kStep, 0, 0.0f},
                      ScheduleCase{"cosine_warmup", model::LrSchedule::kCosine, 5, 0.5f},
                      ScheduleCase{"adam", model::LrSchedule::kConstant, 0, 0.0f,
                                   model::Optimizer::kAdam, 0.01f},
                      ScheduleCase{"adamw_cosine", model::LrSchedule::kCosine, 5, 0.0f,
                                   model::Optimizer::kAdamW, 0.05f}),
    [](const ::testing::TestParamInfo<ScheduleCase>& i) { return std::string(i.param.name); });

}  // namespace

namespace {

// Data-parallel training (docs/multicore.md): the batch of 32 split across 2
// or 4 verilated cores (or the golden functional device's cores) sharing one
// memory system; each step's forward and data gradient per core on its rows,
// the weight gradients reduced on the device behind a SYNC and the optimizer
// step of each core's rows of W. After every step the loss, every
// intermediate tensor, every parameter and the optimizer state equal
// model::mlp_step with the step's shards (its weight gradients summed per
// shard in core order) bit for bit.
// Tensor-parallel training (the same test with host::Parallelism::kTensor):
// the hidden layer split across the cores, layer 0 by columns and layer 1 by
// rows, the partial logits reduced on the device behind a SYNC; the golden
// step is model::mlp_step with StepFolds::tensor. The deep cases
// (784-96-48-40-10: two pairs) also reduce dX of layer 2 on the device.
struct DpCase {
  const char* name;
  unsigned cores;
  model::Optimizer optimizer;
  float momentum;
  bool rtl;
  host::GradReduce reduce;
  host::Parallelism par = host::Parallelism::kData;
  bool deep = false;
  int steps = 20;
};

class DataParallel : public ::testing::TestWithParam<DpCase> {};
using TensorParallel = DataParallel;

void checked_parallel_steps(const DpCase& dc);

TEST_P(DataParallel, CheckedStepsOnSeveralCores) { checked_parallel_steps(GetParam()); }
TEST_P(TensorParallel, CheckedStepsOnSeveralCores) { checked_parallel_steps(GetParam()); }

void checked_parallel_steps(const DpCase& dc) {
  if (!host::fashion_mnist_installed())
    GTEST_SKIP() << "dataset-fashion-mnist is not installed (" << host::kFashionMnistDir
                 << "); ./sasim installs it";
  model::MlpConfig cfg;  // 784-128-10, batch 32
  if (dc.deep) cfg.layers = {784, 96, 48, 40, 10};
  cfg.optimizer = dc.optimizer;
  cfg.lr = dc.optimizer == model::Optimizer::kSgd ? 0.01f : 0.001f;
  cfg.momentum = dc.momentum;
  if (dc.optimizer != model::Optimizer::kSgd) cfg.weight_decay = 0.01f;
  const spec::CoreSpec core = spec::core_of(model::Datapath::kBf16, 16, 16, 8192, 1024, 16);
  std::unique_ptr<spec::DeviceBackend> dev;
  if (dc.rtl) {
    sasim::mem::test::fresh_systemc();
    cosim::DeviceConfig c;
    c.cores = dc.cores;
    c.core = core;
    c.memory.memory.size = std::uint64_t{64} << 20;
    dev = std::make_unique<cosim::CosimDevice>(c);
  } else {
    dev = std::make_unique<model::FunctionalBackend>(
        spec::device_of(core, std::uint64_t{64} << 20, 0x8000'0000), dc.cores);
  }
  host::Driver drv(*dev);
  const host::Dataset data = host::load_fashion_mnist(host::Split::kTrain);
  const std::vector<std::size_t> order = host::shuffled_order(data.count, 11, 0);
  model::MlpState gold = model::mlp_init(cfg);
  host::DeviceMlp mlp(drv, cfg, gold, /*keep_gradients=*/true, 0, dc.cores, dc.reduce, dc.par);
  const model::StepFolds folds = host::step_folds(dev->params(), cfg, dc.cores, dc.reduce, dc.par);
  const bool tensor = dc.par == host::Parallelism::kTensor;
  const bool partials = !tensor && dc.reduce == host::GradReduce::kPartials;
  ASSERT_EQ(folds.shards, partials ? static_cast<Eigen::Index>(dc.cores) : 1);
  ASSERT_EQ(folds.tensor, tensor ? static_cast<Eigen::Index>(dc.cores) : 1);
  const std::uint64_t step_macs = host::step_bounds(cfg, core).step().macs;
  for (int step = 0; step < dc.steps; ++step) {
    const host::StepStats st = checked_step(mlp, gold, cfg, data, order, step, folds, dc.rtl);
    if (::testing::Test::HasFatalFailure()) return;
    // A step that reduces partial sums spends cycles after its barriers (the
    // RTL device's bridges count them; the functional device has no cycles).
    if (dc.rtl && (tensor || partials)) EXPECT_GT(st.reduction, 0u) << "step " << step;
    if (!tensor && !partials) EXPECT_EQ(st.reduction, 0u) << "step " << step;
    // Every core has its share of the MACs; together the step's.
    ASSERT_EQ(st.core_macs.size(), dc.cores);
    std::uint64_t macs = 0;
    for (const std::uint64_t m : st.core_macs) {
      EXPECT_GT(m, 0u) << "step " << step;
      macs += m;
    }
    EXPECT_EQ(macs, step_macs) << "step " << step;
  }
  // The cores' sums differ from one core's: the golden step of one core
  // gives other numbers (so the checks above could fail): other weights with
  // data-parallel partials; other logits (the sums of partial products) with
  // tensor parallel, whose bf16 gradients may still round to the same update.
  if (!dc.rtl && (partials || tensor)) {
    model::MlpState one = model::mlp_init(cfg);
    const model::StepFolds f1 = host::step_folds(dev->params(), cfg, 1);
    const model::Batch b = host::make_batch(data, order, 0, cfg.batch);
    model::MlpState sharded = model::mlp_init(cfg);
    model::MlpTrace t1, ts;
    model::mlp_step(one, cfg, 0, model::to_bf16_input(b.x), b.labels, f1, &t1);
    model::mlp_step(sharded, cfg, 0, model::to_bf16_input(b.x), b.labels, folds, &ts);
    if (partials) EXPECT_NE(model::first_difference(one, sharded), "");
    // Slices of one fold each (the array's 16 rows) add the folds' partial
    // sums in the one-core order: the same logits, by construction (8 cores
    // x 16); longer slices group the folds otherwise.
    const bool whole_folds = cfg.layers[1] == dc.cores * 16;
    if (tensor)
      EXPECT_EQ(model::first_difference(t1, ts), whole_folds ? "" : "layer 1 pre-activations z");
  }
}

INSTANTIATE_TEST_SUITE_P(
    Cores, DataParallel,
    ::testing::Values(DpCase{"functional_2cores_momentum_partials", 2, model::Optimizer::kSgd, 0.9f,
                             false, host::GradReduce::kPartials},
                      DpCase{"functional_4cores_adamw_partials", 4, model::Optimizer::kAdamW, 0.0f,
                             false, host::GradReduce::kPartials},
                      DpCase{"functional_4cores_adamw_fused", 4, model::Optimizer::kAdamW, 0.0f,
                             false, host::GradReduce::kFused},
                      DpCase{"functional_2cores_momentum_fused", 2, model::Optimizer::kSgd, 0.9f,
                             false, host::GradReduce::kFused},
                      DpCase{"rtl_2cores_momentum_partials", 2, model::Optimizer::kSgd, 0.9f, true,
                             host::GradReduce::kPartials},
                      DpCase{"rtl_4cores_adam_partials", 4, model::Optimizer::kAdam, 0.0f, true,
                             host::GradReduce::kPartials},
                      DpCase{"rtl_2cores_momentum_fused", 2, model::Optimizer::kSgd, 0.9f, true,
                             host::GradReduce::kFused},
                      DpCase{"rtl_4cores_adam_fused", 4, model::Optimizer::kAdam, 0.0f, true,
                             host::GradReduce::kFused}),
    [](const ::testing::TestParamInfo<DpCase>& i) { return std::string(i.param.name); });

constexpr auto kTensor = host::Parallelism::kTensor;
constexpr auto kFused = host::GradReduce::kFused;
INSTANTIATE_TEST_SUITE_P(
    Cores, TensorParallel,
    ::testing::Values(
        DpCase{"functional_2cores_momentum", 2, model::Optimizer::kSgd, 0.9f, false, kFused,
               kTensor},
        DpCase{"functional_4cores_adamw", 4, model::Optimizer::kAdamW, 0.0f, false, kFused,
               kTensor},
        DpCase{"functional_8cores_adam", 8, model::Optimizer::kAdam, 0.0f, false, kFused, kTensor},
        DpCase{"functional_4cores_deep_momentum", 4, model::Optimizer::kSgd, 0.9f, false, kFused,
               kTensor, true},
        DpCase{"rtl_2cores_momentum", 2, model::Optimizer::kSgd, 0.9f, true, kFused, kTensor},
        DpCase{"rtl_4cores_adam", 4, model::Optimizer::kAdam, 0.0f, true, kFused, kTensor},
        DpCase{"rtl_2cores_deep_adamw", 2, model::Optimizer::kAdamW, 0.0f, true, kFused, kTensor,
               true, 5}),
    [](const ::testing::TestParamInfo<DpCase>& i) { return std::string(i.param.name); });

}  // namespace
