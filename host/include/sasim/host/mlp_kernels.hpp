// Device kernels of MLP training (bf16 datapath), built on the GEMM kernel
// and the vector unit. Golden models with the same numerics:
// model/include/sasim/model/train_golden.hpp.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "sasim/host/driver.hpp"
#include "sasim/host/gemm_kernel.hpp"
#include "sasim/model/mlp.hpp"

namespace sasim::host {

// The program that adds a bias row and applies the activation to an fp32
// M x N matrix z in device memory, in place, and writes its bf16 copy y:
//   for column blocks of C (the accumulator's lanes) and row chunks of at most
//   min(acc_rows / 2, 4095) rows: LOAD the z block into accumulator rows
//   [0, m), LOAD the bias block into rows [m, 2m) with a DRAM stride of 0 (the
//   row repeated), VEC ADD_ROW, STORE z (pre-activation, kept for the ReLU
//   mask of the backward pass), VEC RELU (if relu), VEC TO_BF16 into
//   scratchpad rows [0, m), STORE y.
// Dependencies by assign_dependencies. Throws std::invalid_argument for the
// int8 datapath, M or N of 0, and capacities below one row.
std::vector<isa::Instruction> bias_act_program(const spec::DeviceSpec& p, std::uint64_t M,
                                               std::uint64_t N, MatrixRef z, MatrixRef bias,
                                               MatrixRef y, bool relu);

// bias_act_program fused into the GEMM z = x * w (WS, gemm_program with
// `base`'s zero region): each finished accumulator block of z, in rows [a, a
// + m), takes the bias block into rows a + Q (Q = min(acc_rows / 2,
// spad_rows / 2), the GEMM planning within the first Q accumulator rows and
// spad_rows - Q scratchpad rows), then
// ADD_ROW, STORE z, RELU, TO_BF16 (staged in scratchpad rows spad_rows - Q +
// a), STORE y as bias_act_program does: the same numbers, bit for bit, with z
// written once and never read back. Throws std::invalid_argument as
// gemm_program, for the int8 datapath and for fewer than 2 accumulator or 2
// scratchpad rows.
std::vector<isa::Instruction> dense_forward_program(const spec::DeviceSpec& p, std::uint64_t M,
                                                    std::uint64_t K, std::uint64_t N, MatrixRef x,
                                                    MatrixRef w, MatrixRef bias, MatrixRef z,
                                                    MatrixRef y, bool relu,
                                                    const GemmOptions& base);

// A dense layer on the device: z = x * w + bias, y = bf16(relu ? max(z, 0) :
// z) (dense_forward_program). x: M x K bf16, w: K x N bf16, bias: 1 x N fp32,
// z: M x N fp32, y: M x N bf16 tensors of `drv`. std::invalid_argument on
// shape or element mismatches.
spec::RunResult dense_forward(Driver& drv, const Tensor& x, const Tensor& w, const Tensor& bias,
                              const Tensor& z, const Tensor& y, bool relu);

// The int8 dense layer of quantized inference (model/include/sasim/model/
// quant.hpp): z = x * w on the int8 datapath (WS, int32 accumulation), each
// finished accumulator block in rows [a, a + m) taking the int32 bias block
// into rows a + Q (Q = min(acc_rows / 2, spad_rows / 2), DRAM stride 0), VEC
// ADD_ROW, then
//   shift given (hidden layer): VEC RELU, VEC TO_INT8 into scratchpad rows
//     spad_rows - Q + a, STORE y (int8, `out`, 1-byte elements);
//   no shift (the last layer): STORE z (int32, `out`, 4-byte elements).
// A CONFIG setting int8_shift (or 0) comes first. `z` is the GEMM's C operand
// (M x N 4-byte elements; the last layer's `out`): hidden layers do not write
// it. Throws std::invalid_argument as gemm_program, for the bf16 datapath, a
// shift above 31 and fewer than 2 accumulator or scratchpad rows.
std::vector<isa::Instruction> int8_dense_program(const spec::DeviceSpec& p, std::uint64_t M,
                                                 std::uint64_t K, std::uint64_t N, MatrixRef x,
                                                 MatrixRef w, MatrixRef bias, MatrixRef z,
                                                 MatrixRef out, std::optional<unsigned> shift,
                                                 const GemmOptions& base);

// --- Backward pass and optimizer step -----------------------------------------
//
// Relay VECs: a LOAD whose scratchpad rows a later STORE reads (and a STORE
// whose rows a later LOAD overwrites) must be ordered through an EXEC
// instruction (assign_dependencies relays LOAD <-> STORE pairs through the
// first EXEC instruction between them). Programs without other EXEC work emit
// a VEC COPY of accumulator row 0 onto itself (a no-op) for that, as
// gemm_program does.

// The program that writes dst = src^T for an R x C matrix src of the
// datapath's elements (bf16: 2 bytes; int8: 1 byte) to the C x R matrix dst:
//   for row blocks of W = max(rows, cols) source rows and column chunks of at
//   most B = min(spad_rows / 2, 4095) source columns (two alternating
//   buffers of B scratchpad rows, so a LOAD overlaps the previous STORE; a
//   one-row scratchpad has a single buffer, B = 1):
//   LOAD transposed (source rows -> scratchpad lanes: scratchpad row e of the
//   buffer holds source column c0 + e), VEC COPY relay, STORE the buffer's
//   rows as dst rows c0 .. c0 + B, lanes = the block's source rows.
// With one buffer (spad_rows == 1) every LOAD after the first is preceded by
// another relay VEC. Dependencies by assign_dependencies. Throws
// std::invalid_argument for R or C of 0, src and dst overlapping (compared as
// the byte ranges from the first to one past the last element).
std::vector<isa::Instruction> transpose_program(const spec::DeviceSpec& p, std::uint64_t R,
                                                std::uint64_t C, MatrixRef src, MatrixRef dst);

// dst = src^T on the device. src: R x C, dst: C x R, both of the datapath's
// element size. std::invalid_argument on shape or element size mismatches and
// as transpose_program.
spec::RunResult transpose(Driver& drv, const Tensor& src, const Tensor& dst);

// The program of the ReLU backward pass on an M x N block, fp32 dy and z:
//   for column blocks of C and row chunks of at most min(acc_rows / 2,
//   spad_rows, 4095) rows: LOAD dy into accumulator rows [0, m), LOAD z into
//   rows [chunk, chunk + m), VEC RELU_MASK (x = dy, b = z, dst rows [0, m)):
//   dz = z > 0 ? dy : +0, STORE dz (fp32), VEC TO_BF16 into scratchpad rows
//   [0, m), STORE dz_bf (bf16).
// dz may be dy itself (the same address and stride: in place, each block is
// read before it is written) or a new matrix; likewise dz may be z. Throws
// std::invalid_argument as bias_act_program.
std::vector<isa::Instruction> relu_backward_program(const spec::DeviceSpec& p, std::uint64_t M,
                                                    std::uint64_t N, MatrixRef dy, MatrixRef z,
                                                    MatrixRef dz, MatrixRef dz_bf);

// The program that writes the bf16 copy of an fp32 M x N matrix (linear
// layers, whose dZ is dY): per block LOAD into accumulator rows [0, m), VEC
// TO_BF16 into scratchpad rows [0, m), STORE. Chunks of min(acc_rows,
// spad_rows, 4095) rows. Throws as bias_act_program.
std::vector<isa::Instruction> to_bf16_program(const spec::DeviceSpec& p, std::uint64_t M,
                                              std::uint64_t N, MatrixRef src, MatrixRef dst);

// dz = RELU_MASK(dy, z) (fp32, M x N; dz may be dy: in place) and dz_bf =
// bf16(dz) (M x N bf16). std::invalid_argument on shape or element mismatches.
spec::RunResult relu_backward(Driver& drv, const Tensor& dy, const Tensor& z, const Tensor& dz,
                              const Tensor& dz_bf);

// The backward pass of a dense layer y = act(x w + b) on the device:
//   dZ    = z ? RELU_MASK(dY, z) : dY          (fp32; written over dy, in place)
//   dZb   = bf16(dZ)                           (scratch, M x N bf16)
//   dW    = X^T dZb                            (GEMM OS from X itself:
//                                               a_transposed, no transpose;
//                                               weight_gradient_fold)
//   db    = ones(1 x M, bf16 1.0) dZb          (column sums, GEMM WS)
//   dX    = dZb W^T                            (W^T by transpose(), GEMM WS;
//                                               skipped when dx is nullptr)
// x: M x K bf16, w: K x N bf16, dy: M x N fp32 (overwritten with dZ when z is
// given), z: M x N fp32 pre-activation or nullptr for a linear layer; outputs
// dw: K x N fp32, db: 1 x N fp32, dx: M x K fp32. Scratch tensors (dZb, W^T,
// the ones row) are allocated from the driver and freed on return. All
// gradients see dZ rounded to bf16 once (the GEMM operands); the sums are the
// array's fp32 accumulation: fold gemm_program_fold(WS) = array rows for db
// and dX, weight_gradient_fold for dW. Returns the runs' cycles and counters
// summed per part: `data` the data gradient (RELU_MASK, the bf16 copy of dZ,
// W^T and dX), `weight` the weight gradient (dW and db).
// std::invalid_argument on shape or element mismatches.
//
// With `update` the optimizer step is fused into the weight gradient
// (gemm_update_program): dW and db are applied to update->w32 / update->b32
// (and their moments) straight from the accumulator with update->rule, w (the
// bf16 copy of w32) is rewritten, and dw / db are written only with
// update->keep_gradients. dX is computed first, from the weights before the
// step. `weight` then holds the fused runs (dW + step of W, db + step of b).
// The numbers are those of dense_backward followed by the rule's golden step
// (model::sgd_update, sgd_momentum_update, adam_update) of W and b, bit for
// bit.
struct LayerUpdate {
  const Tensor* w32 = nullptr;  // K x N fp32 master weights (w is their bf16 copy)
  const Tensor* b32 = nullptr;  // 1 x N fp32 bias
  // Velocities (sgd, momentum > 0) or first moments (adam, adamw): K x N, 1 x N fp32.
  const Tensor* vw = nullptr;
  const Tensor* vb = nullptr;
  const Tensor* sw = nullptr;  // second moments (adam, adamw), K x N and 1 x N fp32
  const Tensor* sb = nullptr;
  model::UpdateRule rule;       // the step's (MlpConfig::rule_at)
  bool keep_gradients = false;  // also write dw and db
};
struct BackwardRuns {
  spec::RunResult data, weight;
};
// dense_backward's two parts. The data gradient: dZ over dy (or dZ = dY),
// dz_bf = bf16(dZ) (M x N bf16, the caller's), and dX = dz_bf W^T when dx is
// given. The weight gradient of dz_bf and x: dW and db stored, or (update) the
// fused step; dz_bf must hold the data gradient's result.
//
// The ReLU backward of the layer below fused into dX (`below`, with dx): as
// the GEMM finishes each block of dX it is masked against that layer's
// pre-activation below->z (RELU_MASK), rounded to bf16 into below->dz_bf (that
// layer's dz_bf) and, with below->keep_dx, stored in fp32 to *dx (that layer's
// dZ; otherwise dx is not written). The layer below then runs data_backward
// with dz_ready: its dz_bf is already there and its dy is neither read nor
// rewritten. The numbers are those of the unfused passes, bit for bit; dX in
// fp32 is never written and read back. masked_data_gradient_program is the
// fused GEMM (WS, M x N x K from dz_bf and W^T, planned as
// dense_forward_program: the mask's z rows Q accumulator rows above each
// block, staging at spad_rows - Q + its row).
struct MaskBelow {
  const Tensor* z = nullptr;      // M x K fp32, the lower layer's pre-activation
  const Tensor* dz_bf = nullptr;  // M x K bf16, the lower layer's dz_bf
  bool keep_dx = false;
};
spec::RunResult data_backward(Driver& drv, const Tensor& w, const Tensor& dy, const Tensor* z,
                              const Tensor& dz_bf, const Tensor* dx, bool dz_ready = false,
                              const MaskBelow* below = nullptr);
std::vector<isa::Instruction> masked_data_gradient_program(
    const spec::DeviceSpec& p, std::uint64_t M, std::uint64_t N, std::uint64_t K, MatrixRef dz_bf,
    MatrixRef wt, MatrixRef z_below, MatrixRef dx, bool store_dx, MatrixRef dz_bf_below,
    const GemmOptions& base);
spec::RunResult weight_backward(Driver& drv, const Tensor& x, const Tensor& w, const Tensor& dz_bf,
                                const Tensor& dw, const Tensor& db,
                                const LayerUpdate* update = nullptr);
// The argument checks of data_backward and weight_backward
// (std::invalid_argument naming the shapes), for kernels built on them.
void check_data_backward(const Tensor& w, const Tensor& dy, const Tensor* z, const Tensor& dz_bf,
                         const Tensor* dx);
void check_weight_backward(const Tensor& x, const Tensor& w, const Tensor& dz_bf, const Tensor& dw,
                           const Tensor& db, const LayerUpdate* update);
BackwardRuns dense_backward(Driver& drv, const Tensor& x, const Tensor& w, const Tensor& dy,
                            const Tensor* z, const Tensor& dw, const Tensor& db, const Tensor* dx,
                            const LayerUpdate* update = nullptr);

// The tensors of an optimizer step on one parameter (R x C fp32 in device
// memory): w32 the master values, wbf their bf16 copy (rewritten when given),
// m the velocity (sgd with momentum) or the first moment (adam, adamw), v the
// second moment (adam, adamw).
struct UpdateTensors {
  MatrixRef w32;
  std::optional<MatrixRef> wbf, m, v;
};

// The program of an optimizer step (rule: MlpConfig::rule_at) on w32 with the
// fp32 gradient g, each element as the rule's golden step
// (model/include/sasim/model/train_golden.hpp), immediates the rule's
// binary32 scalars:
//   Blocks of at most min(acc_rows / (2 regions), spad_rows / 2, 4095) rows
//   and C columns alternate between two sets of accumulator regions and
//   scratchpad staging rows (row offsets below are within a set), so one
//   block's LOADs overlap the previous block's STOREs; one set when acc_rows
//   < 2 x regions. A region per tensor: g at [0, m), then the state.
//   sgd, no m (2 regions): LOAD g, LOAD w32 -> [chunk, +m); VEC AXPY (imm
//     -lr, x = g, b = w32, dst g rows): w = (-lr * g) + w, product and sum
//     each rounded (RNE).
//   sgd with m (3 regions): LOAD g, m -> [chunk, +m), w32 -> [2 chunk, +m);
//     VEC AXPY (mu, x = m, b = g, dst m rows): m = (mu * m) + g; STORE m; VEC
//     AXPY (-lr, x = m, b = w32, dst g rows): w = (-lr * m) + w.
//   adam, adamw (4 regions): LOAD g, m, v, w32 into regions 0..3; (has_l2)
//     AXPY (l2, x = w, b = g) into g; SCALE m by b1; AXPY (1 - b1, x = g, b =
//     m) into m; STORE m; SCALE v by b2; MUL g by g into g; AXPY (1 - b2, x
//     = g, b = v) into v; STORE v; SQRT v into g; ADD_IMM eps_hat; DIV (x =
//     m, b = g) into g; (has_decay) SCALE w by decay; AXPY (neg_step, x = g, b
//     = w) into g.
//   Then STORE w32 from the g rows and (wbf given) VEC TO_BF16 into
//   scratchpad rows [0, m), STORE wbf; without wbf a relay VEC follows (the
//   next block's LOADs overwrite the rows the STORE reads).
// Throws std::invalid_argument as bias_act_program, for an accumulator below
// the regions, and for state tensors that are not the rule's (moments(): m
// with SGD momentum > 0, m and v with adam and adamw, none for plain SGD).
std::vector<isa::Instruction> update_program(const spec::DeviceSpec& p, std::uint64_t R,
                                             std::uint64_t C, MatrixRef g, const UpdateTensors& t,
                                             const model::UpdateRule& rule);

// update_program with an SGD rule: lr, and momentum mu (> 0) with v as the
// velocity, or plain SGD without v.
std::vector<isa::Instruction> sgd_update_program(const spec::DeviceSpec& p, std::uint64_t R,
                                                 std::uint64_t C, MatrixRef w32, MatrixRef g,
                                                 std::optional<MatrixRef> wbf, float lr,
                                                 std::optional<MatrixRef> v = {}, float mu = 0.0f);

// The optimizer step fused into a gradient GEMM: G = A * B (gemm_program
// with dataflow df, WS or OS, and `base`'s zero region and a_transposed; A: R
// x K, B: K x C bf16, G: R x C fp32) where each finished accumulator block of
// G, instead of being stored, is (store_g: also stored to g, then) the
// gradient of an update_program block on the tensors t (R x C). The GEMM
// plans within gemm_update_options (Q = min(acc_rows / regions, spad_rows /
// 2) accumulator rows, regions = 3 for sgd, 4 for adam and adamw; spad_rows -
// Q scratchpad rows); the block in accumulator rows [a, a + m) takes the
// state into rows a + Q, a + 2Q, a + 3Q and stages its bf16 copy in
// scratchpad rows spad_rows - Q + a. The numbers are those of the GEMM (with
// its fold under these limits) followed by the rule's golden step, bit for
// bit; the gradient never crosses the bus (unless store_g). Throws
// std::invalid_argument as gemm_program, gemm_update_options and
// update_program.
std::vector<isa::Instruction> gemm_update_program(const spec::DeviceSpec& p, model::Dataflow df,
                                                  std::uint64_t R, std::uint64_t K, std::uint64_t C,
                                                  MatrixRef a, MatrixRef b, MatrixRef g,
                                                  bool store_g, const UpdateTensors& t,
                                                  const model::UpdateRule& rule,
                                                  const GemmOptions& base);
// gemm_update_program with an SGD rule: lr, and momentum mu (> 0) with v as
// the velocity, or plain SGD without v.
std::vector<isa::Instruction> gemm_sgd_program(const spec::DeviceSpec& p, model::Dataflow df,
                                               std::uint64_t R, std::uint64_t K, std::uint64_t C,
                                               MatrixRef a, MatrixRef b, MatrixRef g, bool store_g,
                                               MatrixRef w32, std::optional<MatrixRef> wbf,
                                               float lr, std::optional<MatrixRef> v, float mu,
                                               const GemmOptions& base);

// `base` with gemm_update_program's SRAM limits for the optimizer (and no
// epilogue); gemm_sgd_options for sgd. std::invalid_argument with fewer
// accumulator rows than regions or fewer than 2 scratchpad rows.
GemmOptions gemm_update_options(const spec::DeviceSpec& p, GemmOptions base,
                                model::Optimizer optimizer);
GemmOptions gemm_sgd_options(const spec::DeviceSpec& p, GemmOptions base);

// The options of the weight gradient dW = X^T dZ: weight_backward runs it on
// OS from X itself (a_transposed) within gemm_update_options of the
// optimizer, with or without the fused update, so that both give the same
// numbers.
GemmOptions weight_gradient_options(const spec::DeviceSpec& p, GemmOptions base,
                                    model::Optimizer optimizer = model::Optimizer::kSgd);
// Its fold (M = the batch): one reduction of the whole batch when it fits,
// min(M, (spad_rows - Q) / 2, 4095), Q as gemm_update_options.
std::uint64_t weight_gradient_fold(const spec::DeviceSpec& p, std::uint64_t M,
                                   model::Optimizer optimizer = model::Optimizer::kSgd);

// w32 -= lr * g on the device (fp32 R x C, vector-unit rounding), then wbf =
// bf16(w32) when wbf is not nullptr (R x C bf16: the next forward's weights).
// With v (fp32 R x C velocity, PyTorch's heavy ball as model::ReferenceMlp):
// v = mu * v + g, w32 -= lr * v. std::invalid_argument on shape or element
// mismatches.
spec::RunResult sgd_update(Driver& drv, const Tensor& w32, const Tensor& g, const Tensor* wbf,
                           float lr, const Tensor* v = nullptr, float mu = 0.0f);

}  // namespace sasim::host
