// The training job end to end on the RTL device (a small hidden layer keeps it
// quick): checked against the golden step after every step, a checkpoint that
// a later run resumes from (2 + 2 steps give the same parameters, bit for bit,
// as 4 steps in one run), the report's per-phase statistics, config errors.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "sasim/app/config.hpp"
#include "sasim/app/train_job.hpp"
#include "sasim/host/dataset.hpp"
#include "sasim/host/mlp_trainer.hpp"
#include "support/sc_test.hpp"

namespace {

using namespace sasim;  // spec, isa, model, mem, cosim, host, app

app::Config config(const std::string& name, const std::string& extra) {
  return app::parse_config(
      "core: {rows: 16, cols: 16, datapath: bf16, spad_rows: 8192, acc_rows: 1024}\n"
      "train: {layers: [784, 16, 10], batch: 32, test_images: 40, check: true" +
          extra + "}\nrun: {out_dir: " + std::string(SASIM_BINARY_DIR) + "/train_out}\n",
      name + ".yaml");
}

TEST(TrainJob, CheckedRunResumesFromItsCheckpoint) {
  if (!host::fashion_mnist_installed())
    GTEST_SKIP() << "dataset-fashion-mnist is not installed (" << host::kFashionMnistDir
                 << "); ./sasim installs it";
  std::ostringstream progress;
  sasim::mem::test::fresh_systemc();
  const app::TrainJobResult four = app::train_job(config("four", ", steps: 4"), progress);
  EXPECT_EQ(four.steps, 4u);
  EXPECT_NE(progress.str().find("step 4/4"), std::string::npos) << progress.str();
  EXPECT_NE(progress.str().find("mean loss of steps 4-4: "), std::string::npos) << progress.str();
  const auto& ph = four.stats.at("phases");
  for (const char* p : {"forward", "data_gradient", "weight_gradient", "update", "inference"}) {
    EXPECT_GT(ph.at(p).at("cycles").get<std::uint64_t>(), 0u) << p;
  }
  EXPECT_GT(ph.at("forward").at("macs").get<std::uint64_t>(), 0u);
  EXPECT_GT(ph.at("update").at("vector_rows").get<std::uint64_t>(), 0u);
  EXPECT_EQ(four.stats.at("losses").size(), 4u);

  sasim::mem::test::fresh_systemc();
  const app::TrainJobResult two = app::train_job(config("two", ", steps: 2"), progress);
  sasim::mem::test::fresh_systemc();
  const app::TrainJobResult more =
      app::train_job(config("more", ", steps: 2, resume: " + two.checkpoint), progress);
  EXPECT_EQ(more.stats.at("first_step").get<std::uint64_t>(), 2u);
  const auto a = host::load_checkpoint(four.checkpoint, {784, 16, 10}, true);
  const auto b = host::load_checkpoint(more.checkpoint, {784, 16, 10}, true);
  EXPECT_EQ(a.step, 4u);
  EXPECT_EQ(b.step, 4u);
  for (std::size_t l = 0; l < 2; ++l) {
    EXPECT_TRUE((a.state.w32[l].array() == b.state.w32[l].array()).all()) << l;
    EXPECT_TRUE((a.state.vw[l].array() == b.state.vw[l].array()).all()) << l;
    EXPECT_TRUE((a.state.b32[l].array() == b.state.b32[l].array()).all()) << l;
  }
  EXPECT_DOUBLE_EQ(four.device_accuracy, more.device_accuracy);
  EXPECT_THROW(host::load_checkpoint(four.checkpoint, {784, 32, 10}, true), std::runtime_error);
}

TEST(TrainJob, ConfigErrorsNameTheKey) {
  const auto error_of = [](const std::string& yaml) {
    try {
      app::parse_config(yaml, "t.yaml");
    } catch (const app::ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("<no error>");
  };
  EXPECT_EQ(error_of("train: {lr: 0}"), "t.yaml: train.lr: 0 is out of range (allowed (0, 100])");
  EXPECT_EQ(error_of("train: {layers: [784]}"),
            "t.yaml: train.layers: must be a list of 2..16 whole numbers");
  EXPECT_EQ(error_of("train: {layers: [784, -3, 10]}"),
            "t.yaml: train.layers[1]: '-3' is not a whole number");
  sasim::mem::test::fresh_systemc();
  std::ostringstream progress;
  const app::Config int8 = app::parse_config("core: {rows: 16, cols: 16}\n", "t.yaml");
  EXPECT_THROW(app::train_job(int8, progress), app::ConfigError);
}

}  // namespace
