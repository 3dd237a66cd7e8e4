// The vector unit (rtl/sa_vpu.sv) against the golden model, bit-exactly:
// every output lane == sasim::model::vec_lane(dp, op, x, b, imm, shift), and
// the tag comes back with its row, in order.
//
// Vsa_vpu_int8 / Vsa_vpu_bf16 are sa_vpu verilated with Lanes=8 and
// -GDatapath=0 / 1. Rows mix edge-case lane values (zeros, subnormals,
// infinities, NaNs, int32 limits, rounding ties of TO_BF16 and TO_INT8,
// products at the under- and overflow boundaries, cancelling sums) with
// random bits. Handshakes have random valid/ready gaps; every cycle checks the
// timing contract against a scoreboard of accepted rows:
//   out_valid_o == (a row is in flight && the oldest was accepted >= 2 cycles ago)
//   in_ready_o  == (fewer than 2 rows in flight || out_ready_i)
// i.e. latency exactly 2 and no bubbles (one row per cycle at full rate).
// Random tests use one seed, printed with every failure; set SASIM_TEST_SEED
// (decimal or 0x-hex) to run them with another one.
#include <gtest/gtest.h>
#include <verilated.h>

#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "Vsa_vpu_bf16.h"
#include "Vsa_vpu_int8.h"
#include "sasim/model/numerics.hpp"
#include "sasim/model/vector.hpp"
#include "sasim/spec/contract.hpp"
#include "support/rtl_unit.hpp"

