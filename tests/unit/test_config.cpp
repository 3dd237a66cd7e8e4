// Configuration parsing and validation: every error names file, key and range.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <bit>
#include <filesystem>
#include <sstream>
#include <string>

#include "sasim/app/config.hpp"
#include "sasim/spec/contract.hpp"
#include "support/config_error.hpp"

namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

namespace app = sasim::app;
namespace spec = sasim::spec;

std::string error_of(const std::string& yaml) { return sasim::test::config_error_of(yaml); }

TEST(Config, DefaultConfigLoads) {
  const app::Config c = app::load_config(std::string(SASIM_SOURCE_DIR) + "/configs/default.yaml");
  EXPECT_EQ(c.name, "default");
  EXPECT_EQ(c.core.rows, 16u);
  EXPECT_EQ(c.core.cols, 16u);
  EXPECT_EQ(c.core.datapath, sasim::model::Datapath::kInt8);
  EXPECT_EQ(c.core.dataflow, sasim::model::Dataflow::kWs);
  EXPECT_EQ(c.run.wave_file, "waves/default.fst");
}

TEST(Config, EveryShippedConfigLoads) {
  std::size_t n = 0;
  for (const auto& f :
       std::filesystem::directory_iterator(std::string(SASIM_SOURCE_DIR) + "/configs")) {
    if (f.path().extension() != ".yaml") continue;
    EXPECT_NO_THROW(app::load_config(f.path().string())) << f.path();
    ++n;
  }
  EXPECT_GE(n, 8u);  // default, memory, two array configs, the training configs
}

TEST(Config, FieldsAreRead) {
  const app::Config c = app::parse_config(
      "core: {rows: 8, cols: 8, datapath: BF16, dataflow: os}\n"
      "gemm: {m: 3, k: 5, n: 7, seed: 9, operands: edge}\n"
      "run: {waves: true, watchdog_cycles: 77}\n",
      "x/my_run.yaml");
  EXPECT_EQ(c.core.rows, 8u);
  EXPECT_EQ(c.core.datapath, sasim::model::Datapath::kBf16);
  EXPECT_EQ(c.core.dataflow, sasim::model::Dataflow::kOs);
  EXPECT_EQ(c.gemm.m, 3u);
  EXPECT_EQ(c.gemm.k, 5u);
  EXPECT_EQ(c.gemm.n, 7u);
  EXPECT_EQ(c.gemm.seed, 9u);
  EXPECT_EQ(c.gemm.operands, sasim::model::OperandMix::kEdgeCases);
  EXPECT_TRUE(c.run.waves);
  EXPECT_EQ(c.run.watchdog_cycles, 77u);
  EXPECT_EQ(c.run.wave_file, "waves/my_run.fst");
}

TEST(Config, RoundTripsThroughEffectiveYaml) {
  const app::Config c = app::parse_config(
      "core: {rows: 4, cols: 8, datapath: int8, dataflow: is}\ngemm: {m: 11}\n", "a.yaml");
  const app::Config d = app::parse_config(app::to_yaml(c), "a.yaml");
  EXPECT_EQ(app::to_yaml(c), app::to_yaml(d));
  EXPECT_EQ(d.core.cols, 8u);
  EXPECT_EQ(d.gemm.m, 11u);
  // An Adam config: its keys written, SGD's momentum not (it would be an error).
  const app::Config a = app::parse_config(
      "train: {optimizer: adamw, beta2: 0.99, eps: 1.0e-7, weight_decay: 0.02}\n", "a.yaml");
  const std::string ya = app::to_yaml(a);
  EXPECT_EQ(ya.find("momentum"), std::string::npos) << ya;
  const app::Config b = app::parse_config(ya, "a.yaml");
  EXPECT_EQ(app::to_yaml(b), ya);
  EXPECT_EQ(b.train.optimizer, sasim::model::Optimizer::kAdamW);
  EXPECT_EQ(b.train.beta2, 0.99);
  EXPECT_EQ(b.train.eps, 1.0e-7);
  EXPECT_EQ(b.train.weight_decay, 0.02);
}

TEST(Config, OutOfRangeNamesKeyAndRange) {
  EXPECT_EQ(error_of("core: {rows: 1}"), "t.yaml: core.rows: 1 is out of range (allowed 2..256)");
  EXPECT_EQ(error_of("core: {cols: 257}"),
            "t.yaml: core.cols: 257 is out of range (allowed 2..256)");
  EXPECT_EQ(error_of("gemm: {m: 0}"), "t.yaml: gemm.m: 0 is out of range (allowed 1..65536)");
  EXPECT_EQ(error_of("core: {clock_mhz: 0}"),
            "t.yaml: core.clock_mhz: 0 is out of range (allowed [1, 10000])");
  EXPECT_EQ(error_of("run: {watchdog_cycles: 0}"),
            "t.yaml: run.watchdog_cycles: 0 is out of range (allowed 1..1000000000)");
}

