// Driver + FunctionalBackend: device memory allocation (alignment, reuse,
// merging, exhaustion messages), pitched tensors, copies (pitch, byte order),
// program submission (words in memory, checks, device errors) and GEMMs on
// tensors and tensor views, bit-exact against model::gemm.
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <functional>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "sasim/host/driver.hpp"
#include "sasim/host/gemm_kernel.hpp"
#include "sasim/isa/encode.hpp"
#include "sasim/model/functional_backend.hpp"
#include "sasim/model/gemm.hpp"

namespace {

using namespace sasim;  // spec, isa, model, mem, cosim, host, app
using model::Dataflow;
using model::Datapath;

constexpr std::uint64_t kBase = 0x8000'0000;

spec::DeviceSpec params(Datapath dp = Datapath::kInt8, std::uint64_t dram = 1 << 16) {
  return spec::device_of(spec::core_of(dp, 4, 4, 256, 64), dram);
}

template <typename E, typename F>
std::string error_of(F f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  }
  return "no exception";
}

void expect_contains(const std::string& msg, std::initializer_list<std::string> parts) {
  for (const std::string& s : parts) {
    EXPECT_NE(msg.find(s), std::string::npos) << "'" << s << "' not in: " << msg;
  }
}

TEST(Driver, AllocatesAlignedBlocksAndReusesFreedMemory) {
  model::FunctionalBackend dev(params());
  host::Driver drv(dev);
  EXPECT_EQ(drv.bytes_free(), 65536u);
  host::DeviceBuffer a = drv.alloc(100);
  EXPECT_TRUE(a);
  EXPECT_EQ(a.addr() % 64, 0u);
  EXPECT_EQ(a.bytes(), 100u);
  host::DeviceBuffer b = drv.alloc(10, 4096);
  EXPECT_EQ(b.addr() % 4096, 0u);
  EXPECT_GE(b.addr(), a.addr() + 100);
  EXPECT_EQ(drv.bytes_free(), 65536u - 110);  // alignment gaps stay free
  const std::uint64_t a_addr = a.addr();
  drv.free(a);
  EXPECT_FALSE(a);
  EXPECT_EQ(drv.alloc(100).addr(), a_addr);  // first fit; freed at once (temporary)
  {
    const host::DeviceBuffer scoped = drv.alloc(1000);
    EXPECT_EQ(drv.bytes_free(), 65536u - 1010);
  }
  EXPECT_EQ(drv.bytes_free(), 65536u - 10);
  // Neighbours merge: two freed 1 KiB blocks hold a 2 KiB one.
  host::DeviceBuffer x = drv.alloc(1024), y = drv.alloc(1024), z = drv.alloc(1024);
  EXPECT_EQ(y.addr(), x.addr() + 1024);
  const std::uint64_t x_addr = x.addr();
  x.reset();
  y.reset();
  EXPECT_EQ(drv.alloc(2048).addr(), x_addr);
  // Moves transfer ownership.
  host::DeviceBuffer moved = std::move(z);
  EXPECT_FALSE(z);  // NOLINT(bugprone-use-after-move): moved-from is empty by contract
  EXPECT_TRUE(moved);
  z = std::move(moved);
  EXPECT_TRUE(z);
  // Buffers may outlive the driver.
  host::DeviceBuffer survivor;
  {
    host::Driver other(dev);
    survivor = other.alloc(64);
  }
  EXPECT_TRUE(survivor);
  survivor.reset();
  EXPECT_FALSE(survivor);
}

TEST(Driver, ExhaustionAndBadArgumentsNameSizes) {
  model::FunctionalBackend dev(params());
  host::Driver drv(dev);
  expect_contains(error_of<host::DeviceOutOfMemory>([&] { (void)drv.alloc(1 << 20); }),
                  {"cannot allocate 1048576 bytes (alignment 64)", "65536 of 65536 bytes free",
                   "largest free block 65536 bytes"});
  const host::DeviceBuffer a = drv.alloc(30000);
  host::DeviceBuffer b = drv.alloc(1000);
  const host::DeviceBuffer c = drv.alloc(30000);
  b.reset();  // free: ~1 KiB between a and c plus the tail, none of them 8000 bytes
  EXPECT_GT(c.addr(), a.addr());
  const std::string msg = error_of<host::DeviceOutOfMemory>([&] { (void)drv.alloc(8000); });
  expect_contains(msg, {"cannot allocate 8000 bytes", std::to_string(drv.bytes_free()) + " of",
                        "largest free block " + std::to_string(drv.largest_free_block())});
  EXPECT_LT(drv.largest_free_block(), 8000u);
  EXPECT_THROW((void)drv.alloc(0), std::invalid_argument);
  EXPECT_THROW((void)drv.alloc(8, 48), std::invalid_argument);
  EXPECT_THROW((host::Driver(dev, {48, true})), std::invalid_argument);
  expect_contains(error_of<host::DeviceOutOfMemory>([&] { (void)drv.alloc_tensor(1000, 1000, 4); }),
                  {"cannot allocate"});
  expect_contains(error_of<host::DeviceOutOfMemory>([&] { (void)drv.alloc_tensor(1, 1 << 20, 4); }),
                  {"exceed the device memory of 65536 bytes"});
}

