// ProtocolChecker: every rule is broken on purpose by a small misbehaving initiator or target
// scripted in the test, and the checker must name it; correct exchanges (AtTestInitiator against
// a correct AT memory target in every protocol style) must produce no violation.
#define SC_INCLUDE_DYNAMIC_PROCESSES
#include <gtest/gtest.h>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <systemc>
#include <tlm>
#include <tuple>
#include <utility>
#include <vector>

#include "support/at_test_memory.hpp"
#include "support/mem_bench.hpp"

namespace sasim::mem::test {
namespace {

using sc_core::sc_time;
using sc_core::SC_ZERO_TIME;
using Payload = tlm::tlm_generic_payload;

// Runs f in a new thread process at absolute time `when`.
void at(sc_time when, std::function<void()> f) {
  sc_core::sc_spawn([when, f] {
    if (when > sc_core::sc_time_stamp()) sc_core::wait(when - sc_core::sc_time_stamp());
    f();
  });
}

// A correct AT memory target: 64 KiB at address 0, END_REQ 2 ns after BEGIN_REQ, BEGIN_RESP
// 10 ns after END_REQ, in any of the four request styles (AtTestMemory::Style).
struct MemTarget : AtTestMemory {
  explicit MemTarget(sc_core::sc_module_name name) : AtTestMemory(name, 0, 1 << 16) {}
};

// ---------------------------------------------------------------------------
// Raw components whose every call is scripted by the test.
// ---------------------------------------------------------------------------

// Payloads with a memory manager that keeps them alive for the test.
class TestPayloads : public tlm::tlm_mm_interface {
 public:
  Payload& make(tlm::tlm_command cmd, std::uint64_t addr, unsigned len, bool with_mm = true) {
    auto e = std::make_unique<Entry>();
    e->data.assign(len, 0);
    e->gp = with_mm ? std::make_unique<Payload>(this) : std::make_unique<Payload>();
    Payload& gp = *e->gp;
    set_request(gp, cmd, addr, e->data.data(), len);
    if (with_mm) gp.acquire();  // the test's reference, never released
    entries_.push_back(std::move(e));
    return gp;
  }
  void free(Payload*) override {}

 private:
  struct Entry {
    std::vector<unsigned char> data;
    std::unique_ptr<Payload> gp;
  };
  std::vector<std::unique_ptr<Entry>> entries_;
};

struct Call {
  tlm::tlm_phase phase;
  sc_time time;
};

class RawInitiator : public sc_core::sc_module {
 public:
  tlm_utils::simple_initiator_socket<RawInitiator> socket;
  // Answer to nb_transport_bw (default: TLM_ACCEPTED, phase unchanged).
  std::function<tlm::tlm_sync_enum(Payload&, tlm::tlm_phase&, sc_time&)> on_bw;
  std::vector<Call> bw_calls;

  explicit RawInitiator(sc_core::sc_module_name name) : sc_core::sc_module(name), socket("socket") {
    socket.register_nb_transport_bw(this, &RawInitiator::nb_transport_bw);
  }

  // nb_transport_fw with `phase` and `delay`; returns the status, `phase` is updated.
  tlm::tlm_sync_enum fw(Payload& gp, tlm::tlm_phase& phase, sc_time delay = SC_ZERO_TIME) {
    return socket->nb_transport_fw(gp, phase, delay);
  }
  tlm::tlm_sync_enum fw(Payload& gp, const tlm::tlm_phase& phase, sc_time delay = SC_ZERO_TIME) {
    tlm::tlm_phase p = phase;
    return fw(gp, p, delay);
  }

 private:
  tlm::tlm_sync_enum nb_transport_bw(Payload& gp, tlm::tlm_phase& phase, sc_time& delay) {
    bw_calls.push_back({phase, sc_core::sc_time_stamp() + delay});
    return on_bw ? on_bw(gp, phase, delay) : tlm::TLM_ACCEPTED;
  }
};

class RawTarget : public sc_core::sc_module {
 public:
  tlm_utils::simple_target_socket<RawTarget> socket;
  // Answer to nb_transport_fw (default: TLM_ACCEPTED, phase unchanged).
  std::function<tlm::tlm_sync_enum(Payload&, tlm::tlm_phase&, sc_time&)> on_fw;
  std::function<unsigned(Payload&)> on_dbg;
  std::vector<Payload*> received;  // payloads of BEGIN_REQ calls

