// A set-associative, non-blocking cache: an approximately-timed TLM-2.0 target
// upstream and an approximately-timed initiator downstream. It models timing
// only: it keeps tags, valid and dirty bits, and completes accesses against the
// BackingStore (docs/memory_system.md). This comment is the cache's contract.
//
// Timing (T = one cache cycle = 1 / clock_mhz us, rounded to the 1 ps time
// resolution; H = hit_latency_cycles). Latencies count from the time a
// request arrives; the cache has no clock edges to align to.
//  - The tag pipeline accepts (END_REQ) at most one request per cycle. A
//    request is accepted when it arrives, unless it must stall (below).
//  - Hit: BEGIN_RESP H cycles after acceptance. The store is read or written
//    when BEGIN_RESP is sent, which is later if the upstream response channel
//    is still busy (the next BEGIN_RESP waits for the previous END_RESP).
//  - Miss: the tag check takes the hit path (H cycles), then the line fill (a
//    line-sized, line-aligned read) is sent downstream; the response goes
//    upstream as soon as the fill's BEGIN_RESP arrives. So, with idle sockets,
//      miss latency = H * T + downstream latency (fill BEGIN_REQ -> BEGIN_RESP).
//    The victim way is chosen when the miss is accepted (an invalid way first,
//    else the replacement policy); a dirty victim is written back as a
//    line-sized write sent right after the fill. Write-back data is the store's
//    current contents (a functional no-op that carries the timing); a later
//    miss to a line whose write-back is still in flight holds its fill back
//    until the write-back has completed, so the write-back can never overwrite
//    newer data. Write-backs hold no MSHR (the write-back buffer is unbounded).
//    A fill that fails downstream answers its accesses with the fill's error
//    status and leaves the line invalid; a failed write-back is ignored.
//  - Secondary miss (the line already has an MSHR): merged into that MSHR
//    (mshr_merges, also counted as a miss); all of an MSHR's accesses answer
//    in arrival order when the fill arrives, each no earlier than the end of
//    its own tag check (H cycles after acceptance). So no response of the
//    cache comes sooner than H cycles after its request was accepted: the
//    bound the RTL <-> TLM bridge's temporal decoupling relies on
//    (cosim::memory_path_min_latency).
//  - Backpressure: a primary miss needs a free MSHR and a replaceable way
//    (not waiting for its own fill, no access in flight to it). Without one,
//    END_REQ is withheld until one frees. mshr_full_stall_cycles /
//    set_busy_stall_cycles count the cycles waited (from the time the tag
//    pipeline could have taken the request, floor of time / T).
//  - wb_wa (write-back, write-allocate): write hits set the dirty bit; write
//    misses allocate like read misses. wt_nwa (write-through, no write
//    allocate): every write is forwarded downstream (the upstream payload
//    itself) after the H-cycle tag check, occupies an MSHR until its downstream
//    response, and answers upstream when that arrives; write hits count as
//    hits and update replacement state, write misses allocate nothing. Lines
//    are never dirty under wt_nwa.
//  - bypass: every request is forwarded unchanged (no tag lookup, no added
//    latency); each occupies an MSHR while downstream. Counts reads/writes and
//    bypassed, never hits or misses.
//
// Accesses: one access must lie within one cache line; the cache does not
// split. Errors answer after H cycles, touch no state and count only in
// `errors`:
//   span over a line boundary, streaming width < length -> TLM_BURST_ERROR_RESPONSE
//   access (or its line) outside the BackingStore       -> TLM_ADDRESS_ERROR_RESPONSE
//   null data pointer, length 0                         -> TLM_GENERIC_ERROR_RESPONSE
//   byte-enable pointer with byte-enable length 0       -> TLM_BYTE_ENABLE_ERROR_RESPONSE
// Byte enables are honoured on reads (disabled bytes of the data buffer are
// left untouched) and writes. TLM_IGNORE_COMMAND answers OK after H cycles.
// In bypass mode the downstream decides all of this. transport_dbg goes
// straight to the BackingStore (no timing, no state change, may span lines).
// An MSHR merges any number of secondary misses.
//
// Ordering: accesses to one line complete in arrival order under wb_wa. As in
// the TLM base protocol, an initiator that needs a read to observe a write to
// the same bytes waits for the write's BEGIN_RESP before issuing the read (a
// write-through write is in the store only when its downstream response came).
#pragma once

