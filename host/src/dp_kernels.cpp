#include "sasim/host/dp_kernels.hpp"

#include <algorithm>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "sasim/host/multicore_kernels.hpp"
#include "sasim/host/program_check.hpp"
#include "sasim/isa/encode.hpp"

namespace sasim::host {

namespace {

// A program without its FINISH, to be continued.
std::vector<isa::Instruction> body(std::vector<isa::Instruction> prog) {
  if (prog.empty() || isa::opcode_of(prog.back()) != isa::Opcode::kFinish)
    throw std::logic_error("dp kernels: a program that does not end with FINISH");
  prog.pop_back();
  return prog;
}

// Appends `more` after a no-op VEC (COPY of accumulator row 0 onto itself):
// the EXEC instruction assign_dependencies relays a STORE of the first part
// and a LOAD of the second over the same SRAM rows through.
void append(std::vector<isa::Instruction>& prog, const std::vector<isa::Instruction>& more) {
  if (!prog.empty() && isa::opcode_of(prog.back()) != isa::Opcode::kSync)
    prog.push_back(isa::encode_vec({isa::VecOp::kCopy, isa::Sram::kAcc, 0, 0, 0, 1, 0}));
  prog.insert(prog.end(), more.begin(), more.end());
}

// FINISH, the dependency flags.
std::vector<isa::Instruction> finish(const spec::DeviceSpec& p,
                                     std::vector<isa::Instruction> prog) {
  prog.push_back(isa::encode_finish());
  assign_dependencies(p, prog);
  return prog;
}

void check_cores(Driver& drv, unsigned cores, std::uint64_t M, const char* what) {
  if (cores < 1 || cores > drv.backend().cores() || M % cores != 0)
    throw std::invalid_argument(
        std::string(what) + ": " + std::to_string(M) + " rows on " + std::to_string(cores) +
        " cores of a device of " + std::to_string(drv.backend().cores()) + " (allowed 1.." +
        std::to_string(drv.backend().cores()) + " cores dividing the rows)");
}

MatrixRef rows_ref(const Tensor& t, RowRange r) { return row_view(t, r).ref(); }

// Columns [first, end) of a tensor (same rows and row stride).
MatrixRef cols_ref(const Tensor& t, RowRange c) {
  if (c.end <= c.first || c.end > t.cols())
    throw std::invalid_argument("cols_ref: columns " + std::to_string(c.first) + ".." +
                                std::to_string(c.end) + " of a tensor of " +
                                std::to_string(t.cols()) + " columns");
  return MatrixRef{t.addr() + c.first * t.elem_bytes(), t.pitch()};
}

std::optional<MatrixRef> opt_rows(const Tensor* t, RowRange r) {
  return t != nullptr ? std::optional<MatrixRef>(rows_ref(*t, r)) : std::nullopt;
}
std::optional<MatrixRef> opt_cols(const Tensor* t, RowRange c) {
  return t != nullptr ? std::optional<MatrixRef>(cols_ref(*t, c)) : std::nullopt;
}

// dZ of one core's part of the rows or columns (the ReLU mask against z, or
// none for a layer without activation) and its bf16 copy, m x n; `part` gives
// a tensor's part.
template <class Part>
std::vector<isa::Instruction> mask_program(const spec::DeviceSpec& p, std::uint64_t m,
                                           std::uint64_t n, const Tensor& dy, const Tensor* z,
                                           const Tensor& dz_bf, Part part) {
  return body(z != nullptr
                  ? relu_backward_program(p, m, n, part(dy), part(*z), part(dy), part(dz_bf))
                  : to_bf16_program(p, m, n, part(dy), part(dz_bf)));
}

// A bf16 row of ones (1 x n), for db = ones dZ.
Tensor ones_row(Driver& drv, std::uint64_t n) {
  Tensor ones = drv.alloc_tensor(1, n, 2);
  const std::vector<std::uint16_t> one(n, 0x3F80);  // bf16 1.0
  drv.copy_in(ones, std::span<const std::uint16_t>(one));
  return ones;
}

// The fused weight update over the whole batch, core i stepping rows
// rows[i] of dW (OS from X itself) and the last core db and the bias (WS).
ParallelLaunch fused_weight_update(Driver& drv, const std::vector<RowRange>& rows, const Tensor& x,
                                   const Tensor& w, const Tensor& dz_bf, const Tensor& dw,
                                   const Tensor& db, const LayerUpdate& u) {
  const std::uint64_t M = x.rows(), N = dz_bf.cols();
  const spec::DeviceSpec& p = drv.params();
  const GemmOptions base = drv.gemm_options();
  const GemmOptions os = weight_gradient_options(p, base, u.rule.optimizer);
  const Tensor ones = ones_row(drv, M);
  const RowRange bias_row{0, 1};
  std::vector<std::vector<isa::Instruction>> progs;
  std::vector<std::uint64_t> macs(rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const RowRange k = rows[i];
    macs[i] = (k.end - k.first) * M * N + (i + 1 == rows.size() ? M * N : 0);
    std::vector<isa::Instruction> prog;
    if (k.end > k.first)
      prog = body(gemm_update_program(
          p, model::Dataflow::kOs, k.end - k.first, M, N,
          MatrixRef{x.addr() + k.first * x.elem_bytes(), x.pitch()}, dz_bf.ref(), rows_ref(dw, k),
          u.keep_gradients,
          {rows_ref(*u.w32, k), rows_ref(w, k), opt_rows(u.vw, k), opt_rows(u.sw, k)}, u.rule, os));
    if (i + 1 == rows.size())
      append(prog, body(gemm_update_program(p, model::Dataflow::kWs, 1, M, N, ones.ref(),
                                            dz_bf.ref(), db.ref(), u.keep_gradients,
                                            {u.b32->ref(), std::nullopt, opt_rows(u.vb, bias_row),
                                             opt_rows(u.sb, bias_row)},
                                            u.rule, base)));
    if (prog.empty())
      prog.push_back(isa::encode_vec({isa::VecOp::kCopy, isa::Sram::kAcc, 0, 0, 0, 1, 0}));
    progs.push_back(finish(p, std::move(prog)));
  }
  return {drv.launch(progs), std::move(macs)};
}

}  // namespace

std::string_view to_string(GradReduce r) { return r == GradReduce::kFused ? "fused" : "partials"; }

std::optional<GradReduce> parse_grad_reduce(std::string_view s) {
  if (s == "fused") return GradReduce::kFused;
  if (s == "partials") return GradReduce::kPartials;
  return std::nullopt;
}

RowRange core_rows(std::uint64_t M, unsigned core, unsigned cores) {
  if (cores == 0 || core >= cores)
    throw std::invalid_argument("core_rows: core " + std::to_string(core) + " of " +
                                std::to_string(cores));
  const auto bound = [&](unsigned i) {
    return static_cast<std::uint64_t>(model::even_bound(static_cast<Eigen::Index>(M), i, cores));
  };
  return {bound(core), bound(core + 1)};
}

Tensor row_view(const Tensor& t, RowRange r) {
  if (r.end <= r.first || r.end > t.rows())
    throw std::invalid_argument("row_view: rows " + std::to_string(r.first) + ".." +
                                std::to_string(r.end) + " of a tensor of " +
                                std::to_string(t.rows()) + " rows");
  return Tensor::view(t.addr() + r.first * t.pitch(), r.end - r.first, t.cols(), t.elem_bytes(),
                      t.pitch());
}

ParallelLaunch dp_dense_forward(Driver& drv, unsigned cores, const Tensor& x, const Tensor& w,
                                const Tensor& bias, const Tensor& z, const Tensor& y, bool relu) {
  const std::uint64_t M = x.rows(), K = x.cols(), N = w.cols();
  check_cores(drv, cores, M, "dp_dense_forward");
  if (w.rows() != K || z.rows() != M || y.rows() != M || z.cols() != N || y.cols() != N ||
      bias.cols() != N)
    throw std::invalid_argument("dp_dense_forward: x " + std::to_string(M) + " x " +
                                std::to_string(K) + ", w, bias, z and y do not fit");
  const spec::DeviceSpec& p = drv.params();
  const GemmOptions base = drv.gemm_options();
  std::vector<std::vector<isa::Instruction>> progs;
  std::vector<std::uint64_t> macs;
  for (unsigned i = 0; i < cores; ++i) {
    const RowRange r = core_rows(M, i, cores);
    progs.push_back(dense_forward_program(p, r.end - r.first, K, N, rows_ref(x, r), w.ref(),
                                          bias.ref(), rows_ref(z, r), rows_ref(y, r), relu, base));
    macs.push_back((r.end - r.first) * K * N);
  }
  return {drv.launch(progs), std::move(macs)};
}

ParallelLaunch dp_data_backward(Driver& drv, unsigned cores, const Tensor& w, const Tensor& dy,
                                const Tensor* z, const Tensor& dz_bf, const Tensor* dx) {
  check_data_backward(w, dy, z, dz_bf, dx);
  const std::uint64_t M = dy.rows(), K = w.rows(), N = w.cols();
  check_cores(drv, cores, M, "dp_data_backward");
  const spec::DeviceSpec& p = drv.params();
  const GemmOptions base = drv.gemm_options();
  Tensor wt;
  if (dx != nullptr) wt = drv.alloc_tensor(N, K, 2);
  std::vector<std::vector<isa::Instruction>> progs;
  std::vector<std::uint64_t> macs(cores);
  for (unsigned i = 0; i < cores; ++i) {
    const RowRange r = core_rows(M, i, cores);
    const std::uint64_t m = r.end - r.first;
    std::vector<isa::Instruction> prog =
        mask_program(p, m, N, dy, z, dz_bf, [&](const Tensor& t) { return rows_ref(t, r); });
    if (dx != nullptr) {
      // W^T: this core's rows of W become its columns of W^T.
      const RowRange k = core_rows(K, i, cores);
      if (k.end > k.first)
        append(prog, body(transpose_program(p, k.end - k.first, N, rows_ref(w, k),
                                            MatrixRef{wt.addr() + k.first * 2, wt.pitch()})));
      prog.push_back(isa::encode_sync());  // all of W^T and every dz_bf row are in memory
      append(prog, body(gemm_program(p, model::Dataflow::kWs, m, N, K, rows_ref(dz_bf, r), wt.ref(),
                                     rows_ref(*dx, r), base)));
      macs[i] = m * N * K;
    }
    progs.push_back(finish(p, std::move(prog)));
  }
  return {drv.launch(progs), std::move(macs)};
}

ParallelLaunch dp_weight_backward(Driver& drv, unsigned cores, const Tensor& x, const Tensor& w,
                                  const Tensor& dz_bf, const Tensor& dw, const Tensor& db,
                                  const LayerUpdate& u, GradReduce reduce) {
  check_weight_backward(x, w, dz_bf, dw, db, &u);
  const std::uint64_t M = x.rows(), K = x.cols(), N = dz_bf.cols();
  check_cores(drv, cores, M, "dp_weight_backward");
  const spec::DeviceSpec& p = drv.params();
  const GemmOptions base = drv.gemm_options();
  if (reduce == GradReduce::kFused) {
    // Whole blocks of the array's rows of dW per core (OS tiles).
    std::vector<RowRange> rows;
    for (unsigned i = 0; i < cores; ++i) {
      const KSlice k = block_slice(p, K, i, cores);
      rows.push_back({k.first, k.end});
    }
    return fused_weight_update(drv, rows, x, w, dz_bf, dw, db, u);
  }
  // Each core's partial sums, and the ones row of db = ones dZ.
  std::vector<Tensor> part_w, part_b;
  std::vector<MatrixRef> ref_w, ref_b;
  for (unsigned i = 0; i < cores; ++i) {
    part_w.push_back(drv.alloc_tensor(K, N, 4));
    part_b.push_back(drv.alloc_tensor(1, N, 4));
    ref_w.push_back(part_w.back().ref());
    ref_b.push_back(part_b.back().ref());
  }
  const std::uint64_t shard = M / cores;
  const Tensor ones = ones_row(drv, shard);
  const GemmOptions os = weight_gradient_options(p, base, u.rule.optimizer);
  const RowRange bias_row{0, 1};
  std::vector<std::vector<isa::Instruction>> progs;
  const std::vector<std::uint64_t> macs(cores, K * shard * N + shard * N);
  for (unsigned i = 0; i < cores; ++i) {
    const RowRange r = core_rows(M, i, cores);
    // Phase 1: the shard's partial dW (OS from X itself) and db (WS).
    std::vector<isa::Instruction> prog = body(gemm_program(
        p, model::Dataflow::kOs, K, shard, N, rows_ref(x, r), rows_ref(dz_bf, r), ref_w[i], os));
    append(prog, body(gemm_program(p, model::Dataflow::kWs, 1, shard, N, ones.ref(),
                                   rows_ref(dz_bf, r), ref_b[i], base)));
    prog.push_back(isa::encode_sync());
    // Phase 2: this core's rows of dW, reduced in core order, then their step.
    const RowRange k = core_rows(K, i, cores);
    if (k.end > k.first) {
      append_reduce(p, prog, ref_w, k.first, k.end, N, dw.ref());
      append(prog, body(update_program(
                       p, k.end - k.first, N, rows_ref(dw, k),
                       {rows_ref(*u.w32, k), rows_ref(w, k), opt_rows(u.vw, k), opt_rows(u.sw, k)},
                       u.rule)));
    }
    if (i + 1 == cores) {
      append_reduce(p, prog, ref_b, 0, 1, N, db.ref());
      append(prog, body(update_program(p, 1, N, db.ref(),
                                       {u.b32->ref(), std::nullopt, opt_rows(u.vb, bias_row),
                                        opt_rows(u.sb, bias_row)},
                                       u.rule)));
    }
    progs.push_back(finish(p, std::move(prog)));
  }
  return {drv.launch(progs), macs};
}

std::string_view to_string(Parallelism p) { return p == Parallelism::kData ? "data" : "tensor"; }

std::optional<Parallelism> parse_parallelism(std::string_view s) {
  if (s == "data") return Parallelism::kData;
  if (s == "tensor") return Parallelism::kTensor;
  return std::nullopt;
}

namespace {

// The cores' partial buffers (M x N fp32 each) and their references.
struct Partials {
  std::vector<Tensor> t;
  std::vector<MatrixRef> ref;
  Partials(Driver& drv, unsigned cores, std::uint64_t M, std::uint64_t N) {
    for (unsigned i = 0; i < cores; ++i) {
      t.push_back(drv.alloc_tensor(M, N, 4));
      ref.push_back(t.back().ref());
    }
  }
};

void check_split(Driver& drv, unsigned cores, std::uint64_t M, std::uint64_t H, const char* what) {
  if (cores < 1 || cores > drv.backend().cores() || M < cores || H < cores)
    throw std::invalid_argument(std::string(what) + ": " + std::to_string(M) + " rows and " +
                                std::to_string(H) + " split columns on " + std::to_string(cores) +
                                " cores of a device of " + std::to_string(drv.backend().cores()) +
                                " (allowed 1.." + std::to_string(drv.backend().cores()) +
                                " cores, at most the rows and the split columns)");
}

}  // namespace

ParallelLaunch tp_dense_forward(Driver& drv, unsigned cores, TpRole role, const Tensor& x,
                                const Tensor& w, const Tensor& bias, const Tensor& z,
                                const Tensor& y, bool relu) {
  const std::uint64_t M = x.rows(), K = x.cols(), N = w.cols();
  if (w.rows() != K || z.rows() != M || y.rows() != M || z.cols() != N || y.cols() != N ||
      bias.cols() != N)
    throw std::invalid_argument("tp_dense_forward: x " + std::to_string(M) + " x " +
                                std::to_string(K) + ", w, bias, z and y do not fit");
  check_split(drv, cores, M, role == TpRole::kColumn ? N : K, "tp_dense_forward");
  const spec::DeviceSpec& p = drv.params();
  const GemmOptions base = drv.gemm_options();
  std::vector<std::vector<isa::Instruction>> progs;
  std::vector<std::uint64_t> macs;
  if (role == TpRole::kColumn) {
    for (unsigned i = 0; i < cores; ++i) {
      const RowRange c = core_rows(N, i, cores);
      progs.push_back(dense_forward_program(p, M, K, c.end - c.first, x.ref(), cols_ref(w, c),
                                            cols_ref(bias, c), cols_ref(z, c), cols_ref(y, c), relu,
                                            base));
      macs.push_back(M * K * (c.end - c.first));
    }
    return {drv.launch(progs), std::move(macs)};
  }
  const Partials parts(drv, cores, M, N);
  for (unsigned i = 0; i < cores; ++i) {
    const RowRange k = core_rows(K, i, cores), r = core_rows(M, i, cores);
    macs.push_back(M * (k.end - k.first) * N);
    std::vector<isa::Instruction> prog =
        body(gemm_program(p, model::Dataflow::kWs, M, k.end - k.first, N, cols_ref(x, k),
                          rows_ref(w, k), parts.ref[i], base));
    prog.push_back(isa::encode_sync());  // every partial product is in memory
    append_reduce(p, prog, parts.ref, r.first, r.end, N, z.ref());
    append(prog, body(bias_act_program(p, r.end - r.first, N, rows_ref(z, r), bias.ref(),
                                       rows_ref(y, r), relu)));
    progs.push_back(finish(p, std::move(prog)));
  }
  return {drv.launch(progs), std::move(macs)};
}

ParallelLaunch tp_data_backward(Driver& drv, unsigned cores, TpRole role, const Tensor& w,
                                const Tensor& dy, const Tensor* z, const Tensor& dz_bf,
                                const Tensor* dx) {
  check_data_backward(w, dy, z, dz_bf, dx);
  const std::uint64_t M = dy.rows(), K = w.rows(), N = w.cols();
  check_split(drv, cores, M, role == TpRole::kColumn ? N : K, "tp_data_backward");
  const spec::DeviceSpec& p = drv.params();
  const GemmOptions base = drv.gemm_options();
  Tensor wt;
  if (dx != nullptr) wt = drv.alloc_tensor(N, K, 2);
  std::vector<std::vector<isa::Instruction>> progs;
  std::vector<std::uint64_t> macs(cores);
  if (role == TpRole::kRow) {
    for (unsigned i = 0; i < cores; ++i) {
      const RowRange r = core_rows(M, i, cores), k = core_rows(K, i, cores);
      const std::uint64_t m = r.end - r.first;
      std::vector<isa::Instruction> prog =
          mask_program(p, m, N, dy, z, dz_bf, [&](const Tensor& t) { return rows_ref(t, r); });
      if (dx != nullptr) {
        // Its rows of W become its columns of W^T.
        append(prog,
               body(transpose_program(p, k.end - k.first, N, rows_ref(w, k), cols_ref(wt, k))));
        prog.push_back(isa::encode_sync());  // every dz_bf row is in memory
        append(prog, body(gemm_program(p, model::Dataflow::kWs, M, N, k.end - k.first, dz_bf.ref(),
                                       cols_ref(wt, k), cols_ref(*dx, k), base)));
        macs[i] = M * N * (k.end - k.first);
      }
      progs.push_back(finish(p, std::move(prog)));
    }
    return {drv.launch(progs), std::move(macs)};
  }
  std::optional<Partials> parts;
  if (dx != nullptr) parts.emplace(drv, cores, M, K);
  for (unsigned i = 0; i < cores; ++i) {
    const RowRange c = core_rows(N, i, cores), r = core_rows(M, i, cores);
    const std::uint64_t n = c.end - c.first;
    std::vector<isa::Instruction> prog =
        mask_program(p, M, n, dy, z, dz_bf, [&](const Tensor& t) { return cols_ref(t, c); });
    if (dx != nullptr) {
      // Its columns of W become its rows of W^T; its partial product of dX.
      append(prog, body(transpose_program(p, K, n, cols_ref(w, c), rows_ref(wt, c))));
      append(prog, body(gemm_program(p, model::Dataflow::kWs, M, n, K, cols_ref(dz_bf, c),
                                     rows_ref(wt, c), parts->ref[i], base)));
      macs[i] = M * n * K;
      prog.push_back(isa::encode_sync());  // every partial product is in memory
      append_reduce(p, prog, parts->ref, r.first, r.end, K, dx->ref());
    }
    progs.push_back(finish(p, std::move(prog)));
  }
  return {drv.launch(progs), std::move(macs)};
}

ParallelLaunch tp_weight_backward(Driver& drv, unsigned cores, TpRole role, const Tensor& x,
                                  const Tensor& w, const Tensor& dz_bf, const Tensor& dw,
                                  const Tensor& db, const LayerUpdate& u) {
  check_weight_backward(x, w, dz_bf, dw, db, &u);
  const std::uint64_t M = x.rows(), K = x.cols(), N = dz_bf.cols();
  check_split(drv, cores, M, role == TpRole::kColumn ? N : K, "tp_weight_backward");
  if (role == TpRole::kRow) {
    std::vector<RowRange> rows;
    for (unsigned i = 0; i < cores; ++i) rows.push_back(core_rows(K, i, cores));
    return fused_weight_update(drv, rows, x, w, dz_bf, dw, db, u);
  }
  const spec::DeviceSpec& p = drv.params();
  const GemmOptions base = drv.gemm_options();
  const GemmOptions os = weight_gradient_options(p, base, u.rule.optimizer);
  const Tensor ones = ones_row(drv, M);
  std::vector<std::vector<isa::Instruction>> progs;
  std::vector<std::uint64_t> macs;
  for (unsigned i = 0; i < cores; ++i) {
    const RowRange c = core_rows(N, i, cores);
    const std::uint64_t n = c.end - c.first;
    macs.push_back(K * M * n + M * n);
    std::vector<isa::Instruction> prog = body(gemm_update_program(
        p, model::Dataflow::kOs, K, M, n, x.ref(), cols_ref(dz_bf, c), cols_ref(dw, c),
        u.keep_gradients,
        {cols_ref(*u.w32, c), cols_ref(w, c), opt_cols(u.vw, c), opt_cols(u.sw, c)}, u.rule, os));
    append(prog, body(gemm_update_program(
                     p, model::Dataflow::kWs, 1, M, n, ones.ref(), cols_ref(dz_bf, c),
                     cols_ref(db, c), u.keep_gradients,
                     {cols_ref(*u.b32, c), std::nullopt, opt_cols(u.vb, c), opt_cols(u.sb, c)},
                     u.rule, base)));
    progs.push_back(finish(p, std::move(prog)));
  }
  return {drv.launch(progs), std::move(macs)};
}

}  // namespace sasim::host
