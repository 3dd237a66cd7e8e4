// TraceWriter: a timeline of the co-simulated device in the Chrome / Perfetto
// trace-event format (JSON object form: {"traceEvents": [...]}, read by
// ui.perfetto.dev and chrome://tracing). Timestamps are simulated time in
// microseconds; every slice also carries its exact cycles in args
// ("cycle": first device cycle, "cycles": length).
//
// Tracks (process "sasim device", one thread per track; a track whose slices
// overlap, such as pipelined instructions or outstanding bursts, takes as many
// threads "<track>", "<track> +1", ... as it needs, each slice on the first
// free one):
//   LOAD, EXEC, STORE    each instruction from the cycle it leaves its queue to
//                        the cycle it completes: name the opcode (VEC: its
//                        operation), args its fields and its index in the program
//   LOAD busy, EXEC busy, STORE busy, array (vectors streamed), EXEC waits
//   (for a LOAD or a STORE token)
//                        runs of the cycles the contract's counters of those
//                        names count (load_busy, exec_busy, store_busy,
//                        array_steps, exec_wait_load, exec_wait_store)
//   AXI read, AXI write  each burst from its address handshake to its last
//                        data beat (reads; args: id, address, beats, latency to
//                        the first beat) or to its write response (writes)
//   counters             whatever the caller adds with counter() (L2 misses,
//                        DRAM row conflicts, power per sampling window)
// and process "host": spans the caller adds (training phases).
//
// Only what falls inside the window [start_cycle, end_cycle) of device cycles
// (the cycles of every run, counted from the first) is written, clipped to it;
// so the slices of one track add up to its counter over the window.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "sasim/cosim/axi.hpp"
#include "sasim/cosim/core_model.hpp"
#include "sasim/isa/encode.hpp"

namespace sasim::cosim {

class TraceWriter {
 public:
  using Sink = std::function<void(std::string_view)>;
  static constexpr std::uint64_t kEnd = std::numeric_limits<std::uint64_t>::max();

  // The JSON goes to `sink` in pieces (about 1 MiB); finish() writes the end.
  // std::invalid_argument when start_cycle >= end_cycle.
  TraceWriter(Sink sink, std::uint64_t start_cycle = 0, std::uint64_t end_cycle = kEnd);
  TraceWriter(const TraceWriter&) = delete;
  TraceWriter& operator=(const TraceWriter&) = delete;

  // The device: a run of `program` starts at device cycle `first_cycle`, time
  // `t0_us`, one cycle every `period_us`; cycle() once per core cycle, with
  // the events and the AXI signals of the cycle; end_run() after its last.
  void begin_run(std::uint64_t first_cycle, double t0_us, double period_us,
                 const std::vector<isa::Instruction>& program);
  void cycle(const CoreEvents& e, const AxiIn& in, const AxiOut& out);
  void end_run();

  // A sample on counter track `name` at device cycle `cycle` and time t_us
  // (ph "C": each arg one line of the track). Outside the window: dropped.
  void counter(const std::string& name, std::uint64_t cycle, double t_us,
               const nlohmann::json& args);
  // A span on the host track `track` over device cycles [first, end) and
  // times [t_begin_us, t_end_us); clipped to the window.
  void span(const std::string& track, const std::string& name, std::uint64_t first,
            std::uint64_t end, double t_begin_us, double t_end_us, const nlohmann::json& args = {});

  // Writes the end of the JSON (once; nothing can be added afterwards).
  void finish();

  std::uint64_t events() const { return events_; }

 private:
  struct Lane {
    unsigned tid = 0;
    std::uint64_t free_at = 0;  // cycle from which the lane is free
  };
  struct Track {
    std::string name;
    std::vector<Lane> lanes;
  };
  struct Open {
    std::uint64_t start = 0;
    std::size_t index = 0;  // program index (instructions) or unused
  };
  struct Burst {
    std::uint64_t accept = 0, first_beat = 0;
    std::uint64_t addr = 0;
    unsigned beats = 0, seen = 0, id = 0;
  };

  unsigned track(const std::string& name);
  // A slice on `track` over cycles [begin, end) of the current run (clipped
  // to the window; nothing when outside).
  void slice(unsigned track, const std::string& name, std::uint64_t begin, std::uint64_t end,
             nlohmann::json args);
  void emit(const nlohmann::json& event);
  void flush_if_large();
  double time_of(std::uint64_t cycle) const;
  nlohmann::json insn_args(std::size_t index) const;

  Sink sink_;
  std::uint64_t start_, end_;
  std::string buf_;
  bool first_event_ = true, finished_ = false;
  std::uint64_t events_ = 0;
  std::vector<Track> tracks_;
  unsigned next_tid_ = 1;

  // The current run.
  bool in_run_ = false;
  std::uint64_t run_first_ = 0, cycle_ = 0;  // device cycle of the run's first / the current cycle
  double t0_us_ = 0, period_us_ = 0;
  std::vector<isa::Instruction> program_;
  std::vector<std::size_t> queue_insns_[3];  // program indices per queue, in order
  std::size_t queue_next_[3] = {};
  std::deque<Open> in_flight_[3];
  unsigned insn_track_[3] = {};
  // Runs of one-per-cycle counters: counter id, track, slice name, open since.
  struct Run {
    spec::CounterId id;
    unsigned track;
    const char* name;
    bool open = false;
    std::uint64_t since = 0;
  };
  std::vector<Run> runs_;
  std::deque<Burst> reads_[1u << kAxiIdBits];
  std::deque<Burst> writes_;
  unsigned read_track_ = 0, write_track_ = 0;
};

}  // namespace sasim::cosim
