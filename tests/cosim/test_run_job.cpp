// The device job (`sasim run`) from YAML: bit-exact result, and the reported
// cycles and cache / DRAM statistics respond to the memory-system settings
// (replacement and write policy, DRAM timing, page policy, L2 bypass, memory
// model), as the README promises.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <map>
#include <memory>
#include <span>
#include <sstream>
#include <string>
#include <vector>

#include "sasim/app/config.hpp"
#include "sasim/app/device.hpp"
#include "sasim/app/quantize_job.hpp"
#include "sasim/app/run_job.hpp"
#include "sasim/app/train_job.hpp"
#include "sasim/cosim/variant_cache.hpp"
#include "sasim/host/driver.hpp"
#include "sasim/host/mlp_trainer.hpp"
#include "support/sc_test.hpp"

namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

using namespace sasim;  // spec, isa, model, mem, cosim, host, app

// A GEMM that does not fit the 64 KiB L2 below, so policies matter.
const char* kBase = R"(
core: {rows: 16, cols: 16, datapath: int8, dataflow: ws, spad_rows: 8192, acc_rows: 1024}
gemm: {m: 192, k: 160, n: 176, seed: 3}
l2: {size_bytes: 65536, line_bytes: 64, ways: 4}
)";

app::RunJobResult run(const std::string& extra) {
  sasim::mem::test::fresh_systemc();
  const app::Config cfg = app::parse_config(std::string(kBase) + extra, "t.yaml");
  return app::run_job(cfg);
}

std::uint64_t get(const app::RunJobResult& r, const std::string& name) {
  return r.run.counters.at(name);
}

TEST(DeviceJob, MemorySettingsChangeCyclesAndStatistics) {
  const app::RunJobResult base = run("");
  ASSERT_TRUE(base.match);
  EXPECT_GT(get(base, "device.mem.l2.misses"), 0u);
  EXPECT_GT(get(base, "device.mem.dram.row_hits"), 0u);
  EXPECT_GT(base.stats.at("derived").at("pe_utilization").get<double>(), 0.1);

  const std::map<std::string, std::string> variants = {
      {"write-through", "l2: {write_policy: wt_nwa}\n"},
      {"fifo", "l2: {replacement: fifo}\n"},
      {"slow DRAM", "memory: {dram: {tCL: 40, tRCD: 40, tRP: 40, tRAS: 90}}\n"},
      {"closed page", "memory: {dram: {page_policy: closed}}\n"},
      {"bypass", "l2: {bypass: true}\n"},
      {"ideal", "memory: {model: ideal}\n"},
  };
  for (const auto& [what, yaml] : variants) {
    // YAML maps merge only per document: rebuild the l2 / memory section.
    std::string doc = std::string(kBase);
    if (yaml.rfind("l2:", 0) == 0) {
      doc.replace(doc.find("l2: {") + 5, 0, yaml.substr(5, yaml.size() - 7) + ", ");
    } else {
      doc += yaml;
    }
    sasim::mem::test::fresh_systemc();
    const app::RunJobResult r = app::run_job(app::parse_config(doc, "t.yaml"));
    EXPECT_TRUE(r.match) << what;
    EXPECT_NE(r.run.cycles, base.run.cycles) << what;
    const bool stats_differ =
        get(r, "device.mem.l2.hits") != get(base, "device.mem.l2.hits") ||
        get(r, "device.mem.l2.writebacks") != get(base, "device.mem.l2.writebacks") ||
        get(r, "device.mem.dram.row_hits") != get(base, "device.mem.dram.row_hits") ||
        get(r, "device.mem.dram.bytes_written") != get(base, "device.mem.dram.bytes_written");
    EXPECT_TRUE(stats_differ) << what;
  }
}

