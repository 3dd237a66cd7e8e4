// The engines a device can run its core on, and the model engine's core.
//
// Engine::kRtl   the verilated sa_core (make_core_model).
// Engine::kModel TimedCore: a C++ model of sa_core's control, cycle for cycle:
//                the fetch unit and its buffer, the decoder and the checks of
//                sa_check, the three queues and their dependency tokens, the
//                load DMA (outstanding bursts, the receive side, transposed
//                moves one element a cycle), the store DMA's state machine,
//                the EXEC unit's job queues, preload and stream issue with
//                their skid buffers, the array's fill/drain pipeline (its
//                flags, not its PEs) and the vector unit's pipeline, the AXI
//                read arbitration and the register slice on R, the
//                performance counters. Every register of those blocks that
//                decides a cycle is mirrored, so the model sees the same AXI
//                handshakes, counts the same events and ends on the same cycle
//                as the RTL. The data path is the golden one: the scratchpad
//                and accumulator are model::CoreSram; LOAD places the R beats'
//                bytes as the RTL does, STORE writes the bytes it reads, and
//                a GEMM, VEC or CONFIG takes effect on the SRAMs when the EXEC
//                unit accepts it (correct for every program whose units are
//                ordered by dependency tokens, which is what the golden
//                functional device assumes too). No PE is simulated: the cost
//                of a cycle does not grow with the array.
// Engine::kCheck both in lock step: the RTL drives the bus, the model sees the
//                same inputs, and the first cycle in which their outputs or
//                events differ ends the run with both states (how the model is
//                held to the RTL, cycle by cycle; tests/cosim/test_engines.cpp).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "sasim/cosim/core_model.hpp"

namespace sasim::cosim {

enum class Engine { kRtl, kModel, kCheck };
std::string_view to_string(Engine e);                    // "rtl", "model", "check"
std::optional<Engine> parse_engine(std::string_view s);  // any case

// The model engine's core (above). Throws spec::SpecError for a core outside
// the contract's ranges.
std::unique_ptr<CoreModel> make_timed_core(const spec::CoreSpec& s);

// The core of `engine`: the verilated core, the timed core, or both compared
// every cycle (a CoreModel that reports the RTL's values and throws
// EngineMismatch at the first difference). Waves need the RTL.
std::unique_ptr<CoreModel> make_engine_core(Engine engine, const spec::CoreSpec& s,
                                            const CoreModelOptions& options = {});

// Two cores in lock step, `reference` driving the bus (Engine::kCheck pairs
// the RTL with the timed core; tests pair others).
std::unique_ptr<CoreModel> make_checked_core(std::unique_ptr<CoreModel> reference,
                                             std::unique_ptr<CoreModel> model);

// Engine::kCheck: the model left the RTL.
class EngineMismatch : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace sasim::cosim
