// IdealMemory and FixedLatencyMemory: the baselines users switch to instead of
// the DRAM model. Latency, bandwidth cap, backpressure, data through the
// BackingStore, counters; all timed traffic passes a ProtocolChecker.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <ostream>
#include <stdexcept>
#include <string>
#include <systemc>
#include <tlm>
#include <vector>

#include "sasim/mem/simple_memory.hpp"
#include "support/mem_bench.hpp"

namespace sasim::mem::test {
namespace {

using sc_core::sc_time;
using sc_core::SC_ZERO_TIME;

constexpr std::uint64_t kBase = 0x4000'0000;
constexpr std::uint64_t kSize = 64ULL << 20;

std::vector<std::uint8_t> pattern(std::size_t n, unsigned seed) {
  std::vector<std::uint8_t> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::uint8_t>(i * 31 + seed * 5 + 3);
  return v;
}

// initiator -> protocol checker -> memory "mem" on [kBase, kBase + kSize).
template <class Memory>
struct Bench : MemBench<Memory> {
  template <class... ConfigArg>
  explicit Bench(unsigned outstanding, const ConfigArg&... config)
      : MemBench<Memory>("mem", kBase, kSize, outstanding, config...) {}
  Memory& mem = this->dut;
};

// ---------------------------------------------------------------------------
// IdealMemory
// ---------------------------------------------------------------------------

TEST(IdealMemory, RespondsAtOnceWithoutABandwidthLimit) {
  Bench<IdealMemory> b(/*outstanding=*/16);
  const auto d = pattern(4096, 1);
  for (int i = 0; i < 64; ++i) b.init.write(kBase + 4096 * i, d);
  std::vector<std::size_t> reads;
  for (int i = 0; i < 64; ++i) reads.push_back(b.init.read(kBase + 4096 * i, 4096, ns(7)));
  b.run();
  for (std::size_t i = 0; i < b.init.size(); ++i) {
    const auto& r = b.init.record(i);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r.latency(), SC_ZERO_TIME) << i;
    EXPECT_EQ(r.end_req, r.begin_req) << i;
  }
  for (auto id : reads) EXPECT_EQ(b.init.record(id).data, d);
  EXPECT_EQ(sc_core::sc_time_stamp(), ns(7));  // 256 KiB moved in zero time
  EXPECT_EQ(b.stat("reads"), 64u);
  EXPECT_EQ(b.stat("writes"), 64u);
  EXPECT_EQ(b.stat("bytes_read"), 64u * 4096);
  EXPECT_EQ(b.stat("bytes_written"), 64u * 4096);
}

TEST(IdealMemory, HonoursResponseBackpressure) {
  Bench<IdealMemory> b(/*outstanding=*/4);
  b.init.set_response_mode(AtTestInitiator::ResponseMode::kExplicitEndResp);
  b.init.set_end_resp_delay(ns(2));
  for (int i = 0; i < 4; ++i) b.init.read(kBase + 64 * i, 64);
  b.run();
  // One response at a time: each BEGIN_RESP waits for the previous END_RESP.
  for (int i = 0; i < 4; ++i) EXPECT_EQ(b.init.record(i).begin_resp, ns(2 * i)) << i;
}

// ---------------------------------------------------------------------------
// FixedLatencyMemory
// ---------------------------------------------------------------------------

TEST(FixedLatencyMemory, DefaultsAndUnloadedLatency) {
  const FixedLatencyConfig cfg;
  EXPECT_EQ(cfg.latency_ns, 50);
  EXPECT_EQ(cfg.bandwidth_gbps, 25.6);
  Bench<FixedLatencyMemory> b(/*outstanding=*/1, cfg);
  EXPECT_EQ(b.mem.transfer_ps(64), 2500u);  // 64 B at 25.6 GB/s
  const auto r64 = b.init.read(kBase, 64, ns(10));
  const auto r4k = b.init.read(kBase + 4096, 4096, ns(200));
  const auto w = b.init.write(kBase, pattern(8, 1), ns(400));
  b.run();
  EXPECT_EQ(b.init.record(r64).begin_req, ns(10));
  EXPECT_EQ(b.init.record(r64).end_req, ns(10));
  EXPECT_EQ(b.init.record(r64).latency(), ns(50));
  EXPECT_EQ(b.init.record(r4k).latency(), ns(160));  // 4 KiB take 160 ns > 50 ns
  EXPECT_EQ(b.init.record(w).latency(), ns(50));
}

struct Pipe {
  double latency_ns, gbps;
  unsigned request_bytes;
};

std::string pipe_name(const Pipe& p) {
  return std::to_string(static_cast<int>(p.latency_ns)) + "ns_" +
         std::to_string(static_cast<int>(p.gbps * 10)) + "dGBps_" +
         std::to_string(p.request_bytes) + "B";
}

void PrintTo(const Pipe& p, std::ostream* os) { *os << pipe_name(p); }

class FixedLatencyStream : public ::testing::TestWithParam<Pipe> {};

TEST_P(FixedLatencyStream, BandwidthIsCappedAndReached) {
  const Pipe p = GetParam();
  FixedLatencyConfig cfg;
  cfg.latency_ns = p.latency_ns;
  cfg.bandwidth_gbps = p.gbps;
  Bench<FixedLatencyMemory> b(/*outstanding=*/256, cfg);
  const unsigned n = 4096;
  for (unsigned i = 0; i < n; ++i)
    b.init.read(kBase + std::uint64_t{p.request_bytes} * i, p.request_bytes);
  b.run();
  const double transfer_ps = p.request_bytes * 1000.0 / p.gbps;
  // Transfers back to back from time 0; each response max(latency, transfer)
  // after its start.
  for (unsigned i = 0; i < n; ++i) {
    ASSERT_EQ(b.init.record(i).begin_resp,
              ps(std::llround(i * transfer_ps) +
                 std::llround(std::max(p.latency_ns * 1000, transfer_ps))))
        << i;
  }
  const double total = static_cast<double>(n) * p.request_bytes;
  const double seconds =
      (b.init.record(n - 1).begin_resp - b.init.record(0).begin_req).to_seconds();
  const double gbps = total / seconds / 1e9;
  std::printf("[ bandwidth ] fixed latency %.1f ns, cap %.1f GB/s, %u B requests: %.3f GB/s\n",
              p.latency_ns, p.gbps, p.request_bytes, gbps);
  EXPECT_LE(gbps, p.gbps * (1 + 1e-9));
  EXPECT_GE(gbps, 0.95 * p.gbps);
  EXPECT_EQ(b.stat("reads"), n);
  EXPECT_EQ(b.stat("bytes_read"), total);
}

INSTANTIATE_TEST_SUITE_P(FixedLatencyMemory, FixedLatencyStream,
                         ::testing::Values(Pipe{50, 25.6, 64}, Pipe{20, 10, 1024},
                                           Pipe{100, 51.2, 256}),
                         [](const auto& info) { return pipe_name(info.param); });

TEST(FixedLatencyMemory, FullQueueWithholdsEndReq) {
  FixedLatencyConfig cfg;
  cfg.queue_depth = 2;
  Bench<FixedLatencyMemory> b(/*outstanding=*/64, cfg);
  for (int i = 0; i < 8; ++i) b.init.read(kBase + 64 * i, 64);
  b.run();
  // Starts at 0, 2.5, 5, ... ns; at most two accepted requests wait for their
  // start, so request 3 is accepted when request 1 starts (2.5 ns), request 4
  // when request 2 starts, ...
  for (int i = 0; i < 8; ++i) {
    const auto& r = b.init.record(i);
    EXPECT_EQ(r.end_req, i < 3 ? SC_ZERO_TIME : ps(2500 * (i - 2))) << i;
    EXPECT_EQ(r.begin_resp, ps(2500 * i + 50'000)) << i;
  }
}

TEST(FixedLatencyMemory, HonoursResponseBackpressure) {
  Bench<FixedLatencyMemory> b(/*outstanding=*/8, FixedLatencyConfig{});
  b.init.set_response_mode(AtTestInitiator::ResponseMode::kExplicitEndResp);
  b.init.set_end_resp_delay(ns(10));
  for (int i = 0; i < 4; ++i) b.init.read(kBase + 64 * i, 64);
  b.run();
  for (int i = 0; i < 4; ++i) EXPECT_EQ(b.init.record(i).begin_resp, ns(50 + 10 * i)) << i;
}

TEST(FixedLatencyMemory, InvalidConfigurationsThrow) {
  FixedLatencyConfig c;
  c.bandwidth_gbps = 0;
  EXPECT_THROW(c.validate(), std::invalid_argument);
  c = {};
  c.latency_ns = -1;
  EXPECT_THROW(c.validate(), std::invalid_argument);
  c = {};
  c.queue_depth = 0;
  try {
    c.validate();
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("queue_depth"), std::string::npos);
  }
}

// ---------------------------------------------------------------------------
// Both: data, byte enables, errors, b_transport, transport_dbg.
// ---------------------------------------------------------------------------

template <class Memory>
void data_roundtrip(Bench<Memory>& b) {
  const auto d1 = pattern(300, 1);
  b.init.write(kBase + 0x1003, d1);
  b.init.write(kBase + 0x2000, std::vector<std::uint8_t>(16, 0x11));
  b.init.write(kBase + 0x2000, std::vector<std::uint8_t>(16, 0x22), SC_ZERO_TIME,
               {0xFF, 0x00, 0x00, 0xFF});
  const auto r1 = b.init.read(kBase + 0x1000, 306);
  const auto r2 = b.init.read(kBase + 0x2000, 16);
  const auto bad = b.init.read(kBase + kSize - 8, 16);
  b.run();
  std::vector<std::uint8_t> want(306, 0);
  std::copy(d1.begin(), d1.end(), want.begin() + 3);
  EXPECT_EQ(b.init.record(r1).data, want);
  for (unsigned i = 0; i < 16; ++i)
    EXPECT_EQ(b.init.record(r2).data[i], (i % 4 == 0 || i % 4 == 3) ? 0x22 : 0x11) << i;
  EXPECT_EQ(b.init.record(bad).status, tlm::TLM_ADDRESS_ERROR_RESPONSE);
  EXPECT_EQ(b.stat("reads"), 2u);
  EXPECT_EQ(b.stat("writes"), 3u);
  EXPECT_EQ(b.stat("bytes_written"), 300u + 32);

  // Backdoor.
  std::vector<std::uint8_t> buf(300);
  tlm::tlm_generic_payload gp;
  set_request(gp, tlm::TLM_READ_COMMAND, kBase + 0x1003, buf.data(), 300);
  EXPECT_EQ(b.init.socket->transport_dbg(gp), 300u);
  EXPECT_EQ(buf, d1);
  const auto d2 = pattern(300, 2);
  buf = d2;
  gp.set_command(tlm::TLM_WRITE_COMMAND);
  gp.set_address(kBase + 0x3000);
  EXPECT_EQ(b.init.socket->transport_dbg(gp), 300u);
  const auto r3 = b.init.read(kBase + 0x3000, 300);
  b.run();
  EXPECT_EQ(b.init.record(r3).data, d2);
}

TEST(IdealMemory, DataByteEnablesErrorsAndBackdoor) {
  Bench<IdealMemory> b(4);
  data_roundtrip(b);
}

TEST(FixedLatencyMemory, DataByteEnablesErrorsAndBackdoor) {
  Bench<FixedLatencyMemory> b(4, FixedLatencyConfig{});
  data_roundtrip(b);
}

template <class Memory, class... ConfigArg>
void b_transport_roundtrip(sc_time expected_delay, const ConfigArg&... config) {
  LtBench<Memory> b("mem", kBase, kSize, config...);
  auto data = pattern(100, 9);
  tlm::tlm_generic_payload gp;
  set_request(gp, tlm::TLM_WRITE_COMMAND, kBase + 0x10, data.data(), 100);
  sc_time delay = SC_ZERO_TIME;
  b.lt.socket->b_transport(gp, delay);
  EXPECT_TRUE(gp.is_response_ok());
  EXPECT_EQ(delay, expected_delay);
  std::vector<std::uint8_t> back(100);
  gp.set_command(tlm::TLM_READ_COMMAND);
  gp.set_data_ptr(back.data());
  gp.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
  b.lt.socket->b_transport(gp, delay);
  EXPECT_EQ(back, data);
  gp.set_address(kBase + kSize);
  b.lt.socket->b_transport(gp, delay);
  EXPECT_EQ(gp.get_response_status(), tlm::TLM_ADDRESS_ERROR_RESPONSE);
  EXPECT_EQ(b.stats.value("mem.reads"), 1u);
  EXPECT_EQ(b.stats.value("mem.writes"), 1u);
}

TEST(IdealMemory, BTransportHasNoDelay) { b_transport_roundtrip<IdealMemory>(SC_ZERO_TIME); }

TEST(FixedLatencyMemory, BTransportAddsTheLatency) {
  FixedLatencyConfig cfg;
  cfg.latency_ns = 35;
  b_transport_roundtrip<FixedLatencyMemory>(ns(35), cfg);
}

}  // namespace
}  // namespace sasim::mem::test
