// Names of the sasim enumerations (types.hpp).
#include "sasim/model/types.hpp"

#include <algorithm>
#include <cctype>
#include <string>

namespace sasim::model {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

}  // namespace

std::string_view to_string(Datapath dp) {
  switch (dp) {
    case Datapath::kInt8:
      return "int8";
    case Datapath::kBf16:
      return "bf16";
  }
  return "?";
}

std::string_view to_string(Dataflow df) {
  switch (df) {
    case Dataflow::kWs:
      return "ws";
    case Dataflow::kOs:
      return "os";
    case Dataflow::kIs:
      return "is";
  }
  return "?";
}

// Parsing is case-insensitive ("BF16", "WS" are accepted); to_string yields
// the lower-case spelling.
std::optional<Datapath> parse_datapath(std::string_view s) {
  const std::string l = lower(s);
  if (l == "int8") return Datapath::kInt8;
  if (l == "bf16") return Datapath::kBf16;
  return std::nullopt;
}

std::optional<Dataflow> parse_dataflow(std::string_view s) {
  const std::string l = lower(s);
  if (l == "ws") return Dataflow::kWs;
  if (l == "os") return Dataflow::kOs;
  if (l == "is") return Dataflow::kIs;
  return std::nullopt;
}

}  // namespace sasim::model
