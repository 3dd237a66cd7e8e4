#include "sasim/host/multicore_kernels.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "sasim/host/program_check.hpp"
#include "sasim/isa/encode.hpp"
#include "sasim/model/gemm.hpp"

namespace sasim::host {

std::string_view to_string(GemmSplit s) { return s == GemmSplit::kM ? "m" : "k"; }

std::optional<GemmSplit> parse_gemm_split(std::string_view s) {
  if (s == "m") return GemmSplit::kM;
  if (s == "k") return GemmSplit::kK;
  return std::nullopt;
}

std::vector<std::vector<isa::Instruction>> split_m_gemm_programs(
    const spec::DeviceSpec& p, model::Dataflow df, std::uint64_t M, std::uint64_t K,
    std::uint64_t N, MatrixRef a, MatrixRef b, MatrixRef c, unsigned cores,
    std::optional<std::uint64_t> zero_addr) {
  if (cores == 0 || cores > 16 || M < cores)
    throw std::invalid_argument("split-M GEMM: " + std::to_string(cores) + " cores for M = " +
                                std::to_string(M) + " rows (allowed 1..16 cores, M >= cores)");
  std::vector<std::vector<isa::Instruction>> progs;
  GemmOptions o;
  o.zero_addr = zero_addr;
  for (unsigned i = 0; i < cores; ++i) {
    const auto r0 = static_cast<std::uint64_t>(model::even_bound(Eigen::Index(M), i, cores));
    const auto r1 = static_cast<std::uint64_t>(model::even_bound(Eigen::Index(M), i + 1, cores));
    progs.push_back(gemm_program(p, df, r1 - r0, K, N, MatrixRef{a.addr + r0 * a.stride, a.stride},
                                 b, MatrixRef{c.addr + r0 * c.stride, c.stride}, o));
  }
  return progs;
}

KSlice block_slice(const spec::DeviceSpec& p, std::uint64_t K, unsigned core, unsigned cores) {
  if (cores == 0 || core >= cores)
    throw std::invalid_argument("block_slice: core " + std::to_string(core) + " of " +
                                std::to_string(cores));
  const auto blocks = static_cast<Eigen::Index>((K + p.rows - 1) / p.rows);  // of the rows
  const auto bound = [&](unsigned i) {
    return std::min(K, static_cast<std::uint64_t>(model::even_bound(blocks, i, cores)) * p.rows);
  };
  return KSlice{bound(core), bound(core + 1)};
}

KSlice k_slice(const spec::DeviceSpec& p, std::uint64_t K, unsigned core, unsigned cores) {
  const std::uint64_t blocks = (K + p.rows - 1) / p.rows;  // of the array's rows
  if (cores > 0 && blocks < cores)
    throw std::invalid_argument("split-K GEMM: K = " + std::to_string(K) + " gives " +
                                std::to_string(blocks) + " blocks of " + std::to_string(p.rows) +
                                " rows for " + std::to_string(cores) +
                                " cores (allowed K >= cores x rows)");
  return block_slice(p, K, core, cores);
}

void append_reduce(const spec::DeviceSpec& p, std::vector<isa::Instruction>& prog,
                   const std::vector<MatrixRef>& parts, std::uint64_t r0, std::uint64_t r1,
                   std::uint64_t N, MatrixRef out) {
  if (parts.empty() || r1 <= r0 || N == 0 || p.acc_rows < 4)
    throw std::invalid_argument("append_reduce: " + std::to_string(parts.size()) + " parts, rows " +
                                std::to_string(r0) + ".." + std::to_string(r1) + ", " +
                                std::to_string(N) + " columns, " + std::to_string(p.acc_rows) +
                                " accumulator rows (need parts, rows, columns, 4 rows)");
  const std::uint64_t chunk = std::min<std::uint64_t>(p.acc_rows / 4, isa::kMaxCount);
  std::uint64_t block = 0;
  for (std::uint64_t a = r0; a < r1; a += chunk) {
    const auto rows = static_cast<std::uint32_t>(std::min(chunk, r1 - a));
    for (std::uint64_t c0 = 0; c0 < N; c0 += p.cols, ++block) {
      const auto cols = static_cast<std::uint32_t>(std::min<std::uint64_t>(p.cols, N - c0));
      // Blocks alternate between two pairs of accumulator blocks: the sum
      // (sum_row) and the operand (sum_row + chunk), so a block's LOADs need
      // not wait for the STORE before last.
      const auto sum_row = static_cast<std::uint32_t>(block % 2 * 2 * chunk);
      const auto opnd_row = static_cast<std::uint32_t>(sum_row + chunk);
      // The block of a memory matrix at accumulator row acc_row.
      auto block_dma = [&](const MatrixRef& m, std::uint32_t acc_row) {
        isa::DmaArgs d;
        d.sram = isa::Sram::kAcc;
        d.sram_row = acc_row;
        d.rows = rows;
        d.cols = cols;
        d.dram_addr = m.addr + a * m.stride + c0 * 4;
        d.dram_stride = m.stride;
        return d;
      };
      prog.push_back(isa::encode_load(block_dma(parts[0], sum_row)));
      isa::VecArgs v;
      v.src_row = sum_row;
      v.dst_row = sum_row;
      v.rows = rows;
      if (parts.size() == 1) {
        // One part: a no-op COPY, the EXEC instruction that relays the next
        // block's LOAD after this STORE (assign_dependencies).
        v.op = isa::VecOp::kCopy;
        prog.push_back(isa::encode_vec(v));
      }
      for (std::size_t j = 1; j < parts.size(); ++j) {
        prog.push_back(isa::encode_load(block_dma(parts[j], opnd_row)));
        v.op = isa::VecOp::kAddRow;
        v.src2_row = opnd_row;
        prog.push_back(isa::encode_vec(v));
      }
      prog.push_back(isa::encode_store(block_dma(out, sum_row)));
    }
  }
}

std::vector<std::vector<isa::Instruction>> split_k_gemm_programs(
    const spec::DeviceSpec& p, model::Dataflow df, std::uint64_t M, std::uint64_t K,
    std::uint64_t N, MatrixRef a, MatrixRef b, const std::vector<MatrixRef>& parts, MatrixRef c,
    std::optional<std::uint64_t> zero_addr) {
  const auto n = static_cast<unsigned>(parts.size());
  if (n == 0 || n > 16)
    throw std::invalid_argument("split-K GEMM: " + std::to_string(n) +
                                " partial buffers (one per core, allowed 1..16)");
  if (M < n)
    throw std::invalid_argument("split-K GEMM: M = " + std::to_string(M) + " rows for " +
                                std::to_string(n) + " cores (allowed M >= cores)");
  const std::uint64_t eb = p.datapath == model::Datapath::kBf16 ? 2 : 1;
  if (p.acc_rows < 4)
    throw std::invalid_argument(
        "split-K GEMM: the reduction needs four accumulator rows (acc_rows = " +
        std::to_string(p.acc_rows) + ")");
  std::vector<std::vector<isa::Instruction>> progs(n);
  for (unsigned i = 0; i < n; ++i) {
    const KSlice ks = k_slice(p, K, i, n);
    GemmOptions o;
    o.zero_addr = zero_addr;
    std::vector<isa::Instruction> prog =
        gemm_program(p, df, M, ks.end - ks.first, N, MatrixRef{a.addr + ks.first * eb, a.stride},
                     MatrixRef{b.addr + ks.first * b.stride, b.stride}, parts[i], o);
    prog.pop_back();  // its FINISH
    prog.push_back(isa::encode_sync());
    // Phase 2: rows [r0, r1) of C.
    append_reduce(p, prog, parts,
                  static_cast<std::uint64_t>(model::even_bound(Eigen::Index(M), i, n)),
                  static_cast<std::uint64_t>(model::even_bound(Eigen::Index(M), i + 1, n)), N, c);
    prog.push_back(isa::encode_finish());
    assign_dependencies(p, prog);
    progs[i] = std::move(prog);
  }
  return progs;
}

model::AccMatrix split_k_gemm_golden(const spec::DeviceSpec& p, model::Dataflow df,
                                     const model::RawMatrix& a, const model::RawMatrix& b,
                                     unsigned cores) {
  const auto K = static_cast<std::uint64_t>(a.cols());
  std::vector<Eigen::Index> bounds{0}, folds;
  for (unsigned i = 0; i < cores; ++i) {
    const KSlice ks = k_slice(p, K, i, cores);
    bounds.push_back(static_cast<Eigen::Index>(ks.end));
    folds.push_back(static_cast<Eigen::Index>(gemm_program_fold(p, df, ks.end - ks.first)));
  }
  return model::gemm_slices(p.datapath, a, b, bounds, folds);
}

}  // namespace sasim::host
