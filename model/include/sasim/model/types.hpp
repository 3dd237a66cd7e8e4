// Shared enumerations of sasim: datapaths and dataflows, mirrored from rtl/sa_pkg.sv.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sasim::model {

// Values equal the RTL encodings in rtl/sa_pkg.sv (DP_INT8, DP_BF16).
enum class Datapath : std::uint8_t { kInt8 = 0, kBf16 = 1 };

// Values equal sa_pkg::dataflow_e (DF_WS, DF_OS, DF_IS).
enum class Dataflow : std::uint8_t { kWs = 0, kOs = 1, kIs = 2 };

std::string_view to_string(Datapath dp);
std::string_view to_string(Dataflow df);
std::optional<Datapath> parse_datapath(std::string_view s);  // "int8" | "bf16"
std::optional<Dataflow> parse_dataflow(std::string_view s);  // "ws" | "os" | "is"

// Operand width in bits of a datapath (8 for int8, 16 for bf16).
constexpr unsigned op_width(Datapath dp) { return dp == Datapath::kBf16 ? 16u : 8u; }

}  // namespace sasim::model
