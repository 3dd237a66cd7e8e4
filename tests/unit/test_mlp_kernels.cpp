// The MLP training kernels on the functional device, bit for bit against the
// golden models (model/train_golden.hpp): the dense-layer forward kernel (GEMM +
// bias + ReLU + bf16), the transpose, the ReLU backward, the dense-layer
// backward (dZ, dW, db, dX), the SGD step (plain and momentum) and the Adam /
// AdamW step (alone and fused into the gradient GEMM), for shapes
// from 1 x 1 over primes to the MNIST MLP's on a 16 x 16 and a tiny 4 x 4
// device (several accumulator chunks, column blocks, scratchpad chunks);
// gradient sanity against a double-precision reference; argument errors.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <span>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "sasim/host/mlp_kernels.hpp"
#include "sasim/model/functional_backend.hpp"
#include "sasim/model/gemm.hpp"
#include "sasim/model/numerics.hpp"
#include "sasim/model/train_golden.hpp"

namespace {

using namespace sasim;  // spec, isa, model, mem, cosim, host, app

spec::DeviceSpec params(unsigned rows, unsigned cols, unsigned spad, unsigned acc) {
  return spec::device_of(spec::core_of(model::Datapath::kBf16, rows, cols, spad, acc),
                         std::uint64_t{16} << 20);
}

// bf16 values of moderate size (both signs), as training data would have.
model::RawMatrix random_bf16(Eigen::Index r, Eigen::Index c, std::mt19937& rng) {
  std::normal_distribution<float> d(0.0f, 0.5f);
  model::RawMatrix m(r, c);
  for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = model::f32_to_bf16(d(rng));
  return m;
}

// fp32 values (binary32 bits) of a normal distribution.
model::AccMatrix random_f32(Eigen::Index r, Eigen::Index c, std::mt19937& rng, float sigma = 1.0f) {
  std::normal_distribution<float> d(0.0f, sigma);
  model::AccMatrix m(r, c);
  for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = model::f32_to_bits(d(rng));
  return m;
}

void put(host::Driver& drv, const host::Tensor& t, const model::RawMatrix& m) {
  drv.copy_in(t, std::span<const std::uint16_t>(m.data(), static_cast<std::size_t>(m.size())));
}
void put(host::Driver& drv, const host::Tensor& t, const model::AccMatrix& m) {
  drv.copy_in(t, std::span<const std::uint32_t>(m.data(), static_cast<std::size_t>(m.size())));
}
model::RawMatrix get_raw(host::Driver& drv, const host::Tensor& t) {
  model::RawMatrix m(static_cast<Eigen::Index>(t.rows()), static_cast<Eigen::Index>(t.cols()));
  drv.copy_out(t, std::span<std::uint16_t>(m.data(), static_cast<std::size_t>(m.size())));
  return m;
}
model::AccMatrix get_acc(host::Driver& drv, const host::Tensor& t) {
  model::AccMatrix m(static_cast<Eigen::Index>(t.rows()), static_cast<Eigen::Index>(t.cols()));
  drv.copy_out(t, std::span<std::uint32_t>(m.data(), static_cast<std::size_t>(m.size())));
  return m;
}

// Bit-exact comparison; on failure names the first mismatching element.
template <typename Mat>
::testing::AssertionResult same_bits(const Mat& got, const Mat& want) {
  if (got.rows() != want.rows() || got.cols() != want.cols())
    return ::testing::AssertionFailure() << "shape " << got.rows() << " x " << got.cols()
                                         << ", want " << want.rows() << " x " << want.cols();
  for (Eigen::Index i = 0; i < got.rows(); ++i)
    for (Eigen::Index j = 0; j < got.cols(); ++j)
      if (got(i, j) != want(i, j))
        return ::testing::AssertionFailure()
               << "first mismatch at (" << i << ", " << j << "): device 0x" << std::hex
               << +got(i, j) << ", golden 0x" << +want(i, j);
  return ::testing::AssertionSuccess();
}

Eigen::Index p_fold(const spec::DeviceSpec& p) {
  return static_cast<Eigen::Index>(host::gemm_program_fold(p, model::Dataflow::kWs, 1));
}

struct Case {
  unsigned rows, cols, spad, acc;
  Eigen::Index m, k, n;
  bool relu;
};

class DenseForward : public ::testing::TestWithParam<Case> {};

TEST_P(DenseForward, BitExactAgainstGolden) {
  const Case c = GetParam();
  model::FunctionalBackend dev(params(c.rows, c.cols, c.spad, c.acc));
  host::Driver drv(dev);
  std::mt19937 rng(static_cast<unsigned>(c.m * 31 + c.k * 7 + c.n));
  const model::RawMatrix x = random_bf16(c.m, c.k, rng), w = random_bf16(c.k, c.n, rng);
  std::vector<std::uint32_t> bias(static_cast<std::size_t>(c.n));
  std::normal_distribution<float> d(0.0f, 1.0f);
  for (auto& b : bias) b = model::f32_to_bits(d(rng));
  host::Tensor tx = drv.alloc_tensor(c.m, c.k, 2), tw = drv.alloc_tensor(c.k, c.n, 2),
               tb = drv.alloc_tensor(1, c.n, 4), tz = drv.alloc_tensor(c.m, c.n, 4),
               ty = drv.alloc_tensor(c.m, c.n, 2);
  drv.copy_in(tx, std::span<const std::uint16_t>(x.data(), x.size()));
  drv.copy_in(tw, std::span<const std::uint16_t>(w.data(), w.size()));
  drv.copy_in(tb, std::span<const std::uint32_t>(bias));
  host::dense_forward(drv, tx, tw, tb, tz, ty, c.relu);

  const auto fold = static_cast<Eigen::Index>(
      host::gemm_program_fold(dev.params(), model::Dataflow::kWs, static_cast<std::uint64_t>(c.k)));
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
                                           Case{4, 4, 16, 256, 13, 29, 37, true},  // spad < acc / 2
                                           Case{16, 16, 8192, 1024, 32, 784, 128, true},
                                           Case{16, 16, 8192, 1024, 32, 128, 10, false}));

// The bias/activation pass on its own (dense_forward fuses the same block
// sequence into its GEMM): z in memory, in place, against model::bias_act.
TEST(DenseForward, BiasActProgramAlone) {
  for (const Case c :
       {Case{4, 4, 512, 16, 45, 1, 9, true}, Case{4, 4, 512, 256, 13, 1, 37, false}}) {
    model::FunctionalBackend dev(params(c.rows, c.cols, c.spad, c.acc));
    host::Driver drv(dev);
    std::mt19937 rng(static_cast<unsigned>(c.m + c.n));
    const model::AccMatrix z0 = random_f32(c.m, c.n, rng);
    const model::AccMatrix brow = random_f32(1, c.n, rng);
    const std::vector<std::uint32_t> bias(brow.data(), brow.data() + brow.size());
    host::Tensor tz = drv.alloc_tensor(c.m, c.n, 4), tb = drv.alloc_tensor(1, c.n, 4),
                 ty = drv.alloc_tensor(c.m, c.n, 2);
    put(drv, tz, z0);
    put(drv, tb, brow);
    drv.submit(host::bias_act_program(dev.params(), static_cast<std::uint64_t>(c.m),
                                      static_cast<std::uint64_t>(c.n), tz.ref(), tb.ref(), ty.ref(),
                                      c.relu));
    const model::BiasAct g = model::bias_act(z0, bias, c.relu);
    EXPECT_TRUE(same_bits(get_acc(drv, tz), g.z)) << c.m << " x " << c.n;
    EXPECT_TRUE(same_bits(get_raw(drv, ty), g.y)) << c.m << " x " << c.n;
  }
}

