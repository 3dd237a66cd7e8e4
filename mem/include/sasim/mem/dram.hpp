// Cycle-level DRAM controller and devices as one approximately-timed TLM-2.0
// target (docs/memory_system.md).
//
// Structure
//   front end  takes one BEGIN_REQ at a time, checks it, splits it into bursts
//              (burst_bytes() = bus_width_bits / 8 * burst_length bytes,
//              aligned: a request covers every burst-aligned block it touches)
//              and pushes the bursts, in address order, into the command queue
//              of the channel each maps to. END_REQ is sent when the request's
//              last burst has entered a queue; while a burst's channel queue is
//              full (queue_depth bursts), END_REQ is withheld (backpressure) and
//              the wait is counted in queue_stall_cycles.
//   channels   one command queue, one command bus (at most one command per bus
//              cycle), one data bus, ranks x banks each. A burst becomes
//              schedulable F = frontend_latency_cycles after max(its request's
//              BEGIN_REQ, its entry into the queue) (the controller's decode and
//              queue pipeline). Each cycle the
//              scheduler picks one ready command among the queued bursts' next
//              commands: ACT (bank precharged), PRE (other row open) or RD/WR
//              (row open). A burst leaves the queue when its RD/WR issues.
//   responses  a request's BEGIN_RESP is sent when its last burst's data has
//              transferred; responses leave in completion order, one at a time
//              (the next waits for END_RESP). The BackingStore is read/written
//              then (the payload is correct in BEGIN_RESP).
//   ordering   requests whose byte ranges overlap, at least one a write, keep
//              their acceptance order: a burst's RD/WR does not issue before an
//              older queued burst to the same column (one of them a write), and
//              a request's BEGIN_RESP (its store access) is not scheduled before
//              that of an older such request. Other requests may complete out
//              of order (scheduler, banks, channels).
//
// Timing (all in bus cycles, tCK = 1 / clock_mhz; B = burst_length / data_rate
// cycles of data-bus occupancy per burst)
//   ACT -> RD/WR          tRCD          (bank)
//   ACT -> PRE            tRAS          (bank)
//   PRE -> ACT            tRP           (bank)
//   ACT -> ACT            tRRD          (rank, different banks; no tFAW)
//   RD  -> data           tCL, data on the bus for B cycles
//   WR  -> data           tCWL, data on the bus for B cycles
//   RD/WR -> RD/WR        tCCD          (channel), and data bursts never overlap
//   RD  -> PRE            tRTP          (bank)
//   WR data end -> PRE    tWR           (bank)
//   WR data end -> RD     tWTR          (channel)
//   RD data end -> WR data start  2     (channel, bus turnaround)
//   refresh (if enabled)  every tREFI per rank (ranks staggered by tREFI/ranks):
//                         the rank's open banks are precharged, REF issues when
//                         all its banks may activate, then no ACT for tRFC.
//                         Refresh commands take priority over requests. A
//                         channel with an empty queue schedules no events:
//                         refreshes that fell due meanwhile are applied when it
//                         next runs, at their due cycles (so sc_start() without
//                         a limit still ends once traffic stops).
//
// Unloaded latencies (BEGIN_REQ on a bus-clock edge to BEGIN_RESP, one-burst
// read, no other traffic; a BEGIN_REQ between edges counts from the next edge):
//   row hit      F + tCL + B
//   row empty    F + tRCD + tCL + B                 (bank precharged)
//   row conflict F + tRP + tRCD + tCL + B           (other row open), provided the
//                PRE may issue at once: in general it issues at cycle
//                max(a + F, ACT + tRAS, last RD + tRTP, last WR data end + tWR)
//                (a = BEGIN_REQ cycle) and BEGIN_RESP follows tRP + tRCD + tCL + B
//                cycles later.
// Writes: replace tCL by tCWL. Each further burst of a request in the same open
// row adds max(B, tCCD) cycles.
//
// Page policies (make_dram_page_policy): after every RD/WR the policy decides
// whether the bank is precharged at once (auto-precharge at the earliest legal
// cycle: max(ACT + tRAS, RD + tRTP, WR data end + tWR); it uses no command-bus
// slot and counts as a precharge).
//   open     keep the row open.
//   closed   precharge unless another schedulable queued burst hits the same row.
// Schedulers (make_dram_scheduler): see DramScheduler.
//   fcfs     only the oldest schedulable burst's next command may issue.
//   frfcfs   first-ready FCFS (Rixner et al., ISCA 2000): the oldest ready RD/WR
//            (row hit) first, else the oldest ready ACT/PRE.
//
// Address mapping: `address_mapping` names the five fields row, rank, bank,
// channel, column, each once, separated by ':' from the most significant to the
// least significant. The byte offset within a burst (log2(burst_bytes()) bits)
// lies below all fields; column has log2(row_bytes / burst_bytes()) bits,
// channel/rank/bank log2 of their counts; row takes the rest up to the store's
// size. The address decoded is (addr - store.base()). Default
// "row:rank:bank:column:channel": consecutive bursts alternate channels and a
// sequential stream fills a row of every bank in turn.
//
// Statistics (StatsRegistry, prefix = instance name): reads, writes, bytes_read,
// bytes_written (timed and b_transport requests), row_hits, row_misses (bank was
// precharged: needed ACT), row_conflicts (other row open: needed PRE + ACT), per
// burst, classified when its RD/WR issues; activates, precharges (explicit and
// auto), refreshes, busy_cycles (data-bus busy cycles summed over channels),
// queue_stall_cycles (bus cycles requests waited in the front end for room in a
// full channel queue).
//
// b_transport is a functional fast path: the store is accessed at once, no bank
// state changes, and the delay is increased by the unloaded row-hit latency of
// the request (F + tCL (tCWL for writes) + B + (bursts - 1) * max(B, tCCD)
// cycles). transport_dbg goes to the BackingStore without timing.
#pragma once