TEST(Config, WrongTypesAreRejected) {
  EXPECT_EQ(error_of("gemm: {k: -3}"), "t.yaml: gemm.k: '-3' is out of range (allowed 1..65536)");
  EXPECT_EQ(error_of("gemm: {k: 2.5}"),
            "t.yaml: gemm.k: '2.5' is not a whole number (allowed 1..65536)");
  EXPECT_EQ(error_of("run: {waves: maybe}"),
            "t.yaml: run.waves: 'maybe' is not a boolean (allowed true, false)");
  EXPECT_EQ(error_of("core: 5"), "t.yaml: core: must be a mapping");
  EXPECT_EQ(error_of("core: {rows: many}"),
            "t.yaml: core.rows: 'many' is not a whole number (allowed 2..256)");
}

TEST(Config, BadChoicesListAllowedValues) {
  EXPECT_EQ(error_of("core: {datapath: fp8}"),
            "t.yaml: core.datapath: 'fp8' is not allowed (allowed int8, bf16)");
  EXPECT_EQ(error_of("core: {dataflow: rs}"),
            "t.yaml: core.dataflow: 'rs' is not allowed (allowed ws, os, is)");
  EXPECT_EQ(error_of("gemm: {operands: zeros}"),
            "t.yaml: gemm.operands: 'zeros' is not allowed (allowed uniform, edge, specials)");
}

// The learning-rate schedule's keys: read into model::MlpConfig (the cosine
// length is the run's steps), and each bad value named with its range.
TEST(Config, LearningRateScheduleKeys) {
  const app::Config c = app::parse_config(
      "train: {lr: 0.2, schedule: cosine, warmup_steps: 5, lr_min: 0.01, steps: 300}\n", "s.yaml");
  const sasim::model::MlpConfig m = app::mlp_config(c);
  EXPECT_EQ(m.schedule, sasim::model::LrSchedule::kCosine);
  EXPECT_EQ(m.warmup_steps, 5u);
  EXPECT_EQ(m.lr_min, 0.01f);
  EXPECT_EQ(m.total_steps, 300u);
  const app::Config e = app::parse_config(
      "train: {schedule: step, step_size: 7, gamma: 0.5, epochs: 2, train_images: 640}\n",
      "e.yaml");
  EXPECT_EQ(app::mlp_config(e).total_steps, 40u);  // 2 epochs of 640 / 32
  EXPECT_EQ(app::mlp_config(e).step_size, 7u);
  EXPECT_EQ(app::parse_config(app::to_yaml(c), "s.yaml").train.schedule,
            sasim::model::LrSchedule::kCosine);
  // The config's defaults are the model's (the YAML keeps doubles).
  const app::TrainConfig td;
  const sasim::model::MlpConfig md;
  EXPECT_EQ(static_cast<float>(td.gamma), md.gamma);
  EXPECT_EQ(static_cast<float>(td.lr_min), md.lr_min);
  EXPECT_EQ(td.step_size, md.step_size);
  EXPECT_EQ(error_of("train: {schedule: linear}"),
            "t.yaml: train.schedule: 'linear' is not allowed (allowed constant, step, cosine)");
  EXPECT_EQ(error_of("train: {gamma: 0}"),
            "t.yaml: train.gamma: 0 is out of range (allowed (0, 1])");
  EXPECT_EQ(error_of("train: {step_size: 0}"),
            "t.yaml: train.step_size: 0 is out of range (allowed 1..100000000)");
  EXPECT_THAT(error_of("train: {lr: 0.1, lr_min: 0.2}"),
              HasSubstr("t.yaml: train.lr_min: 0.2 is out of range (allowed [0, lr = 0.1"));
}

TEST(Config, UnknownKeysAreRejected) {
  EXPECT_EQ(error_of("core: {rowz: 4}"), "t.yaml: core.rowz: unknown key");
  EXPECT_EQ(error_of("cache: {size: 4}"), "t.yaml: cache: unknown key");
}

// --set: key.path=value applied to the document, with the file's checks and
// messages, recorded in the effective config.
std::string override_error(const std::string& yaml, const std::string& set) {
  try {
    app::parse_config(yaml, "t.yaml", {set});
  } catch (const app::ConfigError& e) {
    return e.what();
  }
  return "<no error>";
}