TEST(Driver, TensorsArePitchedToTheAlignment) {
  model::FunctionalBackend dev(params());
  host::Driver drv(dev);
  host::Tensor t = drv.alloc_tensor(3, 5, 2);
  EXPECT_TRUE(t.owns_memory());
  EXPECT_EQ(t.addr() % 64, 0u);
  EXPECT_EQ(t.rows(), 3u);
  EXPECT_EQ(t.cols(), 5u);
  EXPECT_EQ(t.elem_bytes(), 2u);
  EXPECT_EQ(t.row_bytes(), 10u);
  EXPECT_EQ(t.pitch(), 64u);
  EXPECT_EQ(t.span_bytes(), 138u);
  EXPECT_EQ(drv.alloc_tensor(2, 64, 1).pitch(), 64u);
  EXPECT_EQ(drv.alloc_tensor(2, 65, 1).pitch(), 128u);
  host::Driver tight(dev, {16, true});
  EXPECT_EQ(tight.alloc_tensor(2, 5, 2).pitch(), 16u);
  // Views own nothing and check their arguments.
  const host::Tensor v = t.view();
  EXPECT_FALSE(v.owns_memory());
  EXPECT_EQ(v.addr(), t.addr());
  EXPECT_EQ(v.pitch(), 64u);
  EXPECT_THROW(host::Tensor::view(kBase, 2, 5, 2, 9), std::invalid_argument);
  EXPECT_NO_THROW(host::Tensor::view(kBase, 1, 5, 2, 0));  // one row: the pitch is unused
  EXPECT_THROW(host::Tensor::view(kBase, 2, 5, 3, 64), std::invalid_argument);
  EXPECT_THROW(host::Tensor::view(kBase, 0, 5, 2, 64), std::invalid_argument);
  host::Tensor vv = t.view();
  EXPECT_THROW(drv.free(vv), std::invalid_argument);
  const std::uint64_t before = drv.bytes_free();
  drv.free(t);
  EXPECT_FALSE(t.owns_memory());
  EXPECT_EQ(t.rows(), 0u);
  EXPECT_EQ(drv.bytes_free(), before + 138);
}

