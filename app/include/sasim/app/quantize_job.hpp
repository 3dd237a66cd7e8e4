// The quantization job (`sasim quantize`, and `sasim train` with
// quantize.after_training): a trained checkpoint of the `train` section's MLP
// quantized to int8 on the host (model::quantize_mlp, per-tensor scales from
// the first quantize.calibration_images training images) and run on the int8
// twin of the config's core (same shape and SRAMs, datapath int8) over the
// test images, every batch's logits and hidden activations compared bit for
// bit with the golden int8 model (model::int8_logits); its accuracy beside the
// fp32 accuracy of the checkpoint's master weights.
#pragma once

#include <nlohmann/json.hpp>
#include <ostream>
#include <string>

#include "sasim/app/config.hpp"

namespace sasim::app {

struct QuantizeJobResult {
  double int8_accuracy = 0;  // on the test images, inference on the int8 device
  double fp32_accuracy = 0;  // the checkpoint's fp32 master weights, fp32 arithmetic
  std::string checkpoint;    // the state quantized
  nlohmann::json stats;      // <out_dir>/<name>/quantize_report.json
};

// The checkpoint quantize.checkpoint, or <out>/<name>/checkpoint.bin.
std::string quantize_checkpoint(const Config& cfg);

// Progress goes to `progress`. Throws ConfigError for a checkpoint that is
// missing, damaged or of another run (naming quantize.checkpoint) and for an
// int8 core that is not built; std::runtime_error when the device and the
// golden int8 model differ.
QuantizeJobResult quantize_job(const Config& cfg, std::ostream& progress);

std::string quantize_summary(const Config& cfg, const QuantizeJobResult& r);

}  // namespace sasim::app
