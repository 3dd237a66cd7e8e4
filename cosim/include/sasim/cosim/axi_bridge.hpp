// AxiTlmBridge: the RTL <-> TLM bridge. It drives a ClockedCore (axi.hpp: the verilated core or
// a behavioural master) cycle by cycle as an AXI slave and turns its bursts into
// approximately-timed TLM-2.0 base-protocol transactions on `socket`, which is bound to
// MemorySystem::in() (optionally through a ProtocolChecker). It runs inside an SC_THREAD of the
// caller:
//
//   AxiBridgeConfig bc;
//   bc.clock_mhz = 1000;
//   bc.min_latency = memory_path_min_latency(sys.config());
//   bc.split_bytes = memory_path_split_bytes(sys.config());
//   AxiTlmBridge bridge("bridge", bc, stats);
//   bridge.socket.bind(sys.in());
//   ... in an SC_THREAD:  const std::uint64_t cycles = bridge.run(core);
//
// Timing (what the RTL sees). P = 1e6 / clock_mhz ps, rounded to the time resolution; T0 = the
// SystemC time at run() entry. Cycle c of a run spans [T0 + c*P, T0 + (c+1)*P); "edge c" is
// T0 + c*P.
//  - Requests. An AR accepted in cycle c becomes a TLM READ of (len+1) * bus_bytes bytes at
//    ar_addr, ready at edge c+1 (the edge that ends the cycle). A write burst becomes one TLM
//    WRITE, ready at the edge that ends the cycle in which both its AW and its last W beat have
//    transferred; its data is the W data, and if any strobe bit of the burst is clear it carries a
//    byte-enable array (one entry per byte, 0xFF / 0x00; a burst with every strobe set carries
//    none, which means the same). If a read and a write become ready at the same edge, the read
//    goes first. A request is sent (BEGIN_REQ, zero annotated delay) at its ready edge if the
//    request channel is free; otherwise requests wait in order and each is sent at the first edge
//    at or after the END_REQ (explicit, or implied by BEGIN_RESP) of the previous request.
//  - Splitting (split_bytes != 0). A burst that crosses a multiple of split_bytes is sent as
//    several TLM transactions, one per split_bytes-aligned piece, in address order, each waiting
//    for the previous one's END_REQ as above. The L2 cache does not split accesses at line
//    boundaries (it answers TLM_BURST_ERROR_RESPONSE), so in front of an L2 that is not bypassed
//    split_bytes must be its line size (memory_path_split_bytes()). With split_bytes = 0 every
//    burst is exactly one transaction.
//  - Responses. A BEGIN_RESP taking effect at time t (sc_time_stamp() + annotated delay) is made
//    visible to the core from cycle ceil((t - T0) / P) on. BEGIN_RESP is answered at once
//    (TLM_COMPLETED on the backward return path; TLM_UPDATED with BEGIN_RESP on the forward return
//    path gets an immediate END_RESP call); the data stays in the bridge's own buffers.
//    R: one beat per cycle while r_ready, in address order, r_last on the final beat; a beat is
//    valid once the transaction (piece) holding it is visible, so a split burst may show gaps
//    between its pieces, never beats of another burst (no interleaving). r_resp per beat from the
//    status of its piece. B: once every piece of the write is visible; b_resp is DECERR if a piece
//    got TLM_ADDRESS_ERROR_RESPONSE, else SLVERR if a piece failed otherwise, else OKAY. Read
//    status mapping likewise (OK -> OKAY, address error -> DECERR, other -> SLVERR).
//    Ordering: responses for one id in request order (a later one waits until the earlier one has
//    been delivered). When no burst is being delivered on R (B), the oldest accepted burst that
//    is deliverable (first beat visible, no older burst of its id outstanding) goes next, so
//    bursts of different ids may overtake each other.
//  - Handshakes. ar_ready / aw_ready / w_ready depend only on the bridge's state at the start of
//    the cycle. ar_ready: fewer than max_outstanding_reads read bursts are outstanding (accepted
//    and not yet fully delivered to the core). Writes: a write burst occupies one of the
//    max_outstanding_writes write slots from its first AW or W transfer until its B has been
//    delivered. W beats may come before their AW (buffered): w_ready is high while a slot waits
//    for W data or a slot is free; aw_ready while a slot (opened by early W beats) waits for its
//    AW or a slot is free. AW and W bursts pair up in order, as AXI requires.
//  - Protocol violations by the core end the run with BridgeError: AxLEN > 255, an address not
//    aligned to bus_bytes, a burst that crosses a 4 KiB boundary, an id >= 2^kAxiIdBits, w_last
//    on a beat other than the last of its burst (or missing on the last), a burst of more than
//    256 W beats. Strobe bits above bus_bytes are ignored.
//
// Temporal decoupling (lockstep = false). The core runs in a loop without wait(); the bridge
// synchronises (wait()) only before a cycle it may not run yet, so that the result is cycle-for-
// cycle identical to the lock-step reference (lockstep = true: at least one wait() per cycle).
// Synchronising before cycle k brings SystemC time to edge k plus one time-resolution unit (then
// every delta of edge k has happened), sending the requests due on the way at their exact edges;
// it stops at edge k itself if it sent there and nothing else can still take effect by then.
// Cycle k runs without synchronising while
//  - no request of the core is due at or before edge k (a new request forces a sync at its
//    edge; a request held back by END_REQ wakes the bridge at the END_REQ and goes at the next
//    edge, possibly one the core has passed: its response cannot come earlier, see below);
//  - edge k < B, a lower bound of the effective time of every response still to come:
//      B = max(min(issue time of the transactions in flight) + min_latency, next SystemC activity)
//    (min_latency is the caller's guaranteed lower bound from BEGIN_REQ to BEGIN_RESP of the
//    memory path; nothing at all happens in SystemC before its next pending event, as this
//    thread sends only while synchronised), and B = the next SystemC activity while a request is
//    held back (it may be answered at once after its END_REQ);
//  - with nothing in flight, k < (cycle of the last sync) + quantum_cycles.
// min_latency must bound every response that is not given on the forward return path of
// BEGIN_REQ; the interconnect's immediate address errors are (TLM_COMPLETED), so they need no
// allowance (memory_path_min_latency() covers the rest). If a response ever takes effect in a
// cycle the core has already simulated, run() throws BridgeError naming min_latency.
//
// Watchdog: a cycle makes progress if core.progressed() or any AXI transfer happened in it; after
// watchdog_cycles consecutive cycles without progress run() throws BridgeError
// ("watchdog: no progress for N cycles (cycle C)", then core.dump_state() and the bridge state).
//
// Statistics (mem::StatsRegistry, prefix "<name()>."): reads, writes (bursts), read_bytes,
// write_bytes, transactions (TLM transactions sent), error_responses (transactions not OK),
// read_latency_cycles (sum over read bursts of the cycles from AR accept to the first R beat
// visible), write_latency_cycles (sum over write bursts of the cycles from the cycle the burst
// became complete to B visible), ar_stall_cycles (ar_valid && !ar_ready), aw_stall_cycles,
// w_stall_cycles, r_stall_cycles (r_valid && !r_ready), b_stall_cycles,
// request_wait_cycles (sum over transactions of the cycles between becoming ready and being sent:
// END_REQ backpressure), syncs (wait() calls), sync_points (stops of the run loop to
// synchronise), cycles (core cycles run), barriers (SYNCs the core passed), barrier_wait_cycles
// (cycles between the core's arrival at a barrier and its release, waiting for other cores),
// after_barrier_cycles (per run, the cycles from its last barrier's release to its end: the
// phase a reduction runs in).
//
// Sampling (set_sampler): before running cycle k of a run, k a non-zero multiple of `every`, the
// bridge synchronises (as above: SystemC time reaches edge k) and calls sampler.sample(k); the
// extra synchronisation changes no cycle. Clock (set_clock_mhz): each run uses the clock set
// before it; the memory system keeps its own.
//
// Cost: no allocation per cycle (buffers and payloads are reused), no std::function, a handful of
// branches per cycle besides core.cycle().
#pragma once

