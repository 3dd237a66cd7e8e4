#include "sasim/mem/simple_memory.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "sasim/mem/config_check.hpp"

namespace sasim::mem {

namespace {

using sc_core::SC_PS;
using sc_core::sc_time;
using sc_core::SC_ZERO_TIME;

// Current simulation time in whole picoseconds.
std::uint64_t now_ps() {
  return static_cast<std::uint64_t>(std::llround(sc_core::sc_time_stamp() / sc_time(1, SC_PS)));
}

sc_time ps(std::uint64_t v) { return sc_time(static_cast<double>(v), SC_PS); }

// Sends END_REQ for `trans` on `socket` now. The initiator answers TLM_ACCEPTED
// (it may also send its next BEGIN_REQ from inside the call).
void send_end_req(tlm::tlm_target_socket<>& socket, tlm::tlm_generic_payload& trans) {
  tlm::tlm_phase phase = tlm::END_REQ;
  sc_time delay = SC_ZERO_TIME;
  socket->nb_transport_bw(trans, phase, delay);
}

}  // namespace

namespace detail {

tlm::tlm_response_status check_payload(const BackingStore& store,
                                       const tlm::tlm_generic_payload& trans) {
  if (trans.get_command() == tlm::TLM_IGNORE_COMMAND) return tlm::TLM_OK_RESPONSE;
  const std::uint64_t len = trans.get_data_length();
  if (trans.get_data_ptr() == nullptr || len == 0) return tlm::TLM_GENERIC_ERROR_RESPONSE;
  const unsigned sw = trans.get_streaming_width();
  if (sw != 0 && sw < len) return tlm::TLM_BURST_ERROR_RESPONSE;
  if (!store.contains(trans.get_address(), len)) return tlm::TLM_ADDRESS_ERROR_RESPONSE;
  return tlm::TLM_INCOMPLETE_RESPONSE;
}

void access_store(BackingStore& store, tlm::tlm_generic_payload& trans) {
  const tlm::tlm_response_status status = check_payload(store, trans);
  if (status != tlm::TLM_INCOMPLETE_RESPONSE) {
    trans.set_response_status(status);
    return;
  }
  const std::uint64_t addr = trans.get_address();
  const std::uint64_t len = trans.get_data_length();
  unsigned char* data = trans.get_data_ptr();
  const unsigned char* be = trans.get_byte_enable_ptr();
  const unsigned be_len = trans.get_byte_enable_length();
  if (trans.is_read()) {
    if (be == nullptr || be_len == 0) {
      store.read(addr, data, len);
    } else {
      std::vector<unsigned char> tmp(len);
      store.read(addr, tmp.data(), len);
      for (std::uint64_t i = 0; i < len; ++i)
        if (be[i % be_len] != 0) data[i] = tmp[i];
    }
  } else {
    store.write(addr, data, len, (be_len != 0) ? be : nullptr, be != nullptr ? be_len : 0);
  }
  trans.set_response_status(tlm::TLM_OK_RESPONSE);
}

unsigned debug_access(BackingStore& store, tlm::tlm_generic_payload& trans) {
  const std::uint64_t len = trans.get_data_length();
  if (trans.get_command() == tlm::TLM_IGNORE_COMMAND || trans.get_data_ptr() == nullptr ||
      !store.contains(trans.get_address(), len)) {
    trans.set_response_status(trans.get_command() == tlm::TLM_IGNORE_COMMAND
                                  ? tlm::TLM_OK_RESPONSE
                                  : tlm::TLM_ADDRESS_ERROR_RESPONSE);
    return 0;
  }
  if (trans.is_read()) {
    store.read(trans.get_address(), trans.get_data_ptr(), len);
  } else {
    store.write(trans.get_address(), trans.get_data_ptr(), len);
  }
  trans.set_response_status(tlm::TLM_OK_RESPONSE);
  return static_cast<unsigned>(len);
}

ResponseQueue::ResponseQueue(sc_core::sc_module_name name, tlm::tlm_target_socket<>& socket,
                             BackingStore& store)
    : sc_core::sc_module(name), socket_(socket), store_(store) {
  SC_METHOD(send);
  sensitive << wake_;
  dont_initialize();
}

void ResponseQueue::schedule(tlm::tlm_generic_payload& trans, const sc_time& at) {
  const sc_time now = sc_core::sc_time_stamp();
  const sc_time when = std::max(at, now);
  heap_.push(Entry{when, seq_++, &trans});
  wake_.notify(when - now);
}

void ResponseQueue::send() {
  const sc_time now = sc_core::sc_time_stamp();
  if (in_flight_ != nullptr || heap_.empty()) return;  // END_RESP / schedule() wake us
  if (now < free_at_) {
    wake_.notify(free_at_ - now);
    return;
  }
  const Entry top = heap_.top();
  if (top.at > now) {
    wake_.notify(top.at - now);
    return;
  }
  heap_.pop();
  tlm::tlm_generic_payload& trans = *top.trans;
  if (trans.get_response_status() == tlm::TLM_INCOMPLETE_RESPONSE) access_store(store_, trans);
  in_flight_ = &trans;
  tlm::tlm_phase phase = tlm::BEGIN_RESP;
  sc_time delay = SC_ZERO_TIME;
  const tlm::tlm_sync_enum r = socket_->nb_transport_bw(trans, phase, delay);
  if (in_flight_ != &trans) return;  // END_RESP arrived from inside the call
  if (r == tlm::TLM_COMPLETED || (r == tlm::TLM_UPDATED && phase == tlm::END_RESP)) {
    finish(trans, delay);
  } else if (r == tlm::TLM_UPDATED) {
    SC_REPORT_ERROR(name(), "initiator answered BEGIN_RESP with a phase other than END_RESP");
  }
}

void ResponseQueue::finish(tlm::tlm_generic_payload& trans, const sc_time& delay) {
  in_flight_ = nullptr;
  free_at_ = sc_core::sc_time_stamp() + delay;
  if (trans.has_mm()) trans.release();
  if (!heap_.empty()) wake_.notify(delay);
}

tlm::tlm_sync_enum ResponseQueue::end_resp(tlm::tlm_generic_payload& trans, sc_time& delay) {
  if (&trans != in_flight_) {
    SC_REPORT_ERROR(name(), "END_RESP for a transaction without an outstanding BEGIN_RESP");
    return tlm::TLM_COMPLETED;
  }
  finish(trans, delay);
  return tlm::TLM_COMPLETED;
}

AccessCounters::AccessCounters(mem::StatsRegistry& stats, const std::string& prefix)
    : reads(stats.counter(prefix + ".reads")),
      writes(stats.counter(prefix + ".writes")),
      bytes_read(stats.counter(prefix + ".bytes_read")),
      bytes_written(stats.counter(prefix + ".bytes_written")) {}

void AccessCounters::count(const tlm::tlm_generic_payload& trans) {
  if (trans.is_read()) {
    ++reads;
    bytes_read += trans.get_data_length();
  } else if (trans.is_write()) {
    ++writes;
    bytes_written += trans.get_data_length();
  }
}

}  // namespace detail

// ---------------------------------------------------------------------------
// IdealMemory
// ---------------------------------------------------------------------------

IdealMemory::IdealMemory(sc_core::sc_module_name name, BackingStore& store,
                         mem::StatsRegistry& stats)
    : sc_core::sc_module(name),
      socket("socket"),
      store_(store),
      counters_(stats, this->name()),
      peq_(this, &IdealMemory::peq_cb),
      responses_("responses", socket, store) {
  mem::Callbacks::target(socket, this);
}

tlm::tlm_sync_enum IdealMemory::nb_transport_fw(tlm::tlm_generic_payload& trans,
                                                tlm::tlm_phase& phase, sc_time& delay) {
  return detail::target_fw(peq_, responses_, name(), trans, phase, delay);
}

void IdealMemory::peq_cb(tlm::tlm_generic_payload& trans, const tlm::tlm_phase& phase) {
  if (phase != tlm::BEGIN_REQ) return;
  const tlm::tlm_response_status status = detail::check_payload(store_, trans);
  if (status == tlm::TLM_INCOMPLETE_RESPONSE) {
    counters_.count(trans);
  } else {
    trans.set_response_status(status);
  }
  send_end_req(socket, trans);
  responses_.schedule(trans, sc_core::sc_time_stamp());
}

void IdealMemory::b_transport(tlm::tlm_generic_payload& trans, sc_time&) {
  detail::access_store(store_, trans);
  if (trans.is_response_ok()) counters_.count(trans);
}

unsigned int IdealMemory::transport_dbg(tlm::tlm_generic_payload& trans) {
  return detail::debug_access(store_, trans);
}

// ---------------------------------------------------------------------------
// FixedLatencyMemory
// ---------------------------------------------------------------------------

void FixedLatencyConfig::validate() const {
  // Up to 1 ms and down to 1 MB/s: beyond them a run only ends in the watchdog.
  check_real("latency_ns", latency_ns, 0, 1e6);
  check_real("bandwidth_gbps", bandwidth_gbps, 1e-3, 1e6);
  check_uint("queue_depth", queue_depth, 1, 1024);
}

FixedLatencyMemory::FixedLatencyMemory(sc_core::sc_module_name name,
                                       const FixedLatencyConfig& config, BackingStore& store,
                                       mem::StatsRegistry& stats)
    : sc_core::sc_module(name),
      socket("socket"),
      config_((config.validate(), config)),
      store_(store),
      counters_(stats, this->name()),
      peq_(this, &FixedLatencyMemory::peq_cb),
      responses_("responses", socket, store),
      latency_ps_(static_cast<std::uint64_t>(std::llround(config.latency_ns * 1000.0))) {
  mem::Callbacks::target(socket, this);
  SC_METHOD(retry);
  sensitive << retry_event_;
  dont_initialize();
}

std::uint64_t FixedLatencyMemory::transfer_ps(std::uint64_t bytes) const {
  // bytes / (GB/s * 1e9) seconds = bytes * 1000 / GB/s picoseconds.
  return static_cast<std::uint64_t>(
      std::llround(static_cast<double>(bytes) * 1000.0 / config_.bandwidth_gbps));
}

tlm::tlm_sync_enum FixedLatencyMemory::nb_transport_fw(tlm::tlm_generic_payload& trans,
                                                       tlm::tlm_phase& phase, sc_time& delay) {
  return detail::target_fw(peq_, responses_, name(), trans, phase, delay);
}

std::size_t FixedLatencyMemory::waiting() {
  const std::uint64_t now = now_ps();
  while (!starts_ps_.empty() && starts_ps_.front() <= now) starts_ps_.pop();
  return starts_ps_.size();
}

void FixedLatencyMemory::peq_cb(tlm::tlm_generic_payload& trans, const tlm::tlm_phase& phase) {
  if (phase != tlm::BEGIN_REQ) return;
  if (held_ != nullptr) {
    SC_REPORT_ERROR(name(), "BEGIN_REQ before END_REQ of the previous request");
    return;
  }
  if (waiting() < config_.queue_depth) {
    accept(trans);
  } else {
    held_ = &trans;
    retry_event_.notify(ps(starts_ps_.front() - now_ps()));
  }
}

void FixedLatencyMemory::retry() {
  if (held_ == nullptr) return;
  if (waiting() < config_.queue_depth) {
    tlm::tlm_generic_payload* trans = held_;
    held_ = nullptr;
    accept(*trans);
  } else {
    retry_event_.notify(ps(starts_ps_.front() - now_ps()));
  }
}

void FixedLatencyMemory::accept(tlm::tlm_generic_payload& trans) {
  const std::uint64_t now = now_ps();
  const tlm::tlm_response_status status = detail::check_payload(store_, trans);
  std::uint64_t start = now;
  std::uint64_t busy = 0;
  if (status == tlm::TLM_INCOMPLETE_RESPONSE) {
    counters_.count(trans);
    start = std::max(now, link_free_ps_);
    busy = transfer_ps(trans.get_data_length());
    link_free_ps_ = start + busy;
    if (start > now) starts_ps_.push(start);
  } else {
    trans.set_response_status(status);
  }
  responses_.schedule(trans, ps(start + std::max(latency_ps_, busy)));
  send_end_req(socket, trans);
}

void FixedLatencyMemory::b_transport(tlm::tlm_generic_payload& trans, sc_time& delay) {
  detail::access_store(store_, trans);
  if (trans.is_response_ok()) counters_.count(trans);
  delay += ps(std::max(latency_ps_, transfer_ps(trans.get_data_length())));
}

unsigned int FixedLatencyMemory::transport_dbg(tlm::tlm_generic_payload& trans) {
  return detail::debug_access(store_, trans);
}

}  // namespace sasim::mem
