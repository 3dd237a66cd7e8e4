// Interconnect: routes the approximately-timed traffic of N initiators to M targets by address,
// over one shared data path with a fixed request latency (docs/memory_system.md).
//
//   initiator k       --bind-->  interconnect.in   (multi_passthrough_target_socket;
//                                                   port k = k-th binding)
//   interconnect.out  --bind-->  target j          (multi_passthrough_initiator_socket; port j)
//
// Routing. A flat address map of [base, base + size) -> target port. A transfer must lie entirely
// inside one range; otherwise (unmapped, or straddling a range end) the request is answered at
// once with TLM_ADDRESS_ERROR_RESPONSE (TLM_COMPLETED on the return path, no path time, no target
// traffic). Addresses are not translated: targets see the global address.
//
// Timing (T = 1 / clock_mhz, clock edges at k * T from time 0):
//   - A BEGIN_REQ taking effect at t becomes eligible at the first edge e0 >= t, but not before
//     the previous transfer of the same initiator port has left the shared path (a port never
//     overlaps its own transfers; an initiator streaming alone is never stalled).
//   - At each edge where the shared path is free, the arbitration policy picks one eligible
//     request among those whose target has room (see backpressure). The winner is granted at that
//     edge g: END_REQ goes back to its initiator at g. Until then END_REQ is withheld, so the
//     initiator cannot send another request (backpressure).
//   - A transfer of L data bytes holds the shared path for D = max(1, ceil(L / width_bytes))
//     cycles from g (reads and writes alike: a read's data beats are reserved at grant, which keeps
//     the bandwidth cap exact without arbitrating responses). The next grant is at g + D*T.
//   - The request reaches its target (BEGIN_REQ) at g + (latency_cycles + D - 1) * T: the last
//     data beat leaves at g + (D-1)*T and takes latency_cycles to cross. An idle interconnect with
//     a one-beat transfer therefore adds exactly latency_cycles (plus the wait for the next edge).
//   - Responses are passed back without added latency or path time (their data was reserved at
//     grant): BEGIN_RESP goes to the initiator when the target sends it, once that initiator's
//     previous response got END_RESP; END_RESP goes to the target when the initiator sends it.
// Backpressure from targets: at most latency_cycles + 1 requests per target may be granted and
// not yet accepted by it (END_REQ); requests to a full target are not granted, so a slow target
// stalls its initiators without blocking traffic to other targets.
// b_transport is routed and gets the unloaded request latency (latency_cycles + D - 1 cycles)
// added to its delay, without contention; transport_dbg is routed by address without timing
// (returns 0 when unmapped). DMI is not offered.
//
// Statistics (StatsRegistry, prefix = the module's hierarchical name):
//   <name>.requests           requests received (timed and b_transport, including errors)
//   <name>.bytes              data bytes of routed requests
//   <name>.address_errors     requests answered with TLM_ADDRESS_ERROR_RESPONSE
//   <name>.stall_cycles       cycles granted requests waited between eligibility and grant (path
//                             busy with another port's transfer, lost arbitration, target full),
//                             summed over requests
//   <name>.busy_cycles        cycles the shared path was held (sum of D)
//   <name>.initiator<k>.requests, <name>.target<j>.requests   per port
#pragma once

#include <tlm_utils/multi_passthrough_initiator_socket.h>
#include <tlm_utils/multi_passthrough_target_socket.h>
#include <tlm_utils/peq_with_cb_and_phase.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <systemc>
#include <tlm>
#include <unordered_map>
#include <vector>

#include "sasim/mem/callbacks.hpp"
#include "sasim/mem/stats.hpp"

namespace sasim::mem {

// [base, base + size) is served by target port `target`.
struct AddressRange {
  std::uint64_t base = 0;
  std::uint64_t size = 0;
  unsigned target = 0;
};

struct InterconnectConfig {
  double clock_mhz = 1000;                  // (0, 100000]
  unsigned width_bytes = 64;                // bytes per cycle on the shared data path, [4, 1024]
  unsigned latency_cycles = 2;              // request latency, [0, 1000]
  std::string arbitration = "round_robin";  // one of arbiter_names()

  // Throws std::invalid_argument naming the field and its allowed range.
  void validate() const;
};

// Arbitration policy: picks one requester per grant.
class Arbiter {
 public:
  virtual ~Arbiter() = default;
  // requesting[k]: port k has an eligible request; at least one is true. Returns the winner.
  virtual unsigned pick(const std::vector<bool>& requesting) = 0;
};

// The arbitration registry. Names: "round_robin" (the port after the last winner goes first),
// "fixed_priority" (the lowest port number wins). Unknown name -> std::invalid_argument listing
// the allowed names. A new policy is one Arbiter subclass plus one line in the registry
// (interconnect.cpp).
std::unique_ptr<Arbiter> make_arbiter(const std::string& name);
std::vector<std::string> arbiter_names();

class Interconnect : public sc_core::sc_module {
 public:
  tlm_utils::multi_passthrough_target_socket<Interconnect> in;      // initiators bind here
  tlm_utils::multi_passthrough_initiator_socket<Interconnect> out;  // binds to the targets

