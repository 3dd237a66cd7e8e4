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

#include "sasim/host/driver.hpp"
#include "sasim/model/mlp.hpp"
#include "sasim/model/mlp_golden.hpp"

namespace sasim::host {

struct StepStats {
  float loss = 0;
  // Device cycles and counters per phase: forward, the data gradient (ReLU
  // backward, dX), the weight gradient (dW, db) and the SGD update.
  spec::RunResult forward, data_grad, weight_grad, update;
  std::uint64_t cycles() const {
    return forward.cycles + data_grad.cycles + weight_grad.cycles + update.cycles;
  }
};

class DeviceMlp {
 public:
  // Allocates every tensor for cfg (batch cfg.batch) and loads `init`.
  // Throws std::invalid_argument for a non-bf16 device or a state whose shapes
  // do not match cfg, DeviceOutOfMemory when it does not fit.
  DeviceMlp(Driver& drv, const model::MlpConfig& cfg, const model::MlpState& init);

  // Called before (begin) and after each part of a step or an inference:
  // ("forward", layer), ("backward", layer), ("update", layer); the trace
  // draws them as spans.
  using PhaseHook = std::function<void(const char* phase, std::size_t layer, bool begin)>;
  void set_phase_hook(PhaseHook hook) { hook_ = std::move(hook); }

  // One training step on x (cfg.batch rows of bf16 inputs) and its labels.
  StepStats step(const model::RawMatrix& x, std::span<const std::uint8_t> labels);

  // Inference on the device: the forward pass of x (cfg.batch rows) and the
  // fp32 logits read back (cfg.batch x classes, binary32 bits).
  model::AccMatrix logits(const model::RawMatrix& x, spec::RunResult* stats = nullptr);

  // The parameters and optimizer state, read back from device memory.
  model::MlpState state();

  // The intermediate tensors of the last step, read back from device memory
  // (the layout of model::MlpTrace; after logits() z and act hold the
  // inference's forward pass).
  model::MlpTrace trace();

 private:
  void forward(const model::RawMatrix& x, spec::RunResult& stats);
  struct Layer {
    Tensor wbf, w32, b32, vw, vb;  // parameters and velocities
    Tensor z, act, dy, dw, db;     // per-step tensors (act: this layer's bf16 output)
  };
  void mark(const char* phase, std::size_t layer, bool begin) const {
    if (hook_) hook_(phase, layer, begin);
  }
  Driver& drv_;
  PhaseHook hook_;
  model::MlpConfig cfg_;
  Tensor x_;
  std::vector<Layer> layers_;
};

}  // namespace sasim::host
