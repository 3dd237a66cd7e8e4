// Verilated systolic array against the golden model: every output bit-exact,
// every cycle count equal to the documented formula (docs/array.md).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <tuple>

#include "sasim/app/array_job.hpp"
#include "sasim/cosim/array_gemm.hpp"
#include "sasim/cosim/array_model.hpp"
#include "sasim/cosim/variant_cache.hpp"
#include "sasim/model/gemm.hpp"

namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

using sasim::model::Dataflow;
using sasim::model::Datapath;
using sasim::model::OperandMix;
using sasim::model::RawMatrix;
using namespace sasim;  // spec, isa, model, mem, cosim, host, app

struct Case {
  Datapath dp;
  Dataflow df;
  unsigned rows, cols;
};

std::string case_name(const Case& c) {
  return std::string(model::to_string(c.dp)) + "_" + std::string(model::to_string(c.df)) + "_" +
         std::to_string(c.rows) + "x" + std::to_string(c.cols);
}

class ArrayGemm : public ::testing::TestWithParam<Case> {
 protected:
  // Runs one GEMM and checks it bit-exactly; with full handshakes also the
  // cycle count. Returns the run for further checks.
  cosim::GemmRun check(cosim::ArrayModel& array, Eigen::Index M, Eigen::Index K, Eigen::Index N,
                       std::uint64_t seed, OperandMix mix, const cosim::Handshakes& hs) {
    const Case& c = GetParam();
    std::mt19937_64 rng(seed);
    const RawMatrix a = model::random_operands(c.dp, M, K, rng, mix);
    const RawMatrix b = model::random_operands(c.dp, K, N, rng, mix);
    const cosim::GemmRun run = cosim::run_gemm(array, c.df, a, b, hs);
    const model::AccMatrix golden = model::gemm(c.dp, a, b, model::fold_size(c.df, c.rows, K));
    const auto mm = app::first_mismatch(golden, run.c);
    EXPECT_FALSE(mm.has_value())
        << case_name(c) << " GEMM " << M << "x" << K << "x" << N << " seed " << seed << " mix "
        << model::to_string(mix) << ": " << (mm ? mm->describe(c.dp) : "") << " from "
        << (mm ? app::origin_of(c.df, spec::core_of(c.dp, c.rows, c.cols), mm->row, mm->col) : "");
    const bool full = hs.pre_valid >= 1.0 && hs.in_valid >= 1.0 && hs.out_ready >= 1.0;
    if (full) {
      EXPECT_EQ(run.cycles, run.formula_cycles)
          << case_name(c) << " GEMM " << M << "x" << K << "x" << N;
    }
    return run;
  }
};

TEST_P(ArrayGemm, RandomTiles) {
  const Case& c = GetParam();
  auto array = cosim::make_array_model(spec::core_of(c.dp, c.rows, c.cols));
  const Eigen::Index R = c.rows, C = c.cols;
  // Shapes: one element, exact tiles, primes, several folds in every
  // dimension, short and long streams.
  const std::vector<std::tuple<Eigen::Index, Eigen::Index, Eigen::Index>> shapes = {
      {1, 1, 1},
      {R, R, C},
      {C, R, C},
      {7, 5, 3},
      {13, 2 * R + 3, C + 1},
      {2 * R + 1, 3 * R, 2 * C + 5},
      {4 * R + 3, R, C},
      {2, 3 * R - 1, 1},
  };
  const OperandMix mix = c.dp == Datapath::kBf16 ? OperandMix::kEdgeCases : OperandMix::kUniform;
  std::uint64_t seed = 100;
  for (const auto& [M, K, N] : shapes) check(*array, M, K, N, ++seed, mix, {});
}

TEST_P(ArrayGemm, RandomHandshakes) {
  const Case& c = GetParam();
  auto array = cosim::make_array_model(spec::core_of(c.dp, c.rows, c.cols));
  const Eigen::Index R = c.rows, C = c.cols;
  for (std::uint64_t seed = 1; seed <= 3; ++seed) {
    const cosim::Handshakes hs{0.7, 0.6, 0.5, seed};
    check(*array, 2 * R + 3, R + 5, C + 3, 200 + seed, OperandMix::kEdgeCases, hs);
  }
}

// bf16: infinities and NaNs (canonical NaN out); int8: the extremes.
TEST_P(ArrayGemm, SpecialValues) {
  const Case& c = GetParam();
  auto array = cosim::make_array_model(spec::core_of(c.dp, c.rows, c.cols));
  check(*array, c.rows + 3, c.rows + 2, c.cols + 1, 300, OperandMix::kSpecials, {});
}

