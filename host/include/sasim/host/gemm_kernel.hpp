// Firmware GEMM kernel: the instruction program that computes
// C (M x K times K x N = M x N, 32-bit results) = A * B on the device. All three
// are row-major in device memory with a row stride (pitch) in bytes: A and B
// elements of the datapath width (int8: 1 byte, bf16: 2 bytes little endian),
// C 4-byte words (int32 or binary32 bits, little endian). Bytes between rows
// (stride > row bytes) are neither read nor written.
//
// Tiling (R x C array, W = max(R, C), S = spad_rows, Q = acc_rows, both capped
// at the 16-bit row fields). Every dataflow runs the same loop nest:
//
//   for chunk c of the "panel" dimension:      WS: M rows,  IS: N columns, OS: M by R
//     for tile t of the "outer" dimension:     WS: N by C,  IS: M by C,    OS: N by C
//       for k block (ascending, k_step wide):  WS/IS: R,    OS: the fold (below)
//         GEMM X(c, k) x P(t, k) into accumulator buffer (c, t) % acc_buffers
//       STORE the accumulator block to C(c, t)
//
//   WS  X = A[chunk rows, k block] (streamed rows), P = B[k block, C columns]
//       (stationary R rows), GEMM len = chunk rows, acc row i = row i of the
//       C tile.
//   IS  X = B[k block, chunk columns] loaded transposed (a column of B per
//       row), P = A[C rows, k block] transposed (stationary A^T), GEMM len =
//       chunk columns, acc row n = column n of the C tile (stored transposed).
//   OS  X = A[R rows, k block] transposed (a column of A per row), P = B[k
//       block, C columns], GEMM len = k block, acc R rows (the C tile).
//
// Buffering (everything sized by gemm_plan, below):
//   - X panel resident: when the X blocks of a chunk (k_blocks x x_block rows)
//     fit, they are loaded once per chunk and reused by every tile: A (WS) or
//     B (IS) or A^T (OS) is read from memory exactly once. With room for two
//     panels, chunk c+1 loads into the other one; with one panel, block k of
//     chunk c+1 replaces block k as soon as the last GEMM of chunk c that reads
//     it is done. Otherwise (large K) X blocks are streamed through a ring of
//     x_slots slots, one load per GEMM.
//   - P tiles rotate through p_slots slots (up to 4): the load of the tile of
//     GEMM g+1 is issued before GEMM g and runs while earlier GEMMs compute.
//     With several chunks, when all P tiles fit next to X, they stay resident
//     instead (loaded by the first chunk): B (WS, OS) or A (IS) is then read
//     once too. OS prefers this over a second P slot (its B tiles are K rows).
//   - The accumulator holds acc_buffers (2 when they fit; 3 or 4 for OS with
//     an epilogue) blocks: the STORE of one output block overlaps the GEMMs
//     of the next. With an epilogue and 2 or more, the epilogue of a block is
//     emitted after the next block's GEMM, so that its VECs run beside it.
//   - Consecutive GEMMs have no dependency between them; the EXEC queue runs
//     them back to back, waiting only for operands and for the STORE that
//     frees their accumulator buffer.
// Chunks are as long as the accumulator allows (Q / acc_buffers rows, at most
// 4095) and balanced (equal lengths up to one). If the resident panel does not
// fit, a shorter chunk keeps it resident when that still moves fewer bytes
// and keeps GEMMs at least R + C long; otherwise X is streamed.
//
// Example: 256 x 256 x 256 int8 WS on 16 x 16, S = 8192, Q = 1024: one chunk
// of 256 rows, 16 tiles, 16 k blocks; resident panel (4096 rows) + 4 P slots;
// 16 LOADs of A (256 rows x 16 bytes, A read once), 256 LOADs of B tiles
// (16 x 16 bytes, B read once), 256 GEMMs of len 256, 16 STOREs of 256 x 64
// bytes (C written once), FINISH: 545 instructions.
//
// The result equals model::gemm(dp, A, B, gemm_program_fold(p, df, K))
// bit-exactly: R for WS and IS (model::fold_size); K for OS when K <= S / 2
// and K <= 4095 (one GEMM reduces the whole K), otherwise OS splits K into
// ascending blocks of min(S / 2, 4095) that the accumulator adds, which is
// that fold (only the bf16 rounding differs; int8 is order independent).
//
// Zero padding: when K % R != 0, the last k block of WS/IS has R - K % R pad
// positions whose products must be exactly +-0 (garbage there could be inf or
// NaN, and inf * 0 = NaN). The program reads zeros from the caller's zero
// region (GemmOptions::zero_addr, gemm_zero_bytes(p) = W * element bytes of
// zero, never written): the pad rows of the stationary P tile are loaded from
// it (a LOAD with stride 0) with every partial tile; on bf16 the pad columns
// of the streamed X rows are zeroed once at the start (the partial block
// always lands in the same, zeroed rows and is loaded with K % R columns, so
// the pad stays zero; on int8 garbage times the zero stationary rows is 0).
// Pad rows/columns along M and N only produce accumulator lanes that are never
// stored; OS needs no padding at all.
//
// Dependency tokens: assign_dependencies (program_check.hpp) derives them
// from the accesses, which gives exactly the buffering above: RAW LOAD ->
// GEMM, WAR GEMM -> LOAD of the same slot, RAW GEMM -> STORE, WAR STORE ->
// the next GEMM writing its buffer, all pointing forward in program order (no
// deadlock with any queue depth). The initial zeroing LOADs and the LOADs that
// overwrite them are ordered through a VEC COPY of accumulator row 0 onto
// itself (a no-op), so the two DMA writes never race. check_program accepts
// every program (tested). FINISH carries no flags.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "sasim/isa/field.hpp"
#include "sasim/model/functional_device.hpp"
#include "sasim/model/types.hpp"

