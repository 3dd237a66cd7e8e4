// Interconnect: routing, address errors, exact request latency, the bandwidth cap of the shared
// path, arbitration (round robin, fixed priority), target backpressure, b_transport /
// transport_dbg routing, configuration checks; ProtocolCheckers on both sides of every run.
#define SC_INCLUDE_DYNAMIC_PROCESSES
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <tlm_utils/simple_initiator_socket.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <systemc>
#include <tlm>
#include <vector>

#include "sasim/mem/interconnect.hpp"
#include "support/at_test_memory.hpp"
#include "support/mem_bench.hpp"

namespace sasim::mem::test {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

using sasim::mem::StatsRegistry;
using sc_core::sc_time;
using sc_core::SC_ZERO_TIME;
using Payload = tlm::tlm_generic_payload;
using Style = AtTestMemory::Style;

// The memory behind the interconnect: END_REQ at once on the return path, BEGIN_RESP `latency`
// (default 0) after it. Tests that need a slow target set style kBackward and an accept_delay.
std::unique_ptr<AtTestMemory> test_memory(const std::string& name, std::uint64_t base,
                                          std::uint64_t size) {
  auto m = std::make_unique<AtTestMemory>(name.c_str(), base, size);
  m->style = Style::kReturnEndReq;
  m->accept_delay = SC_ZERO_TIME;
  m->latency = SC_ZERO_TIME;
  return m;
}

// Sends one read with BEGIN_REQ at `send_at` carrying the annotated delay `annotation`; records
// when END_REQ and BEGIN_RESP take effect and answers BEGIN_RESP with TLM_COMPLETED.
class DelayedInitiator : public sc_core::sc_module, private tlm::tlm_mm_interface {
 public:
  tlm_utils::simple_initiator_socket<DelayedInitiator> socket;
  sc_time end_req, begin_resp;

  SC_HAS_PROCESS(DelayedInitiator);
  DelayedInitiator(sc_core::sc_module_name name, std::uint64_t addr, sc_time send_at,
                   sc_time annotation)
      : sc_core::sc_module(name), socket("socket"), send_at_(send_at), annotation_(annotation) {
    tlm::tlm_mm_interface* mm = this;
    gp_ = std::make_unique<Payload>(mm);
    set_request(*gp_, tlm::TLM_READ_COMMAND, addr, data_, sizeof data_);
    socket.register_nb_transport_bw(this, &DelayedInitiator::nb_transport_bw);
    SC_THREAD(run);
  }

 private:
  void free(Payload*) override {}
  void run() {
    sc_core::wait(send_at_);
    gp_->acquire();
    tlm::tlm_phase phase = tlm::BEGIN_REQ;
    sc_time delay = annotation_;
    EXPECT_EQ(socket->nb_transport_fw(*gp_, phase, delay), tlm::TLM_ACCEPTED);
  }
  tlm::tlm_sync_enum nb_transport_bw(Payload& gp, tlm::tlm_phase& phase, sc_time& delay) {
    if (phase == tlm::END_REQ) {
      end_req = sc_core::sc_time_stamp() + delay;
      return tlm::TLM_ACCEPTED;
    }
    begin_resp = sc_core::sc_time_stamp() + delay;
    gp.release();
    return tlm::TLM_COMPLETED;
  }

  sc_time send_at_, annotation_;
  unsigned char data_[64] = {};
  std::unique_ptr<Payload> gp_;
};

constexpr std::uint64_t kBase0 = 0x0000;
constexpr std::uint64_t kBase1 = 0x10000;
constexpr std::uint64_t kSize = 0x1000;

// `initiators` AtTestInitiators -> checker -> interconnect -> checker -> two TestMemories at
// [kBase0, +kSize) (port 0) and [kBase1, +kSize) (port 1).
struct Bench {
  StatsRegistry stats;
  std::vector<std::unique_ptr<AtTestInitiator>> ini;
  std::vector<std::unique_ptr<ProtocolChecker>> ini_chk, tgt_chk;
  std::unique_ptr<Interconnect> noc;
  std::vector<std::unique_ptr<AtTestMemory>> mem;

