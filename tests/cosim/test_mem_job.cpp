// `sasim mem`: the configured memory system under synthetic traffic. YAML
// changes to the cache or the DRAM change the reported figures.
#include <gtest/gtest.h>

#include <string>

#include "sasim/app/config.hpp"
#include "sasim/app/mem_job.hpp"
#include "support/sc_test.hpp"

namespace {

namespace app = sasim::app;

app::MemJobResult run(const std::string& yaml) {
  sasim::mem::test::fresh_systemc();
  return app::mem_job(app::parse_config(yaml, "t.yaml"));
}

std::uint64_t counter(const app::MemJobResult& r, const std::string& name) {
  return r.stats.at("counters").at(name).get<std::uint64_t>();
}

// Random 64 B requests over 64 KiB through a 32 KiB, 4-way L2; `l2` and
// `rest` add keys to the l2 section and further sections.
std::string random_traffic(const std::string& l2 = "", const std::string& rest = "",
                           const std::string& traffic = "") {
  return "traffic: {pattern: random, requests: 3000, request_bytes: 64, outstanding: 8,"
         " footprint_bytes: 65536, seed: 3" +
         traffic + "}\nl2: {size_bytes: 32768, ways: 4" + l2 + "}\n" + rest;
}

TEST(Traffic, StreamingReadsApproachTheDramPeak) {
  const app::MemJobResult r =
      run("traffic: {requests: 20000, outstanding: 64, footprint_bytes: 4194304}\n"
          "l2: {mshrs: 64}\n");
  EXPECT_DOUBLE_EQ(r.peak_gbps, 25.6);
  EXPECT_GT(r.bandwidth_gbps, 0.9 * r.peak_gbps) << r.bandwidth_gbps;
  EXPECT_LE(r.bandwidth_gbps, r.peak_gbps * 1.0001);
  EXPECT_EQ(counter(r, "sys.dram.bytes_read"), 20000u * 64u);
}

TEST(Traffic, ReplacementPolicyChangesHitsAndTime) {
  const auto lru = run(random_traffic());
  const auto fifo = run(random_traffic(", replacement: fifo"));
  EXPECT_NE(counter(lru, "sys.l2.hits"), counter(fifo, "sys.l2.hits"));
  EXPECT_EQ(counter(lru, "sys.l2.hits") + counter(lru, "sys.l2.misses"), 3000u);
}

TEST(Traffic, DramTimingChangesLatency) {
  const auto fast = run(random_traffic());
  const auto slow = run(random_traffic("", "memory: {dram: {tCL: 40, tRCD: 40}}\n"));
  EXPECT_GT(slow.mean_latency_ns, fast.mean_latency_ns);
  EXPECT_EQ(counter(slow, "sys.l2.misses"), counter(fast, "sys.l2.misses"));
}

TEST(Traffic, IdealMemoryIsolatesTheHierarchy) {
  const auto dram = run(random_traffic());
  const auto ideal = run(random_traffic("", "memory: {model: ideal}\n"));
  EXPECT_LT(ideal.mean_latency_ns, dram.mean_latency_ns);
  EXPECT_EQ(ideal.stats.at("counters").count("sys.dram.reads"), 0u);
  EXPECT_GT(counter(ideal, "sys.ideal.reads"), 0u);
}

TEST(Traffic, WriteBackPolicyProducesWriteBacks) {
  const auto wb = run(random_traffic("", "", ", write_fraction: 0.5"));
  EXPECT_GT(counter(wb, "sys.l2.writebacks"), 0u);
  const auto wt = run(random_traffic(", write_policy: wt_nwa", "", ", write_fraction: 0.5"));
  EXPECT_EQ(counter(wt, "sys.l2.writebacks"), 0u);
  EXPECT_GT(counter(wt, "sys.dram.writes"), 0u);
}

TEST(Traffic, BadTrafficSectionsAreRejected) {
  auto error_of = [](const std::string& yaml) -> std::string {
    try {
      app::parse_config(yaml, "t.yaml");
    } catch (const app::ConfigError& e) {
      return e.what();
    }
    return "<no error>";
  };
  EXPECT_EQ(error_of("l2: {ways: 4}\nl2: {ways: 8}\n"), "t.yaml: l2: duplicate key");
  EXPECT_EQ(error_of("traffic: {pattern: zigzag}"),
            "t.yaml: traffic.pattern: 'zigzag' is not allowed (allowed stream, random)");
  EXPECT_EQ(error_of("traffic: {request_bytes: 48}"),
            "t.yaml: traffic.request_bytes: 48 is not a power of two");
  EXPECT_EQ(error_of("traffic: {request_bytes: 128}"),
            "t.yaml: traffic.request_bytes: 128 is larger than l2.line_bytes (64): the L2 does "
            "not split requests across lines");
  EXPECT_EQ(error_of("traffic: {write_fraction: 1.5}"),
            "t.yaml: traffic.write_fraction: 1.500000 is out of range (allowed 0..1)");
}

}  // namespace