// Results must not depend on the random initial state of the flops.
TEST_P(ArrayGemm, IndependentOfInitialState) {
  const Case& c = GetParam();
  std::mt19937_64 rng(400);
  const Eigen::Index M = c.rows + 1, K = c.rows + 1, N = c.cols + 1;
  const RawMatrix a = model::random_operands(c.dp, M, K, rng, OperandMix::kUniform);
  const RawMatrix b = model::random_operands(c.dp, K, N, rng, OperandMix::kUniform);
  model::AccMatrix first;
  for (std::uint32_t seed : {1u, 2u, 3u}) {
    auto array = cosim::make_array_model(spec::core_of(c.dp, c.rows, c.cols), {"", 2, seed});
    const auto run = cosim::run_gemm(*array, c.df, a, b);
    if (seed == 1) {
      first = run.c;
    } else {
      EXPECT_EQ(run.c, first) << "initial-state seed " << seed;
    }
  }
}

const Case kCases[] = {
// 4 shapes x 3 dataflows x 2 datapaths
#define SASIM_SHAPES(dp, df) \
  {dp, df, 4, 4}, {dp, df, 8, 8}, {dp, df, 16, 16}, { dp, df, 4, 8 }
    SASIM_SHAPES(Datapath::kInt8, Dataflow::kWs), SASIM_SHAPES(Datapath::kInt8, Dataflow::kOs),
    SASIM_SHAPES(Datapath::kInt8, Dataflow::kIs), SASIM_SHAPES(Datapath::kBf16, Dataflow::kWs),
    SASIM_SHAPES(Datapath::kBf16, Dataflow::kOs), SASIM_SHAPES(Datapath::kBf16, Dataflow::kIs),
#undef SASIM_SHAPES
};

INSTANTIATE_TEST_SUITE_P(Array, ArrayGemm, ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<Case>& info) {
                           return case_name(info.param);
                         });

// A program that cannot finish (a `first` step without its preload) must be
// stopped by the watchdog with a state dump, not hang.
TEST(ArrayControl, WatchdogCatchesHungProgram) {
  auto array = cosim::make_array_model(spec::core_of(Datapath::kInt8, 4, 4));
  cosim::ArrayProgram p;
  p.dataflow = Dataflow::kWs;
  p.in_a.assign(4, 1);
  p.in_flags.push_back(cosim::ArrayProgram::kFirst | cosim::ArrayProgram::kLast);
  p.expected_outputs = 1;
  EXPECT_THAT([&] { cosim::run_program(*array, p, {}, {500}); },
              ThrowsMessage<cosim::WatchdogError>(AllOf(HasSubstr("no handshake for 500 cycles"),
                                                        HasSubstr("input beats 0/1"),
                                                        HasSubstr("in_ready 0"))));
}

// The SVA protocol checks are compiled in: changing the dataflow in the middle
// of an output-stationary reduction must be reported.
TEST(ArrayControl, AssertionOnDataflowChangeWhileBusy) {
  auto array = cosim::make_array_model(spec::core_of(Datapath::kInt8, 4, 4));
  const std::vector<std::uint16_t> a(4, 1), b(4, 1);
  array->set_dataflow(Dataflow::kOs);
  array->set_in(true, a, b, true, false);
  array->set_out_ready(true);
  array->settle();
  ASSERT_TRUE(array->in_ready());
  array->tick();
  array->set_in(false, {}, {}, false, false);
  array->set_dataflow(Dataflow::kWs);
  EXPECT_THROW(
      {
        for (int i = 0; i < 3; ++i) {
          array->settle();
          array->tick();
        }
      },
      cosim::RtlError);
}

// A weight-stationary step before any stationary operand was loaded would use
// uninitialised registers: the protocol check reports it.
TEST(ArrayControl, AssertionOnStreamWithoutPreload) {
  auto array = cosim::make_array_model(spec::core_of(Datapath::kBf16, 4, 4));
  const std::vector<std::uint16_t> a(4, 0x3F80);
  array->set_dataflow(Dataflow::kWs);
  array->set_in(true, a, {}, false, true);
  array->set_out_ready(true);
  EXPECT_THROW(
      {
        for (int i = 0; i < 2; ++i) {
          array->settle();
          array->tick();
        }
      },
      cosim::RtlError);
}

