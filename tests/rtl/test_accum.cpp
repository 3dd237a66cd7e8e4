// sa_accum against a sequential model built on the golden adder: writes and
// accumulations in order, reads see updates accepted two cycles earlier,
// back-to-back updates of one row are forwarded exactly.
#include <gtest/gtest.h>
#include <verilated.h>

#include <array>
#include <cstdint>
#include <deque>
#include <memory>
#include <random>
#include <vector>

#include "Vsa_accum_bf16.h"
#include "Vsa_accum_int8.h"
#include "sasim/model/numerics.hpp"
#include "support/rtl_unit.hpp"

namespace {

namespace model = sasim::model;
constexpr unsigned kWords = 40, kLanes = 4;  // as verilated in rtl/CMakeLists.txt
using Row = std::array<std::uint32_t, kLanes>;

struct Update {
  unsigned addr;
  bool acc;
  Row data;
};

std::uint32_t random_lane(model::Datapath dp, std::mt19937_64& rng) {
  if (dp == model::Datapath::kInt8) return static_cast<std::uint32_t>(rng());
  // binary32 values with mixed exponents, signs, zeros, subnormals and specials
  static const std::uint32_t kSpecial[] = {0x00000000, 0x80000000, 0x7F800000, 0xFF800000,
                                           0x7FC00000, 0x00000001, 0x007FFFFF, 0x7F7FFFFF};
  if (rng() % 16 == 0) return kSpecial[rng() % 8];
  const std::uint32_t exp = 100 + static_cast<std::uint32_t>(rng() % 56);
  return static_cast<std::uint32_t>(rng() & 0x807FFFFF) | (exp << 23);
}

template <class V>
void random_sequence(model::Datapath dp, std::uint64_t seed) {
  sasim::test::RtlUnit<V> a;
  a.reset();
  std::vector<Row> state(kWords);
  std::vector<bool> defined(kWords, false);
  std::deque<std::pair<int, Update>> pending;  // accepted, not yet visible to reads
  std::mt19937_64 rng(seed);
  unsigned checked = 0;
  for (int t = 0; t < 20000; ++t) {
    // Updates accepted up to cycle t-2 are visible to a read issued in cycle t.
    while (!pending.empty() && pending.front().first <= t - 2) {
      const Update& u = pending.front().second;
      for (unsigned l = 0; l < kLanes; ++l)
        state[u.addr][l] = u.acc ? model::add(dp, state[u.addr][l], u.data[l]) : u.data[l];
      defined[u.addr] = u.acc ? defined[u.addr] : true;
      pending.pop_front();
    }
    const bool upd = rng() % 4 != 0, rd = rng() % 3 == 0;
    Update u{static_cast<unsigned>(rng() % 6), rng() % 3 != 0, {}};  // few rows: many hazards
    for (auto& d : u.data) d = random_lane(dp, rng);
    const unsigned ra = static_cast<unsigned>(rng() % 6);
    a->upd_valid_i = upd;
    a->upd_addr_i = u.addr;
    a->upd_acc_i = u.acc;
    for (unsigned l = 0; l < kLanes; ++l) a->upd_data_i[l] = u.data[l];
    a->rd_en_i = rd;
    a->wr_en_i = 0;  // the plain write ports are exercised by the core and device tests
    a->rd_addr_i = ra;
    const Row expect = state[ra];
    const bool expect_defined = defined[ra];
    a->clk_i = 1;
    a->eval();
    a->clk_i = 0;
    a->eval();
    ASSERT_FALSE(a.ctx->gotError());
    if (rd && expect_defined) {
      for (unsigned l = 0; l < kLanes; ++l) {
        ASSERT_EQ(a->rd_data_o[l], expect[l])
            << "seed " << seed << " cycle " << t << " row " << ra << " lane " << l;
      }
      ++checked;
    }
    if (upd) pending.push_back({t, u});
  }
  EXPECT_GT(checked, 3000u);
}

TEST(Accum, Int8WritesAndAccumulationsMatchTheModel) {
  for (std::uint64_t s = 1; s <= 3; ++s) random_sequence<Vsa_accum_int8>(model::Datapath::kInt8, s);
}

TEST(Accum, Bf16Fp32AccumulationIsBitExact) {
  for (std::uint64_t s = 1; s <= 3; ++s) random_sequence<Vsa_accum_bf16>(model::Datapath::kBf16, s);
}

}  // namespace
