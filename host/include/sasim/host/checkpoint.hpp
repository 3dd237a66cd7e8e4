// Training checkpoints: the training state and the number of steps done, in
// a file that checks itself.
//
// Layout (little endian): "SASIMCKP", u64 format version (4), u64 step, the
// fingerprint of the run (u64 layer count, u64 per layer, u64 optimizer state
// tensors per parameter (0, 1 with momentum, 2 for adam and adamw), f32 bits
// of lr and momentum, u64 batch, seed, the learning-rate schedule: u64 kind,
// warm-up steps, step size, f32 bits of gamma and lr_min (0 where the schedule
// has no such field), u64 cosine length; training images, numerics version;
// u64 optimizer kind, f32 bits of beta1, beta2, eps and weight_decay (0 for
// sgd)), then per layer w32, b32, wbf (then vw, vb: the velocities or first
// moments; then sw, sb: the second moments), and a CRC-32 (zlib) of
// everything before it. Version 3 (SGD runs of earlier sasim) is the same
// without the optimizer fields, and is still read.
//
// load_checkpoint throws CheckpointError naming the file and what is wrong:
// missing or unreadable; not a checkpoint; another format version; truncated or
// with bytes appended; damaged (checksum); written by another run (which
// fingerprint field differs, with both values); a step past the run's end;
// non-finite parameters, negative second moments or bf16 weights that are not
// the rounding of the fp32 ones. Sizes and the step are checked before
// anything is allocated or replayed. save_checkpoint writes through
// host::write_file_atomic.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

#include "sasim/model/mlp.hpp"
#include "sasim/model/mlp_golden.hpp"

namespace sasim::host {

class CheckpointError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// What a checkpoint must agree with to continue a run bit for bit: the MLP
// (layers, lr, the schedule, the optimizer and its fields, batch, seed) and
// the number of training images (the shuffling depends on it).
struct RunFingerprint {
  model::MlpConfig mlp;
  std::uint64_t train_images = 0;
};

// The rounding rules of the device numerics the state was computed with;
// raised when they change. 2: the weight gradient reduces the whole batch in
// one OS fold (host::weight_gradient_fold) instead of the array's rows.
inline constexpr std::uint64_t kNumericsVersion = 2;

std::string checkpoint_bytes(const model::MlpState& s, std::uint64_t step,
                             const RunFingerprint& run);
void save_checkpoint(const std::string& path, const model::MlpState& s, std::uint64_t step,
                     const RunFingerprint& run);

struct Checkpoint {
  model::MlpState state;
  std::uint64_t step = 0;
};
// `max_step`: the last step of the run that resumes (a later step is an error).
Checkpoint load_checkpoint(const std::string& path, const RunFingerprint& run,
                           std::uint64_t max_step);

}  // namespace sasim::host
