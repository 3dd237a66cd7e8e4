// AtInitiator: a scripted approximately-timed (4-phase base protocol) TLM-2.0 initiator, used by
// the memory-system tests and the traffic job (sasim mem).
//
// Usage:
//   AtInitiator init("init", /*max_outstanding=*/4);
//   init.socket.bind(target.socket);
//   const std::size_t w = init.write(0x100, {1, 2, 3, 4}, sc_core::SC_ZERO_TIME);
//   const std::size_t r = init.read(0x100, 4, sc_core::sc_time(10, sc_core::SC_NS));
//   ASSERT_TRUE(run_until_done(init));
//   EXPECT_EQ(init.record(r).data, (std::vector<std::uint8_t>{1, 2, 3, 4}));
//   EXPECT_EQ(init.record(r).begin_resp - init.record(r).begin_req, ...);
//
// Scripting. read() / write() append one transaction to the script and return its id (0, 1, 2,
// ... in script order). They may be called before sc_start or between sc_start calls. The
// transactions are issued strictly in script order; transaction i sends BEGIN_REQ at the earliest
// time t such that
//   - t >= not_before (an absolute simulation time),
//   - t >= the BEGIN_REQ time of transaction i-1,
//   - the request channel is free: the previous request got END_REQ (explicit, or implicit
//     through BEGIN_RESP / TLM_COMPLETED) at or before t (backpressure is honoured),
//   - fewer than max_outstanding transactions are in flight (sent, END_RESP not yet reached).
// BEGIN_REQ is always sent with a zero annotated delay.
//
// Protocol handling (base protocol, IEEE 1666-2011 clause 15.2):
//   - nb_transport_fw may return TLM_ACCEPTED, TLM_UPDATED with END_REQ or BEGIN_RESP, or
//     TLM_COMPLETED; annotated delays are honoured (the phase takes effect at now + delay).
//   - nb_transport_bw accepts END_REQ (returns TLM_ACCEPTED) and BEGIN_RESP. How BEGIN_RESP is
//     answered is selectable (set_response_mode):
//       kReturnCompleted (default): return TLM_COMPLETED on the backward return path;
//       kReturnUpdated:             return TLM_UPDATED with phase END_RESP;
//       kExplicitEndResp:           return TLM_ACCEPTED and send END_RESP through a separate
//                                   nb_transport_fw call end_resp_delay after BEGIN_RESP (this
//                                   exercises response backpressure in the target).
//     A BEGIN_RESP that arrives on the forward return path (TLM_UPDATED) is always answered
//     by an explicit END_RESP call (end_resp_delay later).
//   - Anything the initiator cannot accept (a phase for an unknown transaction, a backward
//     BEGIN_REQ / END_RESP) is reported with SC_REPORT_ERROR; use ProtocolChecker for a full
//     compliance check.
//
// Recording. For every transaction, Record holds the command, address, length, data (write: the
// data sent; read: the payload's data as it was at BEGIN_RESP), byte enables, response status,
// and the times of BEGIN_REQ sent, END_REQ received (the BEGIN_RESP time if END_REQ was
// implicit), BEGIN_RESP received and END_RESP (transaction complete at this initiator).
// Read data buffers are filled with kPoison before the request is sent, so a target that does
// not write the data is visible in the record.
//
// Memory management. Payloads come from a pool owned by the initiator (PayloadPool in
// sc_test.hpp, their tlm_mm_interface); each has its own data / byte-enable buffers. The
// initiator holds one reference from BEGIN_REQ to its END_RESP; targets that keep the payload
// longer acquire() / release() it themselves. payloads_in_use() is 0 once every transaction is
// complete and every component released its references (a leak check for tests).
#pragma once

#include <tlm_utils/peq_with_cb_and_phase.h>
#include <tlm_utils/simple_initiator_socket.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <initializer_list>
#include <memory>
#include <string>
#include <systemc>
#include <tlm>
#include <unordered_map>
#include <utility>
#include <vector>

#include "sasim/mem/payload_pool.hpp"

namespace sasim::mem {

class AtInitiator : public sc_core::sc_module {
 public:
  static constexpr std::uint8_t kPoison = 0xCD;

  enum class ResponseMode { kReturnCompleted, kReturnUpdated, kExplicitEndResp };