TEST(DenseForward, RejectsBadArguments) {
  model::FunctionalBackend dev(params(4, 4, 512, 256));
  host::Driver drv(dev);
  host::Tensor x = drv.alloc_tensor(3, 5, 2), w = drv.alloc_tensor(5, 7, 2),
               b = drv.alloc_tensor(1, 6, 4), z = drv.alloc_tensor(3, 7, 4),
               y = drv.alloc_tensor(3, 7, 2);
  EXPECT_THROW(host::dense_forward(drv, x, w, b, z, y, true), std::invalid_argument);
  spec::DeviceSpec p = params(4, 4, 512, 256);
  p.datapath = model::Datapath::kInt8;
  EXPECT_THROW(host::bias_act_program(p, 3, 7, z.ref(), b.ref(), y.ref(), true),
               std::invalid_argument);
}

// --- Transpose -----------------------------------------------------------------

struct TransposeCase {
  unsigned rows, cols, spad, acc;
  Eigen::Index r, c;
};

class Transpose : public ::testing::TestWithParam<TransposeCase> {};

TEST_P(Transpose, BitCopyOfEveryPattern) {
  const TransposeCase c = GetParam();
  model::FunctionalBackend dev(params(c.rows, c.cols, c.spad, c.acc));
  host::Driver drv(dev);
  std::mt19937 rng(static_cast<unsigned>(c.r * 131 + c.c));
  std::uniform_int_distribution<unsigned> bits(0, 0xFFFF);  // NaNs and infs included
  model::RawMatrix src(c.r, c.c);
  for (Eigen::Index i = 0; i < src.size(); ++i)
    src.data()[i] = static_cast<std::uint16_t>(bits(rng));
  host::Tensor ts = drv.alloc_tensor(c.r, c.c, 2), td = drv.alloc_tensor(c.c, c.r, 2);
  put(drv, ts, src);
  const spec::RunResult r = host::transpose(drv, ts, td);
  EXPECT_TRUE(same_bits(get_raw(drv, td), model::transpose(src)))
      << c.r << " x " << c.c << ", seed " << c.r * 131 + c.c;
  EXPECT_TRUE(same_bits(get_raw(drv, ts), src)) << "source modified";
  EXPECT_GE(r.instructions(), 4u);  // LOAD, relay VEC, STORE, FINISH at least
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, Transpose,
    ::testing::Values(TransposeCase{4, 4, 512, 256, 1, 1}, TransposeCase{4, 4, 512, 256, 7, 13},
                      TransposeCase{4, 4, 512, 256, 13, 7},
                      TransposeCase{4, 4, 512, 256, 3, 1000},  // 4 scratchpad chunks of 256
                      TransposeCase{4, 4, 512, 256, 37, 300},
                      TransposeCase{4, 4, 8, 256, 5, 3},  // the smallest legal scratchpad
                      TransposeCase{4, 4, 8, 256, 6, 9},  // chunks of its buffers
                      TransposeCase{16, 16, 8192, 1024, 32, 784},
                      TransposeCase{16, 16, 8192, 1024, 784, 32},
                      TransposeCase{16, 16, 8192, 1024, 128, 10},
                      TransposeCase{16, 16, 8192, 1024, 3, 9001}));  // > 4095: count field

TEST(Transpose, PitchedViewsLeavePaddingAlone) {
  model::FunctionalBackend dev(params(4, 4, 512, 256));
  host::Driver drv(dev);
  host::Tensor big = drv.alloc_tensor(20, 40, 2);  // src: 9 x 11 inside, dst: 11 x 9 inside
  model::RawMatrix init = model::RawMatrix::Constant(20, 40, 0xABCD);
  put(drv, big, init);
  std::mt19937 rng(7);
  const model::RawMatrix src = random_bf16(9, 11, rng);
  const host::Tensor vs = host::Tensor::view(big.addr(), 9, 11, 2, big.pitch());
  const host::Tensor vd =
      host::Tensor::view(big.addr() + 10 * big.pitch() + 4, 11, 9, 2, big.pitch());
  put(drv, vs, src);
  host::transpose(drv, vs, vd);
  EXPECT_TRUE(same_bits(get_raw(drv, vd), model::transpose(src)));
  const model::RawMatrix all = get_raw(drv, big);
  EXPECT_EQ(all(9, 0), 0xABCD);    // below src
  EXPECT_EQ(all(10, 1), 0xABCD);   // left of dst
  EXPECT_EQ(all(10, 11), 0xABCD);  // right of dst
  EXPECT_EQ(all(0, 11), 0xABCD);   // right of src
}

// --- ReLU backward ---------------------------------------------------------------

struct ShapeCase {
  unsigned rows, cols, spad, acc;
  Eigen::Index m, n;
};

class ReluBackward : public ::testing::TestWithParam<ShapeCase> {};

TEST_P(ReluBackward, BitExactInPlaceAndOutOfPlace) {
  const ShapeCase c = GetParam();
  model::FunctionalBackend dev(params(c.rows, c.cols, c.spad, c.acc));
  host::Driver drv(dev);
  std::mt19937 rng(static_cast<unsigned>(c.m * 17 + c.n));
  const model::AccMatrix dy = random_f32(c.m, c.n, rng);
  model::AccMatrix z = random_f32(c.m, c.n, rng);
  // Mask edge cases: +-0 and NaN are not > 0; the smallest subnormal and +inf are.
  const std::uint32_t specials[] = {0x00000000u, 0x80000000u, 0x7FC00000u, 0xFFC00001u,
                                    0x00000001u, 0x7F800000u, 0xFF800000u};
  for (std::size_t i = 0; i < std::size(specials) && static_cast<Eigen::Index>(i) < z.size(); ++i)
    z.data()[i * 7 % static_cast<std::size_t>(z.size())] = specials[i];
  const model::ReluBackward g = model::relu_backward(dy, z);

  host::Tensor tdy = drv.alloc_tensor(c.m, c.n, 4), tz = drv.alloc_tensor(c.m, c.n, 4),
               tdz = drv.alloc_tensor(c.m, c.n, 4), tbf = drv.alloc_tensor(c.m, c.n, 2);
  put(drv, tdy, dy);
  put(drv, tz, z);
  host::relu_backward(drv, tdy, tz, tdz, tbf);  // to a new tensor
  EXPECT_TRUE(same_bits(get_acc(drv, tdz), g.dz));
  EXPECT_TRUE(same_bits(get_raw(drv, tbf), g.dz_bf));
  EXPECT_TRUE(same_bits(get_acc(drv, tdy), dy)) << "dy modified";

  put(drv, tbf, model::RawMatrix::Zero(c.m, c.n).eval());
  host::relu_backward(drv, tdy, tz, tdy, tbf);  // in place
  EXPECT_TRUE(same_bits(get_acc(drv, tdy), g.dz));
  EXPECT_TRUE(same_bits(get_raw(drv, tbf), g.dz_bf));
  if (c.m * c.n >= 16) {  // both sides of the mask reached
    EXPECT_TRUE((g.dz.array() == 0).any());
    EXPECT_TRUE((g.dz.array() != 0).any());
  }
}

INSTANTIATE_TEST_SUITE_P(Shapes, ReluBackward,
                         ::testing::Values(ShapeCase{4, 4, 512, 256, 1, 1},
                                           ShapeCase{4, 4, 512, 256, 13, 37},
                                           ShapeCase{4, 4, 512, 16, 45, 9},  // 6 chunks
                                           ShapeCase{16, 16, 8192, 1024, 32, 128},
                                           ShapeCase{16, 16, 8192, 1024, 32, 10}));

