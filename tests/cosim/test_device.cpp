// The whole device end to end: the verilated core (sa_core) behind the RTL <->
// TLM bridge and the SystemC memory system (interconnect, L2, DRAM), driven
// by firmware programs. Every result is compared bit for bit with the
// FunctionalDevice (the instruction-level golden model) running the same
// program; lock-step and temporally decoupled co-simulation must agree cycle
// for cycle; malformed and hung programs end in clear errors.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "sasim/cosim/device.hpp"
#include "sasim/host/driver.hpp"
#include "sasim/host/gemm_kernel.hpp"
#include "sasim/host/mlp_kernels.hpp"
#include "sasim/isa/encode.hpp"
#include "sasim/model/functional_device.hpp"
#include "sasim/model/numerics.hpp"
#include "sasim/model/train_golden.hpp"
#include "support/device_pair.hpp"
#include "support/gemm_case.hpp"
#include "support/sc_test.hpp"

namespace {

using namespace sasim;  // spec, isa, model, mem, cosim, host, app
using model::Dataflow;
using model::Datapath;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::ThrowsMessage;
using Pair = test::DevicePair;

cosim::DeviceConfig config(Datapath dp, bool big = false) {
  cosim::DeviceConfig c;
  c.core = big ? spec::core_of(dp, 16, 16, 8192, 1024, 16) : spec::core_of(dp, 4, 4, 512, 256, 16);
  c.memory.memory.size = std::uint64_t{64} << 20;
  return c;
}

class DeviceGemm : public ::testing::TestWithParam<test::GemmCase> {};

// Random operands through LOAD / GEMM / STORE on RTL + SystemC, bit-exact.
TEST_P(DeviceGemm, BitExactAgainstGoldenDevice) {
  const test::GemmCase g = GetParam();
  Pair p(config(g.dp));
  std::mt19937 rng(g.m * 7 + g.k * 131 + g.n);
  const unsigned eb = g.dp == Datapath::kBf16 ? 2 : 1;
  const std::uint64_t a = p.base, b = p.base + (8 << 20), c = p.base + (16 << 20);
  p.random(a, std::uint64_t{g.m} * g.k * eb, rng);
  p.random(b, std::uint64_t{g.k} * g.n * eb, rng);
  host::GemmOptions opt;
  opt.zero_addr = p.base + (40 << 20);  // never written: zeros
  const auto prog = host::gemm_program(p.dev.params(), g.df, g.m, g.k, g.n, a, b, c, opt);
  const spec::RunResult r = p.run(prog);
  p.expect_same(c, std::uint64_t{g.m} * g.n * 4);
  EXPECT_GT(r.cycles, 0u);
  EXPECT_EQ(r.counters.at("core.cycles") + 1, r.cycles);  // the start cycle is not counted
  EXPECT_GT(r.counters.at("device.bridge.reads"), 0u);
}

// 300x200x13: A is over 4x the scratchpad.
INSTANTIATE_TEST_SUITE_P(
    Shapes, DeviceGemm,
    ::testing::ValuesIn(test::gemm_cases({"int8 ws 1x1x1", "int8 ws 31x17x13", "int8 ws 300x200x13",
                                          "int8 os 23x29x7", "int8 is 7x29x23", "bf16 ws 1x1x1",
                                          "bf16 ws 31x17x13", "bf16 os 23x29x7", "bf16 is 7x29x23",
                                          "bf16 ws 97x211x37"})),
    test::gemm_case_name);

// Lock-step (one SystemC wait per cycle) and temporal decoupling give the
// same cycle count and counters, for DRAM with the L2 and for the L2 bypassed.
TEST(Device, DecoupledEqualsLockstep) {
  for (bool bypass : {false, true}) {
    std::vector<spec::RunResult> r;
    for (bool lockstep : {true, false}) {
      cosim::DeviceConfig c = config(Datapath::kInt8);
      c.lockstep = lockstep;
      c.memory.l2.bypass = bypass;
      Pair p(c);
      std::mt19937 rng(5);
      p.random(p.base, 40 * 50, rng);
      p.random(p.base + (8 << 20), 50 * 30, rng);
      host::GemmOptions opt;
      opt.zero_addr = p.base + (40 << 20);
      r.push_back(p.run(host::gemm_program(p.dev.params(), Dataflow::kWs, 40, 50, 30, p.base,
                                           p.base + (8 << 20), p.base + (16 << 20), opt)));
      p.expect_same(p.base + (16 << 20), 40 * 30 * 4);
    }
    EXPECT_EQ(r[0].cycles, r[1].cycles) << "bypass " << bypass;
    for (const auto& [name, v] : r[0].counters) {
      if (name.find("bridge.sync") != std::string::npos) continue;  // differs by design
      EXPECT_EQ(v, r[1].counters.at(name)) << name << " bypass " << bypass;
    }
    // Dense one-beat traffic keeps transactions in flight most of the time;
    // the decoupled run still skips at least a quarter of the waits.
    EXPECT_LT(r[1].counters.at("device.bridge.syncs") * 4,
              r[0].counters.at("device.bridge.syncs") * 3)
        << "bypass " << bypass;
  }
}

// STOREs to the same bytes without a token between them: the store DMA
// starts each STORE while the one before waits for its write responses, so
// several writes to one line are in flight in the memory system at once;
// memory must end as the program order says (the golden device), through the
// L2 and with the L2 bypassed, and the overlap must show: fewer cycles than
// the same STOREs each waiting for the one before (a token chain through EXEC).
TEST(Device, StoresToTheSameBytesLandInProgramOrder) {
  for (bool bypass : {false, true}) {
    std::uint64_t cycles[2] = {0, 0};
    for (bool chained : {false, true}) {
      cosim::DeviceConfig c = config(Datapath::kBf16);
      c.memory.l2.bypass = bypass;
      Pair p(c);
      std::mt19937 rng(bypass ? 41 : 42);
      const std::uint64_t src = p.base + 4096, dst = p.base + (1 << 20) + 8;
      p.random(src, 32 * 16, rng);
      p.random(dst - 64, 1024, rng);
      const auto store = [&](unsigned row, unsigned rows, unsigned cols, std::uint64_t at,
                             std::uint64_t stride, bool first, bool last) {
        // Chained: each STORE waits for a token that EXEC relays from the one before.
        const isa::Deps d{first || chained, false, chained && !last, false};
        return isa::encode_store({isa::Sram::kAcc, false, row, rows, cols, at, stride}, d);
      };
      std::vector<isa::Instruction> prog = {
          isa::encode_load({isa::Sram::kAcc, false, 0, 32, 4, src, 16},
                           {false, false, false, true}),
          isa::encode_config(0, {true, false, false, true})};
      const std::vector<std::array<std::uint64_t, 5>> stores = {{0, 16, 4, dst, 24},
                                                                {16, 16, 3, dst + 4, 24},
                                                                {8, 1, 4, dst + 24, 16},
                                                                {20, 12, 4, dst + 40, 24}};
      for (std::size_t i = 0; i < stores.size(); ++i) {
        const auto& s = stores[i];
        const bool last = i + 1 == stores.size();
        prog.push_back(
            store(unsigned(s[0]), unsigned(s[1]), unsigned(s[2]), s[3], s[4], i == 0, last));
        if (chained && !last) prog.push_back(isa::encode_config(0, {false, true, false, true}));
      }
      prog.push_back(isa::encode_finish());
      cycles[chained] = p.run(prog).cycles;
      p.expect_same(dst - 64, 1024);
    }
    EXPECT_LT(cycles[0], cycles[1]) << "bypass " << bypass;
  }
}

// A program that waits for a token nobody sends: the watchdog ends the run
// and the message shows where the queues wait.
TEST(Device, WatchdogCatchesHungProgram) {
  cosim::DeviceConfig c = config(Datapath::kInt8);
  c.watchdog_cycles = 2000;
  Pair p(c);
  isa::GemmArgs g;
  g.len = 4;
  EXPECT_THAT([&] { p.dev.run(p.base, 0); },
              ThrowsMessage<std::invalid_argument>(HasSubstr("program length 0")));
  const auto w =
      isa::program_bytes({isa::encode_gemm(g, {true, false, false, false}), isa::encode_finish()});
  p.dev.write(p.base, w.data(), w.size());
  EXPECT_THAT([&] { p.dev.run(p.base, 2); }, ThrowsMessage<spec::DeviceError>(AllOf(
                                                 HasSubstr("watchdog: no progress for 2000 cycles"),
                                                 HasSubstr("EXEC from LOAD 1"))));
}

// Malformed programs: the core stops at the offending instruction.
TEST(Device, RejectsMalformedPrograms) {
  Pair p(config(Datapath::kInt8));
  isa::Instruction zero;
  const auto w = isa::program_bytes({isa::encode_config(0), zero, isa::encode_finish()});
  p.dev.write(p.base, w.data(), w.size());
  EXPECT_THAT([&] { p.dev.run(p.base, 3); },
              ThrowsMessage<spec::DeviceError>(AllOf(HasSubstr("illegal instruction"),
                                                     HasSubstr("instruction 1 of the program"))));
  // The device keeps working after an error.
  const auto ok = isa::program_bytes({isa::encode_config(3), isa::encode_finish()});
  p.dev.write(p.base, ok.data(), ok.size());
  EXPECT_NO_THROW(p.dev.run(p.base, 2));
}

// One program with every opcode, every VEC operation and all three
// dataflows: the two devices agree on memory, counter names, the functional
// counters and the instruction count (FINISH included).
TEST(Device, FunctionalAndCosimReportTheSameCounters) {
  for (Datapath dp : {Datapath::kInt8, Datapath::kBf16}) {
    Pair p(config(dp));
    std::mt19937 rng(dp == Datapath::kInt8 ? 5 : 6);
    const unsigned eb = dp == Datapath::kBf16 ? 2 : 1;
    const std::uint64_t in = p.base, out = p.base + (1 << 20);
    p.random(in, 4096, rng);
    // LOADs -> (token) GEMMs and VECs in the EXEC queue -> (token) STOREs of
    // every row written (the RTL's SRAMs are not reset, the golden's are zero).
    std::vector<isa::Instruction> prog = {
        isa::encode_load({isa::Sram::kSpad, false, 0, 12, 4, in, 4 * eb}),
        isa::encode_load({isa::Sram::kAcc, false, 32, 8, 4, in + 256, 16}, {.push_next = true}),
        isa::encode_config(2, {.pop_prev = true}),
        isa::encode_gemm({Dataflow::kWs, false, false, 0, 4, 0, 8, 0}),
        isa::encode_gemm({Dataflow::kIs, false, false, 0, 4, 0, 8, 8}),
        isa::encode_gemm({Dataflow::kOs, false, false, 0, 0, 4, 7, 16})};
    for (const isa::VecOp op : isa::kAllVecOps) {
      const bool to_spad = op == isa::VecOp::kToBf16 || op == isa::VecOp::kToInt8;
      prog.push_back(isa::encode_vec({op, to_spad ? isa::Sram::kSpad : isa::Sram::kAcc, 0, 32,
                                      to_spad ? 20u : 40u, 3, 0x3f800000}));
    }
    prog.push_back(
        isa::encode_vec({isa::VecOp::kCopy, isa::Sram::kAcc, 0, 0, 48, 4, 0}, {.push_next = true}));
    prog.push_back(
        isa::encode_store({isa::Sram::kAcc, false, 0, 20, 4, out, 16}, {.pop_prev = true}));
    prog.push_back(isa::encode_store({isa::Sram::kAcc, false, 40, 3, 4, out + 320, 16}));
    prog.push_back(isa::encode_store({isa::Sram::kAcc, false, 48, 4, 4, out + 368, 16}));
    prog.push_back(isa::encode_store({isa::Sram::kSpad, false, 20, 3, 4, out + 432, 4 * eb}));
    prog.push_back(isa::encode_finish());
    const spec::RunResult r = p.run(prog);  // compares the counters
    p.expect_same(out, 432 + 12 * eb);
    EXPECT_EQ(r.counters.at("core.array_steps"), 8u + 8u + 7u);
    constexpr std::uint64_t kOps = std::size(isa::kAllVecOps);
    EXPECT_EQ(r.counters.at("core.vec_rows"), kOps * 3 + 4);
    EXPECT_EQ(r.counters.at("core.insn_exec"), 1u + 3 + kOps + 1);  // CONFIG, GEMMs, VECs, COPY
    EXPECT_EQ(r.counters.at("core.insn_store"), 4u);
  }
}

// The bf16 RTL device with its driver, and random operands drawn in order
// from one generator, for the dense-layer tests.
struct LayerBench {
  explicit LayerBench(unsigned seed) : rng(seed) {}

