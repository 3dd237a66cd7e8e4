#include "sasim/cosim/array_runner.hpp"

#include <random>
#include <sstream>
#include <stdexcept>

namespace sasim::cosim {

ArrayRunResult run_program(ArrayModel& array, const ArrayProgram& p, const Handshakes& hs,
                           const RunLimits& limits) {
  const spec::CoreSpec& s = array.spec();
  const bool os = p.dataflow == model::Dataflow::kOs;
  const std::size_t n_pre = p.pre.size() / s.cols;
  const std::size_t n_in = p.in_flags.size();
  if (p.pre.size() != n_pre * s.cols || p.in_a.size() != n_in * s.rows ||
      (os && p.in_b.size() != n_in * s.cols)) {
    throw std::invalid_argument("run_program: beat vectors do not match the array shape " +
                                spec::array_name(s));
  }

  ArrayRunResult res;
  res.out.assign(p.expected_outputs * s.cols, 0);
  res.out_last.assign(p.expected_outputs, 0);

  // Raw engine output only, so that a seed replays the same handshakes with
  // every standard library.
  std::mt19937_64 rng(hs.seed);
  auto chance = [&](double prob) {
    return prob >= 1.0 || static_cast<double>(rng() >> 11) * 0x1.0p-53 < prob;
  };

  array.reset();
  array.set_dataflow(p.dataflow);
  std::size_t pre_i = 0, in_i = 0, out_i = 0;
  std::uint64_t last_progress = 0;
  const std::uint64_t start = array.cycle();
  // A beat offered once stays offered until it is taken (valid/ready rule).
  bool pre_offer = false, in_offer = false;

  while (out_i < p.expected_outputs || pre_i < n_pre || in_i < n_in) {
    const std::uint64_t now = array.cycle();
    if (!pre_offer) pre_offer = pre_i < n_pre && chance(hs.pre_valid);
    if (!in_offer) in_offer = in_i < n_in && chance(hs.in_valid);
    const bool ready = chance(hs.out_ready);

    array.set_pre(pre_offer,
                  std::span(p.pre).subspan(pre_offer ? pre_i * s.cols : 0, pre_offer ? s.cols : 0));
    if (in_offer) {
      const std::uint8_t f = p.in_flags[in_i];
      array.set_in(
          true, std::span(p.in_a).subspan(in_i * s.rows, s.rows),
          os ? std::span(p.in_b).subspan(in_i * s.cols, s.cols) : std::span<const std::uint16_t>{},
          (f & ArrayProgram::kFirst) != 0, (f & ArrayProgram::kLast) != 0);
    } else {
      array.set_in(false, {}, {}, false, false);
    }
    array.set_out_ready(ready);
    array.settle();

    bool progress = false;
    if (pre_offer && array.pre_ready()) {
      ++pre_i;
      pre_offer = false;
      progress = true;
    }
    if (in_offer && array.in_ready()) {
      ++in_i;
      in_offer = false;
      progress = true;
    }
    if (array.out_valid()) {
      if (ready) {
        if (out_i >= p.expected_outputs) {
          throw std::runtime_error("array " + spec::array_name(s) + " produced more than the " +
                                   std::to_string(p.expected_outputs) + " expected results");
        }
        array.out_data(std::span(res.out).subspan(out_i * s.cols, s.cols));
        res.out_last[out_i] = array.out_last();
        ++out_i;
        progress = true;
        res.cycles = now - start + 1;
      } else {
        ++res.stall_cycles;
      }
    }
    if (progress) last_progress = now;
    if (now - last_progress > limits.watchdog_cycles) {
      std::ostringstream msg;
      msg << "watchdog: no handshake for " << limits.watchdog_cycles << " cycles on array "
          << spec::array_name(s) << " (" << model::to_string(p.dataflow) << ") at cycle " << now
          << "\n  preload beats " << pre_i << "/" << n_pre << ", pre_valid " << pre_offer
          << " pre_ready " << array.pre_ready() << "\n  input beats " << in_i << "/" << n_in
          << ", in_valid " << in_offer << " in_ready " << array.in_ready() << "\n  outputs "
          << out_i << "/" << p.expected_outputs << ", out_valid " << array.out_valid()
          << " out_ready " << ready << ", idle " << array.idle();
      throw WatchdogError(msg.str());
    }
    array.tick();
  }
  return res;
}

}  // namespace sasim::cosim