// --- Dense backward ----------------------------------------------------------------

struct BackwardCase {
  unsigned rows, cols, spad, acc;
  Eigen::Index m, k, n;
  bool relu, with_dx;
};

class DenseBackward : public ::testing::TestWithParam<BackwardCase> {};

TEST_P(DenseBackward, BitExactAgainstGolden) {
  const BackwardCase c = GetParam();
  model::FunctionalBackend dev(params(c.rows, c.cols, c.spad, c.acc));
  host::Driver drv(dev);
  const unsigned seed = static_cast<unsigned>(c.m * 31 + c.k * 7 + c.n + (c.relu ? 1000 : 0));
  std::mt19937 rng(seed);
  const model::RawMatrix x = random_bf16(c.m, c.k, rng), w = random_bf16(c.k, c.n, rng);
  const model::AccMatrix dy = random_f32(c.m, c.n, rng, 0.1f), z = random_f32(c.m, c.n, rng);
  host::Tensor tx = drv.alloc_tensor(c.m, c.k, 2), tw = drv.alloc_tensor(c.k, c.n, 2),
               tdy = drv.alloc_tensor(c.m, c.n, 4), tz = drv.alloc_tensor(c.m, c.n, 4),
               tdw = drv.alloc_tensor(c.k, c.n, 4), tdb = drv.alloc_tensor(1, c.n, 4),
               tdx = drv.alloc_tensor(c.m, c.k, 4);
  put(drv, tx, x);
  put(drv, tw, w);
  put(drv, tdy, dy);
  put(drv, tz, z);
  put(drv, tdx, model::AccMatrix::Constant(c.m, c.k, 0xDEADBEEFu).eval());
  host::dense_backward(drv, tx, tw, tdy, c.relu ? &tz : nullptr, tdw, tdb,
                       c.with_dx ? &tdx : nullptr);
  // A second run on its own dZ gives the same results (the mask is idempotent)
  // and frees its scratch tensors (the first run also allocated the driver's
  // GEMM zero region, which it keeps).
  const std::uint64_t before = drv.bytes_free();
  host::dense_backward(drv, tx, tw, tdy, c.relu ? &tz : nullptr, tdw, tdb,
                       c.with_dx ? &tdx : nullptr);
  EXPECT_EQ(drv.bytes_free(), before) << "scratch tensors not freed";

  const spec::DeviceSpec& p = dev.params();
  const auto fold = static_cast<Eigen::Index>(
      host::gemm_program_fold(p, model::Dataflow::kWs, static_cast<std::uint64_t>(c.m)));
  // One fold for the WS GEMMs (db: K = M, dX: K = N): WS folds by R.
  ASSERT_EQ(host::gemm_program_fold(p, model::Dataflow::kWs, static_cast<std::uint64_t>(c.n)),
            static_cast<std::uint64_t>(fold));
  // dW runs on OS over the whole batch when it fits (weight_gradient_fold).
  const auto dw_fold =
      static_cast<Eigen::Index>(host::weight_gradient_fold(p, static_cast<std::uint64_t>(c.m)));
  EXPECT_EQ(dw_fold, std::min<Eigen::Index>(c.m, (c.spad - std::min(c.acc / 3, c.spad / 2)) / 2));
  const model::DenseGrads g = model::dense_backward(x, w, dy, c.relu ? &z : nullptr, fold, dw_fold);
  EXPECT_TRUE(same_bits(get_acc(drv, tdy), g.dz)) << "dZ (in place over dy), seed " << seed;
  EXPECT_TRUE(same_bits(get_acc(drv, tdw), g.dw)) << "dW, seed " << seed;
  EXPECT_TRUE(same_bits(get_acc(drv, tdb), g.db)) << "db, seed " << seed;
  if (c.with_dx) {
    EXPECT_TRUE(same_bits(get_acc(drv, tdx), g.dx)) << "dX, seed " << seed;
  } else {
    EXPECT_TRUE((get_acc(drv, tdx).array() == 0xDEADBEEFu).all()) << "dX written";
  }
  if (!c.relu) EXPECT_TRUE(same_bits(g.dz, dy));
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, DenseBackward,
    ::testing::Values(BackwardCase{4, 4, 512, 256, 1, 1, 1, true, true},
                      BackwardCase{4, 4, 512, 256, 13, 29, 37, true, true},
                      BackwardCase{4, 4, 512, 256, 13, 29, 37, false, false},
                      BackwardCase{4, 4, 512, 16, 45, 17, 9, true, true},   // 6 chunks
                      BackwardCase{4, 4, 512, 256, 7, 600, 3, true, true},  // K > spad / 2
                      BackwardCase{4, 4, 16, 256, 19, 13, 7, true, true},   // dW fold 4 < M
                      BackwardCase{16, 16, 8192, 1024, 32, 784, 128, true, false},
                      BackwardCase{16, 16, 8192, 1024, 32, 128, 10, false, true}));

// data_backward with the lower layer's ReLU backward fused into dX
// (MaskBelow): the lower layer's dz_bf (and, with keep_dx, its fp32 dZ in dx)
// equal the unfused passes' (model::dense_backward's dX, then
// model::relu_backward against z_below and bf16), bit for bit; without keep_dx
// dx is not written, and dy of this layer is the masked dZ as before.
class MaskedDataBackward : public ::testing::TestWithParam<BackwardCase> {};