  // A matrix of random bf16 values (RawMatrix) or fp32 bit patterns (AccMatrix).
  template <typename Matrix>
  Matrix random(Eigen::Index rows, Eigen::Index cols) {
    Matrix m(rows, cols);
    for (Eigen::Index i = 0; i < m.size(); ++i) {
      const float f = d(rng);
      m.data()[i] =
          sizeof(typename Matrix::Scalar) == 2 ? model::f32_to_bf16(f) : model::f32_to_bits(f);
    }
    return m;
  }
  // A device tensor holding m.
  template <typename Matrix>
  host::Tensor put(const Matrix& m) {
    using T = typename Matrix::Scalar;
    host::Tensor t = drv.alloc_tensor(m.rows(), m.cols(), sizeof(T));
    drv.copy_in(t, std::span<const T>(m.data(), m.size()));
    return t;
  }
  // The rows x cols tensor t read back.
  template <typename Matrix>
  Matrix get(const host::Tensor& t, Eigen::Index rows, Eigen::Index cols) {
    Matrix m(rows, cols);
    drv.copy_out(t, std::span<typename Matrix::Scalar>(m.data(), m.size()));
    return m;
  }
  // The fold the host GEMM programs use (what the golden models need).
  Eigen::Index fold(Eigen::Index k) const {
    return static_cast<Eigen::Index>(host::gemm_program_fold(dev.params(), Dataflow::kWs, k));
  }

