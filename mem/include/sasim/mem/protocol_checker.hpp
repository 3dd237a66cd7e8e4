// ProtocolChecker: a pass-through module that checks the TLM-2.0 approximately-timed base
// protocol (IEEE 1666-2011 clauses 14 and 15.2) on one hop. Place it between any initiator
// socket and target socket:
//
//   initiator.socket.bind(checker.in);
//   checker.out.bind(target.socket);
//
// Every call is forwarded unchanged (nb_transport_fw/bw, b_transport, transport_dbg,
// get_direct_mem_ptr, invalidate_direct_mem_ptr); the checker only observes. A phase takes effect
// at sc_time_stamp() + its annotated delay ("effective time"); the ordering rules below compare
// effective times, so a phase that is announced early with a delay does not free a channel early.
//
// Rules. Every violation message starts with "[<rule>] " naming one of:
//   phase_sequence     per transaction, phases in order BEGIN_REQ -> END_REQ (or implied by
//                      BEGIN_RESP / TLM_COMPLETED) -> BEGIN_RESP -> END_RESP; no phase for a
//                      transaction that is not in flight, no BEGIN_REQ for one that is, no
//                      b_transport during an nb_transport sequence.
//   phase_direction    BEGIN_REQ / END_RESP only from the initiator (forward call, backward return)
//                      and END_REQ / BEGIN_RESP only from the target (backward call, forward
//                      return); no unknown or uninitialized phase.
//   request_exclusion  no BEGIN_REQ on this hop before the previous request's END_REQ (explicit
//                      or implicit), in call order and in effective time.
//   response_exclusion no BEGIN_RESP on this hop before the previous response's END_RESP (explicit,
//                      or TLM_COMPLETED on the backward path), in call order and effective time.
//   response_status    the response status is set (not TLM_INCOMPLETE_RESPONSE) at BEGIN_RESP, at
//                      TLM_COMPLETED in reply to BEGIN_REQ, and after b_transport.
//   payload_init       at BEGIN_REQ (and b_transport): data pointer non-null and data length > 0
//                      (except TLM_IGNORE_COMMAND), streaming width > 0, byte-enable pointer and
//                      length both set or both clear, response status TLM_INCOMPLETE_RESPONSE,
//                      dmi_allowed false.
//   payload_modified   command, address, data pointer, data length, streaming width and byte-enable
//                      pointer/length are the same at every later phase as at BEGIN_REQ.
//   memory_manager     nb_transport payloads have a memory manager and a nonzero reference count.
//   return_value       TLM_ACCEPTED leaves the phase unchanged; TLM_UPDATED changes it; nothing
//                      but TLM_ACCEPTED / TLM_COMPLETED in reply to END_RESP.
//   timing             the effective time of a transaction's phases never decreases (a
//                      TLM_COMPLETED takes effect no earlier than the phase it answers).
//   debug_transport    transport_dbg returns at most the data length.
//   incomplete         (only from check_idle()) a transaction is still in flight.
//
// Decisions where the standard leaves room: a target may answer END_RESP with TLM_ACCEPTED or
// TLM_COMPLETED (both end the transaction on this hop); an initiator may answer END_REQ with
// TLM_COMPLETED (the transaction ends without a response, the status is not checked); an early
// completion (TLM_COMPLETED in reply to BEGIN_REQ) does not occupy the response channel.
//
// Violations are recorded (violations()) and, unless disabled, reported with SC_REPORT_ERROR
// (message type kMsgType), which by default throws sc_core::sc_report.
#pragma once

#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <systemc>
#include <tlm>
#include <unordered_map>
#include <vector>

#include "sasim/mem/callbacks.hpp"

namespace sasim::mem {

class ProtocolChecker : public sc_core::sc_module {
 public:
  static constexpr const char* kMsgType = "sasim/mem/protocol_checker";

  // Rule names (the bracketed first word of each violation).
  static constexpr const char* kPhaseSequence = "phase_sequence";
  static constexpr const char* kPhaseDirection = "phase_direction";
  static constexpr const char* kRequestExclusion = "request_exclusion";
  static constexpr const char* kResponseExclusion = "response_exclusion";
  static constexpr const char* kResponseStatus = "response_status";
  static constexpr const char* kPayloadInit = "payload_init";
  static constexpr const char* kPayloadModified = "payload_modified";
  static constexpr const char* kMemoryManager = "memory_manager";
  static constexpr const char* kReturnValue = "return_value";
  static constexpr const char* kTiming = "timing";
  static constexpr const char* kDebugTransport = "debug_transport";
  static constexpr const char* kIncomplete = "incomplete";

  tlm_utils::simple_target_socket<ProtocolChecker> in;      // towards the initiator
  tlm_utils::simple_initiator_socket<ProtocolChecker> out;  // towards the target

  // report_errors: also raise SC_REPORT_ERROR for every violation.
  explicit ProtocolChecker(sc_core::sc_module_name name, bool report_errors = true);

