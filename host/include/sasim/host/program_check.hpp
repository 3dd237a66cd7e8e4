// Concurrency model of a sasim program: what every instruction reads and
// writes (footprint), the dependency flags a program needs (assign_dependencies)
// and a race checker (check_program).
//
// Execution model (docs/device.md). Three in-order queues run concurrently:
// LOAD (LOAD), EXEC (GEMM, VEC, CONFIG) and STORE (STORE); FINISH ends the
// fetch and the device is done when the queues drain. Four counting token
// channels connect them:
//   LOAD->EXEC   LOAD push_next,  EXEC pop_prev
//   EXEC->LOAD   EXEC push_prev,  LOAD pop_next
//   EXEC->STORE  EXEC push_next,  STORE pop_prev
//   STORE->EXEC  STORE push_prev, EXEC pop_next
// A pop waits until its channel's counter is > 0, decrements it, and only then
// does the instruction start; a push increments the counter when the
// instruction completes (all its SRAM or memory writes done). Instructions of
// one queue start and complete in program order. So the k-th pop of a channel
// is matched with its k-th push, and X happens before Y (X completes before Y
// starts) when a chain of such matched pushes and pops leads from X, or a later
// instruction of X's queue, to Y, or an earlier instruction of Y's queue.
// LOAD pop_prev/push_prev and STORE pop_next/push_next name no queue and are
// errors, as is any flag on SYNC or FINISH. SYNC (a fence on one core, the
// barrier on several) enters no queue: every instruction before it completes
// before any instruction after it starts, so pairs across a SYNC need no
// tokens (a token pushed before a SYNC may still be popped after it).
//
// A program is race free when every two accesses in different queues to the
// same place, at least one a write, are ordered by happens-before in program
// order (the functional device runs the program sequentially; a concurrent run
// must give the same result). Places: scratchpad rows, accumulator rows (whole
// rows: an access to part of a row counts as an access to the row) and memory
// bytes. Within the EXEC queue the hardware orders conflicting accesses itself.
// Within the LOAD queue (SRAM rows) and the STORE queue (memory bytes) two
// writes to the same place must, by default, also be ordered by a token chain:
// the DMA may overlap consecutive transfers, so program order alone does not
// order their writes.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "sasim/isa/field.hpp"
#include "sasim/model/functional_device.hpp"
#include "sasim/spec/contract.hpp"

namespace sasim::host {

// The contract's queues (isa::Queue: LOAD, EXEC, STORE; CTRL for FINISH).
using isa::Queue;

// The queue an instruction runs in. Throws std::invalid_argument for an opcode
// that is not in the ISA.
// The queue of an instruction (isa::queue_of its opcode; std::invalid_argument
// for an opcode outside the ISA).
Queue queue_of(const isa::Instruction& insn);

enum class Channel : std::uint8_t {
  kLoadToExec = 0,
  kExecToLoad = 1,
  kExecToStore = 2,
  kStoreToExec = 3
};
std::string to_string(Channel c);  // "LOAD->EXEC", ...

enum class Space : std::uint8_t { kSpad, kAcc, kMem };

// One access of an instruction. SRAM: rows [first, first + count). Memory:
// `count` ranges of `row_bytes` bytes, the i-th at first + i * stride.
struct Access {
  Space space = Space::kSpad;
  bool write = false;
  std::uint64_t first = 0;
  std::uint64_t count = 0;
  std::uint64_t stride = 0;     // memory only
  std::uint64_t row_bytes = 0;  // memory only
  bool operator==(const Access&) const = default;
};
std::string to_string(const Access& a);  // "spad rows 16..31 (write)"

// The places an instruction reads and writes, from its fields and the device
// parameters (model::FunctionalDevice semantics): LOAD reads memory and writes SRAM
// rows, STORE the reverse, GEMM reads the scratchpad (the R stationary rows
// only without `reuse`) and writes the accumulator, VEC reads accumulator rows
// (src2 only for ADD_ROW, RELU_MASK, AXPY) and writes its destination rows;
// CONFIG, SYNC and FINISH have none. Ranges are not checked against the SRAM sizes.
// Throws std::invalid_argument for an illegal opcode.
std::vector<Access> footprint(const spec::DeviceSpec& p, const isa::Instruction& insn);

struct CheckOptions {
  // Two writes to the same place by the same DMA queue must be ordered by a
  // token chain (see above). false: program order suffices.
  bool order_dma_writes_in_queue = true;
  std::size_t max_errors = 20;  // stop after this many
  bool operator==(const CheckOptions&) const = default;
};

// Sets the dependency flags of program[0 .. FINISH) to a small set that makes
// it race free (any flags already there are cleared): for every conflicting
// pair X -> Y in different queues a push on X matched with a pop on Y (LOAD <->
// STORE pairs and same-queue DMA writes are relayed through the first EXEC
// instruction after X, which must come before Y; two DMA writes with a read in
// another queue between them need nothing more), then pairs implied by later
// pushes / earlier pops of the same channel are dropped. Every edge
// points forward in program order, so the program cannot deadlock, whatever the
// queue depths. Throws std::invalid_argument when a pair needs a relay and no
// EXEC instruction lies between, for accesses beyond the SRAM sizes and for a
// program without FINISH.
void assign_dependencies(const spec::DeviceSpec& p, std::vector<isa::Instruction>& program,
                         const CheckOptions& opts = {});

struct CheckReport {
  std::vector<std::string> errors;            // empty: the program is race free
  std::array<std::size_t, 3> queue_length{};  // instructions per queue (FINISH excluded)
  std::array<std::size_t, 4> tokens{};        // pushes per channel (index: Channel)
  // The most tokens a channel can hold at once in any schedule (a bound for
  // the hardware's token counters): before its k-th pop, every push that
  // does not wait for that pop may have completed.
  std::array<std::size_t, 4> max_tokens{};
  bool ok() const { return errors.empty(); }
  std::string summary() const;  // the errors, one per line
};

// Checks program[0 .. FINISH): no meaningless flags; every pop matched by a
// push and every push popped (simulated to the end: a deadlock is reported
// with the queue heads and the token counters); every conflicting pair ordered
// as described above. Errors name the instruction indices, queues and places.
CheckReport check_program(const spec::DeviceSpec& p, const std::vector<isa::Instruction>& program,
                          const CheckOptions& opts = {});

}  // namespace sasim::host