  int systemc = (sasim::mem::test::fresh_systemc(), 0);  // before the device
  cosim::CosimDevice dev{config(Datapath::kBf16)};
  host::Driver drv{dev};
  std::mt19937 rng;
  std::normal_distribution<float> d{0.0f, 0.5f};
};

// A dense layer of the training milestone (GEMM, bias, ReLU, bf16 copy) on
// the RTL device through the host driver, bit-exact against the golden model.
TEST(Device, DenseLayerForwardMatchesGolden) {
  LayerBench b(9);
  const Eigen::Index M = 19, K = 37, N = 11;
  const auto x = b.random<model::RawMatrix>(M, K);
  const auto w = b.random<model::RawMatrix>(K, N);
  const auto bias_m = b.random<model::AccMatrix>(1, N);
  const std::vector<std::uint32_t> bias(bias_m.data(), bias_m.data() + N);
  const host::Tensor tx = b.put(x), tw = b.put(w), tb = b.put(bias_m);
  const host::Tensor tz = b.drv.alloc_tensor(M, N, 4), ty = b.drv.alloc_tensor(M, N, 2);
  const spec::RunResult r = host::dense_forward(b.drv, tx, tw, tb, tz, ty, true);
  EXPECT_GT(r.cycles, 0u);
  EXPECT_GT(r.counters.at("core.vec_rows"), 0u);
  const model::BiasAct g = model::dense_forward(x, w, bias, true, b.fold(K));
  EXPECT_TRUE((b.get<model::AccMatrix>(tz, M, N).array() == g.z.array()).all());
  EXPECT_TRUE((b.get<model::RawMatrix>(ty, M, N).array() == g.y.array()).all());
}

// The backward pass (ReLU mask, the W^T transpose, dW on OS, db, dX) and an SGD
// step with momentum on the RTL device, bit-exact against the golden models.
TEST(Device, DenseLayerBackwardAndUpdateMatchGolden) {
  LayerBench b(10);
  const Eigen::Index M = 9, K = 11, N = 6;
  const auto x = b.random<model::RawMatrix>(M, K);
  const auto w = b.random<model::RawMatrix>(K, N);
  const auto dy = b.random<model::AccMatrix>(M, N);
  const auto z = b.random<model::AccMatrix>(M, N);
  const auto w32 = b.random<model::AccMatrix>(K, N);
  const auto v = b.random<model::AccMatrix>(K, N);
  const host::Tensor tx = b.put(x), tw = b.put(w), tdy = b.put(dy), tz = b.put(z),
                     tw32 = b.put(w32), tv = b.put(v);
  host::Driver& drv = b.drv;
  const host::Tensor tdw = drv.alloc_tensor(K, N, 4), tdb = drv.alloc_tensor(1, N, 4),
                     tdx = drv.alloc_tensor(M, K, 4), twbf = drv.alloc_tensor(K, N, 2);
  host::dense_backward(drv, tx, tw, tdy, &tz, tdw, tdb, &tdx);
  const float lr = 0.05f, mu = 0.9f;
  host::sgd_update(drv, tw32, tdw, &twbf, lr, &tv, mu);

  const model::DenseGrads g = model::dense_backward(
      x, w, dy, &z, b.fold(K),
      static_cast<Eigen::Index>(host::weight_gradient_fold(b.dev.params(), M)));
  const model::SgdStep s = model::sgd_momentum_update(w32, g.dw, v, lr, mu);
  const auto out32 = [&](const host::Tensor& t, Eigen::Index r, Eigen::Index c) {
    return b.get<model::AccMatrix>(t, r, c);
  };
  EXPECT_TRUE((out32(tdw, K, N).array() == g.dw.array()).all()) << "dW";
  EXPECT_TRUE((out32(tdb, 1, N).array() == g.db.array()).all()) << "db";
  EXPECT_TRUE((out32(tdx, M, K).array() == g.dx.array()).all()) << "dX";
  EXPECT_TRUE((out32(tw32, K, N).array() == s.w32.array()).all()) << "W (fp32 master)";
  EXPECT_TRUE((out32(tv, K, N).array() == s.v.array()).all()) << "velocity";
  EXPECT_TRUE((b.get<model::RawMatrix>(twbf, K, N).array() == s.wbf.array()).all())
      << "W (bf16 copy)";
}

}  // namespace