TEST_P(MaskedDataBackward, BitExactAgainstTheUnfusedPasses) {
  const BackwardCase c = GetParam();
  for (const bool keep : {false, true}) {
    model::FunctionalBackend dev(params(c.rows, c.cols, c.spad, c.acc));
    host::Driver drv(dev);
    std::mt19937 rng(static_cast<unsigned>(c.m * 31 + c.k * 7 + c.n + (keep ? 1 : 0)));
    const model::RawMatrix w = random_bf16(c.k, c.n, rng);
    const model::AccMatrix dy = random_f32(c.m, c.n, rng, 0.1f), z = random_f32(c.m, c.n, rng);
    const model::AccMatrix z_below = random_f32(c.m, c.k, rng);
    // A tensor holding m (2-byte elements for bf16 bits, 4 for fp32 bits).
    auto upload = [&](const auto& m) {
      host::Tensor t = drv.alloc_tensor(static_cast<std::uint64_t>(m.rows()),
                                        static_cast<std::uint64_t>(m.cols()),
                                        sizeof(typename std::decay_t<decltype(m)>::Scalar));
      put(drv, t, m);
      return t;
    };
    host::Tensor tw = upload(w), tdy = upload(dy), tz = upload(z), tzb = upload(z_below),
                 tdx = upload(model::AccMatrix::Constant(c.m, c.k, 0xDEADBEEFu).eval()),
                 tdz = drv.alloc_tensor(c.m, c.n, 2), tdzb = drv.alloc_tensor(c.m, c.k, 2);
    const host::MaskBelow below{&tzb, &tdzb, keep};
    host::data_backward(drv, tw, tdy, c.relu ? &tz : nullptr, tdz, &tdx, false, &below);

    const auto fold = static_cast<Eigen::Index>(host::gemm_program_fold(
        dev.params(), model::Dataflow::kWs, static_cast<std::uint64_t>(c.n)));
    const model::DenseGrads g = model::dense_backward(model::RawMatrix::Zero(c.m, c.k), w, dy,
                                                      c.relu ? &z : nullptr, fold, fold);
    const model::AccMatrix dz_below = model::relu_backward(g.dx, z_below).dz;
    EXPECT_TRUE(same_bits(get_acc(drv, tdy), g.dz)) << "dZ over dy, keep " << keep;
    EXPECT_TRUE(get_raw(drv, tdz) == model::to_bf16(g.dz)) << "dz_bf, keep " << keep;
    EXPECT_TRUE(get_raw(drv, tdzb) == model::to_bf16(dz_below)) << "dz_bf below, keep " << keep;
    if (keep) {
      EXPECT_TRUE(same_bits(get_acc(drv, tdx), dz_below)) << "dZ below in dx";
    } else {
      EXPECT_TRUE((get_acc(drv, tdx).array() == 0xDEADBEEFu).all()) << "dx written";
    }
    // The lower layer's pass with dz_ready reads and writes nothing of dy.
    const model::AccMatrix before = get_acc(drv, tdx);
    const host::Tensor w_below = drv.alloc_tensor(3, c.k, 2);
    host::data_backward(drv, w_below, tdx, &tzb, tdzb, nullptr, true);
    EXPECT_TRUE(same_bits(get_acc(drv, tdx), before)) << "dz_ready rewrote dy";
    EXPECT_TRUE(get_raw(drv, tdzb) == model::to_bf16(dz_below)) << "dz_ready rewrote dz_bf";
  }
  // A mask of the wrong shape is refused.
  model::FunctionalBackend dev(params(c.rows, c.cols, c.spad, c.acc));
  host::Driver drv(dev);
  host::Tensor tw = drv.alloc_tensor(c.k, c.n, 2), tdy = drv.alloc_tensor(c.m, c.n, 4),
               tdz = drv.alloc_tensor(c.m, c.n, 2), tdx = drv.alloc_tensor(c.m, c.k, 4),
               bad = drv.alloc_tensor(c.m, c.k + 1, 4), tdzb = drv.alloc_tensor(c.m, c.k, 2);
  const host::MaskBelow wrong{&bad, &tdzb, false};
  EXPECT_THROW(host::data_backward(drv, tw, tdy, nullptr, tdz, &tdx, false, &wrong),
               std::invalid_argument);
  EXPECT_THROW(host::data_backward(drv, tw, tdy, nullptr, tdz, nullptr, false, &wrong),
               std::invalid_argument);
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, MaskedDataBackward,
    ::testing::Values(BackwardCase{4, 4, 512, 256, 1, 1, 1, true, true},
                      BackwardCase{4, 4, 512, 256, 13, 29, 37, true, true},
                      BackwardCase{4, 4, 512, 16, 45, 17, 9, false, true},  // 6 chunks
                      BackwardCase{16, 16, 8192, 1024, 32, 128, 10, false, true}));

// The device gradients against the exact (double) gradients of the same
// inputs. Two error sources, both bounded per element:
//   - dZ is rounded to bf16 once (RNE, 8 significand bits): |dZb - dZ| <=
//     2^-8 |dZ|, so |sum_m x dZb - sum_m x dZ| <= 2^-8 sum_m |x| |dZ|;
//   - the array's fp32 accumulation of the exact bf16 products:
//     model::fp32_error_bound(a, b, fold).
// x and w are bf16 already (exact), so nothing else differs.
TEST(DenseBackward, GradientsMatchDoubleReference) {
  model::FunctionalBackend dev(params(4, 4, 512, 256));
  host::Driver drv(dev);
  std::mt19937 rng(2024);
  const Eigen::Index M = 9, K = 11, N = 6;
  const model::RawMatrix x = random_bf16(M, K, rng), w = random_bf16(K, N, rng);
  const model::AccMatrix dy = random_f32(M, N, rng, 0.1f), z = random_f32(M, N, rng);
  host::Tensor tx = drv.alloc_tensor(M, K, 2), tw = drv.alloc_tensor(K, N, 2),
               tdy = drv.alloc_tensor(M, N, 4), tz = drv.alloc_tensor(M, N, 4),
               tdw = drv.alloc_tensor(K, N, 4), tdb = drv.alloc_tensor(1, N, 4),
               tdx = drv.alloc_tensor(M, K, 4);
  put(drv, tx, x);
  put(drv, tw, w);
  put(drv, tdy, dy);
  put(drv, tz, z);
  host::dense_backward(drv, tx, tw, tdy, &tz, tdw, tdb, &tdx);

  Eigen::MatrixXd dz(M, N);  // exact masked gradient
  for (Eigen::Index i = 0; i < M; ++i)
    for (Eigen::Index j = 0; j < N; ++j)
      dz(i, j) = model::bits_to_f32(z(i, j)) > 0 ? model::bits_to_f32(dy(i, j)) : 0.0;
  const Eigen::MatrixXd xd = model::to_double(model::Datapath::kBf16, x);
  const Eigen::MatrixXd wd = model::to_double(model::Datapath::kBf16, w);
  const model::RawMatrix dz_bf = model::to_bf16(model::relu_backward(dy, z).dz);
  const Eigen::Index fold = p_fold(dev.params());
  const model::RawMatrix ones = model::RawMatrix::Constant(1, M, 0x3F80);
  const double u = std::ldexp(1.0, -8);

  const auto check = [&](const char* what, const model::AccMatrix& got, const Eigen::MatrixXd& ref,
                         const Eigen::MatrixXd& abs_ref, const Eigen::MatrixXd& acc_bound) {
    const Eigen::MatrixXd gd = model::to_double_acc(model::Datapath::kBf16, got);
    ASSERT_EQ(gd.rows(), ref.rows());
    ASSERT_EQ(gd.cols(), ref.cols());
    EXPECT_GT(ref.cwiseAbs().maxCoeff(), 0.0) << what << ": trivial reference";
    for (Eigen::Index i = 0; i < ref.rows(); ++i)
      for (Eigen::Index j = 0; j < ref.cols(); ++j) {
        const double tol = u * abs_ref(i, j) + acc_bound(i, j);
        EXPECT_LE(std::abs(gd(i, j) - ref(i, j)), tol)
            << what << "(" << i << ", " << j << "): device " << gd(i, j) << ", exact " << ref(i, j);
      }
  };
  check("dW", get_acc(drv, tdw), xd.transpose() * dz, xd.cwiseAbs().transpose() * dz.cwiseAbs(),
        model::fp32_error_bound(
            model::transpose(x), dz_bf,
            static_cast<Eigen::Index>(host::weight_gradient_fold(dev.params(), M))));
  check("db", get_acc(drv, tdb), dz.colwise().sum(), dz.cwiseAbs().colwise().sum(),
        model::fp32_error_bound(ones, dz_bf, fold));
  check("dX", get_acc(drv, tdx), dz * wd.transpose(), dz.cwiseAbs() * wd.cwiseAbs().transpose(),
        model::fp32_error_bound(dz_bf, model::transpose(w), fold));
}

// --- SGD -------------------------------------------------------------------------

struct SgdCase {
  unsigned rows, cols, spad, acc;
  Eigen::Index r, c;
  bool momentum, with_bf16;
};

class SgdUpdate : public ::testing::TestWithParam<SgdCase> {};

