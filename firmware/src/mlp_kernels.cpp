#include "sasim/fw/mlp_kernels.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "sasim/fw/program_check.hpp"
#include "sasim/isa/encode.hpp"

namespace sasim::fw {

std::vector<isa::Instruction> bias_act_program(const DeviceParams& p, std::uint64_t M,
                                               std::uint64_t N, MatrixRef z, MatrixRef bias,
                                               MatrixRef y, bool relu) {
  if (p.datapath != model::Datapath::kBf16)
    throw std::invalid_argument("bias_act_program: needs the bf16 datapath");
  if (M == 0 || N == 0) throw std::invalid_argument("bias_act_program: M and N must be >= 1");
  const std::uint64_t chunk = std::min<std::uint64_t>({p.acc_rows / 2, p.spad_rows, 4095});
  if (chunk == 0) throw std::invalid_argument("bias_act_program: accumulator below two rows");
  const auto u32 = [](std::uint64_t v) { return static_cast<std::uint32_t>(v); };
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
      prog.push_back(isa::encode_vec({isa::VecOp::kToBf16, isa::Sram::kSpad, 0, 0, 0, u32(m), 0}));
      prog.push_back(isa::encode_store({isa::Sram::kSpad, false, 0, u32(m), u32(cw),
                                        y.addr + m0 * y.stride + n0 * 2, y.stride}));
    }
  }
  prog.push_back(isa::encode_finish());
  assign_dependencies(p, prog);
  return prog;
}

RunResult dense_forward(Driver& drv, const Tensor& x, const Tensor& w, const Tensor& bias,
                        const Tensor& z, const Tensor& y, bool relu) {
  if (bias.rows() != 1 || bias.cols() != w.cols() || bias.elem_bytes() != 4 ||
      y.rows() != z.rows() || y.cols() != z.cols() || y.elem_bytes() != 2) {
    throw std::invalid_argument(
        "dense_forward: bias must be 1 x N fp32 and y M x N bf16 for z = x * w (M x N)");
  }
  RunResult r = drv.gemm(model::Dataflow::kWs, x, w, z);
  const RunResult b = drv.submit(
      bias_act_program(drv.params(), z.rows(), z.cols(), z.ref(), bias.ref(), y.ref(), relu));
  r.cycles += b.cycles;
  r.instructions += b.instructions;
  for (const auto& [k, v] : b.counters) r.counters[k] += v;
  return r;
}

}  // namespace sasim::fw
