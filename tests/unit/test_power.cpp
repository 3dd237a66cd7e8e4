// Power over time and the governor (app/power.hpp): the power section's
// checks, voltage scaling, windows that add up to the energy model, and the
// governor's steps down, up and its backoff, on made-up windows.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "sasim/app/config.hpp"
#include "sasim/app/energy.hpp"
#include "sasim/app/power.hpp"
#include "sasim/cosim/device.hpp"

using namespace sasim;
using ::testing::HasSubstr;

namespace {

const char* kDvfs = "dvfs_mhz: [1000, 800, 600, 400], dvfs_volts: [0.9, 0.8, 0.7, 0.6]";

app::Config config(const std::string& power) {
  return app::parse_config(
      "core: {rows: 4, cols: 8, spad_rows: 512, acc_rows: 256}\n"
      "power: {" +
          power + "}\n",
      "p.yaml");
}

std::string error_of(const std::string& power) {
  try {
    config(power);
  } catch (const app::ConfigError& e) {
    return e.what();
  }
  return "";
}

// A window of `cycles` at `mhz` with DRAM traffic and array steps.
cosim::DeviceWindow window(std::uint64_t first, std::uint64_t cycles, double mhz,
                           std::uint64_t dram_bytes, std::uint64_t steps) {
  cosim::DeviceWindow w;
  w.first_cycle = first;
  w.cycles = cycles;
  w.start_us = double(first) / mhz;
  w.end_us = double(first + cycles) / mhz;
  w.clock_mhz = mhz;
  w.counters.set("core.cycles", cycles);
  w.counters.set("core.array_steps", steps);
  w.counters.set("core.spad_reads", steps);
  w.counters.set("device.mem.dram.bytes_read", dram_bytes);
  return w;
}

}  // namespace

TEST(Power, SectionChecks) {
  EXPECT_THAT(error_of("cap_watts: -1"),
              HasSubstr("p.yaml: power.cap_watts: -1 is out of range (allowed 0..1e6 W"));
  EXPECT_THAT(error_of("cap_watts: 1"),
              HasSubstr("power.cap_watts: a cap needs at least two DVFS steps"));
  EXPECT_THAT(error_of("dvfs_mhz: [1000, 500], dvfs_volts: [0.9]"),
              HasSubstr("power.dvfs_volts: 1 entries for 2 in dvfs_mhz"));
  EXPECT_THAT(error_of("dvfs_mhz: [900, 500], dvfs_volts: [0.9, 0.8]"),
              HasSubstr("power.dvfs_mhz: none of the steps is core.clock_mhz = 1000"));
  EXPECT_THAT(error_of("dvfs_mhz: [1000, 2000], dvfs_volts: [0.9, 1]"),
              HasSubstr("power.dvfs_mhz[1]: 2000 is out of range (allowed above 0, up to "
                        "core.clock_mhz = 1000)"));
  EXPECT_THAT(error_of("dvfs_mhz: [1000, 500], dvfs_volts: [0.7, 0.9]"),
              HasSubstr("a faster step needs at least the voltage of a slower one"));
  EXPECT_THAT(error_of("dvfs_mhz: [1000, 1000], dvfs_volts: [0.9, 0.9]"),
              HasSubstr("power.dvfs_mhz[1]: 1000 is listed twice"));
  EXPECT_THAT(error_of("dvfs_mhz: 1000"), HasSubstr("power.dvfs_mhz: must be a list of 0..16"));
  EXPECT_THAT(error_of(std::string("cap_watts: 1, sample_cycles: 0, ") + kDvfs),
              HasSubstr("power.sample_cycles: 0 (no sampling) with a cap"));
  EXPECT_THAT(error_of("compare_uncapped: true"),
              HasSubstr("power.compare_uncapped: true without a cap"));
  EXPECT_EQ(error_of(std::string("cap_watts: 2.5, ") + kDvfs), "");
  // The steps come fastest first whatever the file's order.
  const auto s = app::dvfs_steps(
      config("dvfs_mhz: [400, 1000, 600], dvfs_volts: [0.6, 0.9, 0.7]").power, 1000);
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s[0].mhz, 1000);
  EXPECT_EQ(s[2].volts, 0.6);
}

