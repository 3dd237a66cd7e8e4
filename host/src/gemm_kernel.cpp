#include "sasim/host/gemm_kernel.hpp"

#include <algorithm>
#include <array>
#include <stdexcept>
#include <string>
#include <utility>

#include "sasim/host/program_check.hpp"
#include "sasim/isa/encode.hpp"

namespace sasim::host {

namespace {

using model::Dataflow;

// OS with an epilogue: at most this many accumulator blocks in rotation. A
// weight-gradient GEMM with a fused update (gemm_update_program) is bound by
// its STOREs; a fourth block lets the EXEC queue run a block ahead of them
// instead of waiting for the STORE that frees a block (configs/train_full.yaml,
// 784-128-10, 60 steps: the weight update 45.9 k -> 44.8 k cycles per step;
// 8 or 16 blocks gave the same cycles as 4).
constexpr std::uint64_t kOsEpilogueBuffers = 4;

[[noreturn]] void bad(const std::string& what) {
  throw std::invalid_argument("gemm_program: " + what);
}

std::uint64_t ceil_div(std::uint64_t a, std::uint64_t b) { return (a + b - 1) / b; }

// Chunk length <= cap that splits `total` into equal chunks (up to one).
std::uint64_t balanced(std::uint64_t total, std::uint64_t cap) {
  return ceil_div(total, ceil_div(total, cap));
}

// Rows [addr + i * stride, + row_bytes), i < rows, of a matrix in memory.
struct Region {
  const char* name;
  std::uint64_t addr, rows, stride, row_bytes;
  std::uint64_t end() const { return addr + (rows - 1) * stride + row_bytes; }
};

// Exact overlap of two regions (rows ascending and disjoint within each).
bool overlaps(const Region& x, const Region& y) {
  if (x.end() <= y.addr || y.end() <= x.addr) return false;
  for (std::uint64_t i = 0, j = 0; i < x.rows && j < y.rows;) {
    const std::uint64_t xl = x.addr + i * x.stride, yl = y.addr + j * y.stride;
    if (xl + x.row_bytes <= yl) {
      ++i;
    } else if (yl + y.row_bytes <= xl) {
      ++j;
    } else {
      return true;
    }
  }
  return false;
}

isa::DmaArgs dma(isa::Sram s, bool tr, std::uint64_t row, std::uint64_t rows, std::uint64_t cols,
                 std::uint64_t addr, std::uint64_t stride) {
  return {s,
          tr,
          static_cast<std::uint32_t>(row),
          static_cast<std::uint32_t>(rows),
          static_cast<std::uint32_t>(cols),
          addr,
          stride};
}

bool spad_overlap(const std::vector<Access>& w, const std::vector<Access>& r) {
  for (const Access& x : w) {
    for (const Access& y : r) {
      if (x.space == Space::kSpad && y.space == Space::kSpad && x.first < y.first + y.count &&
          y.first < x.first + x.count) {
        return true;
      }
    }
  }
  return false;
}

}  // namespace

std::uint64_t gemm_zero_bytes(const spec::DeviceSpec& p) {
  return std::uint64_t{p.width()} * p.elem_bytes();
}

namespace {
// The rows of an SRAM of `rows` a program may use under limit `lim` (0: all).
std::uint64_t sram_limit(std::uint64_t rows, std::uint64_t lim) {
  return std::min<std::uint64_t>(lim == 0 ? rows : std::min(rows, lim), isa::kSramRowSpan);
}
}  // namespace

std::uint64_t gemm_program_fold(const spec::DeviceSpec& p, Dataflow df, std::uint64_t K,
                                const GemmOptions& opts) {
  if (df != Dataflow::kOs) return p.rows;
  const std::uint64_t s = sram_limit(p.spad_rows, opts.spad_rows);
  return std::max<std::uint64_t>(1, std::min({K, s / 2, isa::kMaxCount}));
}

GemmPlan gemm_plan(const spec::DeviceSpec& p, Dataflow df, std::uint64_t M, std::uint64_t K,
                   std::uint64_t N, const GemmOptions& opts) {
  const std::uint64_t R = p.rows, C = p.cols;
  const std::uint64_t S = sram_limit(p.spad_rows, opts.spad_rows);
  const std::uint64_t Q = sram_limit(p.acc_rows, opts.acc_rows);
  spec::validate(p);  // the contract's ranges (spec::SpecError)
  if (M == 0 || K == 0 || N == 0) bad("M, K and N must be at least 1");
  if (opts.a_transposed && df != Dataflow::kOs) bad("A given transposed needs OS");
  GemmPlan pl;

  if (df == Dataflow::kOs) {
    if (Q < R || S < 2) bad("OS needs acc_rows >= rows and spad_rows >= 2");
    pl.k_step = gemm_program_fold(p, df, K, opts);
    pl.k_blocks = ceil_div(K, pl.k_step);
    pl.chunk = R;
    pl.chunks = ceil_div(M, R);
    pl.tiles = ceil_div(N, C);
    pl.acc_block = R;
    // With an epilogue, at least three blocks: it runs after the next block's
    // GEMM (emission below), while the block after that may start; a fourth
    // lets the EXEC queue run a block ahead of the epilogue's STOREs.
    pl.acc_buffers = opts.epilogue && Q >= 3 * R
                         ? static_cast<unsigned>(std::min<std::uint64_t>(Q / R, kOsEpilogueBuffers))
                     : Q >= 2 * R ? 2
                                  : 1;
    pl.x_block = pl.p_rows = pl.k_step;
    pl.resident = pl.k_blocks == 1;
    // All B tiles resident (B read once) with 2 or 1 A^T panels, else (X
    // buffers, P slots) in preference order; (1, 1) always fits: 2 * k_step <= S.
    const std::uint64_t all_p = pl.tiles * K;
    for (unsigned nx : {2u, 1u}) {
      if (pl.resident && pl.chunks > 1 && all_p <= S && nx * K <= S - all_p) {
        pl.panels = nx;
        pl.p_resident = true;
        pl.p_slots = static_cast<unsigned>(pl.tiles);
        pl.p_base = nx * K;
        return pl;
      }
    }
    constexpr std::array<std::pair<unsigned, unsigned>, 4> kTry{{{2, 2}, {1, 2}, {2, 1}, {1, 1}}};
    for (auto [nx, np] : kTry) {
      if ((nx + np) * pl.k_step <= S) {
        (pl.resident ? pl.panels : pl.x_slots) = nx;
        pl.p_slots = np;
        break;
      }
    }
    pl.p_base = (pl.resident ? pl.panels : pl.x_slots) * pl.x_block;
    return pl;
  }

  const bool ws = df == Dataflow::kWs;
  if (!ws && df != Dataflow::kIs) bad("unknown dataflow");
  const std::uint64_t panel = ws ? M : N, outer = ws ? N : M;
  pl.k_step = R;
  pl.k_blocks = ceil_div(K, R);
  pl.tiles = ceil_div(outer, C);
  pl.zero_p_pad = K % R != 0;
  pl.zero_x_pad = pl.zero_p_pad && p.datapath == model::Datapath::kBf16;
  pl.acc_buffers = Q >= 2 ? 2 : 1;
  pl.p_rows = R;
  const std::uint64_t nk = pl.k_blocks, zx = pl.zero_x_pad ? 1 : 0;
  const std::uint64_t cap = std::min<std::uint64_t>(isa::kMaxCount, Q / pl.acc_buffers);
  auto finish = [&](std::uint64_t chunk, bool resident, unsigned bufs, unsigned p_slots) {
    pl.chunk = pl.x_block = pl.acc_block = chunk;
    pl.chunks = ceil_div(panel, chunk);
    pl.resident = resident;
    (resident ? pl.panels : pl.x_slots) = bufs;
    pl.p_slots = p_slots;
    pl.p_base = (resident ? bufs * nk : bufs + zx) * chunk;
    // With several chunks, keep every P tile when they fit: B (WS) or A (IS)
    // is then read once as well.
    const std::uint64_t all_p = pl.tiles * nk * R;
    if (pl.chunks > 1 && pl.p_base <= S && all_p <= S - pl.p_base) {
      pl.p_resident = true;
      pl.p_slots = static_cast<unsigned>(pl.tiles * nk);
    }
    return pl;
  };

  // Resident panel with the longest chunk: (panels, P slots) in preference order.
  const std::uint64_t chunk = balanced(panel, cap);
  constexpr std::array<std::pair<unsigned, unsigned>, 5> kResident{
      {{2, 4}, {1, 4}, {2, 2}, {1, 2}, {1, 1}}};
  for (auto [np, ns] : kResident) {
    if (np * nk * chunk + ns * R <= S) return finish(chunk, true, np, ns);
  }
  // Otherwise the better of a resident panel with a shorter chunk and
  // streamed X blocks, by elements moved (A, B and C traffic; C is the same).
  std::uint64_t ca = 0, cb = 0;
  unsigned sa = 0, xb = 0, sb = 0;
  for (unsigned ns : {2u, 1u}) {
    if (S > ns * R && (S - ns * R) / nk >= 1) {
      ca = balanced(panel, std::min(cap, (S - ns * R) / nk));
      sa = ns;
      break;
    }
  }
  constexpr std::array<std::pair<unsigned, unsigned>, 3> kStream{{{2, 2}, {2, 1}, {1, 1}}};
  for (auto [nx, ns] : kStream) {
    if (S > ns * R && (S - ns * R) / (nx + zx) >= 1) {
      cb = balanced(panel, std::min(cap, (S - ns * R) / (nx + zx)));
      xb = nx;
      sb = ns;
      break;
    }
  }
  if (ca == 0 && cb == 0) {
    bad("the scratchpad (" + std::to_string(S) + " rows) is too small: it needs more than " +
        std::to_string(R + zx) + " rows");
  }
  const auto moved = [&](std::uint64_t c, bool resident) {
    return (resident ? 1 : pl.tiles) * panel * K + ceil_div(panel, c) * K * outer;
  };
  const bool pick_a =
      ca != 0 && (cb == 0 || (ca >= std::min(panel, R + C) && moved(ca, true) <= moved(cb, false)));
  return pick_a ? finish(ca, true, 1, sa) : finish(cb, false, xb, sb);
}

std::vector<isa::Instruction> gemm_program(const spec::DeviceSpec& p, Dataflow df, std::uint64_t M,
                                           std::uint64_t K, std::uint64_t N, std::uint64_t a_addr,
                                           std::uint64_t b_addr, std::uint64_t c_addr,
                                           const GemmOptions& opts) {
  const std::uint64_t eb = p.elem_bytes();
  return gemm_program(p, df, M, K, N, {a_addr, K * eb}, {b_addr, N * eb}, {c_addr, N * 4}, opts);
}

std::vector<isa::Instruction> gemm_program(const spec::DeviceSpec& p, Dataflow df, std::uint64_t M,
                                           std::uint64_t K, std::uint64_t N, MatrixRef a,
                                           MatrixRef b, MatrixRef c, const GemmOptions& opts) {
  const GemmPlan pl = gemm_plan(p, df, M, K, N, opts);
  if (opts.epilogue && df == Dataflow::kIs) bad("an epilogue with IS (its blocks are transposed)");
  const std::uint64_t R = p.rows, C = p.cols, W = p.width(), eb = p.elem_bytes();

  // Operand regions: inside the memory and the ISA's address/stride fields.
  const std::uint64_t mem_end = p.dram_base + p.dram_bytes;
  auto region = [&](const char* name, MatrixRef m, std::uint64_t rows, std::uint64_t cols,
                    std::uint64_t elem) {
    const std::uint64_t row_bytes = cols * elem;
    if (rows > 1 && m.stride < row_bytes) {
      bad(std::string(name) + " row stride of " + std::to_string(m.stride) +
          " bytes is below its row of " + std::to_string(row_bytes) + " bytes");
    }
    const std::uint64_t stride = rows > 1 ? m.stride : 0;  // unused with one row
    if (stride >= (std::uint64_t{1} << 24)) {
      bad(std::string(name) + " row stride of " + std::to_string(stride) +
          " bytes is beyond the 24-bit stride field");
    }
    std::uint64_t span = 0;
    if (__builtin_mul_overflow(rows - 1, stride, &span) ||
        __builtin_add_overflow(span, row_bytes, &span) || m.addr < p.dram_base ||
        m.addr > mem_end || span > mem_end - m.addr) {
      bad(std::string(name) + " (" + std::to_string(rows) + " rows of " +
          std::to_string(row_bytes) + " bytes, stride " + std::to_string(stride) +
          ") is outside the device memory");
    }
    if (m.addr + span > (std::uint64_t{1} << 40)) {
      bad(std::string(name) + " is beyond the 40-bit address field");
    }
    return Region{name, m.addr, rows, stride, row_bytes};
  };
  const Region ra = opts.a_transposed ? region("A^T", a, K, M, eb) : region("A", a, M, K, eb);
  const Region rb = region("B", b, K, N, eb);
  const Region rc = region("C", c, M, N, 4);
  if (overlaps(rc, ra) || overlaps(rc, rb)) bad("C overlaps A or B");
  const bool zeros = pl.zero_p_pad || pl.zero_x_pad;
  std::uint64_t zaddr = 0;
  if (zeros) {
    if (!opts.zero_addr) {
      bad("K % rows != 0 needs GemmOptions::zero_addr (" + std::to_string(gemm_zero_bytes(p)) +
          " bytes of zero)");
    }
    zaddr = *opts.zero_addr;
    const Region rz = region("the zero region", {zaddr, 0}, 1, W, eb);
    if (overlaps(rc, rz)) bad("C overlaps the zero region");
  }

  std::vector<isa::Instruction> prog;
  // Zero the pad columns of the X rows that receive the partial k block, then
  // relay through EXEC so that the LOADs overwriting them come strictly later.
  if (pl.zero_x_pad) {
    const std::uint64_t nk = pl.k_blocks;
    auto zero = [&](std::uint64_t row) {
      prog.push_back(isa::encode_load(dma(isa::Sram::kSpad, false, row, pl.x_block, W, zaddr, 0)));
    };
    if (pl.resident) {
      for (unsigned pan = 0; pan < pl.panels; ++pan) zero((pan * nk + nk - 1) * pl.x_block);
    } else {
      zero(pl.x_slots * pl.x_block);
    }
    prog.push_back(isa::encode_vec({isa::VecOp::kCopy, isa::Sram::kAcc, 0, 0, 0, 1, 0}));
  }

  // One unit per GEMM: the loads it needs, the GEMM, the STORE that follows it.
  struct Unit {
    std::vector<isa::Instruction> loads;
    isa::Instruction gemm;
    std::vector<isa::Instruction> store;
  };
  const bool ws = df == Dataflow::kWs, is = df == Dataflow::kIs, os = df == Dataflow::kOs;
  const std::uint64_t panel_dim = ws || os ? M : N, outer_dim = is ? M : N;
  std::uint64_t g = 0, x_ring = 0;
  auto make_unit = [&](std::uint64_t ci, std::uint64_t ti, std::uint64_t ki) {
    const std::uint64_t c0 = ci * pl.chunk, cn = std::min(pl.chunk, panel_dim - c0);
    const std::uint64_t t0 = ti * C, tn = std::min(C, outer_dim - t0);
    const std::uint64_t k0 = ki * pl.k_step, kn = std::min(pl.k_step, K - k0);
    const bool last_k = ki + 1 == pl.k_blocks;
    Unit u;
    // X block: resident (loaded by the first tile of the chunk) or streamed.
    std::uint64_t xrow = 0;
    bool load_x = true;
    if (pl.resident) {
      xrow = ((ci % pl.panels) * pl.k_blocks + ki) * pl.x_block;
      load_x = ti == 0;
    } else if (pl.zero_x_pad && last_k) {
      xrow = pl.x_slots * pl.x_block;
    } else {
      xrow = (x_ring++ % pl.x_slots) * pl.x_block;
    }
    if (load_x) {
      if (ws) {
        u.loads.push_back(isa::encode_load(dma(isa::Sram::kSpad, false, xrow, cn, kn,
                                               a.addr + c0 * ra.stride + k0 * eb, ra.stride)));
      } else if (is) {
        u.loads.push_back(isa::encode_load(dma(isa::Sram::kSpad, true, xrow, kn, cn,
                                               b.addr + k0 * rb.stride + c0 * eb, rb.stride)));
      } else if (opts.a_transposed) {  // rows k0.. of A^T: the same block, plain
        u.loads.push_back(isa::encode_load(dma(isa::Sram::kSpad, false, xrow, kn, cn,
                                               a.addr + k0 * ra.stride + c0 * eb, ra.stride)));
      } else {
        u.loads.push_back(isa::encode_load(dma(isa::Sram::kSpad, true, xrow, cn, kn,
                                               a.addr + c0 * ra.stride + k0 * eb, ra.stride)));
      }
    }
    // P tile (WS/IS: R stationary rows, the pad rows from the zero region):
    // resident (loaded by the first chunk) or rotating through the slots.
    const std::uint64_t prow =
        pl.p_base + (pl.p_resident ? ti * pl.k_blocks + ki : g % pl.p_slots) * pl.p_rows;
    const bool load_p = !pl.p_resident || ci == 0;
    if (load_p && !os && kn < R) {
      u.loads.push_back(
          isa::encode_load(dma(isa::Sram::kSpad, false, prow + kn, R - kn, C, zaddr, 0)));
    }
    if (!load_p) {
      // resident from the first chunk
    } else if (is) {
      u.loads.push_back(isa::encode_load(
          dma(isa::Sram::kSpad, true, prow, tn, kn, a.addr + t0 * ra.stride + k0 * eb, ra.stride)));
    } else {
      u.loads.push_back(isa::encode_load(dma(isa::Sram::kSpad, false, prow, kn, tn,
                                             b.addr + k0 * rb.stride + t0 * eb, rb.stride)));
    }
    const std::uint64_t arow = ((ci * pl.tiles + ti) % pl.acc_buffers) * pl.acc_block;
    isa::GemmArgs ga;
    ga.dataflow = static_cast<isa::Dataflow>(df);
    ga.accumulate = ki > 0;
    ga.pre_row = static_cast<std::uint32_t>(os ? 0 : prow);
    ga.in_row = static_cast<std::uint32_t>(xrow);
    ga.b_row = static_cast<std::uint32_t>(os ? prow : 0);
    ga.len = static_cast<std::uint32_t>(os ? kn : cn);
    ga.acc_row = static_cast<std::uint32_t>(arow);
    u.gemm = isa::encode_gemm(ga);
    if (last_k && opts.epilogue) {
      opts.epilogue({arow, c0, cn, t0, tn}, u.store);
    } else if (last_k) {
      if (is) {  // acc row n holds column n of the C tile
        u.store.push_back(isa::encode_store(
            dma(isa::Sram::kAcc, true, arow, tn, cn, c.addr + t0 * rc.stride + c0 * 4, rc.stride)));
      } else {
        u.store.push_back(isa::encode_store(dma(isa::Sram::kAcc, false, arow, cn, tn,
                                                c.addr + c0 * rc.stride + t0 * 4, rc.stride)));
      }
    }
    ++g;
    return u;
  };

  // Emission: the loads of GEMM g+1 go before GEMM g (they run while it
  // computes) unless they overwrite rows GEMM g reads; then right after it.
  // An epilogue goes after the next GEMM, so that its VECs run while that
  // GEMM computes (sa_exec starts a VEC beside unfinished GEMMs whose rows it
  // does not touch), when the blocks rotate through two or more accumulator
  // block sets.
  const std::uint64_t total = pl.gemms();
  std::uint64_t ci = 0, ti = 0, ki = 0;
  auto next = [&] {
    Unit u = make_unit(ci, ti, ki);
    if (++ki == pl.k_blocks) {
      ki = 0;
      if (++ti == pl.tiles) {
        ti = 0;
        ++ci;
      }
    }
    return u;
  };
  auto put = [&](const std::vector<isa::Instruction>& v) {
    prog.insert(prog.end(), v.begin(), v.end());
  };
  Unit cur = next();
  put(cur.loads);
  std::vector<isa::Instruction> epilogue;  // the previous GEMM's
  // Only when the next GEMM writes other accumulator rows than the block's.
  const bool defer = opts.epilogue && pl.acc_buffers >= 2;
  for (std::uint64_t i = 0; i < total; ++i) {
    Unit nxt;
    bool deferred = false;
    if (i + 1 < total) {
      nxt = next();
      std::vector<Access> w, r = footprint(p, cur.gemm);
      for (const isa::Instruction& l : nxt.loads) {
        for (const Access& x : footprint(p, l)) w.push_back(x);
      }
      deferred = spad_overlap(w, r);
      if (!deferred) put(nxt.loads);
    }
    prog.push_back(cur.gemm);
    if (defer) {
      put(epilogue);
      epilogue = std::move(cur.store);
    } else {
      put(cur.store);
    }
    if (deferred) put(nxt.loads);
    cur = std::move(nxt);
  }
  put(epilogue);
  prog.push_back(isa::encode_finish());
  assign_dependencies(p, prog);
  return prog;
}

}  // namespace sasim::host
