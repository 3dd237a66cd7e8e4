// The GEMM cases of the parameterised core and device tests: a datapath, a
// dataflow and a shape, written "int8 ws 31x17x13" and named
// "int8_ws_31x17x13" in the test list.
#pragma once

#include <gtest/gtest.h>

#include <initializer_list>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "sasim/model/types.hpp"

namespace sasim::test {

struct GemmCase {
  model::Datapath dp;
  model::Dataflow df;
  unsigned m, k, n;
};

inline std::vector<GemmCase> gemm_cases(std::initializer_list<const char*> specs) {
  std::vector<GemmCase> cases;
  for (const char* s : specs) {
    std::istringstream in(s);
    std::string dp, df;
    char x1 = 0, x2 = 0;
    GemmCase g{};
    in >> dp >> df >> g.m >> x1 >> g.k >> x2 >> g.n;
    const auto pdp = model::parse_datapath(dp);
    const auto pdf = model::parse_dataflow(df);
    if (!in || x1 != 'x' || x2 != 'x' || !pdp || !pdf)
      throw std::invalid_argument(std::string("bad GEMM case '") + s + "'");
    g.dp = *pdp;
    g.df = *pdf;
    cases.push_back(g);
  }
  return cases;
}

inline std::string gemm_case_name(const ::testing::TestParamInfo<GemmCase>& info) {
  const GemmCase& g = info.param;
  return std::string(model::to_string(g.dp)) + "_" + std::string(model::to_string(g.df)) + "_" +
         std::to_string(g.m) + "x" + std::to_string(g.k) + "x" + std::to_string(g.n);
}

}  // namespace sasim::test