// Energy on a real run: every component that has events is there, a
// coefficient in the YAML moves exactly its figures, and nothing else (cycles,
// counters, the result) changes.
TEST(DeviceJob, EnergyCoefficientsChangeOnlyTheirFigures) {
  const app::RunJobResult base = run("");
  ASSERT_TRUE(base.match);
  const nlohmann::json& e = base.stats.at("energy");
  for (const char* k : {"mac", "scratchpad", "accumulator", "l2", "dram"})
    EXPECT_GT(e.at("components").at(k).get<double>(), 0.0) << k;
  EXPECT_DOUBLE_EQ(e.at("components").at("mac").get<double>(), 192.0 * 160 * 176 * 0.23);
  const app::RunJobResult r = run("energy: {dram_pj_per_byte: 325, mac_int8_pj: 0.46}\n");
  ASSERT_TRUE(r.match);
  EXPECT_EQ(r.run.cycles, base.run.cycles);
  EXPECT_EQ(r.stats.at("counters"), base.stats.at("counters"));
  const nlohmann::json& f = r.stats.at("energy");
  for (const auto& [k, v] : e.at("components").items()) {
    const double factor = (k == "dram" || k == "mac") ? 2.0 : 1.0;
    EXPECT_DOUBLE_EQ(f.at("components").at(k).get<double>(), factor * v.get<double>()) << k;
  }
}

// A core that is not linked in is built into the variant cache (the build
// itself: tests/sweep/test_variants.py); when that cannot happen the run
// stops with an error that says why, before it simulates anything.
TEST(DeviceJob, UnbuildableCoreIsAClearError) {
  sasim::mem::test::fresh_systemc();
  const char* old = std::getenv("SASIM_VARIANT_CACHE");
  const std::string saved = old ? old : "";
  ::setenv("SASIM_VARIANT_CACHE", "/proc/sasim-no-cache", 1);
  const app::Config cfg = app::parse_config("core: {rows: 6, cols: 6}", "t.yaml");
  EXPECT_THAT([&] { app::run_job(cfg); },
              ThrowsMessage<cosim::VariantBuildError>(
                  HasSubstr("cannot create the variant cache /proc/sasim-no-cache")));
  if (old)
    ::setenv("SASIM_VARIANT_CACHE", saved.c_str(), 1);
  else
    ::unsetenv("SASIM_VARIANT_CACHE");
}

// One function builds both kinds of device from a config; the same GEMM
// program runs on both with the same result, counter names and instruction
// counts.
TEST(DeviceJob, MakeDeviceBuildsBothKindsFromOneConfig) {
  const app::Config cfg = app::parse_config(
      "core: {rows: 4, cols: 4, datapath: bf16, spad_rows: 512, acc_rows: 256}\n"
      "memory: {size: 0x4000000}\n",
      "t.yaml");
  std::vector<std::uint8_t> out[2];
  spec::RunResult res[2];
  for (const app::DeviceKind kind : {app::DeviceKind::kFunctional, app::DeviceKind::kCosim}) {
    sasim::mem::test::fresh_systemc();
    const std::unique_ptr<spec::DeviceBackend> dev = app::make_device(cfg, kind);
    ASSERT_TRUE(spec::same_core(dev->params(), cfg.core));
    host::Driver drv(*dev);
    const host::Tensor a = drv.alloc_tensor(9, 11, 2), b = drv.alloc_tensor(11, 5, 2),
                       c = drv.alloc_tensor(9, 5, 4);
    std::vector<std::uint16_t> va(99), vb(55);
    for (std::size_t i = 0; i < va.size(); ++i) va[i] = static_cast<std::uint16_t>(0x3f80 + i);
    for (std::size_t i = 0; i < vb.size(); ++i) vb[i] = static_cast<std::uint16_t>(0xbf00 + 3 * i);
    drv.copy_in(a, std::span<const std::uint16_t>(va));
    drv.copy_in(b, std::span<const std::uint16_t>(vb));
    const std::size_t k = kind == app::DeviceKind::kCosim;
    res[k] = drv.gemm(model::Dataflow::kWs, a, b, c);
    std::vector<std::uint32_t> vc(45);
    drv.copy_out(c, std::span<std::uint32_t>(vc));
    out[k].assign(reinterpret_cast<const std::uint8_t*>(vc.data()),
                  reinterpret_cast<const std::uint8_t*>(vc.data() + vc.size()));
  }
  EXPECT_EQ(out[0], out[1]);
  EXPECT_EQ(res[0].instructions(), res[1].instructions());
  for (const auto& [name, v] : res[0].counters) EXPECT_EQ(res[1].counters.at(name), v) << name;
  EXPECT_EQ(res[0].cycles, 0u);
  EXPECT_GT(res[1].cycles, 0u);
  // The functional device refuses a memory it would have to hold in host RAM.
  const app::Config big = app::parse_config("memory: {size: 0x100000000}\n", "b.yaml");
  EXPECT_THAT([&] { app::make_device(big, app::DeviceKind::kFunctional); },
              ThrowsMessage<app::ConfigError>(
                  HasSubstr("b.yaml: memory.size: 4294967296 bytes is too large")));
}

