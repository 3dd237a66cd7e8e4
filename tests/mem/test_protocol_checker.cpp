// ProtocolChecker: every rule is broken on purpose by a small misbehaving initiator or target
// scripted in the test, and the checker must name it; correct exchanges (AtTestInitiator against
// a correct AT memory target in every protocol style) must produce no violation.
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
#include <tuple>
#include <vector>

#include "at_test_initiator.hpp"
#include "sasim/mem/protocol_checker.hpp"
#include "sc_test.hpp"

// libsystemc references sc_main; gtest_main provides main(), so this is never called.
int sc_main(int, char**) { return 0; }

namespace {

using sasim::mem::ProtocolChecker;
using sasim::mem::test::AtTestInitiator;
using sasim::mem::test::fresh_systemc;
using sasim::mem::test::run_until_done;
using sc_core::SC_NS;
using sc_core::sc_time;
using sc_core::SC_ZERO_TIME;
using Payload = tlm::tlm_generic_payload;

sc_time ns(double v) { return sc_time(v, SC_NS); }

// Runs f in a new thread process at absolute time `when`.
void at(sc_time when, std::function<void()> f) {
  sc_core::sc_spawn([when, f] {
    if (when > sc_core::sc_time_stamp()) sc_core::wait(when - sc_core::sc_time_stamp());
    f();
  });
}

std::string joined(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += x + "\n";
  return s;
}

// ---------------------------------------------------------------------------
// A correct AT memory target (64 KiB at address 0) in four request styles.
// ---------------------------------------------------------------------------
class MemTarget : public sc_core::sc_module {
 public:
  enum class Style {
    kBackward,         // TLM_ACCEPTED, END_REQ later through nb_transport_bw
    kReturnEndReq,     // TLM_UPDATED + END_REQ (annotated delay) on the return path
    kReturnBeginResp,  // TLM_UPDATED + BEGIN_RESP on the return path when the response path is idle
    kReturnCompleted,  // TLM_COMPLETED on the return path (early completion)
  };

  tlm_utils::simple_target_socket<MemTarget> socket;
  Style style = Style::kBackward;
  sc_time accept_delay = ns(2);  // BEGIN_REQ -> END_REQ
  sc_time latency = ns(10);      // END_REQ -> BEGIN_RESP

  SC_HAS_PROCESS(MemTarget);
  explicit MemTarget(sc_core::sc_module_name name)
      : sc_core::sc_module(name),
        socket("socket"),
        mem_(1 << 16),
        req_peq_("req_peq", this, &MemTarget::on_end_req_due),
        resp_peq_("resp_peq", this, &MemTarget::on_resp_ready) {
    socket.register_nb_transport_fw(this, &MemTarget::nb_transport_fw);
    socket.register_b_transport(this, &MemTarget::b_transport);
    socket.register_transport_dbg(this, &MemTarget::transport_dbg);
    SC_METHOD(try_respond);
    sensitive << retry_;
    dont_initialize();
  }

  std::uint8_t* mem() { return mem_.data(); }

 private:
  void access(Payload& gp) {
    const std::uint64_t a = gp.get_address();
    const unsigned n = gp.get_data_length();
    if (a + n > mem_.size()) {
      gp.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
      return;
    }
    const unsigned char* be = gp.get_byte_enable_ptr();
    const unsigned be_len = gp.get_byte_enable_length();
    for (unsigned i = 0; i < n; ++i) {
      if (be != nullptr && be[i % be_len] == 0) continue;
      if (gp.is_read()) {
        gp.get_data_ptr()[i] = mem_[a + i];
      } else if (gp.is_write()) {
        mem_[a + i] = gp.get_data_ptr()[i];
      }
    }
    gp.set_response_status(tlm::TLM_OK_RESPONSE);
  }

  bool response_path_idle() const {
    return in_progress_ == nullptr && queued_ == 0 && busy_until_ <= sc_core::sc_time_stamp();
  }