  struct Record {
    tlm::tlm_command command = tlm::TLM_IGNORE_COMMAND;
    std::uint64_t address = 0;
    unsigned length = 0;
    std::vector<std::uint8_t> data;         // write: sent; read: received at BEGIN_RESP
    std::vector<std::uint8_t> byte_enable;  // empty: no byte enables
    sc_core::sc_time not_before;
    tlm::tlm_response_status status = tlm::TLM_INCOMPLETE_RESPONSE;
    sc_core::sc_time begin_req;   // BEGIN_REQ sent
    sc_core::sc_time end_req;     // END_REQ received (or implied by BEGIN_RESP / TLM_COMPLETED)
    sc_core::sc_time begin_resp;  // BEGIN_RESP received (or implied by TLM_COMPLETED)
    sc_core::sc_time end_resp;    // END_RESP: transaction complete at the initiator
    bool issued = false;
    bool done = false;

    bool ok() const { return status == tlm::TLM_OK_RESPONSE; }
    // BEGIN_REQ to BEGIN_RESP.
    sc_core::sc_time latency() const { return begin_resp - begin_req; }
  };

  tlm_utils::simple_initiator_socket<AtInitiator> socket;

  // max_outstanding: transactions in flight at once (>= 1).
  AtInitiator(sc_core::sc_module_name name, unsigned max_outstanding = 1)
      : sc_core::sc_module(name),
        socket("socket"),
        max_outstanding_(std::max(1u, max_outstanding)),
        phase_peq_("phase_peq", this, &AtInitiator::on_phase),
        end_resp_peq_("end_resp_peq", this, &AtInitiator::on_end_resp_due) {
    socket.register_nb_transport_bw(this, &AtInitiator::nb_transport_bw);
    SC_HAS_PROCESS(AtInitiator);
    SC_THREAD(issue_thread);
  }

  AtInitiator(const AtInitiator&) = delete;
  AtInitiator& operator=(const AtInitiator&) = delete;

  // Appends a read of len bytes at addr, sent no earlier than not_before (absolute time).
  std::size_t read(std::uint64_t addr, unsigned len,
                   sc_core::sc_time not_before = sc_core::SC_ZERO_TIME) {
    Record r;
    r.command = tlm::TLM_READ_COMMAND;
    r.address = addr;
    r.length = len;
    r.data.assign(len, kPoison);
    r.not_before = not_before;
    return append(std::move(r));
  }

  // Appends a write of data at addr. byte_enable (optional) follows TLM semantics: one entry per
  // byte, 0x00 disables and 0xFF enables the byte, the pattern repeats over the transfer.
  std::size_t write(std::uint64_t addr, std::vector<std::uint8_t> data,
                    sc_core::sc_time not_before = sc_core::SC_ZERO_TIME,
                    std::vector<std::uint8_t> byte_enable = {}) {
    Record r;
    r.command = tlm::TLM_WRITE_COMMAND;
    r.address = addr;
    r.length = static_cast<unsigned>(data.size());
    r.data = std::move(data);
    r.byte_enable = std::move(byte_enable);
    r.not_before = not_before;
    return append(std::move(r));
  }

  void set_response_mode(ResponseMode mode) { mode_ = mode; }
  // Time between BEGIN_RESP and the explicit END_RESP (kExplicitEndResp, and BEGIN_RESP on the
  // forward return path).
  void set_end_resp_delay(sc_core::sc_time delay) { end_resp_delay_ = delay; }

  const Record& record(std::size_t id) const { return records_.at(id); }
  std::size_t size() const { return records_.size(); }
  std::size_t completed() const { return completed_; }
  bool all_done() const { return completed_ == records_.size(); }
  // Transactions sent whose END_RESP has not happened yet.
  unsigned outstanding() const { return outstanding_; }
  // Highest number of transactions in flight at once so far.
  unsigned max_outstanding_seen() const { return max_outstanding_seen_; }
  // Payloads allocated from the pool and not yet returned to it (leak check).
  std::size_t payloads_in_use() const { return pool_.in_use(); }
  // Notified when the last scripted transaction completes.
  const sc_core::sc_event& done_event() const { return done_event_; }

 private:
  // A pooled payload with buffers that live as long as the initiator.
  struct Payload : tlm::tlm_generic_payload {
    explicit Payload(tlm::tlm_mm_interface* mm) : tlm::tlm_generic_payload(mm) {}
    std::vector<std::uint8_t> data;
    std::vector<std::uint8_t> byte_enable;
  };