// core.count > 1: the rows split gives the one-core result bit for bit in
// fewer cycles; the K split reduces on the device and matches its own golden
// sum; the summary and the statistics carry every core and the contention.
TEST(DeviceJob, SeveralCoresSplitTheGemm) {
  const auto with = [](const std::vector<std::string>& set) {
    sasim::mem::test::fresh_systemc();
    std::vector<std::string> all{"l2.size_bytes=1048576"};  // A and B stay in the L2
    all.insert(all.end(), set.begin(), set.end());
    return app::run_job(app::parse_config(kBase, "t.yaml", all));
  };
  const app::RunJobResult one = with({});
  const app::RunJobResult rows = with({"core.count=2"});
  const app::RunJobResult k = with({"core.count=2", "gemm.split=k"});
  ASSERT_TRUE(one.match);
  ASSERT_TRUE(rows.match);
  ASSERT_TRUE(k.match);
  // Two cores on a compute-bound GEMM: well under the one core's cycles.
  EXPECT_LT(double(rows.run.cycles), 0.7 * double(one.run.cycles));
  // The same MACs: the array steps of the cores add up to the one core's.
  EXPECT_EQ(get(rows, "core.array_steps"), get(one, "core.array_steps"));
  ASSERT_EQ(rows.launch.cores.size(), 2u);
  ASSERT_EQ(k.stats.at("cores").size(), 2u);
  EXPECT_EQ(k.stats.at("core").at("count").get<unsigned>(), 2u);
  EXPECT_EQ(k.stats.at("split").get<std::string>(), "k");
  for (const spec::RunResult& c : k.launch.cores) {
    EXPECT_EQ(c.counters.at("device.bridge.barriers"), 1u);
    EXPECT_GT(c.counters.at("core.sync_wait"), 0u);
  }
  // The K split writes and reads back its partials: more DRAM-side traffic.
  EXPECT_GT(get(k, "device.bridge.write_bytes"), 2 * get(rows, "device.bridge.write_bytes"));
  sasim::mem::test::fresh_systemc();
  const app::Config cfg =
      app::parse_config(kBase, "t.yaml", {"l2.size_bytes=1048576", "core.count=2", "gemm.split=k"});
  const std::string s = app::run_summary(cfg, k);
  EXPECT_THAT(s, HasSubstr("2 cores int8 16x16"));
  EXPECT_THAT(s, HasSubstr("K split, reduced on the device"));
  EXPECT_THAT(s, HasSubstr("\n  core 0 "));
  EXPECT_THAT(s, HasSubstr("\n  core 1 "));
  EXPECT_THAT(s, HasSubstr("interconnect     "));
  EXPECT_THAT(s, HasSubstr("power            not sampled"));
  EXPECT_THAT(s, HasSubstr("golden model     match (bit-exact)"));
}

