// SyncBarrier: the device's barrier unit for SYNC (docs/multicore.md). The
// cores of one launch share it through their bridges (AxiTlmBridge::run).
//
// Timing. A core arrives in the cycle its sync_o is first high (its last
// instruction before the SYNC has completed, nothing on the bus). When every
// participating core has arrived, the barrier releases them all in the same
// cycle: release = 1 + the latest arrival cycle, the cycle in which every
// core sees sync_go_i (a core alone: the cycle after it arrives, as a device
// of one core without a barrier). All cores of a launch start at the same
// SystemC time with the same clock, so their cycle numbers are comparable.
//
// A bridge calls arrive() with SystemC time at the edge that ends its arrival
// cycle; bridges synchronise only there (between arrivals they run ahead,
// which is exact because a core's barrier input changes only when every core
// has arrived). Ending (leave()) while another core waits, or arriving after
// another core has ended, aborts the barrier: every waiting bridge returns
// from its run with BarrierAborted, whose message names the cores.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <systemc>
#include <vector>

namespace sasim::cosim {

// The barrier can never complete (a core ended while another waits, or
// arrived after another ended). The waiting core is drained and quiet: its
// bridge stays usable.
class BarrierAborted : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class SyncBarrier {
 public:
  static constexpr std::uint64_t kNever = ~std::uint64_t{0};

  // A barrier for `cores` cores (1..); start() before each launch.
  explicit SyncBarrier(unsigned cores);

  // A new launch with the cores [0, participants) taking part.
  void start(unsigned participants);

  // Core `core` arrived at its SYNC in cycle `cycle`. Returns the release
  // cycle when this arrival completes the barrier (the others are woken),
  // kNever when the core must wait (wait_release()). Throws BarrierAborted
  // when another core has already ended.
  std::uint64_t arrive(unsigned core, std::uint64_t cycle);
  // Waits (SC_THREAD) until the barrier the core arrived at releases; returns
  // the release cycle. Throws BarrierAborted if it never will.
  std::uint64_t wait_release(unsigned core);
  // Core `core` ended its run (done, error or exception) in cycle `cycle`.
  void leave(unsigned core, std::uint64_t cycle, const std::string& how);

  // Barriers completed in this launch.
  std::uint64_t completed() const { return completed_; }
  // One line per core: arrived (cycle), ended (cycle, how) or running.
  std::string describe() const;

 private:
  enum class State { kRunning, kWaiting, kEnded };
  struct Core {
    State state = State::kRunning;
    std::uint64_t cycle = 0;    // arrival or end
    std::uint64_t release = 0;  // of the last barrier passed
    std::uint64_t passed = 0;   // barriers passed in this launch
    std::string how;
  };
  void abort(const std::string& why);

  std::vector<Core> cores_;
  unsigned participants_ = 0, waiting_ = 0;
  std::uint64_t latest_ = 0, completed_ = 0;
  std::string aborted_;
  sc_core::sc_event released_;
};

}  // namespace sasim::cosim
