// The assembled hierarchy (interconnect -> L2 -> memory) built from the
// component configs: data is right end to end, counters are registered under
// the component names, and changing a cache or DRAM parameter changes the
// measured timing and statistics.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "sasim/mem/memory_system.hpp"
#include "support/mem_bench.hpp"

namespace sasim::mem::test {
namespace {

constexpr std::uint64_t kBase = 0x8000'0000;

struct SystemBench : FreshContext {
  explicit SystemBench(const MemorySystemConfig& cfg, unsigned outstanding = 4)
      : init("init", outstanding), checker("checker"), sys("sys", cfg, stats) {
    init.socket.bind(checker.in);
    checker.out.bind(sys.in());
  }
  void run() {
    ASSERT_TRUE(run_until_done(init));
    expect_clean(checker);
  }
  std::uint64_t stat(const std::string& n) const { return stats.value("sys." + n); }

  sasim::mem::StatsRegistry stats;
  AtTestInitiator init;
  ProtocolChecker checker;
  MemorySystem sys;
};

MemorySystemConfig small_config(const std::string& model) {
  MemorySystemConfig c;
  c.l2.size_bytes = 16 * 1024;
  c.memory.model = model;
  c.memory.size = 1 << 24;
  return c;
}

TEST(MemorySystem, DataIsRightThroughEveryMemoryModel) {
  for (const std::string model : {"dram", "fixed", "ideal"}) {
    SystemBench b(small_config(model));
    std::vector<std::uint8_t> data(64);
    for (unsigned i = 0; i < data.size(); ++i) data[i] = static_cast<std::uint8_t>(i * 5 + 3);
    b.init.write(kBase + 0x1000, data);
    const auto r = b.init.read(kBase + 0x1000, 64, ns(1000));
    const auto r2 = b.init.read(kBase + 0x1010, 8, ns(2000));
    b.run();
    EXPECT_EQ(b.init.record(r).data, data) << model;
    EXPECT_EQ(b.init.record(r2).data,
              std::vector<std::uint8_t>(data.begin() + 16, data.begin() + 24))
        << model;
    std::vector<std::uint8_t> back(64);
    b.sys.store().read(kBase + 0x1000, back.data(), back.size());
    EXPECT_EQ(back, data) << model;
    EXPECT_EQ(b.stat("noc.requests"), 3u) << model;
    EXPECT_EQ(b.stat("l2.writes"), 1u) << model;
    EXPECT_EQ(b.stat("l2.reads"), 2u) << model;
    EXPECT_EQ(b.stat(model + ".reads"), 1u) << model << ": one line fill";
  }
}

TEST(MemorySystem, SecondReadOfALineHitsUnlessBypassed) {
  for (const bool bypass : {false, true}) {
    MemorySystemConfig c = small_config("dram");
    c.l2.bypass = bypass;
    SystemBench b(c);
    const auto miss = b.init.read(kBase, 64);
    const auto hit = b.init.read(kBase, 64, ns(1000));
    b.run();
    EXPECT_EQ(b.stat("dram.reads"), bypass ? 2u : 1u);
    if (!bypass) {
      EXPECT_EQ(b.stat("l2.hits"), 1u);
      EXPECT_EQ(b.stat("l2.misses"), 1u);
      EXPECT_LT(b.init.record(hit).latency(), b.init.record(miss).latency());
    } else {
      EXPECT_EQ(b.stat("l2.bypassed"), 2u);
    }
  }
}

// A longer CAS latency adds exactly its cycles to a line fill that misses.
TEST(MemorySystem, DramTimingShowsInMissLatency) {
  sc_core::sc_time latency[2];
  const unsigned tcl[2] = {22, 40};
  for (int i = 0; i < 2; ++i) {
    MemorySystemConfig c = small_config("dram");
    c.memory.dram.tCL = tcl[i];
    SystemBench b(c);
    const auto r = b.init.read(kBase + 0x4000, 64);
    b.run();
    latency[i] = b.init.record(r).latency();
  }
  const double tck_ps = 1e6 / MemorySystemConfig{}.memory.dram.clock_mhz;
  EXPECT_EQ(latency[1] - latency[0], ps((tcl[1] - tcl[0]) * tck_ps));
}

// The replacement policy changes which lines survive: with 2 ways and the
// trace A B A C A, LRU keeps A (hit on the last access), FIFO evicted it.
TEST(MemorySystem, ReplacementPolicyChangesHits) {
  std::uint64_t hits[2];
  const char* policy[2] = {"lru", "fifo"};
  for (int i = 0; i < 2; ++i) {
    MemorySystemConfig c = small_config("ideal");
    c.l2.ways = 2;
    c.l2.replacement = policy[i];
    SystemBench b(c, 1);
    const std::uint64_t set_stride = c.l2.size_bytes / c.l2.ways;  // same set
    const std::uint64_t lines[] = {0, set_stride, 0, 2 * set_stride, 0};
    double t = 0;
    for (std::uint64_t a : lines) b.init.read(kBase + a, 8, ns(t += 100));
    b.run();
    hits[i] = b.stat("l2.hits");
  }
  EXPECT_EQ(hits[0], 2u);  // LRU: A hit twice
  EXPECT_EQ(hits[1], 1u);  // FIFO: A evicted by C (oldest fill), last A misses
}

TEST(MemorySystem, BoundsNameTheNarrowestStage) {
  SystemBench b(small_config("dram"));
  // Interconnect 64 B x 1000 MHz = 64 GB/s; DDR4-3200 x64 = 25.6 GB/s.
  EXPECT_DOUBLE_EQ(b.sys.peak_bytes_per_s(), 25.6e9);
  EXPECT_NE(b.sys.describe_bounds().find("DRAM 25.6 GB/s"), std::string::npos)
      << b.sys.describe_bounds();
  MemorySystemConfig c = small_config("ideal");
  c.interconnect.width_bytes = 16;
  SystemBench i(c);
  EXPECT_DOUBLE_EQ(i.sys.peak_bytes_per_s(), 16e9);
}

TEST(MemorySystem, UnknownMemoryModelIsRejected) {
  FreshContext fresh;
  sasim::mem::StatsRegistry stats;
  MemorySystemConfig c = small_config("hbm");
  EXPECT_THROW(MemorySystem("sys", c, stats), std::invalid_argument);
}

}  // namespace
}  // namespace sasim::mem::test