  tlm::tlm_sync_enum nb_transport_fw(Payload& gp, tlm::tlm_phase& phase, sc_time& delay) {
    if (phase == tlm::END_RESP) {
      EXPECT_EQ(&gp, in_progress_);
      in_progress_ = nullptr;
      busy_until_ = sc_core::sc_time_stamp() + delay;
      gp.release();
      retry_.notify(delay);
      return tlm::TLM_COMPLETED;
    }
    EXPECT_EQ(phase, tlm::BEGIN_REQ);
    switch (style) {
      case Style::kBackward:
        ++queued_;
        gp.acquire();
        req_peq_.notify(gp, tlm::END_REQ, delay + accept_delay);
        return tlm::TLM_ACCEPTED;
      case Style::kReturnEndReq:
        ++queued_;
        gp.acquire();
        delay += accept_delay;
        resp_peq_.notify(gp, tlm::BEGIN_RESP, delay + latency);
        phase = tlm::END_REQ;
        return tlm::TLM_UPDATED;
      case Style::kReturnBeginResp:
        if (!response_path_idle()) {
          ++queued_;
          gp.acquire();
          req_peq_.notify(gp, tlm::END_REQ, delay + accept_delay);
          return tlm::TLM_ACCEPTED;
        }
        gp.acquire();
        access(gp);
        in_progress_ = &gp;
        delay += accept_delay + latency;
        phase = tlm::BEGIN_RESP;
        return tlm::TLM_UPDATED;
      case Style::kReturnCompleted:
        access(gp);
        delay += accept_delay + latency;
        return tlm::TLM_COMPLETED;
    }
    return tlm::TLM_ACCEPTED;
  }

  void on_end_req_due(Payload& gp, const tlm::tlm_phase&) {
    tlm::tlm_phase phase = tlm::END_REQ;
    sc_time delay = SC_ZERO_TIME;
    EXPECT_EQ(socket->nb_transport_bw(gp, phase, delay), tlm::TLM_ACCEPTED);
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
      --queued_;
      access(gp);
      tlm::tlm_phase phase = tlm::BEGIN_RESP;
      sc_time delay = SC_ZERO_TIME;
      switch (socket->nb_transport_bw(gp, phase, delay)) {
        case tlm::TLM_ACCEPTED:
          in_progress_ = &gp;
          break;
        case tlm::TLM_UPDATED:
          EXPECT_EQ(phase, tlm::END_RESP);
          [[fallthrough]];
        case tlm::TLM_COMPLETED:
          busy_until_ = sc_core::sc_time_stamp() + delay;
          gp.release();
          break;
      }
    }
  }

  void b_transport(Payload& gp, sc_time& delay) {
    access(gp);
    delay += latency;
  }

  unsigned transport_dbg(Payload& gp) {
    const unsigned n = gp.get_data_length();
    if (gp.get_address() + n > mem_.size()) return 0;
    if (gp.is_read()) std::memcpy(gp.get_data_ptr(), &mem_[gp.get_address()], n);
    if (gp.is_write()) std::memcpy(&mem_[gp.get_address()], gp.get_data_ptr(), n);
    return n;
  }

  std::vector<std::uint8_t> mem_;
  tlm_utils::peq_with_cb_and_phase<MemTarget> req_peq_, resp_peq_;
  std::deque<Payload*> ready_;
  unsigned queued_ = 0;  // accepted, BEGIN_RESP not sent yet
  Payload* in_progress_ = nullptr;
  sc_time busy_until_;
  sc_core::sc_event retry_;
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
    gp.set_command(cmd);
    gp.set_address(addr);
    gp.set_data_ptr(e->data.data());
    gp.set_data_length(len);
    gp.set_streaming_width(len);
    gp.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
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

// RawInitiator -> ProtocolChecker (reporting off) -> RawTarget.
struct RawBench {
  RawInitiator ini{"ini"};
  ProtocolChecker chk{"chk", /*report_errors=*/false};
  RawTarget tgt{"tgt"};
  TestPayloads payloads;

