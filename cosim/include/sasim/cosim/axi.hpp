// The AXI4-style bus-master port of the sasim core (rtl/sa_core.sv) as C++
// values, one clock cycle at a time: the contract between the verilated core
// (cosim/include/sasim/cosim/device.hpp) and the RTL <-> TLM bridge
// (axi_bridge.hpp). Only what the core uses: INCR bursts of full bus words
// (AxSIZE = log2(data bytes), AxBURST = INCR implied), len = beats - 1
// (0..255), ids of kAxiIdBits bits, OKAY (0) / SLVERR (2) / DECERR (3)
// responses. Write data of a burst follows its AW in order (no interleaving).
//
// Clocking: in every cycle the bridge drives AxiIn from its own state (its
// ready signals never depend on the core's valid signals of the same cycle),
// the core evaluates and reports AxiOut (its valid/payload signals do not
// depend on the bridge's ready signals; its ready signals may depend on the
// bridge's valid signals), and a transfer happens on a channel where valid
// and ready are both high; both sides then take the clock edge.
#pragma once

#include <array>
#include <cstdint>
#include <string>

namespace sasim::cosim {

inline constexpr unsigned kAxiMaxBytes = 64;  // widest data bus (512 bits)
inline constexpr unsigned kAxiIdBits = 2;
inline constexpr unsigned kAxiRespOkay = 0;
inline constexpr unsigned kAxiRespSlvErr = 2;
inline constexpr unsigned kAxiRespDecErr = 3;

using AxiData = std::array<std::uint8_t, kAxiMaxBytes>;

// Driven by the bridge (the slave side).
struct AxiIn {
  bool ar_ready = false;
  bool r_valid = false;
  unsigned r_id = 0;
  AxiData r_data{};
  bool r_last = false;
  unsigned r_resp = kAxiRespOkay;
  bool aw_ready = false;
  bool w_ready = false;
  bool b_valid = false;
  unsigned b_id = 0;
  unsigned b_resp = kAxiRespOkay;
  // Not AXI: the barrier's release (sa_core sync_go_i), driven by the bridge.
  bool sync_go = false;
};

// Driven by the core (the master side).
struct AxiOut {
  bool ar_valid = false;
  unsigned ar_id = 0;
  std::uint64_t ar_addr = 0;  // aligned to the data width
  unsigned ar_len = 0;        // beats - 1
  bool r_ready = false;
  bool aw_valid = false;
  unsigned aw_id = 0;
  std::uint64_t aw_addr = 0;  // aligned to the data width
  unsigned aw_len = 0;
  bool w_valid = false;
  AxiData w_data{};
  std::uint64_t w_strb = 0;  // bit i: byte i of w_data is written
  bool w_last = false;
  bool b_ready = false;
  // Not AXI: the core waits at a SYNC, drained and quiet (sa_core sync_o).
  bool sync = false;
};

// A clocked bus master the bridge drives (the verilated core, or a
// behavioural master in tests).
class ClockedCore {
 public:
  virtual ~ClockedCore() = default;
  // Data width of the port in bytes (a power of two, 4..kAxiMaxBytes).
  virtual unsigned bus_bytes() const = 0;
  // One clock cycle: drive `in`, evaluate, report the outputs in `out` as
  // sampled at the rising edge that ends the cycle, then take that edge.
  virtual void cycle(const AxiIn& in, AxiOut& out) = 0;
  // The core has finished its work (the bridge's run loop ends once it has
  // no transaction outstanding either).
  virtual bool done() const = 0;
  // Something advanced inside the core in the last cycle (watchdog).
  virtual bool progressed() const = 0;
  // Human-readable state for a watchdog or error report.
  virtual std::string dump_state() const = 0;
};

}  // namespace sasim::cosim
