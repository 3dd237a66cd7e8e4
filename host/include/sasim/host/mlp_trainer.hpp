// MLP training on the device: the parameters, optimizer state and activations
// live in device memory across steps; per step the host moves only the input
// batch in, the logits out and their gradient back in (softmax cross-entropy
// on the host, model::ReferenceMlp::loss_and_grad). The kernels
// (mlp_kernels.hpp) run on the device: forward (GEMM + bias + ReLU + bf16
// copy), backward (ReLU mask, transposes, dW, db, dX) and the SGD update of
// the fp32 master weights with their bf16 copy. The golden model of the same
// step is model::mlp_step (model/include/sasim/model/mlp_golden.hpp).
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "sasim/host/dp_kernels.hpp"
#include "sasim/host/driver.hpp"
#include "sasim/model/mlp.hpp"
#include "sasim/model/mlp_golden.hpp"

namespace sasim::host {

struct StepStats {
  float loss = 0;
  // Device cycles and counters per phase: forward, the data gradient (ReLU
  // backward, dX) and the weight update (X^T, dW and db with the SGD step
  // fused into them: dense_backward with a LayerUpdate).
  spec::RunResult forward, data_grad, weight_update;
  // On several cores: each core's share of the step (its cycles, from each
  // launch's start to its own done, and its core.* and bridge counters).
  std::vector<spec::RunResult> cores;
  // On several cores: each core's useful MACs in the step (ParallelLaunch),
  // for its PE utilization; they add up to the step's (step_bounds).
  std::vector<std::uint64_t> core_macs;
  // On several cores, the cycles of the launches that reduce partial sums
  // (data parallel with GradReduce::kPartials: the weight updates; tensor
  // parallel: the row layers' forward passes and the column layers' data
  // gradients with a dX) spent after their barrier (the slowest core's
  // device.bridge.after_barrier_cycles): the reduction and what follows it
  // in the same phase (the optimizer step of the reduced rows, the bias and
  // activation of the reduced z).
  std::uint64_t reduction = 0;
  std::uint64_t cycles() const { return forward.cycles + data_grad.cycles + weight_update.cycles; }
};

// The phases of a training step, in the order they run (the keys of the
// reports) and the lower bounds of their cycles on a core (step_bounds).
inline constexpr const char* kStepPhases[] = {"forward", "data_gradient", "weight_update"};

// A phase's work and the bounds it cannot beat: MACs / PEs (compute) and the
// bytes that must cross the core's AXI port over its read and write channels,
// each bus_bytes per cycle (memory: max(read, write) / bus_bytes). The bytes
// are every tensor the phase consumes read once and every tensor it produces
// for a later phase or the host written once, at the precision it is kept in:
//   forward, per layer: X (bf16), W (bf16), b (fp32) in; z (fp32, the
//     logits or the pre-activation kept for the ReLU mask) and, for hidden
//     layers, the bf16 activation out.
//   data gradient, per layer: dY (fp32) and z (hidden layers) in, the bf16
//     dZ out; for layers after the first also W (bf16) in and dX (fp32) out.
//   weight update, per layer: X (bf16), dZ (bf16), w32 and b32 (and the
//     velocities) in; w32, b32 (and the velocities) and the bf16 W out.
struct PhaseBound {
  std::uint64_t macs = 0, read_bytes = 0, write_bytes = 0;
  double compute_cycles = 0, memory_cycles = 0;
  double cycles() const { return compute_cycles > memory_cycles ? compute_cycles : memory_cycles; }
};
struct StepBounds {
  PhaseBound forward, data_grad, weight_update;
  // The whole step: the phases' work, bytes and bounds summed (its cycles():
  // the larger of the summed compute and memory bounds).
  PhaseBound step() const;
};
StepBounds step_bounds(const model::MlpConfig& cfg, const spec::CoreSpec& core);

// The folds DeviceMlp's step computes with on `p` (for model::mlp_step), on
// `cores` cores reducing as `reduce` says (kPartials: the weight gradient's
// fold is the shard's, shards = cores; kFused: the one-core folds).
model::StepFolds step_folds(const spec::DeviceSpec& p, const model::MlpConfig& cfg,
                            unsigned cores = 1, GradReduce reduce = GradReduce::kFused,
                            Parallelism par = Parallelism::kData);

// Why `cores` cores cannot run cfg's step with `par` ("" when they can): data
// parallel needs a batch that splits evenly; tensor parallel an even number of
// layers and at least `cores` units in every hidden layer it splits and rows
// in the batch.
std::string parallel_problem(const model::MlpConfig& cfg, unsigned cores, Parallelism par);

class DeviceMlp {
 public:
  // Allocates every tensor for cfg (batch cfg.batch) and loads `init`.
  // Throws std::invalid_argument for a non-bf16 device or a state whose shapes
  // do not match cfg, DeviceOutOfMemory when it does not fit.
  // With keep_gradients every step also writes dW and db to device memory
  // (for trace(); the fused weight update needs neither otherwise). The first
  // step() is step `first_step` of the run (the learning-rate schedule and
  // Adam's bias correction, cfg.rule_at; a resumed run starts at its
  // checkpoint's step). With cores > 1 every step is data parallel on that
  // many cores of the device (dp_kernels.hpp; cfg.batch a multiple of them),
  // the weight gradients reduced as `reduce` says (kPartials: dW and db are
  // always in device memory); with Parallelism::kTensor tensor parallel
  // instead (dp_kernels.hpp; parallel_problem says what it needs).
  DeviceMlp(Driver& drv, const model::MlpConfig& cfg, const model::MlpState& init,
            bool keep_gradients = false, std::uint64_t first_step = 0, unsigned cores = 1,
            GradReduce reduce = GradReduce::kFused, Parallelism par = Parallelism::kData);
  unsigned cores() const { return cores_; }
  Parallelism parallelism() const { return par_; }