  struct InFlight {
    std::size_t id;
    bool end_req = false;   // END_REQ happened (explicitly or implicitly)
    bool answered = false;  // END_RESP already given on a return path
  };

  std::size_t append(Record r) {
    records_.push_back(std::move(r));
    script_event_.notify(sc_core::SC_ZERO_TIME);
    return records_.size() - 1;
  }

  void issue_thread() {
    for (;;) {
      while (next_ >= records_.size()) wait(script_event_);
      const Record& r = records_[next_];
      if (sc_core::sc_time_stamp() < r.not_before) wait(r.not_before - sc_core::sc_time_stamp());
      while (request_busy_ || outstanding_ >= max_outstanding_) wait(slot_event_);
      send_begin_req(next_++);
    }
  }

  void send_begin_req(std::size_t id) {
    Record& r = records_[id];
    Payload* p = pool_.allocate();
    p->data = r.data;
    p->byte_enable = r.byte_enable;
    set_request(*p, r.command, r.address, p->data.data(), r.length,
                p->byte_enable.empty() ? nullptr : p->byte_enable.data(),
                static_cast<unsigned>(p->byte_enable.size()));
    p->acquire();

    r.issued = true;
    r.begin_req = sc_core::sc_time_stamp();
    inflight_.emplace(p, InFlight{id});
    request_busy_ = true;
    ++outstanding_;
    max_outstanding_seen_ = std::max(max_outstanding_seen_, outstanding_);

    tlm::tlm_phase phase = tlm::BEGIN_REQ;
    sc_core::sc_time delay = sc_core::SC_ZERO_TIME;
    const tlm::tlm_sync_enum status = socket->nb_transport_fw(*p, phase, delay);
    switch (status) {
      case tlm::TLM_ACCEPTED:
        break;
      case tlm::TLM_UPDATED:
        if (phase == tlm::END_REQ || phase == tlm::BEGIN_RESP) {
          phase_peq_.notify(*p, phase, delay);
        } else {
          error("nb_transport_fw returned TLM_UPDATED with an illegal phase", *p);
        }
        break;
      case tlm::TLM_COMPLETED:
        inflight_.at(p).answered = true;
        phase_peq_.notify(*p, tlm::BEGIN_RESP, delay);
        break;
    }
  }

  tlm::tlm_sync_enum nb_transport_bw(tlm::tlm_generic_payload& gp, tlm::tlm_phase& phase,
                                     sc_core::sc_time& delay) {
    const auto it = inflight_.find(&gp);
    if (it == inflight_.end()) {
      error("nb_transport_bw for a transaction that is not in flight", gp);
      return tlm::TLM_ACCEPTED;
    }
    if (phase == tlm::END_REQ) {
      phase_peq_.notify(gp, phase, delay);
      return tlm::TLM_ACCEPTED;
    }
    if (phase != tlm::BEGIN_RESP) {
      error("nb_transport_bw with an illegal phase", gp);
      return tlm::TLM_ACCEPTED;
    }
    phase_peq_.notify(gp, phase, delay);
    switch (mode_) {
      case ResponseMode::kReturnCompleted:
        it->second.answered = true;
        return tlm::TLM_COMPLETED;
      case ResponseMode::kReturnUpdated:
        it->second.answered = true;
        phase = tlm::END_RESP;
        return tlm::TLM_UPDATED;
      case ResponseMode::kExplicitEndResp:
        break;
    }
    return tlm::TLM_ACCEPTED;
  }

  // Phases taking effect (after their annotated delay).
  void on_phase(tlm::tlm_generic_payload& gp, const tlm::tlm_phase& phase) {
    const auto it = inflight_.find(&gp);
    if (it == inflight_.end()) {
      error("phase for a transaction that is not in flight", gp);
      return;
    }
    InFlight& f = it->second;
    Record& r = records_[f.id];
    if (!f.end_req) {  // explicit END_REQ, or implied by BEGIN_RESP
      f.end_req = true;
      r.end_req = sc_core::sc_time_stamp();
      request_busy_ = false;
      slot_event_.notify();
    }
    if (phase == tlm::END_REQ) return;

    r.begin_resp = sc_core::sc_time_stamp();
    r.status = gp.get_response_status();
    if (r.command == tlm::TLM_READ_COMMAND)
      std::copy_n(gp.get_data_ptr(), r.length, r.data.begin());
    if (f.answered) {
      finish(gp);
    } else {
      end_resp_peq_.notify(gp, tlm::END_RESP, end_resp_delay_);
    }
  }