  // Throws std::invalid_argument for an invalid config or address map (empty or overlapping
  // ranges). Target indices are checked against the bound targets at end of elaboration.
  Interconnect(sc_core::sc_module_name name, const InterconnectConfig& config,
               std::vector<AddressRange> address_map, mem::StatsRegistry& stats);

  Interconnect(const Interconnect&) = delete;
  Interconnect& operator=(const Interconnect&) = delete;

  const InterconnectConfig& config() const { return config_; }
  sc_core::sc_time clock_period() const { return period_; }
  // Shared-path cycles a transfer of `bytes` holds (D above).
  unsigned transfer_cycles(unsigned bytes) const;
  // Target port for [addr, addr + len), or -1 when unmapped.
  int route(std::uint64_t addr, unsigned len) const;

 private:
  friend struct mem::Callbacks;
  using Payload = tlm::tlm_generic_payload;

  struct Pending {  // a request waiting for the shared path (one per initiator port at most)
    Payload* gp = nullptr;
    sc_core::sc_time eligible_at;
    unsigned target = 0;
  };
  struct Route {
    unsigned initiator = 0;
    unsigned target = 0;
    bool end_resp_owed = false;  // the target expects END_RESP from us
  };

  void end_of_elaboration() override;

  // Initiator side (socket `in`).
  tlm::tlm_sync_enum nb_transport_fw(int port, Payload& gp, tlm::tlm_phase& phase,
                                     sc_core::sc_time& delay);
  void b_transport(int port, Payload& gp, sc_core::sc_time& delay);
  unsigned transport_dbg(int port, Payload& gp);
  bool get_direct_mem_ptr(int port, Payload& gp, tlm::tlm_dmi& dmi);
  // Target side (socket `out`).
  tlm::tlm_sync_enum nb_transport_bw(int port, Payload& gp, tlm::tlm_phase& phase,
                                     sc_core::sc_time& delay);
  void invalidate_direct_mem_ptr(int port, sc_dt::uint64 start, sc_dt::uint64 end);

  // Request path.
  void schedule_arbitration(sc_core::sc_time at);
  void arbitrate();
  void grant(unsigned port);
  void on_arrival(Payload& gp, const tlm::tlm_phase&);  // request reached its target queue
  void send_request(unsigned target);
  void on_target_end_req(Payload& gp, const tlm::tlm_phase&);
  bool has_room(unsigned target) const;
  bool any_pending() const;
  // Response path.
  void on_response(Payload& gp, const tlm::tlm_phase&);
  void send_response(unsigned initiator);
  void retry_responses();
  void on_response_done(Payload& gp, const tlm::tlm_phase&);

  sc_core::sc_time edge_at_or_after(sc_core::sc_time t) const;
  sc_core::sc_time cycles(std::uint64_t n) const { return period_ * static_cast<double>(n); }

  const InterconnectConfig config_;
  const std::vector<AddressRange> map_;  // sorted by base
  sc_core::sc_time period_;
  std::unique_ptr<Arbiter> arbiter_;

  // Request path state.
  std::vector<Pending> pending_;                    // per initiator port
  std::vector<sc_core::sc_time> port_free_at_;      // per initiator port: own transfer done
  sc_core::sc_time path_free_at_;                   // shared path free from this time
  std::vector<unsigned> granted_;                   // per target: granted, not yet END_REQ'd
  std::vector<std::deque<Payload*>> target_queue_;  // per target: arrived, not yet sent
  std::vector<Payload*> target_req_owner_;          // per target: BEGIN_REQ sent, no END_REQ
  // Response path state.
  std::vector<std::deque<Payload*>> resp_queue_;  // per initiator
  std::vector<Payload*> resp_owner_;              // per initiator: BEGIN_RESP sent, no END_RESP
  std::vector<sc_core::sc_time> resp_free_at_;    // per initiator
  std::unordered_map<const Payload*, Route> routes_;

  sc_core::sc_event arbitration_event_, response_retry_event_;
  tlm_utils::peq_with_cb_and_phase<Interconnect> arrival_peq_, end_req_peq_, response_peq_,
      done_peq_;

  // Statistics.
  mem::StatsRegistry& stats_;
  mem::Counter& requests_;
  mem::Counter& bytes_;
  mem::Counter& address_errors_;
  mem::Counter& stall_cycles_;
  mem::Counter& busy_cycles_;
  std::vector<mem::Counter*> initiator_requests_, target_requests_;
};

}  // namespace sasim::mem