  explicit RawTarget(sc_core::sc_module_name name) : sc_core::sc_module(name), socket("socket") {
    socket.register_nb_transport_fw(this, &RawTarget::nb_transport_fw);
    socket.register_transport_dbg(this, &RawTarget::transport_dbg);
  }

  tlm::tlm_sync_enum bw(Payload& gp, const tlm::tlm_phase& phase, sc_time delay = SC_ZERO_TIME) {
    tlm::tlm_phase p = phase;
    return socket->nb_transport_bw(gp, p, delay);
  }

 private:
  tlm::tlm_sync_enum nb_transport_fw(Payload& gp, tlm::tlm_phase& phase, sc_time& delay) {
    if (phase == tlm::BEGIN_REQ) received.push_back(&gp);
    return on_fw ? on_fw(gp, phase, delay) : tlm::TLM_ACCEPTED;
  }
  unsigned transport_dbg(Payload& gp) { return on_dbg ? on_dbg(gp) : 0; }
};

// ini -> chk -> tgt, in a fresh SystemC context. The checker reports each violation with
// SC_REPORT_ERROR (which throws) only if report_errors; it always records them.
template <class Initiator, class Target>
struct Chain : FreshContext {
  template <class... InitiatorArg>
  explicit Chain(bool report_errors = false, InitiatorArg... initiator_args)
      : ini("ini", initiator_args...), chk("chk", report_errors), tgt("tgt") {
    ini.socket.bind(chk.in);
    chk.out.bind(tgt.socket);
  }
  Payload& read(std::uint64_t addr, unsigned len = 4) {
    return payloads.make(tlm::TLM_READ_COMMAND, addr, len);
  }
  // Two reads (4 bytes at 0 and at 8) whose BEGIN_REQs are sent at 0 ns and at `second_at`.
  std::pair<Payload&, Payload&> two_reads(sc_time second_at) {
    Payload& first = read(0);
    Payload& second = read(8);
    at(SC_ZERO_TIME, [this, &first] { ini.fw(first, tlm::BEGIN_REQ); });
    at(second_at, [this, &second] { ini.fw(second, tlm::BEGIN_REQ); });
    return {first, second};
  }
  // Violations other than `rule`.
  std::vector<std::string> others(const std::string& rule) const {
    std::vector<std::string> v;
    for (const auto& s : chk.violations())
      if (s.rfind("[" + rule + "]", 0) != 0) v.push_back(s);
    return v;
  }

