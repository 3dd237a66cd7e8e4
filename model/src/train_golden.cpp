#include "sasim/model/train_golden.hpp"

#include <stdexcept>

#include "sasim/model/vector.hpp"

namespace sasim::model {

BiasAct bias_act(const AccMatrix& c, const std::vector<std::uint32_t>& bias, bool relu) {
  if (bias.size() != static_cast<std::size_t>(c.cols()))
    throw std::invalid_argument("bias_act: " + std::to_string(bias.size()) + " bias values for " +
                                std::to_string(c.cols()) + " columns");
  BiasAct r{AccMatrix(c.rows(), c.cols()), RawMatrix(c.rows(), c.cols())};
  for (Eigen::Index i = 0; i < c.rows(); ++i) {
    for (Eigen::Index j = 0; j < c.cols(); ++j) {
      const std::uint32_t z = vec_lane(Datapath::kBf16, isa::VecOp::kAddRow, c(i, j),
                                       bias[static_cast<std::size_t>(j)], 0, 0);
      const std::uint32_t a = relu ? vec_lane(Datapath::kBf16, isa::VecOp::kRelu, z, 0, 0, 0) : z;
      r.z(i, j) = z;
      r.y(i, j) =
          static_cast<std::uint16_t>(vec_lane(Datapath::kBf16, isa::VecOp::kToBf16, a, 0, 0, 0));
    }
  }
  return r;
}

BiasAct dense_forward(const RawMatrix& x, const RawMatrix& w,
                      const std::vector<std::uint32_t>& bias, bool relu, Eigen::Index k_fold) {
  return bias_act(gemm(Datapath::kBf16, x, w, k_fold), bias, relu);
}

}  // namespace sasim::model
