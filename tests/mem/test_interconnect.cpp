// Interconnect: routing, address errors, exact request latency, the bandwidth cap of the shared
// path, arbitration (round robin, fixed priority), target backpressure, b_transport /
// transport_dbg routing, configuration checks; ProtocolCheckers on both sides of every run.
#define SC_INCLUDE_DYNAMIC_PROCESSES
#include <gtest/gtest.h>
#include <tlm_utils/peq_with_cb_and_phase.h>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

#include <cstdint>
#include <cstring>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <systemc>
#include <tlm>
#include <vector>

#include "at_test_initiator.hpp"
#include "sasim/mem/interconnect.hpp"
#include "sasim/mem/protocol_checker.hpp"
#include "sasim/sim/stats.hpp"
#include "sc_test.hpp"

// libsystemc references sc_main; gtest_main provides main(), so this is never called.
int sc_main(int, char**) { return 0; }

namespace {

using sasim::mem::AddressRange;
using sasim::mem::Interconnect;
using sasim::mem::InterconnectConfig;
using sasim::mem::ProtocolChecker;
using sasim::mem::test::AtTestInitiator;
using sasim::mem::test::fresh_systemc;
using sasim::mem::test::run_until_done;
using sasim::sim::StatsRegistry;
using sc_core::SC_NS;
using sc_core::sc_time;
using sc_core::SC_ZERO_TIME;
using Payload = tlm::tlm_generic_payload;

sc_time ns(double v) { return sc_time(v, SC_NS); }

std::string joined(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += x + "\n";
  return s;
}

// A minimal AT memory target for [base, base + size): END_REQ accept_delay after BEGIN_REQ (at
// once through TLM_UPDATED when accept_delay is 0), BEGIN_RESP `latency` after END_REQ, one
// response at a time. Records when and which requests arrived.
class TestMemory : public sc_core::sc_module {
 public:
  struct Arrival {
    sc_time time;
    std::uint64_t address;
  };

  tlm_utils::simple_target_socket<TestMemory> socket;
  sc_time accept_delay = SC_ZERO_TIME;
  sc_time latency = SC_ZERO_TIME;
  std::vector<Arrival> arrivals;

  SC_HAS_PROCESS(TestMemory);
  TestMemory(sc_core::sc_module_name name, std::uint64_t base, std::uint64_t size)
      : sc_core::sc_module(name),
        socket("socket"),
        base_(base),
        mem_(size),
        req_peq_("req_peq", this, &TestMemory::on_end_req_due),
        resp_peq_("resp_peq", this, &TestMemory::on_resp_ready) {
    socket.register_nb_transport_fw(this, &TestMemory::nb_transport_fw);
    socket.register_b_transport(this, &TestMemory::b_transport);
    socket.register_transport_dbg(this, &TestMemory::transport_dbg);
    SC_METHOD(try_respond);
    sensitive << retry_;
    dont_initialize();
  }

  std::uint8_t& at(std::uint64_t addr) { return mem_.at(addr - base_); }

 private:
  void access(Payload& gp) {
    const std::uint64_t a = gp.get_address();
    const unsigned n = gp.get_data_length();
    if (a < base_ || a - base_ + n > mem_.size()) {
      gp.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
      return;
    }
    if (gp.is_read()) std::memcpy(gp.get_data_ptr(), &mem_[a - base_], n);
    if (gp.is_write()) std::memcpy(&mem_[a - base_], gp.get_data_ptr(), n);
    gp.set_response_status(tlm::TLM_OK_RESPONSE);
  }

  tlm::tlm_sync_enum nb_transport_fw(Payload& gp, tlm::tlm_phase& phase, sc_time& delay) {
    if (phase == tlm::END_RESP) {
      in_progress_ = nullptr;
      busy_until_ = sc_core::sc_time_stamp() + delay;
      gp.release();
      retry_.notify(delay);
      return tlm::TLM_COMPLETED;
    }
    arrivals.push_back({sc_core::sc_time_stamp() + delay, gp.get_address()});
    gp.acquire();
    if (accept_delay == SC_ZERO_TIME) {
      resp_peq_.notify(gp, tlm::BEGIN_RESP, delay + latency);
      phase = tlm::END_REQ;
      return tlm::TLM_UPDATED;
    }
    req_peq_.notify(gp, tlm::END_REQ, delay + accept_delay);
    return tlm::TLM_ACCEPTED;
  }

  void on_end_req_due(Payload& gp, const tlm::tlm_phase&) {
    tlm::tlm_phase phase = tlm::END_REQ;
    sc_time delay = SC_ZERO_TIME;
    socket->nb_transport_bw(gp, phase, delay);
    resp_peq_.notify(gp, tlm::BEGIN_RESP, latency);
  }

  void on_resp_ready(Payload& gp, const tlm::tlm_phase&) {
    ready_.push_back(&gp);
    try_respond();
  }

