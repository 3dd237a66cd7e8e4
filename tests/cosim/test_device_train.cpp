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
#include <string>
#include <vector>

#include "sasim/cosim/device.hpp"
#include "sasim/host/dataset.hpp"
#include "sasim/host/gemm_kernel.hpp"
#include "sasim/host/mlp_trainer.hpp"
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
    const model::Batch b = host::make_batch(data, order, std::size_t(step) * cfg.batch, cfg.batch);
    const model::RawMatrix x = model::to_bf16_input(b.x);
    const auto t0 = std::chrono::steady_clock::now();
    const host::StepStats st = mlp.step(x, b.labels);
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    model::MlpTrace gt;
    const float gold_loss =
        model::mlp_step(gold, cfg, std::uint64_t(step), x, b.labels, folds, &gt);
    std::printf("step %2d loss %.4f cycles fwd %llu dX %llu dW+upd %llu, %.2f s\n", step, st.loss,
                static_cast<unsigned long long>(st.forward.cycles),
                static_cast<unsigned long long>(st.data_grad.cycles),
                static_cast<unsigned long long>(st.weight_update.cycles), secs);
    ASSERT_EQ(st.loss, gold_loss) << "step " << step;
    ASSERT_EQ(model::first_difference(mlp.trace(), gt), "") << "step " << step;
    ASSERT_EQ(model::first_difference(mlp.state(), gold), "") << "step " << step;
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
