// ArrayModel on top of one Verilator-generated class (Vsa_array_<variant>).
// Only the generated registry (cosim/variants.cpp.in) includes this header.
#pragma once

#include <verilated.h>
#include <verilated_fst_c.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <type_traits>

#include "sasim/cosim/array_model.hpp"
#include "sasim/cosim/verilated_top.hpp"

namespace sasim::cosim {

namespace port {

// Element i of width w of a packed port, for every Verilator port type
// (CData/SData/IData/QData up to 64 bits, VlWide above). Elements never
// straddle a 32-bit word because w is 8, 16 or 32 and they are w-aligned.
template <typename T>
inline void put(T& p, unsigned i, unsigned w, std::uint32_t v) {
  if constexpr (std::is_integral_v<T>) {
    const unsigned lsb = i * w;
    const std::uint64_t mask = ((w == 64) ? ~0ULL : ((1ULL << w) - 1)) << lsb;
    p = static_cast<T>((static_cast<std::uint64_t>(p) & ~mask) |
                       ((static_cast<std::uint64_t>(v) << lsb) & mask));
  } else {
    const unsigned lsb = i * w;
    const unsigned word = lsb / 32, sh = lsb % 32;
    const std::uint32_t mask = (w == 32) ? ~0u : (((1u << w) - 1) << sh);
    p[word] = (p[word] & ~mask) | ((v << sh) & mask);
  }
}

template <typename T>
inline std::uint32_t get(const T& p, unsigned i, unsigned w) {
  const unsigned lsb = i * w;
  if constexpr (std::is_integral_v<T>) {
    const std::uint64_t v = static_cast<std::uint64_t>(p) >> lsb;
    return static_cast<std::uint32_t>(w == 32 ? v : (v & ((1ULL << w) - 1)));
  } else {
    const std::uint32_t v = p[lsb / 32] >> (lsb % 32);
    return w == 32 ? v : (v & ((1u << w) - 1));
  }
}

}  // namespace port

template <class VTop>
class VerilatedArray final : public ArrayModel {
 public:
  VerilatedArray(const spec::CoreSpec& s, const ArrayModelOptions& opt)
      : spec_(s),
        width_(model::op_width(s.datapath)),
        v_("sa_array", opt.wave_file, opt.rand_reset, opt.seed) {
    reset();
  }

  const spec::CoreSpec& spec() const override { return spec_; }

  void reset() override {
    top_->pre_valid_i = 0;
    top_->in_valid_i = 0;
    top_->out_ready_i = 1;
    top_->dataflow_i = 0;
    v_.reset();
    v_.check([this] { return spec::array_name(spec_); }, 0);
    cycle_ = 0;
  }

  void set_dataflow(model::Dataflow df) override {
    top_->dataflow_i = static_cast<std::uint8_t>(df);
  }
  void set_pre(bool valid, std::span<const std::uint16_t> row) override {
    top_->pre_valid_i = valid;
    if (valid)
      for (unsigned c = 0; c < spec_.cols; ++c) port::put(top_->pre_data_i, c, width_, row[c]);
  }
  void set_in(bool valid, std::span<const std::uint16_t> a, std::span<const std::uint16_t> b,
              bool first, bool last) override {
    top_->in_valid_i = valid;
    top_->in_first_i = first;
    top_->in_last_i = last;
    if (!valid) return;
    for (unsigned r = 0; r < spec_.rows; ++r) port::put(top_->in_a_i, r, width_, a[r]);
    if (!b.empty())
      for (unsigned c = 0; c < spec_.cols; ++c) port::put(top_->in_b_i, c, width_, b[c]);
  }
  void set_out_ready(bool ready) override { top_->out_ready_i = ready; }

  // The falling edge and the new inputs are evaluated together: one eval per
  // clock phase.
  void settle() override {
    top_->clk_i = 0;
    v_.eval();
    v_.check([this] { return spec::array_name(spec_); }, cycle_);
  }

  bool pre_ready() const override { return top_->pre_ready_o; }
  bool in_ready() const override { return top_->in_ready_o; }
  bool out_valid() const override { return top_->out_valid_o; }
  bool out_last() const override { return top_->out_last_o; }
  bool idle() const override { return top_->idle_o; }
  void out_data(std::span<std::uint32_t> row) const override {
    for (unsigned c = 0; c < spec_.cols; ++c) row[c] = port::get(top_->out_data_o, c, 32);
  }

  void tick() override {
    top_->clk_i = 1;
    v_.eval();
    v_.check([this] { return spec::array_name(spec_); }, cycle_);
    ++cycle_;
  }
  std::uint64_t cycle() const override { return cycle_; }

 private:
  spec::CoreSpec spec_;
  unsigned width_;
  VerilatedTop<VTop> v_;
  VTop* const top_ = v_.top.get();
  std::uint64_t cycle_ = 0;
};

}  // namespace sasim::cosim
