// The YAML configuration of a sasim run: parsed once, validated once.
// Errors name the file, the key path and the allowed values.
#pragma once

#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "sasim/fw/functional_device.hpp"
#include "sasim/mem/memory_system.hpp"
#include "sasim/model/gemm.hpp"
#include "sasim/model/types.hpp"
#include "sasim/sim/array_model.hpp"
#include "sasim/sim/core_model.hpp"

namespace sasim::sim {

class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct CoreConfig {
  unsigned rows = 16;
  unsigned cols = 16;
  model::Datapath datapath = model::Datapath::kInt8;
  model::Dataflow dataflow = model::Dataflow::kWs;
  double clock_mhz = 1000;    // core clock, (0, 10000]: turns cycles into time and MAC/s
  unsigned spad_rows = 8192;  // scratchpad rows of max(rows, cols) elements, rows+1..65536
  unsigned acc_rows = 1024;   // accumulator rows of cols 32-bit lanes, rows..65536
  unsigned bus_bytes = 16;    // data width of the AXI master port: 16, 32 or 64
  ArrayShape shape() const { return {datapath, rows, cols}; }
  CoreShape core_shape() const { return {datapath, rows, cols, spad_rows, acc_rows, bus_bytes}; }
};

struct GemmJobConfig {
  std::uint64_t m = 64, k = 64, n = 64;
  std::uint64_t seed = 1;
  model::OperandMix operands = model::OperandMix::kUniform;
};

struct RunConfig {
  bool waves = false;     // write an FST waveform
  std::string wave_file;  // default: waves/<config name>.fst
  std::uint64_t watchdog_cycles = 10000;
  std::string out_dir = "out";  // statistics and effective config go to <out_dir>/<name>/
};

// The synthetic access stream of `sasim mem` (sim/include/sasim/sim/traffic_job.hpp).
struct TrafficConfig {
  std::string pattern = "stream";  // "stream" (sequential) | "random" (uniform over the footprint)
  std::uint64_t requests = 4096;   // 1..10'000'000
  unsigned request_bytes = 64;     // 1..4096, a power of two; requests are aligned to it
  double write_fraction = 0.0;     // 0..1
  unsigned outstanding = 16;       // requests in flight, 1..1024
  std::uint64_t footprint_bytes = 1 << 20;  // region from memory.base, request_bytes..memory.size
  std::uint64_t seed = 1;
};

// The training job (`sasim train`, sim/include/sasim/sim/train_job.hpp).
struct TrainConfig {
  std::vector<unsigned> layers{784, 128, 10};  // inputs, hidden..., classes
  double lr = 0.01;
  double momentum = 0.9;
  unsigned batch = 32;
  std::uint64_t steps = 0;  // 0: `epochs` passes over the training images
  unsigned epochs = 1;
  std::uint64_t train_images = 60000;  // the first n of the training split
  std::uint64_t test_images = 10000;   // the first n of the test split
  std::uint64_t seed = 1;              // initialisation and shuffling
  bool check = false;                  // compare with the golden step after every step
  std::string data_dir = "/usr/share/datasets/fashion-mnist";
  std::string resume;  // a checkpoint to start from ("": fresh)
};

struct Config {
  std::string name;    // the config file's stem
  std::string source;  // the file it came from
  CoreConfig core;
  GemmJobConfig gemm;
  RunConfig run;
  mem::InterconnectConfig interconnect;
  mem::CacheConfig l2;
  mem::MainMemoryConfig memory;
  TrafficConfig traffic;
  TrainConfig train;
  mem::MemorySystemConfig memory_system() const { return {interconnect, l2, memory}; }
  // The device as the firmware sees it (tiling, functional model): from the
  // core and memory sections, the one source of these sizes.
  fw::DeviceParams device() const {
    return {core.datapath, core.rows,   core.cols,  core.spad_rows,
            core.acc_rows, memory.base, memory.size};
  }
};

// Loads and validates `path`. Unknown keys are errors (they are usually typos).
Config load_config(const std::filesystem::path& path);
// Parses YAML text; `source` names it in error messages.
Config parse_config(const std::string& yaml_text, const std::string& source);
// The array-only job needs cfg.core.shape() verilated (SASIM_ARRAY_VARIANTS),
// the device jobs cfg.core.core_shape() (SASIM_CORE_VARIANTS). Throw
// ConfigError naming the file and the built variants otherwise.
void require_array_variant(const Config& cfg);
void require_core_variant(const Config& cfg);

// The effective configuration (defaults filled in), as YAML.
std::string to_yaml(const Config& cfg);

}  // namespace sasim::sim
