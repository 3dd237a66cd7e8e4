// The seed of a randomised test (SASIM_TEST_SEED overrides it, decimal or 0x
// hex) and hex formatting for messages.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace sasim::test {

// The seed of a randomised test: SASIM_TEST_SEED when set, else `fallback`.
inline std::uint64_t test_seed(std::uint64_t fallback) {
  const char* s = std::getenv("SASIM_TEST_SEED");
  return (s != nullptr && *s != '\0') ? std::strtoull(s, nullptr, 0) : fallback;
}

inline std::string hex(std::uint64_t v, int digits = 8) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%0*llx", digits, static_cast<unsigned long long>(v));
  return buf;
}

}  // namespace sasim::test