  ProtocolChecker(const ProtocolChecker&) = delete;
  ProtocolChecker& operator=(const ProtocolChecker&) = delete;

  const std::vector<std::string>& violations() const { return violations_; }
  // Number of recorded violations of `rule`.
  std::size_t count(std::string_view rule) const;
  void clear_violations() { violations_.clear(); }
  void set_report_errors(bool on) { report_errors_ = on; }

  // nb_transport transactions started (BEGIN_REQ) and completed on this hop, b_transport calls.
  std::uint64_t transactions_started() const { return started_; }
  std::uint64_t transactions_completed() const { return completed_; }
  std::uint64_t b_transport_calls() const { return b_calls_; }
  std::size_t in_flight() const { return txns_.size(); }

  // Records an `incomplete` violation for every transaction still in flight (call at the end of
  // a run that should have drained).
  void check_idle();

 private:
  friend struct mem::Callbacks;
  enum class State { kRequest, kRequestEnded, kResponse };

  // The transaction as seen at BEGIN_REQ, and its progress on this hop.
  struct Txn {
    State state = State::kRequest;
    sc_core::sc_time last;  // effective time of the latest phase
    tlm::tlm_command command = tlm::TLM_IGNORE_COMMAND;
    std::uint64_t address = 0;
    unsigned char* data = nullptr;
    unsigned length = 0;
    unsigned streaming_width = 0;
    unsigned char* byte_enable = nullptr;
    unsigned byte_enable_length = 0;
  };

  using Payload = tlm::tlm_generic_payload;
  // The request and the response channel of this hop: the transaction that
  // holds it (from BEGIN_x to END_x) and when the last one gave it up.
  struct Channel {
    const Payload* owner = nullptr;
    sc_core::sc_time free_at;  // effective time of the last END_x
    void release(const Payload& gp, sc_core::sc_time t) {
      if (owner != &gp) return;
      owner = nullptr;
      free_at = t;
    }
  };

  // Socket callbacks.
  tlm::tlm_sync_enum nb_transport_fw(Payload& gp, tlm::tlm_phase& phase, sc_core::sc_time& delay);
  tlm::tlm_sync_enum nb_transport_bw(Payload& gp, tlm::tlm_phase& phase, sc_core::sc_time& delay);
  tlm::tlm_sync_enum nb_transport(Payload& gp, tlm::tlm_phase& phase, sc_core::sc_time& delay,
                                  bool forward);
  void b_transport(Payload& gp, sc_core::sc_time& delay);
  unsigned transport_dbg(Payload& gp);
  bool get_direct_mem_ptr(Payload& gp, tlm::tlm_dmi& dmi);
  void invalidate_direct_mem_ptr(sc_dt::uint64 start, sc_dt::uint64 end);

  // Phase transitions (t: effective time, where: which call / return path).
  void initiator_phase(Payload& gp, const tlm::tlm_phase& phase, sc_core::sc_time t,
                       const char* where);
  void target_phase(Payload& gp, const tlm::tlm_phase& phase, sc_core::sc_time t,
                    const char* where);
  void begin_request(Payload& gp, sc_core::sc_time t);
  void check_exclusion(const char* rule, Payload& gp, sc_core::sc_time t, const Channel& channel,
                       const char* phase, const char* what);
  void end_request(Payload& gp, Txn& txn, sc_core::sc_time t);
  void begin_response(Payload& gp, sc_core::sc_time t, const char* where);
  void end_response(Payload& gp, sc_core::sc_time t, const char* where);
  // TLM_COMPLETED in reply to `answered` (sent to take effect at t_sent), effective at t.
  void complete(Payload& gp, const tlm::tlm_phase& answered, sc_core::sc_time t,
                sc_core::sc_time t_sent, const char* where);
  void after_return(Payload& gp, const tlm::tlm_phase& sent, const tlm::tlm_phase& phase,
                    tlm::tlm_sync_enum status, sc_core::sc_time t_sent, sc_core::sc_time t,
                    bool forward);

  // Checks.
  Txn* find(Payload& gp, const tlm::tlm_phase& phase, const char* where);
  void check_time(Payload& gp, Txn& txn, const tlm::tlm_phase& phase, sc_core::sc_time t);
  void check_init(const Payload& gp, const char* where);
  void check_mm(const Payload& gp, const char* where);
  void check_unmodified(const Payload& gp, const Txn& txn, const char* where);
  void check_status(const Payload& gp, const char* where);
  static Txn snapshot(const Payload& gp, sc_core::sc_time t);

  void violation(const char* rule, const Payload* gp, const std::string& what);

  bool report_errors_;
  std::vector<std::string> violations_;
  std::unordered_map<const Payload*, Txn> txns_;
  std::unordered_map<const Payload*, unsigned> b_calls_in_progress_;
  Channel request_, response_;
  std::uint64_t started_ = 0, completed_ = 0, b_calls_ = 0;
};

}  // namespace sasim::mem