TEST_P(SgdUpdate, BitExactAgainstGolden) {
  const SgdCase c = GetParam();
  model::FunctionalBackend dev(params(c.rows, c.cols, c.spad, c.acc));
  host::Driver drv(dev);
  const unsigned seed = static_cast<unsigned>(c.r * 53 + c.c + (c.momentum ? 7 : 0));
  std::mt19937 rng(seed);
  const model::AccMatrix w32 = random_f32(c.r, c.c, rng, 0.1f), g = random_f32(c.r, c.c, rng),
                         v = random_f32(c.r, c.c, rng, 0.5f);
  const float lr = 0.01f, mu = 0.9f;
  host::Tensor tw = drv.alloc_tensor(c.r, c.c, 4), tg = drv.alloc_tensor(c.r, c.c, 4),
               tv = drv.alloc_tensor(c.r, c.c, 4), tbf = drv.alloc_tensor(c.r, c.c, 2);
  put(drv, tw, w32);
  put(drv, tg, g);
  put(drv, tv, v);
  put(drv, tbf, model::RawMatrix::Constant(c.r, c.c, 0x1234).eval());
  host::sgd_update(drv, tw, tg, c.with_bf16 ? &tbf : nullptr, lr, c.momentum ? &tv : nullptr, mu);
  const model::SgdStep s =
      c.momentum ? model::sgd_momentum_update(w32, g, v, lr, mu) : model::sgd_update(w32, g, lr);
  EXPECT_TRUE(same_bits(get_acc(drv, tw), s.w32)) << "w32, seed " << seed;
  EXPECT_TRUE(same_bits(get_acc(drv, tg), g)) << "g modified";
  if (c.momentum) {
    EXPECT_TRUE(same_bits(get_acc(drv, tv), s.v)) << "v, seed " << seed;
  } else {
    EXPECT_TRUE(same_bits(get_acc(drv, tv), v)) << "v modified without momentum";
  }
  if (c.with_bf16) {
    EXPECT_TRUE(same_bits(get_raw(drv, tbf), s.wbf)) << "wbf, seed " << seed;
  } else {
    EXPECT_TRUE((get_raw(drv, tbf).array() == 0x1234).all()) << "wbf written";
  }
  EXPECT_FALSE((s.w32.array() == w32.array()).all()) << "the step changed nothing";
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, SgdUpdate,
    ::testing::Values(SgdCase{4, 4, 512, 256, 1, 1, false, true},
                      SgdCase{4, 4, 512, 256, 1, 1, true, true},
                      SgdCase{4, 4, 512, 256, 13, 37, false, true},
                      SgdCase{4, 4, 512, 256, 13, 37, true, true},
                      SgdCase{4, 4, 512, 16, 45, 9, true, true},     // 9 chunks of 5 rows
                      SgdCase{4, 4, 512, 16, 45, 9, false, true},    // 6 chunks of 8 rows
                      SgdCase{4, 4, 512, 256, 1, 37, false, false},  // a bias row
                      SgdCase{16, 16, 8192, 1024, 784, 128, false, true},
                      SgdCase{16, 16, 8192, 1024, 784, 128, true, true},
                      SgdCase{16, 16, 8192, 1024, 1, 10, true, false}));

// --- Adam and AdamW ----------------------------------------------------------------

// The rule of step t of an Adam run: lr 0.01, betas 0.9 / 0.999, eps 1e-8,
// and weight decay 0.05 as L2 (adam) or decoupled (adamw).
model::UpdateRule adam_rule(model::Optimizer opt, float wd, std::uint64_t t) {
  model::MlpConfig c;
  c.lr = 0.01f;
  c.optimizer = opt;
  c.weight_decay = wd;
  return c.rule_at(t);
}

// Random Adam state: m of either sign, v >= 0 (the square of a random value).
struct AdamState {
  model::AccMatrix w32, m, v;
};
AdamState random_adam_state(Eigen::Index r, Eigen::Index c, std::mt19937& rng) {
  AdamState s{random_f32(r, c, rng, 0.1f), random_f32(r, c, rng, 0.01f), random_f32(r, c, rng)};
  for (Eigen::Index i = 0; i < s.v.size(); ++i) {
    const float x = model::bits_to_f32(s.v.data()[i]) * 1e-3f;
    s.v.data()[i] = model::f32_to_bits(x * x);
  }
  return s;
}

// The golden step is the fp32 reference's arithmetic (mlp.hpp's equations,
// each operation rounded once in binary32) on normal values, bit for bit:
// written here as plain float code.
TEST(AdamUpdate, GoldenIsTheBinary32Equations) {
  std::mt19937 rng(5);
  const AdamState st = random_adam_state(17, 9, rng);
  const model::AccMatrix g = random_f32(17, 9, rng, 0.05f);
  for (const auto& [opt, wd] :
       {std::pair{model::Optimizer::kAdam, 0.0f}, std::pair{model::Optimizer::kAdam, 0.05f},
        std::pair{model::Optimizer::kAdamW, 0.05f}}) {
    for (std::uint64_t t : {0u, 1u, 40u}) {
      const model::UpdateRule r = adam_rule(opt, wd, t);
      const model::AdamStep got = model::adam_update(st.w32, g, st.m, st.v, r);
      for (Eigen::Index i = 0; i < g.size(); ++i) {
        float gi = model::bits_to_f32(g.data()[i]), w = model::bits_to_f32(st.w32.data()[i]);
        if (r.has_l2) gi = r.l2 * w + gi;
        const float m = r.beta1 * model::bits_to_f32(st.m.data()[i]) + r.one_minus_beta1 * gi;
        const float v =
            r.beta2 * model::bits_to_f32(st.v.data()[i]) + r.one_minus_beta2 * (gi * gi);
        if (r.has_decay) w = w * r.decay;
        const float want = r.neg_step * (m / (std::sqrt(v) + r.eps_hat)) + w;
        ASSERT_EQ(got.m.data()[i], model::f32_to_bits(m)) << "element " << i << " t " << t;
        ASSERT_EQ(got.v.data()[i], model::f32_to_bits(v)) << "element " << i << " t " << t;
        ASSERT_EQ(got.w32.data()[i], model::f32_to_bits(want)) << "element " << i << " t " << t;
      }
      EXPECT_TRUE(same_bits(got.wbf, model::to_bf16(got.w32)));
    }
  }
  EXPECT_THROW(model::adam_update(st.w32, g, st.m, st.v, model::MlpConfig{}.rule_at(0)),
               std::invalid_argument);
}

struct AdamCase {
  unsigned rows, cols, spad, acc;
  Eigen::Index r, c;
  model::Optimizer opt;
  float wd;
  bool with_bf16;
};

class AdamUpdate : public ::testing::TestWithParam<AdamCase> {};

