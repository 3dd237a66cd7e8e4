// The dense-layer forward kernel (GEMM + bias + ReLU + bf16 conversion) on the
// functional device, bit for bit against the golden model
// (model/train_golden.hpp), for shapes that need several accumulator chunks
// and column blocks, with and without ReLU; argument errors.
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <span>
#include <vector>

#include "sasim/fw/functional_backend.hpp"
#include "sasim/fw/mlp_kernels.hpp"
#include "sasim/model/numerics.hpp"
#include "sasim/model/train_golden.hpp"

namespace {

namespace fw = sasim::fw;
namespace model = sasim::model;

fw::DeviceParams params(unsigned rows, unsigned cols, unsigned spad, unsigned acc) {
  fw::DeviceParams p;
  p.datapath = model::Datapath::kBf16;
  p.rows = rows;
  p.cols = cols;
  p.spad_rows = spad;
  p.acc_rows = acc;
  p.dram_bytes = std::uint64_t{16} << 20;
  return p;
}

// bf16 values of moderate size (both signs), as training data would have.
model::RawMatrix random_bf16(Eigen::Index r, Eigen::Index c, std::mt19937& rng) {
  std::normal_distribution<float> d(0.0f, 0.5f);
  model::RawMatrix m(r, c);
  for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = model::f32_to_bf16(d(rng));
  return m;
}

struct Case {
  unsigned rows, cols, spad, acc;
  Eigen::Index m, k, n;
  bool relu;
};

class DenseForward : public ::testing::TestWithParam<Case> {};

TEST_P(DenseForward, BitExactAgainstGolden) {
  const Case c = GetParam();
  fw::FunctionalBackend dev(params(c.rows, c.cols, c.spad, c.acc));
  fw::Driver drv(dev);
  std::mt19937 rng(static_cast<unsigned>(c.m * 31 + c.k * 7 + c.n));
  const model::RawMatrix x = random_bf16(c.m, c.k, rng), w = random_bf16(c.k, c.n, rng);
  std::vector<std::uint32_t> bias(static_cast<std::size_t>(c.n));
  std::normal_distribution<float> d(0.0f, 1.0f);
  for (auto& b : bias) b = model::f32_to_bits(d(rng));
  fw::Tensor tx = drv.alloc_tensor(c.m, c.k, 2), tw = drv.alloc_tensor(c.k, c.n, 2),
             tb = drv.alloc_tensor(1, c.n, 4), tz = drv.alloc_tensor(c.m, c.n, 4),
             ty = drv.alloc_tensor(c.m, c.n, 2);
  drv.copy_in(tx, std::span<const std::uint16_t>(x.data(), x.size()));
  drv.copy_in(tw, std::span<const std::uint16_t>(w.data(), w.size()));
  drv.copy_in(tb, std::span<const std::uint32_t>(bias));
  fw::dense_forward(drv, tx, tw, tb, tz, ty, c.relu);

  const auto fold = static_cast<Eigen::Index>(
      fw::gemm_program_fold(dev.params(), model::Dataflow::kWs, static_cast<std::uint64_t>(c.k)));
  const model::BiasAct g = model::dense_forward(x, w, bias, c.relu, fold);
  model::AccMatrix z(c.m, c.n);
  model::RawMatrix y(c.m, c.n);
  drv.copy_out(tz, std::span<std::uint32_t>(z.data(), z.size()));
  drv.copy_out(ty, std::span<std::uint16_t>(y.data(), y.size()));
  ASSERT_TRUE((z.array() == g.z.array()).all()) << "pre-activation differs";
  ASSERT_TRUE((y.array() == g.y.array()).all()) << "bf16 activation differs";
  if (c.relu && c.m * c.n >= 16) {  // the test data reaches both sides of the ReLU
    EXPECT_TRUE((y.array() == 0).any());
    EXPECT_TRUE((y.array() != 0).any());
  }
}

INSTANTIATE_TEST_SUITE_P(Shapes, DenseForward,
                         ::testing::Values(Case{4, 4, 512, 256, 1, 1, 1, true},
                                           Case{4, 4, 512, 256, 13, 29, 37, true},
                                           Case{4, 4, 512, 16, 45, 17, 9, false},  // 6 chunks
                                           Case{16, 16, 8192, 1024, 32, 784, 128, true},
                                           Case{16, 16, 8192, 1024, 32, 128, 10, false}));

TEST(DenseForward, RejectsBadArguments) {
  fw::FunctionalBackend dev(params(4, 4, 512, 256));
  fw::Driver drv(dev);
  fw::Tensor x = drv.alloc_tensor(3, 5, 2), w = drv.alloc_tensor(5, 7, 2),
             b = drv.alloc_tensor(1, 6, 4), z = drv.alloc_tensor(3, 7, 4),
             y = drv.alloc_tensor(3, 7, 2);
  EXPECT_THROW(fw::dense_forward(drv, x, w, b, z, y, true), std::invalid_argument);
  fw::DeviceParams p = params(4, 4, 512, 256);
  p.datapath = model::Datapath::kInt8;
  EXPECT_THROW(fw::bias_act_program(p, 3, 7, z.ref(), b.ref(), y.ref(), true),
               std::invalid_argument);
}

}  // namespace
