// The device contract (spec/contract.json) read as data and checked against
// every copy: the C++ tables (sasim/spec/contract.hpp), the generated
// SystemVerilog package (sa_isa_pkg.sv), docs/isa.md and docs/config.md (the
// loader's ranges: Config.LoaderEnforcesTheContractRanges in test_config.cpp).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cctype>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <string>

#include "sasim/spec/backend.hpp"
#include "sasim/spec/contract.hpp"
#include "sasim/spec/device_spec.hpp"

namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

using namespace sasim;  // spec, isa, model, mem, cosim, host, app
using nlohmann::json;

std::string read(const std::string& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in) << path;
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

const json& contract() {
  static const json c = json::parse(read(std::string(SASIM_SOURCE_DIR) + "/spec/contract.json"));
  return c;
}
const std::string& sv() {
  static const std::string s = read(std::string(SASIM_GENERATED_DIR) + "/rtl/sa_isa_pkg.sv");
  return s;
}
bool sv_has(const std::string& line) { return sv().find(line) != std::string::npos; }
std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}
std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

TEST(Contract, OpcodesAndQueuesInCxxAndSv) {
  const json& ops = contract()["opcodes"];
  ASSERT_EQ(ops.size(), isa::kOpcodes.size());
  for (std::size_t i = 0; i < ops.size(); ++i) {
    const std::string name = ops[i]["name"];
    const unsigned value = ops[i]["value"];
    const auto op = isa::opcode_from(value);
    ASSERT_TRUE(op) << name;
    EXPECT_EQ(isa::to_string(*op), name);
    EXPECT_EQ(isa::to_string(isa::queue_of(*op)), ops[i]["queue"].get<std::string>()) << name;
    EXPECT_TRUE(sv_has("OP_" + name + " = 4'd" + std::to_string(value))) << name;
    EXPECT_TRUE(sv_has("OP_" + name + ": return Q_" + ops[i]["queue"].get<std::string>() + ";"))
        << name;
  }
  const json& queues = contract()["queues"];
  ASSERT_EQ(queues.size(), isa::kNumQueues);
  for (std::size_t q = 0; q < queues.size(); ++q) {
    EXPECT_EQ(isa::to_string(isa::kQueues[q]), queues[q]["name"].get<std::string>());
    EXPECT_TRUE(sv_has("Q_" + queues[q]["name"].get<std::string>() + " = 2'd" + std::to_string(q)));
  }
  EXPECT_FALSE(isa::opcode_from(0)) << "zeroed memory must not decode";
}

TEST(Contract, EnumsAndOperandReaders) {
  for (const json& v : contract()["enums"]["vec_op"]) {
    const auto op = isa::vec_op_from(v["value"].get<unsigned>());
    ASSERT_TRUE(op);
    EXPECT_EQ(isa::name_of(*op), v["name"].get<std::string>());
    EXPECT_EQ(isa::reads_src2(*op), v.value("reads_src2", false)) << v["name"];
    EXPECT_TRUE(sv_has("VEC_OP_" + v["name"].get<std::string>() + " = 4'd" +
                       std::to_string(v["value"].get<unsigned>())));
  }
  for (const json& v : contract()["enums"]["dataflow"]) {
    const auto df = isa::dataflow_from(v["value"].get<unsigned>());
    ASSERT_TRUE(df);
    EXPECT_EQ(isa::name_of(*df), v["name"].get<std::string>());
  }
  for (const json& v : contract()["enums"]["sram"]) {
    const auto s = isa::sram_from(v["value"].get<unsigned>());
    ASSERT_TRUE(s);
    EXPECT_EQ(isa::name_of(*s), v["name"].get<std::string>());
  }
}

TEST(Contract, FieldPositionsAndLimits) {
  // Every format field of the C++ tables at the contract's bits.
  const std::vector<std::pair<std::string, std::vector<isa::Field>>> formats = {
      {"DMA",
       {isa::dma::kSram, isa::dma::kTranspose, isa::dma::kSramRow, isa::dma::kRows, isa::dma::kCols,
        isa::dma::kDramAddr, isa::dma::kDramStride}},
      {"GEMM",
       {isa::gemm::kDataflow, isa::gemm::kReuse, isa::gemm::kAccumulate, isa::gemm::kPreRow,
        isa::gemm::kInRow, isa::gemm::kBRow, isa::gemm::kLen, isa::gemm::kAccRow}},
      {"VEC",
       {isa::vec::kOp, isa::vec::kDstSram, isa::vec::kSrcRow, isa::vec::kSrc2Row, isa::vec::kDstRow,
        isa::vec::kRows, isa::vec::kImm}},
      {"CONFIG", {isa::config::kInt8Shift}}};
  for (const auto& [fmt, fields] : formats) {
    const json& j = contract()["formats"][fmt];
    ASSERT_EQ(j.size(), fields.size()) << fmt;
    for (std::size_t i = 0; i < fields.size(); ++i) {
      const isa::Field& f = fields[i];
      EXPECT_EQ(std::string(f.name), lower(fmt) + "." + j[i]["name"].get<std::string>());
      EXPECT_EQ(f.lsb, j[i]["lsb"].get<unsigned>()) << f.name;
      EXPECT_EQ(f.width, j[i]["width"].get<unsigned>()) << f.name;
      const std::string kind = j[i].value("kind", "");
      EXPECT_EQ(f.kind == isa::FieldKind::kCount, kind == "count") << f.name;
      EXPECT_EQ(f.kind == isa::FieldKind::kSramRow, kind == "sram_row") << f.name;
      if (kind == "count") EXPECT_EQ(f.max(), isa::kMaxCount) << f.name;
      if (kind == "sram_row") EXPECT_EQ(f.max() + 1, isa::kSramRowSpan) << f.name;
    }
  }
  EXPECT_TRUE(sv_has("localparam int unsigned COUNT_MAX = " + std::to_string(isa::kMaxCount)));
  EXPECT_TRUE(
      sv_has("localparam int unsigned SRAM_ROW_SPAN = " + std::to_string(isa::kSramRowSpan)));
}