TEST(Config, SetOverridesKeysLikeTheFile) {
  const app::Config c = app::parse_config(
      "core: {rows: 4, cols: 4}\nl2: {replacement: lru}\n", "t.yaml",
      {"core.rows=8", "l2.replacement=srrip", "train.layers=[784, 64, 10]", "gemm.m=0x10"});
  EXPECT_EQ(c.core.rows, 8u);
  EXPECT_EQ(c.core.cols, 4u);
  EXPECT_EQ(c.train.layers, (std::vector<unsigned>{784, 64, 10}));
  EXPECT_EQ(c.gemm.m, 16u);
  const std::string eff = app::to_yaml(c);
  EXPECT_THAT(eff, HasSubstr("replacement: srrip"));
  EXPECT_EQ(app::to_yaml(app::parse_config(eff, "t.yaml")), eff);
  // Key names are the file's, upper-case letters included.
  EXPECT_EQ(app::parse_config("", "t.yaml", {"memory.dram.tCL=30"}).memory.dram.tCL, 30u);
  // The last of two settings of one key wins, as on a command line.
  EXPECT_EQ(app::parse_config("", "t.yaml", {"core.rows=8", "core.rows=16"}).core.rows, 16u);
}

TEST(Config, SetErrorsAreTheFilesErrors) {
  EXPECT_EQ(override_error("", "core.rows=300"), error_of("core: {rows: 300}"));
  EXPECT_EQ(override_error("", "core.rows=010"), error_of("core: {rows: 010}"));
  EXPECT_EQ(override_error("", "core.rowz=4"), "t.yaml: core.rowz: unknown key");
  EXPECT_EQ(override_error("", "l2.replacement=mru"), error_of("l2: {replacement: mru}"));
  EXPECT_EQ(override_error("", "core.rows"),
            "t.yaml: --set 'core.rows': expected key.path=value (e.g. core.rows=32)");
  EXPECT_EQ(override_error("", "core..rows=4"),
            "t.yaml: --set 'core..rows=4': '' is not a key name (letters, digits, _)");
  EXPECT_EQ(override_error("", "core.=4"),
            "t.yaml: --set 'core.=4': expected key.path=value (e.g. core.rows=32)");
  EXPECT_EQ(override_error("core: {rows: 4}", "core.rows.x=4"),
            "t.yaml: --set 'core.rows.x=4': 'core.rows' is a value, not a section");
  EXPECT_EQ(override_error("", "core.rows.x=4"), error_of("core: {rows: {x: 4}}"));
  EXPECT_THAT(override_error("", "core.rows=[1, "),
              HasSubstr("t.yaml: --set 'core.rows=[1, ': the value is not valid YAML"));
}

TEST(Config, IllegalCoresAreRejected) {
  EXPECT_EQ(error_of("core: {bus_bytes: 24}"),
            "t.yaml: core.bus_bytes: 24 is not allowed (allowed 16, 32, 64)");
}

// The device description comes from the core and memory sections.
TEST(Config, DeviceSpecComesFromTheYaml) {
  const app::Config c = app::parse_config(
      "core: {rows: 8, cols: 8, datapath: bf16, spad_rows: 512, acc_rows: 128}\n"
      "memory: {base: 0x10000000, size: 0x4000000}\n",
      "d.yaml");
  const sasim::spec::DeviceSpec p = c.device();
  EXPECT_EQ(p.datapath, sasim::model::Datapath::kBf16);
  EXPECT_EQ(p.rows, 8u);
  EXPECT_EQ(p.cols, 8u);
  EXPECT_EQ(p.spad_rows, 512u);
  EXPECT_EQ(p.acc_rows, 128u);
  EXPECT_EQ(p.dram_base, 0x10000000u);
  EXPECT_EQ(p.dram_bytes, 0x4000000u);
  EXPECT_EQ(error_of("core: {rows: 16, cols: 16, spad_rows: 16}"),
            "t.yaml: core.spad_rows: 16 is out of range (allowed 17..65536, a power of two: at "
            "least rows + 1)");
  EXPECT_EQ(error_of("core: {acc_rows: 8}"),
            "t.yaml: core.acc_rows: 8 is out of range (allowed 16..65536, a power of two: at "
            "least rows)");
  // Legal for the loader only when the RTL can be built with it: the contract's
  // rule, checked at load time (it used to fail later as "not verilated").
  EXPECT_EQ(error_of("core: {spad_rows: 3000}"),
            "t.yaml: core.spad_rows: 3000 is not a power of two (allowed 17..65536, a power of "
            "two: at least rows + 1)");
}