  Initiator ini;
  ProtocolChecker chk;
  Target tgt;
  TestPayloads payloads;
};

// Every call scripted by the test; reporting off.
using RawBench = Chain<RawInitiator, RawTarget>;

// A target answer: OK status and BEGIN_RESP for gp at the current time.
void respond(RawTarget& tgt, Payload& gp, sc_time delay = SC_ZERO_TIME) {
  gp.set_response_status(tlm::TLM_OK_RESPONSE);
  tgt.bw(gp, tlm::BEGIN_RESP, delay);
}

// RawTarget::on_fw answers: END_REQ on the return path of BEGIN_REQ, taking effect `after` later;
// TLM_COMPLETED to anything else.
auto end_req_on_return(sc_time after = SC_ZERO_TIME) {
  return [after](Payload&, tlm::tlm_phase& phase, sc_time& delay) {
    if (phase != tlm::BEGIN_REQ) return tlm::TLM_COMPLETED;
    phase = tlm::END_REQ;
    delay += after;
    return tlm::TLM_UPDATED;
  };
}

// RawTarget::on_fw answer: complete every request at once with an OK response.
tlm::tlm_sync_enum complete_ok(Payload& gp, tlm::tlm_phase&, sc_time&) {
  gp.set_response_status(tlm::TLM_OK_RESPONSE);
  return tlm::TLM_COMPLETED;
}

// ---------------------------------------------------------------------------
// Correct exchanges
// ---------------------------------------------------------------------------

using Mode = AtTestInitiator::ResponseMode;
using Style = AtTestMemory::Style;

class CorrectExchange : public ::testing::TestWithParam<std::tuple<Style, Mode>> {};

std::string ExchangeName(const ::testing::TestParamInfo<CorrectExchange::ParamType>& info) {
  static const char* const kStyles[] = {"Backward", "ReturnEndReq", "ReturnBeginResp",
                                        "ReturnCompleted"};
  static const char* const kModes[] = {"InitiatorCompletes", "InitiatorUpdates",
                                       "InitiatorEndResp"};
  return std::string(kStyles[static_cast<int>(std::get<0>(info.param))]) + "_" +
         kModes[static_cast<int>(std::get<1>(info.param))];
}

TEST_P(CorrectExchange, ProducesNoViolationAndCorrectData) {
  // Reporting on: a violation would also throw.
  Chain<AtTestInitiator, MemTarget> bench(/*report_errors=*/true, /*max_outstanding=*/3u);
  bench.tgt.style = std::get<0>(GetParam());
  bench.ini.set_response_mode(std::get<1>(GetParam()));
  bench.ini.set_end_resp_delay(ns(3));

  std::vector<std::size_t> reads;
  for (unsigned i = 0; i < 6; ++i) {
    std::vector<std::uint8_t> data(16);
    for (unsigned b = 0; b < data.size(); ++b) data[b] = static_cast<std::uint8_t>(i * 16 + b);
    bench.ini.write(0x100 + 16 * i, data);
  }
  bench.ini.write(0x100, std::vector<std::uint8_t>(16, 0xEE), SC_ZERO_TIME, {0x00, 0xFF});
  for (unsigned i = 0; i < 6; ++i) reads.push_back(bench.ini.read(0x100 + 16 * i, 16, ns(5)));
  bench.ini.read(0x20000, 4);  // outside the target: address error, still a correct exchange

  ASSERT_TRUE(run_until_done(bench.ini));
  EXPECT_TRUE(bench.chk.violations().empty()) << joined(bench.chk.violations());
  EXPECT_EQ(bench.chk.transactions_started(), bench.ini.size());
  EXPECT_EQ(bench.chk.transactions_completed(), bench.ini.size());
  EXPECT_EQ(bench.chk.in_flight(), 0u);
  EXPECT_EQ(bench.ini.payloads_in_use(), 0u);
  if (bench.tgt.style != Style::kReturnCompleted) {
    EXPECT_GT(bench.ini.max_outstanding_seen(), 1u);
  }
  EXPECT_LE(bench.ini.max_outstanding_seen(), 3u);
  for (unsigned i = 0; i < reads.size(); ++i) {
    const auto& r = bench.ini.record(reads[i]);
    ASSERT_TRUE(r.ok());
    for (unsigned b = 0; b < 16; ++b) {
      const std::uint8_t want = i == 0 && b % 2 == 1 ? 0xEE : static_cast<std::uint8_t>(i * 16 + b);
      EXPECT_EQ(r.data[b], want) << "read " << i << " byte " << b;
    }
    EXPECT_LE(r.begin_req, r.end_req);
    EXPECT_LE(r.end_req, r.begin_resp);
    EXPECT_LE(r.begin_resp, r.end_resp);
    EXPECT_GE(r.latency(), ns(12)) << "accept 2 ns + latency 10 ns";
  }
  EXPECT_EQ(bench.ini.record(bench.ini.size() - 1).status, tlm::TLM_ADDRESS_ERROR_RESPONSE);
  bench.chk.check_idle();
  EXPECT_TRUE(bench.chk.violations().empty());
}

INSTANTIATE_TEST_SUITE_P(
    AllStyles, CorrectExchange,
    ::testing::Combine(::testing::Values(Style::kBackward, Style::kReturnEndReq,
                                         Style::kReturnBeginResp, Style::kReturnCompleted),
                       ::testing::Values(Mode::kReturnCompleted, Mode::kReturnUpdated,
                                         Mode::kExplicitEndResp)),
    ExchangeName);

TEST(ProtocolChecker, UnloadedTimingOfTheBackwardStyleIsExact) {
  Chain<AtTestInitiator, MemTarget> bench(/*report_errors=*/true);
  const auto id = bench.ini.read(0x40, 8, ns(7));
  ASSERT_TRUE(run_until_done(bench.ini));
  const auto& r = bench.ini.record(id);
  EXPECT_EQ(r.begin_req, ns(7));
  EXPECT_EQ(r.end_req, ns(9));
  EXPECT_EQ(r.begin_resp, ns(19));
  EXPECT_EQ(r.end_resp, ns(19));
  EXPECT_EQ(sc_core::sc_time_stamp(), ns(19));
  EXPECT_TRUE(bench.chk.violations().empty()) << joined(bench.chk.violations());
}

TEST(ProtocolChecker, ForwardsBTransportAndTransportDbg) {
  Chain<RawInitiator, MemTarget> bench(/*report_errors=*/true);
  Payload& w = bench.payloads.make(tlm::TLM_WRITE_COMMAND, 0x10, 4);
  std::memcpy(w.get_data_ptr(), "\x11\x22\x33\x44", 4);
  Payload& d = bench.payloads.make(tlm::TLM_READ_COMMAND, 0x10, 4);
  sc_time b_delay;
  unsigned dbg_count = 0;
  at(ns(1), [&] {
    bench.ini.socket->b_transport(w, b_delay);
    dbg_count = bench.ini.socket->transport_dbg(d);
  });
  sc_core::sc_start(ns(10));
  EXPECT_TRUE(w.is_response_ok());
  EXPECT_EQ(b_delay, bench.tgt.latency);
  EXPECT_EQ(bench.tgt.at(0x12), 0x33);
  EXPECT_EQ(dbg_count, 4u);
  EXPECT_EQ(d.get_data_ptr()[3], 0x44);
  EXPECT_EQ(bench.chk.b_transport_calls(), 1u);
  EXPECT_TRUE(bench.chk.violations().empty()) << joined(bench.chk.violations());
}

// ---------------------------------------------------------------------------
// One test per rule
// ---------------------------------------------------------------------------

TEST(ProtocolChecker, PhaseSequenceSecondEndReq) {
  RawBench b;
  Payload& a = b.read(0);
  at(ns(0), [&] { b.ini.fw(a, tlm::BEGIN_REQ); });
  at(ns(1), [&] { b.tgt.bw(a, tlm::END_REQ); });
  at(ns(2), [&] { b.tgt.bw(a, tlm::END_REQ); });  // again
  sc_core::sc_start(ns(10));
  ASSERT_EQ(b.chk.count(ProtocolChecker::kPhaseSequence), 1u) << joined(b.chk.violations());
  EXPECT_NE(b.chk.violations()[0].find("END_REQ"), std::string::npos);
  EXPECT_TRUE(b.others(ProtocolChecker::kPhaseSequence).empty());
}

TEST(ProtocolChecker, PhaseSequenceEndRespBeforeBeginRespAndUnknownTransaction) {
  RawBench b;
  Payload& a = b.read(0);
  Payload& stranger = b.read(8);
  at(ns(0), [&] { b.ini.fw(a, tlm::BEGIN_REQ); });
  at(ns(1), [&] { b.tgt.bw(a, tlm::END_REQ); });
  at(ns(2), [&] { b.ini.fw(a, tlm::END_RESP); });  // no BEGIN_RESP yet
  at(ns(3), [&] { respond(b.tgt, stranger); });    // never requested
  sc_core::sc_start(ns(10));
  EXPECT_EQ(b.chk.count(ProtocolChecker::kPhaseSequence), 2u) << joined(b.chk.violations());
  EXPECT_TRUE(b.others(ProtocolChecker::kPhaseSequence).empty()) << joined(b.chk.violations());
}

TEST(ProtocolChecker, PhaseDirection) {
  RawBench b;
  Payload& a = b.read(0);
  at(ns(0), [&] { b.ini.fw(a, tlm::BEGIN_REQ); });
  at(ns(1), [&] { b.ini.fw(a, tlm::END_REQ); });   // END_REQ comes from the target
  at(ns(2), [&] { b.tgt.bw(a, tlm::END_RESP); });  // END_RESP comes from the initiator
  sc_core::sc_start(ns(10));
  EXPECT_EQ(b.chk.count(ProtocolChecker::kPhaseDirection), 2u) << joined(b.chk.violations());
  EXPECT_TRUE(b.others(ProtocolChecker::kPhaseDirection).empty()) << joined(b.chk.violations());
}

TEST(ProtocolChecker, RequestExclusionInCallOrder) {
  RawBench b;  // the target accepts and never sends END_REQ
  b.two_reads(ns(5));
  sc_core::sc_start(ns(10));
  ASSERT_EQ(b.chk.count(ProtocolChecker::kRequestExclusion), 1u) << joined(b.chk.violations());
  EXPECT_TRUE(b.others(ProtocolChecker::kRequestExclusion).empty());
}

TEST(ProtocolChecker, RequestExclusionInEffectiveTime) {
  // END_REQ is returned with a 10 ns annotation: the channel frees at 10 ns, not at once.
  for (const double second_at : {5.0, 10.0}) {
    RawBench b;
    b.tgt.on_fw = end_req_on_return(ns(10));
    b.two_reads(ns(second_at));
    sc_core::sc_start(ns(20));
    EXPECT_EQ(b.chk.count(ProtocolChecker::kRequestExclusion), second_at < 10 ? 1u : 0u)
        << second_at << "\n"
        << joined(b.chk.violations());
    EXPECT_TRUE(b.others(ProtocolChecker::kRequestExclusion).empty());
  }
}

TEST(ProtocolChecker, ResponseExclusionInCallOrder) {
  RawBench b;
  b.tgt.on_fw = end_req_on_return();
  const auto [a, c] = b.two_reads(ns(1));
  at(ns(2), [&] { respond(b.tgt, a); });  // initiator answers TLM_ACCEPTED: END_RESP pending
  at(ns(3), [&] { respond(b.tgt, c); });  // before END_RESP of a
  sc_core::sc_start(ns(10));
  ASSERT_EQ(b.chk.count(ProtocolChecker::kResponseExclusion), 1u) << joined(b.chk.violations());
  EXPECT_TRUE(b.others(ProtocolChecker::kResponseExclusion).empty());
}

TEST(ProtocolChecker, ResponseExclusionInEffectiveTime) {
  // The initiator answers BEGIN_RESP with END_RESP 10 ns later (TLM_UPDATED + delay).
  for (const double second_at : {6.0, 12.0}) {
    RawBench b;
    b.tgt.on_fw = end_req_on_return();
    b.ini.on_bw = [](Payload&, tlm::tlm_phase& phase, sc_time& delay) {
      phase = tlm::END_RESP;
      delay += ns(10);
      return tlm::TLM_UPDATED;
    };
    const auto [a, c] = b.two_reads(ns(1));
    at(ns(2), [&] { respond(b.tgt, a); });  // END_RESP takes effect at 12 ns
    at(ns(second_at), [&] { respond(b.tgt, c); });
    sc_core::sc_start(ns(30));
    EXPECT_EQ(b.chk.count(ProtocolChecker::kResponseExclusion), second_at < 12 ? 1u : 0u)
        << second_at << "\n"
        << joined(b.chk.violations());
    EXPECT_TRUE(b.others(ProtocolChecker::kResponseExclusion).empty());
  }
}

TEST(ProtocolChecker, ResponseStatusAtBeginRespAndEarlyCompletion) {
  RawBench b;
  b.tgt.on_fw = [](Payload& gp, tlm::tlm_phase& phase, sc_time&) {
    if (phase == tlm::BEGIN_REQ && gp.get_address() == 8) return tlm::TLM_COMPLETED;  // no status
    return tlm::TLM_ACCEPTED;
  };
  Payload& a = b.read(0);
  Payload& c = b.read(8);
  at(ns(0), [&] { b.ini.fw(a, tlm::BEGIN_REQ); });
  at(ns(1), [&] { b.tgt.bw(a, tlm::BEGIN_RESP); });  // status still incomplete
  at(ns(2), [&] { b.ini.fw(a, tlm::END_RESP); });
  at(ns(3), [&] { b.ini.fw(c, tlm::BEGIN_REQ); });
  sc_core::sc_start(ns(10));
  EXPECT_EQ(b.chk.count(ProtocolChecker::kResponseStatus), 2u) << joined(b.chk.violations());
  EXPECT_TRUE(b.others(ProtocolChecker::kResponseStatus).empty()) << joined(b.chk.violations());
}

TEST(ProtocolChecker, PayloadInit) {
  RawBench b;
  b.tgt.on_fw = complete_ok;
  static unsigned char be[4] = {0xFF, 0xFF, 0xFF, 0xFF};
  std::vector<Payload*> bad;
  for (int i = 0; i < 6; ++i) bad.push_back(&b.read(16 * i));
  bad[0]->set_data_ptr(nullptr);
  bad[1]->set_data_length(0);
  bad[2]->set_streaming_width(0);
  bad[3]->set_byte_enable_ptr(be);  // length left 0
  bad[4]->set_response_status(tlm::TLM_OK_RESPONSE);
  bad[5]->set_dmi_allowed(true);
  Payload& good = b.read(0x100);
  at(ns(0), [&] {
    for (Payload* p : bad) b.ini.fw(*p, tlm::BEGIN_REQ);
    b.ini.fw(good, tlm::BEGIN_REQ);
  });
  sc_core::sc_start(ns(10));
  EXPECT_EQ(b.chk.count(ProtocolChecker::kPayloadInit), 6u) << joined(b.chk.violations());
  EXPECT_TRUE(b.others(ProtocolChecker::kPayloadInit).empty()) << joined(b.chk.violations());
  EXPECT_EQ(b.chk.transactions_completed(), 7u);
}

TEST(ProtocolChecker, PayloadModifiedByTheTarget) {
  RawBench b;
  b.ini.on_bw = [](Payload&, tlm::tlm_phase&, sc_time&) { return tlm::TLM_COMPLETED; };
  Payload& a = b.read(0x40);
  at(ns(0), [&] { b.ini.fw(a, tlm::BEGIN_REQ); });
  at(ns(1), [&] {
    a.set_address(0x80);  // e.g. an interconnect that forgot to restore a translated address
    a.set_data_length(2);
    respond(b.tgt, a);
  });
  sc_core::sc_start(ns(10));
  ASSERT_EQ(b.chk.count(ProtocolChecker::kPayloadModified), 1u) << joined(b.chk.violations());
  EXPECT_NE(b.chk.violations()[0].find("address, data length"), std::string::npos)
      << b.chk.violations()[0];
  EXPECT_TRUE(b.others(ProtocolChecker::kPayloadModified).empty());
}

TEST(ProtocolChecker, MemoryManager) {
  RawBench b;
  b.tgt.on_fw = complete_ok;
  Payload& no_mm = b.payloads.make(tlm::TLM_READ_COMMAND, 0, 4, /*with_mm=*/false);
  Payload& zero_refs = b.read(8);
  zero_refs.release();  // the test pool's free() keeps it alive; ref count is now 0
  at(ns(0), [&] {
    b.ini.fw(no_mm, tlm::BEGIN_REQ);
    b.ini.fw(zero_refs, tlm::BEGIN_REQ);
  });
  sc_core::sc_start(ns(10));
  EXPECT_EQ(b.chk.count(ProtocolChecker::kMemoryManager), 2u) << joined(b.chk.violations());
  EXPECT_TRUE(b.others(ProtocolChecker::kMemoryManager).empty());
}

TEST(ProtocolChecker, ReturnValueAcceptedWithChangedPhase) {
  RawBench b;
  b.tgt.on_fw = [](Payload&, tlm::tlm_phase& phase, sc_time&) {
    phase = tlm::END_REQ;
    return tlm::TLM_ACCEPTED;  // should be TLM_UPDATED
  };
  Payload& a = b.read(0);
  at(ns(0), [&] { b.ini.fw(a, tlm::BEGIN_REQ); });
  sc_core::sc_start(ns(10));
  ASSERT_EQ(b.chk.count(ProtocolChecker::kReturnValue), 1u) << joined(b.chk.violations());
  EXPECT_NE(b.chk.violations()[0].find("TLM_ACCEPTED"), std::string::npos);
  EXPECT_TRUE(b.others(ProtocolChecker::kReturnValue).empty());
}

TEST(ProtocolChecker, ReturnValueUpdatedWithoutNewPhaseAndUpdatedEndResp) {
  RawBench b;
  b.tgt.on_fw = [](Payload&, tlm::tlm_phase&, sc_time&) { return tlm::TLM_UPDATED; };
  b.ini.on_bw = [](Payload&, tlm::tlm_phase&, sc_time&) { return tlm::TLM_UPDATED; };
  Payload& a = b.read(0);
  at(ns(0), [&] { b.ini.fw(a, tlm::BEGIN_REQ); });  // UPDATED, phase still BEGIN_REQ
  at(ns(1), [&] { respond(b.tgt, a); });            // UPDATED, phase still BEGIN_RESP
  at(ns(2), [&] { b.ini.fw(a, tlm::END_RESP); });   // UPDATED in reply to END_RESP
  sc_core::sc_start(ns(10));
  EXPECT_EQ(b.chk.count(ProtocolChecker::kReturnValue), 3u) << joined(b.chk.violations());
  EXPECT_TRUE(b.others(ProtocolChecker::kReturnValue).empty()) << joined(b.chk.violations());
}

TEST(ProtocolChecker, TimingGoesBackwards) {
  RawBench b;
  b.tgt.on_fw = end_req_on_return(ns(10));  // END_REQ takes effect at 10 ns
  b.ini.on_bw = [](Payload&, tlm::tlm_phase&, sc_time&) { return tlm::TLM_COMPLETED; };
  Payload& a = b.read(0);
  at(ns(0), [&] { b.ini.fw(a, tlm::BEGIN_REQ); });
  at(ns(5), [&] { respond(b.tgt, a); });  // BEGIN_RESP at 5 ns, before END_REQ at 10 ns
  sc_core::sc_start(ns(20));
  ASSERT_EQ(b.chk.count(ProtocolChecker::kTiming), 1u) << joined(b.chk.violations());
  EXPECT_TRUE(b.others(ProtocolChecker::kTiming).empty());
}

TEST(ProtocolChecker, DebugTransportCount) {
  RawBench b;
  b.tgt.on_dbg = [](Payload& gp) { return gp.get_data_length() + 4; };
  Payload& a = b.read(0, 8);
  unsigned n = 0;
  at(ns(0), [&] { n = b.ini.socket->transport_dbg(a); });
  sc_core::sc_start(ns(1));
  EXPECT_EQ(n, 12u);  // forwarded unchanged
  EXPECT_EQ(b.chk.count(ProtocolChecker::kDebugTransport), 1u) << joined(b.chk.violations());
  EXPECT_TRUE(b.others(ProtocolChecker::kDebugTransport).empty());
}

TEST(ProtocolChecker, IncompleteAtCheckIdle) {
  RawBench b;
  Payload& a = b.read(0);
  at(ns(0), [&] { b.ini.fw(a, tlm::BEGIN_REQ); });
  at(ns(1), [&] { b.tgt.bw(a, tlm::END_REQ); });  // and never a response
  sc_core::sc_start(ns(10));
  EXPECT_TRUE(b.chk.violations().empty()) << joined(b.chk.violations());
  EXPECT_EQ(b.chk.in_flight(), 1u);
  b.chk.check_idle();
  ASSERT_EQ(b.chk.count(ProtocolChecker::kIncomplete), 1u);
  EXPECT_NE(b.chk.violations()[0].find("waiting for BEGIN_RESP"), std::string::npos);
}

TEST(ProtocolChecker, ReportsWithScReportErrorUnlessDisabled) {
  Chain<RawInitiator, RawTarget> bench(/*report_errors=*/true);
  Payload& a = bench.payloads.make(tlm::TLM_READ_COMMAND, 0, 4);
  Payload& c = bench.payloads.make(tlm::TLM_READ_COMMAND, 8, 4);
  at(ns(0), [&] {
    bench.ini.fw(a, tlm::BEGIN_REQ);
    bench.ini.fw(c, tlm::BEGIN_REQ);  // request exclusion
  });
  try {
    sc_core::sc_start(ns(10));
    ADD_FAILURE() << "no SC_REPORT_ERROR";
  } catch (const sc_core::sc_report& r) {
    EXPECT_STREQ(r.get_msg_type(), ProtocolChecker::kMsgType);
    EXPECT_NE(std::string(r.get_msg()).find("[request_exclusion]"), std::string::npos);
  }
  EXPECT_EQ(bench.chk.count(ProtocolChecker::kRequestExclusion), 1u);
}

}  // namespace
}  // namespace sasim::mem::test
