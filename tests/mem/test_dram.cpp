// Dram: unloaded latencies equal the documented formulas, page policies and
// schedulers behave as documented, streaming reaches the theoretical peak,
// data goes through the BackingStore, counters match the access pattern. Every
// test runs the traffic through a ProtocolChecker and expects no violation.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <memory>
#include <ostream>
#include <random>
#include <stdexcept>
#include <string>
#include <systemc>
#include <tlm>
#include <utility>
#include <vector>

#include "sasim/mem/dram.hpp"
#include "support/mem_bench.hpp"

namespace sasim::mem::test {
namespace {

using sc_core::sc_time;

constexpr std::uint64_t kBase = 0x8000'0000;
constexpr std::uint64_t kSize = 1ULL << 30;

// initiator -> protocol checker -> dram on [kBase, kBase + kSize).
struct Bench : MemBench<Dram> {
  explicit Bench(const DramConfig& cfg, unsigned outstanding = 1)
      : MemBench("dram", kBase, kSize, outstanding, cfg) {}
  Dram& dram = dut;
};

// Default DDR4-3200 x64: one channel, 16 banks of 8 KiB rows, so a row of bank
// b holds [b * 8 KiB, (b + 1) * 8 KiB) + k * 128 KiB for row k.
constexpr std::uint64_t kRowStride = 128 * 1024;

TEST(Dram, DefaultsAreDdr4_3200AndThePeakFormula) {
  const DramConfig cfg;
  EXPECT_EQ(cfg.tCL, 22u);
  EXPECT_EQ(cfg.tRCD, 22u);
  EXPECT_EQ(cfg.tRP, 22u);
  EXPECT_EQ(cfg.tRAS, 52u);
  EXPECT_EQ(cfg.burst_length, 8u);
  EXPECT_EQ(cfg.burst_bytes(), 64u);
  EXPECT_EQ(cfg.burst_cycles(), 4u);
  Bench b(cfg);
  EXPECT_DOUBLE_EQ(b.dram.theoretical_peak_bytes_per_s(), 25.6e9);
  EXPECT_EQ(b.dram.cycle_time(1), ps(625));
  EXPECT_EQ(b.dram.row_hit_read_cycles(), 16u + 22 + 4);
  EXPECT_EQ(b.dram.row_empty_read_cycles(), 16u + 22 + 22 + 4);
  EXPECT_EQ(b.dram.row_conflict_read_cycles(), 16u + 22 + 22 + 22 + 4);

  DramConfig two;
  two.channels = 2;
  two.clock_mhz = 1200;
  two.bus_width_bits = 32;
  Bench c(two);
  EXPECT_DOUBLE_EQ(c.dram.theoretical_peak_bytes_per_s(), 2 * 4 * 1200e6 * 2);
}

TEST(Dram, UnloadedReadLatenciesEqualTheFormulas) {
  Bench b(DramConfig{});
  ASSERT_EQ(b.dram.decode(kBase + 64).row, 0u);
  ASSERT_EQ(b.dram.decode(kBase + 64).bank, 0u);
  ASSERT_EQ(b.dram.decode(kBase + kRowStride).row, 1u);
  ASSERT_EQ(b.dram.decode(kBase + kRowStride).bank, 0u);
  const auto empty = b.init.read(kBase, 64, ns(0));
  const auto hit = b.init.read(kBase + 64, 64, ns(100));
  const auto conflict = b.init.read(kBase + kRowStride, 64, ns(200));
  b.run();
  // F + tCL + B, F + tRCD + tCL + B, F + tRP + tRCD + tCL + B; F = 16, B = 4, tCK = 625 ps.
  EXPECT_EQ(b.init.record(hit).latency(), ps((16 + 22 + 4) * 625));
  EXPECT_EQ(b.init.record(empty).latency(), ps((16 + 22 + 22 + 4) * 625));
  EXPECT_EQ(b.init.record(conflict).latency(), ps((16 + 22 + 22 + 22 + 4) * 625));
  EXPECT_EQ(b.init.record(hit).latency(), b.dram.cycle_time(b.dram.row_hit_read_cycles()));
  EXPECT_EQ(b.init.record(empty).latency(), b.dram.cycle_time(b.dram.row_empty_read_cycles()));
  EXPECT_EQ(b.init.record(conflict).latency(),
            b.dram.cycle_time(b.dram.row_conflict_read_cycles()));
  EXPECT_EQ(b.init.record(empty).end_req, b.init.record(empty).begin_req);  // queue had room
  EXPECT_EQ(b.stat("row_hits"), 1u);
  EXPECT_EQ(b.stat("row_misses"), 1u);
  EXPECT_EQ(b.stat("row_conflicts"), 1u);
  EXPECT_EQ(b.stat("activates"), 2u);
  EXPECT_EQ(b.stat("precharges"), 1u);
}

TEST(Dram, ConflictPrechargeWaitsForTras) {
  // The conflicting read arrives 10 cycles after the first one: ACT at 16,
  // PRE not before 16 + tRAS = 68 (instead of 10 + F = 26).
  Bench b(DramConfig{}, /*outstanding=*/2);
  b.init.read(kBase, 64, ns(0));
  const auto conflict = b.init.read(kBase + kRowStride, 64, ps(10 * 625));
  b.run();
  // PRE 68, ACT 90, RD 112, data end 112 + 22 + 4 = 138; BEGIN_REQ at cycle 10.
  EXPECT_EQ(b.init.record(conflict).begin_resp, ps(138 * 625));
}

TEST(Dram, UnloadedWriteLatencyUsesTcwl) {
  Bench b(DramConfig{});
  std::vector<std::uint8_t> data(64, 0x5A);
  const auto w = b.init.write(kBase, data, ns(0));
  const auto w_hit = b.init.write(kBase + 64, data, ns(100));
  b.run();
  EXPECT_EQ(b.init.record(w).latency(), ps((16 + 22 + 16 + 4) * 625));  // F + tRCD + tCWL + B
  EXPECT_EQ(b.init.record(w_hit).latency(), ps((16 + 16 + 4) * 625));   // F + tCWL + B
}

class TclSweep : public ::testing::TestWithParam<unsigned> {};

TEST_P(TclSweep, LatencyFollowsTcl) {
  DramConfig cfg;
  cfg.tCL = GetParam();
  Bench b(cfg);
  const auto empty = b.init.read(kBase, 64, ns(0));
  const auto hit = b.init.read(kBase + 64, 64, ns(100));
  b.run();
  const double tcl = GetParam();
  EXPECT_EQ(b.init.record(empty).latency(), ps((16 + 22 + tcl + 4) * 625));
  EXPECT_EQ(b.init.record(hit).latency(), ps((16 + tcl + 4) * 625));
}

INSTANTIATE_TEST_SUITE_P(Dram, TclSweep, ::testing::Values(11u, 22u, 40u));

TEST(Dram, ClosedPageTurnsHitsAndConflictsIntoEmptyRows) {
  for (const char* policy : {"open", "closed"}) {
    SCOPED_TRACE(policy);
    DramConfig cfg;
    cfg.page_policy = policy;
    Bench b(cfg);
    b.init.read(kBase, 64, ns(0));
    const auto same_row = b.init.read(kBase + 64, 64, ns(100));
    const auto other_row = b.init.read(kBase + kRowStride, 64, ns(200));
    b.run();
    const bool open = std::string(policy) == "open";
    EXPECT_EQ(b.init.record(same_row).latency(), ps((open ? 16 + 22 + 4 : 16 + 22 + 22 + 4) * 625));
    EXPECT_EQ(b.init.record(other_row).latency(),
              ps((open ? 16 + 22 + 22 + 22 + 4 : 16 + 22 + 22 + 4) * 625));
    EXPECT_EQ(b.stat("row_hits"), open ? 1u : 0u);
    EXPECT_EQ(b.stat("row_misses"), open ? 1u : 3u);
    EXPECT_EQ(b.stat("row_conflicts"), open ? 1u : 0u);
    EXPECT_EQ(b.stat("activates"), open ? 2u : 3u);
    EXPECT_EQ(b.stat("precharges"), open ? 1u : 3u);
  }
}

TEST(Dram, ClosedPageKeepsTheRowOpenForQueuedHits) {
  DramConfig cfg;
  cfg.page_policy = "closed";
  Bench b(cfg, /*outstanding=*/8);
  for (int i = 0; i < 8; ++i) b.init.read(kBase + 64 * i, 64);
  b.run();
  EXPECT_EQ(b.stat("row_misses"), 1u);
  EXPECT_EQ(b.stat("row_hits"), 7u);
  EXPECT_EQ(b.stat("precharges"), 1u);  // after the last one
}

// Row 0 of bank 0 is open; at 100 ns a conflicting read A (row 1) arrives,
// followed in the same cycle by a read B that hits row 0.
TEST(Dram, FrFcfsServesAYoungerHitBeforeAnOlderConflictFcfsDoesNot) {
  for (const char* sched : {"frfcfs", "fcfs"}) {
    SCOPED_TRACE(sched);
    DramConfig cfg;
    cfg.scheduler = sched;
    Bench b(cfg, /*outstanding=*/2);
    b.init.read(kBase, 64, ns(0));
    const auto a = b.init.read(kBase + kRowStride, 64, ns(100));
    const auto hit = b.init.read(kBase + 128, 64, ns(100));
    b.run();
    const auto& ra = b.init.record(a);
    const auto& rb = b.init.record(hit);
    ASSERT_EQ(ra.begin_req, ns(100));
    ASSERT_EQ(rb.begin_req, ns(100));  // same cycle: both eligible at cycle 176
    if (std::string(sched) == "frfcfs") {
      EXPECT_LT(rb.begin_resp, ra.begin_resp);
      // B: RD at 176 -> 202. A: PRE waits tRTP after B's RD: 188, ACT 210, RD 232 -> 258.
      EXPECT_EQ(rb.begin_resp, ps(202 * 625));
      EXPECT_EQ(ra.begin_resp, ps(258 * 625));
      EXPECT_EQ(b.stat("row_hits"), 1u);
      EXPECT_EQ(b.stat("row_conflicts"), 1u);
    } else {
      EXPECT_LT(ra.begin_resp, rb.begin_resp);
      // A: PRE 176, ACT 198, RD 220 -> 246. B: PRE at max(198 + tRAS, 220 + tRTP) = 250,
      // ACT 272, RD 294 -> 320.
      EXPECT_EQ(ra.begin_resp, ps(246 * 625));
      EXPECT_EQ(rb.begin_resp, ps(320 * 625));
      EXPECT_EQ(b.stat("row_hits"), 0u);
      EXPECT_EQ(b.stat("row_conflicts"), 2u);
    }
    EXPECT_EQ(b.stat("row_misses"), 1u);
  }
}

// ---------------------------------------------------------------------------
// Streaming bandwidth.
// ---------------------------------------------------------------------------

struct StreamCase {
  std::string name;
  DramConfig cfg;
  unsigned request_bytes;
  bool write;
  double peak;  // expected theoretical peak, bytes/s
};

DramConfig ddr4_2400_two_channels() {
  return {.channels = 2,
          .clock_mhz = 1200,
          .tCL = 17,
          .tRCD = 17,
          .tRP = 17,
          .tRAS = 39,
          .tCWL = 12,
          .tWR = 18,
          .tRTP = 9,
          .tWTR = 9};
}

DramConfig four_channels_x32_bl16() {
  return {.channels = 4,
          .banks = 8,
          .row_bytes = 2048,
          .bus_width_bits = 32,
          .burst_length = 16,
          .tCCD = 8};
}

std::vector<StreamCase> stream_cases() {
  return {
      {"Ddr4_3200_x64_Read64B", DramConfig{}, 64, false, 25.6e9},
      {"Ddr4_3200_x64_Read256B", DramConfig{}, 256, false, 25.6e9},
      {"Ddr4_3200_x64_Write64B", DramConfig{}, 64, true, 25.6e9},
      {"Ddr4_2400_2ch_Read64B", ddr4_2400_two_channels(), 64, false, 38.4e9},
      {"Ddr4_2400_2ch_Read128B", ddr4_2400_two_channels(), 128, false, 38.4e9},
      {"X32_Bl16_4ch_Read64B", four_channels_x32_bl16(), 64, false, 51.2e9},
  };
}

struct Measured {
  double bytes_per_s;
  double bytes;
};

// Streams `total` bytes of sequential requests with many outstanding.
Measured stream(Bench& b, std::uint64_t total, unsigned request_bytes, bool write) {
  std::vector<std::uint8_t> data(request_bytes);
  for (std::uint64_t off = 0; off < total; off += request_bytes) {
    if (write) {
      for (unsigned i = 0; i < request_bytes; ++i) data[i] = static_cast<std::uint8_t>(off + i);
      b.init.write(kBase + off, data);
    } else {
      b.init.read(kBase + off, request_bytes);
    }
  }
  b.run();
  sc_time first = b.init.record(0).begin_req, last = sc_core::SC_ZERO_TIME;
  for (std::size_t i = 0; i < b.init.size(); ++i)
    last = std::max(last, b.init.record(i).begin_resp);
  const double seconds = (last - first).to_seconds();
  return {static_cast<double>(total) / seconds, static_cast<double>(total)};
}

void PrintTo(const StreamCase& c, std::ostream* os) { *os << c.name; }

class Streaming : public ::testing::TestWithParam<StreamCase> {};

TEST_P(Streaming, ReachesTheTheoreticalPeakWithin5Percent) {
  const StreamCase& sc = GetParam();
  Bench b(sc.cfg, /*outstanding=*/128);
  ASSERT_DOUBLE_EQ(b.dram.theoretical_peak_bytes_per_s(), sc.peak);
  const std::uint64_t total = std::uint64_t{1024} * 1024 * sc.cfg.channels;
  const Measured m = stream(b, total, sc.request_bytes, sc.write);
  const double ratio = m.bytes_per_s / sc.peak;
  std::printf("[ bandwidth ] %s: %.3f GB/s of %.3f GB/s peak (%.2f %%)\n", sc.name.c_str(),
              m.bytes_per_s / 1e9, sc.peak / 1e9, 100 * ratio);
  RecordProperty("measured_gbps", std::to_string(m.bytes_per_s / 1e9));
  EXPECT_GE(ratio, 0.95);
  EXPECT_LE(ratio, 1.0 + 1e-9);
  // Every burst transferred once; the data bus was busy exactly that long.
  const std::uint64_t bursts = total / sc.cfg.burst_bytes();
  EXPECT_EQ(b.stat("busy_cycles"), bursts * sc.cfg.burst_cycles());
  EXPECT_EQ(b.stat(sc.write ? "bytes_written" : "bytes_read"), total);
  EXPECT_EQ(b.stat("row_hits") + b.stat("row_misses") + b.stat("row_conflicts"), bursts);
  // Each row is opened once (revisiting a bank in a later row is a conflict).
  EXPECT_EQ(b.stat("activates"), total / sc.cfg.row_bytes);
  EXPECT_GE(b.init.max_outstanding_seen(), 8u);  // many in flight (bounded by the queues)
  EXPECT_EQ(b.checker.transactions_completed(), b.init.size());
}

INSTANTIATE_TEST_SUITE_P(Dram, Streaming, ::testing::ValuesIn(stream_cases()),
                         [](const auto& info) { return info.param.name; });

TEST(Dram, RefreshCostsAboutTrfcOverTrefiOfTheBandwidth) {
  DramConfig cfg;
  cfg.refresh = true;
  Bench b(cfg, /*outstanding=*/128);
  const std::uint64_t total = 2 * 1024 * 1024;  // ~82 us, ~10 refresh intervals
  const Measured m = stream(b, total, 64, false);
  const double ratio = m.bytes_per_s / 25.6e9;
  const double refresh_share = static_cast<double>(cfg.tRFC) / cfg.tREFI;  // 4.5 %
  std::printf(
      "[ bandwidth ] refresh on: %.3f GB/s (%.2f %% of peak; tRFC/tREFI = %.2f %%), "
      "%llu refreshes\n",
      m.bytes_per_s / 1e9, 100 * ratio, 100 * refresh_share,
      static_cast<unsigned long long>(b.stat("refreshes")));
  EXPECT_LE(ratio, 1 - refresh_share + 0.005);
  EXPECT_GE(ratio, 1 - 1.3 * refresh_share);
  const double intervals = sc_core::sc_time_stamp().to_seconds() / (cfg.tREFI * 625e-12);
  EXPECT_NEAR(static_cast<double>(b.stat("refreshes")), intervals, 1.0);
}

TEST(Dram, IdleRefreshIsAccountedLazilyAndTheSimulationEnds) {
  DramConfig cfg;
  cfg.refresh = true;
  Bench b(cfg);
  b.init.read(kBase, 64, ns(0));
  const auto later = b.init.read(kBase + 64, 64, ns(100'000));  // same row, 100 us later
  b.run();
  EXPECT_FALSE(sc_core::sc_pending_activity());  // an idle DRAM schedules nothing
  // Refreshes due at 12480 * k cycles (7.8 us) up to 100 us: 12; they closed the row.
  EXPECT_EQ(b.stat("refreshes"), 12u);
  EXPECT_EQ(b.stat("precharges"), 1u);
  EXPECT_EQ(b.init.record(later).latency(), ps((16 + 22 + 22 + 4) * 625));
}

// ---------------------------------------------------------------------------
// Data, counters, backpressure, errors, configuration.
// ---------------------------------------------------------------------------

TEST(Dram, NonIntegerClockPeriodRoundsOnlyToTheNearestPicosecond) {
  DramConfig cfg = ddr4_2400_two_channels();  // tCK = 833.33 ps
  cfg.channels = 1;
  Bench b(cfg);
  const auto empty = b.init.read(kBase, 64, ns(1000));  // cycle 1200, an exact edge
  const auto hit = b.init.read(kBase + 64, 64, ns(1100));
  b.run();
  const double tck = 1e6 / 1200;
  EXPECT_NEAR(b.init.record(empty).latency().to_seconds() * 1e12, (16 + 17 + 17 + 4) * tck, 1.0);
  EXPECT_NEAR(b.init.record(hit).latency().to_seconds() * 1e12, (16 + 17 + 4) * tck, 1.0);
}

// Random reads and writes (sizes 1..300 B, byte enables) to a few rows of one
// bank, many in flight: every read returns what the writes before it in
// program order left there, whatever the scheduler reorders.
struct RandomCase {
  std::string name;
  DramConfig cfg;
  AtTestInitiator::ResponseMode mode;
};

void PrintTo(const RandomCase& c, std::ostream* os) { *os << c.name; }

std::vector<RandomCase> random_cases() {
  DramConfig closed_fcfs;
  closed_fcfs.page_policy = "closed";
  closed_fcfs.scheduler = "fcfs";
  DramConfig small_queue = ddr4_2400_two_channels();
  small_queue.queue_depth = 3;
  small_queue.frontend_latency_cycles = 0;
  small_queue.refresh = true;
  small_queue.tREFI = 2000;
  DramConfig narrow = four_channels_x32_bl16();
  narrow.ranks = 2;
  narrow.address_mapping = "row:bank:column:rank:channel";
  using Mode = AtTestInitiator::ResponseMode;
  return {
      {"OpenFrFcfs", DramConfig{}, Mode::kReturnCompleted},
      {"ClosedFcfs", closed_fcfs, Mode::kReturnUpdated},
      {"TwoChannelsQueue3RefreshNoFrontend", small_queue, Mode::kExplicitEndResp},
      {"FourChannelsTwoRanksX32", narrow, Mode::kReturnCompleted},
  };
}

class RandomTraffic : public ::testing::TestWithParam<RandomCase> {};

TEST_P(RandomTraffic, ReadsSeeEveryOlderWrite) {
  const RandomCase& rc = GetParam();
  Bench b(rc.cfg, /*outstanding=*/24);
  b.init.set_response_mode(rc.mode);
  b.init.set_end_resp_delay(ns(1));
  std::mt19937_64 rng(12345);
  constexpr std::uint64_t kWindow = 4096;
  std::vector<std::uint8_t> shadow(4 * kRowStride, 0);
  std::vector<std::pair<std::size_t, std::vector<std::uint8_t>>> expected;
  for (int i = 0; i < 3000; ++i) {
    const std::uint64_t off = (rng() % 4) * kRowStride + rng() % kWindow;
    const unsigned len = rng() % 4 == 0 ? 64 : 1 + static_cast<unsigned>(rng() % 300);
    if (rng() % 2 == 0) {
      std::vector<std::uint8_t> data(len);
      for (auto& x : data) x = static_cast<std::uint8_t>(rng());
      std::vector<std::uint8_t> be;
      if (rng() % 4 == 0) {
        be.resize(1 + rng() % 8);
        for (auto& x : be) x = rng() % 2 == 0 ? 0x00 : 0xFF;
      }
      for (unsigned k = 0; k < len; ++k)
        if (be.empty() || be[k % be.size()] != 0) shadow[off + k] = data[k];
      b.init.write(kBase + off, data, sc_core::SC_ZERO_TIME, be);
    } else {
      expected.emplace_back(
          b.init.read(kBase + off, len),
          std::vector<std::uint8_t>(shadow.begin() + off, shadow.begin() + off + len));
    }
  }
  b.run();
  for (const auto& [id, want] : expected) {
    ASSERT_EQ(b.init.record(id).data, want) << id;
  }
  EXPECT_GT(b.stat("row_conflicts") + b.stat("row_misses"), 10u);
  EXPECT_GT(b.init.max_outstanding_seen(), 4u);
  if (rc.cfg.refresh) {
    EXPECT_GT(b.stat("refreshes"), 0u);
  }
}

INSTANTIATE_TEST_SUITE_P(Dram, RandomTraffic, ::testing::ValuesIn(random_cases()),
                         [](const auto& info) { return info.param.name; });

std::vector<std::uint8_t> pattern(std::size_t n, unsigned seed) {
  std::vector<std::uint8_t> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::uint8_t>(i * 13 + seed * 7 + 1);
  return v;
}

TEST(Dram, DataWrittenIsReadBackThroughTheTimedPathAndTransportDbg) {
  DramConfig cfg = ddr4_2400_two_channels();
  Bench b(cfg, /*outstanding=*/4);
  b.init.set_response_mode(AtTestInitiator::ResponseMode::kExplicitEndResp);
  b.init.set_end_resp_delay(ns(3));
  const std::uint64_t a1 = kBase + 0x1234 + 3;  // unaligned, crosses bursts and channels
  const auto d1 = pattern(200, 1);
  const auto d2 = pattern(4096, 2);
  b.init.write(a1, d1);
  b.init.write(kBase + 0x10000, d2);
  const auto r1 = b.init.read(a1, 200);
  const auto r2 = b.init.read(kBase + 0x10000, 4096);
  const auto r_around = b.init.read(a1 - 16, 232);
  b.run();
  EXPECT_EQ(b.init.record(r1).data, d1);
  EXPECT_EQ(b.init.record(r2).data, d2);
  std::vector<std::uint8_t> around(232, 0);
  std::copy(d1.begin(), d1.end(), around.begin() + 16);
  EXPECT_EQ(b.init.record(r_around).data, around);

  // Backdoor: reads what the timed path wrote, writes what the timed path reads.
  std::vector<std::uint8_t> buf(200);
  tlm::tlm_generic_payload gp;
  set_request(gp, tlm::TLM_READ_COMMAND, a1, buf.data(), 200);
  EXPECT_EQ(b.init.socket->transport_dbg(gp), 200u);
  EXPECT_EQ(buf, d1);
  const auto d3 = pattern(100, 3);
  buf.assign(d3.begin(), d3.end());
  gp.set_command(tlm::TLM_WRITE_COMMAND);
  gp.set_address(kBase + 0x20000);
  gp.set_data_length(100);
  EXPECT_EQ(b.init.socket->transport_dbg(gp), 100u);
  gp.set_address(kBase + kSize - 4);
  EXPECT_EQ(b.init.socket->transport_dbg(gp), 0u);  // outside the store
  const auto r3 = b.init.read(kBase + 0x20000, 100);
  b.run();
  EXPECT_EQ(b.init.record(r3).data, d3);
}

TEST(Dram, WriteByteEnablesMaskTheWrite) {
  Bench b(DramConfig{});
  b.init.write(kBase + 0x100, std::vector<std::uint8_t>(16, 0x11));
  b.init.write(kBase + 0x100, std::vector<std::uint8_t>(16, 0x22), sc_core::SC_ZERO_TIME,
               {0xFF, 0x00, 0x00, 0xFF});
  const auto r = b.init.read(kBase + 0x100, 16);
  b.run();
  for (unsigned i = 0; i < 16; ++i) {
    EXPECT_EQ(b.init.record(r).data[i], (i % 4 == 0 || i % 4 == 3) ? 0x22 : 0x11) << i;
  }
  EXPECT_EQ(b.stat("bytes_written"), 32u);
}

TEST(Dram, CountersMatchTheAccessPattern) {
  DramConfig cfg;
  cfg.channels = 2;  // offset 6 bits, channel bit 6, column bits 7..13, bank 14..17, row 18+
  Bench b(cfg);
  const auto loc = [&](std::uint64_t off) { return b.dram.decode(kBase + off); };
  ASSERT_EQ(loc(0x40).channel, 1u);
  ASSERT_EQ(loc(0x80).column, 1u);
  ASSERT_EQ(loc(0x4000).bank, 1u);
  ASSERT_EQ(loc(1 << 18).row, 1u);
  const std::vector<std::uint8_t> w64(64, 1), w128(128, 2);
  b.init.read(kBase + 0x000, 64);      // ch0 bank0 row0: miss
  b.init.read(kBase + 0x080, 64);      // ch0 bank0 row0: hit
  b.init.write(kBase + 0x040, w64);    // ch1 bank0 row0: miss
  b.init.read(kBase + (1 << 18), 64);  // ch0 bank0 row1: conflict
  b.init.read(kBase + 0x100, 64);      // ch0 bank0 row0: conflict
  b.init.read(kBase + 0x4000, 128);    // bank1 row0 on ch0 and ch1: 2 misses
  b.init.write(kBase + 0x4000, w128);  // the same two bursts: 2 hits
  b.run();
  EXPECT_EQ(b.stat("reads"), 5u);
  EXPECT_EQ(b.stat("writes"), 2u);
  EXPECT_EQ(b.stat("bytes_read"), 4u * 64 + 128);
  EXPECT_EQ(b.stat("bytes_written"), 64u + 128);
  EXPECT_EQ(b.stat("row_hits"), 3u);
  EXPECT_EQ(b.stat("row_misses"), 4u);
  EXPECT_EQ(b.stat("row_conflicts"), 2u);
  EXPECT_EQ(b.stat("activates"), 6u);
  EXPECT_EQ(b.stat("precharges"), 2u);
  EXPECT_EQ(b.stat("refreshes"), 0u);
  EXPECT_EQ(b.stat("busy_cycles"), 9u * 4);
  EXPECT_EQ(b.stat("queue_stall_cycles"), 0u);
}

TEST(Dram, FullQueueWithholdsEndReq) {
  DramConfig cfg;
  cfg.queue_depth = 2;
  Bench b(cfg, /*outstanding=*/16);
  const auto big = pattern(2048, 4);  // 32 bursts through a 2-entry queue
  b.init.write(kBase, big);
  for (int i = 0; i < 32; ++i) b.init.read(kBase + 64 * i, 64);
  const auto rb = b.init.read(kBase, 2048);
  b.run();
  EXPECT_GT(b.init.record(0).end_req, b.init.record(0).begin_req);
  EXPECT_GT(b.stat("queue_stall_cycles"), 0u);
  for (int i = 0; i < 32; ++i) {
    const auto& r = b.init.record(1 + i);
    EXPECT_EQ(r.data, std::vector<std::uint8_t>(big.begin() + 64 * i, big.begin() + 64 * i + 64));
  }
  EXPECT_EQ(b.init.record(rb).data, big);
}

TEST(Dram, ErrorsComeBackAsResponseStatus) {
  Bench b(DramConfig{});
  const auto outside = b.init.read(kBase + kSize - 32, 64);
  const auto below = b.init.read(kBase - 64, 64);
  const auto fine = b.init.read(kBase, 64);
  b.run();
  EXPECT_EQ(b.init.record(outside).status, tlm::TLM_ADDRESS_ERROR_RESPONSE);
  EXPECT_EQ(b.init.record(below).status, tlm::TLM_ADDRESS_ERROR_RESPONSE);
  EXPECT_TRUE(b.init.record(fine).ok());
  EXPECT_EQ(b.stat("reads"), 1u);
}

TEST(Dram, BTransportIsFunctionalWithTheRowHitLatency) {
  LtBench<Dram> b("dram", kBase, kSize, DramConfig{});
  auto data = pattern(128, 5);
  tlm::tlm_generic_payload gp;
  set_request(gp, tlm::TLM_WRITE_COMMAND, kBase + 0x40, data.data(), 128);
  sc_time delay = sc_core::SC_ZERO_TIME;
  b.lt.socket->b_transport(gp, delay);
  EXPECT_TRUE(gp.is_response_ok());
  EXPECT_EQ(delay, ps((16 + 16 + 4 + 4) * 625));  // F + tCWL + B + 1 * max(B, tCCD)
  std::vector<std::uint8_t> back(128);
  b.store.read(kBase + 0x40, back.data(), 128);
  EXPECT_EQ(back, data);
  gp.set_command(tlm::TLM_READ_COMMAND);
  gp.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
  gp.set_data_ptr(back.data());
  std::fill(back.begin(), back.end(), 0);
  delay = sc_core::SC_ZERO_TIME;
  b.lt.socket->b_transport(gp, delay);
  EXPECT_EQ(back, data);
  EXPECT_EQ(delay, ps((16 + 22 + 4 + 4) * 625));
  EXPECT_EQ(b.stats.value("dram.reads"), 1u);
  EXPECT_EQ(b.stats.value("dram.writes"), 1u);
  EXPECT_EQ(b.stats.value("dram.activates"), 0u);  // no bank state
}

TEST(Dram, AddressMappingFieldOrder) {
  fresh_systemc();
  BackingStore store(0, 1ULL << 30);
  sasim::mem::StatsRegistry stats;
  DramConfig cfg;
  cfg.channels = 4;
  cfg.ranks = 2;
  cfg.address_mapping = "row:rank:bank:channel:column";  // column lowest: 8 KiB per channel
  Dram dram("dram", cfg, store, stats);
  // offset 6, column 7 (6..12), channel 2 (13..14), bank 4 (15..18), rank 1 (19), row 20+.
  const auto l =
      dram.decode((5ULL << 20) | (1ULL << 19) | (9ULL << 15) | (3ULL << 13) | (17ULL << 6) | 5);
  EXPECT_EQ(l.row, 5u);
  EXPECT_EQ(l.rank, 1u);
  EXPECT_EQ(l.bank, 9u);
  EXPECT_EQ(l.channel, 3u);
  EXPECT_EQ(l.column, 17u);
  cfg.address_mapping = "row:bank:column:rank:channel";
  Dram dram2("dram2", cfg, store, stats);
  const auto m =
      dram2.decode((7ULL << 20) | (2ULL << 16) | (100ULL << 9) | (1ULL << 8) | (2ULL << 6));
  EXPECT_EQ(m.channel, 2u);
  EXPECT_EQ(m.rank, 1u);
  EXPECT_EQ(m.column, 100u);
  EXPECT_EQ(m.bank, 2u);
  EXPECT_EQ(m.row, 7u);
}

TEST(Dram, InvalidConfigurationsAndUnknownNamesThrow) {
  const auto throws_with = [](DramConfig c, const std::string& needle) {
    try {
      c.validate();
      ADD_FAILURE() << "no exception for " << needle;
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  DramConfig c;
  c.channels = 3;
  throws_with(c, "channels");
  c = {};
  c.channels = 32;
  throws_with(c, "1..16");
  c = {};
  c.bus_width_bits = 8;
  throws_with(c, "bus_width_bits");
  c = {};
  c.page_policy = "adaptive";
  throws_with(c, "allowed: open, closed");
  c = {};
  c.scheduler = "random";
  throws_with(c, "allowed: fcfs, frfcfs");
  c = {};
  c.address_mapping = "row:bank:column:channel";
  throws_with(c, "address_mapping");
  c = {};
  c.row_bytes = 32;
  throws_with(c, "row_bytes");
  EXPECT_THROW(sasim::mem::make_dram_scheduler("x"), std::invalid_argument);
  EXPECT_THROW(sasim::mem::make_dram_page_policy("x"), std::invalid_argument);
  EXPECT_EQ(sasim::mem::dram_scheduler_names(), (std::vector<std::string>{"fcfs", "frfcfs"}));
  EXPECT_EQ(sasim::mem::dram_page_policy_names(), (std::vector<std::string>{"open", "closed"}));

  fresh_systemc();
  BackingStore store(0, 1 << 20);
  sasim::mem::StatsRegistry stats;
  DramConfig bad;
  bad.scheduler = "nope";
  EXPECT_THROW(Dram("dram", bad, store, stats), std::invalid_argument);
}

}  // namespace
}  // namespace sasim::mem::test
