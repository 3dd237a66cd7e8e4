// The model engine (cosim/timed_core.hpp) against the RTL: the same run on
// both engines gives the same cycles, every counter (core, bridge, memory
// system) and the same bytes; the check engine compares them in every cycle
// and names the first cycle in which they part; errors, the watchdog and the
// waves behave as on the RTL. (Random programs run on the check engine in
// test_random_programs; the correlation suite is tests/correlation.)
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "sasim/app/config.hpp"
#include "sasim/app/run_job.hpp"
#include "sasim/cosim/device.hpp"
#include "sasim/cosim/timed_core.hpp"
#include "sasim/host/dataset.hpp"
#include "sasim/host/mlp_trainer.hpp"
#include "sasim/isa/encode.hpp"
#include "sasim/model/mlp_golden.hpp"
#include "support/sc_test.hpp"

namespace {

using ::testing::HasSubstr;
using namespace sasim;  // spec, isa, model, mem, cosim, host, app

app::RunJobResult run(const std::string& yaml) {
  sasim::mem::test::fresh_systemc();
  return app::run_job(app::parse_config(yaml, "t.yaml"));
}

// Every counter of the RTL run, by name, equal on the model engine (the
// bridge's synchronisation counts are the simulator's work, not the device's).
void expect_same_run(const app::RunJobResult& rtl, const app::RunJobResult& model) {
  EXPECT_TRUE(rtl.match);
  EXPECT_TRUE(model.match);
  EXPECT_EQ(rtl.run.cycles, model.run.cycles);
  std::size_t compared = 0;
  for (const auto& [name, v] : rtl.run.counters) {
    if (name.rfind("device.bridge.sync", 0) == 0) continue;
    ASSERT_TRUE(model.run.counters.contains(name)) << name;
    EXPECT_EQ(model.run.counters.at(name), v) << name;
    ++compared;
  }
  EXPECT_GT(compared, 50u);
}

TEST(Engines, ModelEqualsRtlOnEveryDataflowAndDatapath) {
  for (const char* dp : {"int8", "bf16"}) {
    for (const char* df : {"ws", "os", "is"}) {
      SCOPED_TRACE(std::string(dp) + " " + df);
      const std::string base = std::string("core: {datapath: ") + dp + ", dataflow: " + df +
                               "}\ngemm: {m: 61, k: 47, n: 35, seed: 7}\n";
      expect_same_run(run(base + "run: {engine: rtl}\n"), run(base + "run: {engine: model}\n"));
    }
  }
}

TEST(Engines, CheckEngineRunsTheSmallCoreInLockStep) {
  // The 4 x 4 core with small SRAMs, no L2, a closed-page DRAM: the check
  // engine compares outputs, events and counters in every cycle.
  const app::RunJobResult r =
      run("core: {rows: 4, cols: 4, spad_rows: 512, acc_rows: 256, dataflow: is}\n"
          "gemm: {m: 33, k: 18, n: 21}\nl2: {bypass: true}\n"
          "memory: {dram: {page_policy: closed}}\nrun: {engine: check}\n");
  EXPECT_TRUE(r.match);
  EXPECT_GT(r.run.cycles, 1000u);
}

TEST(Engines, CheckEngineNamesTheCycleWhereTheModelLeavesTheRtl) {
  // The RTL of a 4 x 4 core paired with the model of a 16 x 16 one: the same
  // program fetches alike, then the first GEMM parts them.
  sasim::mem::test::fresh_systemc();
  const spec::CoreSpec small = spec::core_of(model::Datapath::kInt8, 4, 4, 512, 256, 16);
  const spec::CoreSpec big = spec::core_of(model::Datapath::kInt8, 16, 16, 512, 256, 16);
  auto checked =
      cosim::make_checked_core(cosim::make_core_model(small), cosim::make_timed_core(big));
  // The program: one GEMM (a 16-row WS tile) and FINISH, two beats of one
  // burst, delivered from cycle 3 on.
  const auto prog =
      isa::program_bytes({isa::encode_gemm({isa::Dataflow::kWs, false, false, 0, 16, 0, 16, 0}),
                          isa::encode_finish()});
  checked->start(0x8000'0000, 2);
  cosim::AxiIn in;
  cosim::AxiOut out;
  in.ar_ready = true;
  std::string what;
  unsigned cycles = 0;
  try {
    for (; cycles < 300; ++cycles) {
      const unsigned beat = cycles - 3;
      in.r_valid = cycles >= 3 && beat < 2;
      in.r_id = 0;
      in.r_last = in.r_valid && beat == 1;
      if (in.r_valid) std::copy_n(prog.begin() + 16 * beat, 16, in.r_data.begin());
      checked->cycle(in, out);
    }
  } catch (const cosim::EngineMismatch& e) {
    what = e.what();
  }
  EXPECT_GT(cycles, 4u);  // alike while fetching
  EXPECT_LT(cycles, 300u);
  EXPECT_THAT(what, HasSubstr("the model left the RTL in cycle"));
  EXPECT_THAT(what, HasSubstr("RTL:"));
  EXPECT_THAT(what, HasSubstr("model:"));
}

TEST(Engines, ProgramErrorsAndTheWatchdogAreTheRtlsOnTheModel) {
  for (const auto engine : {cosim::Engine::kRtl, cosim::Engine::kModel}) {
    SCOPED_TRACE(std::string(cosim::to_string(engine)));
    sasim::mem::test::fresh_systemc();
    cosim::DeviceConfig c;
    c.core = spec::core_of(model::Datapath::kInt8, 16, 16, 8192, 1024, 16);
    c.memory.memory.model = "ideal";
    c.memory.l2.bypass = true;
    c.engine = engine;
    c.watchdog_cycles = 2000;
    cosim::CosimDevice dev(c);
    const std::uint64_t at = dev.params().dram_base + (1 << 20);
    auto put = [&](const std::vector<isa::Instruction>& p) {
      const auto w = isa::program_bytes(p);
      dev.write(at, w.data(), w.size());
      return p.size();
    };
    // A GEMM whose accumulator rows run past the end (ERR_RANGE, instruction 1).
    isa::Instruction bad = isa::encode_gemm({isa::Dataflow::kWs, false, false, 0, 0, 0, 16, 0});
    bad.set(isa::gemm::kAccRow, 1020);
    std::string what;
    try {
      dev.run(at, put({isa::encode_config(3), bad, isa::encode_finish()}));
    } catch (const spec::DeviceError& e) {
      what = e.what();
    }
    EXPECT_THAT(what, HasSubstr("operand out of range (count of 0"));
    EXPECT_THAT(what, HasSubstr("(instruction 1 "));
    // A GEMM waiting for a LOAD token that never comes: the watchdog.
    what.clear();
    try {
      dev.run(at, put({isa::encode_gemm({isa::Dataflow::kWs, false, false, 0, 0, 0, 4, 0},
                                        {.pop_prev = true}),
                       isa::encode_finish()}));
    } catch (const spec::DeviceError& e) {
      what = e.what();
    }
    EXPECT_THAT(what, HasSubstr("watchdog: no progress for 2000 cycles"));
    EXPECT_THAT(what, HasSubstr("heads waiting for a token: LOAD 0, EXEC from LOAD 1"));
  }
}

// Training steps with AdamW (the vector unit's MUL, SQRT, ADD_IMM, DIV in
// the fused update) on the check engine: the model and the RTL agree in every
// cycle, and the state equals the golden step's.
TEST(Engines, AdamWStepsRunInLockStep) {
  sasim::mem::test::fresh_systemc();
  cosim::DeviceConfig dc;
  dc.core = spec::core_of(model::Datapath::kBf16, 16, 16, 8192, 1024, 16);
  dc.memory.memory.size = std::uint64_t{16} << 20;
  dc.engine = cosim::Engine::kCheck;
  cosim::CosimDevice dev(dc);
  host::Driver drv(dev);
  model::MlpConfig cfg;
  cfg.layers = {144, 24, 10};
  cfg.batch = 8;
  cfg.lr = 0.002f;
  cfg.momentum = 0.0f;
  cfg.optimizer = model::Optimizer::kAdamW;
  cfg.weight_decay = 0.05f;
  const host::Dataset data = host::synthetic_dataset(3 * cfg.batch, 12, 12, 10, 4);
  const std::vector<std::size_t> order = host::shuffled_order(data.count, 2, 0);
  model::MlpState gold = model::mlp_init(cfg);
  host::DeviceMlp mlp(drv, cfg, gold);
  const model::StepFolds folds = host::step_folds(dev.params(), cfg);
  for (int step = 0; step < 3; ++step) {
    const model::Batch b = host::make_batch(data, order, std::size_t(step) * cfg.batch, cfg.batch);
    const model::RawMatrix x = model::to_bf16_input(b.x);
    const host::StepStats st = mlp.step(x, b.labels);
    EXPECT_EQ(st.loss, model::mlp_step(gold, cfg, std::uint64_t(step), x, b.labels, folds));
    EXPECT_GT(st.weight_update.cycles, 1000u) << "step " << step;
  }
  EXPECT_EQ(model::first_difference(mlp.state(), gold), "");
}

TEST(Engines, WavesNeedTheRtl) {
  sasim::mem::test::fresh_systemc();
  cosim::DeviceConfig c;
  c.core = spec::core_of(model::Datapath::kInt8, 16, 16, 8192, 1024, 16);
  c.engine = cosim::Engine::kModel;
  c.wave_file = "/tmp/never.fst";
  EXPECT_THROW(
      {
        try {
          cosim::CosimDevice dev(c);
        } catch (const std::invalid_argument& e) {
          EXPECT_THAT(e.what(), HasSubstr("waves need the RTL"));
          throw;
        }
      },
      std::invalid_argument);
}

TEST(Engines, EngineNamesParse) {
  EXPECT_EQ(cosim::parse_engine("RTL"), cosim::Engine::kRtl);
  EXPECT_EQ(cosim::parse_engine("model"), cosim::Engine::kModel);
  EXPECT_EQ(cosim::parse_engine("check"), cosim::Engine::kCheck);
  EXPECT_FALSE(cosim::parse_engine("fast").has_value());
  EXPECT_THROW(app::parse_config("run: {engine: fast}\n", "t.yaml"), app::ConfigError);
}

}  // namespace