  explicit Bench(const InterconnectConfig& cfg, unsigned initiators = 1,
                 unsigned max_outstanding = 16) {
    fresh_systemc();
    noc = std::make_unique<Interconnect>(
        "noc", cfg, std::vector<AddressRange>{{kBase1, kSize, 1}, {kBase0, kSize, 0}}, stats);
    for (unsigned k = 0; k < initiators; ++k) {
      const std::string n = std::to_string(k);
      ini.push_back(std::make_unique<AtTestInitiator>(("ini" + n).c_str(), max_outstanding));
      ini_chk.push_back(std::make_unique<ProtocolChecker>(("ini_chk" + n).c_str()));
      ini[k]->socket.bind(ini_chk[k]->in);
      ini_chk[k]->out.bind(noc->in);
    }
    for (unsigned j = 0; j < 2; ++j) {
      const std::string n = std::to_string(j);
      mem.push_back(test_memory("mem" + n, j == 0 ? kBase0 : kBase1, kSize));
      tgt_chk.push_back(std::make_unique<ProtocolChecker>(("tgt_chk" + n).c_str()));
      noc->out.bind(tgt_chk[j]->in);
      tgt_chk[j]->out.bind(mem[j]->socket);
    }
  }

  bool run() {
    std::vector<const AtTestInitiator*> v;
    for (auto& i : ini) v.push_back(i.get());
    return run_until_done(v);
  }

  // Every checker saw a clean, drained protocol (after the delta cycles still due now).
  void expect_clean() {
    while (sc_core::sc_pending_activity_at_current_time()) sc_core::sc_start(SC_ZERO_TIME);
    for (auto* list : {&ini_chk, &tgt_chk})
      for (auto& c : *list) test::expect_clean(*c);
    for (auto& i : ini) EXPECT_EQ(i->payloads_in_use(), 0u) << i->name();
  }