TEST(Contract, CountersAndErrorsInCxxSvAndDocs) {
  const json& counters = contract()["counters"];
  const std::string isa_md = read(std::string(SASIM_SOURCE_DIR) + "/docs/isa.md");
  ASSERT_EQ(counters.size(), spec::kCounters.size());
  for (std::size_t i = 0; i < counters.size(); ++i) {
    const std::string name = counters[i]["name"];
    EXPECT_EQ(spec::kCounters[i].name, name);
    EXPECT_EQ(spec::kCounters[i].functional, counters[i].value("functional", false)) << name;
    EXPECT_EQ(spec::counter_name(static_cast<spec::CounterId>(i)), "core." + name);
    EXPECT_TRUE(sv_has("PERF_" + upper(name) + " = " + std::to_string(i) + ";")) << name;
    EXPECT_NE(isa_md.find("| " + std::to_string(i) + " | `" + name + "` |"), std::string::npos)
        << name;
  }
  EXPECT_TRUE(sv_has("NUM_PERF = " + std::to_string(counters.size()) + ";"));
  for (const json& e : contract()["errors"]) {
    const auto code = static_cast<spec::CoreError>(e["value"].get<unsigned>());
    EXPECT_EQ(spec::name_of(code), e["name"].get<std::string>());
    EXPECT_EQ(spec::describe(code), e["message"].get<std::string>());
    EXPECT_TRUE(sv_has("ERR_" + e["name"].get<std::string>() + " = 4'd" +
                       std::to_string(e["value"].get<unsigned>())));
    EXPECT_NE(isa_md.find("| `" + e["name"].get<std::string>() + "` | " +
                          e["message"].get<std::string>() + " |"),
              std::string::npos);
  }
}

// The core parameters: C++ defaults, the RTL's parameter defaults, the
// documented table and the loader's ranges, all from the contract.
TEST(Contract, CoreParametersEverywhere) {
  const std::string config_md = read(std::string(SASIM_SOURCE_DIR) + "/docs/config.md");
  const spec::CoreSpec defaults;
  const json& params = contract()["core_params"];
  ASSERT_EQ(params.size(), spec::kCoreParams.size());
  for (std::size_t i = 0; i < params.size(); ++i) {
    const json& p = params[i];
    const std::string name = p["name"];
    const spec::ParamInfo& info = spec::kCoreParams[i];
    EXPECT_EQ(info.name, name);
    // Default.
    double def = 0;
    std::string def_text;
    if (p["type"] == "enum") {
      const auto& vals = p["values"];
      def = double(std::find(vals.begin(), vals.end(), p["default"]) - vals.begin());
      def_text = p["default"].get<std::string>();
    } else {
      def = p["default"].get<double>();
      def_text = p["default"].dump();
    }
    EXPECT_EQ(*spec::param_value(defaults, name), def) << name;
    if (p.contains("rtl")) {
      std::ostringstream line;
      line << "CORE_" << upper(name) << "_DEFAULT = " << def << ";";
      EXPECT_TRUE(sv_has(line.str())) << line.str();
    }
    // The documented row: key, default, allowed values.
    const std::string row =
        "| `core." + name + "` | " + def_text + " | " + std::string(info.allowed) + " |";
    EXPECT_NE(config_md.find(row), std::string::npos) << row;
  }
}

}  // namespace

namespace {

// A counter that is not there is an error naming it, never 0.
TEST(Contract, UnknownCounterIsAnError) {
  spec::Counters c;
  c.set("core.cycles", 5);
  EXPECT_EQ(c.at(spec::CounterId::kCycles), 5u);
  // The message names the counter and what the run has.
  EXPECT_THAT([&] { (void)c.at("device.mem.l2.hits"); },
              ThrowsMessage<std::out_of_range>(
                  AllOf(HasSubstr("no counter 'device.mem.l2.hits'"), HasSubstr("core.cycles"))));
  EXPECT_THROW((void)spec::instructions(c), std::out_of_range);  // no insn_* counters
}

}  // namespace
