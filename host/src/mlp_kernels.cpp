#include "sasim/host/mlp_kernels.hpp"

#include <algorithm>
#include <span>
#include <stdexcept>
#include <string>

#include "sasim/host/program_check.hpp"
#include "sasim/isa/encode.hpp"
#include "sasim/model/numerics.hpp"

namespace sasim::host {

namespace {

std::uint32_t u32(std::uint64_t v) { return static_cast<std::uint32_t>(v); }

void require_bf16(const spec::DeviceSpec& p, const char* what) {
  if (p.datapath != model::Datapath::kBf16)
    throw std::invalid_argument(std::string(what) + ": needs the bf16 datapath");
}

void require_shape(bool ok, const char* what, const std::string& why) {
  if (!ok) throw std::invalid_argument(std::string(what) + ": " + why);
}

bool same_shape(const Tensor& a, const Tensor& b) {
  return a.rows() == b.rows() && a.cols() == b.cols();
}

std::string dims(const Tensor& t) {
  return std::to_string(t.rows()) + " x " + std::to_string(t.cols()) + " (" +
         std::to_string(t.elem_bytes()) + "-byte)";
}

// No-op EXEC instruction that relays LOAD <-> STORE ordering (see the header).
isa::Instruction relay_vec() {
  return isa::encode_vec({isa::VecOp::kCopy, isa::Sram::kAcc, 0, 0, 0, 1, 0});
}

// Accumulator rows [acc, acc + m) (fp32) rounded to bf16 into scratchpad rows
// [stage, stage + m) and stored as m x cw bf16 elements at `at` (row pitch
// `stride`).
void push_to_bf16(std::vector<isa::Instruction>& prog, std::uint64_t m, std::uint64_t cw,
                  std::uint64_t at, std::uint64_t stride, std::uint64_t acc = 0,
                  std::uint64_t stage = 0) {
  prog.push_back(
      isa::encode_vec({isa::VecOp::kToBf16, isa::Sram::kSpad, u32(acc), 0, u32(stage), u32(m), 0}));
  prog.push_back(
      isa::encode_store({isa::Sram::kSpad, false, u32(stage), u32(m), u32(cw), at, stride}));
}

// The rows of a block the bias/activation pass works on: z (m x cw fp32) in
// accumulator rows [acc, acc + m), the bias rows `stride` rows further, the
// bf16 copy staged in scratchpad rows [stage, stage + m); memory rows [r0, r0
// + m) x columns [c0, c0 + cw).
struct BiasBlock {
  std::uint64_t acc = 0, stride = 0, stage = 0, m = 0, cw = 0, r0 = 0, c0 = 0;
};

// LOAD the bias block (DRAM stride 0: the row repeated), VEC ADD_ROW, STORE z,
// VEC RELU (if relu), VEC TO_BF16, STORE y.
void emit_bias_act(std::vector<isa::Instruction>& prog, const BiasBlock& b, MatrixRef z,
                   MatrixRef bias, MatrixRef y, bool relu) {
  const std::uint64_t z_at = z.addr + b.r0 * z.stride + b.c0 * 4;
  prog.push_back(isa::encode_load({isa::Sram::kAcc, false, u32(b.acc + b.stride), u32(b.m),
                                   u32(b.cw), bias.addr + b.c0 * 4, 0}));
  prog.push_back(isa::encode_vec({isa::VecOp::kAddRow, isa::Sram::kAcc, u32(b.acc),
                                  u32(b.acc + b.stride), u32(b.acc), u32(b.m), 0}));
  prog.push_back(
      isa::encode_store({isa::Sram::kAcc, false, u32(b.acc), u32(b.m), u32(b.cw), z_at, z.stride}));
  if (relu) {
    prog.push_back(isa::encode_vec(
        {isa::VecOp::kRelu, isa::Sram::kAcc, u32(b.acc), 0, u32(b.acc), u32(b.m), 0}));
  }
  push_to_bf16(prog, b.m, b.cw, y.addr + b.r0 * y.stride + b.c0 * 2, y.stride, b.acc, b.stage);
}

// `base` limited to the first Q = min(acc_rows / regions, spad_rows / 2)
// accumulator rows and the scratchpad rows below the last Q: the regions of a
// block's epilogue lie Q rows apart, its staging rows at spad_rows - Q + the
// block's accumulator row.
GemmOptions epilogue_options(const spec::DeviceSpec& p, std::uint64_t regions, GemmOptions base,
                             const char* what) {
  const std::uint64_t S = std::min<std::uint64_t>(p.spad_rows, isa::kSramRowSpan);
  const std::uint64_t Q =
      std::min(std::min<std::uint64_t>(p.acc_rows, isa::kSramRowSpan) / regions, S / 2);
  if (Q == 0) {
    throw std::invalid_argument(std::string(what) + ": needs at least " + std::to_string(regions) +
                                " accumulator rows and 2 scratchpad rows (the core has " +
                                std::to_string(p.acc_rows) + " and " + std::to_string(p.spad_rows) +
                                ")");
  }
  base.acc_rows = Q;
  base.spad_rows = S - Q;
  base.epilogue = nullptr;
  return base;
}

}  // namespace

std::vector<isa::Instruction> bias_act_program(const spec::DeviceSpec& p, std::uint64_t M,
                                               std::uint64_t N, MatrixRef z, MatrixRef bias,
                                               MatrixRef y, bool relu) {
  if (p.datapath != model::Datapath::kBf16)
    throw std::invalid_argument("bias_act_program: needs the bf16 datapath");
  if (M == 0 || N == 0) throw std::invalid_argument("bias_act_program: M and N must be >= 1");
  const std::uint64_t chunk =
      std::min<std::uint64_t>({p.acc_rows / 2, p.spad_rows, isa::kMaxCount});
  if (chunk == 0) throw std::invalid_argument("bias_act_program: accumulator below two rows");
  std::vector<isa::Instruction> prog;
  for (std::uint64_t n0 = 0; n0 < N; n0 += p.cols) {
    const std::uint64_t cw = std::min<std::uint64_t>(p.cols, N - n0);
    for (std::uint64_t m0 = 0; m0 < M; m0 += chunk) {
      const std::uint64_t m = std::min(chunk, M - m0);
      prog.push_back(isa::encode_load(
          {isa::Sram::kAcc, false, 0, u32(m), u32(cw), z.addr + m0 * z.stride + n0 * 4, z.stride}));
      emit_bias_act(prog, {0, chunk, 0, m, cw, m0, n0}, z, bias, y, relu);
    }
  }
  prog.push_back(isa::encode_finish());
  assign_dependencies(p, prog);
  return prog;
}

std::vector<isa::Instruction> dense_forward_program(const spec::DeviceSpec& p, std::uint64_t M,
                                                    std::uint64_t K, std::uint64_t N, MatrixRef x,
                                                    MatrixRef w, MatrixRef bias, MatrixRef z,
                                                    MatrixRef y, bool relu,
                                                    const GemmOptions& base) {
  require_bf16(p, "dense_forward_program");
  GemmOptions o = epilogue_options(p, 2, base, "dense_forward_program");
  const std::uint64_t Q = o.acc_rows, S0 = o.spad_rows;
  o.epilogue = [&](const GemmBlock& blk, std::vector<isa::Instruction>& out) {
    emit_bias_act(out, {blk.acc_row, Q, S0 + blk.acc_row, blk.rows, blk.cols, blk.row0, blk.col0},
                  z, bias, y, relu);
  };
  return gemm_program(p, model::Dataflow::kWs, M, K, N, x, w, z, o);
}

std::vector<isa::Instruction> int8_dense_program(const spec::DeviceSpec& p, std::uint64_t M,
                                                 std::uint64_t K, std::uint64_t N, MatrixRef x,
                                                 MatrixRef w, MatrixRef bias, MatrixRef z,
                                                 MatrixRef out, std::optional<unsigned> shift,
                                                 const GemmOptions& base) {
  if (p.datapath != model::Datapath::kInt8)
    throw std::invalid_argument("int8_dense_program: needs the int8 datapath");
  if (shift && *shift > 31)
    throw std::invalid_argument("int8_dense_program: shift " + std::to_string(*shift) +
                                " is out of range (allowed 0..31)");
  GemmOptions o = epilogue_options(p, 2, base, "int8_dense_program");
  const std::uint64_t Q = o.acc_rows, S0 = o.spad_rows;
  o.epilogue = [&](const GemmBlock& blk, std::vector<isa::Instruction>& prog) {
    const std::uint64_t a = blk.acc_row, m = blk.rows, cw = blk.cols;
    prog.push_back(isa::encode_load(
        {isa::Sram::kAcc, false, u32(a + Q), u32(m), u32(cw), bias.addr + blk.col0 * 4, 0}));
    prog.push_back(isa::encode_vec(
        {isa::VecOp::kAddRow, isa::Sram::kAcc, u32(a), u32(a + Q), u32(a), u32(m), 0}));
    if (!shift) {
      prog.push_back(
          isa::encode_store({isa::Sram::kAcc, false, u32(a), u32(m), u32(cw),
                             out.addr + blk.row0 * out.stride + blk.col0 * 4, out.stride}));
      return;
    }
    prog.push_back(
        isa::encode_vec({isa::VecOp::kRelu, isa::Sram::kAcc, u32(a), 0, u32(a), u32(m), 0}));
    prog.push_back(isa::encode_vec(
        {isa::VecOp::kToInt8, isa::Sram::kSpad, u32(a), 0, u32(S0 + a), u32(m), 0}));
    prog.push_back(isa::encode_store({isa::Sram::kSpad, false, u32(S0 + a), u32(m), u32(cw),
                                      out.addr + blk.row0 * out.stride + blk.col0, out.stride}));
  };
  std::vector<isa::Instruction> prog = gemm_program(p, model::Dataflow::kWs, M, K, N, x, w, z, o);
  prog.insert(prog.begin(), isa::encode_config(shift.value_or(0)));
  assign_dependencies(p, prog);
  return prog;
}

spec::RunResult dense_forward(Driver& drv, const Tensor& x, const Tensor& w, const Tensor& bias,
                              const Tensor& z, const Tensor& y, bool relu) {
  if (bias.rows() != 1 || bias.cols() != w.cols() || bias.elem_bytes() != 4 ||
      y.rows() != z.rows() || y.cols() != z.cols() || y.elem_bytes() != 2 || x.elem_bytes() != 2 ||
      w.elem_bytes() != 2 || z.elem_bytes() != 4 || x.cols() != w.rows() || z.rows() != x.rows() ||
      z.cols() != w.cols()) {
    throw std::invalid_argument(
        "dense_forward: x " + dims(x) + ", w " + dims(w) + ", bias " + dims(bias) + ", z " +
        dims(z) + ", y " + dims(y) +
        ": need x M x K and w K x N bf16, bias 1 x N and z M x N fp32, y M x N bf16");
  }
  return drv.submit(dense_forward_program(drv.params(), x.rows(), x.cols(), w.cols(), x.ref(),
                                          w.ref(), bias.ref(), z.ref(), y.ref(), relu,
                                          drv.gemm_options()));
}

std::vector<isa::Instruction> transpose_program(const spec::DeviceSpec& p, std::uint64_t R,
                                                std::uint64_t C, MatrixRef src, MatrixRef dst) {
  if (R == 0 || C == 0) throw std::invalid_argument("transpose_program: R and C must be >= 1");
  const std::uint64_t eb = p.elem_bytes();
  const std::uint64_t src_end = src.addr + (R - 1) * src.stride + C * eb;
  const std::uint64_t dst_end = dst.addr + (C - 1) * dst.stride + R * eb;
  if (src.addr < dst_end && dst.addr < src_end)
    throw std::invalid_argument("transpose_program: src and dst overlap");
  const std::uint64_t w = p.width();
  const unsigned buffers = p.spad_rows >= 2 ? 2 : 1;
  const std::uint64_t chunk = std::min<std::uint64_t>(p.spad_rows / buffers, isa::kMaxCount);
  if (chunk == 0) throw std::invalid_argument("transpose_program: no scratchpad rows");
  std::vector<isa::Instruction> prog;
  std::uint64_t block = 0;
  for (std::uint64_t r0 = 0; r0 < R; r0 += w) {
    const std::uint64_t rb = std::min(w, R - r0);
    for (std::uint64_t c0 = 0; c0 < C; c0 += chunk, ++block) {
      const std::uint64_t cb = std::min(chunk, C - c0);
      const std::uint64_t row = (block % buffers) * chunk;
      // One buffer: the previous STORE must finish reading it first.
      if (buffers == 1 && block > 0) prog.push_back(relay_vec());
      prog.push_back(isa::encode_load({isa::Sram::kSpad, true, u32(row), u32(rb), u32(cb),
                                       src.addr + r0 * src.stride + c0 * eb, src.stride}));
      prog.push_back(relay_vec());
      prog.push_back(isa::encode_store({isa::Sram::kSpad, false, u32(row), u32(cb), u32(rb),
                                        dst.addr + c0 * dst.stride + r0 * eb, dst.stride}));
    }
  }
  prog.push_back(isa::encode_finish());
  assign_dependencies(p, prog);
  return prog;
}

spec::RunResult transpose(Driver& drv, const Tensor& src, const Tensor& dst) {
  require_shape(src.rows() == dst.cols() && src.cols() == dst.rows() &&
                    src.elem_bytes() == drv.params().elem_bytes() &&
                    dst.elem_bytes() == src.elem_bytes(),
                "transpose",
                "src " + dims(src) + " and dst " + dims(dst) +
                    " must be R x C and C x R of the datapath's elements");
  return drv.submit(transpose_program(drv.params(), src.rows(), src.cols(), src.ref(), dst.ref()));
}

std::vector<isa::Instruction> relu_backward_program(const spec::DeviceSpec& p, std::uint64_t M,
                                                    std::uint64_t N, MatrixRef dy, MatrixRef z,
                                                    MatrixRef dz, MatrixRef dz_bf) {
  require_bf16(p, "relu_backward_program");
  if (M == 0 || N == 0) throw std::invalid_argument("relu_backward_program: M and N must be >= 1");
  const std::uint64_t chunk =
      std::min<std::uint64_t>({p.acc_rows / 2, p.spad_rows, isa::kMaxCount});
  if (chunk == 0) throw std::invalid_argument("relu_backward_program: accumulator below two rows");
  std::vector<isa::Instruction> prog;
  for (std::uint64_t n0 = 0; n0 < N; n0 += p.cols) {
    const std::uint64_t cw = std::min<std::uint64_t>(p.cols, N - n0);
    for (std::uint64_t m0 = 0; m0 < M; m0 += chunk) {
      const std::uint64_t m = std::min(chunk, M - m0);
      const auto at = [&](MatrixRef t, std::uint64_t eb) {
        return t.addr + m0 * t.stride + n0 * eb;
      };
      prog.push_back(
          isa::encode_load({isa::Sram::kAcc, false, 0, u32(m), u32(cw), at(dy, 4), dy.stride}));
      prog.push_back(isa::encode_load(
          {isa::Sram::kAcc, false, u32(chunk), u32(m), u32(cw), at(z, 4), z.stride}));
      prog.push_back(
          isa::encode_vec({isa::VecOp::kReluMask, isa::Sram::kAcc, 0, u32(chunk), 0, u32(m), 0}));
      prog.push_back(
          isa::encode_store({isa::Sram::kAcc, false, 0, u32(m), u32(cw), at(dz, 4), dz.stride}));
      push_to_bf16(prog, m, cw, at(dz_bf, 2), dz_bf.stride);
    }
  }
  prog.push_back(isa::encode_finish());
  assign_dependencies(p, prog);
  return prog;
}

std::vector<isa::Instruction> to_bf16_program(const spec::DeviceSpec& p, std::uint64_t M,
                                              std::uint64_t N, MatrixRef src, MatrixRef dst) {
  require_bf16(p, "to_bf16_program");
  if (M == 0 || N == 0) throw std::invalid_argument("to_bf16_program: M and N must be >= 1");
  const std::uint64_t chunk = std::min<std::uint64_t>({p.acc_rows, p.spad_rows, isa::kMaxCount});
  if (chunk == 0) throw std::invalid_argument("to_bf16_program: no accumulator rows");
  std::vector<isa::Instruction> prog;
  for (std::uint64_t n0 = 0; n0 < N; n0 += p.cols) {
    const std::uint64_t cw = std::min<std::uint64_t>(p.cols, N - n0);
    for (std::uint64_t m0 = 0; m0 < M; m0 += chunk) {
      const std::uint64_t m = std::min(chunk, M - m0);
      prog.push_back(isa::encode_load({isa::Sram::kAcc, false, 0, u32(m), u32(cw),
                                       src.addr + m0 * src.stride + n0 * 4, src.stride}));
      push_to_bf16(prog, m, cw, dst.addr + m0 * dst.stride + n0 * 2, dst.stride);
    }
  }
  prog.push_back(isa::encode_finish());
  assign_dependencies(p, prog);
  return prog;
}

spec::RunResult relu_backward(Driver& drv, const Tensor& dy, const Tensor& z, const Tensor& dz,
                              const Tensor& dz_bf) {
  require_shape(same_shape(dy, z) && same_shape(dy, dz) && same_shape(dy, dz_bf) &&
                    dy.elem_bytes() == 4 && z.elem_bytes() == 4 && dz.elem_bytes() == 4 &&
                    dz_bf.elem_bytes() == 2,
                "relu_backward",
                "dy " + dims(dy) + ", z " + dims(z) + ", dz " + dims(dz) + ", dz_bf " +
                    dims(dz_bf) + ": need M x N fp32, fp32, fp32 and bf16");
  return drv.submit(relu_backward_program(drv.params(), dy.rows(), dy.cols(), dy.ref(), z.ref(),
                                          dz.ref(), dz_bf.ref()));
}

void check_data_backward(const Tensor& w, const Tensor& dy, const Tensor* z, const Tensor& dz_bf,
                         const Tensor* dx) {
  const std::uint64_t M = dy.rows(), K = w.rows(), N = w.cols();
  require_shape(
      w.elem_bytes() == 2 && dy.cols() == N && dy.elem_bytes() == 4 &&
          (z == nullptr || (same_shape(*z, dy) && z->elem_bytes() == 4)) && same_shape(dz_bf, dy) &&
          dz_bf.elem_bytes() == 2 &&
          (dx == nullptr || (dx->rows() == M && dx->cols() == K && dx->elem_bytes() == 4)),
      "data_backward",
      "w " + dims(w) + ", dy " + dims(dy) + ", dz_bf " + dims(dz_bf) +
          ": need w K x N bf16, dy and z M x N fp32, dz_bf M x N bf16, dx M x K fp32");
}

std::vector<isa::Instruction> masked_data_gradient_program(
    const spec::DeviceSpec& p, std::uint64_t M, std::uint64_t N, std::uint64_t K, MatrixRef dz_bf,
    MatrixRef wt, MatrixRef z_below, MatrixRef dx, bool store_dx, MatrixRef dz_bf_below,
    const GemmOptions& base) {
  require_bf16(p, "masked_data_gradient_program");
  GemmOptions o = epilogue_options(p, 2, base, "masked_data_gradient_program");
  const std::uint64_t Q = o.acc_rows, S0 = o.spad_rows;
  o.epilogue = [&](const GemmBlock& blk, std::vector<isa::Instruction>& out) {
    const std::uint64_t a = blk.acc_row;
    out.push_back(isa::encode_load(
        {isa::Sram::kAcc, false, u32(a + Q), u32(blk.rows), u32(blk.cols),
         z_below.addr + blk.row0 * z_below.stride + blk.col0 * 4, z_below.stride}));
    out.push_back(isa::encode_vec(
        {isa::VecOp::kReluMask, isa::Sram::kAcc, u32(a), u32(a + Q), u32(a), u32(blk.rows), 0}));
    if (store_dx) {
      out.push_back(isa::encode_store({isa::Sram::kAcc, false, u32(a), u32(blk.rows), u32(blk.cols),
                                       dx.addr + blk.row0 * dx.stride + blk.col0 * 4, dx.stride}));
    }
    push_to_bf16(out, blk.rows, blk.cols,
                 dz_bf_below.addr + blk.row0 * dz_bf_below.stride + blk.col0 * 2,
                 dz_bf_below.stride, a, S0 + a);
  };
  return gemm_program(p, model::Dataflow::kWs, M, N, K, dz_bf, wt, dx, o);
}

spec::RunResult data_backward(Driver& drv, const Tensor& w, const Tensor& dy, const Tensor* z,
                              const Tensor& dz_bf, const Tensor* dx, bool dz_ready,
                              const MaskBelow* below) {
  check_data_backward(w, dy, z, dz_bf, dx);
  const std::uint64_t M = dy.rows(), K = w.rows(), N = w.cols();
  require_bf16(drv.params(), "data_backward");
  if (below != nullptr) {
    require_shape(dx != nullptr && below->z != nullptr && below->dz_bf != nullptr &&
                      same_shape(*below->z, *dx) && below->z->elem_bytes() == 4 &&
                      same_shape(*below->dz_bf, *dx) && below->dz_bf->elem_bytes() == 2,
                  "data_backward",
                  "the mask below needs dx, and z and dz_bf of dx's shape (M x K fp32 and bf16)");
  }
  const spec::DeviceSpec& p = drv.params();
  spec::RunResult r;
  if (!dz_ready) {
    r.add(drv.submit(z != nullptr
                         ? relu_backward_program(p, M, N, dy.ref(), z->ref(), dy.ref(), dz_bf.ref())
                         : to_bf16_program(p, M, N, dy.ref(), dz_bf.ref())));
  }
  if (dx != nullptr) {
    Tensor wt = drv.alloc_tensor(N, K, 2);
    r.add(transpose(drv, w, wt));
    if (below != nullptr) {
      r.add(drv.submit(masked_data_gradient_program(p, M, N, K, dz_bf.ref(), wt.ref(),
                                                    below->z->ref(), dx->ref(), below->keep_dx,
                                                    below->dz_bf->ref(), drv.gemm_options())));
    } else {
      r.add(drv.gemm(model::Dataflow::kWs, dz_bf, wt, *dx));
    }
  }
  return r;
}

void check_weight_backward(const Tensor& x, const Tensor& w, const Tensor& dz_bf, const Tensor& dw,
                           const Tensor& db, const LayerUpdate* update) {
  const std::uint64_t M = x.rows(), K = x.cols(), N = dz_bf.cols();
  require_shape(x.elem_bytes() == 2 && dz_bf.rows() == M && dz_bf.elem_bytes() == 2 &&
                    w.rows() == K && w.cols() == N && w.elem_bytes() == 2 && dw.rows() == K &&
                    dw.cols() == N && dw.elem_bytes() == 4 && db.rows() == 1 && db.cols() == N &&
                    db.elem_bytes() == 4,
                "weight_backward",
                "x " + dims(x) + ", w " + dims(w) + ", dz_bf " + dims(dz_bf) + ", dw " + dims(dw) +
                    ", db " + dims(db) +
                    ": need x M x K bf16, w K x N bf16, dz_bf M x N bf16, dw K x N and db 1 x N "
                    "fp32");
  const auto fp32_like = [](const Tensor* t, const Tensor& like) {
    return t != nullptr && same_shape(*t, like) && t->elem_bytes() == 4;
  };
  if (update != nullptr) {
    const LayerUpdate& u = *update;
    const unsigned moments = u.rule.moments();
    require_shape(fp32_like(u.w32, dw) && fp32_like(u.b32, db) &&
                      (moments >= 1 ? fp32_like(u.vw, dw) && fp32_like(u.vb, db)
                                    : u.vw == nullptr && u.vb == nullptr) &&
                      (moments >= 2 ? fp32_like(u.sw, dw) && fp32_like(u.sb, db)
                                    : u.sw == nullptr && u.sb == nullptr),
                  "weight_backward",
                  std::string("the update with optimizer ") + model::to_string(u.rule.optimizer) +
                      " needs w32 K x N and b32 1 x N fp32" +
                      (moments >= 2   ? ", and both first and second moments alike"
                       : moments == 1 ? ", and both velocities alike"
                                      : " and no other state"));
  }
}

spec::RunResult weight_backward(Driver& drv, const Tensor& x, const Tensor& w, const Tensor& dz_bf,
                                const Tensor& dw, const Tensor& db, const LayerUpdate* update) {
  check_weight_backward(x, w, dz_bf, dw, db, update);
  const std::uint64_t M = x.rows(), K = x.cols(), N = dz_bf.cols();
  require_bf16(drv.params(), "weight_backward");
  const spec::DeviceSpec& p = drv.params();
  // dW = X^T dZ on OS from X as it is (A^T = X), db = ones(1 x M) dZ on WS.
  const model::Optimizer opt_kind =
      update != nullptr ? update->rule.optimizer : model::Optimizer::kSgd;
  const GemmOptions os = weight_gradient_options(p, drv.gemm_options(), opt_kind);
  Tensor ones = drv.alloc_tensor(1, M, 2);
  const std::vector<std::uint16_t> one(M, 0x3F80);  // bf16 1.0
  drv.copy_in(ones, std::span<const std::uint16_t>(one));
  spec::RunResult r;
  if (update == nullptr) {
    r.add(drv.submit(
        gemm_program(p, model::Dataflow::kOs, K, M, N, x.ref(), dz_bf.ref(), dw.ref(), os)));
    r.add(drv.gemm(model::Dataflow::kWs, ones, dz_bf, db));
    return r;
  }
  const LayerUpdate& u = *update;
  const auto opt = [](const Tensor* t) {
    return t != nullptr ? std::optional<MatrixRef>(t->ref()) : std::nullopt;
  };
  r.add(drv.submit(gemm_update_program(p, model::Dataflow::kOs, K, M, N, x.ref(), dz_bf.ref(),
                                       dw.ref(), u.keep_gradients,
                                       {u.w32->ref(), w.ref(), opt(u.vw), opt(u.sw)}, u.rule, os)));
  r.add(drv.submit(gemm_update_program(
      p, model::Dataflow::kWs, 1, M, N, ones.ref(), dz_bf.ref(), db.ref(), u.keep_gradients,
      {u.b32->ref(), std::nullopt, opt(u.vb), opt(u.sb)}, u.rule, drv.gemm_options())));
  return r;
}

BackwardRuns dense_backward(Driver& drv, const Tensor& x, const Tensor& w, const Tensor& dy,
                            const Tensor* z, const Tensor& dw, const Tensor& db, const Tensor* dx,
                            const LayerUpdate* update) {
  require_shape(dy.rows() == x.rows() && w.rows() == x.cols(), "dense_backward",
                "x " + dims(x) + ", w " + dims(w) + ", dy " + dims(dy) +
                    ": need x M x K, w K x N and dy M x N");
  Tensor dz_bf = drv.alloc_tensor(dy.rows(), dy.cols(), 2);
  BackwardRuns total;
  total.data = data_backward(drv, w, dy, z, dz_bf, dx);
  total.weight = weight_backward(drv, x, w, dz_bf, dw, db, update);
  return total;
}

namespace {

// One block of an optimizer step on accumulator rows: the gradient g (m x cw
// fp32) is in rows [g, g + m); the state tensors go to the regions `stride`,
// 2 x `stride` and 3 x `stride` rows further, in the order (m, v,) w32; the
// bf16 copy is staged in scratchpad rows [stage, stage + m). Memory rows of
// the block: [r0, r0 + m) x columns [c0, c0 + cw).
struct UpdateBlock {
  std::uint64_t g = 0, stride = 0, stage = 0, m = 0, cw = 0, r0 = 0, c0 = 0;
};

// The state tensors must be the rule's (UpdateRule::moments): m for SGD with
// momentum, m and v for Adam; the emitted step follows the rule.
void check_update(const UpdateTensors& t, const model::UpdateRule& r, const char* what) {
  const unsigned moments = r.moments();
  if (t.m.has_value() != (moments >= 1) || t.v.has_value() != (moments >= 2))
    throw std::invalid_argument(std::string(what) + ": optimizer " + model::to_string(r.optimizer) +
                                (moments == 2 ? " needs the first and the second moment"
                                 : moments == 1
                                     ? " with momentum needs the velocity and no second moment"
                                     : " without momentum takes no velocity or second moment"));
}

void emit_update(std::vector<isa::Instruction>& prog, const UpdateBlock& b, const UpdateTensors& t,
                 const model::UpdateRule& r) {
  const auto at = [&](MatrixRef ref, std::uint64_t eb) {
    return ref.addr + b.r0 * ref.stride + b.c0 * eb;
  };
  const auto acc_dma = [&](bool store, std::uint64_t row, MatrixRef ref) {
    const isa::DmaArgs d{isa::Sram::kAcc, false,      u32(row),  u32(b.m),
                         u32(b.cw),       at(ref, 4), ref.stride};
    prog.push_back(store ? isa::encode_store(d) : isa::encode_load(d));
  };
  // dst = op(x, y) with the immediate `imm` (binary32).
  const auto vec = [&](isa::VecOp op, std::uint64_t x, std::uint64_t y, std::uint64_t dst,
                       float imm = 0.0f) {
    prog.push_back(isa::encode_vec(
        {op, isa::Sram::kAcc, u32(x), u32(y), u32(dst), u32(b.m), model::f32_to_bits(imm)}));
  };
  using isa::VecOp;
  const std::uint64_t g = b.g, r1 = g + b.stride, r2 = g + 2 * b.stride, r3 = g + 3 * b.stride;
  if (r.optimizer != model::Optimizer::kSgd) {
    acc_dma(false, r1, *t.m);
    acc_dma(false, r2, *t.v);
    acc_dma(false, r3, t.w32);
    if (r.has_l2) vec(VecOp::kAxpy, r3, g, g, r.l2);  // g = l2 * w + g
    vec(VecOp::kScale, r1, 0, r1, r.beta1);
    vec(VecOp::kAxpy, g, r1, r1, r.one_minus_beta1);  // m = (1 - b1) g + b1 m
    acc_dma(true, r1, *t.m);
    vec(VecOp::kScale, r2, 0, r2, r.beta2);
    vec(VecOp::kMul, g, g, g);
    vec(VecOp::kAxpy, g, r2, r2, r.one_minus_beta2);  // v = (1 - b2) g^2 + b2 v
    acc_dma(true, r2, *t.v);
    vec(VecOp::kSqrt, r2, 0, g);
    vec(VecOp::kAddImm, g, 0, g, r.eps_hat);
    vec(VecOp::kDiv, r1, g, g);  // u = m / (sqrt(v) + eps_hat)
    if (r.has_decay) vec(VecOp::kScale, r3, 0, r3, r.decay);
    vec(VecOp::kAxpy, g, r3, g, r.neg_step);  // w = neg_step u + w
  } else if (r.moments() == 1) {
    acc_dma(false, r1, *t.m);
    acc_dma(false, r2, t.w32);
    vec(VecOp::kAxpy, r1, g, r1, r.momentum);  // v = mu * v + g
    acc_dma(true, r1, *t.m);
    vec(VecOp::kAxpy, r1, r2, g, -r.lr);  // w = -lr * v + w, into the dead g rows
  } else {
    acc_dma(false, r1, t.w32);
    vec(VecOp::kAxpy, g, r1, g, -r.lr);  // w = -lr * g + w
  }
  acc_dma(true, g, t.w32);
  if (t.wbf) {
    push_to_bf16(prog, b.m, b.cw, at(*t.wbf, 2), t.wbf->stride, g, b.stage);
  } else {
    // A later block's LOADs may overwrite the rows this STORE reads.
    prog.push_back(relay_vec());
  }
}

// The SGD rule of the wrappers: momentum mu with a velocity v, plain without.
model::UpdateRule sgd_rule(float lr, const std::optional<MatrixRef>& v, float mu) {
  model::UpdateRule r;
  r.lr = lr;
  r.momentum = v ? mu : 0.0f;
  return r;
}

}  // namespace

std::vector<isa::Instruction> update_program(const spec::DeviceSpec& p, std::uint64_t R,
                                             std::uint64_t C, MatrixRef g, const UpdateTensors& t,
                                             const model::UpdateRule& rule) {
  require_bf16(p, "update_program");
  check_update(t, rule, "update_program");
  if (R == 0 || C == 0) throw std::invalid_argument("update_program: R and C must be >= 1");
  // Two sets of accumulator regions (and scratchpad staging rows) alternate
  // between blocks, so a block's LOADs overlap the previous block's STOREs
  // (double buffering); with fewer than two rows per region, one set.
  const unsigned regions = 2 + rule.moments();  // g, the state, w32
  const unsigned sets = p.acc_rows >= 2 * regions && p.spad_rows >= 2 ? 2 : 1;
  const std::uint64_t chunk =
      std::min<std::uint64_t>({p.acc_rows / (sets * regions), p.spad_rows / sets, isa::kMaxCount});
  if (chunk == 0)
    throw std::invalid_argument("update_program: accumulator below " + std::to_string(regions) +
                                " rows");
  std::vector<isa::Instruction> prog;
  std::uint64_t block = 0;
  for (std::uint64_t c0 = 0; c0 < C; c0 += p.cols) {
    const std::uint64_t cw = std::min<std::uint64_t>(p.cols, C - c0);
    for (std::uint64_t r0 = 0; r0 < R; r0 += chunk, ++block) {
      const std::uint64_t m = std::min(chunk, R - r0);
      const UpdateBlock b{
          (block % sets) * regions * chunk, chunk, (block % sets) * chunk, m, cw, r0, c0};
      prog.push_back(isa::encode_load({isa::Sram::kAcc, false, u32(b.g), u32(m), u32(cw),
                                       g.addr + r0 * g.stride + c0 * 4, g.stride}));
      emit_update(prog, b, t, rule);
    }
  }
  prog.push_back(isa::encode_finish());
  assign_dependencies(p, prog);
  return prog;
}

std::vector<isa::Instruction> sgd_update_program(const spec::DeviceSpec& p, std::uint64_t R,
                                                 std::uint64_t C, MatrixRef w32, MatrixRef g,
                                                 std::optional<MatrixRef> wbf, float lr,
                                                 std::optional<MatrixRef> v, float mu) {
  return update_program(p, R, C, g, {w32, wbf, v, std::nullopt}, sgd_rule(lr, v, mu));
}

GemmOptions gemm_update_options(const spec::DeviceSpec& p, GemmOptions base,
                                model::Optimizer optimizer) {
  // SGD plans for three regions with or without momentum (one fold for both).
  return epilogue_options(p, optimizer == model::Optimizer::kSgd ? 3 : 4, std::move(base),
                          "gemm_update_program");
}

GemmOptions gemm_sgd_options(const spec::DeviceSpec& p, GemmOptions base) {
  return gemm_update_options(p, std::move(base), model::Optimizer::kSgd);
}

GemmOptions weight_gradient_options(const spec::DeviceSpec& p, GemmOptions base,
                                    model::Optimizer optimizer) {
  GemmOptions o = gemm_update_options(p, std::move(base), optimizer);
  o.a_transposed = true;
  return o;
}

std::uint64_t weight_gradient_fold(const spec::DeviceSpec& p, std::uint64_t M,
                                   model::Optimizer optimizer) {
  return gemm_program_fold(p, model::Dataflow::kOs, M, weight_gradient_options(p, {}, optimizer));
}

std::vector<isa::Instruction> gemm_update_program(const spec::DeviceSpec& p, model::Dataflow df,
                                                  std::uint64_t R, std::uint64_t K, std::uint64_t C,
                                                  MatrixRef a, MatrixRef b, MatrixRef g,
                                                  bool store_g, const UpdateTensors& t,
                                                  const model::UpdateRule& rule,
                                                  const GemmOptions& base) {
  require_bf16(p, "gemm_update_program");
  check_update(t, rule, "gemm_update_program");
  GemmOptions o = gemm_update_options(p, base, rule.optimizer);
  const std::uint64_t Q = o.acc_rows, S0 = o.spad_rows;  // the regions' stride, the staging base
  o.epilogue = [&](const GemmBlock& blk, std::vector<isa::Instruction>& out) {
    if (store_g) {
      out.push_back(
          isa::encode_store({isa::Sram::kAcc, false, u32(blk.acc_row), u32(blk.rows), u32(blk.cols),
                             g.addr + blk.row0 * g.stride + blk.col0 * 4, g.stride}));
    }
    emit_update(out, {blk.acc_row, Q, S0 + blk.acc_row, blk.rows, blk.cols, blk.row0, blk.col0}, t,
                rule);
  };
  return gemm_program(p, df, R, K, C, a, b, g, o);
}

std::vector<isa::Instruction> gemm_sgd_program(const spec::DeviceSpec& p, model::Dataflow df,
                                               std::uint64_t R, std::uint64_t K, std::uint64_t C,
                                               MatrixRef a, MatrixRef b, MatrixRef g, bool store_g,
                                               MatrixRef w32, std::optional<MatrixRef> wbf,
                                               float lr, std::optional<MatrixRef> v, float mu,
                                               const GemmOptions& base) {
  return gemm_update_program(p, df, R, K, C, a, b, g, store_g, {w32, wbf, v, std::nullopt},
                             sgd_rule(lr, v, mu), base);
}

spec::RunResult sgd_update(Driver& drv, const Tensor& w32, const Tensor& g, const Tensor* wbf,
                           float lr, const Tensor* v, float mu) {
  require_shape(same_shape(w32, g) && w32.elem_bytes() == 4 && g.elem_bytes() == 4 &&
                    (wbf == nullptr || (same_shape(*wbf, w32) && wbf->elem_bytes() == 2)) &&
                    (v == nullptr || (same_shape(*v, w32) && v->elem_bytes() == 4)),
                "sgd_update",
                "w32 " + dims(w32) + ", g " + dims(g) +
                    ": need R x C fp32 w32, g and v and an R x C bf16 wbf");
  std::optional<MatrixRef> wbf_ref, v_ref;
  if (wbf != nullptr) wbf_ref = wbf->ref();
  if (v != nullptr) v_ref = v->ref();
  return drv.submit(sgd_update_program(drv.params(), w32.rows(), w32.cols(), w32.ref(), g.ref(),
                                       wbf_ref, lr, v_ref, mu));
}

}  // namespace sasim::host
