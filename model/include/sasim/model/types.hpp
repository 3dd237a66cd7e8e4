// The datapath and dataflow enumerations as the golden models use them: the
// device contract's types (spec/contract.json), named here for brevity.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "sasim/spec/device_spec.hpp"

namespace sasim::model {

using Datapath = spec::Datapath;  // kInt8, kBf16 (the RTL's Datapath parameter)
using Dataflow = isa::Dataflow;   // kWs, kOs, kIs (the GEMM instruction's field)
using spec::to_string;            // "int8", "ws"

std::optional<Datapath> parse_datapath(std::string_view s);  // "int8" | "bf16", any case
std::optional<Dataflow> parse_dataflow(std::string_view s);  // "ws" | "os" | "is", any case

// Operand width in bits of a datapath (8 for int8, 16 for bf16).
constexpr unsigned op_width(Datapath dp) { return dp == Datapath::kBf16 ? 16u : 8u; }

}  // namespace sasim::model
