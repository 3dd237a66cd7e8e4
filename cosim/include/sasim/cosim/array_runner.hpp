// Streams a prepared sequence of beats through an ArrayModel, cycle by cycle,
// and collects the results. Knows nothing about GEMMs (see array_gemm.hpp).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sasim/cosim/array_model.hpp"

namespace sasim::cosim {

// Everything the array receives for one run, in stream order.
struct ArrayProgram {
  model::Dataflow dataflow = model::Dataflow::kWs;
  std::vector<std::uint16_t> pre;      // preload beats, cols elements each
  std::vector<std::uint16_t> in_a;     // input beats, rows elements each
  std::vector<std::uint16_t> in_b;     // OS only: cols elements per input beat
  std::vector<std::uint8_t> in_flags;  // per input beat: kFirst | kLast
  std::size_t expected_outputs = 0;    // result vectors the run must return

  static constexpr std::uint8_t kFirst = 1;
  static constexpr std::uint8_t kLast = 2;
};

// Random handshake gaps, to exercise the valid/ready paths. Probabilities are
// per cycle; 1.0 means always valid / always ready.
struct Handshakes {
  double pre_valid = 1.0;
  double in_valid = 1.0;
  double out_ready = 1.0;
  std::uint64_t seed = 1;
};

struct ArrayRunResult {
  std::vector<std::uint32_t> out;      // expected_outputs x cols
  std::vector<std::uint8_t> out_last;  // per output vector
  std::uint64_t cycles = 0;        // from the first presented beat to the last output, inclusive
  std::uint64_t stall_cycles = 0;  // cycles with a result held back by out_ready
};

// Raised when nothing moves for `watchdog_cycles`; the message dumps the state.
class WatchdogError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct RunLimits {
  std::uint64_t watchdog_cycles = 10000;  // cycles without any handshake
};

ArrayRunResult run_program(ArrayModel& array, const ArrayProgram& program,
                           const Handshakes& hs = {}, const RunLimits& limits = {});

}  // namespace sasim::cosim
