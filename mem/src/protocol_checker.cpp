#include "sasim/mem/protocol_checker.hpp"

#include <algorithm>
#include <sstream>

namespace sasim::mem {

namespace {

using sc_core::sc_time;

const char* command_name(tlm::tlm_command c) {
  switch (c) {
    case tlm::TLM_READ_COMMAND:
      return "read";
    case tlm::TLM_WRITE_COMMAND:
      return "write";
    default:
      return "ignore";
  }
}

std::string phase_name(const tlm::tlm_phase& p) {
  std::ostringstream s;
  s << p;
  return s.str();
}

std::string describe(const tlm::tlm_generic_payload& gp) {
  std::ostringstream s;
  s << command_name(gp.get_command()) << " 0x" << std::hex << gp.get_address() << std::dec << " +"
    << gp.get_data_length() << " @" << static_cast<const void*>(&gp);
  return s.str();
}

}  // namespace

ProtocolChecker::ProtocolChecker(sc_core::sc_module_name name, bool report_errors)
    : sc_core::sc_module(name), in("in"), out("out"), report_errors_(report_errors) {
  mem::Callbacks::passthrough(in, out, this);
}

std::size_t ProtocolChecker::count(std::string_view rule) const {
  std::string prefix(1, '[');
  prefix.append(rule).push_back(']');
  return static_cast<std::size_t>(std::count_if(
      violations_.begin(), violations_.end(),
      [&](const std::string& v) { return v.compare(0, prefix.size(), prefix) == 0; }));
}

void ProtocolChecker::check_idle() {
  for (const auto& [gp, txn] : txns_) {
    const char* state = txn.state == State::kRequest        ? "waiting for END_REQ"
                        : txn.state == State::kRequestEnded ? "waiting for BEGIN_RESP"
                                                            : "waiting for END_RESP";
    violation(kIncomplete, gp, std::string("transaction still in flight, ") + state);
  }
}

// ---------------------------------------------------------------------------
// Forwarding
// ---------------------------------------------------------------------------

tlm::tlm_sync_enum ProtocolChecker::nb_transport_fw(Payload& gp, tlm::tlm_phase& phase,
                                                    sc_time& delay) {
  return nb_transport(gp, phase, delay, /*forward=*/true);
}

tlm::tlm_sync_enum ProtocolChecker::nb_transport_bw(Payload& gp, tlm::tlm_phase& phase,
                                                    sc_time& delay) {
  return nb_transport(gp, phase, delay, /*forward=*/false);
}

// One nb_transport call on this hop: the phase is checked as sent (by the
// initiator forward, by the target backward), passed on, and the return is
// checked.
tlm::tlm_sync_enum ProtocolChecker::nb_transport(Payload& gp, tlm::tlm_phase& phase, sc_time& delay,
                                                 bool forward) {
  const char* call = forward ? "nb_transport_fw" : "nb_transport_bw";
  const tlm::tlm_phase sent = phase;
  const sc_time t_sent = sc_core::sc_time_stamp() + delay;
  check_mm(gp, call);
  if (forward)
    initiator_phase(gp, phase, t_sent, call);
  else
    target_phase(gp, phase, t_sent, call);
  const tlm::tlm_sync_enum status =
      forward ? out->nb_transport_fw(gp, phase, delay) : in->nb_transport_bw(gp, phase, delay);
  after_return(gp, sent, phase, status, t_sent, sc_core::sc_time_stamp() + delay, forward);
  return status;
}

void ProtocolChecker::b_transport(Payload& gp, sc_time& delay) {
  ++b_calls_;
  if (txns_.count(&gp) != 0) {
    violation(kPhaseSequence, &gp, "b_transport during an nb_transport sequence");
  }
  check_init(gp, "b_transport");
  const Txn before = snapshot(gp, sc_core::sc_time_stamp());
  ++b_calls_in_progress_[&gp];
  out->b_transport(gp, delay);
  if (--b_calls_in_progress_[&gp] == 0) b_calls_in_progress_.erase(&gp);
  check_status(gp, "after b_transport");
  check_unmodified(gp, before, "after b_transport");
}

unsigned ProtocolChecker::transport_dbg(Payload& gp) {
  const unsigned length = gp.get_data_length();
  const unsigned n = out->transport_dbg(gp);
  if (n > length) {
    violation(
        kDebugTransport, &gp,
        "transport_dbg returned " + std::to_string(n) + " > data length " + std::to_string(length));
  }
  return n;
}

bool ProtocolChecker::get_direct_mem_ptr(Payload& gp, tlm::tlm_dmi& dmi) {
  return out->get_direct_mem_ptr(gp, dmi);
}

void ProtocolChecker::invalidate_direct_mem_ptr(sc_dt::uint64 start, sc_dt::uint64 end) {
  in->invalidate_direct_mem_ptr(start, end);
}

// ---------------------------------------------------------------------------
// Phase transitions
// ---------------------------------------------------------------------------

void ProtocolChecker::initiator_phase(Payload& gp, const tlm::tlm_phase& phase, sc_time t,
                                      const char* where) {
  if (phase == tlm::BEGIN_REQ) {
    begin_request(gp, t);
  } else if (phase == tlm::END_RESP) {
    end_response(gp, t, where);
  } else {
    violation(kPhaseDirection, &gp, phase_name(phase) + " sent by the initiator (" + where + ")");
  }
}

void ProtocolChecker::target_phase(Payload& gp, const tlm::tlm_phase& phase, sc_time t,
                                   const char* where) {
  if (phase == tlm::END_REQ) {
    if (Txn* txn = find(gp, phase, where)) {
      if (txn->state != State::kRequest) {
        violation(kPhaseSequence, &gp,
                  std::string("END_REQ on ") + where + " after the request already ended");
      } else {
        end_request(gp, *txn, t);
      }
    }
  } else if (phase == tlm::BEGIN_RESP) {
    begin_response(gp, t, where);
  } else {
    violation(kPhaseDirection, &gp, phase_name(phase) + " sent by the target (" + where + ")");
  }
}

void ProtocolChecker::begin_request(Payload& gp, sc_time t) {
  ++started_;
  if (txns_.count(&gp) != 0) {
    violation(kPhaseSequence, &gp, "BEGIN_REQ for a transaction that is already in flight");
  }
  if (b_calls_in_progress_.count(&gp) != 0) {
    violation(kPhaseSequence, &gp, "BEGIN_REQ during a b_transport call with the same payload");
  }
  check_init(gp, "BEGIN_REQ");
  check_exclusion(kRequestExclusion, gp, t, request_, "REQ", "request");
  request_.owner = &gp;
  txns_[&gp] = snapshot(gp, t);
}

// A BEGIN_<phase> while another transaction holds the channel, or before the
// time the last one gave it up.
void ProtocolChecker::check_exclusion(const char* rule, Payload& gp, sc_time t,
                                      const Channel& channel, const char* phase, const char* what) {
  const Payload* owner = channel.owner;
  const std::string begin = std::string("BEGIN_") + phase, end = std::string("END_") + phase;
  if (owner != nullptr && owner != &gp) {
    violation(
        rule, &gp,
        begin + " before " + end + " of the previous " + what + " (" + describe(*owner) + ")");
  } else if (t < channel.free_at) {
    violation(rule, &gp,
              begin + " at " + t.to_string() + " before " + end + " of the previous " + what +
                  " at " + channel.free_at.to_string());
  }
}

void ProtocolChecker::end_request(Payload& gp, Txn& txn, sc_time t) {
  check_time(gp, txn, tlm::END_REQ, t);
  txn.state = State::kRequestEnded;
  request_.release(gp, t);
}

void ProtocolChecker::begin_response(Payload& gp, sc_time t, const char* where) {
  Txn* txn = find(gp, tlm::BEGIN_RESP, where);
  if (txn == nullptr) return;
  if (txn->state == State::kResponse) {
    violation(kPhaseSequence, &gp, std::string("second BEGIN_RESP on ") + where);
    return;
  }
  if (txn->state == State::kRequest) end_request(gp, *txn, t);  // implicit END_REQ
  check_time(gp, *txn, tlm::BEGIN_RESP, t);
  check_exclusion(kResponseExclusion, gp, t, response_, "RESP", "response");
  check_status(gp, "at BEGIN_RESP");
  check_unmodified(gp, *txn, "at BEGIN_RESP");
  txn->state = State::kResponse;
  response_.owner = &gp;
}

void ProtocolChecker::end_response(Payload& gp, sc_time t, const char* where) {
  Txn* txn = find(gp, tlm::END_RESP, where);
  if (txn == nullptr) return;
  if (txn->state != State::kResponse) {
    violation(kPhaseSequence, &gp, std::string("END_RESP before BEGIN_RESP on ") + where);
  }
  check_time(gp, *txn, tlm::END_RESP, t);
  check_unmodified(gp, *txn, "at END_RESP");
  request_.release(gp, t);
  response_.release(gp, t);
  txns_.erase(&gp);
  ++completed_;
}

void ProtocolChecker::complete(Payload& gp, const tlm::tlm_phase& answered, sc_time t,
                               sc_time t_sent, const char* where) {
  const auto it = txns_.find(&gp);
  if (it == txns_.end()) {
    // END_RESP already ended the transaction; anything else completed an unknown one.
    if (answered != tlm::END_RESP) {
      violation(kPhaseSequence, &gp,
                std::string("TLM_COMPLETED on ") + where + " for a transaction not in flight");
    }
    return;
  }
  Txn& txn = it->second;
  if (t < t_sent) {
    violation(kTiming, &gp,
              std::string("TLM_COMPLETED on ") + where + " takes effect at " + t.to_string() +
                  ", before the " + phase_name(answered) + " it answers at " + t_sent.to_string());
  }
  if (answered == tlm::BEGIN_REQ) {  // early completion: the whole transaction at t
    check_status(gp, "at TLM_COMPLETED in reply to BEGIN_REQ");
    check_unmodified(gp, txn, "at TLM_COMPLETED");
  }
  request_.release(gp, t);
  response_.release(gp, t);
  txns_.erase(it);
  ++completed_;
}

void ProtocolChecker::after_return(Payload& gp, const tlm::tlm_phase& sent,
                                   const tlm::tlm_phase& phase, tlm::tlm_sync_enum status,
                                   sc_time t_sent, sc_time t, bool forward) {
  const char* where =
      forward ? "the nb_transport_fw return path" : "the nb_transport_bw return path";
  switch (status) {
    case tlm::TLM_ACCEPTED:
      if (phase != sent) {
        violation(kReturnValue, &gp,
                  std::string("TLM_ACCEPTED on ") + where + " changed the phase from " +
                      phase_name(sent) + " to " + phase_name(phase));
      }
      return;
    case tlm::TLM_UPDATED:
      if (sent == tlm::END_RESP) {
        violation(kReturnValue, &gp, std::string("TLM_UPDATED in reply to END_RESP on ") + where);
        return;
      }
      if (phase == sent) {
        violation(kReturnValue, &gp,
                  std::string("TLM_UPDATED on ") + where + " without changing the phase (" +
                      phase_name(phase) + ")");
        return;
      }
      if (forward) {
        target_phase(gp, phase, t, where);
      } else if (phase == tlm::END_RESP) {
        end_response(gp, t, where);
      } else {
        violation(kPhaseDirection, &gp, phase_name(phase) + " returned on " + where);
      }
      return;
    case tlm::TLM_COMPLETED:
      complete(gp, sent, t, t_sent, where);
      return;
  }
  violation(kReturnValue, &gp, std::string("unknown tlm_sync_enum value on ") + where);
}

// ---------------------------------------------------------------------------
// Checks
// ---------------------------------------------------------------------------

ProtocolChecker::Txn* ProtocolChecker::find(Payload& gp, const tlm::tlm_phase& phase,
                                            const char* where) {
  const auto it = txns_.find(&gp);
  if (it == txns_.end()) {
    violation(kPhaseSequence, &gp,
              phase_name(phase) + " on " + where + " for a transaction that is not in flight");
    return nullptr;
  }
  return &it->second;
}

void ProtocolChecker::check_time(Payload& gp, Txn& txn, const tlm::tlm_phase& phase, sc_time t) {
  if (t < txn.last) {
    violation(kTiming, &gp,
              phase_name(phase) + " takes effect at " + t.to_string() +
                  ", before the previous phase at " + txn.last.to_string());
  }
  txn.last = std::max(txn.last, t);
}

void ProtocolChecker::check_init(const Payload& gp, const char* where) {
  const bool ignore = gp.get_command() == tlm::TLM_IGNORE_COMMAND;
  const std::string at = std::string(" at ") + where;
  if (!ignore && gp.get_data_ptr() == nullptr)
    violation(kPayloadInit, &gp, "data pointer null" + at);
  if (!ignore && gp.get_data_length() == 0) violation(kPayloadInit, &gp, "data length 0" + at);
  if (gp.get_streaming_width() == 0) violation(kPayloadInit, &gp, "streaming width 0" + at);
  if (gp.get_byte_enable_ptr() != nullptr && gp.get_byte_enable_length() == 0)
    violation(kPayloadInit, &gp, "byte-enable pointer set with byte-enable length 0" + at);
  if (gp.get_byte_enable_ptr() == nullptr && gp.get_byte_enable_length() != 0)
    violation(kPayloadInit, &gp, "byte-enable length set with a null byte-enable pointer" + at);
  if (gp.get_response_status() != tlm::TLM_INCOMPLETE_RESPONSE)
    violation(kPayloadInit, &gp, "response status not TLM_INCOMPLETE_RESPONSE" + at);
  if (gp.is_dmi_allowed()) violation(kPayloadInit, &gp, "dmi_allowed set" + at);
}

void ProtocolChecker::check_mm(const Payload& gp, const char* where) {
  if (!gp.has_mm()) {
    violation(kMemoryManager, &gp, std::string("payload without a memory manager in ") + where);
  } else if (gp.get_ref_count() == 0) {
    violation(kMemoryManager, &gp, std::string("payload with reference count 0 in ") + where);
  }
}

void ProtocolChecker::check_unmodified(const Payload& gp, const Txn& txn, const char* where) {
  std::string changed;
  const auto note = [&](bool differs, const char* attribute) {
    if (differs) changed += std::string(changed.empty() ? "" : ", ") + attribute;
  };
  note(gp.get_command() != txn.command, "command");
  note(gp.get_address() != txn.address, "address");
  note(gp.get_data_ptr() != txn.data, "data pointer");
  note(gp.get_data_length() != txn.length, "data length");
  note(gp.get_streaming_width() != txn.streaming_width, "streaming width");
  note(gp.get_byte_enable_ptr() != txn.byte_enable, "byte-enable pointer");
  note(gp.get_byte_enable_length() != txn.byte_enable_length, "byte-enable length");
  if (!changed.empty()) {
    violation(kPayloadModified, &gp, changed + " changed since BEGIN_REQ, seen " + where);
  }
}

void ProtocolChecker::check_status(const Payload& gp, const char* where) {
  if (gp.get_response_status() == tlm::TLM_INCOMPLETE_RESPONSE) {
    violation(kResponseStatus, &gp,
              std::string("response status TLM_INCOMPLETE_RESPONSE ") + where);
  }
}

ProtocolChecker::Txn ProtocolChecker::snapshot(const Payload& gp, sc_time t) {
  Txn txn;
  txn.last = t;
  txn.command = gp.get_command();
  txn.address = gp.get_address();
  txn.data = gp.get_data_ptr();
  txn.length = gp.get_data_length();
  txn.streaming_width = gp.get_streaming_width();
  txn.byte_enable = gp.get_byte_enable_ptr();
  txn.byte_enable_length = gp.get_byte_enable_length();
  return txn;
}

void ProtocolChecker::violation(const char* rule, const Payload* gp, const std::string& what) {
  std::string msg = std::string("[") + rule + "] " + name() + ": " + what;
  if (gp != nullptr)
    msg += " (" + describe(*gp) + ", at " + sc_core::sc_time_stamp().to_string() + ")";
  violations_.push_back(msg);
  if (report_errors_) SC_REPORT_ERROR(kMsgType, msg.c_str());
}

}  // namespace sasim::mem