TEST(Config, MemorySystemSectionsAreRead) {
  const app::Config c = app::parse_config(
      "interconnect: {clock_mhz: 800, width_bytes: 32, latency_cycles: 4,"
      " arbitration: fixed_priority}\n"
      "l2: {size_bytes: 262144, line_bytes: 128, ways: 4, hit_latency_cycles: 12, mshrs: 16,"
      " replacement: srrip, write_policy: wt_nwa, bypass: true}\n"
      "memory: {model: fixed, base: 0x40000000, size: 0x10000000,"
      " dram: {channels: 2, tCL: 16, page_policy: closed, scheduler: fcfs},"
      " fixed: {latency_ns: 80.5, bandwidth_gbps: 12.8}}\n",
      "m.yaml");
  EXPECT_EQ(c.interconnect.clock_mhz, 800);
  EXPECT_EQ(c.interconnect.width_bytes, 32u);
  EXPECT_EQ(c.interconnect.arbitration, "fixed_priority");
  EXPECT_EQ(c.l2.size_bytes, 262144u);
  EXPECT_EQ(c.l2.line_bytes, 128u);
  EXPECT_EQ(c.l2.replacement, "srrip");
  EXPECT_EQ(c.l2.write_policy, "wt_nwa");
  EXPECT_TRUE(c.l2.bypass);
  EXPECT_EQ(c.memory.model, "fixed");
  EXPECT_EQ(c.memory.base, 0x40000000u);
  EXPECT_EQ(c.memory.dram.channels, 2u);
  EXPECT_EQ(c.memory.dram.tCL, 16u);
  EXPECT_EQ(c.memory.dram.page_policy, "closed");
  EXPECT_EQ(c.memory.fixed.latency_ns, 80.5);
  // The effective YAML carries every field and reads back the same.
  EXPECT_EQ(app::to_yaml(app::parse_config(app::to_yaml(c), "m.yaml")), app::to_yaml(c));
}

TEST(Config, MemorySystemErrorsNameFileSectionAndRange) {
  EXPECT_EQ(
      error_of("l2: {replacement: mru}"),
      "t.yaml: l2.replacement: 'mru' is not allowed (allowed lru, plru, fifo, random, srrip)");
  EXPECT_EQ(error_of("l2: {colour: red}"), "t.yaml: l2.colour: unknown key");
  EXPECT_EQ(error_of("memory: {model: hbm}"),
            "t.yaml: memory.model: 'hbm' is not allowed (allowed dram, fixed, ideal)");
  EXPECT_EQ(error_of("memory: {dram: {tCL: 0}}"),
            "t.yaml: memory.dram.tCL: 0 is out of range (allowed 1..1000)");
  EXPECT_EQ(error_of("interconnect: {width_bytes: 2}"),
            "t.yaml: interconnect.width_bytes: 2 is out of range (allowed 4..1024)");
  EXPECT_EQ(error_of("memory: {size: 5}"),
            "t.yaml: memory.size: 5 is out of range (allowed 1048576..1099511627776)");
}

TEST(Config, MalformedYamlAndMissingFile) {
  EXPECT_NE(error_of("core: [rows: 4").find("t.yaml: not valid YAML"), std::string::npos);
  try {
    app::load_config("/nonexistent/x.yaml");
    FAIL();
  } catch (const app::ConfigError& e) {
    EXPECT_EQ(std::string(e.what()), "/nonexistent/x.yaml: configuration file does not exist");
  }
}

// The loader refuses one past each documented bound and accepts the bound.
TEST(Config, LoaderEnforcesTheContractRanges) {
  for (const spec::ParamInfo& p : spec::kCoreParams) {
    const std::string key = "core: {" + std::string(p.name) + ": ";
    if (p.type == spec::ParamType::kEnum) {
      for (const std::string_view v : p.values)
        if (!v.empty()) EXPECT_EQ(error_of(key + std::string(v) + "}"), "<no error>") << v;
      EXPECT_NE(error_of(key + "nonsense}").find("allowed " + std::string(p.allowed)),
                std::string::npos);
      continue;
    }
    if (p.choices[0] != 0) {
      for (unsigned v : p.choices)
        if (v != 0) EXPECT_EQ(error_of(key + std::to_string(v) + "}"), "<no error>") << p.name;
      EXPECT_NE(error_of(key + std::to_string(p.choices[0] + 1) + "}").find("is not allowed"),
                std::string::npos);
      continue;
    }
    // Upper bound (with the default rows of 16 for a relative lower bound).
    std::ostringstream hi, over;
    hi << key << p.max << "}";
    over << key << (p.type == spec::ParamType::kReal ? p.max * 1.5 : p.max * 2) << "}";
    EXPECT_EQ(error_of(hi.str()), "<no error>") << hi.str();
    EXPECT_NE(error_of(over.str()).find("core." + std::string(p.name) + ":"), std::string::npos)
        << over.str();
    if (p.type == spec::ParamType::kUint) {
      const unsigned lo = static_cast<unsigned>(p.min) + (p.min_param.empty() ? 0 : 16);
      const unsigned lo_ok = p.pow2 ? std::bit_ceil(lo) : lo;
      EXPECT_EQ(error_of(key + std::to_string(lo_ok) + "}"), "<no error>") << p.name;
      EXPECT_NE(error_of(key + std::to_string(lo - 1) + "}").find("is out of range"),
                std::string::npos)
          << p.name;
    }
  }
}

}  // namespace