#include <tlm_utils/simple_initiator_socket.h>

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <systemc>
#include <tlm>
#include <vector>

#include "sasim/cosim/axi.hpp"
#include "sasim/cosim/barrier.hpp"
#include "sasim/mem/memory_system.hpp"
#include "sasim/mem/payload_pool.hpp"
#include "sasim/mem/stats.hpp"

namespace sasim::cosim {

// A watchdog expiry, a bus-protocol violation by the core, a response earlier than min_latency,
// or a memory-path protocol error seen by the bridge.
class BridgeError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct AxiBridgeConfig {
  double clock_mhz = 1000;                 // core clock, (0, 100000]; P = 1e6/clock_mhz ps
  bool lockstep = false;                   // true: one wait() per cycle (the reference)
  std::uint64_t quantum_cycles = 10000;    // run-ahead with nothing in flight, [1, 1e9]
  std::uint64_t watchdog_cycles = 100000;  // cycles without progress -> error, [1, 1e12]
  sc_core::sc_time min_latency;            // lower bound BEGIN_REQ -> BEGIN_RESP of the path
  unsigned max_outstanding_reads = 8;      // read bursts accepted, not yet delivered, [1, 256]
  unsigned max_outstanding_writes = 8;     // write slots (first AW/W .. B delivered), [1, 256]
  // Split bursts at multiples of this many bytes: 0 (never) or a power of two in [4, 1 MiB], and
  // at least the core's bus_bytes (checked by run()).
  unsigned split_bytes = 0;