#include <tlm_utils/peq_with_cb_and_phase.h>
#include <tlm_utils/simple_target_socket.h>

#include <cstdint>
#include <list>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <systemc>
#include <tlm>
#include <utility>
#include <vector>

#include "sasim/mem/backing_store.hpp"
#include "sasim/mem/callbacks.hpp"
#include "sasim/mem/simple_memory.hpp"
#include "sasim/mem/stats.hpp"

namespace sasim::mem {

struct DramConfig {
  unsigned channels = 1;           // 1..16, power of two
  unsigned ranks = 1;              // per channel, 1..4, power of two
  unsigned banks = 16;             // per rank, 1..32, power of two (DDR4: 4 groups x 4)
  std::uint64_t row_bytes = 8192;  // row buffer per bank, power of two, burst_bytes()..1 MiB
  unsigned bus_width_bits = 64;    // data bus per channel, 16..256, power of two
  unsigned data_rate = 2;          // transfers per bus clock: 1 (SDR), 2 (DDR) or 4
  double clock_mhz = 1600;         // bus clock, 100..5000 (1600 = DDR4-3200)
  unsigned burst_length = 8;  // transfers per burst, power of two, 1..32, multiple of data_rate

  // Timings in bus-clock cycles; defaults: DDR4-3200 (22-22-22-52, JEDEC ns
  // values rounded up to 625 ps cycles), ranges 1..1000 unless noted.
  unsigned tCL = 22;
  unsigned tRCD = 22;
  unsigned tRP = 22;
  unsigned tRAS = 52;
  unsigned tCWL = 16;  // write latency
  unsigned tWR = 24;   // write recovery, 15 ns; 0..1000
  unsigned tRTP = 12;  // read to precharge, 7.5 ns; 0..1000
  unsigned tCCD = 4;   // column to column (no bank groups: tCCD_S)
  unsigned tRRD = 4;   // activate to activate, different banks of a rank (tRRD_S); 0..1000
  unsigned tWTR = 12;  // end of write data to read (tWTR_L, 7.5 ns); 0..1000

  bool refresh = false;    // refresh modelled only when true
  unsigned tREFI = 12480;  // 7.8 us; 1..1000000, > tRFC
  unsigned tRFC = 560;     // 350 ns (8 Gb device); 1..100000

  std::string page_policy = "open";  // dram_page_policy_names()
  std::string scheduler = "frfcfs";  // dram_scheduler_names()
  unsigned queue_depth = 32;         // bursts per channel command queue, 1..1024
  std::string address_mapping = "row:rank:bank:column:channel";
  // Controller pipeline from BEGIN_REQ (or the burst's entry into a full queue)
  // to the first cycle its command may issue; 0..1000. Default 16 = 10 ns at
  // 1600 MHz (gem5's DRAM controller front-end latency).
  unsigned frontend_latency_cycles = 16;