TEST(DeviceJob, CoreCountIsChecked) {
  EXPECT_THAT([] { app::parse_config(kBase, "c.yaml", {"core.count=17"}); },
              ThrowsMessage<app::ConfigError>(HasSubstr("c.yaml: core.count: 17")));
  EXPECT_THAT([] { app::parse_config(kBase, "c.yaml", {"core.count=0"}); },
              ThrowsMessage<app::ConfigError>(HasSubstr("c.yaml: core.count: 0")));
  EXPECT_THAT([] { app::parse_config(kBase, "c.yaml", {"gemm.split=n"}); },
              ThrowsMessage<app::ConfigError>(HasSubstr("gemm.split")));
  EXPECT_THAT(
      [] {
        app::parse_config(kBase, "c.yaml", {"core.count=2", "run.trace_file=/tmp/t.json"});
      },
      ThrowsMessage<app::ConfigError>(HasSubstr("c.yaml: core.count: 2 cores: the trace")));
  EXPECT_THAT(
      [] {
        app::parse_config(kBase, "c.yaml",
                          {"core.count=2", "power.cap_watts=1", "power.dvfs_mhz=[1000, 500]",
                           "power.dvfs_volts=[0.9, 0.6]"});
      },
      ThrowsMessage<app::ConfigError>(HasSubstr("power governor")));
  // The effective config carries the count.
  const app::Config cfg = app::parse_config(kBase, "c.yaml", {"core.count=3"});
  EXPECT_EQ(cfg.cores, 3u);
  EXPECT_THAT(app::to_yaml(cfg), HasSubstr("count: 3"));
  // Data-parallel training splits the batch evenly; quantized inference runs
  // on one core so far: clear errors.
  std::ostringstream progress;
  EXPECT_THAT(
      [&] {
        app::train_job(app::parse_config("core: {datapath: bf16, count: 3}\n", "t3.yaml"),
                       progress);
      },
      ThrowsMessage<app::ConfigError>(
          AllOf(HasSubstr("t3.yaml: train.parallel: data parallel on 3 cores splits the batch "
                          "evenly: 32 rows do not"),
                HasSubstr("train.batch"))));
  EXPECT_THAT([] { app::parse_config("train: {grad_reduce: ring}\n", "t3.yaml"); },
              ThrowsMessage<app::ConfigError>(HasSubstr("train.grad_reduce")));
  const app::Config two = app::parse_config(
      "core: {datapath: bf16, count: 2}\ntrain: {grad_reduce: partials}\n", "t2.yaml");
  EXPECT_EQ(two.train.grad_reduce, host::GradReduce::kPartials);
  // Tensor parallel pairs the layers and splits the hidden ones.
  EXPECT_EQ(app::parse_config("train: {parallel: tensor}\n", "t.yaml").train.parallel,
            host::Parallelism::kTensor);
  EXPECT_THAT([] { app::parse_config("train: {parallel: model}\n", "t.yaml"); },
              ThrowsMessage<app::ConfigError>(HasSubstr("train.parallel")));
  EXPECT_THAT(
      [&] {
        app::train_job(app::parse_config("core: {datapath: bf16, count: 2}\ntrain: {parallel: "
                                         "tensor, layers: [784, 64, 32, 10]}\n",
                                         "t4.yaml"),
                       progress);
      },
      ThrowsMessage<app::ConfigError>(
          HasSubstr("t4.yaml: train.parallel: tensor parallel pairs the layers")));
  EXPECT_THAT(
      [&] {
        app::train_job(app::parse_config("core: {datapath: bf16, count: 4}\ntrain: {parallel: "
                                         "tensor, layers: [784, 2, 10]}\n",
                                         "t5.yaml"),
                       progress);
      },
      ThrowsMessage<app::ConfigError>(HasSubstr("splits hidden layer 1 of 2 units")));
  // Tensor parallel does not split the batch: 3 cores with a batch of 32.
  EXPECT_THAT(host::parallel_problem(app::mlp_config(app::parse_config(
                                         "core: {datapath: bf16, count: 3}\n", "t6.yaml")),
                                     3, host::Parallelism::kTensor),
              "");
  EXPECT_THAT([&] { app::quantize_job(two, progress); },
              ThrowsMessage<app::ConfigError>(HasSubstr("t2.yaml: core.count: 2 cores")));
}

}  // namespace
