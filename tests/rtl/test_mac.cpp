// The PE arithmetic unit (rtl/sa_mac.sv, i.e. the sa_arith_pkg functions the
// array uses) against the golden scalar semantics, bit-exactly:
//   prod_o == sasim::model::mul(dp, a, b)
//   acc_o  == sasim::model::add(dp, acc, mul(dp, a, b))
//
// Vsa_mac_int8 / Vsa_mac_bf16 are sa_mac verilated with -GDatapath=0 / 1.
// Random tests use one seed, printed with every failure; set SASIM_TEST_SEED
// (decimal or 0x-hex) to run them with another one.
//
// The adder is only reachable as acc + product, so its second operand is
// always a bf16 product (at most 16 significant bits, or a rounded subnormal);
// the first one (acc) covers all of binary32. The adder swaps its operands by
// magnitude, so each of its internal roles still sees full 24-bit significands.
#include <gtest/gtest.h>
#include <verilated.h>

#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "Vsa_mac_bf16.h"
#include "Vsa_mac_int8.h"
#include "sasim/model/numerics.hpp"
#include "support/rtl_unit.hpp"

namespace {

using sasim::model::Datapath;
using u16 = std::uint16_t;
using u32 = std::uint32_t;
using u64 = std::uint64_t;

u64 test_seed() { return sasim::test::test_seed(u64{0x5A51'3AC0'0000'0001ull}); }

using sasim::test::hex;

// One verilated sa_mac with its own context.
template <class Model>
class MacDut {
 public:
  MacDut() : unit_("sa_mac") {}

  struct Out {
    u32 prod;
    u32 acc;
  };
  Out eval(u16 a, u16 b, u32 acc) {
    top_->a_i = static_cast<std::remove_reference_t<decltype(top_->a_i)>>(a);
    top_->b_i = static_cast<std::remove_reference_t<decltype(top_->b_i)>>(b);
    top_->acc_i = acc;
    top_->eval();
    return {top_->prod_o, top_->acc_o};
  }

 private:
  sasim::test::RtlUnit<Model> unit_;
  Model* const top_ = unit_.top.get();
};

// Drives a DUT and compares every case with the golden model; keeps the count
// and the first mismatch.
template <class Model>
class Checker {
 public:
  explicit Checker(Datapath dp) : dp_{dp} {}

  void check(u16 a, u16 b, u32 acc) {
    const auto got = dut_.eval(a, b, acc);
    const u32 want_prod = sasim::model::mul(dp_, a, b);
    const u32 want_acc = sasim::model::add(dp_, acc, want_prod);
    ++cases_;
    if (got.prod != want_prod || got.acc != want_acc) {
      if (mismatches_++ == 0) {
        const int w = dp_ == Datapath::kBf16 ? 4 : 2;
        first_ = "a=" + hex(a, w) + " b=" + hex(b, w) + " acc_i=" + hex(acc, 8) +
                 ": prod expected " + hex(want_prod, 8) + " got " + hex(got.prod, 8) +
                 ", acc expected " + hex(want_acc, 8) + " got " + hex(got.acc, 8);
      }
    }
  }

  u64 cases() const { return cases_; }

  // Pass/fail with the seed and the first mismatch.
  ::testing::AssertionResult result() const {
    if (mismatches_ == 0) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure()
           << mismatches_ << " of " << cases_ << " cases mismatch (seed " << hex(test_seed(), 16)
           << "); first: " << first_;
  }

 private:
  Datapath dp_;
  MacDut<Model> dut_;
  u64 cases_ = 0;
  u64 mismatches_ = 0;
  std::string first_;
};

using Int8Checker = Checker<Vsa_mac_int8>;
using Bf16Checker = Checker<Vsa_mac_bf16>;

void report(const char* what, u64 cases) {
  std::printf("[   info   ] %s: %llu cases, seed %s\n", what,
              static_cast<unsigned long long>(cases), hex(test_seed(), 16).c_str());
}

// ---------------------------------------------------------------------------
// bf16 / binary32 encodings
// ---------------------------------------------------------------------------
constexpr u16 bf16(unsigned sign, unsigned exp, unsigned frac) {
  return static_cast<u16>((sign << 15) | ((exp & 0xFFu) << 7) | (frac & 0x7Fu));
}
constexpr u32 fp32(unsigned sign, unsigned exp, u32 frac) {
  return (u32{sign} << 31) | ((u32{exp} & 0xFFu) << 23) | (frac & 0x7FFFFFu);
}
constexpr unsigned fp32_exp(u32 x) { return (x >> 23) & 0xFFu; }

// Both signs of every special class of bf16 operand.
std::vector<u16> bf16_specials() {
  const u16 mags[] = {
      0x0000,                                  // zero
      0x0001, 0x0002, 0x0003, 0x0040, 0x0041,  // subnormals: min, small, half-way
      0x0055, 0x007E, 0x007F,                  // subnormal max
      0x0080, 0x0081, 0x00C0, 0x00FF,          // normal min and just above
      0x0D80, 0x0DC0, 0x1A00, 0x1AC0,          // 2^-100, 1.5*2^-100, 2^-75, 1.5*2^-74
      0x1F80, 0x1FFF, 0x2000, 0x2040,          // around 2^-64 (squares hit 2^-128)
      0x3F00, 0x3F80, 0x3F81, 0x3FC0, 0x3FFF,  // 0.5, 1.0, 1+ulp, 1.5, 2-ulp
      0x4000, 0x4040,                          // 2, 3
      0x5F00, 0x5F7F, 0x5F80, 0x5FFF,          // around 2^64 (squares hit 2^128)
      0x7F00, 0x7F7E, 0x7F7F,                  // 2^127, normal max
      0x7F80,                                  // inf
      0x7F81, 0x7FA0, 0x7FC0, 0x7FFF,          // NaNs (signalling and quiet)
  };
  std::vector<u16> v;
  for (const u16 m : mags) {
    v.push_back(m);
    v.push_back(static_cast<u16>(m | 0x8000u));
  }
  return v;
}

// Both signs of every special class of binary32 accumulator.
std::vector<u32> fp32_specials() {
  const u32 mags[] = {
      0x00000000,                          // zero
      0x00000001, 0x00000002, 0x00000003,  // subnormal min, ...
      0x00400000, 0x00400001, 0x007FFFFF,  // ..., subnormal max
      0x00800000, 0x00800001, 0x00FFFFFF,  // normal min, ...
      0x01000000, 0x0C800000,              // 2^-125, 2^-102
      0x33800000, 0x34000000,              // 2^-24, 2^-23
      0x3F000000, 0x3F7FFFFF, 0x3F800000,  // 0.5, 1-ulp/2, 1.0
      0x3F800001, 0x3FBFFFFF, 0x3FC00000,  // 1+ulp, 1.5-ulp, 1.5
      0x3FFFFFFF, 0x40000000, 0x4B800000,  // 2-ulp, 2, 2^24
      0x4B7FFFFF, 0x5F800000,              // 2^24-1, 2^64
      0x7F000000, 0x7F7FFFFE, 0x7F7FFFFF,  // 2^127, normal max
      0x7F800000,                          // inf
      0x7F800001, 0x7FA00000, 0x7FC00000,  // NaNs
      0x7FC00001, 0x7FFFFFFF,
  };
  std::vector<u32> v;
  for (const u32 m : mags) {
    v.push_back(m);
    v.push_back(m | 0x80000000u);
  }
  return v;
}

// ---------------------------------------------------------------------------
// int8
// ---------------------------------------------------------------------------
TEST(Mac, int8_exhaustive) {
  std::mt19937_64 rng{test_seed()};
  // Accumulators around zero and the int32 limits: products (|p| <= 2^14)
  // wrap from either limit.
  std::vector<u32> accs = {0x00000000, 0x00000001, 0xFFFFFFFF, 0x7FFFFFFF,
                           0x80000000, 0x7FFFC000, 0x80003FFF, 0x7FFFFFF0};
  for (int i = 0; i < 4; ++i) accs.push_back(static_cast<u32>(rng()));
  Int8Checker chk{Datapath::kInt8};
  for (const u32 acc : accs) {
    for (unsigned a = 0; a < 256; ++a) {
      for (unsigned b = 0; b < 256; ++b) chk.check(static_cast<u16>(a), static_cast<u16>(b), acc);
    }
  }
  report("int8_exhaustive", chk.cases());
  EXPECT_TRUE(chk.result());
}

TEST(Mac, int8_random) {
  std::mt19937_64 rng{test_seed() ^ 0x1};
  Int8Checker chk{Datapath::kInt8};
  for (int i = 0; i < 200'000; ++i) {
    const u64 r = rng();
    chk.check(static_cast<u16>(r & 0xFF), static_cast<u16>((r >> 8) & 0xFF),
              static_cast<u32>(r >> 32));
  }
  report("int8_random", chk.cases());
  EXPECT_TRUE(chk.result());
}

// ---------------------------------------------------------------------------
// bf16 products
// ---------------------------------------------------------------------------

// All pairs of special-class operands, with special-class accumulators.
TEST(Mac, bf16_edge_cases) {
  const auto ops = bf16_specials();
  const auto accs = fp32_specials();
  Bf16Checker chk{Datapath::kBf16};
  for (const u16 a : ops) {
    for (const u16 b : ops) {
      for (const u32 acc : accs) chk.check(a, b, acc);
    }
  }
  report("bf16_edge_cases", chk.cases());
  EXPECT_TRUE(chk.result());
}

// Every pair of normal significands (fractions 0..127 with hidden bit) at every
// exponent sum ea + eb (2..508), random signs: all exact products, the
// overflow boundary, every rounding case of products landing in binary32's
// subnormal range (all ties included), and total underflow.
TEST(Mac, bf16_mul_significands_x_exponents) {
  std::mt19937_64 rng{test_seed() ^ 0x2};
  Bf16Checker chk{Datapath::kBf16};
  for (unsigned esum = 2; esum <= 508; ++esum) {
    const unsigned ea = esum / 2 > 254 ? 254 : esum / 2;
    const unsigned eb = esum - ea;
    for (unsigned fa = 0; fa < 128; ++fa) {
      for (unsigned fb = 0; fb < 128; ++fb) {
        const u64 r = rng();
        // Accumulate onto a random zero/subnormal: the sum is exact unless the
        // product is large, then it must return the product.
        chk.check(bf16(r & 1, ea, fa), bf16((r >> 1) & 1, eb, fb),
                  static_cast<u32>(r >> 32) & 0x807FFFFFu);
      }
    }
  }
  report("bf16_mul_significands_x_exponents", chk.cases());
  EXPECT_TRUE(chk.result());
}

// bf16 subnormal operands (real values, never flushed) times every bf16 value
// of either sign (subnormals, zeros, infinities and NaNs included).
TEST(Mac, bf16_mul_subnormal_operand) {
  std::mt19937_64 rng{test_seed() ^ 0x3};
  Bf16Checker chk{Datapath::kBf16};
  for (unsigned fa = 1; fa < 128; ++fa) {
    for (unsigned b = 0; b < 0x8000; ++b) {
      const u64 r = rng();
      const u32 acc = (r & 1) ? 0u : static_cast<u32>(r >> 32) & 0x807FFFFFu;
      const u16 a = bf16((r >> 1) & 1, 0, fa);
      chk.check(a, static_cast<u16>(b | (((r >> 2) & 1) << 15)), acc);
    }
  }
  report("bf16_mul_subnormal_operand", chk.cases());
  EXPECT_TRUE(chk.result());
}

// Uniformly random bit patterns for a, b and acc.
TEST(Mac, bf16_random) {
  std::mt19937_64 rng{test_seed() ^ 0x4};
  Bf16Checker chk{Datapath::kBf16};
  for (int i = 0; i < 2'000'000; ++i) {
    const u64 r = rng();
    chk.check(static_cast<u16>(r), static_cast<u16>(r >> 16), static_cast<u32>(r >> 32));
  }
  report("bf16_random", chk.cases());
  EXPECT_TRUE(chk.result());
}

// ---------------------------------------------------------------------------
// binary32 accumulation (acc_i + product)
// ---------------------------------------------------------------------------

// A bf16 operand pair whose exact product is m * 2^k, m one of 1, 1.5, 1.25,
// 1.75 (fm = 0, 0x40, 0x20, 0x60), for k in [-252, 254].
std::pair<u16, u16> bf16_pair_for(unsigned sign, int k, unsigned fm) {
  const int k1 = k / 2;
  const int k2 = k - k1;
  return {bf16(sign, static_cast<unsigned>(k1 + 127), 0),
          bf16(0, static_cast<unsigned>(k2 + 127), fm)};
}

// Random accumulators near the product's magnitude (cancellation, carries,
// alignment shifts of every size), and near its negation (massive
// cancellation, exact zeros).
TEST(Mac, fp32_add_random) {
  std::mt19937_64 rng{test_seed() ^ 0x5};
  Bf16Checker chk{Datapath::kBf16};
  for (int i = 0; i < 8'000'000; ++i) {
    const u64 r = rng();
    const u64 r2 = rng();
    // Operands: mostly finite normals with exponents spread over the whole
    // range, some subnormal/zero fields.
    u16 a = static_cast<u16>(r);
    u16 b = static_cast<u16>(r >> 16);
    if ((r2 & 7) != 0) {
      a = bf16(a >> 15, 1 + ((a >> 7) & 0xFF) % 254, a);
      b = bf16(b >> 15, 64 + ((b >> 7) & 0xFF) % 128, b);
    }
    const u32 p = sasim::model::mul(Datapath::kBf16, a, b);
    const unsigned pe = fp32_exp(p);
    u32 acc = 0;
    const unsigned mode = (r2 >> 3) & 15;
    if (mode < 6) {  // close exponents, mostly opposite signs
      const int d = static_cast<int>((r2 >> 8) % 7) - 3;
      const int e = static_cast<int>(pe) + d;
      const unsigned sign = ((r2 >> 12) & 3) ? !(p >> 31) : (p >> 31);
      acc = fp32(sign, static_cast<unsigned>(e < 0 ? 0 : (e > 254 ? 254 : e)),
                 static_cast<u32>(r >> 32));
    } else if (mode < 10) {  // any alignment shift
      const int d = static_cast<int>((r2 >> 8) % 81) - 40;
      const int e = static_cast<int>(pe) + d;
      acc = fp32((r2 >> 16) & 1, static_cast<unsigned>(e < 0 ? 0 : (e > 254 ? 254 : e)),
                 static_cast<u32>(r >> 32));
    } else if (mode < 13) {  // -p plus a few ulps: massive cancellation, exact zero
      const int k = static_cast<int>((r2 >> 8) % 9) - 4;
      acc = (p ^ 0x80000000u) + static_cast<u32>(k);
      if (fp32_exp(acc) == 0xFF || fp32_exp(acc) != pe) acc = p ^ 0x80000000u;
    } else {  // anything
      acc = static_cast<u32>(r >> 32);
    }
    // Low fraction bits cleared now and then: more exact sums and ties.
    if ((r2 >> 20) & 1) acc &= ~((u32{1} << ((r2 >> 24) % 24)) - 1);
    chk.check(a, b, acc);
  }
  report("fp32_add_random", chk.cases());
  EXPECT_TRUE(chk.result());
}

// Sums landing exactly half-way between two binary32 values (at every
// exponent, with and without a change of exponent through carry or
// cancellation), and just off the tie.
TEST(Mac, fp32_add_ties) {
  std::mt19937_64 rng{test_seed() ^ 0x6};
  Bf16Checker chk{Datapath::kBf16};
  const std::array<u32, 6> fracs = {0x000000, 0x000001, 0x7FFFFF, 0x7FFFFE, 0x400000, 0x3FFFFF};
  for (unsigned e = 1; e <= 254; ++e) {
    // Half an ulp of acc is 2^(e - 151).
    for (int j = -2; j <= 2; ++j) {
      const int k = static_cast<int>(e) - 151 + j;
      if (k < -252) continue;
      for (const unsigned fm : {0x00u, 0x40u, 0x20u, 0x60u}) {
        for (unsigned ps = 0; ps < 2; ++ps) {
          const auto [a, b] = bf16_pair_for(ps, k, fm);
          for (unsigned as = 0; as < 2; ++as) {
            for (const u32 f : fracs) chk.check(a, b, fp32(as, e, f));
            for (int i = 0; i < 4; ++i) chk.check(a, b, fp32(as, e, static_cast<u32>(rng())));
          }
        }
      }
    }
  }
  report("fp32_add_ties", chk.cases());
  EXPECT_TRUE(chk.result());
}

// Subnormal + subnormal, sums crossing between subnormal and normal, products
// rounded into the subnormal range.
TEST(Mac, fp32_add_subnormals) {
  std::mt19937_64 rng{test_seed() ^ 0x7};
  Bf16Checker chk{Datapath::kBf16};
  for (int i = 0; i < 300'000; ++i) {
    const u64 r = rng();
    // a: a bf16 subnormal or small normal; b: 1.0 or a small power of two.
    const u16 a = bf16(r & 1, static_cast<unsigned>((r >> 1) % 3), static_cast<unsigned>(r >> 3));
    const auto kb = static_cast<unsigned>((r >> 10) % 24);
    const u16 b = ((r >> 15) & 1) ? u16{0x3F80}
                                  : bf16((r >> 16) & 1, 127 - kb, static_cast<unsigned>(r >> 17));
    u32 acc = fp32((r >> 24) & 1, ((r >> 25) & 7) == 0 ? 1 : 0, static_cast<u32>(r >> 32));
    if (((r >> 28) & 15) == 0) acc = fp32((r >> 24) & 1, 0, static_cast<u32>(r >> 32) & 0xFF);
    chk.check(a, b, acc);
  }
  report("fp32_add_subnormals", chk.cases());
  EXPECT_TRUE(chk.result());
}

// Overflow to infinity (and just not), opposite infinities, NaN propagation,
// signed zeros.
TEST(Mac, fp32_add_overflow_inf_nan_zero) {
  std::mt19937_64 rng{test_seed() ^ 0x8};
  Bf16Checker chk{Datapath::kBf16};
  // Large sums: acc at the top exponents, product at the top exponents.
  for (int i = 0; i < 200'000; ++i) {
    const u64 r = rng();
    const u16 a = bf16(r & 1, 126 + (r >> 1) % 2, static_cast<unsigned>(r >> 2));
    const u16 b = bf16((r >> 9) & 1, static_cast<unsigned>(125 + (r >> 10) % 3),
                       static_cast<unsigned>(r >> 12));
    const u32 acc =
        fp32((r >> 19) & 1, static_cast<unsigned>(251 + (r >> 20) % 4), static_cast<u32>(r >> 32));
    chk.check(a, b, acc);
  }
  const u16 pinf = 0x7F80, ninf = 0xFF80, one = 0x3F80, mone = 0xBF80;
  const std::array<u16, 8> ops = {0x0000, 0x8000, one, mone, pinf, ninf, 0x7FC0, 0xFFC1};
  for (const u16 a : ops) {
    for (const u16 b : ops) {
      for (const u32 acc : fp32_specials()) chk.check(a, b, acc);
    }
  }
  // x + (-x) = +0 for random x (and -0 + -0 = -0 through the specials above).
  for (int i = 0; i < 100'000; ++i) {
    const u64 r = rng();
    const u16 a = static_cast<u16>(r) & 0x7FFF;
    const u16 b = static_cast<u16>(r >> 16);
    if (((a >> 7) & 0xFF) == 0xFF || ((b >> 7) & 0xFF) == 0xFF) continue;
    chk.check(a, b, sasim::model::mul(Datapath::kBf16, a, b) ^ 0x80000000u);
  }
  report("fp32_add_overflow_inf_nan_zero", chk.cases());
  EXPECT_TRUE(chk.result());
}

}  // namespace