  // Throws std::invalid_argument naming the field and its allowed range.
  void validate() const;
};

// A lower bound of the time from BEGIN_REQ (sent by an initiator of `cfg`'s MemorySystem) to
// BEGIN_RESP for every request the bridge sends (well formed, inside the memory range):
//   interconnect latency_cycles * its period (grant at an edge >= the request, arrival
//   latency_cycles + D - 1 cycles later, D >= 1), plus
//   L2 not bypassed: hit_latency_cycles * the L2 period (hits, misses and errors all take the tag
//     check; misses add the memory's latency);
//   L2 bypassed: the memory's own minimum: ideal 0; fixed latency_ns (errors too);
//     DRAM (frontend_latency_cycles + min(tCL, tCWL) + burst_length / data_rate) bus cycles,
//     less 1 ps for the rounding of its cycle times.
// Requests to addresses outside the memory are answered by the interconnect at once on the
// forward return path (latency 0), which the bridge handles without the bound. The bound is exact
// (reached) for ideal and fixed-latency memory without L2 bypass when the core clock edges
// coincide with the interconnect's.
sc_core::sc_time memory_path_min_latency(const mem::MemorySystemConfig& cfg);

// split_bytes the bridge needs in front of `cfg`: the L2 line size, or 0 when the L2 is bypassed
// (DRAM, fixed-latency and ideal memory take any length).
unsigned memory_path_split_bytes(const mem::MemorySystemConfig& cfg);

// Called by run() every `every` cycles (set_sampler).
class CycleSampler {
 public:
  virtual ~CycleSampler() = default;
  virtual void sample(std::uint64_t cycle) = 0;
};

class AxiTlmBridge : public sc_core::sc_module {
 public:
  tlm_utils::simple_initiator_socket<AxiTlmBridge> socket;

  // Validates cfg (std::invalid_argument). Counters "<name()>.<counter>" in `stats`.
  AxiTlmBridge(sc_core::sc_module_name name, const AxiBridgeConfig& cfg, mem::StatsRegistry& stats);
  ~AxiTlmBridge() override;

  AxiTlmBridge(const AxiTlmBridge&) = delete;
  AxiTlmBridge& operator=(const AxiTlmBridge&) = delete;

  // Runs the core from the current SystemC time until core.done() and nothing is outstanding;
  // returns the number of cycles run. On return SystemC time is exactly T0 + cycles * P. Must be
  // called from an SC_THREAD. Throws BridgeError (watchdog, protocol violation, response earlier
  // than min_latency, core bus_bytes not a power of two in [4, kAxiMaxBytes] or above
  // split_bytes). After an exception the bridge cannot be run again, except after
  // BarrierAborted (the core waits at its SYNC with nothing outstanding).
  // Barrier (SYNC): the core's AxiOut::sync is answered with AxiIn::sync_go;
  // without `barrier` in the cycle after the core arrives, with one (the
  // cores of a launch, core number `core_index`) in the cycle the barrier
  // gives (barrier.hpp), waiting in wait() while the other cores run.
  std::uint64_t run(ClockedCore& core, SyncBarrier* barrier = nullptr, unsigned core_index = 0);