// update_program: three chained steps (t = 0, 1, 2: the bias correction
// changes) on the device equal model::adam_update, bit for bit; g is not
// modified.
TEST_P(AdamUpdate, BitExactAgainstGolden) {
  const AdamCase c = GetParam();
  model::FunctionalBackend dev(params(c.rows, c.cols, c.spad, c.acc));
  host::Driver drv(dev);
  const unsigned seed = static_cast<unsigned>(c.r * 31 + c.c + static_cast<unsigned>(c.opt));
  std::mt19937 rng(seed);
  AdamState st = random_adam_state(c.r, c.c, rng);
  host::Tensor tw = drv.alloc_tensor(c.r, c.c, 4), tg = drv.alloc_tensor(c.r, c.c, 4),
               tm = drv.alloc_tensor(c.r, c.c, 4), tv = drv.alloc_tensor(c.r, c.c, 4),
               tbf = drv.alloc_tensor(c.r, c.c, 2);
  put(drv, tw, st.w32);
  put(drv, tm, st.m);
  put(drv, tv, st.v);
  put(drv, tbf, model::RawMatrix::Constant(c.r, c.c, 0x1234).eval());
  for (std::uint64_t t = 0; t < 3; ++t) {
    const model::AccMatrix g = random_f32(c.r, c.c, rng, 0.05f);
    put(drv, tg, g);
    const model::UpdateRule rule = adam_rule(c.opt, c.wd, t);
    drv.submit(host::update_program(
        dev.params(), static_cast<std::uint64_t>(c.r), static_cast<std::uint64_t>(c.c), tg.ref(),
        {tw.ref(), c.with_bf16 ? std::optional<host::MatrixRef>(tbf.ref()) : std::nullopt, tm.ref(),
         tv.ref()},
        rule));
    const model::AdamStep s = model::adam_update(st.w32, g, st.m, st.v, rule);
    ASSERT_TRUE(same_bits(get_acc(drv, tw), s.w32)) << "w32, step " << t << ", seed " << seed;
    ASSERT_TRUE(same_bits(get_acc(drv, tm), s.m)) << "m, step " << t;
    ASSERT_TRUE(same_bits(get_acc(drv, tv), s.v)) << "v, step " << t;
    ASSERT_TRUE(same_bits(get_acc(drv, tg), g)) << "g modified";
    if (c.with_bf16) {
      ASSERT_TRUE(same_bits(get_raw(drv, tbf), s.wbf)) << "wbf, step " << t;
    } else {
      ASSERT_TRUE((get_raw(drv, tbf).array() == 0x1234).all()) << "wbf written";
    }
    EXPECT_FALSE((s.w32.array() == st.w32.array()).all()) << "the step changed nothing";
    st = {s.w32, s.m, s.v};
  }
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, AdamUpdate,
    ::testing::Values(AdamCase{4, 4, 512, 256, 1, 1, model::Optimizer::kAdam, 0.0f, true},
                      AdamCase{4, 4, 512, 256, 13, 37, model::Optimizer::kAdam, 0.05f, true},
                      AdamCase{4, 4, 512, 256, 13, 37, model::Optimizer::kAdamW, 0.05f, true},
                      AdamCase{4, 4, 512, 16, 45, 9, model::Optimizer::kAdamW, 0.05f, true},
                      AdamCase{4, 4, 512, 4, 45, 9, model::Optimizer::kAdam, 0.0f, true},  // 1 set
                      AdamCase{4, 4, 512, 256, 1, 37, model::Optimizer::kAdamW, 0.0f, false},
                      AdamCase{16, 16, 8192, 1024, 784, 128, model::Optimizer::kAdamW, 0.01f,
                               true}));

TEST(AdamUpdate, RejectsStateThatDoesNotMatchTheRule) {
  const spec::DeviceSpec p = params(4, 4, 512, 256);
  const host::MatrixRef m{p.dram_base, 64};
  const model::UpdateRule adam = adam_rule(model::Optimizer::kAdam, 0, 0);
  EXPECT_THROW(host::update_program(p, 3, 7, m, {m, {}, m, {}}, adam), std::invalid_argument);
  EXPECT_THROW(host::update_program(p, 3, 7, m, {m, {}, {}, m}, adam), std::invalid_argument);
  EXPECT_THROW(host::update_program(p, 3, 7, m, {m, {}, m, m}, model::MlpConfig{}.rule_at(0)),
               std::invalid_argument);
  // SGD: a velocity exactly when the rule has momentum (none is ignored).
  model::MlpConfig mom;
  mom.momentum = 0.9f;
  EXPECT_THROW(host::update_program(p, 3, 7, m, {m, {}, {}, {}}, mom.rule_at(0)),
               std::invalid_argument);
  EXPECT_THROW(host::update_program(p, 3, 7, m, {m, {}, m, {}}, model::MlpConfig{}.rule_at(0)),
               std::invalid_argument);
  EXPECT_NO_THROW(host::update_program(p, 3, 7, m, {m, {}, m, {}}, mom.rule_at(0)));
  spec::DeviceSpec small = p;
  small.acc_rows = 3;  // four regions
  EXPECT_THROW(host::update_program(small, 3, 7, m, {m, {}, m, m}, adam), std::invalid_argument);
  EXPECT_THROW(host::gemm_update_options(small, {}, model::Optimizer::kAdamW),
               std::invalid_argument);
  EXPECT_NO_THROW(host::gemm_update_options(small, {}, model::Optimizer::kSgd));
}

// gemm_update_program with Adam / AdamW: the GEMM (with its fold under the
// four regions' limits) followed by model::adam_update, bit for bit.
TEST(AdamUpdate, FusedIntoTheGradientGemm) {
  for (const auto& [df, rr, k, cc, acc, opt] :
       {std::tuple{model::Dataflow::kOs, 13, 9, 37, 256u, model::Optimizer::kAdamW},
        std::tuple{model::Dataflow::kOs, 37, 300, 5, 256u, model::Optimizer::kAdam},  // K > fold
        std::tuple{model::Dataflow::kOs, 45, 17, 9, 16u, model::Optimizer::kAdamW},
        std::tuple{model::Dataflow::kWs, 1, 9, 37, 256u, model::Optimizer::kAdam},  // a bias row
        std::tuple{model::Dataflow::kWs, 45, 17, 9, 16u, model::Optimizer::kAdamW}}) {
    model::FunctionalBackend dev(params(4, 4, 512, acc));
    host::Driver drv(dev);
    const spec::DeviceSpec& p = dev.params();
    std::mt19937 rng(static_cast<unsigned>(rr * 7 + k));
    const bool os = df == model::Dataflow::kOs;
    const model::RawMatrix a = random_bf16(rr, k, rng), b = random_bf16(k, cc, rng);
    const AdamState st = random_adam_state(rr, cc, rng);
    host::Tensor ta = os ? drv.alloc_tensor(k, rr, 2) : drv.alloc_tensor(rr, k, 2);
    host::Tensor tb = drv.alloc_tensor(k, cc, 2), tg = drv.alloc_tensor(rr, cc, 4),
                 tw = drv.alloc_tensor(rr, cc, 4), tm = drv.alloc_tensor(rr, cc, 4),
                 tv = drv.alloc_tensor(rr, cc, 4), tbf = drv.alloc_tensor(rr, cc, 2);
    put(drv, ta, os ? model::transpose(a) : a);
    put(drv, tb, b);
    put(drv, tw, st.w32);
    put(drv, tm, st.m);
    put(drv, tv, st.v);
    host::GemmOptions o = drv.gemm_options();
    o.a_transposed = os;
    const model::UpdateRule rule = adam_rule(opt, 0.05f, 3);
    drv.submit(host::gemm_update_program(
        p, df, static_cast<std::uint64_t>(rr), static_cast<std::uint64_t>(k),
        static_cast<std::uint64_t>(cc), ta.ref(), tb.ref(), tg.ref(), true,
        {tw.ref(), tbf.ref(), tm.ref(), tv.ref()}, rule, o));
    const auto fold = static_cast<Eigen::Index>(host::gemm_program_fold(
        p, df, static_cast<std::uint64_t>(k), host::gemm_update_options(p, o, opt)));
    const model::AccMatrix g = model::gemm(model::Datapath::kBf16, a, b, fold);
    const model::AdamStep s = model::adam_update(st.w32, g, st.m, st.v, rule);
    const std::string where = std::string(os ? "OS " : "WS ") + std::to_string(rr) + "x" +
                              std::to_string(k) + "x" + std::to_string(cc);
    EXPECT_TRUE(same_bits(get_acc(drv, tg), g)) << "g, " << where;
    EXPECT_TRUE(same_bits(get_acc(drv, tw), s.w32)) << "w32, " << where;
    EXPECT_TRUE(same_bits(get_acc(drv, tm), s.m)) << "m, " << where;
    EXPECT_TRUE(same_bits(get_acc(drv, tv), s.v)) << "v, " << where;
    EXPECT_TRUE(same_bits(get_raw(drv, tbf), s.wbf)) << "wbf, " << where;
  }
}

