#include "sasim/mem/replacement.hpp"

#include <bit>
#include <stdexcept>
#include <type_traits>

namespace sasim::mem {

namespace {

// Ages in a monotonically increasing clock: the smallest stamp among the
// eligible ways is the oldest (ties -> lowest way). Shared by lru and fifo.
class StampPolicy : public ReplacementPolicy {
 public:
  StampPolicy(unsigned sets, unsigned ways)
      : ReplacementPolicy(sets, ways), stamp_(std::size_t{sets} * ways, 0) {}
  void invalidate(unsigned set, unsigned way) override { at(set, way) = 0; }
  unsigned victim(unsigned set, std::uint64_t eligible) override {
    unsigned best = ways();
    for (unsigned w = 0; w < ways(); ++w) {
      if (((eligible >> w) & 1) == 0) continue;
      if (best == ways() || at(set, w) < at(set, best)) best = w;
    }
    return best;
  }

 protected:
  void stamp(unsigned set, unsigned way) { at(set, way) = ++clock_; }

 private:
  std::uint64_t& at(unsigned set, unsigned way) { return stamp_[std::size_t{set} * ways() + way]; }
  std::vector<std::uint64_t> stamp_;
  std::uint64_t clock_ = 0;
};

class Lru final : public StampPolicy {
 public:
  using StampPolicy::StampPolicy;
  void touch(unsigned set, unsigned way) override { stamp(set, way); }
  void insert(unsigned set, unsigned way) override { stamp(set, way); }
};

class Fifo final : public StampPolicy {
 public:
  using StampPolicy::StampPolicy;
  void touch(unsigned, unsigned) override {}
  void insert(unsigned set, unsigned way) override { stamp(set, way); }
};

// Tree pseudo-LRU. Node n (1-based heap order, root 1, children 2n and 2n+1)
// covers a power-of-two range of ways; bit 0 = replace in the left (lower)
// half next, bit 1 = the right half.
class Plru final : public ReplacementPolicy {
 public:
  Plru(unsigned sets, unsigned ways) : ReplacementPolicy(sets, ways) {
    if (!std::has_single_bit(ways)) {
      throw std::invalid_argument("replacement policy 'plru' needs a power-of-two number of " +
                                  std::string("ways, got ") + std::to_string(ways));
    }
    bits_.assign(std::size_t{sets} * ways, 0);  // ways-1 nodes per set, index 0 unused
  }
  void touch(unsigned set, unsigned way) override { point_away(set, way); }
  void insert(unsigned set, unsigned way) override { point_away(set, way); }
  void invalidate(unsigned, unsigned) override {}
  unsigned victim(unsigned set, std::uint64_t eligible) override {
    unsigned node = 1, lo = 0, span = ways();
    while (span > 1) {
      const unsigned half = span / 2;
      const bool left_ok = (eligible & range_mask(lo, half)) != 0;
      const bool right_ok = (eligible & range_mask(lo + half, half)) != 0;
      bool go_right = bit(set, node) != 0;
      if (go_right && !right_ok) go_right = false;
      if (!go_right && !left_ok) go_right = true;
      node = 2 * node + (go_right ? 1 : 0);
      if (go_right) lo += half;
      span = half;
    }
    return lo;
  }

