// Parsing of the contract's datapath and dataflow spellings (types.hpp).
#include "sasim/model/types.hpp"

#include <algorithm>
#include <cctype>
#include <string>

namespace sasim::model {
namespace {

// The enumerator whose spelling in `names` equals s, case-insensitively.
template <typename E, typename Names>
std::optional<E> parse(std::string_view s, const Names& names) {
  std::string l(s);
  std::transform(l.begin(), l.end(), l.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (std::size_t i = 0; i < names.size(); ++i)
    if (names[i] == l) return static_cast<E>(i);
  return std::nullopt;
}

}  // namespace

std::optional<Datapath> parse_datapath(std::string_view s) {
  return parse<Datapath>(s, spec::kDatapathNames);
}

std::optional<Dataflow> parse_dataflow(std::string_view s) {
  return parse<Dataflow>(s, spec::kDataflowNames);
}

}  // namespace sasim::model
