#include "sasim/app/power.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>
#include <stdexcept>

#include "sasim/app/config.hpp"
#include "sasim/app/energy.hpp"
#include "sasim/cosim/device.hpp"

namespace sasim::app {

namespace {

constexpr unsigned kMaxSteps = 16;
constexpr double kUpMargin = 0.97;  // step up only when the prediction stays 3 % under the cap
constexpr std::uint64_t kFirstBackoff = 4;

// The components that follow the core's clock and supply.
constexpr const char* kCoreDynamic[] = {"mac", "pe_idle", "scratchpad", "accumulator", "vector"};

std::string num(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%g", v);
  return b;
}

double comp(const nlohmann::json& e, const char* k) {
  return e.at("components").at(k).get<double>();
}

}  // namespace

void PowerConfig::validate(double core_mhz) const {
  if (!(std::isfinite(cap_watts) && cap_watts >= 0 && cap_watts <= 1e6))
    throw std::invalid_argument("cap_watts: " + num(cap_watts) +
                                " is out of range (allowed 0..1e6 W; 0: no cap)");
  if (dvfs_mhz.size() != dvfs_volts.size())
    throw std::invalid_argument("dvfs_volts: " + std::to_string(dvfs_volts.size()) +
                                " entries for " + std::to_string(dvfs_mhz.size()) +
                                " in dvfs_mhz (one voltage per clock)");
  if (dvfs_mhz.size() > kMaxSteps)
    throw std::invalid_argument("dvfs_mhz: " + std::to_string(dvfs_mhz.size()) +
                                " steps (allowed at most " + std::to_string(kMaxSteps) + ")");
  bool has_core = dvfs_mhz.empty();
  for (std::size_t i = 0; i < dvfs_mhz.size(); ++i) {
    const double f = dvfs_mhz[i], v = dvfs_volts[i];
    const std::string at = "[" + std::to_string(i) + "]";
    if (!(std::isfinite(f) && f > 0 && f <= core_mhz))
      throw std::invalid_argument(
          "dvfs_mhz" + at + ": " + num(f) +
          " is out of range (allowed above 0, up to core.clock_mhz = " + num(core_mhz) + ")");
    if (!(std::isfinite(v) && v > 0 && v <= 5))
      throw std::invalid_argument("dvfs_volts" + at + ": " + num(v) +
                                  " is out of range (allowed above 0, up to 5 V)");
    has_core = has_core || f == core_mhz;
    for (std::size_t j = 0; j < i; ++j) {
      if (dvfs_mhz[j] == f)
        throw std::invalid_argument("dvfs_mhz" + at + ": " + num(f) + " is listed twice");
      if ((dvfs_mhz[j] < f) != (dvfs_volts[j] <= v) && dvfs_volts[j] != v)
        throw std::invalid_argument(
            "dvfs_volts" + at + ": " + num(v) + " V at " + num(f) + " MHz against " +
            num(dvfs_volts[j]) + " V at " + num(dvfs_mhz[j]) +
            " MHz: a faster step needs at least the voltage of a slower one");
    }
  }
  if (!has_core)
    throw std::invalid_argument("dvfs_mhz: none of the steps is core.clock_mhz = " + num(core_mhz) +
                                " (the nominal step of the energy table)");
  if (cap_watts > 0 && dvfs_mhz.size() < 2)
    throw std::invalid_argument(
        "cap_watts: a cap needs at least two DVFS steps (power.dvfs_mhz and power.dvfs_volts)");
  if (cap_watts > 0 && sample_cycles == 0)
    throw std::invalid_argument(
        "sample_cycles: 0 (no sampling) with a cap: the governor needs "
        "the sampled power (allowed 1..1000000000)");
  if (compare_uncapped && cap_watts == 0)
    throw std::invalid_argument("compare_uncapped: true without a cap (power.cap_watts)");
}

std::vector<DvfsStep> dvfs_steps(const PowerConfig& p, double core_mhz) {
  std::vector<DvfsStep> s;
  for (std::size_t i = 0; i < p.dvfs_mhz.size(); ++i) s.push_back({p.dvfs_mhz[i], p.dvfs_volts[i]});
  if (s.empty()) s.push_back({core_mhz, 1.0});
  std::sort(s.begin(), s.end(), [](const DvfsStep& a, const DvfsStep& b) { return a.mhz > b.mhz; });
  return s;
}

nlohmann::json scale_energy(const nlohmann::json& energy, double v, double f) {
  nlohmann::json e = energy;
  auto& c = e.at("components");
  for (const char* k : kCoreDynamic) c[k] = c.at(k).get<double>() * v * v;
  c["static"] = c.at("static").get<double>() * v / f;
  double total = 0;
  for (const auto& [k, x] : c.items()) total += x.get<double>();
  const double old = energy.at("total_pj").get<double>();
  if (e.at("pj_per_mac").is_number() && old > 0)
    e["pj_per_mac"] = e.at("pj_per_mac").get<double>() * total / old;
  e["total_pj"] = total;
  return e;
}

PowerMonitor::PowerMonitor(const Config& cfg)
    : cfg_(cfg),
      steps_(dvfs_steps(cfg.power, cfg.core.clock_mhz)),
      pes_(double(cfg.core.rows) * cfg.core.cols),
      banned_until_(steps_.size(), 0),
      backoff_(steps_.size(), kFirstBackoff) {}

void PowerMonitor::window(const cosim::DeviceWindow& w) {
  Window x;
  x.first_cycle = w.first_cycle;
  x.cycles = w.cycles;
  x.step = calls_;
  x.start_us = w.start_us;
  x.end_us = w.end_us;
  // The clock the device ran at (the governor's, or core.clock_mhz).
  x.level = 0;
  for (unsigned i = 0; i < steps_.size(); ++i)
    if (steps_[i].mhz == w.clock_mhz) x.level = i;
  const auto n = [&](const std::string& k) {
    return w.counters.contains(k) ? double(w.counters.at(k)) : 0.0;
  };
  x.array_steps = n(spec::counter_name(spec::CounterId::kArraySteps));
  x.bus_bytes = n("device.bridge.read_bytes") + n("device.bridge.write_bytes");
  x.dram_bytes = n("device.mem.dram.bytes_read") + n("device.mem.dram.bytes_written");
  x.energy =
      scale_energy(energy_json(cfg_, w.counters, 0.0), steps_[x.level].volts / steps_[0].volts,
                   steps_[x.level].mhz / steps_[0].mhz);
  array_steps_ += x.array_steps;
  windows_.push_back(std::move(x));
}

double PowerMonitor::useful_fraction() const {
  if (array_steps_ <= 0 || useful_macs_ <= 0) return 1.0;
  return std::min(1.0, useful_macs_ / (array_steps_ * pes_));
}

nlohmann::json PowerMonitor::window_energy(const Window& w, double fraction) const {
  nlohmann::json e = w.energy;
  const double v = steps_[w.level].volts / steps_[0].volts;
  const double macs = w.array_steps * pes_ * fraction;
  const bool bf16 = cfg_.core.datapath == spec::Datapath::kBf16;
  auto& c = e.at("components");
  c["mac"] = macs * (bf16 ? cfg_.energy.mac_bf16_pj : cfg_.energy.mac_int8_pj) * v * v;
  c["pe_idle"] = std::max(0.0, pes_ * double(w.cycles) - macs) * cfg_.energy.pe_idle_pj * v * v;
  double total = 0;
  for (const auto& [k, x] : c.items()) total += x.get<double>();
  e["total_pj"] = total;
  e["pj_per_mac"] = macs > 0 ? nlohmann::json(total / macs) : nlohmann::json();
  return e;
}

nlohmann::json PowerMonitor::window_power(std::size_t i) const {
  const Window& w = windows_.at(i);
  const nlohmann::json e = window_energy(w, useful_fraction());
  const double us = w.end_us - w.start_us;
  nlohmann::json p = nlohmann::json::object();
  for (const auto& [k, x] : e.at("components").items())
    p[k] = us > 0 ? x.get<double>() / us * 1e-6 : 0.0;
  return {{"total_w", us > 0 ? e.at("total_pj").get<double>() / us * 1e-6 : 0.0},
          {"components", p}};
}

double PowerMonitor::govern() {
  if (segments_.empty() || segments_.back().first != segment_)
    segments_.emplace_back(segment_, calls_);
  ++calls_;
  const std::size_t from = governed_;
  governed_ = windows_.size();
  const double cap = cfg_.power.cap_watts;
  if (cap <= 0 || steps_.size() < 2 || from == windows_.size()) return steps_[level_].mhz;
  double peak = -1;
  nlohmann::json at_peak;
  for (std::size_t i = from; i < windows_.size(); ++i) {
    nlohmann::json p = window_power(i);
    if (p.at("total_w").get<double>() > peak) {
      peak = p.at("total_w").get<double>();
      at_peak = std::move(p);
    }
  }
  if (peak > cap) {
    if (level_ + 1 < steps_.size()) {
      banned_until_[level_] = calls_ + backoff_[level_];
      backoff_[level_] *= 2;
      ++level_;
      changes_.push_back({calls_, steps_[level_].mhz});
    }
  } else if (level_ > 0 && calls_ >= banned_until_[level_ - 1]) {
    // The peak window at the faster step: the core's dynamic power with
    // f V^2, leakage with V, the memory system's with the traffic the core
    // asks for per second (f).
    const DvfsStep &now = steps_[level_], &up = steps_[level_ - 1];
    const double rf = up.mhz / now.mhz, rv = up.volts / now.volts;
    double core = 0;
    for (const char* k : kCoreDynamic) core += at_peak.at("components").at(k).get<double>();
    const double stat = at_peak.at("components").at("static").get<double>();
    const double mem = peak - core - stat;
    if (core * rf * rv * rv + stat * rv + mem * rf <= kUpMargin * cap) {
      --level_;
      changes_.push_back({calls_, steps_[level_].mhz});
    }
  }
  return steps_[level_].mhz;
}

nlohmann::json PowerMonitor::json() const {
  const double f = useful_fraction();
  double energy = 0, seconds = 0, peak = 0;
  std::vector<double> cyc(steps_.size(), 0), sec(steps_.size(), 0);
  for (std::size_t i = 0; i < windows_.size(); ++i) {
    const Window& w = windows_[i];
    const double e = window_energy(w, f).at("total_pj").get<double>();
    const double us = w.end_us - w.start_us;
    energy += e;
    seconds += us * 1e-6;
    if (us > 0) peak = std::max(peak, e / us * 1e-6);
    cyc[w.level] += double(w.cycles);
    sec[w.level] += us * 1e-6;
  }
  nlohmann::json levels = nlohmann::json::array();
  for (std::size_t i = 0; i < steps_.size(); ++i)
    levels.push_back({{"mhz", steps_[i].mhz},
                      {"volts", steps_[i].volts},
                      {"cycles", cyc[i]},
                      {"seconds", sec[i]}});
  nlohmann::json j = {{"sample_cycles", cfg_.power.sample_cycles},
                      {"windows", windows_.size()},
                      {"energy_pj", energy},
                      {"seconds", seconds},
                      {"average_w", seconds > 0 ? energy * 1e-12 / seconds : 0.0},
                      {"peak_w", peak},
                      {"cap_watts", cfg_.power.cap_watts},
                      {"steps", levels}};
  if (cfg_.power.cap_watts > 0) {
    nlohmann::json ch = nlohmann::json::array(), seg = nlohmann::json::object();
    for (const Change& c : changes_) ch.push_back({{"step", c.step}, {"mhz", c.mhz}});
    for (std::size_t i = 0; i < segments_.size(); ++i) {
      const std::uint64_t first = segments_[i].second;
      const std::uint64_t end = i + 1 < segments_.size() ? segments_[i + 1].second : calls_;
      // The last change that takes effect inside the segment, and the clock
      // from then on.
      std::uint64_t settled = first;
      double mhz = steps_[0].mhz;
      for (const Change& c : changes_) {
        if (c.step < end) mhz = c.mhz;
        if (c.step > first && c.step < end) settled = c.step;
      }
      seg[segments_[i].first] = {{"first_step", first}, {"settled_after", settled}, {"mhz", mhz}};
    }
    j["changes"] = ch;
    j["segments"] = seg;
  }
  return j;
}

std::string PowerMonitor::csv() const {
  const double f = useful_fraction();
  std::ostringstream o;
  o << "step,start_us,end_us,cycles,clock_mhz,volts,pe_utilization,bus_gbps,dram_gbps,power_w";
  static const char* kComp[] = {"mac",          "pe_idle", "scratchpad", "accumulator", "vector",
                                "interconnect", "l2",      "dram",       "static"};
  for (const char* k : kComp) o << "," << k << "_w";
  o << "\n";
  char b[64];
  const auto put = [&](double v) {
    std::snprintf(b, sizeof b, ",%.6g", v);
    o << b;
  };
  for (const Window& w : windows_) {
    const nlohmann::json e = window_energy(w, f);
    const double us = w.end_us - w.start_us;
    const double to_w = us > 0 ? 1e-6 / us : 0.0;
    std::snprintf(b, sizeof b, "%llu,%.6f,%.6f,%llu", static_cast<unsigned long long>(w.step),
                  w.start_us, w.end_us, static_cast<unsigned long long>(w.cycles));
    o << b;
    put(steps_[w.level].mhz);
    put(steps_[w.level].volts);
    put(w.cycles ? w.array_steps * f / double(w.cycles) : 0.0);
    put(us > 0 ? w.bus_bytes / us * 1e-3 : 0.0);
    put(us > 0 ? w.dram_bytes / us * 1e-3 : 0.0);
    put(e.at("total_pj").get<double>() * to_w);
    for (const char* k : kComp) put(comp(e, k) * to_w);
    o << "\n";
  }
  return o.str();
}

std::string power_line(const nlohmann::json& j) {
  if (j.contains("skipped"))
    return "  power            not sampled: " + j.at("skipped").get<std::string>() + "\n";
  char b[400];
  std::snprintf(b, sizeof b, "  %-16s avg %.4g W, peak %.4g W (%llu-cycle windows)\n", "power",
                j.at("average_w").get<double>(), j.at("peak_w").get<double>(),
                static_cast<unsigned long long>(j.at("sample_cycles").get<std::uint64_t>()));
  std::string s = b;
  if (j.at("cap_watts").get<double>() > 0) {
    std::string at;
    const double total = j.at("seconds").get<double>();
    for (const auto& l : j.at("steps")) {
      const double sec = l.at("seconds").get<double>();
      if (sec <= 0) continue;
      std::snprintf(b, sizeof b, "%s%g MHz %.0f %%", at.empty() ? "" : ", ",
                    l.at("mhz").get<double>(), total > 0 ? 100.0 * sec / total : 0.0);
      at += b;
    }
    std::vector<std::pair<std::string, nlohmann::json>> segs;  // in the order they ran
    for (const auto& [name, g] : j.at("segments").items()) segs.emplace_back(name, g);
    std::sort(segs.begin(), segs.end(), [](const auto& a, const auto& b) {
      return a.second.at("first_step") < b.second.at("first_step");
    });
    std::string settled;
    for (const auto& [name, g] : segs) {
      std::snprintf(b, sizeof b, "%s%s %g MHz from step %llu", settled.empty() ? "" : ", ",
                    name.c_str(), g.at("mhz").get<double>(),
                    static_cast<unsigned long long>(g.at("settled_after").get<std::uint64_t>()));
      settled += b;
    }
    std::snprintf(b, sizeof b, "  %-16s %.4g W: %s; time at each clock: %s\n", "power cap",
                  j.at("cap_watts").get<double>(), settled.c_str(), at.c_str());
    s += b;
  }
  return s;
}

}  // namespace sasim::app