namespace sasim::host {

// A row-major matrix in device memory: its first element and the bytes
// between consecutive rows (>= the row's bytes unless the matrix has one row).
struct MatrixRef {
  std::uint64_t addr = 0;
  std::uint64_t stride = 0;
};

// A finished output block in the accumulator (WS and OS): C rows [row0, row0
// + rows) x columns [col0, col0 + cols) in accumulator rows [acc_row, acc_row
// + rows), lanes [0, cols).
struct GemmBlock {
  std::uint64_t acc_row = 0, row0 = 0, rows = 0, col0 = 0, cols = 0;
};

struct GemmOptions {
  // Address of gemm_zero_bytes(p) bytes of zero, read when a WS/IS program
  // needs zero padding (K % rows != 0); required then, unused otherwise. It
  // may overlap A or B (it is only read) but not C.
  std::optional<std::uint64_t> zero_addr;
  // Plan with only the first acc_rows accumulator rows and spad_rows
  // scratchpad rows (0: all of them); the rest is the epilogue's. OS's fold
  // depends on the scratchpad rows (gemm_program_fold with these options).
  std::uint64_t acc_rows = 0, spad_rows = 0;
  // OS only: `a` holds A^T (K x M, row-major, its row stride), so the A^T
  // blocks OS streams are plain row loads instead of transposed ones (the
  // weight gradient X^T dZ from X as it is).
  bool a_transposed = false;
  // Emits the instructions that consume a finished block instead of its STORE
  // to C (WS and OS; they may STORE it themselves). The block's rows stay
  // intact until these instructions have read them (assign_dependencies).
  std::function<void(const GemmBlock&, std::vector<isa::Instruction>&)> epilogue;
};

// Bytes of the zero region: W = max(rows, cols) elements of the datapath.
std::uint64_t gemm_zero_bytes(const spec::DeviceSpec& p);

// How gemm_program tiles and buffers a GEMM (see the header comment).
// Scratchpad layout: X at rows [0, p_base), P slots of p_rows rows from
// p_base; accumulator buffers of acc_block rows from row 0.
struct GemmPlan {
  std::uint64_t k_step = 0;    // K per GEMM
  std::uint64_t k_blocks = 0;  // ceil(K / k_step)
  std::uint64_t chunk = 0;     // panel rows per chunk (WS: M, IS: N, OS: M = R)
  std::uint64_t chunks = 0;
  std::uint64_t tiles = 0;      // outer tiles (WS: N, IS: M, OS: N; C wide)
  bool resident = false;        // X panel kept across tiles
  unsigned panels = 0;          // resident: panel buffers (1 or 2)
  unsigned x_slots = 0;         // streamed: X ring slots
  unsigned p_slots = 0;         // P tile slots (p_resident: one per tile and k block)
  bool p_resident = false;      // every P tile loaded once, by the first chunk
  unsigned acc_buffers = 0;     // 1, 2 or (OS with an epilogue) 3 or 4
  bool zero_x_pad = false;      // bf16 WS/IS with K % R != 0: X partial rows zeroed once
  bool zero_p_pad = false;      // WS/IS with K % R != 0: pad rows of the last P tile zeroed
  std::uint64_t x_block = 0;    // scratchpad rows of an X block
  std::uint64_t p_base = 0;     // first row of the P slots
  std::uint64_t p_rows = 0;     // rows of a P slot
  std::uint64_t acc_block = 0;  // accumulator rows of an output block
  std::uint64_t gemms() const { return chunks * tiles * k_blocks; }
};

// The plan for an M x K x N GEMM. Throws std::invalid_argument for M, K or N
// of 0 and for scratchpad/accumulator capacities too small for one tile (WS/IS
// need spad_rows > R (+1 on bf16 when K % R != 0), OS needs acc_rows >= R and
// spad_rows >= 2).
// With opts, within its SRAM limits.
GemmPlan gemm_plan(const spec::DeviceSpec& p, model::Dataflow df, std::uint64_t M, std::uint64_t K,
                   std::uint64_t N, const GemmOptions& opts = {});

// The program described above, ending with FINISH, its dependency flags set.
// Throws std::invalid_argument as gemm_plan, and for operands outside the
// device memory (or beyond the 40-bit address field), strides below the row
// bytes or beyond the 24-bit stride field, C overlapping A, B or the zero
// region (exact, row by row: interleaved pitched matrices are fine), and a
// missing or misplaced zero region when one is needed.
std::vector<isa::Instruction> gemm_program(const spec::DeviceSpec& p, model::Dataflow df,
                                           std::uint64_t M, std::uint64_t K, std::uint64_t N,
                                           MatrixRef a, MatrixRef b, MatrixRef c,
                                           const GemmOptions& opts = {});

// Packed rows: strides K, N elements and N words.
std::vector<isa::Instruction> gemm_program(const spec::DeviceSpec& p, model::Dataflow df,
                                           std::uint64_t M, std::uint64_t K, std::uint64_t N,
                                           std::uint64_t a_addr, std::uint64_t b_addr,
                                           std::uint64_t c_addr, const GemmOptions& opts = {});

// The k_fold of model::gemm that gemm_program's result equals (see above),
// with opts' scratchpad limit.
std::uint64_t gemm_program_fold(const spec::DeviceSpec& p, model::Dataflow df, std::uint64_t K,
                                const GemmOptions& opts = {});

}  // namespace sasim::host
