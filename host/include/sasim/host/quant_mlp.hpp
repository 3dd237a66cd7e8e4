// Quantized int8 inference on the device: the parameters of a model::QuantMlp
// (model/include/sasim/model/quant.hpp: the host's quantization of a trained
// MLP and the golden forward pass) in device memory, and the forward pass of a
// batch on the int8 datapath, one int8_dense_program per layer
// (mlp_kernels.hpp): int32 GEMM, bias, RELU and TO_INT8 requantization on the
// vector unit for hidden layers, the int32 logits read back.
#pragma once

#include <cstdint>
#include <vector>

#include "sasim/host/driver.hpp"
#include "sasim/model/quant.hpp"

namespace sasim::host {

class DeviceInt8Mlp {
 public:
  // Allocates the layers' tensors for `batch` rows and loads q's weights and
  // biases. Throws std::invalid_argument for a device that is not int8, a
  // batch of 0 or a QuantMlp without layers; DeviceOutOfMemory when it does
  // not fit.
  DeviceInt8Mlp(Driver& drv, const model::QuantMlp& q, std::uint64_t batch);

  // The forward pass of xq (batch x inputs, int8 in the low 8 bits;
  // model::quantize_input) and the int32 logits read back; `stats`, when
  // given, adds the runs' cycles and counters.
  model::AccMatrix logits(const model::RawMatrix& xq, spec::RunResult* stats = nullptr);

  // The hidden layers' int8 outputs of the last logits() (as model::int8_logits
  // gives them).
  std::vector<model::RawMatrix> hidden();

 private:
  struct Layer {
    Tensor w, b, z, y;  // int8 weights, int32 bias, int32 pre-activation, int8 output
    unsigned shift = 0;
    bool last = false;
  };
  Driver& drv_;
  std::uint64_t batch_;
  Tensor x_;
  std::vector<Layer> layers_;
};

}  // namespace sasim::host