  std::uint64_t burst_bytes() const { return std::uint64_t{bus_width_bits} / 8 * burst_length; }
  unsigned burst_cycles() const { return burst_length / data_rate; }  // B
  double tck_ps() const { return 1e6 / clock_mhz; }
  // Throws std::invalid_argument naming the first bad field and its range, or
  // an unknown policy/scheduler name (listing the allowed names), or a bad
  // address mapping.
  void validate() const;
};

// Page policy: decides after each column access whether the row is closed.
class DramPagePolicy {
 public:
  virtual ~DramPagePolicy() = default;
  // `pending_hit`: another schedulable burst in the channel queue targets the
  // same open row. True = auto-precharge the bank after this access.
  virtual bool close_after_access(bool pending_hit) const = 0;
};

// One queued burst as the scheduler sees it; the queue is in arrival order
// (oldest first) and holds only bursts past the front-end latency.
struct DramCandidate {
  bool ready;   // its next command may issue this cycle
  bool column;  // its next command is RD/WR (a row hit); otherwise ACT or PRE
};

class DramScheduler {
 public:
  virtual ~DramScheduler() = default;
  // Index of the burst whose next command issues this cycle, or nullopt.
  virtual std::optional<std::size_t> pick(std::span<const DramCandidate> queue) const = 0;
};

// Create a policy/scheduler by name; unknown names throw std::invalid_argument
// listing the allowed names. Adding one: a class in dram.cpp (or its own file)
// and one line in the registry table in dram.cpp.
std::unique_ptr<DramPagePolicy> make_dram_page_policy(const std::string& name);
std::vector<std::string> dram_page_policy_names();
std::unique_ptr<DramScheduler> make_dram_scheduler(const std::string& name);
std::vector<std::string> dram_scheduler_names();

class Dram : public sc_core::sc_module {
 public:
  tlm_utils::simple_target_socket<Dram> socket;

  SC_HAS_PROCESS(Dram);
  // Validates `config` (std::invalid_argument). The store and registry must
  // outlive the module.
  Dram(sc_core::sc_module_name name, const DramConfig& config, BackingStore& store,
       mem::StatsRegistry& stats);
  ~Dram() override;

  const DramConfig& config() const { return config_; }

  // channels * bus_width_bits / 8 * clock_mhz * 1e6 * data_rate.
  double theoretical_peak_bytes_per_s() const;
  // Unloaded one-burst read latencies in bus cycles (formulas above).
  unsigned row_hit_read_cycles() const;
  unsigned row_empty_read_cycles() const;
  unsigned row_conflict_read_cycles() const;
  // Time of bus-clock edge `cycle` (edge 0 at time 0), rounded to whole ps;
  // also the duration of `cycle` bus cycles.
  sc_core::sc_time cycle_time(std::uint64_t cycle) const;

  struct Location {
    unsigned channel, rank, bank;
    std::uint64_t row, column;  // column in bursts within the row
  };
  Location decode(std::uint64_t addr) const;

 private:
  friend struct mem::Callbacks;
  struct Burst;
  struct Request;
  struct Bank;
  struct Rank;
  struct Channel;
  enum class Field { kRow, kRank, kBank, kChannel, kColumn };

  tlm::tlm_sync_enum nb_transport_fw(tlm::tlm_generic_payload& trans, tlm::tlm_phase& phase,
                                     sc_core::sc_time& delay);
  void b_transport(tlm::tlm_generic_payload& trans, sc_core::sc_time& delay);
  unsigned int transport_dbg(tlm::tlm_generic_payload& trans);
  void peq_cb(tlm::tlm_generic_payload& trans, const tlm::tlm_phase& phase);

  std::uint64_t now_cycle() const;  // first bus-clock edge at or after now
  void drain_front();               // moves the front request's bursts into queues
  void wake(Channel& ch, std::uint64_t cycle);
  void tick();  // method: runs every channel due now
  void run_channel(Channel& ch, std::uint64_t c);
  void issue(Channel& ch, std::size_t index, std::uint64_t c);
  bool run_refresh(Channel& ch, std::uint64_t c, std::uint64_t& next);
  void catch_up_refresh(Channel& ch, std::uint64_t c);
  void release_responses();  // schedules BEGIN_RESP of finished requests, in hazard order

  DramConfig config_;
  BackingStore& store_;
  std::unique_ptr<DramPagePolicy> page_policy_;
  std::unique_ptr<DramScheduler> scheduler_;
  std::vector<std::pair<Field, unsigned>> fields_;  // least significant first: (field, bits)
  unsigned offset_bits_;

  mem::Counter &reads_, &writes_, &bytes_read_, &bytes_written_, &row_hits_, &row_misses_,
      &row_conflicts_, &activates_, &precharges_, &refreshes_, &busy_cycles_, &queue_stall_cycles_;

  tlm_utils::peq_with_cb_and_phase<Dram> peq_;
  detail::ResponseQueue responses_;
  std::vector<std::unique_ptr<Channel>> channels_;
  // Accepted requests in acceptance order, until their response is scheduled and due.
  std::list<std::unique_ptr<Request>> requests_;
  Request* front_ = nullptr;  // request whose END_REQ is outstanding
  std::uint64_t next_seq_ = 0;
  sc_core::sc_event tick_event_;
};

}  // namespace sasim::mem