  RawBench() {
    ini.socket.bind(chk.in);
    chk.out.bind(tgt.socket);
  }
  Payload& read(std::uint64_t addr, unsigned len = 4) {
    return payloads.make(tlm::TLM_READ_COMMAND, addr, len);
  }
  // Violations other than `rule`.
  std::vector<std::string> others(const std::string& rule) const {
    std::vector<std::string> v;
    for (const auto& s : chk.violations())
      if (s.rfind("[" + rule + "]", 0) != 0) v.push_back(s);
    return v;
  }
};

// A target answer: OK status and BEGIN_RESP for gp at the current time.
void respond(RawTarget& tgt, Payload& gp, sc_time delay = SC_ZERO_TIME) {
  gp.set_response_status(tlm::TLM_OK_RESPONSE);
  tgt.bw(gp, tlm::BEGIN_RESP, delay);
}

// ---------------------------------------------------------------------------
// Correct exchanges
// ---------------------------------------------------------------------------

using Mode = AtTestInitiator::ResponseMode;
using Style = MemTarget::Style;

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
  fresh_systemc();
  AtTestInitiator ini("ini", /*max_outstanding=*/3);
  ProtocolChecker chk("chk");  // reporting on: a violation would also throw
  MemTarget tgt("tgt");
  ini.socket.bind(chk.in);
  chk.out.bind(tgt.socket);
  tgt.style = std::get<0>(GetParam());
  ini.set_response_mode(std::get<1>(GetParam()));
  ini.set_end_resp_delay(ns(3));

  std::vector<std::size_t> reads;
  for (unsigned i = 0; i < 6; ++i) {
    std::vector<std::uint8_t> data(16);
    for (unsigned b = 0; b < data.size(); ++b) data[b] = static_cast<std::uint8_t>(i * 16 + b);
    ini.write(0x100 + 16 * i, data);
  }
  ini.write(0x100, std::vector<std::uint8_t>(16, 0xEE), SC_ZERO_TIME, {0x00, 0xFF});
  for (unsigned i = 0; i < 6; ++i) reads.push_back(ini.read(0x100 + 16 * i, 16, ns(5)));
  ini.read(0x20000, 4);  // outside the target: address error, still a correct exchange

