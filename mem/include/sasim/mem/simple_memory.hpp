// Baseline memories that a configuration can use instead of the DRAM model, and
// the target-side helpers every memory target shares (docs/memory_system.md).
//
//   IdealMemory          answers every request at once: END_REQ and BEGIN_RESP
//                        at the simulation time the BEGIN_REQ takes effect (zero
//                        latency, no bandwidth limit, never applies backpressure).
//   FixedLatencyMemory   a latency-bandwidth pipe (FixedLatencyConfig): data
//                        transfers are serialised at `bandwidth_gbps`. A request
//                        of L bytes accepted at time a starts its transfer at
//                        s = max(a, end of the previous transfer), occupies the
//                        link for T = L / bandwidth and gets its BEGIN_RESP at
//                        s + max(latency_ns, T) (never before its data moved).
//                        Unloaded latency = max(latency_ns, T) (50 ns for any
//                        request up to 1280 B with the defaults); streaming
//                        throughput = bandwidth_gbps. At most `queue_depth`
//                        accepted requests wait for their transfer to start;
//                        beyond that END_REQ is withheld until the oldest one
//                        starts (backpressure).
//
// Both: approximately-timed base protocol on `socket` (BEGIN_REQ from the
// initiator may carry an annotated delay; it takes effect after that delay),
// responses one at a time (the next BEGIN_RESP waits for END_RESP of the
// previous one, or for TLM_COMPLETED / TLM_UPDATED+END_RESP on the return
// path), b_transport as a functional fast path (IdealMemory adds no delay,
// FixedLatencyMemory adds the unloaded latency max(latency_ns, T)), transport_dbg
// straight to the
// BackingStore. Data is read from / written to the BackingStore when BEGIN_RESP
// is sent. Errors come back as the response status: address outside the store
// -> TLM_ADDRESS_ERROR_RESPONSE, streaming width < length ->
// TLM_BURST_ERROR_RESPONSE, zero length or no data pointer ->
// TLM_GENERIC_ERROR_RESPONSE; TLM_IGNORE_COMMAND is answered OK without access.
//
// Counters (StatsRegistry, under the instance name): reads, writes, bytes_read,
// bytes_written (successful timed and b_transport accesses; not transport_dbg).
#pragma once

#include <tlm_utils/peq_with_cb_and_phase.h>
#include <tlm_utils/simple_target_socket.h>

#include <cstdint>
#include <queue>
#include <string>
#include <systemc>
#include <tlm>
#include <vector>

#include "sasim/mem/backing_store.hpp"
#include "sasim/mem/callbacks.hpp"
#include "sasim/mem/stats.hpp"

namespace sasim::mem {

namespace detail {

// Status a request to `store` will get: TLM_INCOMPLETE_RESPONSE when it is a
// valid read or write (to be performed), TLM_OK_RESPONSE for TLM_IGNORE_COMMAND,
// otherwise the error status (see the file comment).
tlm::tlm_response_status check_payload(const BackingStore& store,
                                       const tlm::tlm_generic_payload& trans);

// Performs `trans` on the store (reads honour byte enables: disabled bytes of
// the data buffer are left untouched) and sets the response status.
void access_store(BackingStore& store, tlm::tlm_generic_payload& trans);

// transport_dbg semantics: no timing, byte enables ignored; returns the number
// of bytes transferred (0 outside the store or for TLM_IGNORE_COMMAND).
unsigned debug_access(BackingStore& store, tlm::tlm_generic_payload& trans);

// Response side of an AT target: sends BEGIN_RESP for scheduled transactions in
// time order (ties: scheduling order), one at a time as the base protocol
// requires. The store access happens here, just before BEGIN_RESP, unless the
// transaction already carries a final (non-incomplete) response status.
// Releases the payload (if it has a memory manager) when the response is done;
// the owner acquires it when it takes the BEGIN_REQ.
class ResponseQueue : public sc_core::sc_module {
 public:
  SC_HAS_PROCESS(ResponseQueue);
  ResponseQueue(sc_core::sc_module_name name, tlm::tlm_target_socket<>& socket,
                BackingStore& store);

  // BEGIN_RESP for `trans` at absolute time `at` (or now, if `at` has passed).
  void schedule(tlm::tlm_generic_payload& trans, const sc_core::sc_time& at);
  // The owner's nb_transport_fw forwards END_RESP here.
  tlm::tlm_sync_enum end_resp(tlm::tlm_generic_payload& trans, sc_core::sc_time& delay);
  // Responses scheduled or in flight.
  std::size_t pending() const { return heap_.size() + (in_flight_ != nullptr ? 1 : 0); }

 private:
  struct Entry {
    sc_core::sc_time at;
    std::uint64_t seq;
    tlm::tlm_generic_payload* trans;
    bool operator>(const Entry& o) const { return at != o.at ? at > o.at : seq > o.seq; }
  };
  void send();
  void finish(tlm::tlm_generic_payload& trans, const sc_core::sc_time& delay);

