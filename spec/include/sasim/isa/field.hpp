// A field of a 128-bit sasim instruction word, and the word itself. The field
// tables are generated from spec/contract.json (sasim/spec/contract.hpp).
#pragma once

#include <array>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace sasim::isa {

// kCount: rows, cols, len (1..max()); kSramRow: a first SRAM row.
enum class FieldKind : std::uint8_t { kPlain, kCount, kSramRow };

struct Field {
  std::string_view name;  // "dma.sram_row"
  unsigned lsb;
  unsigned width;
  FieldKind kind = FieldKind::kPlain;
  constexpr std::uint64_t min() const { return kind == FieldKind::kCount ? 1 : 0; }
  constexpr std::uint64_t max() const {
    return width >= 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << width) - 1;
  }
};

// One instruction word, bit 0 = LSB of words[0].
class Instruction {
 public:
  std::array<std::uint64_t, 2> words{};

  // Throws std::out_of_range naming the field and its range if v does not fit
  // its bits (a count of 0 fits: malformed programs can be built for tests).
  Instruction& set(const Field& f, std::uint64_t v) { return put(f, v, 0); }
  // As set(), and a count field must be at least 1 (what the encoders use).
  Instruction& set_arg(const Field& f, std::uint64_t v) { return put(f, v, f.min()); }
  std::uint64_t get(const Field& f) const {
    std::uint64_t v = 0;
    for (unsigned i = 0; i < f.width; ++i) {
      const unsigned bit = f.lsb + i;
      v |= ((words[bit / 64] >> (bit % 64)) & 1u) << i;
    }
    return v;
  }
  bool operator==(const Instruction&) const = default;

 private:
  Instruction& put(const Field& f, std::uint64_t v, std::uint64_t lo) {
    if (v < lo || v > f.max()) {
      throw std::out_of_range("instruction field " + std::string(f.name) + ": " +
                              std::to_string(v) + " is out of range (allowed " +
                              std::to_string(lo) + ".." + std::to_string(f.max()) + ")");
    }
    for (unsigned i = 0; i < f.width; ++i) {
      const unsigned bit = f.lsb + i;
      std::uint64_t& w = words[bit / 64];
      const std::uint64_t m = std::uint64_t{1} << (bit % 64);
      w = ((v >> i) & 1u) ? (w | m) : (w & ~m);
    }
    return *this;
  }
};

}  // namespace sasim::isa
