// Device kernels of MLP training (bf16 datapath), built on the GEMM kernel
// and the vector unit. Golden models with the same numerics:
// model/include/sasim/model/train_golden.hpp.
#pragma once

#include <cstdint>
#include <vector>

#include "sasim/fw/driver.hpp"
#include "sasim/fw/gemm_kernel.hpp"

namespace sasim::fw {

// The program that adds a bias row and applies the activation to an fp32
// M x N matrix z in device memory, in place, and writes its bf16 copy y:
//   for column blocks of C (the accumulator's lanes) and row chunks of at most
//   min(acc_rows / 2, 4095) rows: LOAD the z block into accumulator rows
//   [0, m), LOAD the bias block into rows [m, 2m) with a DRAM stride of 0 (the
//   row repeated), VEC ADD_ROW, STORE z (pre-activation, kept for the ReLU
//   mask of the backward pass), VEC RELU (if relu), VEC TO_BF16 into
//   scratchpad rows [0, m), STORE y.
// Dependencies by assign_dependencies. Throws std::invalid_argument for the
// int8 datapath, M or N of 0, and capacities below one row.
std::vector<isa::Instruction> bias_act_program(const DeviceParams& p, std::uint64_t M,
                                               std::uint64_t N, MatrixRef z, MatrixRef bias,
                                               MatrixRef y, bool relu);

// A dense layer on the device: z = x * w (GEMM kernel, WS) + bias, y =
// bf16(relu ? max(z, 0) : z). x: M x K bf16, w: K x N bf16, bias: 1 x N fp32,
// z: M x N fp32, y: M x N bf16 tensors of `drv`. Returns both runs' cycles
// and counters summed. std::invalid_argument on shape or element mismatches.
RunResult dense_forward(Driver& drv, const Tensor& x, const Tensor& w, const Tensor& bias,
                        const Tensor& z, const Tensor& y, bool relu);

}  // namespace sasim::fw
