// The training job (`sasim train`): the MLP of the `train` section trained on
// Fashion-MNIST on the whole device (the verilated bf16 core behind the
// SystemC memory system, host::DeviceMlp), test accuracy by inference on the
// device, the fp32 reference trainer (model::ReferenceMlp) on the same
// batches for comparison, a checkpoint and a JSON report with per-phase
// hardware statistics (forward, backward, update).
#pragma once

#include <nlohmann/json.hpp>
#include <ostream>
#include <string>

#include "sasim/app/config.hpp"
#include "sasim/host/dataset.hpp"
#include "sasim/model/mlp.hpp"

namespace sasim::app {

struct TrainJobResult {
  std::uint64_t steps = 0;               // steps run by this job
  double device_accuracy = 0;            // on the test images, inference on the device
  double reference_accuracy = 0;         // fp32 reference trainer, same batches
  double first_loss = 0, last_loss = 0;  // mean of the first / last (up to) 10 steps
  std::string checkpoint;                // written here
  nlohmann::json stats;                  // <out_dir>/<name>/train_report.json
  // quantize.after_training: false when the int8 inference failed (its
  // process's log is named in stats.int8_inference; sasim train exits 3).
  bool int8_ok = true;
};

// Progress (a line per step, rewritten in place) goes to `progress`. Throws
// ConfigError for a core that is not built or not bf16, host::DatasetError for
// missing data, spec::DeviceError when the device fails, std::runtime_error when
// `train.check` finds the device and the golden model apart.
TrainJobResult train_job(const Config& cfg, std::ostream& progress);

std::string train_summary(const Config& cfg, const TrainJobResult& r);

// The first n images of a split of train.data_dir; ConfigError naming `key`
// when the files hold fewer (host::DatasetError for missing or damaged files).
host::Dataset load_images(const Config& cfg, host::Split split, std::uint64_t n,
                          const std::string& key);

}  // namespace sasim::app