  void try_respond() {
    while (in_progress_ == nullptr && !ready_.empty()) {
      if (busy_until_ > sc_core::sc_time_stamp()) {
        retry_.notify(busy_until_ - sc_core::sc_time_stamp());
        return;
      }
      Payload& gp = *ready_.front();
      ready_.pop_front();
      access(gp);
      tlm::tlm_phase phase = tlm::BEGIN_RESP;
      sc_time delay = SC_ZERO_TIME;
      in_progress_ = &gp;
      if (socket->nb_transport_bw(gp, phase, delay) != tlm::TLM_ACCEPTED) {
        in_progress_ = nullptr;
        busy_until_ = sc_core::sc_time_stamp() + delay;
        gp.release();
      }
    }
  }

  void b_transport(Payload& gp, sc_time& delay) {
    access(gp);
    delay += latency;
  }

  unsigned transport_dbg(Payload& gp) {
    access(gp);
    return gp.is_response_ok() ? gp.get_data_length() : 0;
  }

  std::uint64_t base_;
  std::vector<std::uint8_t> mem_;
  tlm_utils::peq_with_cb_and_phase<TestMemory> req_peq_, resp_peq_;
  std::deque<Payload*> ready_;
  Payload* in_progress_ = nullptr;
  sc_time busy_until_;
  sc_core::sc_event retry_;
};

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
    gp_->set_command(tlm::TLM_READ_COMMAND);
    gp_->set_address(addr);
    gp_->set_data_ptr(data_);
    gp_->set_data_length(sizeof data_);
    gp_->set_streaming_width(sizeof data_);
    gp_->set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
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
  std::vector<std::unique_ptr<TestMemory>> mem;

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
      mem.push_back(
          std::make_unique<TestMemory>(("mem" + n).c_str(), j == 0 ? kBase0 : kBase1, kSize));
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
    for (auto* list : {&ini_chk, &tgt_chk}) {
      for (auto& c : *list) {
        c->check_idle();
        EXPECT_TRUE(c->violations().empty()) << c->name() << "\n" << joined(c->violations());
      }
    }
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
  InterconnectConfig cfg;
  cfg.clock_mhz = GetParam().clock_mhz;
  cfg.latency_cycles = GetParam().latency_cycles;
  cfg.width_bytes = 64;
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
  InterconnectConfig cfg;
  cfg.width_bytes = 32;
  cfg.latency_cycles = 2;
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
  InterconnectConfig cfg;
  cfg.width_bytes = 64;
  cfg.latency_cycles = 2;
  cfg.arbitration = "round_robin";
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
  InterconnectConfig cfg;
  cfg.width_bytes = 64;
  cfg.latency_cycles = 2;
  cfg.arbitration = "fixed_priority";
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
  InterconnectConfig cfg;
  cfg.width_bytes = 64;
  cfg.latency_cycles = 2;  // room for latency + 1 = 3 requests per target
  Bench b(cfg, 2);
  const sc_time t = b.noc->clock_period();
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
  TestMemory mem("mem", kBase0, kSize);
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
  for (ProtocolChecker* c : {&chk_late, &chk_other, &chk_mem}) {
    c->check_idle();
    EXPECT_TRUE(c->violations().empty()) << joined(c->violations());
  }
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
  sasim::mem::test::AtTestInitiator& ini = *b.ini[0];
  std::vector<unsigned char> data = {9, 8, 7, 6};
  Payload dbg;
  dbg.set_command(tlm::TLM_WRITE_COMMAND);
  dbg.set_address(kBase1 + 0x10);
  dbg.set_data_ptr(data.data());
  dbg.set_data_length(4);
  dbg.set_streaming_width(4);
  unsigned dbg_count = 0, unmapped_count = 1;
  std::vector<unsigned char> rdata(4, 0);
  Payload rd;
  rd.set_command(tlm::TLM_READ_COMMAND);
  rd.set_address(kBase1 + 0x10);
  rd.set_data_ptr(rdata.data());
  rd.set_data_length(4);
  rd.set_streaming_width(4);
  rd.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
  sc_time b_delay;
  sc_core::sc_spawn([&] {
    dbg_count = ini.socket->transport_dbg(dbg);
    Payload unmapped;
    unmapped.set_command(tlm::TLM_READ_COMMAND);
    unmapped.set_address(0x5000);
    unmapped.set_data_ptr(rdata.data());
    unmapped.set_data_length(4);
    unmapped.set_streaming_width(4);
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
  try {
    make(c);
    ADD_FAILURE() << "unknown arbitration accepted";
  } catch (const std::invalid_argument& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("lottery"), std::string::npos) << msg;
    EXPECT_NE(msg.find("round_robin"), std::string::npos) << msg;
    EXPECT_NE(msg.find("fixed_priority"), std::string::npos) << msg;
  }
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
