// Data- and tensor-parallel training kernels (docs/multicore.md): one
// layer's part of a training step on `cores` cores of one device.
//
// Data parallel (dp_*): the batch split into equal consecutive row shards
// (core i: rows [M i / n, M (i + 1) / n)). The forward pass and the data
// gradient are row-wise, so they give the one-core numbers bit for bit. The
// weight and bias gradients are reduced across the shards on the device in
// one of two ways (GradReduce).
//
// Tensor parallel (tp_*): the layers pair up (Megatron-LM's MLP): layer 2j
// is split by columns (TpRole::kColumn: core i holds columns H_i = [H i / n,
// H (i + 1) / n) of W, b and computes those columns of z, the activation and
// every gradient), layer 2j+1 by rows (TpRole::kRow: core i holds rows H_i of
// W, multiplies its columns of the activation by them and the cores add their
// partial products on the device, in core order, as split_k_gemm_programs
// does). Every tensor but the two sums (z of the row layer, dX of a column
// layer after the first) is the one-core one, bit for bit; the golden model is
// model::mlp_step with StepFolds::tensor.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "sasim/host/driver.hpp"
#include "sasim/host/mlp_kernels.hpp"
#include "sasim/spec/backend.hpp"

namespace sasim::host {

// How the cores combine their shards' weight gradients:
//  - kFused: a reduce-scatter inside the array: core i computes rows
//    [K i / n, K (i + 1) / n) of dW (whole blocks of the array's rows) over
//    the whole batch, reading every core's dZ from the shared memory, with
//    the optimizer step fused (gemm_update_program); the last core does db
//    and the bias. Summation in batch order: the one-core numbers, bit for
//    bit (model::dense_backward with shards = 1). No SYNC, no partials.
//  - kPartials: core i computes its shard's partial dW and db into buffers of
//    its own; SYNC; core i sums its rows of every partial in core order
//    (append_reduce) into dw and steps them (update_program). The classic
//    all-reduce traffic; model::dense_backward with shards = cores.
enum class GradReduce : std::uint8_t { kFused, kPartials };
std::string_view to_string(GradReduce r);  // "fused", "partials"
std::optional<GradReduce> parse_grad_reduce(std::string_view s);

// Rows [first, end) of core i of n for M rows: M i / n .. M (i + 1) / n.
struct RowRange {
  std::uint64_t first = 0, end = 0;
};
RowRange core_rows(std::uint64_t M, unsigned core, unsigned cores);

// Rows [first, end) of a tensor as a view (no memory of its own).
Tensor row_view(const Tensor& t, RowRange r);

// One launch of a program per core, and each core's useful multiply-
// accumulates: M x K x N of every GEMM it runs (db's row of ones included), as
// the phases count them (step_bounds), for its PE utilization.
struct ParallelLaunch {
  spec::LaunchResult result;
  std::vector<std::uint64_t> macs;  // per core
};

// dense_forward on every core's rows of x, z and y (one launch).
ParallelLaunch dp_dense_forward(Driver& drv, unsigned cores, const Tensor& x, const Tensor& w,
                                const Tensor& bias, const Tensor& z, const Tensor& y, bool relu);

// data_backward on every core's rows: dZ over dy (or the bf16 copy of dY),
// dz_bf; with dx, W^T (each core transposes its share of W's rows), SYNC,
// then dX = dz_bf W^T on its rows (one launch).
ParallelLaunch dp_data_backward(Driver& drv, unsigned cores, const Tensor& w, const Tensor& dy,
                                const Tensor* z, const Tensor& dz_bf, const Tensor* dx);

// The weight gradient and the optimizer step (one launch), reduced as
// `reduce` says. kPartials: the shard's partial dW = X_i^T dZ_i (OS,
// weight_gradient_options: fold weight_gradient_fold of the shard) and db =
// ones dZ_i (WS). dw and db hold the reduced gradients afterwards with
// kPartials, with kFused only with update.keep_gradients. Shapes as
// weight_backward with the update (std::invalid_argument otherwise, and for
// M % cores != 0 or more cores than the device has).
ParallelLaunch dp_weight_backward(Driver& drv, unsigned cores, const Tensor& x, const Tensor& w,
                                  const Tensor& dz_bf, const Tensor& dw, const Tensor& db,
                                  const LayerUpdate& update,
                                  GradReduce reduce = GradReduce::kFused);

// How a training step uses several cores (DeviceMlp).
enum class Parallelism : std::uint8_t { kData, kTensor };
std::string_view to_string(Parallelism p);  // "data", "tensor"
std::optional<Parallelism> parse_parallelism(std::string_view s);

// A layer's part in a tensor-parallel pair: layer l is kColumn for even l,
// kRow for odd l.
enum class TpRole : std::uint8_t { kColumn, kRow };
inline TpRole tp_role(std::size_t layer) { return layer % 2 == 0 ? TpRole::kColumn : TpRole::kRow; }

// The forward pass of a layer (one launch), tensors as dense_forward.
//  kColumn: core i: dense_forward_program on columns H_i of w, bias, z, y.
//  kRow: core i: P_i = x[:, H_i] w[H_i, :] (WS) into a partial buffer; SYNC;
//    rows M_i of z = ((P_0 + P_1) + ...) (append_reduce), then bias and
//    activation on them (bias_act_program). std::invalid_argument for fewer
//    rows or split columns than cores, and on shape mismatches.
ParallelLaunch tp_dense_forward(Driver& drv, unsigned cores, TpRole role, const Tensor& x,
                                const Tensor& w, const Tensor& bias, const Tensor& z,
                                const Tensor& y, bool relu);

// The data gradient of a layer (one launch), tensors as data_backward.
//  kRow: core i: dZ (and dz_bf) on rows M_i; W^T columns H_i (its rows of W
//    transposed); SYNC; columns H_i of dX = dz_bf W^T.
//  kColumn: core i: dZ and dz_bf on columns H_i; with dx, W^T rows H_i (its
//    columns of W transposed), P_i = dz_bf[:, H_i] W^T[H_i, :] into a partial
//    buffer; SYNC; rows M_i of dX = ((P_0 + P_1) + ...).
ParallelLaunch tp_data_backward(Driver& drv, unsigned cores, TpRole role, const Tensor& w,
                                const Tensor& dy, const Tensor* z, const Tensor& dz_bf,
                                const Tensor* dx);

// The weight gradient with the optimizer step fused (one launch), over the
// whole batch, as weight_backward with `update`:
//  kRow: core i: rows H_i of dW (OS) and their step; the last core db and b.
//  kColumn: core i: columns H_i of dW (OS) and of db (WS) and their steps.
ParallelLaunch tp_weight_backward(Driver& drv, unsigned cores, TpRole role, const Tensor& x,
                                  const Tensor& w, const Tensor& dz_bf, const Tensor& dw,
                                  const Tensor& db, const LayerUpdate& update);

}  // namespace sasim::host