 private:
  static std::uint64_t range_mask(unsigned lo, unsigned n) {
    const std::uint64_t m = n >= 64 ? ~0ULL : (1ULL << n) - 1;
    return m << lo;
  }
  std::uint8_t& bit(unsigned set, unsigned node) { return bits_[std::size_t{set} * ways() + node]; }
  void point_away(unsigned set, unsigned way) {
    unsigned node = 1, lo = 0, span = ways();
    while (span > 1) {
      const unsigned half = span / 2;
      const bool in_right = way >= lo + half;
      bit(set, node) = in_right ? 0 : 1;
      node = 2 * node + (in_right ? 1 : 0);
      if (in_right) lo += half;
      span = half;
    }
  }
  std::vector<std::uint8_t> bits_;
};

// Uniform over the eligible ways: the k-th eligible way (ascending), with
// k = splitmix64() % popcount(eligible). splitmix64 (Steele, Lea, Flood 2014)
// is fully specified here, so the sequence is the same on every platform.
class Random final : public ReplacementPolicy {
 public:
  Random(unsigned sets, unsigned ways, std::uint64_t seed)
      : ReplacementPolicy(sets, ways), state_(seed) {}
  void touch(unsigned, unsigned) override {}
  void insert(unsigned, unsigned) override {}
  void invalidate(unsigned, unsigned) override {}
  unsigned victim(unsigned, std::uint64_t eligible) override {
    auto k = static_cast<unsigned>(next() % static_cast<unsigned>(std::popcount(eligible)));
    for (unsigned w = 0;; ++w) {
      if (((eligible >> w) & 1) == 0) continue;
      if (k-- == 0) return w;
    }
  }

 private:
  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  std::uint64_t state_;
};

class Srrip final : public ReplacementPolicy {
 public:
  static constexpr std::uint8_t kMax = 3, kInsert = 2;
  Srrip(unsigned sets, unsigned ways)
      : ReplacementPolicy(sets, ways), rrpv_(std::size_t{sets} * ways, kMax) {}
  void touch(unsigned set, unsigned way) override { at(set, way) = 0; }
  void insert(unsigned set, unsigned way) override { at(set, way) = kInsert; }
  void invalidate(unsigned set, unsigned way) override { at(set, way) = kMax; }
  unsigned victim(unsigned set, std::uint64_t eligible) override {
    for (;;) {
      for (unsigned w = 0; w < ways(); ++w)
        if (((eligible >> w) & 1) != 0 && at(set, w) == kMax) return w;
      for (unsigned w = 0; w < ways(); ++w)
        if (at(set, w) < kMax) ++at(set, w);
    }
  }

 private:
  std::uint8_t& at(unsigned set, unsigned way) { return rrpv_[std::size_t{set} * ways() + way]; }
  std::vector<std::uint8_t> rrpv_;
};

// Every policy is constructed as P(sets, ways) or, if it takes one, P(sets, ways, seed).
template <typename P>
std::unique_ptr<ReplacementPolicy> create(unsigned sets, unsigned ways, std::uint64_t seed) {
  if constexpr (std::is_constructible_v<P, unsigned, unsigned, std::uint64_t>) {
    return std::make_unique<P>(sets, ways, seed);
  } else {
    return std::make_unique<P>(sets, ways);
  }
}

struct Entry {
  const char* name;
  std::unique_ptr<ReplacementPolicy> (*make)(unsigned sets, unsigned ways, std::uint64_t seed);
};

// The registry: one line per policy.
// clang-format off
constexpr Entry kPolicies[] = {
    {"lru", create<Lru>},
    {"plru", create<Plru>},
    {"fifo", create<Fifo>},
    {"random", create<Random>},
    {"srrip", create<Srrip>},
};
// clang-format on

}  // namespace

std::vector<std::string> replacement_names() {
  std::vector<std::string> names;
  for (const Entry& e : kPolicies) names.emplace_back(e.name);
  return names;
}

std::unique_ptr<ReplacementPolicy> make_replacement(const std::string& name, unsigned sets,
                                                    unsigned ways, std::uint64_t seed) {
  if (sets == 0 || ways == 0 || ways > 64) {
    throw std::invalid_argument("replacement policy '" + name + "': geometry " +
                                std::to_string(sets) + " sets x " + std::to_string(ways) +
                                " ways out of range (sets >= 1, ways 1..64)");
  }
  for (const Entry& e : kPolicies)
    if (name == e.name) return e.make(sets, ways, seed);
  std::string allowed;
  for (const Entry& e : kPolicies) allowed += (allowed.empty() ? "" : ", ") + std::string(e.name);
  throw std::invalid_argument("unknown replacement policy '" + name + "' (allowed: " + allowed +
                              ")");
}

}  // namespace sasim::mem
