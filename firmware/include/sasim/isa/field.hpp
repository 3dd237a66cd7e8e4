// A field of a 128-bit sasim instruction word, and the word itself. The field
// tables are generated from firmware/isa/isa.json (isa_generated.hpp).
#pragma once

#include <array>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace sasim::isa {

struct Field {
  std::string_view name;  // "load.sram_row"
  unsigned lsb;
  unsigned width;
  constexpr std::uint64_t max() const {
    return width >= 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << width) - 1;
  }
};

// One instruction word, bit 0 = LSB of words[0].
class Instruction {
 public:
  std::array<std::uint64_t, 2> words{};

  // Throws std::out_of_range naming the field and its range if v does not fit.
  Instruction& set(const Field& f, std::uint64_t v) {
    if (v > f.max()) {
      throw std::out_of_range("instruction field " + std::string(f.name) + ": " +
                              std::to_string(v) + " is out of range (allowed 0.." +
                              std::to_string(f.max()) + ")");
    }
    for (unsigned i = 0; i < f.width; ++i) {
      const unsigned bit = f.lsb + i;
      std::uint64_t& w = words[bit / 64];
      const std::uint64_t m = std::uint64_t{1} << (bit % 64);
      w = ((v >> i) & 1u) ? (w | m) : (w & ~m);
    }
    return *this;
  }
  std::uint64_t get(const Field& f) const {
    std::uint64_t v = 0;
    for (unsigned i = 0; i < f.width; ++i) {
      const unsigned bit = f.lsb + i;
      v |= ((words[bit / 64] >> (bit % 64)) & 1u) << i;
    }
    return v;
  }
  bool operator==(const Instruction&) const = default;
};

}  // namespace sasim::isa
