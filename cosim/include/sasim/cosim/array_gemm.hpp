// GEMM on the bare systolic array: tiles C = A * B to the array shape for a
// dataflow, streams the tiles with their preloads overlapped, and accumulates
// the K folds of weight-/input-stationary tiles on the host (the job of the
// accumulator SRAM once the full device exists). Also the documented cycle
// formula of docs/array.md.
#pragma once

#include <cstdint>

#include "sasim/cosim/array_model.hpp"
#include "sasim/cosim/array_runner.hpp"
#include "sasim/model/gemm.hpp"

namespace sasim::cosim {

struct GemmDims {
  std::uint64_t m = 0, k = 0, n = 0;
};

// Tiling of a GEMM for one array and dataflow.
struct GemmTiling {
  std::uint64_t folds = 0;        // tiles streamed through the array
  std::uint64_t stream_len = 0;   // input beats per tile (M for WS, N for IS, K for OS)
  std::uint64_t tile_period = 0;  // cycles between tile starts in steady state
};
GemmTiling gemm_tiling(model::Dataflow df, const spec::CoreSpec& s, const GemmDims& d);

// Cycles of a whole GEMM with inputs always valid and outputs always ready,
// counted from the first beat to the last result inclusive (docs/array.md):
//   WS/IS: 2R + C + S + (F-1) * max(S, R+C)
//   OS:    S + 2R + C - 1 + (F-1) * max(S, R)
std::uint64_t gemm_formula_cycles(model::Dataflow df, const spec::CoreSpec& s, const GemmDims& d);

// Beats for the array, built from the operands.
ArrayProgram build_gemm_program(model::Dataflow df, const spec::CoreSpec& s,
                                const model::RawMatrix& a, const model::RawMatrix& b);

// Reassembles C from the result vectors of build_gemm_program's program.
model::AccMatrix assemble_gemm_result(model::Dataflow df, const spec::CoreSpec& s,
                                      const GemmDims& d, const ArrayRunResult& run);

struct GemmRun {
  model::AccMatrix c;
  std::uint64_t cycles = 0;
  std::uint64_t formula_cycles = 0;
  std::uint64_t macs = 0;  // useful multiply-accumulates, M*K*N
  std::uint64_t folds = 0;
  double utilization = 0;  // macs / (R*C*cycles)
};

GemmRun run_gemm(ArrayModel& array, model::Dataflow df, const model::RawMatrix& a,
                 const model::RawMatrix& b, const Handshakes& hs = {},
                 const RunLimits& limits = {});

}  // namespace sasim::cosim