TEST(ArrayControl, MismatchOriginNamesTileAndPe) {
  const spec::CoreSpec s = spec::core_of(Datapath::kInt8, 4, 8);
  EXPECT_EQ(app::origin_of(Dataflow::kWs, s, 5, 19),
            "n-tile 2, PE column 3 (streamed A row 5, summed down PE rows 0..3)");
  EXPECT_EQ(app::origin_of(Dataflow::kIs, s, 9, 2),
            "m-tile 1, PE column 1 (streamed B column 2, summed down PE rows 0..3)");
  // OS: output row i of a tile is computed in PE row R-1-i.
  EXPECT_EQ(app::origin_of(Dataflow::kOs, s, 5, 19), "tile (1, 2), PE (2, 3)");
}

// An array that is not linked in comes from the variant cache (built there:
// tests/sweep/test_variants.py). Here, in an empty cache: not built yet, and
// the build's settings are checked before anything is built.
TEST(ArrayControl, UnlinkedVariantComesFromTheCache) {
  const std::filesystem::path cache =
      std::filesystem::temp_directory_path() / "sasim_test_empty_variant_cache";
  std::filesystem::remove_all(cache);
  ::setenv("SASIM_VARIANT_CACHE", cache.c_str(), 1);
  ::setenv("SASIM_BUILD_SLOTS", "0", 1);
  const spec::CoreSpec s = spec::core_of(Datapath::kInt8, 5, 7);
  EXPECT_FALSE(cosim::is_array_built(s));
  EXPECT_TRUE(cosim::cached_variants(cosim::VariantKind::kArray).empty());
  EXPECT_EQ(cosim::variant_entry(cosim::VariantKind::kArray, s),
            cache / ("array_int8_5x7_" + cosim::variant_key()));
  EXPECT_THAT([&] { cosim::make_array_model(s); },
              ThrowsMessage<cosim::VariantBuildError>(
                  HasSubstr("$SASIM_BUILD_SLOTS: '0' is not allowed (allowed 1..64)")));
  EXPECT_THROW(cosim::make_array_model(spec::core_of(Datapath::kInt8, 5, 300)), spec::SpecError);
  // Legal, but more PEs than the variant cache verilates (the model engine runs it).
  EXPECT_THAT([&] { cosim::make_array_model(spec::core_of(Datapath::kInt8, 200, 200)); },
              ThrowsMessage<cosim::VariantBuildError>(
                  HasSubstr("40000 PEs are more than the RTL is verilated for (at most 16384")));
  ::unsetenv("SASIM_BUILD_SLOTS");
  ::unsetenv("SASIM_VARIANT_CACHE");
  std::filesystem::remove_all(cache);
}

// Waves: an FST file appears, under its name only once the model is gone (it
// is streamed to a temporary: a killed run leaves no truncated FST), and
// gtkwave's fst2vcd reads it back with the array's signals in it.
TEST(ArrayWaves, FstFileIsWrittenAndReadable) {
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / "sasim_test_waves";
  std::filesystem::create_directories(dir);
  const std::filesystem::path fst = dir / "array.fst";
  std::filesystem::remove(fst);
  {
    auto array =
        cosim::make_array_model(spec::core_of(Datapath::kBf16, 4, 4), {fst.string(), 2, 1});
    std::mt19937_64 rng(5);
    const RawMatrix a = model::random_operands(Datapath::kBf16, 5, 4, rng, OperandMix::kUniform);
    const RawMatrix b = model::random_operands(Datapath::kBf16, 4, 4, rng, OperandMix::kUniform);
    cosim::run_gemm(*array, Dataflow::kWs, a, b);
    EXPECT_FALSE(std::filesystem::exists(fst)) << "the FST has its name before it is complete";
  }
  ASSERT_TRUE(std::filesystem::exists(fst));
  for (const auto& e : std::filesystem::directory_iterator(dir))
    EXPECT_EQ(e.path().filename().string().find(".tmp."), std::string::npos) << e.path();
  EXPECT_GT(std::filesystem::file_size(fst), 100u);
  const std::string vcd = (dir / "array.vcd").string();
  const std::string cmd = "fst2vcd " + fst.string() + " -o " + vcd + " > /dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << "fst2vcd (gtkwave) could not read " << fst;
  std::FILE* f = std::fopen(vcd.c_str(), "r");
  ASSERT_NE(f, nullptr);
  std::string text(1 << 16, '\0');
  text.resize(std::fread(text.data(), 1, text.size(), f));
  std::fclose(f);
  EXPECT_NE(text.find("out_valid_o"), std::string::npos);
  EXPECT_NE(text.find("$enddefinitions"), std::string::npos);
}

}  // namespace
