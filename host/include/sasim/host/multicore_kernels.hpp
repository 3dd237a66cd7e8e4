// Multi-core firmware (docs/multicore.md): programs for several cores that
// meet at SYNC barriers.
//
// split_m_gemm_programs: C = A * B on n cores with the rows of A and C split
// (core i: rows [i * M / n, (i + 1) * M / n), gemm_program on its rows; every
// core reads all of B). No partials, no SYNC; the result is bit-identical to
// gemm_program's on one core (the fold depends on K only).
//
// split_k_gemm_programs: C (M x N, 32-bit words) = A (M x K) * B (K x N) on n
// cores with the K dimension split, then reduced on the device (a
// reduce-scatter, the pattern of data-parallel gradient reduction):
//   phase 1  core i: P_i = A[:, K_i] * B[K_i, :] (gemm_program on its slice of
//            K: whole blocks of the array's rows, k_slice), into its partial
//            buffer parts[i] (M x N words);
//   SYNC     every partial is in memory;
//   phase 2  core i: rows M_i = [i * M / n, (i + 1) * M / n) of C =
//            (((P_0 + P_1) + P_2) + ...) in that fixed order, by LOADs of the
//            partials' rows into the accumulator and VEC ADD_ROW (binary32 on
//            bf16, wrap-around int32 on int8), then STORE.
// The result equals, bit for bit, the same sum of model::gemm of the slices
// (each with gemm_program_fold); FunctionalDevice::run_all is its golden run.
// Each program passes check_program; zero_addr as in GemmOptions.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "sasim/host/gemm_kernel.hpp"
#include "sasim/isa/field.hpp"
#include "sasim/model/gemm.hpp"
#include "sasim/model/types.hpp"

namespace sasim::host {

// Which dimension a multi-core GEMM splits.
enum class GemmSplit : std::uint8_t { kM, kK };
std::string_view to_string(GemmSplit s);  // "m", "k"
std::optional<GemmSplit> parse_gemm_split(std::string_view s);

std::vector<std::vector<isa::Instruction>> split_m_gemm_programs(
    const spec::DeviceSpec& p, model::Dataflow df, std::uint64_t M, std::uint64_t K,
    std::uint64_t N, MatrixRef a, MatrixRef b, MatrixRef c, unsigned cores,
    std::optional<std::uint64_t> zero_addr = std::nullopt);

// The range [first, end) of K's core i of n in whole blocks of the array's
// rows (multiples of p.rows except the last end; model::even_bound of the
// blocks). block_slice may be empty (fewer blocks than cores); k_slice, the
// split-K GEMM's, is an error then: K must give every core a block.
struct KSlice {
  std::uint64_t first = 0, end = 0;
};
KSlice block_slice(const spec::DeviceSpec& p, std::uint64_t K, unsigned core, unsigned cores);
KSlice k_slice(const spec::DeviceSpec& p, std::uint64_t K, unsigned core, unsigned cores);

// One program per core (cores = parts.size(), 1..16); matrices as in
// gemm_program (row-major with a row stride). Throws
// std::invalid_argument naming the argument for shapes that do not split
// (K below cores x rows, M below cores) or fewer than 4 accumulator rows.
std::vector<std::vector<isa::Instruction>> split_k_gemm_programs(
    const spec::DeviceSpec& p, model::Dataflow df, std::uint64_t M, std::uint64_t K,
    std::uint64_t N, MatrixRef a, MatrixRef b, const std::vector<MatrixRef>& parts, MatrixRef c,
    std::optional<std::uint64_t> zero_addr = std::nullopt);

// Appends the reduction of phase 2 to `prog` (no FINISH, no dependency
// flags: the caller runs assign_dependencies): rows [r0, r1) x N columns of
// out = ((parts[0] + parts[1]) + ...) + parts[n-1], all M x N words, in
// blocks of min(acc_rows / 4, 4095) rows and the accumulator's width (LOADs
// into the accumulator, VEC ADD_ROW, STORE; blocks alternate between two
// pairs of accumulator regions). std::invalid_argument for no parts, an
// empty range and fewer than 4 accumulator rows.
void append_reduce(const spec::DeviceSpec& p, std::vector<isa::Instruction>& prog,
                   const std::vector<MatrixRef>& parts, std::uint64_t r0, std::uint64_t r1,
                   std::uint64_t N, MatrixRef out);

// The golden result of split_k_gemm_programs: the partials model::gemm(A
// slice, B slice, the kernel's fold) summed in core order (binary32 on bf16,
// wrap-around int32 on int8).
model::AccMatrix split_k_gemm_golden(const spec::DeviceSpec& p, model::Dataflow df,
                                     const model::RawMatrix& a, const model::RawMatrix& b,
                                     unsigned cores);

}  // namespace sasim::host
