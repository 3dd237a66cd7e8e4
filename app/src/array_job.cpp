#include "sasim/app/array_job.hpp"

#include <cstdio>
#include <filesystem>
#include <random>
#include <sstream>

#include "sasim/model/numerics.hpp"

namespace sasim::app {

std::string Mismatch::describe(model::Datapath dp) const {
  char buf[160];
  if (dp == model::Datapath::kBf16) {
    std::snprintf(buf, sizeof buf, "C[%ld][%ld]: expected 0x%08x (%g), got 0x%08x (%g)",
                  static_cast<long>(row), static_cast<long>(col), expected,
                  model::bits_to_f32(expected), got, model::bits_to_f32(got));
  } else {
    std::snprintf(buf, sizeof buf, "C[%ld][%ld]: expected %d, got %d", static_cast<long>(row),
                  static_cast<long>(col), static_cast<std::int32_t>(expected),
                  static_cast<std::int32_t>(got));
  }
  return buf;
}

std::string origin_of(model::Dataflow df, const spec::CoreSpec& s, Eigen::Index row,
                      Eigen::Index col) {
  const Eigen::Index R = s.rows, C = s.cols;
  std::ostringstream o;
  switch (df) {
    case model::Dataflow::kWs:
      o << "n-tile " << col / C << ", PE column " << col % C << " (streamed A row " << row
        << ", summed down PE rows 0.." << R - 1 << ")";
      break;
    case model::Dataflow::kIs:
      o << "m-tile " << row / C << ", PE column " << row % C << " (streamed B column " << col
        << ", summed down PE rows 0.." << R - 1 << ")";
      break;
    case model::Dataflow::kOs:
      o << "tile (" << row / R << ", " << col / C << "), PE (" << R - 1 - row % R << ", " << col % C
        << ")";
      break;
  }
  return o.str();
}

std::optional<Mismatch> first_mismatch(const model::AccMatrix& expected,
                                       const model::AccMatrix& got) {
  if (expected.rows() != got.rows() || expected.cols() != got.cols()) return Mismatch{};
  for (Eigen::Index i = 0; i < expected.rows(); ++i)
    for (Eigen::Index j = 0; j < expected.cols(); ++j)
      if (expected(i, j) != got(i, j)) return Mismatch{i, j, expected(i, j), got(i, j)};
  return std::nullopt;
}

ArrayJobResult array_job(const Config& cfg) {
  const spec::CoreSpec shape = cfg.core;
  std::mt19937_64 rng(cfg.gemm.seed);
  const auto M = static_cast<Eigen::Index>(cfg.gemm.m), K = static_cast<Eigen::Index>(cfg.gemm.k),
             N = static_cast<Eigen::Index>(cfg.gemm.n);
  const model::RawMatrix a = model::random_operands(shape.datapath, M, K, rng, cfg.gemm.operands);
  const model::RawMatrix b = model::random_operands(shape.datapath, K, N, rng, cfg.gemm.operands);

  cosim::ArrayModelOptions opt;
  if (cfg.run.waves) {
    const std::filesystem::path wf(cfg.run.wave_file);
    if (wf.has_parent_path()) std::filesystem::create_directories(wf.parent_path());
    opt.wave_file = cfg.run.wave_file;
  }
  auto array = cosim::make_array_model(shape, opt);

  ArrayJobResult r;
  r.run = cosim::run_gemm(*array, cfg.core.dataflow, a, b, {}, {cfg.run.watchdog_cycles});
  const model::AccMatrix golden =
      model::gemm(shape.datapath, a, b, model::fold_size(cfg.core.dataflow, shape.rows, K));
  r.mismatch = first_mismatch(golden, r.run.c);
  r.match = !r.mismatch.has_value();
  const auto mismatches = static_cast<std::uint64_t>((golden.array() != r.run.c.array()).count());

  const double peak_macs_per_cycle = static_cast<double>(shape.rows) * shape.cols;
  r.stats = {
      {"config", cfg.name},
      {"array",
       {{"rows", shape.rows},
        {"cols", shape.cols},
        {"datapath", model::to_string(shape.datapath)},
        {"dataflow", model::to_string(cfg.core.dataflow)}}},
      {"gemm",
       {{"m", cfg.gemm.m},
        {"k", cfg.gemm.k},
        {"n", cfg.gemm.n},
        {"seed", cfg.gemm.seed},
        {"operands", model::to_string(cfg.gemm.operands)}}},
      {"counters",
       {{"cycles", r.run.cycles},
        {"formula_cycles", r.run.formula_cycles},
        {"macs", r.run.macs},
        {"folds", r.run.folds},
        {"mismatches", mismatches}}},
      {"derived",
       {{"pe_utilization", r.run.utilization},
        {"peak_macs_per_cycle", peak_macs_per_cycle},
        {"clock_mhz", cfg.core.clock_mhz},
        {"peak_macs_per_s", peak_macs_per_cycle * cfg.core.clock_mhz * 1e6},
        {"simulated_us", static_cast<double>(r.run.cycles) / cfg.core.clock_mhz},
        {"achieved_macs_per_s", static_cast<double>(r.run.macs) * cfg.core.clock_mhz * 1e6 /
                                    static_cast<double>(r.run.cycles)},
        {"min_cycles_at_peak", static_cast<double>(r.run.macs) / peak_macs_per_cycle}}},
      {"match", r.match},
  };
  return r;
}

std::string array_summary(const Config& cfg, const ArrayJobResult& r) {
  const spec::CoreSpec s = cfg.core;
  std::ostringstream o;
  char util[32];
  std::snprintf(util, sizeof util, "%.1f %%", 100.0 * r.run.utilization);
  o << "sasim: GEMM " << cfg.gemm.m << "x" << cfg.gemm.k << "x" << cfg.gemm.n << " on the "
    << spec::array_name(s) << " array, " << model::to_string(cfg.core.dataflow) << " dataflow ("
    << cfg.source << ")\n"
    << "  folds            " << r.run.folds << "\n"
    << "  cycles           " << r.run.cycles << "  (formula " << r.run.formula_cycles
    << ", lower bound at peak " << (r.run.macs + s.rows * s.cols - 1) / (s.rows * s.cols) << ")\n"
    << "  MACs             " << r.run.macs << "  (peak " << s.rows * s.cols << " per cycle)\n";
  char rate[160];
  const double peak = static_cast<double>(s.rows) * s.cols * cfg.core.clock_mhz * 1e6;
  std::snprintf(rate, sizeof rate,
                "  at %4.0f MHz      %.3f us simulated, %.2f GMAC/s of peak %.2f GMAC/s\n",
                cfg.core.clock_mhz, static_cast<double>(r.run.cycles) / cfg.core.clock_mhz,
                static_cast<double>(r.run.macs) / static_cast<double>(r.run.cycles) *
                    cfg.core.clock_mhz * 1e-3,
                peak * 1e-9);
  o << rate << "  PE utilization   " << util << "\n"
    << "  golden model     " << (r.match ? "match (bit-exact)" : "MISMATCH") << "\n";
  if (r.mismatch) {
    o << "  first mismatch   " << r.mismatch->describe(s.datapath) << "\n"
      << "                   from "
      << origin_of(cfg.core.dataflow, s, r.mismatch->row, r.mismatch->col) << "\n";
  }
  if (cfg.run.waves) o << "  waves            " << cfg.run.wave_file << "\n";
  return o.str();
}

}  // namespace sasim::app