TEST(Driver, CopiesRespectThePitchAndTheByteOrder) {
  model::FunctionalBackend dev(params());
  host::Driver drv(dev);
  const std::vector<std::uint8_t> fill(65536, 0xEE);
  dev.write(kBase, fill.data(), fill.size());
  auto raw = [&](std::uint64_t addr, std::uint64_t n) {
    std::vector<std::uint8_t> v(n);
    dev.read(addr, v.data(), n);
    return v;
  };

  const host::Tensor h = drv.alloc_tensor(3, 5, 2);
  std::vector<std::uint16_t> in16(15);
  for (unsigned i = 0; i < 15; ++i) in16[i] = static_cast<std::uint16_t>(0x0100 * (i + 1) + i);
  drv.copy_in(h, in16);
  for (unsigned r = 0; r < 3; ++r) {
    const std::vector<std::uint8_t> row = raw(h.addr() + r * 64, 64);
    for (unsigned c = 0; c < 5; ++c) {
      EXPECT_EQ(row[2 * c], 5 * r + c) << r << "," << c;          // low byte first
      EXPECT_EQ(row[2 * c + 1], 5 * r + c + 1) << r << "," << c;  // then the high byte
    }
    for (unsigned b = 10; b < 64 && r < 2; ++b) EXPECT_EQ(row[b], 0xEE) << "gap " << r << "," << b;
  }
  std::vector<std::uint16_t> out16(15);
  drv.copy_out(h, out16);
  EXPECT_EQ(out16, in16);

  const host::Tensor b8 = drv.alloc_tensor(2, 3, 1);
  const std::vector<std::int8_t> in8{-1, -128, 127, 0, 1, -2};
  drv.copy_in(b8, in8);
  EXPECT_EQ(raw(b8.addr(), 3), (std::vector<std::uint8_t>{0xFF, 0x80, 0x7F}));
  EXPECT_EQ(raw(b8.addr() + 64, 3), (std::vector<std::uint8_t>{0x00, 0x01, 0xFE}));
  std::vector<std::int8_t> out8(6);
  drv.copy_out(b8, out8);
  EXPECT_EQ(out8, in8);
  std::vector<std::uint8_t> outu8(6);
  drv.copy_out(b8, outu8);
  EXPECT_EQ(outu8, (std::vector<std::uint8_t>{0xFF, 0x80, 0x7F, 0x00, 0x01, 0xFE}));
  drv.copy_in(b8, std::vector<std::uint8_t>{9, 8, 7, 6, 5, 4});
  EXPECT_EQ(raw(b8.addr() + 64, 3), (std::vector<std::uint8_t>{6, 5, 4}));

  const host::Tensor w = drv.alloc_tensor(1, 2, 4);
  drv.copy_in(w, std::vector<std::uint32_t>{0x11223344u, 0xA0B0C0D0u});
  EXPECT_EQ(raw(w.addr(), 8),
            (std::vector<std::uint8_t>{0x44, 0x33, 0x22, 0x11, 0xD0, 0xC0, 0xB0, 0xA0}));
  std::vector<std::uint32_t> out32(2);
  drv.copy_out(w, out32);
  EXPECT_EQ(out32, (std::vector<std::uint32_t>{0x11223344u, 0xA0B0C0D0u}));

  expect_contains(
      error_of<std::invalid_argument>([&] { drv.copy_in(h, std::vector<std::uint16_t>(14)); }),
      {"copy_in: 14 elements of 2 bytes for a 3 x 5 tensor of 2-byte elements"});
  expect_contains(
      error_of<std::invalid_argument>([&] { drv.copy_in(h, std::vector<std::uint32_t>(15)); }),
      {"15 elements of 4 bytes"});
  expect_contains(error_of<std::invalid_argument>([&] {
                    std::vector<std::int8_t> v(15);
                    drv.copy_out(h, v);
                  }),
                  {"copy_out: 15 elements of 1 bytes"});
}

// Forwards to a FunctionalBackend and records the last run's arguments.
class Recorder final : public spec::DeviceBackend {
 public:
  explicit Recorder(const spec::DeviceSpec& p) : inner_(p) {}
  const spec::DeviceSpec& params() const override { return inner_.params(); }
  void write(std::uint64_t a, const std::uint8_t* d, std::uint64_t n) override {
    inner_.write(a, d, n);
  }
  void read(std::uint64_t a, std::uint8_t* d, std::uint64_t n) override { inner_.read(a, d, n); }
  spec::RunResult run(std::uint64_t prog_addr, std::uint64_t n) override {
    last_addr = prog_addr;
    last_n = n;
    words.assign(n * 16, 0);
    inner_.read(prog_addr, words.data(), n * 16);
    return inner_.run(prog_addr, n);
  }
  model::FunctionalBackend& inner() { return inner_; }
  std::uint64_t last_addr = 0, last_n = 0;
  std::vector<std::uint8_t> words;  // the program's bytes at run time

 private:
  model::FunctionalBackend inner_;
};

TEST(Driver, SubmitWritesLittleEndianWordsAndRunsThem) {
  Recorder dev(params());
  host::Driver drv(dev);
  const std::uint64_t free_before = drv.bytes_free();
  const std::vector<isa::Instruction> prog{isa::encode_config(5), isa::encode_finish()};
  const spec::RunResult r = drv.submit(prog);
  EXPECT_EQ(r.instructions(), 2u);
  EXPECT_EQ(r.cycles, 0u);
  EXPECT_EQ(r.counters.at("core.insn_exec"), 1u);  // CONFIG
  EXPECT_EQ(r.counters.at("core.insn_ctrl"), 1u);  // FINISH
  EXPECT_EQ(r.counters.at("core.array_steps"), 0u);
  EXPECT_EQ(dev.inner().device().int8_shift(), 5u);
  EXPECT_EQ(dev.last_n, 2u);
  EXPECT_EQ(dev.last_addr % 16, 0u);
  ASSERT_EQ(dev.words.size(), 32u);
  for (std::size_t i = 0; i < 2; ++i) {
    for (unsigned w = 0; w < 2; ++w) {
      std::uint64_t v = 0;
      for (unsigned b = 0; b < 8; ++b) {
        v |= std::uint64_t{dev.words[i * 16 + w * 8 + b]} << (8 * b);
      }
      EXPECT_EQ(v, prog[i].words[w]) << "instruction " << i << " word " << w;
    }
  }
  EXPECT_EQ(drv.bytes_free(), free_before);  // the program area is freed
  EXPECT_THROW((void)drv.submit({}), std::invalid_argument);
}

