// The main job of sasim for now: one GEMM on the verilated array, checked
// bit-exactly against the golden model, with its statistics.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "sasim/app/config.hpp"
#include "sasim/cosim/array_gemm.hpp"

namespace sasim::app {

// The first element where the array and the golden model differ.
struct Mismatch {
  Eigen::Index row = 0, col = 0;
  std::uint32_t expected = 0, got = 0;
  std::string describe(model::Datapath dp) const;
};

// Where an element of C is computed: the tile and the PE (docs/array.md),
// e.g. "n-tile 2, PE column 5 (last PE row 15)" for weight-stationary.
std::string origin_of(model::Dataflow df, const spec::CoreSpec& s, Eigen::Index row,
                      Eigen::Index col);
std::optional<Mismatch> first_mismatch(const model::AccMatrix& expected,
                                       const model::AccMatrix& got);

struct ArrayJobResult {
  cosim::GemmRun run;
  bool match = false;
  std::optional<Mismatch> mismatch;
  nlohmann::json stats;  // named counters, written to <out_dir>/<name>/stats.json
};

ArrayJobResult array_job(const Config& cfg);

// Human-readable summary of a job (what `sasim run` prints).
std::string array_summary(const Config& cfg, const ArrayJobResult& r);

}  // namespace sasim::app