#include <tlm_utils/peq_with_cb_and_phase.h>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

#include <cstdint>
#include <memory>
#include <queue>
#include <string>
#include <systemc>
#include <tlm>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "sasim/mem/backing_store.hpp"
#include "sasim/mem/replacement.hpp"
#include "sasim/mem/stats.hpp"

namespace sasim::mem {

struct CacheConfig {
  std::uint64_t size_bytes = 1 << 20;  // 1 KiB .. 64 MiB, power of two
  unsigned line_bytes = 64;            // 16 .. 1024, power of two
  unsigned ways = 8;                   // 1 .. 64; size_bytes / (line_bytes * ways) >= 1 sets
  unsigned hit_latency_cycles = 10;    // 0 .. 1000
  unsigned mshrs = 8;                  // 1 .. 256
  double clock_mhz = 1000;             // (0, 100000]
  std::string replacement = "lru";     // replacement_names(): lru, plru, fifo, random, srrip
  std::string write_policy = "wb_wa";  // "wb_wa" | "wt_nwa"
  bool bypass = false;                 // forward every request unchanged
  std::uint64_t seed = 1;              // seeds the random replacement policy
};

// Throws std::invalid_argument naming the key and its allowed range
// ("cache.ways: 3 does not divide ..."), or returns the number of sets.
unsigned validate(const CacheConfig& cfg);

class Cache : public sc_core::sc_module {
 public:
  tlm_utils::simple_target_socket<Cache> upstream;
  tlm_utils::simple_initiator_socket<Cache> downstream;

  // Validates cfg (std::invalid_argument). Counters are registered in `stats`
  // as "<name()>.<counter>": reads, writes, hits, misses, mshr_merges,
  // evictions, writebacks, bypassed, mshr_full_stall_cycles,
  // set_busy_stall_cycles, errors.
  Cache(const sc_core::sc_module_name& name, const CacheConfig& cfg, BackingStore& store,
        mem::StatsRegistry& stats);
  ~Cache() override;

  const CacheConfig& config() const { return cfg_; }
  unsigned sets() const { return sets_; }
  sc_core::sc_time clock_period() const { return period_; }

  // hits / (hits + misses) from this cache's counters: the fraction of cached
  // reads and writes (not bypassed, not erroneous) that found their line
  // valid when accepted. Merged secondary misses count as misses. 0 before
  // the first access.
  double hit_rate() const;

  // Introspection (tests, debugging): the state of the line holding addr.
  struct LineState {
    bool present = false;  // valid, tag matches
    bool dirty = false;
    unsigned set = 0;
    unsigned way = 0;  // meaningful when present
  };
  LineState probe(std::uint64_t addr) const;
  unsigned mshrs_in_use() const;

 private:
  enum class Action : std::uint8_t { kNone, kComplete };
  enum class DownKind : std::uint8_t { kFill, kWriteback, kForward };
  enum class Stall : std::uint8_t { kNone, kMshr, kSet };

  struct Line {
    std::uint64_t line_addr = 0;
    bool valid = false, dirty = false, pending = false;  // pending: fill outstanding
    unsigned pins = 0;  // accepted accesses not yet answered (line not replaceable)
  };
  struct Mshr {
    bool busy = false;
    DownKind kind = DownKind::kFill;  // kFill or kForward
    std::uint64_t line_addr = 0;
    unsigned set = 0, way = 0;
    bool wait_writeback = false;
    sc_core::sc_time issue_at;
    tlm::tlm_generic_payload* down = nullptr;
    // The accesses waiting for the fill, each with the end of its own tag
    // check (acceptance + H): its earliest response.
    std::vector<std::pair<tlm::tlm_generic_payload*, sc_core::sc_time>> targets;
  };
  struct Resp {
    sc_core::sc_time ready;
    std::uint64_t seq;
    tlm::tlm_generic_payload* trans;
    Action action;
    int set, way;  // line to unpin when answered, -1 for none
    bool operator>(const Resp& o) const { return ready != o.ready ? ready > o.ready : seq > o.seq; }
  };
  struct DownReq {
    sc_core::sc_time ready;
    std::uint64_t seq;
    tlm::tlm_generic_payload* trans;
    bool operator>(const DownReq& o) const {
      return ready != o.ready ? ready > o.ready : seq > o.seq;
    }
  };
  struct DownTxn {
    DownKind kind;
    unsigned mshr;
    std::uint64_t line_addr;
  };
  class PayloadPool;