// --- The SGD step fused into a gradient GEMM ----------------------------------------

struct FusedCase {
  unsigned rows, cols, spad, acc;
  model::Dataflow df;
  Eigen::Index r, k, c;  // G = A (r x k) * B (k x c)
  bool momentum, with_bf16, store_g;
};

class GemmSgd : public ::testing::TestWithParam<FusedCase> {};

// gemm_sgd_program equals the GEMM (model::gemm with its fold) followed by the
// SGD step (model::sgd_update / sgd_momentum_update), bit for bit; on OS A is
// given as A^T (the weight gradient's X), on WS as it is. The gradient is
// written only with store_g.
TEST_P(GemmSgd, EqualsTheGemmThenTheStep) {
  const FusedCase c = GetParam();
  model::FunctionalBackend dev(params(c.rows, c.cols, c.spad, c.acc));
  host::Driver drv(dev);
  const spec::DeviceSpec& p = dev.params();
  const unsigned seed = static_cast<unsigned>(c.r * 7 + c.k * 3 + c.c + (c.momentum ? 99 : 0));
  std::mt19937 rng(seed);
  const bool os = c.df == model::Dataflow::kOs;
  const model::RawMatrix a = random_bf16(c.r, c.k, rng), b = random_bf16(c.k, c.c, rng);
  const model::AccMatrix w32 = random_f32(c.r, c.c, rng, 0.1f), v = random_f32(c.r, c.c, rng);
  const model::RawMatrix at = model::transpose(a);
  host::Tensor ta = os ? drv.alloc_tensor(c.k, c.r, 2) : drv.alloc_tensor(c.r, c.k, 2);
  host::Tensor tb = drv.alloc_tensor(c.k, c.c, 2), tg = drv.alloc_tensor(c.r, c.c, 4),
               tw = drv.alloc_tensor(c.r, c.c, 4), tv = drv.alloc_tensor(c.r, c.c, 4),
               tbf = drv.alloc_tensor(c.r, c.c, 2);
  put(drv, ta, os ? at : a);
  put(drv, tb, b);
  put(drv, tw, w32);
  put(drv, tv, v);
  put(drv, tg, model::AccMatrix::Constant(c.r, c.c, 0xDEADBEEFu).eval());
  put(drv, tbf, model::RawMatrix::Constant(c.r, c.c, 0x1234).eval());
  host::GemmOptions o = drv.gemm_options();
  o.a_transposed = os;
  const float lr = 0.05f, mu = 0.9f;
  const auto opt = [](const host::Tensor& t, bool on) {
    return on ? std::optional<host::MatrixRef>(t.ref()) : std::nullopt;
  };
  drv.submit(host::gemm_sgd_program(
      p, c.df, static_cast<std::uint64_t>(c.r), static_cast<std::uint64_t>(c.k),
      static_cast<std::uint64_t>(c.c), ta.ref(), tb.ref(), tg.ref(), c.store_g, tw.ref(),
      opt(tbf, c.with_bf16), lr, opt(tv, c.momentum), mu, o));
  const auto fold = static_cast<Eigen::Index>(host::gemm_program_fold(
      p, c.df, static_cast<std::uint64_t>(c.k), host::gemm_sgd_options(p, o)));
  const model::AccMatrix g = model::gemm(model::Datapath::kBf16, a, b, fold);
  const model::SgdStep s =
      c.momentum ? model::sgd_momentum_update(w32, g, v, lr, mu) : model::sgd_update(w32, g, lr);
  EXPECT_TRUE(same_bits(get_acc(drv, tw), s.w32)) << "w32, seed " << seed;
  if (c.momentum) EXPECT_TRUE(same_bits(get_acc(drv, tv), s.v)) << "v, seed " << seed;
  if (c.with_bf16) {
    EXPECT_TRUE(same_bits(get_raw(drv, tbf), s.wbf)) << "wbf, seed " << seed;
  } else {
    EXPECT_TRUE((get_raw(drv, tbf).array() == 0x1234).all()) << "wbf written";
  }
  if (c.store_g) {
    EXPECT_TRUE(same_bits(get_acc(drv, tg), g)) << "g, seed " << seed;
  } else {
    EXPECT_TRUE((get_acc(drv, tg).array() == 0xDEADBEEFu).all()) << "g written";
  }
}

using model::Dataflow;
INSTANTIATE_TEST_SUITE_P(
    Shapes, GemmSgd,
    ::testing::Values(
        FusedCase{4, 4, 512, 256, Dataflow::kOs, 1, 1, 1, false, true, true},
        FusedCase{4, 4, 512, 256, Dataflow::kOs, 13, 9, 37, false, true, false},
        FusedCase{4, 4, 512, 256, Dataflow::kOs, 13, 9, 37, true, true, true},
        FusedCase{4, 4, 512, 256, Dataflow::kOs, 37, 300, 5, true, false, false},  // K > fold
        FusedCase{4, 4, 512, 16, Dataflow::kOs, 45, 17, 9, true, true, true},      // one acc buffer
        FusedCase{4, 4, 512, 256, Dataflow::kWs, 1, 9, 37, false, false, true},    // a bias row
        FusedCase{4, 4, 512, 256, Dataflow::kWs, 1, 9, 37, true, false, false},
        FusedCase{4, 4, 512, 16, Dataflow::kWs, 45, 17, 9, true, true, true},  // 9 chunks
        FusedCase{16, 16, 8192, 1024, Dataflow::kOs, 784, 32, 128, false, true, false},
        FusedCase{16, 16, 8192, 1024, Dataflow::kOs, 128, 32, 10, true, true, true}));

TEST(GemmSgd, RejectsWhatItCannotPlan) {
  const spec::DeviceSpec p = params(4, 4, 512, 256);
  const host::MatrixRef m{p.dram_base, 64};
  // A^T only on OS; an epilogue never on IS (its blocks are transposed).
  host::GemmOptions t;
  t.a_transposed = true;
  EXPECT_THROW(
      host::gemm_sgd_program(p, Dataflow::kWs, 4, 4, 4, m, m, m, false, m, {}, 0.1f, {}, 0.0f, t),
      std::invalid_argument);
  EXPECT_THROW(
      host::gemm_sgd_program(p, Dataflow::kIs, 4, 4, 4, m, m, m, false, m, {}, 0.1f, {}, 0.0f, {}),
      std::invalid_argument);
  // Three accumulator regions of at least a row, and two scratchpad rows.
  spec::DeviceSpec small = p;
  small.acc_rows = 2;
  EXPECT_THROW(host::gemm_sgd_options(small, {}), std::invalid_argument);
  small = p;
  small.acc_rows = 16;
  small.spad_rows = 1;
  EXPECT_THROW(host::gemm_sgd_options(small, {}), std::invalid_argument);
  const host::GemmOptions o = host::gemm_sgd_options(p, {});
  EXPECT_EQ(o.acc_rows, 256u / 3);
  EXPECT_EQ(o.spad_rows, 512u - 256u / 3);
  // A scratchpad smaller than a third of the accumulator: half of it stages.
  small.spad_rows = 8;
  EXPECT_EQ(host::gemm_sgd_options(small, {}).acc_rows, 4u);
  EXPECT_EQ(host::gemm_sgd_options(small, {}).spad_rows, 4u);
  // The weight gradient's fold: the whole batch when it fits in half the
  // scratchpad the GEMM may use.
  EXPECT_EQ(host::weight_gradient_fold(p, 32), 32u);
  EXPECT_EQ(host::weight_gradient_fold(p, 1000), (512u - 256u / 3) / 2);
}

