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
  // Word-level: a field lies in one word or straddles two (bits lsb..lsb +
  // width - 1 of the 128-bit word, width 1..64).
  std::uint64_t get(const Field& f) const {
    const unsigned w = f.lsb / 64, o = f.lsb % 64;
    std::uint64_t v = words[w] >> o;
    if (o + f.width > 64) v |= words[w + 1] << (64 - o);
    return v & f.max();
  }
  bool operator==(const Instruction&) const = default;

 private:
  Instruction& put(const Field& f, std::uint64_t v, std::uint64_t lo) {
    if (v < lo || v > f.max()) {
      throw std::out_of_range("instruction field " + std::string(f.name) + ": " +
                              std::to_string(v) + " is out of range (allowed " +
                              std::to_string(lo) + ".." + std::to_string(f.max()) + ")");
    }
    const unsigned w = f.lsb / 64, o = f.lsb % 64;
    const std::uint64_t m = f.max();
    words[w] = (words[w] & ~(m << o)) | (v << o);
    if (o + f.width > 64) {
      const std::uint64_t hi = m >> (64 - o);  // the field's bits in the next word
      words[w + 1] = (words[w + 1] & ~hi) | (v >> (64 - o));
    }
    return *this;
  }
};

}  // namespace sasim::isa
