// Parsing of the contract's datapath and dataflow spellings (types.hpp).
#include "sasim/model/types.hpp"

namespace sasim::model {

std::optional<Datapath> parse_datapath(std::string_view s) {
  return parse_name<Datapath>(s, spec::kDatapathNames);
}

std::optional<Dataflow> parse_dataflow(std::string_view s) {
  return parse_name<Dataflow>(s, spec::kDataflowNames);
}

}  // namespace sasim::model
