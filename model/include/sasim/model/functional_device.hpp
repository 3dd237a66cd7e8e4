// FunctionalDevice: the golden, instruction-level model of the sasim device
// (docs/device.md). It executes a program of isa::Instruction words in program
// order, one instruction at a time, until FINISH. Dependency flags are ignored:
// a correct program must also be correct when run sequentially.
//
// State:
//   scratchpad  spad_rows rows of W = max(rows, cols) operands (raw bits: int8
//               in the low 8 bits, bf16 in 16 bits; in DRAM int8 is 1 byte,
//               bf16 2 bytes little endian).
//   accumulator acc_rows rows of `cols` 32-bit lanes (int32 or binary32 bits;
//               4 bytes little endian in DRAM).
//   DRAM        dram_bytes bytes at [dram_base, dram_base + dram_bytes).
//   int8_shift  set by CONFIG (0 after construction).
// Everything starts zeroed.
//
// Semantics (R = rows, C = cols, eb = element bytes of the SRAM: datapath
// bytes for the scratchpad, 4 for the accumulator; the SRAM row width is W for
// the scratchpad, C for the accumulator):
//   LOAD   sram[sram_row + r][c] = elem(dram_addr + r*dram_stride + c*eb),
//          r < rows, c < cols (cols <= row width); transpose:
//          sram[sram_row + c][r] = that element (rows <= row width).
//   STORE  the reverse (DRAM element = SRAM element), transpose likewise.
//   GEMM   WS/IS: S[r][c] = spad[pre_row + r][c] (r < R, c < C), or the
//          previous GEMM's S when `reuse`; for i < len: a[r] = spad[in_row+i][r],
//          out[c] = +0 then add(s, mul(a[r], S[r][c])) for r ascending;
//          acc[acc_row + i][c] = accumulate ? add(acc, out[c]) : out[c].
//          OS: for r < R, c < C: s = +0, for k < len ascending
//          s = add(s, mul(spad[in_row + k][r], spad[b_row + k][c]));
//          acc[acc_row + r][c] = accumulate ? add(acc, s) : s.
//   VEC    for i < rows, c < C: y = model::vec_lane(dp, op, acc[src_row+i][c],
//          acc[src2_row+i][c], imm, int8_shift) (src2 is only read, and only
//          range-checked, by the ops the contract marks reads_src2); the destination is
//          acc[dst_row+i][c] = y, or spad[dst_row+i][c] = the low op_width(dp)
//          bits of y (16 bits on bf16, e.g. the TO_BF16 result; 8 bits on
//          int8, e.g. the TO_INT8 result). Rows are processed in ascending i.
//   CONFIG int8_shift = field. SYNC: no effect on one core (see run_all).
//   FINISH ends the run.
// Errors (std::invalid_argument, message "instruction <index> (<OPCODE>):
// <field>: ..."): SRAM rows out of range, DRAM bytes outside the device
// memory, a DRAM address or stride that is not a multiple of the element size,
// rows/cols/len of 0 or beyond the row width, an illegal opcode,
// dataflow, vec op or sram value, `reuse` with no stationary operand, a
// program without FINISH. State changed by earlier instructions is kept.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "sasim/isa/field.hpp"
#include "sasim/model/core_sram.hpp"
#include "sasim/model/types.hpp"
#include "sasim/spec/backend.hpp"
#include "sasim/spec/device_spec.hpp"

namespace sasim::model {

class FunctionalDevice {
 public:
  using Counts = std::array<std::uint64_t, spec::kCounters.size()>;

  // `cores` cores (each its own SRAMs and int8_shift) sharing the DRAM.
  // Throws spec::SpecError for a device outside the contract's ranges.
  explicit FunctionalDevice(const spec::DeviceSpec& p, unsigned cores = 1);

  const spec::DeviceSpec& params() const { return p_; }

  // Runs program[0..] until FINISH; returns the contract's functional
  // counters of the run ("core.insn_exec", "core.array_steps", ...: those the
  // program alone determines, as the RTL core counts them). Throws as
  // described above.
  // On core 0; SYNC is a no-op there (a fence on one core).
  spec::Counters run(const std::vector<isa::Instruction>& program);
  // programs[c] on core c, in phases between SYNCs (docs/multicore.md): the
  // cores in order, each from its k-th SYNC to its next SYNC or FINISH, then
  // phase k + 1. A correct multi-core program (no two cores touching the same
  // bytes between two barriers unless all only read) gives the same memory in
  // any interleaving, so this order is the golden one. Every core must pass
  // the same number of SYNCs (std::invalid_argument otherwise, as for a bad
  // instruction, whose message then starts "core <c>: "). Counters per core.
  std::vector<spec::Counters> run_all(const std::vector<std::vector<isa::Instruction>>& programs);
  unsigned cores() const { return static_cast<unsigned>(cores_.size()); }

  // Backdoor DRAM access; throws std::invalid_argument outside the memory.
  void write_dram(std::uint64_t addr, const std::vector<std::uint8_t>& bytes);
  std::vector<std::uint8_t> read_dram(std::uint64_t addr, std::uint64_t len) const;

  // Direct SRAM access to core 0 (tests, debugging); throws std::out_of_range.
  std::uint16_t spad(unsigned row, unsigned col) const;
  std::uint32_t acc(unsigned row, unsigned col) const;
  void set_spad(unsigned row, unsigned col, std::uint16_t v);
  void set_acc(unsigned row, unsigned col, std::uint32_t v);
  unsigned int8_shift() const { return s().int8_shift; }

 private:
  void exec_dma(std::size_t idx, const isa::Instruction& in, bool load);
  // Both return the counter increment: array steps, vector rows.
  std::uint64_t exec_gemm(std::size_t idx, const isa::Instruction& in);
  std::uint64_t exec_vec(std::size_t idx, const isa::Instruction& in);

  // From program[from] until SYNC or FINISH on the current core (cur_);
  // returns the index after it, `finished` for FINISH.
  std::size_t run_to_sync(const std::vector<isa::Instruction>& program, std::size_t from, Counts& n,
                          bool& finished);
  CoreSram& s() { return cores_[cur_]; }
  const CoreSram& s() const { return cores_[cur_]; }

  spec::DeviceSpec p_;
  unsigned w_;
  std::vector<CoreSram>
      cores_;         // per core: scratchpad, accumulator, stationary operand, int8_shift
  unsigned cur_ = 0;  // the core executing
  std::vector<std::uint8_t> dram_;
};

}  // namespace sasim::model
