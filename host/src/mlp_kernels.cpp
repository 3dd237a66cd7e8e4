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

// Accumulator rows [0, m) (fp32) rounded to bf16 into scratchpad rows [0, m)
// and stored as m x cw bf16 elements at `at` (row pitch `stride`).
void push_to_bf16(std::vector<isa::Instruction>& prog, std::uint64_t m, std::uint64_t cw,
                  std::uint64_t at, std::uint64_t stride) {
  prog.push_back(isa::encode_vec({isa::VecOp::kToBf16, isa::Sram::kSpad, 0, 0, 0, u32(m), 0}));
  prog.push_back(isa::encode_store({isa::Sram::kSpad, false, 0, u32(m), u32(cw), at, stride}));
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
      const std::uint64_t z_at = z.addr + m0 * z.stride + n0 * 4;
      prog.push_back(
          isa::encode_load({isa::Sram::kAcc, false, 0, u32(m), u32(cw), z_at, z.stride}));
      prog.push_back(isa::encode_load(
          {isa::Sram::kAcc, false, u32(chunk), u32(m), u32(cw), bias.addr + n0 * 4, 0}));
      prog.push_back(
          isa::encode_vec({isa::VecOp::kAddRow, isa::Sram::kAcc, 0, u32(chunk), 0, u32(m), 0}));
      prog.push_back(
          isa::encode_store({isa::Sram::kAcc, false, 0, u32(m), u32(cw), z_at, z.stride}));
      if (relu) {
        prog.push_back(isa::encode_vec({isa::VecOp::kRelu, isa::Sram::kAcc, 0, 0, 0, u32(m), 0}));
      }
      push_to_bf16(prog, m, cw, y.addr + m0 * y.stride + n0 * 2, y.stride);
    }
  }
  prog.push_back(isa::encode_finish());
  assign_dependencies(p, prog);
  return prog;
}

