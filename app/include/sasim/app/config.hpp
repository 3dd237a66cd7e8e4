// The YAML configuration of a sasim run: parsed once, validated once.
// Errors name the file, the key path and the allowed values.
#pragma once

#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "sasim/app/energy.hpp"
#include "sasim/app/power.hpp"
#include "sasim/cosim/timed_core.hpp"
#include "sasim/host/dp_kernels.hpp"
#include "sasim/host/multicore_kernels.hpp"
#include "sasim/mem/memory_system.hpp"
#include "sasim/model/gemm.hpp"
#include "sasim/model/mlp.hpp"
#include "sasim/spec/device_spec.hpp"

namespace sasim::app {

class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct GemmJobConfig {
  std::uint64_t m = 64, k = 64, n = 64;
  std::uint64_t seed = 1;
  model::OperandMix operands = model::OperandMix::kUniform;
  host::GemmSplit split = host::GemmSplit::kM;  // core.count > 1: rows (m) or K (k) per core
};

struct RunConfig {
  cosim::Engine engine =
      cosim::Engine::kRtl;  // rtl | model | check (cosim/timed_core.hpp; --engine)
  bool waves = false;       // write an FST waveform
  std::string wave_file;    // default: waves/<config name>.fst
  std::uint64_t watchdog_cycles = 10000;
  std::string out_dir = "out";  // statistics and effective config go to <out_dir>/<name>/
  std::string trace_file;       // a Chrome/Perfetto trace of the run ("": none; --trace)
  std::string trace_window;     // "START:END" device cycles of the trace ("": all; --trace-window)
};

// The synthetic access stream of `sasim mem` (app/include/sasim/app/mem_job.hpp).
struct TrafficConfig {
  std::string pattern = "stream";  // "stream" (sequential) | "random" (uniform over the footprint)
  std::uint64_t requests = 4096;   // 1..10'000'000
  unsigned request_bytes = 64;     // 1..4096, a power of two; requests are aligned to it
  double write_fraction = 0.0;     // 0..1
  unsigned outstanding = 16;       // requests in flight, 1..1024
  std::uint64_t footprint_bytes = 1 << 20;  // region from memory.base, request_bytes..memory.size
  std::uint64_t seed = 1;
};

// The training job (`sasim train`, app/include/sasim/app/train_job.hpp).
struct TrainConfig {
  std::vector<unsigned> layers{784, 128, 10};  // inputs, hidden..., classes
  double lr = 0.01;                            // the base (peak) learning rate of the schedule
  // The optimizer (model::MlpConfig): sgd with `momentum`, or adam / adamw
  // with beta1, beta2, eps and weight_decay. A key of the other optimizers is
  // an error.
  model::Optimizer optimizer = model::Optimizer::kSgd;
  double momentum = 0.9;
  // As written in YAML; their binary32 values are MlpConfig's defaults.
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.0;
  // The learning-rate schedule (model::MlpConfig::lr_at): constant, step
  // (x gamma every step_size steps) or cosine (to lr_min over the run), after
  // warmup_steps of linear warm-up.
  model::LrSchedule schedule = model::MlpConfig{}.schedule;
  std::uint64_t warmup_steps = model::MlpConfig{}.warmup_steps;
  std::uint64_t step_size = model::MlpConfig{}.step_size;
  // As written in YAML (doubles); their binary32 values are MlpConfig's
  // defaults (tests/unit/test_config.cpp checks it).
  double gamma = 0.1;
  double lr_min = 0.0;
  unsigned batch = 32;
  std::uint64_t steps = 0;  // steps of the whole run (0: `epochs` passes over the training images)
  unsigned epochs = 1;
  std::uint64_t train_images = 60000;  // the first n of the training split
  std::uint64_t test_images = 10000;   // the first n of the test split
  std::uint64_t seed = 1;              // initialisation and shuffling
  bool check = false;                  // compare with the golden step after every step
  // core.count > 1 (docs/multicore.md): data or tensor parallel
  // (host::Parallelism), and how data-parallel cores reduce the weight
  // gradients (host::GradReduce: fused | partials).
  host::Parallelism parallel = host::Parallelism::kData;
  host::GradReduce grad_reduce = host::GradReduce::kFused;
  std::string data_dir = "/usr/share/datasets/fashion-mnist";
  std::string resume;  // a checkpoint to continue from ("": fresh); the run still ends at `steps`
  // The checkpoint is written every checkpoint_every steps (0: at the end only),
  // so a killed run resumes from its last one.
  std::uint64_t checkpoint_every = 100;
  // Stop after this step of the run (0: at its end), with a checkpoint there:
  // the schedule stays the whole run's, so a later --resume (on any engine)
  // continues as if uninterrupted.
  std::uint64_t stop_after = 0;
};

// Quantized int8 inference of a trained model (sasim quantize,
// model/include/sasim/model/quant.hpp): per-tensor scales from the first
// calibration_images training images, the forward pass on the int8 twin of
// `core` (the same core with datapath int8), checked against the golden int8
// model batch by batch.
struct QuantizeConfig {
  bool after_training = false;              // sasim train runs it on its checkpoint
  std::uint64_t calibration_images = 1000;  // the first n of the training split
  std::string checkpoint;  // sasim quantize: the trained state ("": <out>/<name>/checkpoint.bin)
};

struct Config {
  std::string name;     // the config file's stem
  std::string source;   // the file it came from
  spec::CoreSpec core;  // the contract's core parameters (spec/contract.json)
  unsigned cores = 1;   // core.count: cores of the device, 1..cosim::kMaxCores (docs/multicore.md)
  GemmJobConfig gemm;
  RunConfig run;
  mem::InterconnectConfig interconnect;
  mem::CacheConfig l2;
  mem::MainMemoryConfig memory;
  TrafficConfig traffic;
  TrainConfig train;
  QuantizeConfig quantize;
  EnergyConfig energy;
  PowerConfig power;
  mem::MemorySystemConfig memory_system() const { return {interconnect, l2, memory}; }
  // The device: the core and the memory window (memory.base, memory.size).
  spec::DeviceSpec device() const;
};

// The MLP of the train section (layers, optimizer, batch, seed).
model::MlpConfig mlp_config(const Config& cfg);

// Loads and validates `path`: a regular file of at most kMaxConfigBytes
// holding one YAML document. Unknown keys are errors (they are usually
// typos); whole numbers are decimal without leading zeros, or 0x hex.
// `overrides` (the command line's --set) are `key.path=value` entries applied
// to the document before it is read, so they get the file's checks and
// messages and show in the effective config.
inline constexpr std::uint64_t kMaxConfigBytes = 1 << 20;
Config load_config(const std::filesystem::path& path,
                   const std::vector<std::string>& overrides = {});
// Parses YAML text; `source` names it in error messages.
Config parse_config(const std::string& yaml_text, const std::string& source,
                    const std::vector<std::string>& overrides = {});
// One key of a key path (core, rows, tCL): letters, digits and _.
bool is_key_name(const std::string& key);

// run.trace_window "START:END" (device cycles, END above START) as a pair;
// "" is everything. std::invalid_argument naming the text otherwise.
std::pair<std::uint64_t, std::uint64_t> parse_trace_window(const std::string& text);

// The effective configuration (defaults filled in), as YAML.
std::string to_yaml(const Config& cfg);

}  // namespace sasim::app