  const AxiBridgeConfig& config() const { return cfg_; }
  // `sampler` (nullptr: none) every `every` (>= 1) cycles of each run from the next run on.
  void set_sampler(CycleSampler* sampler, std::uint64_t every);
  // The core clock of the next runs, (0, 100000] MHz (std::invalid_argument otherwise).
  void set_clock_mhz(double mhz);
  double clock_mhz() const { return clock_mhz_; }
  // Core cycles run by all run() calls so far.
  std::uint64_t cycles_run() const { return total_cycles_; }
  // Shortest BEGIN_REQ -> BEGIN_RESP seen so far (SC_ZERO_TIME before the first response).
  sc_core::sc_time observed_min_latency() const;
  // Payloads allocated and not yet returned to the pool (leak check once the memory drained).
  std::size_t payloads_in_use() const { return pool_.in_use(); }
  // Human-readable state: outstanding bursts with address, len, accept and issue cycles.
  std::string dump_state() const;

 private:
  static constexpr std::uint64_t kNever = ~std::uint64_t{0};

  // One TLM transaction (a burst, or a split_bytes piece of it).
  struct Piece {
    std::uint64_t issue = kNever;    // BEGIN_REQ time (ticks)
    std::uint64_t visible = kNever;  // first cycle its response is visible
    tlm::tlm_response_status status = tlm::TLM_INCOMPLETE_RESPONSE;
  };

  // One AXI burst from acceptance to delivery of its response.
  struct Burst {
    bool write = false;
    unsigned id = 0;
    std::uint64_t addr = 0;
    unsigned beats = 0;                                         // len + 1 (writes: once AW known)
    bool aw_known = false, last_seen = false, partial = false;  // writes
    unsigned beats_in = 0;                                      // W beats received
    std::uint64_t accept_cycle = 0;                             // AR / first AW-or-W transfer
    std::uint64_t ready_cycle = 0;                              // complete in this cycle
    unsigned pieces = 0, sent = 0, responded = 0;
    std::uint64_t visible = 0;  // writes: max visible over pieces
    unsigned beat_out = 0;      // reads: next beat to deliver
    std::vector<std::uint8_t> data, byte_enable;
    std::vector<Piece> piece;
  };

  struct Txn : tlm::tlm_generic_payload {
    explicit Txn(tlm::tlm_mm_interface* mm) : tlm::tlm_generic_payload(mm) {}
    Burst* burst = nullptr;
    unsigned piece = 0;
  };

  // Fixed-capacity FIFO (no allocation after reset()).
  template <class T>
  class Ring {
   public:
    void reset(std::size_t capacity) {
      buf_.assign(capacity, T{});
      head_ = size_ = 0;
    }
    bool empty() const { return size_ == 0; }
    std::size_t size() const { return size_; }
    T& operator[](std::size_t i) { return buf_[(head_ + i) % buf_.size()]; }
    const T& operator[](std::size_t i) const { return buf_[(head_ + i) % buf_.size()]; }
    T& front() { return buf_[head_]; }
    void push_back(T v) { buf_[(head_ + size_++) % buf_.size()] = v; }
    void pop_front() {
      head_ = (head_ + 1) % buf_.size();
      --size_;
    }

   private:
    std::vector<T> buf_;
    std::size_t head_ = 0, size_ = 0;
  };

  // Per-cycle work.
  void drive();
  void accept_ar(const AxiOut& o);
  void accept_aw(const AxiOut& o);
  void accept_w(const AxiOut& o);
  void read_beat_done();
  void write_resp_done();
  bool select_read();
  bool select_write();
  void burst_ready(Burst& b);
  Burst* open_write();
  void complete_writes();
  void init_pieces(Burst& b) const;
  void check_burst(const char* ch, unsigned id, std::uint64_t addr, unsigned len) const;
  [[noreturn]] void violation(const std::string& what) const;