  ASSERT_TRUE(run_until_done(ini));
  EXPECT_TRUE(chk.violations().empty()) << joined(chk.violations());
  EXPECT_EQ(chk.transactions_started(), ini.size());
  EXPECT_EQ(chk.transactions_completed(), ini.size());
  EXPECT_EQ(chk.in_flight(), 0u);
  EXPECT_EQ(ini.payloads_in_use(), 0u);
  if (tgt.style != Style::kReturnCompleted) {
    EXPECT_GT(ini.max_outstanding_seen(), 1u);
  }
  EXPECT_LE(ini.max_outstanding_seen(), 3u);
  for (unsigned i = 0; i < reads.size(); ++i) {
    const auto& r = ini.record(reads[i]);
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
  EXPECT_EQ(ini.record(ini.size() - 1).status, tlm::TLM_ADDRESS_ERROR_RESPONSE);
  chk.check_idle();
  EXPECT_TRUE(chk.violations().empty());
}

INSTANTIATE_TEST_SUITE_P(
    AllStyles, CorrectExchange,
    ::testing::Combine(::testing::Values(Style::kBackward, Style::kReturnEndReq,
                                         Style::kReturnBeginResp, Style::kReturnCompleted),
                       ::testing::Values(Mode::kReturnCompleted, Mode::kReturnUpdated,
                                         Mode::kExplicitEndResp)),
    ExchangeName);

TEST(ProtocolChecker, UnloadedTimingOfTheBackwardStyleIsExact) {
  fresh_systemc();
  AtTestInitiator ini("ini");
  ProtocolChecker chk("chk");
  MemTarget tgt("tgt");
  ini.socket.bind(chk.in);
  chk.out.bind(tgt.socket);
  const auto id = ini.read(0x40, 8, ns(7));
  ASSERT_TRUE(run_until_done(ini));
  const auto& r = ini.record(id);
  EXPECT_EQ(r.begin_req, ns(7));
  EXPECT_EQ(r.end_req, ns(9));
  EXPECT_EQ(r.begin_resp, ns(19));
  EXPECT_EQ(r.end_resp, ns(19));
  EXPECT_EQ(sc_core::sc_time_stamp(), ns(19));
  EXPECT_TRUE(chk.violations().empty()) << joined(chk.violations());
}

TEST(ProtocolChecker, ForwardsBTransportAndTransportDbg) {
  fresh_systemc();
  RawInitiator ini("ini");
  ProtocolChecker chk("chk");
  MemTarget tgt("tgt");
  ini.socket.bind(chk.in);
  chk.out.bind(tgt.socket);
  TestPayloads payloads;
  Payload& w = payloads.make(tlm::TLM_WRITE_COMMAND, 0x10, 4);
  std::memcpy(w.get_data_ptr(), "\x11\x22\x33\x44", 4);
  Payload& d = payloads.make(tlm::TLM_READ_COMMAND, 0x10, 4);
  sc_time b_delay;
  unsigned dbg_count = 0;
  at(ns(1), [&] {
    ini.socket->b_transport(w, b_delay);
    dbg_count = ini.socket->transport_dbg(d);
  });
  sc_core::sc_start(ns(10));
  EXPECT_TRUE(w.is_response_ok());
  EXPECT_EQ(b_delay, tgt.latency);
  EXPECT_EQ(tgt.mem()[0x12], 0x33);
  EXPECT_EQ(dbg_count, 4u);
  EXPECT_EQ(d.get_data_ptr()[3], 0x44);
  EXPECT_EQ(chk.b_transport_calls(), 1u);
  EXPECT_TRUE(chk.violations().empty()) << joined(chk.violations());
}

// ---------------------------------------------------------------------------
// One test per rule
// ---------------------------------------------------------------------------

TEST(ProtocolChecker, PhaseSequenceSecondEndReq) {
  fresh_systemc();
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
  fresh_systemc();
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
  fresh_systemc();
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
  fresh_systemc();
  RawBench b;  // the target accepts and never sends END_REQ
  Payload& a = b.read(0);
  Payload& c = b.read(8);
  at(ns(0), [&] { b.ini.fw(a, tlm::BEGIN_REQ); });
  at(ns(5), [&] { b.ini.fw(c, tlm::BEGIN_REQ); });
  sc_core::sc_start(ns(10));
  ASSERT_EQ(b.chk.count(ProtocolChecker::kRequestExclusion), 1u) << joined(b.chk.violations());
  EXPECT_TRUE(b.others(ProtocolChecker::kRequestExclusion).empty());
}

TEST(ProtocolChecker, RequestExclusionInEffectiveTime) {
  // END_REQ is returned with a 10 ns annotation: the channel frees at 10 ns, not at once.
  for (const double second_at : {5.0, 10.0}) {
    fresh_systemc();
    RawBench b;
    b.tgt.on_fw = [](Payload&, tlm::tlm_phase& phase, sc_time& delay) {
      if (phase != tlm::BEGIN_REQ) return tlm::TLM_COMPLETED;
      phase = tlm::END_REQ;
      delay += ns(10);
      return tlm::TLM_UPDATED;
    };
    Payload& a = b.read(0);
    Payload& c = b.read(8);
    at(ns(0), [&] { b.ini.fw(a, tlm::BEGIN_REQ); });
    at(ns(second_at), [&] { b.ini.fw(c, tlm::BEGIN_REQ); });
    sc_core::sc_start(ns(20));
    EXPECT_EQ(b.chk.count(ProtocolChecker::kRequestExclusion), second_at < 10 ? 1u : 0u)
        << second_at << "\n"
        << joined(b.chk.violations());
    EXPECT_TRUE(b.others(ProtocolChecker::kRequestExclusion).empty());
  }
}

TEST(ProtocolChecker, ResponseExclusionInCallOrder) {
  fresh_systemc();
  RawBench b;
  b.tgt.on_fw = [](Payload&, tlm::tlm_phase& phase, sc_time&) {
    if (phase != tlm::BEGIN_REQ) return tlm::TLM_COMPLETED;
    phase = tlm::END_REQ;
    return tlm::TLM_UPDATED;
  };
  Payload& a = b.read(0);
  Payload& c = b.read(8);
  at(ns(0), [&] { b.ini.fw(a, tlm::BEGIN_REQ); });
  at(ns(1), [&] { b.ini.fw(c, tlm::BEGIN_REQ); });
  at(ns(2), [&] { respond(b.tgt, a); });  // initiator answers TLM_ACCEPTED: END_RESP pending
  at(ns(3), [&] { respond(b.tgt, c); });  // before END_RESP of a
  sc_core::sc_start(ns(10));
  ASSERT_EQ(b.chk.count(ProtocolChecker::kResponseExclusion), 1u) << joined(b.chk.violations());
  EXPECT_TRUE(b.others(ProtocolChecker::kResponseExclusion).empty());
}

TEST(ProtocolChecker, ResponseExclusionInEffectiveTime) {
  // The initiator answers BEGIN_RESP with END_RESP 10 ns later (TLM_UPDATED + delay).
  for (const double second_at : {6.0, 12.0}) {
    fresh_systemc();
    RawBench b;
    b.tgt.on_fw = [](Payload&, tlm::tlm_phase& phase, sc_time&) {
      if (phase != tlm::BEGIN_REQ) return tlm::TLM_COMPLETED;
      phase = tlm::END_REQ;
      return tlm::TLM_UPDATED;
    };
    b.ini.on_bw = [](Payload&, tlm::tlm_phase& phase, sc_time& delay) {
      phase = tlm::END_RESP;
      delay += ns(10);
      return tlm::TLM_UPDATED;
    };
    Payload& a = b.read(0);
    Payload& c = b.read(8);
    at(ns(0), [&] { b.ini.fw(a, tlm::BEGIN_REQ); });
    at(ns(1), [&] { b.ini.fw(c, tlm::BEGIN_REQ); });
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
  fresh_systemc();
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
  fresh_systemc();
  RawBench b;
  b.tgt.on_fw = [](Payload& gp, tlm::tlm_phase&, sc_time&) {
    gp.set_response_status(tlm::TLM_OK_RESPONSE);
    return tlm::TLM_COMPLETED;
  };
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
  fresh_systemc();
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
  fresh_systemc();
  RawBench b;
  b.tgt.on_fw = [](Payload& gp, tlm::tlm_phase&, sc_time&) {
    gp.set_response_status(tlm::TLM_OK_RESPONSE);
    return tlm::TLM_COMPLETED;
  };
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
  fresh_systemc();
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
  fresh_systemc();
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
  fresh_systemc();
  RawBench b;
  b.tgt.on_fw = [](Payload&, tlm::tlm_phase& phase, sc_time& delay) {
    if (phase != tlm::BEGIN_REQ) return tlm::TLM_COMPLETED;
    phase = tlm::END_REQ;
    delay += ns(10);  // END_REQ takes effect at 10 ns
    return tlm::TLM_UPDATED;
  };
  b.ini.on_bw = [](Payload&, tlm::tlm_phase&, sc_time&) { return tlm::TLM_COMPLETED; };
  Payload& a = b.read(0);
  at(ns(0), [&] { b.ini.fw(a, tlm::BEGIN_REQ); });
  at(ns(5), [&] { respond(b.tgt, a); });  // BEGIN_RESP at 5 ns, before END_REQ at 10 ns
  sc_core::sc_start(ns(20));
  ASSERT_EQ(b.chk.count(ProtocolChecker::kTiming), 1u) << joined(b.chk.violations());
  EXPECT_TRUE(b.others(ProtocolChecker::kTiming).empty());
}

TEST(ProtocolChecker, DebugTransportCount) {
  fresh_systemc();
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
  fresh_systemc();
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
  fresh_systemc();
  RawInitiator ini("ini");
  ProtocolChecker chk("chk");  // reporting on
  RawTarget tgt("tgt");
  ini.socket.bind(chk.in);
  chk.out.bind(tgt.socket);
  TestPayloads payloads;
  Payload& a = payloads.make(tlm::TLM_READ_COMMAND, 0, 4);
  Payload& c = payloads.make(tlm::TLM_READ_COMMAND, 8, 4);
  at(ns(0), [&] {
    ini.fw(a, tlm::BEGIN_REQ);
    ini.fw(c, tlm::BEGIN_REQ);  // request exclusion
  });
  try {
    sc_core::sc_start(ns(10));
    ADD_FAILURE() << "no SC_REPORT_ERROR";
  } catch (const sc_core::sc_report& r) {
    EXPECT_STREQ(r.get_msg_type(), ProtocolChecker::kMsgType);
    EXPECT_NE(std::string(r.get_msg()).find("[request_exclusion]"), std::string::npos);
  }
  EXPECT_EQ(chk.count(ProtocolChecker::kRequestExclusion), 1u);
}

}  // namespace