TEST(Power, VoltageScalesTheCoreOnly) {
  const app::Config cfg = config("");
  spec::Counters c;
  c.set("core.cycles", 100);
  c.set("core.spad_reads", 10);
  c.set("core.vec_rows", 3);
  c.set("device.mem.dram.bytes_read", 64);
  const nlohmann::json e = app::energy_json(cfg, c, 500);
  const nlohmann::json h = app::scale_energy(e, 0.5, 0.5);
  for (const char* k : {"mac", "scratchpad", "vector"})
    EXPECT_DOUBLE_EQ(h["components"][k].get<double>(), 0.25 * e["components"][k].get<double>())
        << k;
  EXPECT_DOUBLE_EQ(h["components"]["dram"].get<double>(), e["components"]["dram"].get<double>());
  EXPECT_LT(h["total_pj"].get<double>(), e["total_pj"].get<double>());
}

TEST(Power, WindowsAddUpToTheEnergyModel) {
  const app::Config cfg = config("sample_cycles: 100");
  app::PowerMonitor m(cfg);
  spec::Counters total;
  for (int i = 0; i < 5; ++i) {
    const auto w = window(100 * i, 100, 1000, 64 * i, 40 + 10 * i);
    total.add(w.counters);
    m.window(w);
  }
  const double macs = 0.5 * 32 * (40 + 50 + 60 + 70 + 80);  // half of every step useful
  m.add_useful_macs(macs);
  const nlohmann::json j = m.json();
  const nlohmann::json e = app::energy_json(cfg, total, macs);
  // Tolerances: the windows sum the same terms in another order (double
  // rounding, about 1e-16 relative per addition).
  EXPECT_NEAR(j["energy_pj"].get<double>(), e["total_pj"].get<double>(),
              1e-9 * e["total_pj"].get<double>());
  EXPECT_NEAR(j["seconds"].get<double>(), 500e-9, 1e-15);
  EXPECT_NEAR(j["average_w"].get<double>(), e["total_pj"].get<double>() * 1e-12 / 500e-9, 1e-9);
  // power.csv: a header and a row per window, its power column the windows'.
  std::istringstream csv(m.csv());
  std::string line;
  int rows = -1;
  while (std::getline(csv, line)) ++rows;
  EXPECT_EQ(rows, 5);
  EXPECT_DOUBLE_EQ(j["peak_w"].get<double>(), m.window_power(4)["total_w"].get<double>());
}

TEST(Power, GovernorStepsDownUpAndBacksOff) {
  // DRAM energy only: 162.5 pJ/B. 1000 cycles at 1 GHz = 1 us; 6154 B/us = 1 W.
  const app::Config cfg = config(std::string("cap_watts: 1.0, sample_cycles: 1000, ") + kDvfs);
  app::PowerMonitor m(cfg);
  std::uint64_t cyc = 0;
  // A workload whose DRAM traffic per core cycle is fixed: power ~ f.
  const auto step = [&](std::uint64_t bytes_per_kcycle) {
    const double mhz = m.current().mhz;
    m.window(window(cyc, 1000, mhz, bytes_per_kcycle, 0));
    cyc += 1000;
    return m.govern();
  };
  // 1.6 W at 1 GHz: down to 800 (1.28 W), 600 (0.96 W): under the cap. A
  // step that broke the cap is not tried again for 4 steps (call numbers
  // from 1: 1000 banned until call 5, 800 until call 6).
  std::vector<double> got;
  for (int i = 0; i < 3; ++i) got.push_back(step(9846));
  // The load drops to a third: 800 again at call 6 (0.43 W predicted), 1000 at 7.
  for (int i = 0; i < 4; ++i) got.push_back(step(3282));
  // Back to 1.6 W: 1000 and 800 break the cap again; their bans double (8
  // steps): 800 from call 17, 1000 from call 18 although the load is low.
  for (int i = 0; i < 2; ++i) got.push_back(step(9846));
  for (int i = 0; i < 9; ++i) got.push_back(step(3282));
  EXPECT_THAT(got, ::testing::ElementsAre(800, 600, 600,                           // 1-3
                                          600, 600, 800, 1000,                     // 4-7
                                          800, 600,                                // 8-9
                                          600, 600, 600, 600, 600, 600, 600, 800,  // 10-17
                                          1000));                                  // 18
  // The segment's last step ran at 800 MHz, from step 17 (0-based) on.
  EXPECT_EQ(m.json()["segments"]["run"]["mhz"].get<double>(), 800);
  EXPECT_EQ(m.json()["segments"]["run"]["settled_after"].get<int>(), 17);
  EXPECT_EQ(m.json()["changes"].size(), 8u);
  EXPECT_EQ(m.json()["changes"][7]["step"].get<int>(), 18);
}