  // Upstream (target side).
  tlm::tlm_sync_enum up_fw(tlm::tlm_generic_payload& t, tlm::tlm_phase& ph, sc_core::sc_time& d);
  unsigned up_dbg(tlm::tlm_generic_payload& t);
  void up_peq_cb(tlm::tlm_generic_payload& t, const tlm::tlm_phase& ph);
  void try_accept();
  void accept(tlm::tlm_generic_payload& t);
  tlm::tlm_response_status check_access(const tlm::tlm_generic_payload& t) const;
  void push_resp(tlm::tlm_generic_payload* t, sc_core::sc_time ready, Action a, int set = -1,
                 int way = -1);
  void send_responses();
  void complete(tlm::tlm_generic_payload& t);

  // Downstream (initiator side).
  tlm::tlm_sync_enum down_bw(tlm::tlm_generic_payload& t, tlm::tlm_phase& ph, sc_core::sc_time& d);
  void down_peq_cb(tlm::tlm_generic_payload& t, const tlm::tlm_phase& ph);
  void push_down(tlm::tlm_generic_payload* t, sc_core::sc_time ready);
  void send_requests();
  void on_down_response(tlm::tlm_generic_payload& t);

  int free_mshr() const;
  int find_fill_mshr(std::uint64_t line_addr) const;
  int choose_way(unsigned set);
  void issue_fill(Mshr& m);
  void set_stall(Stall s);
  std::uint64_t line_of(std::uint64_t addr) const {
    return addr & ~std::uint64_t{cfg_.line_bytes - 1};
  }
  unsigned set_of(std::uint64_t addr) const {
    return static_cast<unsigned>((addr / cfg_.line_bytes) % sets_);
  }
  Line& line(unsigned set, unsigned way) { return lines_[std::size_t{set} * cfg_.ways + way]; }
  const Line& line(unsigned set, unsigned way) const {
    return lines_[std::size_t{set} * cfg_.ways + way];
  }

  CacheConfig cfg_;
  unsigned sets_;
  bool write_through_;
  sc_core::sc_time period_, hit_time_;
  BackingStore& store_;
  std::unique_ptr<ReplacementPolicy> repl_;
  std::vector<Line> lines_;
  std::vector<Mshr> mshrs_;
  std::unique_ptr<PayloadPool> pool_;

  // Upstream state.
  tlm_utils::peq_with_cb_and_phase<Cache> up_peq_;
  tlm::tlm_generic_payload* req_ = nullptr;   // BEGIN_REQ received, END_REQ not yet sent
  tlm::tlm_generic_payload* resp_ = nullptr;  // BEGIN_RESP sent, END_RESP not yet received
  sc_core::sc_time next_accept_;
  Stall stall_ = Stall::kNone;
  sc_core::sc_time stall_since_, mshr_stall_time_, set_stall_time_;
  std::priority_queue<Resp, std::vector<Resp>, std::greater<>> resps_;
  std::uint64_t seq_ = 0;
  sc_core::sc_event accept_ev_, resp_ev_;

  // Downstream state.
  tlm_utils::peq_with_cb_and_phase<Cache> down_peq_;
  tlm::tlm_generic_payload* down_req_ = nullptr;  // BEGIN_REQ sent, END_REQ not yet received
  std::priority_queue<DownReq, std::vector<DownReq>, std::greater<>> downs_;
  std::unordered_map<tlm::tlm_generic_payload*, DownTxn> down_txns_;
  std::unordered_set<tlm::tlm_generic_payload*> completed_;           // returned TLM_COMPLETED
  std::unordered_map<std::uint64_t, unsigned> writebacks_in_flight_;  // line -> count
  sc_core::sc_event down_ev_;

  // Counters.
  std::string prefix_;
  mem::StatsRegistry& stats_;
  mem::Counter &reads_, &writes_, &hits_, &misses_, &mshr_merges_, &evictions_, &writebacks_,
      &bypassed_, &mshr_full_stall_cycles_, &set_busy_stall_cycles_, &errors_;
};

}  // namespace sasim::mem
