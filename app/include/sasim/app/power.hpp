// Power over time and a power-capped clock (docs/energy.md#power-over-time).
//
// The device is sampled every power.sample_cycles core cycles
// (CosimDevice::set_sampling); each window's energy is the energy model
// (energy.hpp) applied to the window's counters, at the window's DVFS step:
// the core's components (MAC, PE idle, scratchpad, accumulator, vector unit)
// scale with (V / V_nominal)^2, leakage with V / V_nominal per unit of time;
// the interconnect, L2 and DRAM keep their own clock and supply. The MAC
// energy of a window is its share of the useful MACs by the array's steps
// (the counters see steps, the kernels know the MACs), so the windows add
// up to the run's energy.
//
// The governor (power.cap_watts > 0) picks the core clock from
// power.dvfs_mhz / dvfs_volts after every training step and inference batch
// (a DVFS transition takes tens of microseconds on real parts, about one
// step here): one step down when a window of the last step drew more than
// the cap; one step up when the last step's highest window, rescaled to the
// faster step, stays 3 % under the cap, unless that step broke the cap
// before (it is then not tried for 4, 8, 16, ... steps). Nothing it does
// changes a computed value.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace sasim::cosim {
struct DeviceWindow;
}

namespace sasim::app {

struct Config;

struct PowerConfig {
  std::uint64_t sample_cycles = 10000;  // window length; 0: no sampling
  double cap_watts = 0;                 // 0: no cap
  std::vector<double> dvfs_mhz;         // the governor's clocks (one is core.clock_mhz)
  std::vector<double> dvfs_volts;       // the supply at each
  bool compare_uncapped = false;        // train: also run without the cap, report both

  // Throws std::invalid_argument "<key>: ..." (core_mhz: core.clock_mhz).
  void validate(double core_mhz) const;
};

struct DvfsStep {
  double mhz = 0, volts = 0;
};

// The DVFS steps, fastest first; the first is core.clock_mhz, at whose
// voltage the energy table holds. Without dvfs_mhz: that clock alone (1 V).
std::vector<DvfsStep> dvfs_steps(const PowerConfig& p, double core_mhz);

// An energy_json() result at supply ratio v = V / V_nominal and clock ratio
// f = f / f_nominal: core components x v^2, static x v / f.
nlohmann::json scale_energy(const nlohmann::json& energy, double v, double f);

// "  power            avg 1.23 W, peak 2.34 W (1000-cycle windows)\n" and, with
// a cap, a line on the clock the governor chose (from PowerMonitor::json()).
std::string power_line(const nlohmann::json& power);

class PowerMonitor {
 public:
  explicit PowerMonitor(const Config& cfg);

  // A window of the device (set_sampling's callback).
  void window(const cosim::DeviceWindow& w);
  // Useful MACs of what ran since the last call.
  void add_useful_macs(double macs) { useful_macs_ += macs; }
  // After a training step or an inference batch (counted from 0): the
  // governor's clock for what comes next (unchanged without a cap).
  double govern();
  // Names what runs from now on ("training", "inference"; "run" at first):
  // json() reports where the governor settled in each.
  void segment(const std::string& name) { segment_ = name; }
  const DvfsStep& current() const { return steps_[level_]; }
  // V / V_nominal and f / f_nominal of the current step.
  double v_ratio() const { return steps_[level_].volts / steps_[0].volts; }
  double f_ratio() const { return steps_[level_].mhz / steps_[0].mhz; }

  // Power of window i (W) with the MAC energy attributed by the useful MACs
  // seen so far; components as energy_json.
  nlohmann::json window_power(std::size_t i) const;
  std::size_t windows() const { return windows_.size(); }

  // {"sample_cycles", "windows", "average_w", "peak_w", "energy_pj",
  //  "seconds", "cap_watts", "steps" (per DVFS step: mhz, volts, cycles,
  //  seconds)} and with a cap "changes" ([{"step", "mhz"}]: from window
  //  step `step` on, the clock is `mhz`) and "segments" ({name: {"first_step",
  //  "settled_after" (the step from which its clock no longer changed),
  //  "mhz"}}).
  nlohmann::json json() const;
  // power.csv: one row per window.
  std::string csv() const;

 private:
  struct Window {
    std::uint64_t first_cycle = 0, cycles = 0, step = 0;
    double start_us = 0, end_us = 0;
    unsigned level = 0;
    double array_steps = 0, bus_bytes = 0, dram_bytes = 0;
    nlohmann::json energy;  // energy_json with no MACs, scaled to the level (pJ)
  };
  double useful_fraction() const;
  // Window energy by component (pJ), MACs attributed with `fraction`.
  nlohmann::json window_energy(const Window& w, double fraction) const;

  const Config& cfg_;
  std::vector<DvfsStep> steps_;
  double pes_ = 0;
  std::vector<Window> windows_;
  double useful_macs_ = 0, array_steps_ = 0;
  unsigned level_ = 0;
  std::uint64_t calls_ = 0;   // govern() calls so far
  std::size_t governed_ = 0;  // windows already seen by govern()
  struct Change {
    std::uint64_t step;
    double mhz;
  };
  std::vector<Change> changes_;
  std::vector<std::pair<std::string, std::uint64_t>> segments_;  // name, first step
  std::string segment_ = "run";
  std::vector<std::uint64_t> banned_until_, backoff_;
};

}  // namespace sasim::app