TEST(Driver, RejectsRacyProgramsAndReportsDeviceErrors) {
  model::FunctionalBackend dev(params());
  host::Driver drv(dev);
  const std::vector<isa::Instruction> racy{
      isa::encode_load({isa::Sram::kSpad, false, 0, 4, 4, kBase, 4}),
      isa::encode_gemm({isa::Dataflow::kWs, false, false, 0, 0, 0, 4, 0}), isa::encode_finish()};
  expect_contains(error_of<std::invalid_argument>([&] { (void)drv.submit(racy); }),
                  {"not race free", "race: instruction 1 (GEMM)"});
  host::Driver unchecked(dev, {64, false});
  EXPECT_EQ(unchecked.submit(racy).instructions(), 3u);  // sequential: fine functionally
  expect_contains(error_of<spec::DeviceError>([&] {
                    (void)unchecked.submit({isa::encode_config(1), isa::Instruction{}});
                  }),
                  {"functional device: instruction 1 (?): opcode"});
  expect_contains(
      error_of<spec::DeviceError>([&] { (void)unchecked.submit({isa::encode_config(1)}); }),
      {"without FINISH"});
  expect_contains(error_of<std::invalid_argument>([&] {
                    (void)drv.submit({isa::encode_config(1), isa::Instruction{}});
                  }),
                  {"illegal opcode"});
  EXPECT_THROW((void)dev.run(kBase, 0), std::invalid_argument);
  EXPECT_THROW((void)dev.run(kBase + 65536 - 8, 1), std::invalid_argument);
}

template <typename T>
std::vector<T> host_vector(const model::RawMatrix& m) {
  std::vector<T> v;
  for (Eigen::Index r = 0; r < m.rows(); ++r) {
    for (Eigen::Index c = 0; c < m.cols(); ++c) v.push_back(static_cast<T>(m(r, c)));
  }
  return v;
}

void copy_operand(host::Driver& drv, const host::Tensor& t, Datapath dp,
                  const model::RawMatrix& m) {
  if (dp == Datapath::kInt8) {
    drv.copy_in(t, host_vector<std::uint8_t>(m));
  } else {
    drv.copy_in(t, host_vector<std::uint16_t>(m));
  }
}

void expect_equal(const std::vector<std::uint32_t>& got, const model::AccMatrix& want,
                  std::uint64_t cols) {
  int bad = 0;
  for (Eigen::Index m = 0; m < want.rows(); ++m) {
    for (Eigen::Index n = 0; n < want.cols(); ++n) {
      const std::uint32_t v = got[static_cast<std::size_t>(m) * cols + static_cast<std::size_t>(n)];
      if (v != want(m, n) && ++bad <= 5) {
        ADD_FAILURE() << "C[" << m << "][" << n << "] = " << std::hex << v << ", want "
                      << want(m, n);
      }
    }
  }
  EXPECT_EQ(bad, 0);
}

TEST(Driver, GemmOnTensorsIsBitExact) {
  std::uint64_t seed = 500;
  for (Datapath dp : {Datapath::kInt8, Datapath::kBf16}) {
    for (Dataflow df : {Dataflow::kWs, Dataflow::kOs, Dataflow::kIs}) {
      SCOPED_TRACE(std::string(model::to_string(dp)) + " " + std::string(model::to_string(df)) +
                   " seed " + std::to_string(seed + 1));
      model::FunctionalBackend dev(params(dp, 1 << 20));
      host::Driver drv(dev);
      std::mt19937_64 rng(++seed);
      const unsigned M = 37, K = 29, N = 19;  // K % 4 != 0: the zero region is used
      const model::RawMatrix a =
          model::random_operands(dp, M, K, rng, model::OperandMix::kSpecials);
      const model::RawMatrix b =
          model::random_operands(dp, K, N, rng, model::OperandMix::kSpecials);
      const std::uint64_t eb = dp == Datapath::kBf16 ? 2 : 1;
      const host::Tensor ta = drv.alloc_tensor(M, K, eb), tb = drv.alloc_tensor(K, N, eb);
      const host::Tensor tc = drv.alloc_tensor(M, N, 4);
      copy_operand(drv, ta, dp, a);
      copy_operand(drv, tb, dp, b);
      const spec::RunResult r = drv.gemm(df, ta, tb, tc);
      // The EXEC queue ran the plan's GEMMs and, when the plan zeroes the pad
      // columns of X (bf16 WS/IS with K % R != 0), the one VEC that orders the
      // zero-fill LOADs before them.
      const host::GemmPlan plan = host::gemm_plan(dev.params(), df, M, K, N);
      EXPECT_EQ(r.counters.at("core.insn_exec"), plan.gemms() + (plan.zero_x_pad ? 1 : 0));
      EXPECT_EQ(r.counters.at("core.insn_ctrl"), 1u);
      std::vector<std::uint32_t> got(std::size_t{M} * N);
      drv.copy_out(tc, got);
      const auto fold = static_cast<Eigen::Index>(host::gemm_program_fold(dev.params(), df, K));
      expect_equal(got, model::gemm(dp, a, b, fold), N);
    }
  }
}