namespace {

using sasim::isa::VecOp;
using sasim::model::Datapath;
using u32 = std::uint32_t;
using u64 = std::uint64_t;

constexpr unsigned kLanes = 8;
constexpr unsigned kLatency = 2;  // documented in rtl/sa_vpu.sv
constexpr unsigned kStages = 2;   // rows the pipeline holds
using Row = std::array<u32, kLanes>;

constexpr const auto& kAllOps = sasim::isa::kAllVecOps;

u64 test_seed() { return sasim::test::test_seed(u64{0x5A51'3AC0'0000'0007ull}); }

using sasim::test::hex;

std::string op_name(VecOp op) { return std::string(sasim::isa::name_of(op)); }

// One input row with its instruction fields and the expected result.
struct Item {
  VecOp op;
  u32 imm;
  unsigned shift;
  Row x, b;
  std::uint16_t tag;
  Row want;
};

// ---------------------------------------------------------------------------
// Stimulus
// ---------------------------------------------------------------------------
constexpr u32 fp32(u32 sign, u32 exp, u32 frac) {
  return (sign << 31) | ((exp & 0xFFu) << 23) | (frac & 0x7FFFFFu);
}
constexpr unsigned fp32_exp(u32 x) { return (x >> 23) & 0xFFu; }

// Magnitudes of special binary32 lane values (used with both signs).
constexpr u32 kFpSpecials[] = {
    0x00000000, 0x00000001, 0x00000002, 0x00000003, 0x00008000,
    0x00018000,  // zero, subnormals
    0x00400000, 0x00400001, 0x007FFFFF, 0x00800000, 0x00800001,
    0x00FFFFFF,  // ..., min normal
    0x33800000, 0x34000000, 0x3F000000, 0x3F7FFFFF, 0x3F800000,
    0x3F800001,  // 2^-24, 2^-23, 0.5, 1
    0x3F800800, 0x3F801000, 0x3F807FFF, 0x3F808000, 0x3F808001,
    0x3F818000,  // bf16 ties
    0x3FC00000, 0x40000000, 0x40400000, 0x4B000000, 0x5F800000,
    0x7F000000,                                                  // 1.5, 2, 3, 2^23, 2^64
    0x7F7F7FFF, 0x7F7F8000, 0x7F7FFFFF, 0x7F800000,              // max normal, inf
    0x7F800001, 0x7FA00000, 0x7FC00000, 0x7FC00001, 0x7FFFFFFF,  // NaNs
};

// Special int32 lane values.
constexpr u32 kIntSpecials[] = {
    0x00000000, 0x00000001, 0xFFFFFFFF, 0x00000002, 0xFFFFFFFE, 0x0000007F, 0x00000080,
    0xFFFFFF80, 0xFFFFFF7F, 0x000000FF, 0x00000100, 0x7FFFFFFF, 0x80000000, 0x80000001,
    0x7FFFFFFE, 0x40000000, 0xC0000000, 0x3FFFFFFF, 0xBFFFFFFF, 0x40000001, 0x00008000,
    0xFFFF8000, 0x00007F80, 0x00010000, 0x0000FFFF, 0x00007FFF,
};

class Gen {
 public:
  Gen(Datapath dp, u64 seed) : dp_{dp}, rng_{seed} {}

  u32 bits() { return static_cast<u32>(rng_()); }
  unsigned below(unsigned n) { return static_cast<unsigned>(rng_() % n); }
  bool coin(unsigned one_in) { return below(one_in) == 0; }

  u32 fp_special() {
    return kFpSpecials[below(std::size(kFpSpecials))] | (coin(2) ? 0x80000000u : 0u);
  }
  u32 int_special() { return kIntSpecials[below(std::size(kIntSpecials))]; }
  u32 special() {
    // Lanes of the other datapath's kind now and then (the conversions act on
    // the bits whatever the datapath).
    const bool fp = (dp_ == Datapath::kBf16) ? !coin(6) : coin(6);
    return fp ? fp_special() : int_special();
  }
  // A finite binary32 value with exponent field e (clamped to 0..254), random
  // fraction, sometimes with trailing zeros (more exact results and ties).
  u32 fp_at(u32 sign, int e) {
    u32 f = bits();
    if (coin(3)) f &= ~((u32{1} << below(24)) - 1);
    return fp32(sign, static_cast<u32>(e < 0 ? 0 : (e > 254 ? 254 : e)), f);
  }

  u32 imm(VecOp op) {
    switch (below(4)) {
      case 0:
        return special();
      case 1:
        return bits();
      default:
        break;
    }
    if (dp_ == Datapath::kBf16 || op == VecOp::kToBf16)
      return fp_at(bits() & 1, 100 + static_cast<int>(below(55)));
    return static_cast<u32>(static_cast<int>(below(2001)) - 1000);
  }

  unsigned shift() { return coin(2) ? below(32) : below(12); }

  // One lane's (x, b) for op; imm and shift are the row's.
  void lane(VecOp op, u32 imm, unsigned shift, u32& x, u32& b) {
    const unsigned cls = below(8);
    if (cls == 0) {
      x = special();
      b = special();
      return;
    }
    if (cls == 1) {
      x = bits();
      b = bits();
      return;
    }
    b = coin(3) ? special() : bits();
    const bool fp = dp_ == Datapath::kBf16;
    switch (op) {
      case VecOp::kAddRow:
        if (fp) {  // b near x: cancellation, carries, every alignment shift
          x = fp_at(bits() & 1, static_cast<int>(below(256)));
          const int d = coin(2) ? static_cast<int>(below(7)) - 3 : static_cast<int>(below(61)) - 30;
          b = coin(4) ? (x ^ 0x80000000u) + (bits() % 5) - 2
                      : fp_at(coin(4) ? x >> 31 : !(x >> 31), static_cast<int>(fp32_exp(x)) + d);
        } else {  // around the wrap points
          x = coin(2) ? 0x7FFFFFFFu - (bits() & 0xFFFF) : bits();
          b = coin(2) ? (bits() & 0x1FFFF) : bits();
        }
        return;
      case VecOp::kScale:
      case VecOp::kAxpy:
        if (fp) {
          // Exponent of x chosen so that the product's exponent lands in a
          // region of interest: deep underflow, the subnormal range and its
          // border, normal, the overflow border.
          const int ei = fp32_exp(imm) == 0 ? 1 : static_cast<int>(fp32_exp(imm));
          int target;
          switch (below(4)) {
            case 0:
              target = static_cast<int>(below(30)) - 25;
              break;  // -25..4
            case 1:
              target = 250 + static_cast<int>(below(8));
              break;  // 250..257
            case 2:
              target = static_cast<int>(below(254)) + 1;
              break;
            default:
              target = -60 + static_cast<int>(below(30));
              break;  // total underflow, subnormal x
          }
          x = fp_at(bits() & 1, target - ei + 127);
          if (coin(8)) x &= 0x807FFFFFu;  // subnormal x
          if (op == VecOp::kAxpy) {
            const u32 p = sasim::model::fp32_mul(imm, x);
            if (coin(2) && fp32_exp(p) != 0xFF) {  // b near -p: cancellation of the rounded product
              b = (p ^ 0x80000000u) + (bits() % 5) - 2;
              if (fp32_exp(b) != fp32_exp(p)) b = p ^ 0x80000000u;
            } else {
              b = fp_at(bits() & 1, static_cast<int>(fp32_exp(p)) + static_cast<int>(below(9)) - 4);
            }
          }
        } else {
          x = coin(2) ? bits() : static_cast<u32>(static_cast<int>(below(2001)) - 1000);
          b = coin(2) ? bits() : static_cast<u32>(static_cast<int>(below(2001)) - 1000);
        }
        return;
      case VecOp::kRelu:
      case VecOp::kReluMask:
        // Small magnitudes of both signs (and their zeros) for x and b.
        x = fp ? fp_at(bits() & 1, static_cast<int>(below(4)))
               : static_cast<u32>(static_cast<int>(below(7)) - 3);
        b = fp ? (coin(2) ? fp_at(bits() & 1, static_cast<int>(below(3))) : (bits() & 0x80000001u))
               : static_cast<u32>(static_cast<int>(below(5)) - 2);
        if (coin(2)) std::swap(x, b);
        return;
      case VecOp::kToBf16: {
        constexpr u32 lows[] = {0x8000, 0x7FFF, 0x8001, 0x0000, 0xFFFF};
        x = (bits() & 0xFFFF0000u) | (coin(5) ? (bits() & 0xFFFF) : lows[below(5)]);
        return;
      }
      case VecOp::kToInt8: {
        // Ties and their neighbours: (k << shift) + half + {-1, 0, +1}.
        const auto k = static_cast<std::int64_t>(static_cast<int>(below(321)) - 160);
        const std::int64_t half = shift == 0 ? 0 : (std::int64_t{1} << (shift - 1));
        const std::int64_t v = (k << shift) + half + (static_cast<int>(below(3)) - 1);
        x = coin(4) ? bits() : static_cast<u32>(static_cast<std::int32_t>(static_cast<u64>(v)));
        return;
      }
      case VecOp::kCopy:
        x = coin(2) ? special() : bits();
        return;
      case VecOp::kMul:
        if (fp) {  // the product's exponent in a region of interest (as SCALE)
          const int eb = 1 + static_cast<int>(below(254));
          b = fp_at(bits() & 1, eb);
          if (coin(8)) b &= 0x807FFFFFu;
          x = fp_at(bits() & 1, exponent_target() - eb + 127);
          if (coin(8)) x &= 0x807FFFFFu;
        } else {
          x = coin(2) ? bits() : static_cast<u32>(static_cast<int>(below(2001)) - 1000);
          b = coin(2) ? bits() : static_cast<u32>(static_cast<int>(below(2001)) - 1000);
        }
        return;
      case VecOp::kDiv:  // binary32 on both datapaths
        quotient(x, b);
        return;
      case VecOp::kSqrt:
        x = fp_at(coin(8), static_cast<int>(below(255)));
        if (coin(4)) x &= 0x807FFFFFu;                    // subnormal
        if (coin(4)) x &= 0xFF800000u | (bits() & 0x7u);  // a power of two and just above
        return;
      case VecOp::kAddImm:
        if (fp) {  // x near imm: cancellation, carries, alignment shifts
          const int d = coin(2) ? static_cast<int>(below(7)) - 3 : static_cast<int>(below(61)) - 30;
          x = coin(4) ? (imm ^ 0x80000000u) + (bits() % 5) - 2
                      : fp_at(bits() & 1, static_cast<int>(fp32_exp(imm)) + d);
        } else {
          x = coin(2) ? 0x7FFFFFFFu - (bits() & 0xFFFF) : bits();
        }
        return;
    }
  }

  // A result exponent field of interest: total underflow, the subnormal range
  // and its border, normal, the overflow border.
  int exponent_target() {
    switch (below(4)) {
      case 0:
        return static_cast<int>(below(30)) - 25;  // -25..4
      case 1:
        return 250 + static_cast<int>(below(8));  // 250..257
      case 2:
        return static_cast<int>(below(254)) + 1;
      default:
        return -60 + static_cast<int>(below(30));
    }
  }

  // DIV operands whose quotient's exponent lands on exponent_target(), either
  // one subnormal now and then; exact quotients (b a power of two, or x a
  // small multiple of b) and ties into the subnormals come up too.
  void quotient(u32& x, u32& b) {
    const int eb = 1 + static_cast<int>(below(254));
    b = fp_at(bits() & 1, eb);
    if (coin(8)) b &= 0x807FFFFFu;
    if (coin(6)) b &= 0xFF800000u;  // a power of two
    x = fp_at(bits() & 1, exponent_target() + eb - 127);
    if (coin(8)) x &= 0x807FFFFFu;
    if (coin(8)) x = sasim::model::fp32_mul(b, fp32(0, 127 + below(3), bits() & 0x7F0000u));
  }

  Item item(VecOp op, std::uint16_t tag) {
    Item it{};
    it.op = op;
    it.imm = imm(op);
    it.shift = shift();
    it.tag = tag;
    for (unsigned l = 0; l < kLanes; ++l) {
      lane(op, it.imm, it.shift, it.x[l], it.b[l]);
      it.want[l] = sasim::model::vec_lane(dp_, op, it.x[l], it.b[l], it.imm, it.shift);
    }
    return it;
  }

  std::vector<Item> items(const std::vector<VecOp>& ops, unsigned rows_per_op, bool mixed) {
    std::vector<Item> v;
    v.reserve(ops.size() * rows_per_op);
    for (unsigned i = 0; i < ops.size() * rows_per_op; ++i) {
      const VecOp op = mixed ? ops[below(static_cast<unsigned>(ops.size()))] : ops[i / rows_per_op];
      v.push_back(item(op, static_cast<std::uint16_t>(bits())));
    }
    return v;
  }

 private:
  Datapath dp_;
  std::mt19937_64 rng_;
};

// ---------------------------------------------------------------------------
// Driver and scoreboard
// ---------------------------------------------------------------------------
template <class Model>
class VpuBench {
 public:
  explicit VpuBench(u64 seed)
      : unit_("sa_vpu", /*fatal=*/false),  // a failed SVA fails the test (gotError)
        rng_{seed ^ 0x9E3779B97F4A7C15ull} {
    top_->in_valid_i = 0;
    top_->out_ready_i = 0;
    unit_.reset();
  }

  struct Stats {
    u64 cycles = 0;
    u64 rows = 0;
    u64 lanes = 0;
  };

  // Streams `items` through the unit, offering a row with probability
  // p_valid per cycle (held until taken) and raising out_ready_i with
  // probability p_ready. Checks every row, tag and the cycle-level contract.
  ::testing::AssertionResult run(const std::vector<Item>& items, double p_valid, double p_ready,
                                 Stats& st) {
    std::uniform_real_distribution<double> u(0, 1);
    struct InFlight {
      std::size_t idx;
      u64 accepted;
    };
    std::deque<InFlight> flight;
    std::size_t next = 0;
    std::size_t done = 0;
    bool offering = false;
    const u64 limit =
        64 + static_cast<u64>(static_cast<double>(items.size()) * 4.0 / std::min(p_valid, p_ready));
    for (u64 cycle = 0; done < items.size(); ++cycle) {
      if (cycle > limit) return fail(cycle, "timeout: " + std::to_string(done) + " rows done");
      if (!offering && next < items.size() && u(rng_) < p_valid) offering = true;
      const bool ready = u(rng_) < p_ready;
      drive(offering ? &items[next] : nullptr);
      top_->out_ready_i = ready;
      top_->clk_i = 0;
      top_->eval();

      // Timing contract.
      const bool want_valid = !flight.empty() && flight.front().accepted + kLatency <= cycle;
      const bool want_ready = flight.size() < kStages || ready;
      if ((top_->out_valid_o != 0) != want_valid) {
        return fail(cycle, std::string("out_valid_o is ") + (top_->out_valid_o ? "1" : "0") +
                               " with " + std::to_string(flight.size()) + " rows in flight");
      }
      if ((top_->in_ready_o != 0) != want_ready) {
        return fail(cycle, std::string("in_ready_o is ") + (top_->in_ready_o ? "1" : "0") +
                               " with " + std::to_string(flight.size()) +
                               " rows in flight, out_ready_i " + (ready ? "1" : "0"));
      }
      // Output handshake: result row and tag.
      if (top_->out_valid_o && ready) {
        const Item& it = items[flight.front().idx];
        if (top_->out_tag_o != it.tag) {
          return fail(cycle, "tag " + hex(top_->out_tag_o, 4) + ", expected " + hex(it.tag, 4) +
                                 " (row " + std::to_string(flight.front().idx) + ")");
        }
        for (unsigned l = 0; l < kLanes; ++l) {
          const u32 got = top_->out_row_o[l];
          if (got != it.want[l]) {
            return fail(cycle, op_name(it.op) + " row " + std::to_string(flight.front().idx) +
                                   " lane " + std::to_string(l) + ": x=" + hex(it.x[l]) +
                                   " b=" + hex(it.b[l]) + " imm=" + hex(it.imm) +
                                   " shift=" + std::to_string(it.shift) + ": expected " +
                                   hex(it.want[l]) + " got " + hex(got));
          }
        }
        flight.pop_front();
        ++done;
        st.lanes += kLanes;
      }
      // Input handshake.
      if (offering && top_->in_ready_o) {
        flight.push_back({next, cycle});
        ++next;
        offering = false;
      }
      top_->clk_i = 1;
      top_->eval();
      if (unit_.ctx->gotError()) return fail(cycle, "assertion failed in sa_vpu");
      ++st.cycles;
    }
    st.rows += items.size();
    return ::testing::AssertionSuccess();
  }

 private:
  // Drives the input ports: the row offered, or random bits with valid low
  // (the unit must ignore them).
  void drive(const Item* it) {
    top_->in_valid_i = it != nullptr;
    if (it != nullptr) {
      top_->in_op_i = static_cast<std::uint8_t>(it->op);
      top_->in_imm_i = it->imm;
      top_->in_shift_i = static_cast<std::uint8_t>(it->shift);
      top_->in_tag_i = it->tag;
      for (unsigned l = 0; l < kLanes; ++l) {
        top_->in_x_i[l] = it->x[l];
        top_->in_b_i[l] = it->b[l];
      }
    } else {
      top_->in_op_i = static_cast<std::uint8_t>(rng_() & 0xF);
      top_->in_imm_i = static_cast<u32>(rng_());
      top_->in_shift_i = static_cast<std::uint8_t>(rng_() & 0x1F);
      top_->in_tag_i = static_cast<std::uint16_t>(rng_());
      for (unsigned l = 0; l < kLanes; ++l) {
        top_->in_x_i[l] = static_cast<u32>(rng_());
        top_->in_b_i[l] = static_cast<u32>(rng_());
      }
    }
  }

  ::testing::AssertionResult fail(u64 cycle, const std::string& what) const {
    return ::testing::AssertionFailure()
           << "cycle " << cycle << ": " << what << " (seed " << hex(test_seed(), 16) << ")";
  }

  sasim::test::RtlUnit<Model> unit_;
  Model* const top_ = unit_.top.get();
  std::mt19937_64 rng_;
};

template <class Model>
using Stats = typename VpuBench<Model>::Stats;

void report(const char* what, u64 rows, u64 lanes, u64 cycles) {
  std::printf("[   info   ] %s: %llu rows, %llu lanes, %llu cycles, seed %s\n", what,
              static_cast<unsigned long long>(rows), static_cast<unsigned long long>(lanes),
              static_cast<unsigned long long>(cycles), hex(test_seed(), 16).c_str());
}

// Handshake patterns: (p_valid, p_ready).
constexpr std::pair<double, double> kGaps[] = {{1.0, 1.0}, {0.7, 0.6}, {0.3, 0.9}, {0.95, 0.25}};

// Under every handshake pattern: every op in turn, `rows` rows each, or
// (mixed) a random op per row, `rows` / 8 rows in all (ops of different kinds
// back to back in the pipeline).
template <class Model>
void op_sequences(Datapath dp, unsigned rows, bool mixed, u64 salt, const char* what) {
  Gen gen{dp, test_seed() ^ salt};
  VpuBench<Model> bench{test_seed() ^ salt};
  Stats<Model> st;
  const std::vector<VecOp> ops(std::begin(kAllOps), std::end(kAllOps));
  for (const auto& [pv, pr] : kGaps) {
    const auto items = gen.items(ops, mixed ? rows / 8 : rows, mixed);
    ASSERT_TRUE(bench.run(items, pv, pr, st)) << "p_valid " << pv << " p_ready " << pr;
  }
  report(what, st.rows, st.lanes, st.cycles);
}

// Valid and ready always high: a row enters and leaves every cycle, so N
// rows take N + latency cycles (the per-cycle contract is checked as well).
template <class Model>
void full_rate(Datapath dp, u64 salt) {
  Gen gen{dp, test_seed() ^ salt};
  const std::vector<VecOp> ops(std::begin(kAllOps), std::end(kAllOps));
  for (const unsigned n : {1u, 2u, 3u, 1000u}) {
    VpuBench<Model> bench{test_seed() ^ salt};
    Stats<Model> st;
    const auto items = gen.items(ops, n, true);
    ASSERT_TRUE(bench.run(items, 1.0, 1.0, st));
    EXPECT_EQ(st.cycles, st.rows + kLatency) << "rows " << st.rows;
  }
}

// The binary32 multiplier (sa_arith_pkg::fp32_mul) through SCALE and AXPY:
// product exponents swept from total underflow through the subnormal range
// to beyond overflow, random significands (some with trailing zeros: exact
// products and ties), either operand subnormal now and then.
TEST(VectorUnitRtl, bf16_product_exponent_sweep) {
  Gen gen{Datapath::kBf16, test_seed() ^ 0x41};
  VpuBench<Vsa_vpu_bf16> bench{test_seed() ^ 0x41};
  VpuBench<Vsa_vpu_bf16>::Stats st;
  std::vector<Item> items;
  for (int target = -60; target <= 260; ++target) {
    for (int r = 0; r < 256; ++r) {
      Item it{};
      it.op = gen.coin(2) ? VecOp::kScale : VecOp::kAxpy;
      const int ei = 1 + static_cast<int>(gen.below(254));
      it.imm = gen.fp_at(gen.bits() & 1, ei);
      if (gen.coin(16)) it.imm &= 0x807FFFFFu;
      it.shift = gen.below(32);
      it.tag = static_cast<std::uint16_t>(gen.bits());
      for (unsigned l = 0; l < kLanes; ++l) {
        it.x[l] = gen.fp_at(gen.bits() & 1, target - ei + 127);
        if (gen.coin(16)) it.x[l] &= 0x807FFFFFu;
        it.b[l] = gen.coin(2)
                      ? 0u
                      : gen.fp_at(gen.bits() & 1, target + static_cast<int>(gen.below(5)) - 2);
        it.want[l] =
            sasim::model::vec_lane(Datapath::kBf16, it.op, it.x[l], it.b[l], it.imm, it.shift);
      }
      items.push_back(it);
    }
  }
  ASSERT_TRUE(bench.run(items, 1.0, 1.0, st));
  report("bf16_product_exponent_sweep", st.rows, st.lanes, st.cycles);
}

// The divider and square root (sa_arith_pkg::fp32_div, fp32_sqrt): quotient
// exponents swept from total underflow through the subnormal range to beyond
// overflow, either operand subnormal now and then; square roots of every
// exponent field, subnormals and negatives included. On both datapaths (DIV
// and SQRT are binary32 operations on either).
template <class Model>
void quotient_and_root_sweep(Datapath dp, u64 salt, const char* what) {
  Gen gen{dp, test_seed() ^ salt};
  VpuBench<Model> bench{test_seed() ^ salt};
  typename VpuBench<Model>::Stats st;
  std::vector<Item> items;
  for (int target = -60; target <= 260; ++target) {
    for (int r = 0; r < 64; ++r) {
      Item it{};
      it.op = r % 4 == 0 ? VecOp::kSqrt : VecOp::kDiv;
      it.imm = gen.bits();
      it.shift = gen.below(32);
      it.tag = static_cast<std::uint16_t>(gen.bits());
      for (unsigned l = 0; l < kLanes; ++l) {
        if (it.op == VecOp::kSqrt) {
          it.x[l] = gen.fp_at(gen.coin(16), target);
          if (gen.coin(8)) it.x[l] &= 0x807FFFFFu;
          it.b[l] = gen.bits();
        } else {
          const int eb = 1 + static_cast<int>(gen.below(254));
          it.b[l] = gen.fp_at(gen.bits() & 1, eb);
          if (gen.coin(16)) it.b[l] &= 0x807FFFFFu;
          it.x[l] = gen.fp_at(gen.bits() & 1, target + eb - 127);
          if (gen.coin(16)) it.x[l] &= 0x807FFFFFu;
        }
        it.want[l] = sasim::model::vec_lane(dp, it.op, it.x[l], it.b[l], it.imm, it.shift);
      }
      items.push_back(it);
    }
  }
  ASSERT_TRUE(bench.run(items, 1.0, 1.0, st));
  report(what, st.rows, st.lanes, st.cycles);
}

TEST(VectorUnitRtl, bf16_quotient_and_root_sweep) {
  quotient_and_root_sweep<Vsa_vpu_bf16>(Datapath::kBf16, 0x43, "bf16_quotient_and_root_sweep");
}
TEST(VectorUnitRtl, int8_quotient_and_root_sweep) {
  quotient_and_root_sweep<Vsa_vpu_int8>(Datapath::kInt8, 0x44, "int8_quotient_and_root_sweep");
}

// The SVA catch protocol errors of the producer: a payload (row or tag) that
// changes while valid && !ready, and an op outside the ISA's vec_op enum.
TEST(VectorUnitRtl, assertions_flag_protocol_errors) {
  for (const int which : {0, 1, 2, 3}) {
    sasim::test::RtlUnit<Vsa_vpu_bf16> unit("sa_vpu", /*fatal=*/false);
    Vsa_vpu_bf16* const top = unit.top.get();
    VerilatedContext* const ctx = unit.ctx.get();
    auto tick = [&] {
      top->clk_i = 0;
      top->eval();
      top->clk_i = 1;
      top->eval();
    };
    top->in_valid_i = 0;
    top->out_ready_i = 0;
    unit.reset();
    top->in_op_i = static_cast<std::uint8_t>(VecOp::kAddRow);
    top->in_valid_i = 1;
    if (which < 3) {
      for (int c = 0; c < 4; ++c) tick();  // two rows taken, the third one waits
      top->clk_i = 0;
      top->eval();
      ASSERT_FALSE(top->in_ready_o);
      ASSERT_FALSE(ctx->gotError());
      if (which == 1) top->in_x_i[3] ^= 1u;     // row changes
      if (which == 2) top->in_tag_i ^= 0x100u;  // tag changes
    } else {
      top->out_ready_i = 1;
      top->in_op_i = 12;  // not a vec_op, offered to an empty unit
    }
    tick();
    tick();
    // Case 0 holds the payload: no error.
    EXPECT_EQ(ctx->gotError(), which != 0) << "case " << which;
  }
}

TEST(VectorUnitRtl, int8_every_op) {
  op_sequences<Vsa_vpu_int8>(Datapath::kInt8, 4000, false, 0x11, "int8_every_op");
}
TEST(VectorUnitRtl, bf16_every_op) {
  op_sequences<Vsa_vpu_bf16>(Datapath::kBf16, 8000, false, 0x12, "bf16_every_op");
}
TEST(VectorUnitRtl, int8_mixed_ops) {
  op_sequences<Vsa_vpu_int8>(Datapath::kInt8, 16000, true, 0x21, "int8_mixed_ops");
}
TEST(VectorUnitRtl, bf16_mixed_ops) {
  op_sequences<Vsa_vpu_bf16>(Datapath::kBf16, 16000, true, 0x22, "bf16_mixed_ops");
}
TEST(VectorUnitRtl, int8_latency_and_full_rate) { full_rate<Vsa_vpu_int8>(Datapath::kInt8, 0x31); }
TEST(VectorUnitRtl, bf16_latency_and_full_rate) { full_rate<Vsa_vpu_bf16>(Datapath::kBf16, 0x32); }

}  // namespace
