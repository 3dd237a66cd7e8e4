// The SRAM state of one core and the effect of the EXEC instructions on it
// (docs/device.md): the scratchpad, the accumulator, the stationary operand of
// WS/IS and the TO_INT8 shift. Two devices hold one: the functional device
// (instruction by instruction) and the timed core of the model engine
// (cosim/timed_core.hpp), which applies each EXEC instruction when its unit
// accepts it. The callers check the operands' ranges first; these functions
// assume them.
//
// The GEMM kernels keep the hardware's order of operations (numerics.hpp):
// every output starts at +0 and adds the rounded products in ascending r (WS,
// IS) or k (OS), one rounding per product and per sum; they run on whole rows
// at a time so that the compiler vectorises across the columns, and they
// canonicalise a NaN once at the end (a NaN stays a NaN through every later
// addition, so the result is the same as canonicalising after each step).
#pragma once

#include <cstdint>
#include <vector>

#include "sasim/isa/field.hpp"
#include "sasim/model/types.hpp"
#include "sasim/spec/device_spec.hpp"

namespace sasim::model {

struct CoreSram {
  explicit CoreSram(const spec::CoreSpec& s);

  Datapath dp;
  unsigned rows, cols, width;  // R, C, W = max(R, C)
  unsigned spad_rows, acc_rows;
  std::vector<std::uint16_t> spad;        // spad_rows x W operands (raw bits)
  std::vector<std::uint32_t> acc;         // acc_rows x C lanes (int32 / binary32 bits)
  std::vector<std::uint16_t> stationary;  // R x C, WS/IS
  bool have_stationary = false;
  unsigned int8_shift = 0;

  std::uint16_t* spad_row(std::uint64_t r) { return spad.data() + r * width; }
  std::uint32_t* acc_row_ptr(std::uint64_t r) { return acc.data() + r * cols; }

  // WS / IS: the stationary operand S[r][c] = spad[pre_row + r][c].
  void preload(std::uint64_t pre_row);
  // WS / IS with the current stationary operand: for i < len,
  // acc[acc_row + i][c] (+)= sum_r spad[in_row + i][r] * S[r][c].
  void gemm_stream(std::uint64_t in_row, std::uint64_t len, std::uint64_t acc_row, bool accumulate);
  // OS: acc[acc_row + r][c] (+)= sum_k spad[in_row + k][r] * spad[b_row + k][c].
  void gemm_os(std::uint64_t in_row, std::uint64_t b_row, std::uint64_t len, std::uint64_t acc_row,
               bool accumulate);
  // VEC over `rows` rows in ascending order (vector.hpp's vec_lane per lane).
  void vec(isa::VecOp op, bool to_spad, std::uint64_t src, std::uint64_t src2, std::uint64_t dst,
           std::uint64_t rows, std::uint32_t imm);

 private:
  // acc row (+)= the C results of one output row (canonical NaN).
  void write_row(std::uint32_t* dst, const float* s, bool accumulate) const;
  void write_row(std::uint32_t* dst, const std::uint32_t* s, bool accumulate) const;
  std::vector<float> fs_, fb_;          // operands as binary32 (bf16 exact, int8 exact), sums
  std::vector<std::uint32_t> is_, ib_;  // int32 sums, vector results
};

}  // namespace sasim::model