  // Called before (begin) and after each part of a step or an inference:
  // ("forward", layer), ("backward", layer) (the data gradient),
  // ("update", layer) (the weight update); the trace draws them as spans.
  using PhaseHook = std::function<void(const char* phase, std::size_t layer, bool begin)>;
  void set_phase_hook(PhaseHook hook) { hook_ = std::move(hook); }

  // One training step on x (cfg.batch rows of bf16 inputs) and its labels,
  // at the learning rate cfg.lr_at(next_step()).
  StepStats step(const model::RawMatrix& x, std::span<const std::uint8_t> labels);
  std::uint64_t next_step() const { return step_; }

  // Inference on the device: the forward pass of x (cfg.batch rows) and the
  // fp32 logits read back (cfg.batch x classes, binary32 bits).
  model::AccMatrix logits(const model::RawMatrix& x, spec::RunResult* stats = nullptr);

  // The parameters and optimizer state, read back from device memory.
  model::MlpState state();

  // The intermediate tensors of the last step, read back from device memory
  // (the layout of model::MlpTrace; after logits() z and act hold the
  // inference's forward pass). std::logic_error without keep_gradients.
  model::MlpTrace trace();

 private:
  // The forward pass into `stats`; in a training step also into `step`'s
  // per-core figures and reduction.
  void forward(const model::RawMatrix& x, spec::RunResult& stats, StepStats* step = nullptr);
  struct Layer {
    Tensor wbf, w32, b32, vw, vb;      // parameters and velocities (first moments)
    Tensor sw, sb;                     // second moments (adam, adamw)
    Tensor z, act, dy, dz_bf, dw, db;  // per-step tensors (act: this layer's bf16 output)
  };
  void mark(const char* phase, std::size_t layer, bool begin) const {
    if (hook_) hook_(phase, layer, begin);
  }
  Driver& drv_;
  PhaseHook hook_;
  model::MlpConfig cfg_;
  bool keep_gradients_;
  std::uint64_t step_;
  unsigned cores_;
  GradReduce reduce_;
  Parallelism par_;
  Tensor x_;
  std::vector<Layer> layers_;
};

}  // namespace sasim::host
