// Firmware GEMM kernel: the instruction program that computes
// C (M x N, 32-bit results) = A (M x K) * B (K x N) on the device, all three
// row-major in DRAM (A and B elements of the datapath width, C 4-byte words,
// little endian, rows packed: strides K*eb, N*eb and N*4 bytes).
//
// Tiling (R x C array, W = max(R, C), S = spad_rows, Q = acc_rows):
//   WS  for n0 (step C), for m-chunks of mc = min(S - R, Q, 4095) rows, for k0
//       (step R, ascending): LOAD the B tile (R rows) to spad rows [0, R),
//       LOAD A[m0.., k0..k0+R) to spad rows [R, R + mc), GEMM (first fold
//       writes, later folds accumulate); then STORE acc rows [0, mc).
//   IS  for m0 (step C), for n-chunks of nc = min(S - R, Q, 4095) columns, for
//       k0 (step R, ascending): LOAD the A^T tile transposed to [0, R), LOAD
//       B[k0.., n0..] transposed to [R, R + nc) (a column of B per row), GEMM
//       into acc rows [0, nc) (acc row n = C column n); STORE transposed.
//   OS  for m0 (step R), for n0 (step C), for K chunks: LOAD A[m0.., k..]
//       transposed to [0, kc) (a column of A per row), LOAD B[k.., n0..] to
//       [kc, 2 kc), GEMM len = kc (first chunk writes, later add); STORE.
// The result equals model::gemm(dp, A, B, gemm_program_fold(p, df, K))
// bit-exactly: R for WS and IS (model::fold_size), K for OS when 2K <= S (one
// GEMM reduces the whole K); otherwise OS splits K into ascending chunks of
// floor(S / 2) that the accumulator adds, which changes the fold size to
// that chunk (only the bf16 rounding differs; int8 is order independent).
//
// Zero padding: partial K tiles of WS/IS need zeros for both operands in the
// pad positions (garbage there could be inf or NaN, and inf * 0 = NaN). The
// program makes a zero word in DRAM at the start (VEC SCALE by 0 then
// RELU_MASK of that row by itself turns any accumulator row into +0, which a
// STORE writes to the C element stored last, C[M-1][N-1]) and zeroes each
// spad row of a partial tile with a transposed LOAD of that word with stride 0
// before loading the data. Pad rows/columns along M and N only produce
// accumulator lanes that are never stored, so they need no zeroing; OS needs
// no K padding at all.
//
// Dependency tokens (VTA-like; LOAD -> EXEC -> STORE queues, LOAD, EXEC and
// STORE are the queues of LOAD, GEMM/VEC and STORE instructions). The program
// is a sequence of steps, each with loads L_s, compute E_s and maybe a store
// St_s:
//   RAW spad: the last of L_s pushes next, the first of E_s pops prev.
//   RAW acc:  the last of E_s pushes next, the first of St_s pops prev.
//   WAR spad: the last of E_s pushes prev if step s+1 loads; the first of
//             L_{s+1} pops next (single-buffered scratchpad).
//   WAR acc:  the last of St_s pushes prev if a later step computes; the
//             first instruction of the next computing step pops next.
// The zero word (a STORE read by later LOADs) is relayed through EXEC by a
// VEC COPY of an accumulator row onto itself. Every push is popped exactly
// once; FINISH carries no flags (the controller ends when all queues drain).
#pragma once

#include <cstdint>
#include <vector>

#include "sasim/fw/functional_device.hpp"
#include "sasim/isa/field.hpp"
#include "sasim/model/types.hpp"

namespace sasim::fw {

// The program described above, ending with FINISH. Throws
// std::invalid_argument for M, K or N of 0, operands outside the device
// memory (or beyond the 40-bit address field), a C region overlapping A or B,
// row strides beyond the 24-bit stride field, OS with K > 4095, and
// scratchpad/accumulator capacities too small for one tile (WS/IS need
// spad_rows > R, OS needs acc_rows >= R and spad_rows >= 2).
std::vector<isa::Instruction> gemm_program(const DeviceParams& p, model::Dataflow df,
                                           std::uint64_t M, std::uint64_t K, std::uint64_t N,
                                           std::uint64_t a_addr, std::uint64_t b_addr,
                                           std::uint64_t c_addr);

// The k_fold of model::gemm that gemm_program's result equals (see above).
std::uint64_t gemm_program_fold(const DeviceParams& p, model::Dataflow df, std::uint64_t K);

}  // namespace sasim::fw
