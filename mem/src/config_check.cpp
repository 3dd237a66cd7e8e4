#include "sasim/mem/config_check.hpp"

#include <bit>
#include <cmath>
#include <cstdio>
#include <stdexcept>

namespace sasim::mem {

void config_fail(const std::string& key, const std::string& msg) {
  throw std::invalid_argument(key + ": " + msg);
}

void check_uint(const std::string& key, std::uint64_t v, std::uint64_t lo, std::uint64_t hi,
                bool pow2) {
  if (v < lo || v > hi)
    config_fail(key, std::to_string(v) + " is out of range (allowed " + std::to_string(lo) + ".." +
                         std::to_string(hi) + (pow2 ? ", a power of two)" : ")"));
  if (pow2 && !std::has_single_bit(v))
    config_fail(key, std::to_string(v) + " is not a power of two (allowed " + std::to_string(lo) +
                         ".." + std::to_string(hi) + ", a power of two)");
}

void check_real(const std::string& key, double v, double lo, double hi) {
  if (!(std::isfinite(v) && v >= lo && v <= hi))
    config_fail(key, number_text(v) + " is out of range (allowed " + number_text(lo) + ".." +
                         number_text(hi) + ")");
}

std::string number_text(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%g", v);
  return b;
}

}  // namespace sasim::mem
