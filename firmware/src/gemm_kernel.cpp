#include "sasim/fw/gemm_kernel.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "sasim/isa/encode.hpp"

namespace sasim::fw {

namespace {

enum class Kind { kLoad, kStore, kGemm, kVec };

struct Op {
  Kind kind;
  isa::DmaArgs dma{};
  isa::GemmArgs gemm{};
  isa::VecArgs vec{};
  isa::Deps deps{};
};

struct Step {
  std::vector<Op> loads, exec, store;
};

Op load(isa::Sram s, bool tr, std::uint64_t row, std::uint64_t rows, std::uint64_t cols,
        std::uint64_t addr, std::uint64_t stride) {
  Op o{Kind::kLoad};
  o.dma = {s,
           tr,
           static_cast<std::uint32_t>(row),
           static_cast<std::uint32_t>(rows),
           static_cast<std::uint32_t>(cols),
           addr,
           stride};
  return o;
}
Op store(bool tr, std::uint64_t row, std::uint64_t rows, std::uint64_t cols, std::uint64_t addr,
         std::uint64_t stride) {
  Op o = load(isa::Sram::kAcc, tr, row, rows, cols, addr, stride);
  o.kind = Kind::kStore;
  return o;
}
Op gemm(model::Dataflow df, bool accumulate, std::uint64_t pre, std::uint64_t in_row,
        std::uint64_t b_row, std::uint64_t len, std::uint64_t acc_row) {
  Op o{Kind::kGemm};
  o.gemm.dataflow = static_cast<isa::Dataflow>(df);
  o.gemm.accumulate = accumulate;
  o.gemm.pre_row = static_cast<std::uint32_t>(pre);
  o.gemm.in_row = static_cast<std::uint32_t>(in_row);
  o.gemm.b_row = static_cast<std::uint32_t>(b_row);
  o.gemm.len = static_cast<std::uint32_t>(len);
  o.gemm.acc_row = static_cast<std::uint32_t>(acc_row);
  return o;
}
Op vec(isa::VecOp op, std::uint32_t src, std::uint32_t src2, std::uint32_t dst, std::uint32_t imm) {
  Op o{Kind::kVec};
  o.vec = {op, isa::Sram::kAcc, src, src2, dst, 1, imm};
  return o;
}

[[noreturn]] void bad(const std::string& what) {
  throw std::invalid_argument("gemm_program: " + what);
}

// Sets the dependency flags of the token protocol (gemm_kernel.hpp) and
// encodes the steps in order, then FINISH.
std::vector<isa::Instruction> emit(std::vector<Step>& steps) {
  for (std::size_t s = 0; s < steps.size(); ++s) {
    Step& st = steps[s];
    if (!st.loads.empty() && !st.exec.empty()) {
      st.loads.back().deps.push_next = true;
      st.exec.front().deps.pop_prev = true;
    }
    if (!st.exec.empty() && !st.store.empty()) {
      st.exec.back().deps.push_next = true;
      st.store.front().deps.pop_prev = true;
    }
    if (!st.exec.empty() && s + 1 < steps.size() && !steps[s + 1].loads.empty()) {
      st.exec.back().deps.push_prev = true;
      steps[s + 1].loads.front().deps.pop_next = true;
    }
    if (!st.store.empty()) {
      for (std::size_t t = s + 1; t < steps.size(); ++t) {
        if (!steps[t].exec.empty()) {
          st.store.back().deps.push_prev = true;
          steps[t].exec.front().deps.pop_next = true;
          break;
        }
      }
    }
  }
  std::vector<isa::Instruction> prog;
  auto put = [&](const Op& o) {
    switch (o.kind) {
      case Kind::kLoad:
        prog.push_back(isa::encode_load(o.dma, o.deps));
        break;
      case Kind::kStore:
        prog.push_back(isa::encode_store(o.dma, o.deps));
        break;
      case Kind::kGemm:
        prog.push_back(isa::encode_gemm(o.gemm, o.deps));
        break;
      case Kind::kVec:
        prog.push_back(isa::encode_vec(o.vec, o.deps));
        break;
    }
  };
  for (const Step& st : steps) {
    for (const Op& o : st.loads) put(o);
    for (const Op& o : st.exec) put(o);
    for (const Op& o : st.store) put(o);
  }
  prog.push_back(isa::encode_finish());
  return prog;
}

}  // namespace

std::uint64_t gemm_program_fold(const DeviceParams& p, model::Dataflow df, std::uint64_t K) {
  if (df != model::Dataflow::kOs) return p.rows;
  const std::uint64_t s = std::min<std::uint64_t>(p.spad_rows, 65536);
  return 2 * K <= s ? K : s / 2;
}

std::vector<isa::Instruction> gemm_program(const DeviceParams& p, model::Dataflow df,
                                           std::uint64_t M, std::uint64_t K, std::uint64_t N,
                                           std::uint64_t a_addr, std::uint64_t b_addr,
                                           std::uint64_t c_addr) {
  const std::uint64_t R = p.rows, C = p.cols, W = p.width(), eb = p.elem_bytes();
  const std::uint64_t S = std::min<std::uint64_t>(p.spad_rows, 65536);
  const std::uint64_t Q = std::min<std::uint64_t>(p.acc_rows, 65536);
  if (R == 0 || C == 0 || W > 4095) bad("array of " + std::to_string(R) + "x" + std::to_string(C));
  if (M == 0 || K == 0 || N == 0) bad("M, K and N must be at least 1");
  // Sizes first (no overflow below: each dimension is bounded by the memory).
  const std::uint64_t mem_end = p.dram_base + p.dram_bytes;
  auto region = [&](const char* name, std::uint64_t addr, std::uint64_t rows,
                    std::uint64_t row_bytes) {
    if (rows > p.dram_bytes || row_bytes > p.dram_bytes || rows * row_bytes > p.dram_bytes ||
        addr < p.dram_base || addr > mem_end || rows * row_bytes > mem_end - addr) {
      bad(std::string(name) + " is outside the device memory");
    }
    if (mem_end > (std::uint64_t{1} << 40) && addr + rows * row_bytes > (std::uint64_t{1} << 40)) {
      bad(std::string(name) + " is beyond the 40-bit address field");
    }
    if (row_bytes >= (std::uint64_t{1} << 24)) {
      bad(std::string(name) + " row stride of " + std::to_string(row_bytes) +
          " bytes is beyond the 24-bit stride field");
    }
    return addr + rows * row_bytes;
  };
  const std::uint64_t a_end = region("A", a_addr, M, K * eb);
  const std::uint64_t b_end = region("B", b_addr, K, N * eb);
  const std::uint64_t c_end = region("C", c_addr, M, N * 4);
  if ((c_addr < a_end && a_addr < c_end) || (c_addr < b_end && b_addr < c_end)) {
    bad("C overlaps A or B");
  }
  if (df == model::Dataflow::kOs) {
    if (K > 4095) bad("OS needs K <= 4095 (one GEMM reduces K), K = " + std::to_string(K));
    if (Q < R || S < 2) bad("OS needs acc_rows >= rows and spad_rows >= 2");
  } else if (S <= R) {
    bad("WS/IS need spad_rows > rows");
  }

  std::vector<Step> steps;
  const bool zero_pad = df != model::Dataflow::kOs && K % R != 0;
  const std::uint64_t zaddr = c_addr + ((M - 1) * N + (N - 1)) * 4;
  if (zero_pad) {
    Step z;  // acc row 0 := +0 (whatever it held), then its lane 0 -> zaddr
    z.exec.push_back(vec(isa::VecOp::kScale, 0, 0, 0, 0));
    z.exec.push_back(vec(isa::VecOp::kReluMask, 0, 0, 0, 0));
    z.store.push_back(store(false, 0, 1, 1, zaddr, 0));
    steps.push_back(z);
    Step relay;  // orders the STORE before the zeroing LOADs through EXEC
    relay.exec.push_back(vec(isa::VecOp::kCopy, 0, 0, 0, 0));
    steps.push_back(relay);
  }
  auto zero_rows = [&](Step& st, std::uint64_t row0, std::uint64_t n) {
    for (std::uint64_t r = row0; r < row0 + n; ++r) {
      st.loads.push_back(load(isa::Sram::kSpad, true, r, W, 1, zaddr, 0));
    }
  };

  if (df == model::Dataflow::kOs) {
    const std::uint64_t kc = gemm_program_fold(p, df, K);
    for (std::uint64_t m0 = 0; m0 < M; m0 += R) {
      const std::uint64_t mr = std::min(R, M - m0);
      for (std::uint64_t n0 = 0; n0 < N; n0 += C) {
        const std::uint64_t nn = std::min(C, N - n0);
        for (std::uint64_t k0 = 0; k0 < K; k0 += kc) {
          const std::uint64_t kn = std::min(kc, K - k0);
          Step st;
          st.loads.push_back(
              load(isa::Sram::kSpad, true, 0, mr, kn, a_addr + (m0 * K + k0) * eb, K * eb));
          st.loads.push_back(
              load(isa::Sram::kSpad, false, kc, kn, nn, b_addr + (k0 * N + n0) * eb, N * eb));
          st.exec.push_back(gemm(df, k0 > 0, 0, 0, kc, kn, 0));
          if (k0 + kn == K)
            st.store.push_back(store(false, 0, mr, nn, c_addr + (m0 * N + n0) * 4, N * 4));
          steps.push_back(st);
        }
      }
    }
    return emit(steps);
  }

  // WS and IS: the outer dimension tiles by C (WS: N, IS: M), the streamed one
  // is chunked by the scratchpad/accumulator room (WS: M, IS: N).
  const bool ws = df == model::Dataflow::kWs;
  const std::uint64_t outer = ws ? N : M, streamed = ws ? M : N;
  const std::uint64_t chunk = std::min({S - R, Q, std::uint64_t{4095}});
  for (std::uint64_t o0 = 0; o0 < outer; o0 += C) {
    const std::uint64_t on = std::min(C, outer - o0);
    for (std::uint64_t s0 = 0; s0 < streamed; s0 += chunk) {
      const std::uint64_t sn = std::min(chunk, streamed - s0);
      for (std::uint64_t k0 = 0; k0 < K; k0 += R) {
        const std::uint64_t kr = std::min(R, K - k0);
        Step st;
        if (kr < R) {
          zero_rows(st, kr, R - kr);
          zero_rows(st, R, sn);
        }
        if (ws) {  // stationary B tile, streamed rows of A
          st.loads.push_back(
              load(isa::Sram::kSpad, false, 0, kr, on, b_addr + (k0 * N + o0) * eb, N * eb));
          st.loads.push_back(
              load(isa::Sram::kSpad, false, R, sn, kr, a_addr + (s0 * K + k0) * eb, K * eb));
        } else {  // stationary A^T tile, streamed columns of B
          st.loads.push_back(
              load(isa::Sram::kSpad, true, 0, on, kr, a_addr + (o0 * K + k0) * eb, K * eb));
          st.loads.push_back(
              load(isa::Sram::kSpad, true, R, kr, sn, b_addr + (k0 * N + s0) * eb, N * eb));
        }
        st.exec.push_back(gemm(df, k0 > 0, 0, R, 0, sn, 0));
        if (k0 + kr == K) {
          if (ws) {
            st.store.push_back(store(false, 0, sn, on, c_addr + (s0 * N + o0) * 4, N * 4));
          } else {  // acc row n holds column n of the C tile
            st.store.push_back(store(true, 0, on, sn, c_addr + (o0 * N + s0) * 4, N * 4));
          }
        }
        steps.push_back(st);
      }
    }
  }
  return emit(steps);
}

}  // namespace sasim::fw
