// sasim_bench: simulation speed of the verilated array streaming full tiles,
// of the whole co-simulated device (bench_device.cpp) and of a hand-off
// between host threads (bench_threads.cpp).
// Counters: simulated MAC/s (useful multiply-accumulates per wall second) and
// simulated cycles/s. Single-threaded (the verilated models are built without
// --threads; see docs/performance.md).
#include <benchmark/benchmark.h>

#include <random>
#include <string>

#include "sasim/cosim/array_gemm.hpp"
#include "sasim/cosim/array_model.hpp"
#include "sasim/model/gemm.hpp"

namespace {

using namespace sasim;  // spec, isa, model, mem, cosim, host, app

void bm_array(benchmark::State& state, sasim::spec::CoreSpec shape, model::Dataflow df) {
  auto array = cosim::make_array_model(shape);
  // Every tile streams 256 vectors; 4 x 4 tiles in the two tiled dimensions.
  const Eigen::Index R = shape.rows, C = shape.cols;
  Eigen::Index M = 256, K = 4 * R, N = 4 * C;
  if (df == model::Dataflow::kIs) M = 4 * C, N = 256;
  if (df == model::Dataflow::kOs) M = 4 * R, K = 256, N = 4 * C;
  std::mt19937_64 rng(1);
  const auto a = model::random_operands(shape.datapath, M, K, rng, model::OperandMix::kUniform);
  const auto b = model::random_operands(shape.datapath, K, N, rng, model::OperandMix::kUniform);
  const cosim::ArrayProgram prog = cosim::build_gemm_program(df, shape, a, b);
  std::uint64_t cycles = 0, macs = 0;
  for (auto _ : state) {
    const cosim::ArrayRunResult r = cosim::run_program(*array, prog);
    benchmark::DoNotOptimize(r.out.data());
    cycles += r.cycles;
    macs += static_cast<std::uint64_t>(M * K * N);
  }
  state.counters["MAC/s"] =
      benchmark::Counter(static_cast<double>(macs), benchmark::Counter::kIsRate);
  state.counters["cycles/s"] =
      benchmark::Counter(static_cast<double>(cycles), benchmark::Counter::kIsRate);
  state.counters["utilization"] =
      static_cast<double>(macs) / (static_cast<double>(cycles) * static_cast<double>(R * C));
}

}  // namespace

void register_device_benchmarks();  // bench_device.cpp
void register_thread_benchmarks();  // bench_threads.cpp

int main(int argc, char** argv) {
  register_device_benchmarks();
  register_thread_benchmarks();
  for (const auto& shape : cosim::built_array_variants()) {
    for (auto df : {model::Dataflow::kWs, model::Dataflow::kOs, model::Dataflow::kIs}) {
      const std::string name = "BM_Array/" + std::string(model::to_string(shape.datapath)) + "/" +
                               std::to_string(shape.rows) + "x" + std::to_string(shape.cols) + "/" +
                               std::string(model::to_string(df));
      benchmark::RegisterBenchmark(name.c_str(), bm_array, shape, df)
          ->Unit(benchmark::kMillisecond);
    }
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
