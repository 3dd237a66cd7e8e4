// A behavioural AXI4 slave with randomised timing for RTL tests of sa_core
// without SystemC: random read/write latencies, random ready and valid gaps,
// read bursts answered in request order, write data applied with its strobes
// when the burst's last beat and its AW have both arrived (W beats wait for
// their AW, or with `w_before_aw`, as AXI4 allows and the TLM bridge does, are
// taken first). Memory is a flat byte array at `base`.
#pragma once

#include <cstdint>
#include <deque>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "sasim/cosim/axi.hpp"

namespace sasim::test {

class AxiTestMemory {
 public:
  struct Timing {
    unsigned min_latency = 1, max_latency = 20;  // cycles from request to response
    double ready_prob = 0.8;                     // ar/aw/w ready
    double valid_prob = 0.8;                     // r/b valid once a response is due
    bool w_before_aw = false;                    // take W beats before their AW
  };

  AxiTestMemory(std::uint64_t base, std::uint64_t size, unsigned bus_bytes, Timing t,
                std::uint32_t seed)
      : base_(base), mem_(size, 0), bus_(bus_bytes), t_(t), rng_(seed) {}

  std::uint8_t* at(std::uint64_t addr, std::uint64_t len) {
    if (addr < base_ || addr - base_ + len > mem_.size())
      throw std::out_of_range("AxiTestMemory: access outside memory at " + std::to_string(addr));
    return mem_.data() + (addr - base_);
  }

  // Signals for the coming cycle (never depends on the core's outputs of it).
  void drive(cosim::AxiIn& in) {
    in = cosim::AxiIn{};
    in.ar_ready = chance(t_.ready_prob);
    in.aw_ready = chance(t_.ready_prob);
    in.w_ready = (t_.w_before_aw || !aw_.empty()) && chance(t_.ready_prob);
    // AXI: a valid once raised stays until its handshake.
    if (!reads_.empty() && reads_.front().due <= now_ && (r_held_ || chance(t_.valid_prob))) {
      const Read& r = reads_.front();
      in.r_valid = true;
      in.r_id = r.id;
      in.r_last = r.beat == r.len;
      const std::uint64_t a = r.addr + std::uint64_t{r.beat} * bus_;
      if (a < base_ || a - base_ + bus_ > mem_.size()) {
        in.r_resp = cosim::kAxiRespDecErr;
      } else {
        for (unsigned b = 0; b < bus_; ++b) in.r_data[b] = mem_[a - base_ + b];
      }
    }
    if (!bresp_.empty() && bresp_.front().due <= now_ && (b_held_ || chance(t_.valid_prob))) {
      in.b_valid = true;
      in.b_id = bresp_.front().id;
      in.b_resp = bresp_.front().resp;
    }
    in_ = in;
  }

  // Transfers of the cycle just evaluated.
  void observe(const cosim::AxiOut& out) {
    if (out.ar_valid && in_.ar_ready) {
      if (out.ar_addr % bus_ != 0) throw std::runtime_error("AR address not bus aligned");
      reads_.push_back({out.ar_addr, out.ar_len, 0, out.ar_id, now_ + latency()});
      ++bursts_;
    }
    r_held_ = in_.r_valid && !out.r_ready;
    b_held_ = in_.b_valid && !out.b_ready;
    if (in_.r_valid && out.r_ready) {
      Read& r = reads_.front();
      if (r.beat == r.len)
        reads_.pop_front();
      else
        ++r.beat;
    }
    if (out.aw_valid && in_.aw_ready) {
      if (out.aw_addr % bus_ != 0) throw std::runtime_error("AW address not bus aligned");
      aw_.push_back({out.aw_addr, out.aw_len, 0, out.aw_id, 0});
    }
    if (out.w_valid && in_.w_ready) {
      if (wb_.empty() || wb_.back().last) wb_.emplace_back();
      WBurst& w = wb_.back();
      w.beats.push_back({out.w_data, out.w_strb});
      w.last = out.w_last;
      if (w.beats.size() > 256) throw std::runtime_error("more than 256 W beats without w_last");
    }
    // A burst whose AW and W beats are all in is written and answered.
    while (!aw_.empty() && !wb_.empty() && wb_.front().last) {
      const Read& aw = aw_.front();
      const WBurst& w = wb_.front();
      if (w.beats.size() != aw.len + 1) throw std::runtime_error("w_last on the wrong beat");
      bool err = false;
      for (std::size_t i = 0; i < w.beats.size(); ++i) {
        const std::uint64_t a = aw.addr + i * bus_;
        if (a < base_ || a - base_ + bus_ > mem_.size()) {
          err = true;
          continue;
        }
        for (unsigned b = 0; b < bus_; ++b)
          if ((w.beats[i].strb >> b) & 1u) mem_[a - base_ + b] = w.beats[i].data[b];
      }
      bresp_.push_back(
          {aw.id, err ? cosim::kAxiRespDecErr : cosim::kAxiRespOkay, now_ + latency()});
      aw_.pop_front();
      wb_.pop_front();
    }
    if (in_.b_valid && out.b_ready) bresp_.pop_front();
    ++now_;
  }

  bool idle() const { return reads_.empty() && aw_.empty() && wb_.empty() && bresp_.empty(); }
  std::uint64_t bursts() const { return bursts_; }

 private:
  struct Read {
    std::uint64_t addr;
    unsigned len, beat, id;
    std::uint64_t due;
  };
  struct WBeat {
    cosim::AxiData data;
    std::uint64_t strb;
  };
  struct WBurst {
    std::vector<WBeat> beats;
    bool last = false;
  };
  struct BResp {
    unsigned id, resp;
    std::uint64_t due;
  };
  bool chance(double p) { return std::uniform_real_distribution<double>(0, 1)(rng_) < p; }
  std::uint64_t latency() {
    return std::uniform_int_distribution<unsigned>(t_.min_latency, t_.max_latency)(rng_);
  }

  std::uint64_t base_;
  std::vector<std::uint8_t> mem_;
  unsigned bus_;
  Timing t_;
  std::mt19937 rng_;
  std::deque<Read> reads_, aw_;
  std::deque<WBurst> wb_;
  std::deque<BResp> bresp_;
  cosim::AxiIn in_{};
  std::uint64_t now_ = 0, bursts_ = 0;
  bool r_held_ = false, b_held_ = false;
};

}  // namespace sasim::test