  // SystemC side.
  void synchronize();
  // A lower bound of the effective time of any response still to come (kNever: none can come).
  std::uint64_t earliest_response() const;
  void wait_counted(const sc_core::sc_time& t);
  void wait_counted(const sc_core::sc_time& t, const sc_core::sc_event& e);
  std::uint64_t send_edge() const;  // ticks; the queue head's piece, channel free
  void send_next();
  void end_request(Txn& t, std::uint64_t at);
  void begin_response(Txn& t, std::uint64_t at);
  tlm::tlm_sync_enum nb_transport_bw(tlm::tlm_generic_payload& gp, tlm::tlm_phase& phase,
                                     sc_core::sc_time& delay);
  void check_errors() const;
  void free_burst(Burst& b);

  std::uint64_t now_ticks() const { return sc_core::sc_time_stamp().value(); }
  std::uint64_t edge(std::uint64_t cycle) const { return t0_ + cycle * period_; }
  std::uint64_t cycle_at_or_after(std::uint64_t ticks) const {
    return ticks <= t0_ ? 0 : (ticks - t0_ + period_ - 1) / period_;
  }
  unsigned piece_of_beat(const Burst& b, unsigned beat) const;

  const AxiBridgeConfig cfg_;
  double clock_mhz_;
  CycleSampler* sampler_ = nullptr;
  std::uint64_t sample_every_ = 0, next_sample_ = kNever;

  // Per run.
  unsigned bus_ = 0;
  std::uint64_t bus_mask_ = 0;  // strobe bits of the bus
  unsigned split_shift_ = 0;    // log2(split_bytes); 0 when not splitting
  std::uint64_t min_latency_ticks_ = 0;
  std::uint64_t t0_ = 0, period_ = 0, tick_ = 0;
  std::uint64_t cycle_ = 0;  // cycles run so far in this run (= index of the next cycle)
  std::uint64_t limit_ = 0;  // cycle_ >= limit_: synchronise before running it
  std::uint64_t last_sync_cycle_ = 0;
  bool running_ = false, broken_ = false;
  std::string error_;  // set by callbacks, thrown by run()

  AxiIn in_;
  AxiOut out_;
  std::uint64_t seq_ = 0;

  // Bursts.
  std::vector<Burst> read_slots_, write_slots_;
  std::vector<Burst*> free_reads_, free_writes_;
  std::vector<Burst*> r_order_, b_order_;   // acceptance order (AR; AW)
  Ring<Burst*> wfill_;                      // write slots missing AW or W data, in order
  std::size_t wfill_aw_ = 0, wfill_w_ = 0;  // prefix lengths of wfill_ with AW / complete W
  Burst* r_active_ = nullptr;               // read burst being delivered
  unsigned r_shown_ = ~0u;                  // beat index whose data is in in_.r_data
  Burst* b_active_ = nullptr;
  unsigned reads_waiting_ = 0;   // reads with a response that are not being delivered yet
  unsigned writes_waiting_ = 0;  // writes with all responses, B not delivered yet

  // Requests.
  Ring<Burst*> send_q_;           // bursts with pieces to send, in order
  Txn* req_owner_ = nullptr;      // request in progress (no END_REQ yet)
  std::uint64_t end_req_at_ = 0;  // effective time of the last END_REQ (ticks)
  std::uint64_t prev_sent_at_ = 0;
  unsigned in_flight_ = 0;  // pieces sent without a response
  sc_core::sc_event end_req_event_;
  mem::PayloadPool<Txn> pool_;
  std::uint64_t min_latency_seen_ = kNever;

  // Watchdog.
  std::uint64_t quiet_cycles_ = 0;
  std::uint64_t total_cycles_ = 0;

  mem::Counter &n_reads_, &n_writes_, &read_bytes_, &write_bytes_, &transactions_,
      &error_responses_;
  mem::Counter &read_latency_cycles_, &write_latency_cycles_;
  mem::Counter &ar_stall_cycles_, &aw_stall_cycles_, &w_stall_cycles_, &r_stall_cycles_,
      &b_stall_cycles_, &request_wait_cycles_;
  mem::Counter &syncs_, &sync_points_, &cycles_;
  mem::Counter &syncs_passed_, &sync_wait_cycles_, &after_barrier_cycles_;
};

}  // namespace sasim::cosim