spec::RunResult dense_forward(Driver& drv, const Tensor& x, const Tensor& w, const Tensor& bias,
                              const Tensor& z, const Tensor& y, bool relu) {
  if (bias.rows() != 1 || bias.cols() != w.cols() || bias.elem_bytes() != 4 ||
      y.rows() != z.rows() || y.cols() != z.cols() || y.elem_bytes() != 2) {
    throw std::invalid_argument(
        "dense_forward: bias must be 1 x N fp32 and y M x N bf16 for z = x * w (M x N)");
  }
  spec::RunResult r = drv.gemm(model::Dataflow::kWs, x, w, z);
  const spec::RunResult b = drv.submit(
      bias_act_program(drv.params(), z.rows(), z.cols(), z.ref(), bias.ref(), y.ref(), relu));
  r.add(b);
  return r;
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

BackwardRuns dense_backward(Driver& drv, const Tensor& x, const Tensor& w, const Tensor& dy,
                            const Tensor* z, const Tensor& dw, const Tensor& db, const Tensor* dx) {
  const std::uint64_t M = x.rows(), K = x.cols(), N = w.cols();
  require_shape(x.elem_bytes() == 2 && w.elem_bytes() == 2 && w.rows() == K && dy.rows() == M &&
                    dy.cols() == N && dy.elem_bytes() == 4 &&
                    (z == nullptr || (same_shape(*z, dy) && z->elem_bytes() == 4)) &&
                    dw.rows() == K && dw.cols() == N && dw.elem_bytes() == 4 && db.rows() == 1 &&
                    db.cols() == N && db.elem_bytes() == 4 &&
                    (dx == nullptr || (same_shape(*dx, x) && dx->elem_bytes() == 4)),
                "dense_backward",
                "x " + dims(x) + ", w " + dims(w) + ", dy " + dims(dy) + ", dw " + dims(dw) +
                    ", db " + dims(db) +
                    ": need x M x K bf16, w K x N bf16, dy and z M x N fp32, dw K x N, db 1 x N "
                    "and dx M x K fp32");
  require_bf16(drv.params(), "dense_backward");
  const spec::DeviceSpec& p = drv.params();
  BackwardRuns total;
  Tensor dz_bf = drv.alloc_tensor(M, N, 2);
  total.data.add(drv.submit(
      z != nullptr ? relu_backward_program(p, M, N, dy.ref(), z->ref(), dy.ref(), dz_bf.ref())
                   : to_bf16_program(p, M, N, dy.ref(), dz_bf.ref())));
  {
    Tensor xt = drv.alloc_tensor(K, M, 2);
    total.weight.add(transpose(drv, x, xt));
    total.weight.add(drv.gemm(model::Dataflow::kWs, xt, dz_bf, dw));
  }
  {
    Tensor ones = drv.alloc_tensor(1, M, 2);
    const std::vector<std::uint16_t> one(M, 0x3F80);  // bf16 1.0
    drv.copy_in(ones, std::span<const std::uint16_t>(one));
    total.weight.add(drv.gemm(model::Dataflow::kWs, ones, dz_bf, db));
  }
  if (dx != nullptr) {
    Tensor wt = drv.alloc_tensor(N, K, 2);
    total.data.add(transpose(drv, w, wt));
    total.data.add(drv.gemm(model::Dataflow::kWs, dz_bf, wt, *dx));
  }
  return total;
}

std::vector<isa::Instruction> sgd_update_program(const spec::DeviceSpec& p, std::uint64_t R,
                                                 std::uint64_t C, MatrixRef w32, MatrixRef g,
                                                 std::optional<MatrixRef> wbf, float lr,
                                                 std::optional<MatrixRef> v, float mu) {
  require_bf16(p, "sgd_update_program");
  if (R == 0 || C == 0) throw std::invalid_argument("sgd_update_program: R and C must be >= 1");
  // Two sets of accumulator regions (and scratchpad staging rows) alternate
  // between blocks, so a block's LOADs overlap the previous block's STOREs
  // (double buffering); with fewer than two rows per region, one set.
  const unsigned regions = v ? 3 : 2;
  const unsigned sets = p.acc_rows >= 2 * regions && p.spad_rows >= 2 ? 2 : 1;
  const std::uint64_t chunk =
      std::min<std::uint64_t>({p.acc_rows / (sets * regions), p.spad_rows / sets, isa::kMaxCount});
  if (chunk == 0)
    throw std::invalid_argument("sgd_update_program: accumulator below " + std::to_string(regions) +
                                " rows");
  const std::uint32_t neg_lr = model::f32_to_bits(-lr), mu_bits = model::f32_to_bits(mu);
  std::vector<isa::Instruction> prog;
  std::uint64_t block = 0;
  for (std::uint64_t c0 = 0; c0 < C; c0 += p.cols) {
    const std::uint64_t cw = std::min<std::uint64_t>(p.cols, C - c0);
    for (std::uint64_t r0 = 0; r0 < R; r0 += chunk, ++block) {
      const std::uint64_t m = std::min(chunk, R - r0);
      const std::uint64_t base = (block % sets) * regions * chunk;  // accumulator set
      const std::uint64_t stage = (block % sets) * chunk;           // scratchpad staging rows
      const auto at = [&](MatrixRef t, std::uint64_t eb) {
        return t.addr + r0 * t.stride + c0 * eb;
      };
      const auto load = [&](std::uint64_t row, MatrixRef t) {
        prog.push_back(isa::encode_load(
            {isa::Sram::kAcc, false, u32(base + row), u32(m), u32(cw), at(t, 4), t.stride}));
      };
      const auto store = [&](std::uint64_t row, MatrixRef t) {
        prog.push_back(isa::encode_store(
            {isa::Sram::kAcc, false, u32(base + row), u32(m), u32(cw), at(t, 4), t.stride}));
      };
      const auto axpy = [&](std::uint32_t imm, std::uint64_t x, std::uint64_t b,
                            std::uint64_t dst) {
        prog.push_back(isa::encode_vec({isa::VecOp::kAxpy, isa::Sram::kAcc, u32(base + x),
                                        u32(base + b), u32(base + dst), u32(m), imm}));
      };
      load(0, g);
      if (v) {
        load(chunk, *v);
        load(2 * chunk, w32);
        axpy(mu_bits, chunk, 0, chunk);  // v = mu * v + g
        store(chunk, *v);
        axpy(neg_lr, chunk, 2 * chunk, 0);  // w = -lr * v + w, into the dead g rows
      } else {
        load(chunk, w32);
        axpy(neg_lr, 0, chunk, 0);  // w = -lr * g + w
      }
      store(0, w32);
      if (wbf) {
        prog.push_back(isa::encode_vec(
            {isa::VecOp::kToBf16, isa::Sram::kSpad, u32(base), 0, u32(stage), u32(m), 0}));
        prog.push_back(isa::encode_store(
            {isa::Sram::kSpad, false, u32(stage), u32(m), u32(cw), at(*wbf, 2), wbf->stride}));
      } else {
        // A later block's LOADs overwrite the rows this STORE reads.
        prog.push_back(relay_vec());
      }
    }
  }
  prog.push_back(isa::encode_finish());
  assign_dependencies(p, prog);
  return prog;
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
