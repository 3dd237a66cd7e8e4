// The training job end to end on the RTL device (a small hidden layer keeps it
// quick): checked against the golden step after every step, a checkpoint that
// a later run resumes from (a 4-step run stopped after 2 and resumed ends with
// the same checkpoint, bit for bit, as 4 steps in one run), the report's
// per-phase statistics, config errors and what the job cannot honour.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "sasim/app/config.hpp"
#include "sasim/app/train_job.hpp"
#include "sasim/host/checkpoint.hpp"
#include "sasim/host/dataset.hpp"
#include "sasim/host/mlp_trainer.hpp"
#include "support/sc_test.hpp"

namespace {

using namespace sasim;  // spec, isa, model, mem, cosim, host, app
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

app::Config config(const std::string& name, const std::string& extra) {
  return app::parse_config(
      "core: {rows: 16, cols: 16, datapath: bf16, spad_rows: 8192, acc_rows: 1024}\n"
      "train: {layers: [784, 16, 10], batch: 32, test_images: 40, check: true, schedule: step, "
      "step_size: 1, gamma: 0.8" +
          extra + "}\nrun: {out_dir: " + std::string(SASIM_BINARY_DIR) + "/train_out}\n",
      name + ".yaml");
}

// The tests that train on Fashion-MNIST (skipped, saying so, without it).
class TrainJobOnData : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!host::fashion_mnist_installed())
      GTEST_SKIP() << "dataset-fashion-mnist is not installed (" << host::kFashionMnistDir
                   << "); ./sasim installs it";
  }
};

