// Cache replacement policies behind one small interface, created by name.
//
// A policy keeps per-set metadata only (no tags, no data). The cache calls
//   touch(set, way)       on every hit to (set, way),
//   insert(set, way)      when a line fill into (set, way) completes,
//   invalidate(set, way)  when the line in (set, way) is evicted or dropped,
//   victim(set, eligible) to choose which valid way to replace.
// `eligible` is a bit mask of the ways the cache may replace (bit w = way w;
// ways with an outstanding fill or an unfinished access are excluded); it is
// never zero. The cache fills an invalid way (lowest index) before it asks the
// policy for a victim, so victim() is only called on sets whose eligible ways
// are all valid.
//
// Policies (names accepted by make_replacement):
//   lru     true least-recently-used: victim = eligible way touched/inserted
//           longest ago.
//   plru    tree pseudo-LRU (ways must be a power of two): ways-1 bits per set
//           form a binary tree; each bit points to the half to replace next.
//           touch/insert set the bits on the way's path to point away from it.
//           victim follows the bits from the root; where the pointed-to half
//           has no eligible way it takes the other half. invalidate leaves the
//           bits unchanged.
//   fifo    first-in-first-out: victim = eligible way filled longest ago; hits
//           do not change the order.
//   random  uniform over the eligible ways, from a per-cache 64-bit generator
//           seeded with `seed` (deterministic for a given seed and call order).
//   srrip   static re-reference interval prediction (Jaleel et al., ISCA 2010),
//           2-bit RRPV per way: insert sets RRPV 2, a hit sets 0, invalidate 3.
//           victim: the lowest eligible way with RRPV 3; if there is none, every
//           way's RRPV is incremented (saturating at 3) until there is one.
//
// Adding a policy: one class derived from ReplacementPolicy (in replacement.cpp
// or its own file) and one line in the registry table in replacement.cpp.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace sasim::mem {

class ReplacementPolicy {
 public:
  ReplacementPolicy(unsigned sets, unsigned ways) : sets_(sets), ways_(ways) {}
  virtual ~ReplacementPolicy() = default;
  ReplacementPolicy(const ReplacementPolicy&) = delete;
  ReplacementPolicy& operator=(const ReplacementPolicy&) = delete;

  virtual void touch(unsigned set, unsigned way) = 0;
  virtual void insert(unsigned set, unsigned way) = 0;
  virtual void invalidate(unsigned set, unsigned way) = 0;
  // Way to replace, one of the bits set in `eligible` (nonzero).
  virtual unsigned victim(unsigned set, std::uint64_t eligible) = 0;

  unsigned sets() const { return sets_; }
  unsigned ways() const { return ways_; }
  // Mask with one bit per way of this cache.
  std::uint64_t all_ways() const { return ways_ >= 64 ? ~0ULL : (1ULL << ways_) - 1; }

 private:
  unsigned sets_, ways_;
};

// Creates the policy `name` for a cache of `sets` x `ways` (ways 1..64, sets
// >= 1). Throws std::invalid_argument for an unknown name (the message lists
// the allowed names) or a geometry the policy cannot handle (plru: ways not a
// power of two).
std::unique_ptr<ReplacementPolicy> make_replacement(const std::string& name, unsigned sets,
                                                    unsigned ways, std::uint64_t seed);

// The names make_replacement accepts, in registry order.
std::vector<std::string> replacement_names();

}  // namespace sasim::mem