  tlm::tlm_target_socket<>& socket_;
  BackingStore& store_;
  std::priority_queue<Entry, std::vector<Entry>, std::greater<>> heap_;
  std::uint64_t seq_ = 0;
  tlm::tlm_generic_payload* in_flight_ = nullptr;  // sent, END_RESP outstanding
  sc_core::sc_time free_at_ = sc_core::SC_ZERO_TIME;
  sc_core::sc_event wake_;
};

// The counters reads/writes/bytes_read/bytes_written of one memory.
// The forward path every memory target shares: BEGIN_REQ goes into the
// target's payload event queue (its peq_cb answers it), END_RESP goes to the
// response queue, any other phase is a protocol error.
template <class Peq>
tlm::tlm_sync_enum target_fw(Peq& peq, ResponseQueue& responses, const char* who,
                             tlm::tlm_generic_payload& trans, tlm::tlm_phase& phase,
                             sc_core::sc_time& delay) {
  if (phase == tlm::BEGIN_REQ) {
    if (trans.has_mm()) trans.acquire();
    peq.notify(trans, phase, delay);
    return tlm::TLM_ACCEPTED;
  }
  if (phase == tlm::END_RESP) return responses.end_resp(trans, delay);
  SC_REPORT_ERROR(who, "unexpected phase on nb_transport_fw");
  return tlm::TLM_COMPLETED;
}

struct AccessCounters {
  AccessCounters(mem::StatsRegistry& stats, const std::string& prefix);
  // Counts a request that will be (or was) performed successfully.
  void count(const tlm::tlm_generic_payload& trans);
  mem::Counter &reads, &writes, &bytes_read, &bytes_written;
};

}  // namespace detail

class IdealMemory : public sc_core::sc_module {
 public:
  tlm_utils::simple_target_socket<IdealMemory> socket;

  IdealMemory(sc_core::sc_module_name name, BackingStore& store, mem::StatsRegistry& stats);

 private:
  friend struct mem::Callbacks;
  tlm::tlm_sync_enum nb_transport_fw(tlm::tlm_generic_payload& trans, tlm::tlm_phase& phase,
                                     sc_core::sc_time& delay);
  void b_transport(tlm::tlm_generic_payload& trans, sc_core::sc_time& delay);
  unsigned int transport_dbg(tlm::tlm_generic_payload& trans);
  void peq_cb(tlm::tlm_generic_payload& trans, const tlm::tlm_phase& phase);

  BackingStore& store_;
  detail::AccessCounters counters_;
  tlm_utils::peq_with_cb_and_phase<IdealMemory> peq_;
  detail::ResponseQueue responses_;
};

struct FixedLatencyConfig {
  double latency_ns = 50;        // transfer start to BEGIN_RESP (at least T); >= 0
  double bandwidth_gbps = 25.6;  // GB/s = 1e9 bytes/s; > 0
  unsigned queue_depth = 8;      // requests waiting for their transfer to start; 1..1024
  // Throws std::invalid_argument naming the field and its allowed range.
  void validate() const;
};

class FixedLatencyMemory : public sc_core::sc_module {
 public:
  tlm_utils::simple_target_socket<FixedLatencyMemory> socket;

  SC_HAS_PROCESS(FixedLatencyMemory);
  FixedLatencyMemory(sc_core::sc_module_name name, const FixedLatencyConfig& config,
                     BackingStore& store, mem::StatsRegistry& stats);

  const FixedLatencyConfig& config() const { return config_; }
  // Picoseconds the link needs to transfer `bytes` at the bandwidth cap (rounded
  // to the nearest ps per request).
  std::uint64_t transfer_ps(std::uint64_t bytes) const;

 private:
  friend struct mem::Callbacks;
  tlm::tlm_sync_enum nb_transport_fw(tlm::tlm_generic_payload& trans, tlm::tlm_phase& phase,
                                     sc_core::sc_time& delay);
  void b_transport(tlm::tlm_generic_payload& trans, sc_core::sc_time& delay);
  unsigned int transport_dbg(tlm::tlm_generic_payload& trans);
  void peq_cb(tlm::tlm_generic_payload& trans, const tlm::tlm_phase& phase);
  void accept(tlm::tlm_generic_payload& trans);  // END_REQ + schedule the response
  void retry();                                  // method: accept a held request when room
  std::size_t waiting();  // accepted requests whose transfer has not started yet

  FixedLatencyConfig config_;
  BackingStore& store_;
  detail::AccessCounters counters_;
  tlm_utils::peq_with_cb_and_phase<FixedLatencyMemory> peq_;
  detail::ResponseQueue responses_;
  std::uint64_t latency_ps_;
  std::uint64_t link_free_ps_ = 0;            // end of the last scheduled transfer
  std::queue<std::uint64_t> starts_ps_;       // transfer starts of accepted requests (ascending)
  tlm::tlm_generic_payload* held_ = nullptr;  // BEGIN_REQ taken, END_REQ withheld
  sc_core::sc_event retry_event_;
};

}  // namespace sasim::mem