TEST(Driver, GemmOnViewsOfLargerTensors) {
  // A = columns 3..3+K of a wider tensor; C = the left N columns of a wider
  // result whose other columns must stay untouched.
  model::FunctionalBackend dev(params(Datapath::kBf16, 1 << 20));
  host::Driver drv(dev);
  std::mt19937_64 rng(77);
  const unsigned M = 21, K = 10, N = 9;
  const model::RawMatrix wide = model::random_operands(Datapath::kBf16, M, K + 5, rng);
  const model::RawMatrix b = model::random_operands(Datapath::kBf16, K, N, rng);
  const host::Tensor twide = drv.alloc_tensor(M, K + 5, 2), tb = drv.alloc_tensor(K, N, 2);
  const host::Tensor tcw = drv.alloc_tensor(M, N + 4, 4);
  copy_operand(drv, twide, Datapath::kBf16, wide);
  copy_operand(drv, tb, Datapath::kBf16, b);
  const std::vector<std::uint32_t> sentinel(std::size_t{M} * (N + 4), 0xDEADBEEFu);
  drv.copy_in(tcw, sentinel);
  const host::Tensor a = host::Tensor::view(twide.addr() + 3 * 2, M, K, 2, twide.pitch());
  const host::Tensor c = host::Tensor::view(tcw.addr(), M, N, 4, tcw.pitch());
  drv.gemm(Dataflow::kWs, a, tb, c);
  std::vector<std::uint32_t> got(std::size_t{M} * (N + 4));
  drv.copy_out(tcw, got);
  const model::RawMatrix a_host = wide.middleCols(3, K);
  const model::AccMatrix want = model::gemm(Datapath::kBf16, a_host, b, 4);
  expect_equal(got, want, N + 4);
  for (unsigned m = 0; m < M; ++m) {
    for (unsigned n = N; n < N + 4; ++n) EXPECT_EQ(got[m * (N + 4) + n], 0xDEADBEEFu) << m << n;
  }
}

TEST(Driver, GemmRejectsMismatchedTensors) {
  model::FunctionalBackend dev(params());
  host::Driver drv(dev);
  const host::Tensor a = drv.alloc_tensor(4, 6, 1), b = drv.alloc_tensor(6, 5, 1);
  const host::Tensor c = drv.alloc_tensor(4, 5, 4), c2 = drv.alloc_tensor(4, 5, 2);
  const host::Tensor b_bad = drv.alloc_tensor(5, 5, 1);
  EXPECT_NO_THROW(drv.gemm(Dataflow::kWs, a, b, c));
  expect_contains(
      error_of<std::invalid_argument>([&] { (void)drv.gemm(Dataflow::kWs, a, b_bad, c); }),
      {"A 4 x 6 (1-byte elements), B 5 x 5 (1-byte elements), C 4 x 5 (4-byte elements)"});
  EXPECT_THROW((void)drv.gemm(Dataflow::kWs, a, b, c2), std::invalid_argument);
  EXPECT_THROW((void)drv.gemm(Dataflow::kWs, a, b, a), std::invalid_argument);
  const host::Tensor bf = drv.alloc_tensor(6, 5, 2);
  EXPECT_THROW((void)drv.gemm(Dataflow::kWs, a, bf, c), std::invalid_argument);
  // C overlapping A: the kernel's check, through the driver.
  const host::Tensor c_on_a = host::Tensor::view(a.addr(), 4, 5, 4, a.pitch());
  expect_contains(
      error_of<std::invalid_argument>([&] { (void)drv.gemm(Dataflow::kWs, a, b, c_on_a); }),
      {"C overlaps A or B"});
}

}  // namespace
