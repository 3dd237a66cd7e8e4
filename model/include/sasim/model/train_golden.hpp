// Golden models of the training kernels the device runs (firmware/
// mlp_kernels.hpp), with the device's exact numerics: every element goes
// through the same operations, in the same order, as on the vector unit
// (model::vec_lane) and the array (model::gemm with the kernel's fold).
#pragma once

#include <cstdint>
#include <vector>

#include "sasim/model/gemm.hpp"

namespace sasim::model {

// Bias and activation of a dense layer on the bf16 datapath, from the fp32
// GEMM result c (binary32 bits, M x N) and the fp32 bias (N values):
//   z = c + bias             (VEC ADD_ROW: binary32 RNE)
//   a = relu ? RELU(z) : z   (VEC RELU: +0 for negatives, -0 and NaN... as vec_lane)
//   y = TO_BF16(a)           (round to nearest even, bits 15:0)
struct BiasAct {
  AccMatrix z;  // pre-activation, binary32 bits
  RawMatrix y;  // activation, bf16 bits
};
BiasAct bias_act(const AccMatrix& c, const std::vector<std::uint32_t>& bias, bool relu);

// A whole dense layer: c = model::gemm(bf16, x, w, k_fold), then bias_act.
BiasAct dense_forward(const RawMatrix& x, const RawMatrix& w,
                      const std::vector<std::uint32_t>& bias, bool relu, Eigen::Index k_fold);

}  // namespace sasim::model
