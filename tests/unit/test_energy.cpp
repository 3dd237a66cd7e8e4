// The energy model (app/energy.hpp): each coefficient moves exactly its
// component, the SRAM scaling, the checks on the energy section.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <utility>

#include "sasim/app/config.hpp"
#include "sasim/app/energy.hpp"

using namespace sasim;
using ::testing::HasSubstr;

namespace {

// The counters of a made-up run on a 4x8 int8 core.
spec::Counters counters() {
  spec::Counters c;
  for (const auto& [name, v] : std::initializer_list<std::pair<const char*, std::uint64_t>>{
           {"core.cycles", 1000},
           {"core.spad_reads", 300},
           {"core.spad_writes", 100},
           {"core.acc_reads", 50},
           {"core.acc_writes", 70},
           {"core.vec_rows", 20},
           {"device.mem.noc.bytes", 4096},
           {"device.mem.l2.misses", 10},
           {"device.mem.l2.writebacks", 2},
           {"device.mem.dram.bytes_read", 640},
           {"device.mem.dram.bytes_written", 128},
           {"device.mem.dram.activates", 3}})
    c.set(name, v);
  return c;
}

app::Config config(const std::string& energy = "") {
  return app::parse_config(
      "core: {rows: 4, cols: 8, spad_rows: 512, acc_rows: 256}\nl2: {size_bytes: 65536}\n" +
          (energy.empty() ? "" : "energy: {" + energy + "}\n"),
      "e.yaml");
}

double comp(const nlohmann::json& j, const char* k) { return j.at("components").at(k); }

TEST(Energy, ComponentsFollowTheirCounters) {
  const app::Config cfg = config();
  const nlohmann::json j = app::energy_json(cfg, counters(), 20000);
  const double e8 = 1.25;  // pJ/B of an 8 KiB SRAM
  EXPECT_DOUBLE_EQ(comp(j, "mac"), 20000 * 0.23);
  EXPECT_DOUBLE_EQ(comp(j, "pe_idle"), 0.0);  // no public default: 0
  // Scratchpad: 512 rows of 8 bytes (W = 8, int8) = 4 KiB; 400 row accesses.
  EXPECT_DOUBLE_EQ(comp(j, "scratchpad"), 400 * 8 * e8 * std::sqrt(4096.0 / 8192));
  // Accumulator: 256 rows of 8 x 4 bytes = 8 KiB; 120 row accesses.
  EXPECT_DOUBLE_EQ(comp(j, "accumulator"), 120 * 32 * e8);
  EXPECT_DOUBLE_EQ(comp(j, "vector"), 20 * 8 * 4.6);
  EXPECT_DOUBLE_EQ(comp(j, "interconnect"), 0.0);
  // L2 (64 KiB): the interconnect's bytes plus a 64-byte line per miss and write-back.
  EXPECT_DOUBLE_EQ(comp(j, "l2"), (4096 + 12 * 64) * e8 * std::sqrt(8.0));
  EXPECT_DOUBLE_EQ(comp(j, "dram"), 768 * 162.5);
  EXPECT_DOUBLE_EQ(comp(j, "static"), 0.0);
  double sum = 0;
  for (const auto& [k, v] : j.at("components").items()) sum += v.get<double>();
  EXPECT_DOUBLE_EQ(j.at("total_pj").get<double>(), sum);
  EXPECT_DOUBLE_EQ(j.at("pj_per_mac").get<double>(), sum / 20000);
}

// Changing one coefficient changes its component, and the total by as much,
// and nothing else.
TEST(Energy, EachCoefficientMovesOnlyItsComponent) {
  const nlohmann::json base = app::energy_json(config(), counters(), 20000);
  const std::vector<std::pair<std::string, std::vector<const char*>>> cases = {
      {"mac_int8_pj: 1", {"mac"}},
      {"mac_bf16_pj: 9", {}},  // an int8 core
      {"pe_idle_pj: 0.5", {"pe_idle"}},
      {"sram_pj_per_byte_8kib: 2", {"scratchpad", "accumulator", "l2"}},
      {"vector_op_pj: 1", {"vector"}},
      {"interconnect_pj_per_byte: 0.7", {"interconnect"}},
      {"dram_pj_per_byte: 100", {"dram"}},
      {"dram_activate_pj: 1000", {"dram"}},
      {"static_pj_per_cycle: 3", {"static"}}};
  ASSERT_EQ(cases.size(), app::EnergyConfig::fields().size());
  for (const auto& [set, moved] : cases) {
    const nlohmann::json j = app::energy_json(config(set), counters(), 20000);
    double delta = 0;
    for (const auto& [k, v] : base.at("components").items()) {
      const bool should = std::find_if(moved.begin(), moved.end(),
                                       [&](const char* m) { return k == m; }) != moved.end();
      const double d = comp(j, k.c_str()) - v.get<double>();
      EXPECT_EQ(d != 0, should) << set << ": " << k;
      delta += d;
    }
    EXPECT_NEAR(j.at("total_pj").get<double>() - base.at("total_pj").get<double>(), delta,
                1e-6 * base.at("total_pj").get<double>())
        << set;
  }
}

TEST(Energy, Bf16UsesItsMacAndBypassSkipsTheL2) {
  app::Config cfg = app::parse_config(
      "core: {rows: 4, cols: 8, datapath: bf16, spad_rows: 512, acc_rows: 256}\nl2: {bypass: "
      "true}\n",
      "e.yaml");
  const nlohmann::json j = app::energy_json(cfg, counters(), 100);
  EXPECT_DOUBLE_EQ(comp(j, "mac"), 100 * 2.0);
  EXPECT_DOUBLE_EQ(comp(j, "l2"), 0.0);
  // Scratchpad rows of 8 bf16 elements: 16 bytes, 8 KiB in all.
  EXPECT_DOUBLE_EQ(comp(j, "scratchpad"), 400 * 16 * 1.25);
}

TEST(Energy, SumAddsPhases) {
  const nlohmann::json a = app::energy_json(config(), counters(), 1000);
  const nlohmann::json b = app::energy_json(config("mac_int8_pj: 1"), counters(), 3000);
  const nlohmann::json s = app::energy_sum({a, b});
  EXPECT_DOUBLE_EQ(s.at("total_pj").get<double>(),
                   a.at("total_pj").get<double>() + b.at("total_pj").get<double>());
  EXPECT_NEAR(s.at("pj_per_mac").get<double>(), s.at("total_pj").get<double>() / 4000, 1e-9);
  EXPECT_DOUBLE_EQ(comp(s, "dram"), 2 * comp(a, "dram"));
}

TEST(Energy, BadCoefficientsNameTheKey) {
  EXPECT_THAT([] { config("dram_pj_per_byte: -1"); },
              ::testing::ThrowsMessage<app::ConfigError>(::testing::StrEq(
                  "e.yaml: energy.dram_pj_per_byte: -1 is out of range (allowed 0..1e6 pJ)")));
  EXPECT_THAT([] { config("mac_int8_pj: .nan"); },
              ::testing::ThrowsMessage<app::ConfigError>(HasSubstr("energy.mac_int8_pj: ")));
  EXPECT_THAT([] { config("mac_fp8_pj: 1"); },
              ::testing::ThrowsMessage<app::ConfigError>(HasSubstr("energy.mac_fp8_pj")));
  // The effective config carries the section and reads back the same.
  const app::Config c = config("pe_idle_pj: 0.125");
  EXPECT_THAT(app::to_yaml(c), HasSubstr("pe_idle_pj: 0.125"));
  EXPECT_EQ(app::parse_config(app::to_yaml(c), "e.yaml").energy.pe_idle_pj, 0.125);
}

}  // namespace
