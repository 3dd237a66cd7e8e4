// VerilatedTop: one Verilator-generated model with its own context and, when
// asked, an FST trace: what VerilatedArray and VerilatedCore share. Assertion
// failures and $error do not abort the process; check() turns them into
// RtlError. The trace is streamed to <wave_file>.tmp.<pid> and renamed to
// wave_file when the model is destroyed (after a failed run too: that is when
// a waveform is wanted), so a killed run never leaves a truncated FST under
// the asked name.
#pragma once

#include <fcntl.h>
#include <unistd.h>
#include <verilated.h>
#include <verilated_fst_c.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>

#include "sasim/cosim/array_model.hpp"

namespace sasim::cosim {

template <class VTop>
struct VerilatedTop {
  // name: the top's scope; X values randomised by rand_reset/seed.
  VerilatedTop(const char* name, const std::string& wave_file, int rand_reset, std::uint32_t seed,
               bool assertions = true)
      : ctx(std::make_unique<VerilatedContext>()) {
    ctx->fatalOnError(false);
    ctx->randReset(rand_reset);
    ctx->randSeed(static_cast<int>(seed));
    ctx->assertOn(assertions);
    if (!wave_file.empty()) ctx->traceEverOn(true);
    top = std::make_unique<VTop>(ctx.get(), name);
    if (!wave_file.empty()) {
      trace = std::make_unique<VerilatedFstC>();
      top->trace(trace.get(), 99);
      wave_tmp = wave_file + ".tmp." + std::to_string(::getpid());
      trace->open(wave_tmp.c_str());
      if (!trace->isOpen()) throw std::runtime_error("cannot open wave file " + wave_tmp);
      this->wave_file = wave_file;
    }
  }
  ~VerilatedTop() {
    top->final();
    if (!trace) return;
    trace->close();
    const int fd = ::open(wave_tmp.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
      ::fsync(fd);
      ::close(fd);
    }
    if (std::rename(wave_tmp.c_str(), wave_file.c_str()) != 0)
      std::fprintf(stderr, "sasim: cannot rename %s to %s: %s\n", wave_tmp.c_str(),
                   wave_file.c_str(), std::strerror(errno));
  }
  VerilatedTop(const VerilatedTop&) = delete;
  VerilatedTop& operator=(const VerilatedTop&) = delete;

  // Evaluates, advances time by half a clock period (500 ps: waveform time in
  // ns equals the cycle number) and dumps the trace.
  void eval() {
    top->eval();
    ctx->timeInc(500);
    if (trace) trace->dump(ctx->time());
  }
  // Holds rst_ni low for `cycles` clock cycles with the inputs the caller
  // set, then releases it with the clock low and evaluates once more.
  void reset(unsigned cycles = 4) {
    top->rst_ni = 0;
    for (unsigned i = 0; i < cycles; ++i) {
      top->clk_i = 1;
      eval();
      top->clk_i = 0;
      eval();
    }
    top->rst_ni = 1;
    eval();
  }
  // Throws RtlError naming `what` and the cycle after an assertion failure.
  // Called after every evaluation: `what()` names the model, and is only
  // called (a string built) when an assertion failed.
  template <class What>
  void check(const What& what, std::uint64_t cycle) {
    if (!ctx->gotError()) return;
    ctx->gotError(false);
    throw RtlError("RTL assertion failed in " + std::string(what()) + " at cycle " +
                   std::to_string(cycle) + " (see the %Error line above)");
  }

  std::unique_ptr<VerilatedContext> ctx;
  std::unique_ptr<VTop> top;
  std::unique_ptr<VerilatedFstC> trace;
  std::string wave_file, wave_tmp;  // empty without a trace
};

}  // namespace sasim::cosim
