// What the tests of single verilated RTL units share: the model with its own
// context and reset, the random seed (SASIM_TEST_SEED overrides it) and hex
// formatting for messages.
#pragma once

#include <verilated.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

namespace sasim::test {

// One verilated model with its own context, final() at the end. With
// fatal = false a failed SVA or $error sets ctx->gotError() (for the test to
// check) instead of aborting the process.
template <class V>
struct RtlUnit {
  explicit RtlUnit(const char* name = "TOP", bool fatal = true)
      : ctx(std::make_unique<VerilatedContext>()) {
    ctx->fatalOnError(fatal);
    top = std::make_unique<V>(ctx.get(), name);
  }
  ~RtlUnit() { top->final(); }
  RtlUnit(const RtlUnit&) = delete;
  RtlUnit& operator=(const RtlUnit&) = delete;

  // Asynchronous reset with the inputs the test set: rst_ni low with the
  // clock low, evaluated, then released and evaluated.
  void reset() {
    top->clk_i = 0;
    top->rst_ni = 0;
    top->eval();
    top->rst_ni = 1;
    top->eval();
  }
  V* operator->() const { return top.get(); }

  std::unique_ptr<VerilatedContext> ctx;
  std::unique_ptr<V> top;
};

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
