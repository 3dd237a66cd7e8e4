// Co-simulation speed of the whole device: the GEMM of configs/default.yaml
// (256 x 256 x 256, int8, 16 x 16 weight-stationary core, DDR4 behind a 1 MiB
// L2) through the verilated core, the RTL <-> TLM bridge and the SystemC
// memory system. Counters: simulated cycles/s and MAC/s (per wall second),
// PE utilization of the run, and for reference the bare array's cycles/s on
// full 16 x 16 int8 WS tiles measured in the same process (array_cycles/s),
// with their ratio (device_vs_array; the device issue asks for >= 0.5).
#include <benchmark/benchmark.h>

#include <chrono>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "sasim/app/config.hpp"
#include "sasim/app/device.hpp"
#include "sasim/app/train_job.hpp"
#include "sasim/cosim/array_gemm.hpp"
#include "sasim/cosim/device.hpp"
#include "sasim/host/dataset.hpp"
#include "sasim/host/driver.hpp"
#include "sasim/host/mlp_trainer.hpp"
#include "sasim/isa/encode.hpp"
#include "sasim/model/gemm.hpp"
#include "sasim/model/mlp_golden.hpp"

namespace {

using namespace sasim;  // spec, isa, model, mem, cosim, host, app

// cycles/s of the bare 16 x 16 int8 WS array on full tiles (as BM_Array).
double array_cycles_per_s() {
  auto array = cosim::make_array_model(sasim::spec::core_of(model::Datapath::kInt8, 16, 16));
  std::mt19937_64 rng(1);
  const auto a =
      model::random_operands(model::Datapath::kInt8, 256, 64, rng, model::OperandMix::kUniform);
  const auto b =
      model::random_operands(model::Datapath::kInt8, 64, 64, rng, model::OperandMix::kUniform);
  const cosim::ArrayProgram prog =
      cosim::build_gemm_program(model::Dataflow::kWs, array->spec(), a, b);
  std::uint64_t cycles = 0;
  const auto t0 = std::chrono::steady_clock::now();
  double secs = 0;
  while (secs < 0.5) {
    cycles += cosim::run_program(*array, prog).cycles;
    secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  return double(cycles) / secs;
}

// The config's GEMM on the device: random int8 operands copied in, the
// program built and stored once (the timed loops run the device alone).
struct StoredGemm {
  host::Tensor a, b, c;
  host::DeviceBuffer code;
  std::size_t n_insn = 0;
  StoredGemm(host::Driver& drv, const app::Config& cfg) {
    const auto M = cfg.gemm.m, K = cfg.gemm.k, N = cfg.gemm.n;
    a = drv.alloc_tensor(M, K, 1);
    b = drv.alloc_tensor(K, N, 1);
    c = drv.alloc_tensor(M, N, 4);
    std::vector<std::uint8_t> ha(M * K), hb(K * N);
    std::mt19937 rng(1);
    for (auto& v : ha) v = static_cast<std::uint8_t>(rng());
    for (auto& v : hb) v = static_cast<std::uint8_t>(rng());
    drv.copy_in(a, std::span<const std::uint8_t>(ha));
    drv.copy_in(b, std::span<const std::uint8_t>(hb));
    const auto prog = host::gemm_program(drv.backend().params(), cfg.core.dataflow, M, K, N,
                                         a.ref(), b.ref(), c.ref());
    code = drv.alloc(prog.size() * 16, 16);
    const std::vector<std::uint8_t> words = sasim::isa::program_bytes(prog);
    drv.backend().write(code.addr(), words.data(), words.size());
    n_insn = prog.size();
  }
};

// A fresh SystemC context (SystemC 2.3 cannot reset its kernel; the old one
// is left behind, as in the SystemC tests) and the device of configs/<file>
// on `engine`; `cfg` gets the loaded config.
std::unique_ptr<cosim::CosimDevice> fresh_device(const char* file, cosim::Engine engine,
                                                 app::Config& cfg) {
  sc_core::sc_curr_simcontext = new sc_core::sc_simcontext();
  sc_core::sc_default_global_context = sc_core::sc_curr_simcontext;
  sc_core::sc_set_time_resolution(1, sc_core::SC_PS);
  cfg = app::load_config(std::string(SASIM_SOURCE_DIR) + "/configs/" + file);
  cfg.run.engine = engine;
  return app::make_cosim_device(cfg);
}

// configs/train.yaml's MLP on a fresh device on `engine`, and its steps on the
// training set's first batches (step() adds the device's wall seconds).
struct TrainBench {
  app::Config cfg;
  std::unique_ptr<cosim::CosimDevice> device;
  host::Driver drv;
  model::MlpConfig m;
  host::DeviceMlp mlp;
  host::Dataset data;
  std::vector<std::size_t> order;
  explicit TrainBench(cosim::Engine engine)
      : device(fresh_device("train.yaml", engine, cfg)),
        drv(*device),
        m(app::mlp_config(cfg)),
        mlp(drv, m, model::mlp_init(m)),
        data(host::load_fashion_mnist(cfg.train.data_dir, host::Split::kTrain)),
        order(host::shuffled_order(data.count, 1, 0)) {}
  host::StepStats step(std::uint64_t s, double& secs) {
    const model::Batch b = host::make_batch(data, order, s * m.batch, m.batch);
    const model::RawMatrix x = model::to_bf16_input(b.x);
    const auto t0 = std::chrono::steady_clock::now();
    host::StepStats st = mlp.step(x, b.labels);
    secs += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return st;
  }
};

void bm_device(benchmark::State& state) {
  // Google Benchmark may call this function several times: every call gets a
  // fresh SystemC context (SystemC 2.3 cannot reset its kernel; the old one
  // is left behind, as in the SystemC tests).
  sc_core::sc_curr_simcontext = new sc_core::sc_simcontext();
  sc_core::sc_default_global_context = sc_core::sc_curr_simcontext;
  sc_core::sc_set_time_resolution(1, sc_core::SC_PS);
  // The bare array first: its model is gone before the core's is made
  // (Verilator 5.006 mis-handles scopes of interleaved model lifetimes).
  const double arr = array_cycles_per_s();
  const app::Config cfg = app::load_config(std::string(SASIM_SOURCE_DIR) + "/configs/default.yaml");
  const std::unique_ptr<cosim::CosimDevice> device = app::make_cosim_device(cfg);
  cosim::CosimDevice& dev = *device;
  host::Driver drv(dev);
  const auto M = cfg.gemm.m, K = cfg.gemm.k, N = cfg.gemm.n;
  const StoredGemm g(drv, cfg);
  std::uint64_t cycles = 0;
  double macs = 0, util = 0, secs = 0;
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    const spec::RunResult r = dev.run(g.code.addr(), g.n_insn);
    secs += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    cycles += r.cycles;
    macs += double(M) * K * N;
    util = double(M) * K * N / (double(r.cycles) * cfg.core.rows * cfg.core.cols);
  }
  state.counters["cycles/s"] = benchmark::Counter(double(cycles), benchmark::Counter::kIsRate);
  state.counters["MAC/s"] = benchmark::Counter(macs, benchmark::Counter::kIsRate);
  state.counters["utilization"] = util;
  state.counters["array_cycles/s"] = arr;
  state.counters["device_vs_array"] = double(cycles) / secs / arr;
}

// One training step of configs/train.yaml's MLP (784-128-10, batch 32, its
// optimizer settings) on the bf16 16 x 16 device: wall seconds per step and the
// simulated MAC/s (forward and backward GEMM MACs per wall second).
void bm_train_step(benchmark::State& state) {
  TrainBench t(cosim::Engine::kRtl);
  const model::MlpConfig& m = t.m;
  double macs_per_step = 0;
  for (std::size_t l = 0; l + 1 < m.layers.size(); ++l) {
    const double io = double(m.layers[l]) * m.layers[l + 1];
    macs_per_step += m.batch * (2 * io + m.layers[l + 1] + (l > 0 ? io : 0));
  }
  std::uint64_t step = 0, cycles = 0;
  double secs = 0;
  for (auto _ : state) {
    cycles += t.step(step, secs).cycles();
    ++step;
  }
  state.counters["s/step"] = secs / double(step);
  state.counters["cycles/step"] = double(cycles) / double(step);
  state.counters["cycles/s"] = double(cycles) / secs;
  state.counters["MAC/s"] = macs_per_step * double(step) / secs;
}

// The model engine against the RTL engine in the same process (docs/model.md):
// wall seconds of the device's run alone (program built and stored before the
// clock starts) on the default GEMM, and of one training step of
// configs/train.yaml (the step's programs, host work between them included).
double gemm_seconds(cosim::Engine engine, int reps, std::uint64_t& cycles) {
  app::Config cfg;
  const std::unique_ptr<cosim::CosimDevice> device = fresh_device("default.yaml", engine, cfg);
  host::Driver drv(*device);
  const StoredGemm g(drv, cfg);
  double secs = 0;
  for (int i = 0; i < reps; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    cycles = device->run(g.code.addr(), g.n_insn).cycles;
    secs += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  return secs / reps;
}

double train_step_seconds(cosim::Engine engine, int steps, std::uint64_t& cycles) {
  TrainBench t(engine);
  double secs = 0;
  cycles = 0;
  for (int s = 0; s < steps; ++s) cycles += t.step(std::uint64_t(s), secs).cycles();
  return secs / steps;
}

void bm_engines_gemm(benchmark::State& state) {
  for (auto _ : state) {
    std::uint64_t rtl_cycles = 0, model_cycles = 0;
    const double rtl = gemm_seconds(cosim::Engine::kRtl, 3, rtl_cycles);
    const double mod = gemm_seconds(cosim::Engine::kModel, 10, model_cycles);
    state.counters["rtl_ms"] = rtl * 1e3;
    state.counters["model_ms"] = mod * 1e3;
    state.counters["speedup"] = rtl / mod;
    state.counters["same_cycles"] = rtl_cycles == model_cycles ? 1 : 0;
  }
}

void bm_engines_train_step(benchmark::State& state) {
  for (auto _ : state) {
    std::uint64_t rtl_cycles = 0, model_cycles = 0;
    const double rtl = train_step_seconds(cosim::Engine::kRtl, 2, rtl_cycles);
    const double mod = train_step_seconds(cosim::Engine::kModel, 2, model_cycles);
    state.counters["rtl_s"] = rtl;
    state.counters["model_s"] = mod;
    state.counters["speedup"] = rtl / mod;
    state.counters["same_cycles"] = rtl_cycles == model_cycles ? 1 : 0;
  }
}

}  // namespace

void register_device_benchmarks() {
  benchmark::RegisterBenchmark("BM_Engines/default_yaml/rtl_vs_model", bm_engines_gemm)
      ->Unit(benchmark::kSecond)
      ->Iterations(1);
  benchmark::RegisterBenchmark("BM_Engines/train_yaml_step/rtl_vs_model", bm_engines_train_step)
      ->Unit(benchmark::kSecond)
      ->Iterations(1);
  benchmark::RegisterBenchmark("BM_TrainStep/train_yaml/bf16/16x16/784-128-10/batch32",
                               bm_train_step)
      ->Unit(benchmark::kSecond)
      ->Iterations(5);
  benchmark::RegisterBenchmark("BM_Device/default_yaml/int8/16x16/ws/256x256x256", bm_device)
      ->Unit(benchmark::kMillisecond)
      ->MinTime(2.0);
}
