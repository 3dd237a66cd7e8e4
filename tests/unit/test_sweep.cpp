// Sweep files (app/sweep.hpp): expansion (product, zip groups, exclusions),
// the points' configs, and the errors that name file, field and value.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "sasim/app/sweep.hpp"

namespace fs = std::filesystem;
using namespace sasim;
using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

namespace {

// A sweep file in a fresh folder, beside a base config.
class SweepFile : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        fs::temp_directory_path() /
        ("sasim_test_sweep_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
         "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    std::ofstream(dir_ / "base.yaml") << "core: {rows: 8, cols: 8}\ngemm: {m: 16, k: 16, n: 16}\n";
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path write(const std::string& text) {
    const fs::path f = dir_ / "s.yaml";
    std::ofstream(f) << text;
    return f;
  }
  app::Sweep load(const std::string& text, bool skip_invalid = false,
                  const std::vector<std::string>& overrides = {}) {
    return app::load_sweep(write(text), overrides, skip_invalid);
  }
  std::string error(const std::string& text) {
    try {
      load(text);
    } catch (const app::SweepError& e) {
      return e.what();
    }
    return "no error";
  }
  fs::path dir_;
};

TEST_F(SweepFile, ProductZipAndExclusions) {
  const app::Sweep s = load(
      "base: base.yaml\n"
      "axes: {core.dataflow: [ws, os, is]}\n"
      "zip:\n  - {core.rows: [4, 8], core.cols: [4, 16]}\n"
      "exclude:\n  - {core.dataflow: is, core.rows: 8}\n");
  EXPECT_EQ(s.command, "run");
  EXPECT_EQ(s.name, "s");
  EXPECT_EQ(s.axis_keys, (std::vector<std::string>{"core.dataflow", "core.rows", "core.cols"}));
  ASSERT_EQ(s.points.size(), 5u);  // 3 x 2 - 1
  EXPECT_EQ(s.excluded, 1u);
  // The last factor varies fastest; zip keys move together.
  EXPECT_EQ(s.points[0].set_text(), "core.dataflow=ws core.rows=4 core.cols=4");
  EXPECT_EQ(s.points[1].set_text(), "core.dataflow=ws core.rows=8 core.cols=16");
  EXPECT_EQ(s.points[4].set_text(), "core.dataflow=is core.rows=4 core.cols=4");
  // Each point is its own, validated config.
  EXPECT_EQ(s.points[1].config.core.cols, 16u);
  EXPECT_EQ(s.points[1].config.gemm.m, 16u);
  EXPECT_EQ(s.points[2].config.core.dataflow, isa::Dataflow::kOs);
  // Names are stable and distinct.
  EXPECT_EQ(s.points[0].id, load("base: base.yaml\naxes: {core.dataflow: [ws]}\n"
                                 "zip:\n  - {core.rows: [4], core.cols: [4]}\n")
                                .points[0]
                                .id);
  EXPECT_NE(s.points[0].id, s.points[1].id);
}

TEST_F(SweepFile, SetAndCommandLineApplyToEveryPoint) {
  const app::Sweep s =
      load("base: base.yaml\nset: {gemm.m: 40}\naxes: {core.rows: [4, 8]}\n", false, {"gemm.n=24"});
  for (const auto& p : s.points) {
    EXPECT_EQ(p.config.gemm.m, 40u);
    EXPECT_EQ(p.config.gemm.n, 24u);
  }
}

TEST_F(SweepFile, BadFieldsNameFileFieldAndValue) {
  const std::string f = (dir_ / "s.yaml").string();
  EXPECT_EQ(error("base: base.yaml\naxis: {core.rows: [4]}\n"),
            f + ": axis: not a sweep field (allowed: description, command, base, set, axes, zip, "
                "exclude, plots)");
  EXPECT_EQ(error("base: base.yaml\ncommand: jog\naxes: {core.rows: [4]}\n"),
            f + ": command: 'jog' is not allowed (allowed run, array, train, mem)");
  EXPECT_EQ(error("axes: {core.rows: [4]}\n"),
            f + ": base: missing: the config every point starts from");
  EXPECT_EQ(error("base: base.yaml\naxes: {core.rows: []}\n"),
            f + ": axes.core.rows: expected a non-empty list of values, e.g. [4, 8, 16]");
  EXPECT_EQ(error("base: base.yaml\naxes: {core.rows: [4, 4]}\n"),
            f + ": axes.core.rows: the value 4 appears twice");
  EXPECT_EQ(error("base: base.yaml\naxes: {core..rows: [4]}\n"),
            f + ": axes: 'core..rows' is not a config key path (e.g. core.rows, memory.dram.tCL)");
  EXPECT_EQ(error("base: base.yaml\nzip:\n  - {core.rows: [4, 8], core.cols: [4]}\n"),
            f + ": zip[0].core.cols: 1 values where core.rows has 2 (the lists of a zip group "
                "advance together)");
  EXPECT_EQ(error("base: base.yaml\naxes: {core.rows: [4]}\nzip:\n  - {core.rows: [8]}\n"),
            f + ": zip[0].core.rows: 'core.rows' is swept twice");
  EXPECT_EQ(error("base: base.yaml\naxes: {core.rows: [4]}\nexclude: [{core.cols: 4}]\n"),
            f + ": exclude[0].core.cols: not an axis of this sweep (axes: core.rows)");
  EXPECT_EQ(error("base: base.yaml\naxes: {core.rows: [4]}\nexclude: [{core.rows: 4}]\n"),
            f + ": exclude: every point is excluded");
  EXPECT_EQ(
      error("base: base.yaml\naxes: {core.rows: [4]}\nplots: [{x: core.rows, y: speed}]\n"),
      f + ": plots[0].y: 'speed' is not a metric (allowed cycles, simulated_us, "
          "pe_utilization, macs, achieved_macs_per_s, dram_bytes, dram_gbps, l2_hit_rate, "
          "row_hit_rate, match, energy_uj, pj_per_mac, avg_power_w, peak_power_w, wall_seconds, "
          "sim_cycles_per_s)");
  EXPECT_EQ(error("base: base.yaml\naxes: {core.rows: [4]}\nplots: [{x: core.cols, y: cycles}]\n"),
            f + ": plots[0].x: 'core.cols' is not an axis (axes: core.rows)");
  EXPECT_EQ(error("base: none.yaml\naxes: {core.rows: [4]}\n"),
            f + ": base: " + (dir_ / "none.yaml").string() + ": configuration file does not exist");
  EXPECT_EQ(error("base: base.yaml\nset: {core.rows: 1}\naxes: {core.cols: [4]}\n"),
            f + ": base and set: " + (dir_ / "base.yaml").string() +
                ": core.rows: 1 is out of range (allowed 2..256)");
  // Typos that would otherwise go unnoticed.
  EXPECT_EQ(error("base: base.yaml\naxes: {core.rows: [4, 8]}\nexclude: [{core.rows: 16}]\n"),
            f + ": exclude[0].core.rows: 16 is not a value of this axis (values: 4, 8)");
  EXPECT_EQ(error("base: base.yaml\naxes: {core.rows: [4]}\naxes: {core.cols: [4]}\n"),
            f + ": axes: duplicate key");
  EXPECT_EQ(error("base: base.yaml\naxes: {core.rows: [4], core.rows: [8]}\n"),
            f + ": axes.core.rows: duplicate key");
  EXPECT_EQ(error("base: base.yaml\naxes: {[core.rows]: [4, 8]}\n"),
            f + ": axes: a key must be a name or key path, not a list or map");
  EXPECT_EQ(error("base: base.yaml\ncommand: [run]\naxes: {core.rows: [4]}\n"),
            f + ": command: expected a single value");
  EXPECT_THAT(error("base: base.yaml\nset: {core.rows: 4}\naxes: {core.rows: [4]}\n"),
              HasSubstr("set: 'core.rows' is also an axis"));
}

// A bad axis value stops the sweep before anything runs, naming the point's
// values and the config's own error; --skip-invalid keeps it, with its error.
TEST_F(SweepFile, InvalidPointsAreNamedOrKept) {
  const std::string text =
      "base: base.yaml\naxes: {core.rows: [4, 300], core.dataflow: [ws, xs]}\n";
  EXPECT_THAT(error(text),
              HasSubstr(": 3 of 4 points have an invalid config:\n  point 1 (core.rows=4 "
                        "core.dataflow=xs): " +
                        (dir_ / "base.yaml").string() + ": core.dataflow: "));
  EXPECT_THAT(error(text), HasSubstr("core.rows: 300 is out of range (allowed 2..256)"));
  const app::Sweep s = load(text, true);
  ASSERT_EQ(s.points.size(), 4u);
  EXPECT_EQ(s.points[0].error, "");
  EXPECT_THAT(s.points[2].error, HasSubstr("core.rows: 300 is out of range"));
}

}  // namespace