TEST_F(TrainJobOnData, CheckedRunResumesFromItsCheckpoint) {
  std::ostringstream progress;
  sasim::mem::test::fresh_systemc();
  const app::Config four_cfg = config("four", ", steps: 4");
  const app::TrainJobResult four = app::train_job(four_cfg, progress);
  EXPECT_EQ(four.steps, 4u);
  EXPECT_NE(progress.str().find("step 4/4"), std::string::npos) << progress.str();
  EXPECT_NE(progress.str().find("mean loss of steps 4-4: "), std::string::npos) << progress.str();
  const auto& ph = four.stats.at("phases");
  for (const char* p : {"forward", "data_gradient", "weight_update", "inference"}) {
    EXPECT_GT(ph.at(p).at("cycles").get<std::uint64_t>(), 0u) << p;
  }
  EXPECT_GT(ph.at("forward").at("macs").get<std::uint64_t>(), 0u);
  EXPECT_GT(ph.at("weight_update").at("vector_rows").get<std::uint64_t>(), 0u);
  // Every phase of a step is above its lower bound, and the bound is the one
  // of host::step_bounds over the four steps.
  const host::StepBounds sb = host::step_bounds(app::mlp_config(four_cfg), four_cfg.core);
  const std::pair<const char*, const host::PhaseBound*> bound_of[] = {
      {"forward", &sb.forward},
      {"data_gradient", &sb.data_grad},
      {"weight_update", &sb.weight_update}};
  for (const auto& [p, b] : bound_of) {
    const auto& j = ph.at(p).at("bound");
    EXPECT_EQ(j.at("compute_cycles").get<double>(), 4 * b->compute_cycles) << p;
    EXPECT_EQ(j.at("memory_cycles").get<double>(), 4 * b->memory_cycles) << p;
    const double f = j.at("fraction_of_bound").get<double>();
    EXPECT_GT(f, 0.0) << p;
    EXPECT_LE(f, 1.0) << p;
  }
  EXPECT_LE(four.stats.at("step_bound").at("fraction_of_bound").get<double>(), 1.0);
  EXPECT_EQ(four.stats.at("losses").size(), 4u);
  // The step schedule decays the rate every step (0.01 * 0.8^3 at step 3);
  // the resumed run below must pick it up at its checkpoint's step.
  EXPECT_EQ(four.stats.at("lr_schedule").at("last_lr").get<double>(),
            static_cast<double>(app::mlp_config(four_cfg).lr_at(3)));
  EXPECT_LT(four.stats.at("lr_schedule").at("last_lr").get<double>(),
            four.stats.at("lr_schedule").at("first_lr").get<double>());
  // The optimizer and its fields, in the report and the summary.
  EXPECT_EQ(four.stats.at("optimizer").at("kind"), "sgd");
  EXPECT_EQ(four.stats.at("optimizer").at("momentum").get<double>(),
            static_cast<double>(app::mlp_config(four_cfg).momentum));
  EXPECT_NE(app::train_summary(four_cfg, four).find("  optimizer        sgd, momentum 0.9\n"),
            std::string::npos)
      << app::train_summary(four_cfg, four);

  sasim::mem::test::fresh_systemc();
  const app::TrainJobResult two = app::train_job(config("two", ", steps: 2"), progress);
  // The same run continued: `steps` is the length of the whole run.
  sasim::mem::test::fresh_systemc();
  const app::Config more_cfg = config("more", ", steps: 4, resume: " + two.checkpoint);
  const app::TrainJobResult more = app::train_job(more_cfg, progress);
  EXPECT_EQ(more.stats.at("first_step").get<std::uint64_t>(), 2u);
  EXPECT_EQ(more.steps, 2u);
  const host::RunFingerprint fp{app::mlp_config(more_cfg), more_cfg.train.train_images};
  const auto a = host::load_checkpoint(four.checkpoint, fp, 4);
  const auto b = host::load_checkpoint(more.checkpoint, fp, 4);
  EXPECT_EQ(a.step, 4u);
  EXPECT_EQ(b.step, 4u);
  for (std::size_t l = 0; l < 2; ++l) {
    EXPECT_TRUE((a.state.w32[l].array() == b.state.w32[l].array()).all()) << l;
    EXPECT_TRUE((a.state.vw[l].array() == b.state.vw[l].array()).all()) << l;
    EXPECT_TRUE((a.state.b32[l].array() == b.state.b32[l].array()).all()) << l;
  }
  EXPECT_EQ(host::checkpoint_bytes(a.state, a.step, fp),
            host::checkpoint_bytes(b.state, b.step, fp));
  EXPECT_DOUBLE_EQ(four.device_accuracy, more.device_accuracy);
  host::RunFingerprint wider = fp;
  wider.mlp.layers = {784, 32, 10};
  EXPECT_THROW(host::load_checkpoint(four.checkpoint, wider, 4), host::CheckpointError);
  // A damaged checkpoint stops the run before it starts, naming the key.
  {
    std::fstream f(two.checkpoint, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(100);
    f.put('\x5A');
  }
  sasim::mem::test::fresh_systemc();
  EXPECT_THAT(
      [&] { app::train_job(config("bad", ", steps: 4, resume: " + two.checkpoint), progress); },
      ThrowsMessage<app::ConfigError>(
          AllOf(HasSubstr("bad.yaml: train.resume: "), HasSubstr("damaged"))));
}

// A cosine run stopped after step 2 of 4 (train.stop_after) on the model
// engine and resumed on the RTL ends with the checkpoint of the uninterrupted
// RTL run, byte for byte: the schedule stays the whole run's. Stopping before a
// checkpoint's step or past the run's end is an error naming the key.
TEST_F(TrainJobOnData, StoppedOnOneEngineResumedOnAnother) {
  std::ostringstream progress;
  const auto cfg_of = [](const std::string& name, const std::string& extra) {
    return app::parse_config(
        "core: {rows: 16, cols: 16, datapath: bf16, spad_rows: 8192, acc_rows: 1024}\n"
        "train: {layers: [784, 16, 10], batch: 32, test_images: 40, check: true" +
            extra + "}\nrun: {out_dir: " + std::string(SASIM_BINARY_DIR) + "/train_out}\n",
        name + ".yaml");
  };
  const std::string cosine = ", steps: 4, schedule: cosine, warmup_steps: 1, lr: 0.05";
  sasim::mem::test::fresh_systemc();
  const app::TrainJobResult whole = app::train_job(cfg_of("whole", cosine), progress);
  sasim::mem::test::fresh_systemc();
  app::Config first_cfg = cfg_of("first", cosine + ", stop_after: 2");
  first_cfg.run.engine = cosim::Engine::kModel;
  const app::TrainJobResult first = app::train_job(first_cfg, progress);
  EXPECT_EQ(first.steps, 2u);
  EXPECT_NE(progress.str().find("step 2/2"), std::string::npos);
  // The rate of its last step is the whole run's at step 1, not a 2-step cosine's end.
  const model::MlpConfig m = app::mlp_config(first_cfg);
  EXPECT_EQ(m.total_steps, 4u);
  EXPECT_EQ(first.stats.at("lr_schedule").at("last_lr").get<double>(),
            static_cast<double>(m.lr_at(1)));
  sasim::mem::test::fresh_systemc();
  const app::TrainJobResult rest =
      app::train_job(cfg_of("rest", cosine + ", resume: " + first.checkpoint), progress);
  EXPECT_EQ(rest.stats.at("first_step").get<std::uint64_t>(), 2u);
  const host::RunFingerprint fp{m, first_cfg.train.train_images};
  const auto a = host::load_checkpoint(whole.checkpoint, fp, 4);
  const auto b = host::load_checkpoint(rest.checkpoint, fp, 4);
  EXPECT_EQ(host::checkpoint_bytes(a.state, a.step, fp),
            host::checkpoint_bytes(b.state, b.step, fp));
  EXPECT_EQ(whole.stats.at("losses").back(), rest.stats.at("losses").back());
  sasim::mem::test::fresh_systemc();
  EXPECT_THAT(
      [&] {
        app::train_job(cfg_of("early", cosine + ", stop_after: 1, resume: " + first.checkpoint),
                       progress);
      },
      ThrowsMessage<app::ConfigError>(HasSubstr(
          "early.yaml: train.stop_after: 1 is before the checkpoint's step 2 (train.resume)")));
  sasim::mem::test::fresh_systemc();
  EXPECT_THAT([&] { app::train_job(cfg_of("late", cosine + ", stop_after: 5"), progress); },
              ThrowsMessage<app::ConfigError>(HasSubstr(
                  "late.yaml: train.stop_after: 5 is past the run's end (allowed 0..4, its "
                  "steps)")));
}

// What the training job cannot honour stops it before it trains: another
// dataflow, and data files with fewer images than asked (named with the key).
// On several cores the report and the summary carry each core's figures:
// its useful MACs (which add up to the step's), its PE utilization from
// them, and for tensor parallel the reduction phase.
TEST_F(TrainJobOnData, SeveralCoresReportEachCore) {
  for (const char* par : {"data", "tensor"}) {
    SCOPED_TRACE(par);
    std::ostringstream progress;
    sasim::mem::test::fresh_systemc();
    const app::Config cfg = app::parse_config(
        "core: {rows: 16, cols: 16, datapath: bf16, spad_rows: 8192, acc_rows: 1024, count: 2}\n"
        "train: {layers: [784, 32, 10], batch: 32, steps: 2, test_images: 40, check: true, "
        "parallel: " +
            std::string(par) + "}\nrun: {engine: model, out_dir: " + std::string(SASIM_BINARY_DIR) +
            "/train_out}\n",
        std::string("cores_") + par + ".yaml");
    const app::TrainJobResult r = app::train_job(cfg, progress);
    const nlohmann::json& p = r.stats.at("parallel");
    EXPECT_EQ(p.at("mode"), par);
    ASSERT_EQ(p.at("per_core").size(), 2u);
    const std::uint64_t step_macs = host::step_bounds(app::mlp_config(cfg), cfg.core).step().macs;
    std::uint64_t macs = 0;
    for (const auto& c : p.at("per_core")) {
      const auto m = c.at("macs").get<std::uint64_t>();
      const auto cycles = c.at("cycles").get<double>();
      EXPECT_GT(m, step_macs / 4) << "each core does a share of the work";
      EXPECT_DOUBLE_EQ(c.at("pe_utilization").get<double>(), double(m) / (256.0 * cycles));
      EXPECT_LT(c.at("pe_utilization").get<double>(), 1.0);
      macs += m;
    }
    EXPECT_EQ(macs, 2 * step_macs);
    if (std::string(par) == "tensor") EXPECT_GT(p.at("reduction_cycles").get<std::uint64_t>(), 0u);
    const std::string s = app::train_summary(cfg, r);
    EXPECT_THAT(s, HasSubstr(std::string("  parallel         ") + par + " parallel on 2 cores"));
    EXPECT_THAT(s, HasSubstr("\n  core 0 "));
    EXPECT_THAT(s, HasSubstr("\n  core 1 "));
    EXPECT_THAT(s, HasSubstr("% PE utilization: compute "));
  }
}

TEST(TrainJob, RefusesWhatItCannotHonour) {
  std::ostringstream progress;
  sasim::mem::test::fresh_systemc();
  const app::Config os =
      app::parse_config("core: {rows: 16, cols: 16, datapath: bf16, dataflow: os}\n", "os.yaml");
  EXPECT_THAT([&] { app::train_job(os, progress); },
              ThrowsMessage<app::ConfigError>(
                  HasSubstr("os.yaml: core.dataflow: os is not supported by sasim train")));
  // A data folder with 40 training and 5 test images.
  const std::filesystem::path dir = std::filesystem::path(SASIM_BINARY_DIR) / "few_images";
  std::filesystem::create_directories(dir);
  const auto write_idx = [&](const std::string& name, std::uint32_t magic,
                             const std::vector<std::uint32_t>& dims) {
    std::string b;
    std::uint64_t n = 1;
    const auto put32 = [&](std::uint32_t v) {
      for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<char>(v >> s));
    };
    put32(magic);
    for (std::uint32_t d : dims) {
      put32(d);
      n *= d;
    }
    b.append(n, '\0');
    gzFile f = gzopen((dir / name).c_str(), "wb");
    ASSERT_NE(f, nullptr);
    ASSERT_EQ(gzwrite(f, b.data(), static_cast<unsigned>(b.size())), static_cast<int>(b.size()));
    gzclose(f);
  };
  write_idx("train-images-idx3-ubyte.gz", 0x803, {40, 28, 28});
  write_idx("train-labels-idx1-ubyte.gz", 0x801, {40});
  write_idx("t10k-images-idx3-ubyte.gz", 0x803, {5, 28, 28});
  write_idx("t10k-labels-idx1-ubyte.gz", 0x801, {5});
  const std::string core = "core: {rows: 16, cols: 16, datapath: bf16}\n";
  const app::Config many = app::parse_config(
      core + "train: {data_dir: " + dir.string() + ", train_images: 64}\n", "many.yaml");
  EXPECT_THAT([&] { app::train_job(many, progress); },
              ThrowsMessage<app::ConfigError>(HasSubstr(
                  "many.yaml: train.train_images: 64 images asked, the training files in " +
                  dir.string() + " hold 40")));
  const app::Config tests = app::parse_config(
      core + "train: {data_dir: " + dir.string() + ", train_images: 40, test_images: 6}\n",
      "tests.yaml");
  EXPECT_THAT([&] { app::train_job(tests, progress); },
              ThrowsMessage<app::ConfigError>(
                  HasSubstr("tests.yaml: train.test_images: 6 images asked, the test files in " +
                            dir.string() + " hold 5")));
}

