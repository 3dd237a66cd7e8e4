// What the tests of single verilated RTL units share: the model with its own
// context and reset (and, from test_seed.hpp, the seed and hex formatting).
#pragma once

#include <verilated.h>

#include <memory>

#include "support/test_seed.hpp"

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

}  // namespace sasim::test
