#include "sasim/sim/array_model.hpp"

#include <algorithm>

namespace sasim::sim {

std::string to_string(const ArrayShape& s) {
  return std::string(model::to_string(s.datapath)) + " " + std::to_string(s.rows) + "x" +
         std::to_string(s.cols);
}

bool is_built(const ArrayShape& shape) {
  const auto v = built_array_variants();
  return std::find(v.begin(), v.end(), shape) != v.end();
}

}  // namespace sasim::sim