// An MLP that does not fit the device memory is a configuration error naming
// memory.size, before any step.
TEST_F(TrainJobOnData, MlpLargerThanTheDeviceMemoryNamesMemorySize) {
  std::ostringstream progress;
  sasim::mem::test::fresh_systemc();
  const app::Config c = app::parse_config(
      "core: {rows: 16, cols: 16, datapath: bf16}\nmemory: {size: 0x100000}\n"
      "train: {layers: [784, 512, 10], steps: 1, train_images: 64, test_images: 32}\n"
      "run: {out_dir: " +
          std::string(SASIM_BINARY_DIR) + "/train_out}\n",
      "small.yaml");
  EXPECT_THAT([&] { app::train_job(c, progress); },
              ThrowsMessage<app::ConfigError>(HasSubstr(
                  "small.yaml: memory.size: 1048576 bytes do not hold the MLP of train.layers")));
  EXPECT_EQ(progress.str(), "");  // not one step
}

// A core whose SRAMs cannot hold the kernels' tiles is a configuration error
// naming the core, in the first step (the kernels plan on the host).
TEST_F(TrainJobOnData, SramsTooSmallForTheKernelsNameTheCore) {
  std::ostringstream progress;
  sasim::mem::test::fresh_systemc();
  app::Config c = app::parse_config(
      "core: {rows: 4, cols: 4, datapath: bf16, spad_rows: 8, acc_rows: 4}\n"
      "train: {layers: [784, 16, 10], steps: 1, train_images: 64, test_images: 32}\n"
      "run: {engine: model, out_dir: " +
          std::string(SASIM_BINARY_DIR) + "/train_out}\n",
      "tiny.yaml");
  EXPECT_THAT([&] { app::train_job(c, progress); },
              ThrowsMessage<app::ConfigError>(
                  AllOf(HasSubstr("tiny.yaml: core: the training kernels do not fit a bf16 4x4, "
                                  "spad 8 rows, acc 4 rows"),
                        HasSubstr("acc_rows"))));
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
            "t.yaml: train.layers[1]: '-3' is out of range (allowed 1..4096)");
  sasim::mem::test::fresh_systemc();
  std::ostringstream progress;
  const app::Config int8 = app::parse_config("core: {rows: 16, cols: 16}\n", "t.yaml");
  EXPECT_THROW(app::train_job(int8, progress), app::ConfigError);
}

}  // namespace
