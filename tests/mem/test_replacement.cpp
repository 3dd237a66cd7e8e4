// Replacement policies on their own: hand-computed victim sequences for every
// policy, the eligible-way mask, and the name registry. (The same policies
// driven through the cache: test_cache.cpp, ReplacementTrace.)
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <bit>
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "sasim/mem/replacement.hpp"

namespace {

using ::testing::StrEq;
using ::testing::ThrowsMessage;

using sasim::mem::make_replacement;
using sasim::mem::replacement_names;
using sasim::mem::ReplacementPolicy;

constexpr std::uint64_t kAll4 = 0xF;

// Fills ways 0..3 of `set` in order (what the cache does on an empty set: it
// fills invalid ways lowest first without asking the policy).
void fill_in_order(ReplacementPolicy& p, unsigned set) {
  for (unsigned w = 0; w < 4; ++w) p.insert(set, w);
}

// One step of a hand-computed trace on one set: an update of a way, or the check that
// victim(set, eligible) is the way `way`.
struct Step {
  enum Kind { kTouch, kInsert, kInvalidate, kVictim } kind;
  unsigned way;
  std::uint64_t eligible;
};
Step touch(unsigned way) { return {Step::kTouch, way, 0}; }
Step insert(unsigned way) { return {Step::kInsert, way, 0}; }
Step invalidate(unsigned way) { return {Step::kInvalidate, way, 0}; }
Step victim(unsigned expected, std::uint64_t eligible = kAll4) {
  return {Step::kVictim, expected, eligible};
}

// Applies the steps to `set` in order; every kVictim step is one expectation.
void run_trace(ReplacementPolicy& p, unsigned set, const std::vector<Step>& steps) {
  for (std::size_t i = 0; i < steps.size(); ++i) {
    const Step& s = steps[i];
    switch (s.kind) {
      case Step::kTouch:
        p.touch(set, s.way);
        break;
      case Step::kInsert:
        p.insert(set, s.way);
        break;
      case Step::kInvalidate:
        p.invalidate(set, s.way);
        break;
      case Step::kVictim:
        EXPECT_EQ(p.victim(set, s.eligible), s.way)
            << "step " << i << ", eligible 0x" << std::hex << s.eligible;
        break;
    }
  }
}

TEST(Replacement, RegistryNamesAndUnknownNameListsTheAllowedOnes) {
  EXPECT_EQ(replacement_names(),
            (std::vector<std::string>{"lru", "plru", "fifo", "random", "srrip"}));
  for (const auto& n : replacement_names()) {
    auto p = make_replacement(n, 2, 4, 1);
    ASSERT_NE(p, nullptr) << n;
    EXPECT_EQ(p->sets(), 2u);
    EXPECT_EQ(p->ways(), 4u);
    EXPECT_EQ(p->all_ways(), kAll4);
  }
  EXPECT_THAT([] { make_replacement("mru", 2, 4, 1); },
              ThrowsMessage<std::invalid_argument>(StrEq(
                  "unknown replacement policy 'mru' (allowed: lru, plru, fifo, random, srrip)")));
  EXPECT_THROW(make_replacement("LRU", 2, 4, 1), std::invalid_argument);  // names are exact
}

TEST(Replacement, GeometryLimits) {
  EXPECT_THROW(make_replacement("lru", 0, 4, 1), std::invalid_argument);
  EXPECT_THROW(make_replacement("lru", 2, 0, 1), std::invalid_argument);
  EXPECT_THROW(make_replacement("lru", 2, 65, 1), std::invalid_argument);
  EXPECT_THROW(make_replacement("plru", 2, 6, 1), std::invalid_argument);  // not a power of two
  auto p64 = make_replacement("plru", 1, 64, 1);
  EXPECT_EQ(p64->all_ways(), ~0ULL);
  for (const auto& n : replacement_names()) {  // one way: the only choice
    auto p = make_replacement(n, 4, 1, 7);
    p->insert(3, 0);
    p->touch(3, 0);
    EXPECT_EQ(p->victim(3, 1), 0u) << n;
  }
}

// LRU. Fill A..D into ways 0..3 (age order 0 1 2 3, oldest first).
//   touch 0          -> order 1 2 3 0, victim 1
//   insert 1 (refill)-> order 2 3 0 1, victim 2
//   touch 2, touch 3 -> order 0 1 2 3, victim 0
//   eligible {1,2,3} -> 1 (oldest among them)
//   invalidate 3     -> way 3 becomes the oldest, victim 3
TEST(Replacement, LruHandComputed) {
  auto p = make_replacement("lru", 2, 4, 1);
  fill_in_order(*p, 0);
  run_trace(*p, 0,
            {victim(0), touch(0), victim(1), insert(1), victim(2), touch(2), touch(3), victim(0),
             victim(1, 0b1110), invalidate(3), victim(3)});
  // Set 1 is untouched by all of this: all stamps equal -> lowest way.
  EXPECT_EQ(p->victim(1, kAll4), 0u);
}

// FIFO. Same operations as LRU; hits (touch) do not reorder.
//   fill 0..3        -> queue 0 1 2 3, victim 0
//   touch 0          -> unchanged, victim 0
//   insert 0 (refill)-> queue 1 2 3 0, victim 1
//   eligible {2,3}   -> 2
//   invalidate 3     -> way 3 counts as filled before everything: victim 3
TEST(Replacement, FifoHandComputed) {
  auto p = make_replacement("fifo", 2, 4, 1);
  fill_in_order(*p, 0);
  run_trace(*p, 0,
            {victim(0), touch(0), victim(0), insert(0), victim(1), victim(2, 0b1100), invalidate(3),
             victim(3)});
}

// Tree PLRU, 4 ways: root bit b0 (0 = replace in ways 0-1, 1 = ways 2-3), b1
// for ways 0/1, b2 for ways 2/3 (0 = lower way). Access to way w points the
// bits on its path away from w.
//   fill 0,1,2,3: after way 3: b0=0 (left), b1=0 (from way 1: point to 0), b2=0
//                 -> victim 0
//   touch 0: b0=1, b1=1 -> victim: right, b2=0 -> 2
//   touch 2: b0=0, b2=1 -> victim: left, b1=1 -> 1
//   touch 1: b0=1, b1=0 -> victim: right, b2=1 -> 3
//   eligible {0,1,2} (3 busy): root says right, right half has only way 2 -> 2
//   eligible {0,1}: root says right, no eligible way there -> left, b1=0 -> 0
//   eligible {1}: -> 1
TEST(Replacement, PlruHandComputed) {
  auto p = make_replacement("plru", 2, 4, 1);
  fill_in_order(*p, 1);
  run_trace(*p, 1,
            {victim(0), touch(0), victim(2), touch(2), victim(1), touch(1), victim(3),
             victim(2, 0b0111), victim(0, 0b0011), victim(1, 0b0010),
             invalidate(3),  // bits unchanged
             victim(3)});
}

// 8-way PLRU: accessing ways 0..7 in order leaves every bit pointing to the
// lower half of its node except those set by the last access (way 7: root ->
// left, node(4-7) -> left, node(6,7) -> 6), so the victim is way 0; after a
// touch of 0 the victim is the least recently touched quarter on the right: 4.
TEST(Replacement, Plru8WaysHandComputed) {
  auto p = make_replacement("plru", 1, 8, 1);
  for (unsigned w = 0; w < 8; ++w) p->insert(0, w);
  EXPECT_EQ(p->victim(0, 0xFF), 0u);
  p->touch(0, 0);  // root -> right; node(4-7) still points left (set by way 7) -> 4
  EXPECT_EQ(p->victim(0, 0xFF), 4u);
}

// SRRIP, 2-bit RRPV: insert 2, hit 0, invalidate 3; victim = lowest eligible
// way with RRPV 3, else age every way by one and retry.
//   fill 0..3      -> [2 2 2 2]
//   touch 1        -> [2 0 2 2]
//   victim         -> no 3: age -> [3 1 3 3] -> way 0
//   insert 0       -> [2 1 3 3]
//   victim         -> way 2 (first 3), no aging
//   eligible {0,1} -> no 3 among them: age -> [3 2 3 3] -> way 0
//   touch 0, touch 2, touch 3 -> [0 2 0 0]; victim -> age x1 [1 3 1 1] -> 1
TEST(Replacement, SrripHandComputed) {
  auto p = make_replacement("srrip", 2, 4, 1);
  fill_in_order(*p, 0);
  run_trace(*p, 0,
            {touch(1), victim(0), insert(0), victim(2), victim(0, 0b0011), touch(0), touch(2),
             touch(3), victim(1), invalidate(3),
             victim(1),  // way 1 is already 3 and lower than way 3
             victim(3, 0b1000)});
}

// Random: victim = the k-th eligible way (ascending), k = splitmix64() %
// popcount(eligible). The literals are splitmix64(seed 1) outputs mod 4:
// 0x910a2dec89025cc1, 0xbeeb8da1658eec67, 0xf893a2eefb32555e, ... -> 1 3 2 3 1
// 0 1 1 (computed from the published splitmix64 algorithm, outside this code).
TEST(Replacement, RandomIsSeededDeterministicAndOnlyPicksEligibleWays) {
  auto p = make_replacement("random", 2, 4, 1);
  std::vector<unsigned> got;
  for (int i = 0; i < 8; ++i) got.push_back(p->victim(0, kAll4));
  EXPECT_EQ(got, (std::vector<unsigned>{1, 3, 2, 3, 1, 0, 1, 1}));

  // Same seed -> same sequence; different seed -> (here) a different one.
  auto a = make_replacement("random", 2, 4, 42);
  auto b = make_replacement("random", 2, 4, 42);
  auto c = make_replacement("random", 2, 4, 43);
  bool differs = false;
  for (int i = 0; i < 64; ++i) {
    const unsigned va = a->victim(i % 2, kAll4);
    EXPECT_EQ(va, b->victim(i % 2, kAll4));
    differs = differs || va != c->victim(i % 2, kAll4);
  }
  EXPECT_TRUE(differs);

  // Only eligible ways, roughly uniformly (each of 3 ways ~1/3 of 3000).
  std::map<unsigned, int> hist;
  for (int i = 0; i < 3000; ++i) {
    const unsigned v = p->victim(1, 0b1011);
    ASSERT_NE(v, 2u);
    ++hist[v];
  }
  for (const unsigned w : {0u, 1u, 3u}) {
    EXPECT_GT(hist[w], 850) << w;
    EXPECT_LT(hist[w], 1150) << w;
  }
}

// Every policy, any state: the victim is always one of the eligible ways.
TEST(Replacement, VictimIsAlwaysEligible) {
  for (const auto& n : replacement_names()) {
    auto p = make_replacement(n, 4, 8, 5);
    std::uint64_t x = 88172645463325252ULL;  // xorshift64
    auto next = [&] {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      return x;
    };
    for (int i = 0; i < 5000; ++i) {
      const auto set = static_cast<unsigned>(next() % 4);
      const auto way = static_cast<unsigned>(next() % 8);
      switch (next() % 4) {
        case 0:
          p->touch(set, way);
          break;
        case 1:
          p->insert(set, way);
          break;
        case 2:
          p->invalidate(set, way);
          break;
        default: {
          const std::uint64_t eligible = (next() & 0xFF) | (1ULL << way);
          const unsigned v = p->victim(set, eligible);
          ASSERT_LT(v, 8u) << n;
          ASSERT_TRUE((eligible >> v) & 1) << n << " victim " << v << " eligible " << eligible;
        }
      }
    }
  }
}

}  // namespace