  std::uint64_t stat(const std::string& s) const { return stats.value("noc." + s); }
};

std::vector<std::uint8_t> pattern(unsigned n, unsigned seed) {
  std::vector<std::uint8_t> v(n);
  for (unsigned i = 0; i < n; ++i) v[i] = static_cast<std::uint8_t>(seed * 31 + i * 7 + 1);
  return v;
}

// ---------------------------------------------------------------------------

TEST(Interconnect, RoutesByAddressToTwoTargets) {
  Bench b(InterconnectConfig{});
  b.mem[0]->latency = ns(5);
  b.mem[1]->latency = ns(5);
  AtTestInitiator& ini = *b.ini[0];
  ini.write(kBase0 + 0x40, pattern(32, 1));
  ini.write(kBase1 + 0x80, pattern(64, 2));
  ini.write(kBase1 + kSize - 8, pattern(8, 3));  // last bytes of range 1
  const auto r0 = ini.read(kBase0 + 0x40, 32, ns(50));
  const auto r1 = ini.read(kBase1 + 0x80, 64);
  const auto r2 = ini.read(kBase1 + kSize - 8, 8);
  ASSERT_TRUE(b.run());
  b.expect_clean();

  ASSERT_EQ(b.mem[0]->arrivals.size(), 2u);
  ASSERT_EQ(b.mem[1]->arrivals.size(), 4u);
  EXPECT_EQ(b.mem[0]->arrivals[0].address, kBase0 + 0x40);  // global addresses, untranslated
  EXPECT_EQ(b.mem[1]->arrivals[0].address, kBase1 + 0x80);
  EXPECT_EQ(b.mem[1]->at(kBase1 + 0x80), pattern(64, 2)[0]);
  EXPECT_EQ(b.mem[0]->at(kBase0 + 0x40 + 31), pattern(32, 1)[31]);
  EXPECT_EQ(ini.record(r0).data, pattern(32, 1));
  EXPECT_EQ(ini.record(r1).data, pattern(64, 2));
  EXPECT_EQ(ini.record(r2).data, pattern(8, 3));
  for (std::size_t k = 0; k < ini.size(); ++k) EXPECT_TRUE(ini.record(k).ok()) << k;
  EXPECT_EQ(b.stat("requests"), 6u);
  EXPECT_EQ(b.stat("initiator0.requests"), 6u);
  EXPECT_EQ(b.stat("target0.requests"), 2u);
  EXPECT_EQ(b.stat("target1.requests"), 4u);
  EXPECT_EQ(b.stat("bytes"), 2u * (32 + 64 + 8));
  EXPECT_EQ(b.stat("address_errors"), 0u);
}

TEST(Interconnect, UnmappedAndStraddlingAddressesGetAddressError) {
  Bench b(InterconnectConfig{});
  AtTestInitiator& ini = *b.ini[0];
  const auto gap = ini.read(0x5000, 4);                   // between the ranges
  const auto straddle = ini.read(kBase0 + kSize - 4, 8);  // crosses the end of range 0
  const auto above = ini.write(kBase1 + kSize, {1, 2, 3, 4});
  const auto good = ini.read(kBase0, 4);
  ASSERT_TRUE(b.run());
  b.expect_clean();
  EXPECT_EQ(ini.record(gap).status, tlm::TLM_ADDRESS_ERROR_RESPONSE);
  EXPECT_EQ(ini.record(straddle).status, tlm::TLM_ADDRESS_ERROR_RESPONSE);
  EXPECT_EQ(ini.record(above).status, tlm::TLM_ADDRESS_ERROR_RESPONSE);
  EXPECT_TRUE(ini.record(good).ok());
  EXPECT_EQ(b.mem[0]->arrivals.size(), 1u);
  EXPECT_EQ(b.mem[1]->arrivals.size(), 0u);
  EXPECT_EQ(b.stat("address_errors"), 3u);
  EXPECT_EQ(b.stat("requests"), 4u);
  EXPECT_EQ(b.stat("bytes"), 4u);
}

struct LatencyCase {
  double clock_mhz;
  unsigned latency_cycles;
};

class InterconnectLatency : public ::testing::TestWithParam<LatencyCase> {};

TEST_P(InterconnectLatency, SingleRequestLatencyIsExactlyAsConfigured) {
  const InterconnectConfig cfg{.clock_mhz = GetParam().clock_mhz,
                               .width_bytes = 64,
                               .latency_cycles = GetParam().latency_cycles};
  Bench b(cfg);
  const sc_time t = b.noc->clock_period();
  const unsigned lat = cfg.latency_cycles;
  b.mem[0]->latency = ns(10);
  AtTestInitiator& ini = *b.ini[0];
  const auto rd = ini.read(kBase0, 64);                               // at an edge, one beat
  const auto off = ini.read(kBase0 + 64, 64, ns(100) + t * 0.25);     // between edges
  const auto wr = ini.write(kBase0 + 256, pattern(256, 4), ns(200));  // four beats
  ASSERT_TRUE(b.run());
  b.expect_clean();
  const auto& arr = b.mem[0]->arrivals;
  ASSERT_EQ(arr.size(), 3u);

  EXPECT_EQ(ini.record(rd).end_req, SC_ZERO_TIME);
  EXPECT_EQ(arr[0].time, t * lat);
  EXPECT_EQ(ini.record(rd).begin_resp, t * lat + ns(10));

  const sc_time edge = ns(100) + t;  // the next edge after 100 ns + T/4
  EXPECT_EQ(ini.record(off).end_req, edge);
  EXPECT_EQ(arr[1].time, edge + t * lat);
  EXPECT_EQ(ini.record(off).latency(), t * 0.75 + t * lat + ns(10));

  EXPECT_EQ(arr[2].time, ns(200) + t * (lat + 3));  // last of 4 beats, then the latency
  EXPECT_EQ(ini.record(wr).begin_resp, ns(200) + t * (lat + 3) + ns(10));
  EXPECT_EQ(b.stat("stall_cycles"), 0u);
  EXPECT_EQ(b.stat("busy_cycles"), 1u + 1u + 4u);
}

INSTANTIATE_TEST_SUITE_P(Clocks, InterconnectLatency,
                         ::testing::Values(LatencyCase{1000, 2}, LatencyCase{1000, 0},
                                           LatencyCase{500, 7}, LatencyCase{2000, 1}));

class InterconnectBandwidth : public ::testing::TestWithParam<bool> {};

TEST_P(InterconnectBandwidth, BackToBackTransfersTakeTheComputedTime) {
  const bool reads = GetParam();
  const InterconnectConfig cfg{.width_bytes = 32, .latency_cycles = 2};
  Bench b(cfg, 1, /*max_outstanding=*/32);
  const sc_time t = b.noc->clock_period();
  constexpr unsigned kN = 16, kBytes = 128;  // D = 4 cycles per transfer
  AtTestInitiator& ini = *b.ini[0];
  for (unsigned k = 0; k < kN; ++k) {
    if (reads) {
      ini.read(kBase1 + k * kBytes, kBytes);
    } else {
      ini.write(kBase1 + k * kBytes, pattern(kBytes, k));
    }
  }
  ASSERT_TRUE(b.run());
  b.expect_clean();
  for (unsigned k = 0; k < kN; ++k) {
    EXPECT_EQ(ini.record(k).end_req, t * (4 * k)) << k;  // one grant per transfer time
    EXPECT_EQ(ini.record(k).begin_resp, t * (4 * k + 2 + 4 - 1)) << k;
  }
  // N transfers of D cycles plus the latency of the last one: (N * D + latency - 1) cycles.
  EXPECT_EQ(sc_core::sc_time_stamp(), t * (kN * 4 + 2 - 1));
  EXPECT_EQ(b.stat("busy_cycles"), kN * 4);
  EXPECT_EQ(b.stat("bytes"), kN * kBytes);
  EXPECT_EQ(b.stat("stall_cycles"), 0u);  // a port streaming alone is never stalled
}

INSTANTIATE_TEST_SUITE_P(ReadsAndWrites, InterconnectBandwidth, ::testing::Bool());

TEST(Interconnect, RoundRobinAlternatesBetweenTwoInitiators) {
  const InterconnectConfig cfg{
      .width_bytes = 64, .latency_cycles = 2, .arbitration = "round_robin"};
  Bench b(cfg, 2);
  const sc_time t = b.noc->clock_period();
  constexpr unsigned kN = 8;  // 128-byte writes: 2 cycles each
  for (unsigned k = 0; k < kN; ++k) {
    b.ini[0]->write(kBase0 + k * 128, pattern(128, k));
    b.ini[1]->write(kBase0 + 0x800 + k * 128, pattern(128, k + 100));
  }
  ASSERT_TRUE(b.run());
  b.expect_clean();
  for (unsigned k = 0; k < kN; ++k) {
    EXPECT_EQ(b.ini[0]->record(k).end_req, t * (4 * k)) << k;
    EXPECT_EQ(b.ini[1]->record(k).end_req, t * (4 * k + 2)) << k;
  }
  // Grants alternate, so the target sees the initiators' addresses interleaved.
  const auto& arr = b.mem[0]->arrivals;
  ASSERT_EQ(arr.size(), 2 * kN);
  for (unsigned k = 0; k < arr.size(); ++k) EXPECT_EQ(arr[k].address >= 0x800, k % 2 == 1) << k;
  // Every request but the very first waits exactly one transfer of the other initiator.
  EXPECT_EQ(b.stat("stall_cycles"), (2 * kN - 1) * 2);
  EXPECT_EQ(b.stat("initiator0.requests"), kN);
  EXPECT_EQ(b.stat("initiator1.requests"), kN);
  EXPECT_EQ(b.mem[0]->at(kBase0 + 0x800 + 7 * 128), pattern(128, 107)[0]);
}

TEST(Interconnect, FixedPriorityServesTheLowestPortFirst) {
  const InterconnectConfig cfg{
      .width_bytes = 64, .latency_cycles = 2, .arbitration = "fixed_priority"};
  Bench b(cfg, 2);
  const sc_time t = b.noc->clock_period();
  constexpr unsigned kN = 8;  // 64-byte reads: 1 cycle each
  for (unsigned k = 0; k < kN; ++k) {
    b.ini[1]->read(kBase1 + k * 64, 64);  // port 1 scripted first: order must not matter
    b.ini[0]->read(kBase0 + k * 64, 64);
  }
  ASSERT_TRUE(b.run());
  b.expect_clean();
  for (unsigned k = 0; k < kN; ++k) {
    EXPECT_EQ(b.ini[0]->record(k).end_req, t * k) << k;
    EXPECT_EQ(b.ini[1]->record(k).end_req, t * (kN + k)) << k;  // only once port 0 is done
  }
  EXPECT_EQ(b.stat("stall_cycles"), kN);  // port 1's first request waited all of port 0's
}

TEST(Interconnect, FullTargetStallsItsInitiatorsButNotOthers) {
  // Latency 2: room for latency + 1 = 3 requests per target.
  const InterconnectConfig cfg{.width_bytes = 64, .latency_cycles = 2};
  Bench b(cfg, 2);
  const sc_time t = b.noc->clock_period();
  b.mem[0]->style = Style::kBackward;
  b.mem[0]->accept_delay = ns(20);  // slow to accept: END_REQ 20 ns after BEGIN_REQ
  for (unsigned k = 0; k < 4; ++k) b.ini[0]->read(kBase0 + k * 64, 64);
  const auto other = b.ini[1]->read(kBase1, 64, ns(5));
  ASSERT_TRUE(b.run());
  b.expect_clean();
  // Requests 0..2 are granted at 0, 1, 2 ns; request 0 reaches the target at 2 ns and is
  // accepted at 22 ns; only then is there room for request 3.
  EXPECT_EQ(b.ini[0]->record(0).end_req, SC_ZERO_TIME);
  EXPECT_EQ(b.ini[0]->record(2).end_req, t * 2);
  EXPECT_EQ(b.ini[0]->record(3).end_req, ns(22));
  // The target sees one request per accept time.
  const auto& arr = b.mem[0]->arrivals;
  ASSERT_EQ(arr.size(), 4u);
  EXPECT_EQ(arr[0].time, ns(2));
  EXPECT_EQ(arr[1].time, ns(22));
  EXPECT_EQ(arr[2].time, ns(42));
  EXPECT_EQ(arr[3].time, ns(62));
  // Port 1's request to the other target is not blocked.
  EXPECT_EQ(b.ini[1]->record(other).end_req, ns(5));
  EXPECT_EQ(b.mem[1]->arrivals.at(0).time, ns(7));
  EXPECT_EQ(b.stat("stall_cycles"), 22u - 3u);  // request 3: eligible at 3 ns, granted at 22
}

TEST(Interconnect, AnnotatedBeginReqIsNotGrantedBeforeItTakesEffect) {
  fresh_systemc();
  StatsRegistry stats;
  InterconnectConfig cfg;  // 1 GHz, 2 cycles
  Interconnect noc("noc", cfg, {{kBase0, kSize, 0}}, stats);
  DelayedInitiator late("late", kBase0, SC_ZERO_TIME, ns(10));  // takes effect at 10 ns
  AtTestInitiator other("other");
  ProtocolChecker chk_late("chk_late"), chk_other("chk_other"), chk_mem("chk_mem");
  const auto mem_ptr = test_memory("mem", kBase0, kSize);
  AtTestMemory& mem = *mem_ptr;
  late.socket.bind(chk_late.in);
  chk_late.out.bind(noc.in);
  other.socket.bind(chk_other.in);
  chk_other.out.bind(noc.in);
  noc.out.bind(chk_mem.in);
  chk_mem.out.bind(mem.socket);
  other.read(kBase0 + 64, 64, ns(5));  // arbitration runs at 5 ns for this one
  ASSERT_TRUE(run_until_done(other));
  sc_core::sc_start(ns(50));  // `late` is not an AtTestInitiator: run past its response
  EXPECT_EQ(other.record(0).end_req, ns(5));
  EXPECT_EQ(late.end_req, ns(10));
  EXPECT_EQ(late.begin_resp, ns(12));
  ASSERT_EQ(mem.arrivals.size(), 2u);
  EXPECT_EQ(mem.arrivals[1].time, ns(12));
  EXPECT_EQ(stats.value("noc.stall_cycles"), 0u);
  for (ProtocolChecker* c : {&chk_late, &chk_other, &chk_mem}) expect_clean(*c);
}

TEST(Interconnect, ResponsesToOneInitiatorAreSerialised) {
  Bench b(InterconnectConfig{});  // 1 GHz, 2 cycles, 64-byte path
  b.mem[0]->latency = ns(10);     // request granted at 0 ns, at the target at 2 ns -> 12 ns
  b.mem[1]->latency = ns(9);      // granted at 1 ns, at the target at 3 ns -> 12 ns
  AtTestInitiator& ini = *b.ini[0];
  ini.set_response_mode(AtTestInitiator::ResponseMode::kExplicitEndResp);
  ini.set_end_resp_delay(ns(3));
  const auto a = ini.read(kBase0, 64);
  const auto c = ini.read(kBase1, 64);
  ASSERT_TRUE(b.run());
  b.expect_clean();
  // Both targets answer at 12 ns; the second response waits for END_RESP of the first.
  const sc_time first = std::min(ini.record(a).begin_resp, ini.record(c).begin_resp);
  const sc_time second = std::max(ini.record(a).begin_resp, ini.record(c).begin_resp);
  EXPECT_EQ(first, ns(12));
  EXPECT_EQ(second, ns(15));
  EXPECT_EQ(sc_core::sc_time_stamp(), ns(18));
  EXPECT_TRUE(ini.record(a).ok());
  EXPECT_TRUE(ini.record(c).ok());
}

TEST(Interconnect, BTransportAndTransportDbgAreRoutedByAddress) {
  Bench b(InterconnectConfig{});
  b.mem[1]->latency = ns(10);
  AtTestInitiator& ini = *b.ini[0];
  std::vector<unsigned char> data = {9, 8, 7, 6};
  Payload dbg;
  set_request(dbg, tlm::TLM_WRITE_COMMAND, kBase1 + 0x10, data.data(), 4);
  unsigned dbg_count = 0, unmapped_count = 1;
  std::vector<unsigned char> rdata(4, 0);
  Payload rd;
  set_request(rd, tlm::TLM_READ_COMMAND, kBase1 + 0x10, rdata.data(), 4);
  sc_time b_delay;
  sc_core::sc_spawn([&] {
    dbg_count = ini.socket->transport_dbg(dbg);
    Payload unmapped;
    set_request(unmapped, tlm::TLM_READ_COMMAND, 0x5000, rdata.data(), 4);
    unmapped_count = ini.socket->transport_dbg(unmapped);
    ini.socket->b_transport(rd, b_delay);
  });
  sc_core::sc_start(ns(1));
  EXPECT_EQ(dbg_count, 4u);
  EXPECT_EQ(unmapped_count, 0u);
  EXPECT_EQ(b.mem[1]->at(kBase1 + 0x12), 7);
  EXPECT_TRUE(rd.is_response_ok());
  EXPECT_EQ(rdata, (std::vector<unsigned char>{9, 8, 7, 6}));
  // Unloaded request latency (2 cycles at 1 GHz, one beat) plus the target's 10 ns.
  EXPECT_EQ(b_delay, ns(12));
  b.expect_clean();
}

TEST(Interconnect, ConfigurationIsValidated) {
  StatsRegistry stats;
  const auto make = [&](InterconnectConfig cfg, std::vector<AddressRange> map = {{0, 16, 0}}) {
    fresh_systemc();
    Interconnect noc("noc", cfg, std::move(map), stats);
  };
  EXPECT_NO_THROW(make(InterconnectConfig{}));
  InterconnectConfig c;
  c.width_bytes = 3;
  EXPECT_THROW(make(c), std::invalid_argument);
  c.width_bytes = 1025;
  EXPECT_THROW(make(c), std::invalid_argument);
  c = {};
  c.latency_cycles = 1001;
  EXPECT_THROW(make(c), std::invalid_argument);
  c = {};
  c.clock_mhz = 0;
  EXPECT_THROW(make(c), std::invalid_argument);
  c = {};
  c.arbitration = "lottery";
  EXPECT_THAT([&] { make(c); },
              ThrowsMessage<std::invalid_argument>(AllOf(
                  HasSubstr("lottery"), HasSubstr("round_robin"), HasSubstr("fixed_priority"))));
  EXPECT_THROW(make(InterconnectConfig{}, {{0, 16, 0}, {8, 16, 1}}), std::invalid_argument);
  EXPECT_THROW(make(InterconnectConfig{}, {{0, 0, 0}}), std::invalid_argument);
}

TEST(Interconnect, ArbiterRegistry) {
  EXPECT_EQ(sasim::mem::arbiter_names(),
            (std::vector<std::string>{"fixed_priority", "round_robin"}));
  auto rr = sasim::mem::make_arbiter("round_robin");
  const std::vector<bool> all = {true, true, true};
  EXPECT_EQ(rr->pick(all), 0u);
  EXPECT_EQ(rr->pick(all), 1u);
  EXPECT_EQ(rr->pick(all), 2u);
  EXPECT_EQ(rr->pick(all), 0u);
  EXPECT_EQ(rr->pick({false, false, true}), 2u);
  EXPECT_EQ(rr->pick({true, false, true}), 0u);  // wraps after port 2
  auto fp = sasim::mem::make_arbiter("fixed_priority");
  EXPECT_EQ(fp->pick(all), 0u);
  EXPECT_EQ(fp->pick(all), 0u);
  EXPECT_EQ(fp->pick({false, true, true}), 1u);
  EXPECT_THROW(sasim::mem::make_arbiter("random"), std::invalid_argument);
}

}  // namespace
}  // namespace sasim::mem::test