  void on_end_resp_due(tlm::tlm_generic_payload& gp, const tlm::tlm_phase&) {
    tlm::tlm_phase phase = tlm::END_RESP;
    sc_core::sc_time delay = sc_core::SC_ZERO_TIME;
    const tlm::tlm_sync_enum status = socket->nb_transport_fw(gp, phase, delay);
    if (status == tlm::TLM_UPDATED) error("nb_transport_fw(END_RESP) returned TLM_UPDATED", gp);
    finish(gp);
  }

  void finish(tlm::tlm_generic_payload& gp) {
    const auto it = inflight_.find(&gp);
    Record& r = records_[it->second.id];
    r.end_resp = sc_core::sc_time_stamp();
    r.done = true;
    inflight_.erase(it);
    --outstanding_;
    ++completed_;
    gp.release();
    slot_event_.notify();
    if (all_done()) done_event_.notify();
  }

  void error(const std::string& what, const tlm::tlm_generic_payload& gp) {
    const auto it = inflight_.find(const_cast<tlm::tlm_generic_payload*>(&gp));
    const std::string id = it == inflight_.end() ? std::string("?") : std::to_string(it->second.id);
    SC_REPORT_ERROR("sasim/mem/AtInitiator",
                    (std::string(name()) + ": " + what + " (transaction " + id + ")").c_str());
  }

  const unsigned max_outstanding_;
  ResponseMode mode_ = ResponseMode::kReturnCompleted;
  sc_core::sc_time end_resp_delay_ = sc_core::SC_ZERO_TIME;

  std::deque<Record> records_;  // deque: references stay valid while the script grows
  std::size_t next_ = 0;        // next record to issue
  std::size_t completed_ = 0;
  unsigned outstanding_ = 0;
  unsigned max_outstanding_seen_ = 0;
  bool request_busy_ = false;  // BEGIN_REQ sent, END_REQ not yet in effect

  std::unordered_map<tlm::tlm_generic_payload*, InFlight> inflight_;
  PayloadPool<Payload> pool_;

  sc_core::sc_event script_event_, slot_event_, done_event_;
  tlm_utils::peq_with_cb_and_phase<AtInitiator> phase_peq_;
  tlm_utils::peq_with_cb_and_phase<AtInitiator> end_resp_peq_;
};

// Runs the simulation until every given initiator completed its script, the simulation runs out
// of activity, or `limit` of simulated time passed. Returns whether all are done. Stops at the
// exact time the last transaction completed, so sc_time_stamp() is the end of the run.
inline bool run_until_done(const std::vector<const AtInitiator*>& initiators,
                           sc_core::sc_time limit = sc_core::sc_time(1, sc_core::SC_MS)) {
  const auto done = [&] {
    return std::all_of(initiators.begin(), initiators.end(),
                       [](const AtInitiator* i) { return i->all_done(); });
  };
  const sc_core::sc_time deadline = sc_core::sc_time_stamp() + limit;
  // Run the first delta cycles so the issue threads see a script appended before sc_start.
  if (!done()) sc_core::sc_start(sc_core::SC_ZERO_TIME);
  while (!done() && sc_core::sc_pending_activity()) {
    const sc_core::sc_time now = sc_core::sc_time_stamp();
    if (now >= deadline) break;
    sc_core::sc_time step = sc_core::sc_time_to_pending_activity();
    if (now + step > deadline) step = deadline - now;
    sc_core::sc_start(step);
  }
  return done();
}

inline bool run_until_done(std::initializer_list<const AtInitiator*> initiators,
                           sc_core::sc_time limit = sc_core::sc_time(1, sc_core::SC_MS)) {
  return run_until_done(std::vector<const AtInitiator*>(initiators), limit);
}

inline bool run_until_done(const AtInitiator& initiator,
                           sc_core::sc_time limit = sc_core::sc_time(1, sc_core::SC_MS)) {
  return run_until_done({&initiator}, limit);
}

}  // namespace sasim::mem
