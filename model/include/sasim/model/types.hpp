// The datapath and dataflow enumerations as the golden models use them: the
// device contract's types (spec/contract.json), named here for brevity.
#pragma once

#include <cctype>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "sasim/spec/device_spec.hpp"

namespace sasim::model {

using Datapath = spec::Datapath;  // kInt8, kBf16 (the RTL's Datapath parameter)
using Dataflow = isa::Dataflow;   // kWs, kOs, kIs (the GEMM instruction's field)
using spec::to_string;            // "int8", "ws"

// The enumerator whose spelling in `names` (indexed by value) equals s, in
// any case; nothing for another spelling.
template <typename E, typename Names>
std::optional<E> parse_name(std::string_view s, const Names& names) {
  for (std::size_t i = 0; i < names.size(); ++i) {
    const std::string_view n = names[i];
    bool eq = n.size() == s.size() && !n.empty();
    for (std::size_t k = 0; eq && k < n.size(); ++k)
      eq = std::tolower(static_cast<unsigned char>(s[k])) == static_cast<unsigned char>(n[k]);
    if (eq) return static_cast<E>(i);
  }
  return std::nullopt;
}

std::optional<Datapath> parse_datapath(std::string_view s);  // "int8" | "bf16", any case
std::optional<Dataflow> parse_dataflow(std::string_view s);  // "ws" | "os" | "is", any case

// Operand width in bits of a datapath (8 for int8, 16 for bf16).
constexpr unsigned op_width(Datapath dp) { return dp == Datapath::kBf16 ? 16u : 8u; }

}  // namespace sasim::model