// The vector unit's AXPY rounds the product, then the sum: the same as two
// separate binary32 operations in C++ (volatile keeps the compiler from fusing
// them into an FMA).
TEST(SgdUpdate, MatchesTwoRoundedFloatOperations) {
  model::FunctionalBackend dev(params(4, 4, 512, 256));
  host::Driver drv(dev);
  const float w0 = 1.0f, g0 = 0.3f, v0 = -0.7f, lr = 0.1f, mu = 0.9f;
  host::Tensor tw = drv.alloc_tensor(1, 1, 4), tg = drv.alloc_tensor(1, 1, 4),
               tv = drv.alloc_tensor(1, 1, 4), tbf = drv.alloc_tensor(1, 1, 2);
  const auto set = [&](const host::Tensor& t, float f) {
    const std::uint32_t b = model::f32_to_bits(f);
    drv.copy_in(t, std::span<const std::uint32_t>(&b, 1));
  };
  const auto read = [&](const host::Tensor& t) {
    std::uint32_t b = 0;
    drv.copy_out(t, std::span<std::uint32_t>(&b, 1));
    return model::bits_to_f32(b);
  };
  set(tw, w0);
  set(tg, g0);
  host::sgd_update(drv, tw, tg, &tbf, lr);
  volatile float prod = -lr * g0;
  volatile float sum = prod + w0;
  EXPECT_EQ(read(tw), sum);
  std::uint16_t bf = 0;
  drv.copy_out(tbf, std::span<std::uint16_t>(&bf, 1));
  EXPECT_EQ(bf, model::f32_to_bf16(sum));

  set(tw, w0);
  set(tv, v0);
  host::sgd_update(drv, tw, tg, nullptr, lr, &tv, mu);
  volatile float mv = mu * v0;
  volatile float v1 = mv + g0;
  volatile float lv = -lr * v1;
  volatile float w1 = lv + w0;
  EXPECT_EQ(read(tv), v1);
  EXPECT_EQ(read(tw), w1);
}

// --- Argument errors ------------------------------------------------------------------

TEST(BackwardKernels, RejectBadArguments) {
  model::FunctionalBackend dev(params(4, 4, 512, 256));
  host::Driver drv(dev);
  const spec::DeviceSpec p = dev.params();
  spec::DeviceSpec p8 = p;
  p8.datapath = model::Datapath::kInt8;
  host::Tensor x = drv.alloc_tensor(3, 5, 2), w = drv.alloc_tensor(5, 7, 2),
               xt = drv.alloc_tensor(5, 3, 2), x4 = drv.alloc_tensor(5, 3, 4),
               dy = drv.alloc_tensor(3, 7, 4), z = drv.alloc_tensor(3, 7, 4),
               dz_bf = drv.alloc_tensor(3, 7, 2), dw = drv.alloc_tensor(5, 7, 4),
               db = drv.alloc_tensor(1, 7, 4), dx = drv.alloc_tensor(3, 5, 4),
               bad = drv.alloc_tensor(4, 7, 4);

  // transpose: shapes, element sizes, overlap, empty.
  EXPECT_THROW(host::transpose(drv, x, w), std::invalid_argument);
  EXPECT_THROW(host::transpose(drv, x, x4), std::invalid_argument);
  EXPECT_THROW(host::transpose(drv, x, host::Tensor::view(x.addr() + 2, 5, 3, 2, 6)),
               std::invalid_argument);
  EXPECT_THROW(host::transpose_program(p, 0, 3, x.ref(), xt.ref()), std::invalid_argument);
  EXPECT_NO_THROW(host::transpose(drv, x, xt));

  // relu_backward: shapes, element sizes, datapath.
  EXPECT_THROW(host::relu_backward(drv, dy, bad, dy, dz_bf), std::invalid_argument);
  EXPECT_THROW(host::relu_backward(drv, dy, z, dy, dy), std::invalid_argument);
  EXPECT_THROW(host::relu_backward_program(p8, 3, 7, dy.ref(), z.ref(), dy.ref(), dz_bf.ref()),
               std::invalid_argument);
  EXPECT_THROW(host::relu_backward_program(p, 3, 0, dy.ref(), z.ref(), dy.ref(), dz_bf.ref()),
               std::invalid_argument);
  EXPECT_THROW(host::to_bf16_program(p8, 3, 7, dy.ref(), dz_bf.ref()), std::invalid_argument);

  // dense_backward: every operand's shape.
  EXPECT_NO_THROW(host::dense_backward(drv, x, w, dy, &z, dw, db, &dx));
  EXPECT_THROW(host::dense_backward(drv, x, w, bad, &z, dw, db, &dx), std::invalid_argument);
  EXPECT_THROW(host::dense_backward(drv, x, w, dy, &bad, dw, db, &dx), std::invalid_argument);
  EXPECT_THROW(host::dense_backward(drv, x, w, dy, &z, bad, db, &dx), std::invalid_argument);
  EXPECT_THROW(host::dense_backward(drv, x, w, dy, &z, dw, dy, &dx), std::invalid_argument);
  EXPECT_THROW(host::dense_backward(drv, x, w, dy, &z, dw, db, &dw), std::invalid_argument);
  EXPECT_THROW(host::dense_backward(drv, x, xt, dy, &z, dw, db, nullptr), std::invalid_argument);
  EXPECT_THROW(host::dense_backward(drv, x4, w, dy, &z, dw, db, nullptr), std::invalid_argument);

  // sgd_update: shapes, element sizes, capacities.
  EXPECT_THROW(host::sgd_update(drv, dy, bad, nullptr, 0.1f), std::invalid_argument);
  EXPECT_THROW(host::sgd_update(drv, dy, z, &dy, 0.1f), std::invalid_argument);
  EXPECT_THROW(host::sgd_update(drv, dy, z, &dz_bf, 0.1f, &bad, 0.9f), std::invalid_argument);
  EXPECT_THROW(host::sgd_update(drv, dz_bf, dz_bf, nullptr, 0.1f), std::invalid_argument);
  spec::DeviceSpec p2 = p;
  p2.acc_rows = 2;  // room for plain SGD, not for momentum
  EXPECT_NO_THROW(host::sgd_update_program(p2, 3, 7, dy.ref(), z.ref(), {}, 0.1f));
  EXPECT_THROW(host::sgd_update_program(p2, 3, 7, dy.ref(), z.ref(), {}, 0.1f, db.ref(), 0.9f),
               std::invalid_argument);
  EXPECT_THROW(host::sgd_update_program(p8, 3, 7, dy.ref(), z.ref(), {}, 0.1f),
               std::invalid_argument);

  // The golden models reject mismatched shapes too.
  const model::AccMatrix a(2, 3), b(3, 2);
  EXPECT_THROW(model::relu_backward(a, b), std::invalid_argument);
  EXPECT_THROW(model::sgd_update(a, b, 0.1f), std::invalid_argument);
  EXPECT_THROW(model::sgd_momentum_update(a, a, b, 0.1f, 0.9f), std::invalid_argument);
  EXPECT_THROW(
      model::dense_backward(model::RawMatrix(2, 3), model::RawMatrix(3, 4), a, nullptr, 4, 4),
      std::invalid_argument);
}

}  // namespace
