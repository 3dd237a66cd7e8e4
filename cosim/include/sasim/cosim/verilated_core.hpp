// CoreModel on top of one Verilator-generated class (Vsa_core_<variant>).
// Only the generated registry (cosim/variants.cpp.in) includes this header.
#pragma once

#include <verilated.h>
#include <verilated_fst_c.h>

#include <cstdint>
#include <memory>
#include <sstream>
#include <string>

#include "sasim/cosim/core_model.hpp"
#include "sasim/cosim/verilated_array.hpp"
#include "sasim/cosim/verilated_top.hpp"

namespace sasim::cosim {

template <class VTop>
class VerilatedCore final : public CoreModel {
 public:
  VerilatedCore(const spec::CoreSpec& s, const CoreModelOptions& opt)
      : spec_(s), v_("sa_core", opt.wave_file, opt.rand_reset, opt.seed, opt.assertions) {
    reset();
  }

  const spec::CoreSpec& spec() const override { return spec_; }
  unsigned bus_bytes() const override { return spec_.bus_bytes; }

  void reset() override {
    top_->start_i = 0;
    top_->m_ar_ready_i = 0;
    top_->m_r_valid_i = 0;
    top_->m_aw_ready_i = 0;
    top_->m_w_ready_i = 0;
    top_->m_b_valid_i = 0;
    top_->sync_go_i = 0;
    v_.reset();
    check();
    start_pending_ = false;
    progressed_ = false;
  }

  void start(std::uint64_t prog_addr, std::uint32_t n_insn) override {
    top_->prog_addr_i = prog_addr;
    top_->prog_len_i = n_insn;
    start_pending_ = true;
  }

  void cycle(const AxiIn& in, AxiOut& out) override {
    top_->clk_i = 0;
    top_->start_i = start_pending_;
    top_->m_ar_ready_i = in.ar_ready;
    top_->m_r_valid_i = in.r_valid;
    top_->m_r_id_i = in.r_id;
    top_->m_r_last_i = in.r_last;
    top_->m_r_resp_i = in.r_resp;
    if (in.r_valid) {
      for (unsigned w = 0; w < spec_.bus_bytes / 4; ++w) {
        const std::uint32_t v =
            std::uint32_t{in.r_data[4 * w]} | std::uint32_t{in.r_data[4 * w + 1]} << 8 |
            std::uint32_t{in.r_data[4 * w + 2]} << 16 | std::uint32_t{in.r_data[4 * w + 3]} << 24;
        port::put(top_->m_r_data_i, w, 32, v);
      }
    }
    top_->m_aw_ready_i = in.aw_ready;
    top_->m_w_ready_i = in.w_ready;
    top_->m_b_valid_i = in.b_valid;
    top_->m_b_id_i = in.b_id;
    top_->m_b_resp_i = in.b_resp;
    top_->sync_go_i = in.sync_go;
    eval();

    out.ar_valid = top_->m_ar_valid_o;
    out.ar_id = top_->m_ar_id_o;
    out.ar_addr = top_->m_ar_addr_o;
    out.ar_len = top_->m_ar_len_o;
    out.r_ready = top_->m_r_ready_o;
    out.aw_valid = top_->m_aw_valid_o;
    out.aw_id = top_->m_aw_id_o;
    out.aw_addr = top_->m_aw_addr_o;
    out.aw_len = top_->m_aw_len_o;
    out.w_valid = top_->m_w_valid_o;
    if (out.w_valid) {
      for (unsigned w = 0; w < spec_.bus_bytes / 4; ++w) {
        const std::uint32_t v = port::get(top_->m_w_data_o, w, 32);
        for (unsigned b = 0; b < 4; ++b)
          out.w_data[4 * w + b] = static_cast<std::uint8_t>(v >> (8 * b));
      }
      out.w_strb = static_cast<std::uint64_t>(top_->m_w_strb_o);
      out.w_last = top_->m_w_last_o;
    }
    out.b_ready = top_->m_b_ready_o;
    out.sync = top_->sync_o;
    progressed_ = top_->progress_o;
    events_.counted = top_->dbg_inc_o;
    events_.started = top_->dbg_pop_o;

    top_->clk_i = 1;
    eval();
    start_pending_ = false;
    ++cycle_;
  }

  bool done() const override { return top_->done_o && !start_pending_; }
  bool progressed() const override { return progressed_; }
  spec::CoreError error() const override { return static_cast<spec::CoreError>(top_->err_code_o); }
  std::uint32_t error_pc() const override { return top_->err_pc_o; }
  std::uint64_t cycles() const override { return cycle_; }
  CoreEvents events() const override { return events_; }

  static_assert(spec::kCounters.size() <= 32, "CoreEvents::counted holds a bit per counter");
  static_assert(sizeof(std::declval<VTop&>().perf_o) == sizeof(CorePerf),
                "sa_core has one perf_o entry per counter of the contract");
  CorePerf perf() const override {
    CorePerf p{};
    for (unsigned i = 0; i < p.size(); ++i) p[i] = top_->perf_o[i];
    return p;
  }

  std::string dump_state() const override {
    std::ostringstream s;
    const auto q = [&](unsigned i) { return port::get(top_->dbg_qcount_o, i, 8); };
    const auto t = [&](unsigned i) { return port::get(top_->dbg_tokens_o, i, 16); };
    const unsigned busy = top_->dbg_busy_o, wait = top_->dbg_wait_o;
    s << "core state at cycle " << cycle_ << ": next instruction " << top_->dbg_pc_o
      << (top_->done_o   ? ", done"
          : top_->busy_o ? ", running"
                         : ", idle")
      << "\n"
      << "  queues: fetched " << q(0) << ", LOAD " << q(1) << ", EXEC " << q(2) << ", STORE "
      << q(3) << "\n"
      << "  tokens: load->exec " << t(0) << ", exec->load " << t(1) << ", exec->store " << t(2)
      << ", store->exec " << t(3) << "\n"
      << "  busy: fetch " << (busy & 1) << ", load " << ((busy >> 1) & 1) << ", exec "
      << ((busy >> 2) & 1) << ", store " << ((busy >> 3) & 1) << "\n"
      << "  heads waiting for a token: LOAD " << (wait & 1) << ", EXEC from LOAD "
      << ((wait >> 1) & 1) << ", EXEC from STORE " << ((wait >> 2) & 1) << ", STORE "
      << ((wait >> 3) & 1) << "\n";
    if (top_->dbg_sync_o)
      s << "  at a SYNC: " << (top_->sync_o ? "drained, waiting for the other cores" : "draining")
        << "\n";
    return s.str();
  }

 private:
  void eval() {
    v_.eval();
    check();
  }
  void check() {
    v_.check([this] { return "sa_core (" + spec::core_name(spec_) + ")"; }, cycle_);
  }

  spec::CoreSpec spec_;
  VerilatedTop<VTop> v_;
  VTop* const top_ = v_.top.get();
  std::uint64_t cycle_ = 0;
  bool start_pending_ = false;
  bool progressed_ = false;
  CoreEvents events_;
};

}  // namespace sasim::cosim
