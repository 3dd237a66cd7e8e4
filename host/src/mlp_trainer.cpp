#include "sasim/host/mlp_trainer.hpp"

#include <algorithm>
#include <stdexcept>

#include "sasim/host/dp_kernels.hpp"
#include "sasim/host/mlp_kernels.hpp"
#include "sasim/model/numerics.hpp"

namespace sasim::host {

namespace {

void put32(Driver& d, const Tensor& t, const model::AccMatrix& m) {
  d.copy_in(t, std::span<const std::uint32_t>(m.data(), static_cast<std::size_t>(m.size())));
}
model::AccMatrix get32(Driver& d, const Tensor& t) {
  model::AccMatrix m(static_cast<Eigen::Index>(t.rows()), static_cast<Eigen::Index>(t.cols()));
  d.copy_out(t, std::span<std::uint32_t>(m.data(), static_cast<std::size_t>(m.size())));
  return m;
}

}  // namespace

PhaseBound StepBounds::step() const {
  PhaseBound s;
  for (const PhaseBound* p : {&forward, &data_grad, &weight_update}) {
    s.macs += p->macs;
    s.read_bytes += p->read_bytes;
    s.write_bytes += p->write_bytes;
    s.compute_cycles += p->compute_cycles;
    s.memory_cycles += p->memory_cycles;
  }
  return s;
}

StepBounds step_bounds(const model::MlpConfig& cfg, const spec::CoreSpec& core) {
  cfg.validate();
  StepBounds b;
  const std::uint64_t B = cfg.batch, L = cfg.layers.size() - 1;
  const std::uint64_t v = 1 + cfg.moments();  // fp32 tensors per parameter: w32 and its state
  for (std::uint64_t l = 0; l < L; ++l) {
    const std::uint64_t in = cfg.layers[l], out = cfg.layers[l + 1], io = in * out;
    const bool hidden = l + 1 < L;
    b.forward.macs += B * io;
    b.forward.read_bytes += B * in * 2 + io * 2 + out * 4;
    b.forward.write_bytes += B * out * 4 + (hidden ? B * out * 2 : 0);
    // The layer's dZ in bf16 out; in: the logits gradient (the last layer) or
    // the pre-activation for the ReLU mask, which the layer above applies to
    // its dX as it leaves the array (MaskBelow: dX in fp32 never crosses).
    b.data_grad.read_bytes += B * out * 4;
    b.data_grad.write_bytes += B * out * 2;
    if (l > 0) {
      b.data_grad.macs += B * io;
      b.data_grad.read_bytes += io * 2;
    }
    b.weight_update.macs += B * io + B * out;  // dW and db (a GEMM with a row of ones)
    b.weight_update.read_bytes += B * in * 2 + B * out * 2 + v * (io + out) * 4;
    b.weight_update.write_bytes += v * (io + out) * 4 + io * 2;
  }
  const double pes = double(core.rows) * core.cols;
  for (PhaseBound* p : {&b.forward, &b.data_grad, &b.weight_update}) {
    p->compute_cycles = double(p->macs) / pes;
    p->memory_cycles = double(std::max(p->read_bytes, p->write_bytes)) / core.bus_bytes;
  }
  return b;
}

std::string parallel_problem(const model::MlpConfig& cfg, unsigned cores, Parallelism par) {
  if (cores == 0) return "no cores";
  if (cores == 1) return "";
  const std::string n = std::to_string(cores) + " cores";
  if (par == Parallelism::kData)
    return cfg.batch % cores == 0
               ? ""
               : "data parallel on " + n +
                     " splits the batch evenly: " + std::to_string(cfg.batch) + " rows do not";
  const std::size_t L = cfg.layers.size() - 1;
  if (L % 2 != 0)
    return "tensor parallel pairs the layers (one split by columns, the next by rows): " +
           std::to_string(L) + " layers do not pair up";
  if (cfg.batch < cores)
    return "tensor parallel on " + n + " reduces rows of the batch on every core: batch " +
           std::to_string(cfg.batch) + " is smaller";
  for (std::size_t l = 1; l < L; l += 2)
    if (cfg.layers[l] < cores)
      return "tensor parallel on " + n + " splits hidden layer " + std::to_string(l) + " of " +
             std::to_string(cfg.layers[l]) + " units";
  return "";
}

model::StepFolds step_folds(const spec::DeviceSpec& p, const model::MlpConfig& cfg, unsigned cores,
                            GradReduce reduce, Parallelism par) {
  if (const std::string why = parallel_problem(cfg, cores, par); !why.empty())
    throw std::invalid_argument("step_folds: " + why);
  const bool partials = par == Parallelism::kData && reduce == GradReduce::kPartials;
  return {static_cast<Eigen::Index>(gemm_program_fold(p, model::Dataflow::kWs, cfg.layers[0])),
          static_cast<Eigen::Index>(
              weight_gradient_fold(p, partials ? cfg.batch / cores : cfg.batch, cfg.optimizer)),
          static_cast<Eigen::Index>(partials ? cores : 1),
          static_cast<Eigen::Index>(par == Parallelism::kTensor ? cores : 1)};
}

DeviceMlp::DeviceMlp(Driver& drv, const model::MlpConfig& cfg, const model::MlpState& init,
                     bool keep_gradients, std::uint64_t first_step, unsigned cores,
                     GradReduce reduce, Parallelism par)
    : drv_(drv),
      cfg_(cfg),
      keep_gradients_(keep_gradients ||
                      (cores > 1 && par == Parallelism::kData && reduce == GradReduce::kPartials)),
      step_(first_step),
      cores_(cores),
      reduce_(reduce),
      par_(cores > 1 ? par : Parallelism::kData) {
  cfg_.validate();
  if (cores == 0 || cores > drv.backend().cores())
    throw std::invalid_argument("DeviceMlp: " + std::to_string(cores) + " cores on a device of " +
                                std::to_string(drv.backend().cores()) + " cores (allowed 1.." +
                                std::to_string(drv.backend().cores()) + ")");
  if (const std::string why = parallel_problem(cfg, cores, par); !why.empty())
    throw std::invalid_argument("DeviceMlp: " + why);
  if (drv.params().datapath != model::Datapath::kBf16)
    throw std::invalid_argument("DeviceMlp: training needs the bf16 datapath");
  const std::size_t L = cfg.layers.size() - 1;
  const unsigned moments = cfg_.moments();
  const auto count = [&](const auto& v, unsigned need) { return v.size() == (need ? L : 0); };
  if (!count(init.w32, 1) || !count(init.wbf, 1) || !count(init.b32, 1) ||
      !count(init.vw, moments >= 1) || !count(init.vb, moments >= 1) ||
      !count(init.sw, moments >= 2) || !count(init.sb, moments >= 2))
    throw std::invalid_argument("DeviceMlp: the initial state does not match the layers");
  const std::uint64_t B = cfg.batch;
  x_ = drv.alloc_tensor(B, cfg.layers[0], 2);
  for (std::size_t l = 0; l < L; ++l) {
    const std::uint64_t in = cfg.layers[l], out = cfg.layers[l + 1];
    if (init.w32[l].rows() != static_cast<Eigen::Index>(in) ||
        init.w32[l].cols() != static_cast<Eigen::Index>(out))
      throw std::invalid_argument("DeviceMlp: layer " + std::to_string(l) + " weights are not " +
                                  std::to_string(in) + " x " + std::to_string(out));
    Layer y;
    y.wbf = drv.alloc_tensor(in, out, 2);
    y.w32 = drv.alloc_tensor(in, out, 4);
    y.b32 = drv.alloc_tensor(1, out, 4);
    // The optimizer's state (copy_in checks each tensor's size).
    if (moments >= 1) {
      y.vw = drv.alloc_tensor(in, out, 4);
      y.vb = drv.alloc_tensor(1, out, 4);
      put32(drv, y.vw, init.vw[l]);
      put32(drv, y.vb, init.vb[l]);
    }
    if (moments >= 2) {
      y.sw = drv.alloc_tensor(in, out, 4);
      y.sb = drv.alloc_tensor(1, out, 4);
      put32(drv, y.sw, init.sw[l]);
      put32(drv, y.sb, init.sb[l]);
    }
    y.z = drv.alloc_tensor(B, out, 4);
    y.act = drv.alloc_tensor(B, out, 2);
    y.dy = drv.alloc_tensor(B, out, 4);
    y.dz_bf = drv.alloc_tensor(B, out, 2);
    y.dw = drv.alloc_tensor(in, out, 4);
    y.db = drv.alloc_tensor(1, out, 4);
    drv.copy_in(y.wbf, std::span<const std::uint16_t>(
                           init.wbf[l].data(), static_cast<std::size_t>(init.wbf[l].size())));
    put32(drv, y.w32, init.w32[l]);
    put32(drv, y.b32, init.b32[l]);
    layers_.push_back(std::move(y));
  }
}

namespace {
// A launch into a phase's total and, in a training step, each core's share
// and MACs; a launch that reduces adds its slowest core's cycles after the
// barrier to the step's reduction.
spec::RunResult add_launch(const ParallelLaunch& l, StepStats* st, bool reduces = false) {
  if (st == nullptr) return l.result.total();
  const std::size_t n = l.result.cores.size();
  if (st->cores.size() < n) st->cores.resize(n);
  if (st->core_macs.size() < n) st->core_macs.resize(n);
  std::uint64_t after = 0;
  for (std::size_t i = 0; i < n; ++i) {
    st->cores[i].add(l.result.cores[i]);
    st->core_macs[i] += i < l.macs.size() ? l.macs[i] : 0;
    const spec::Counters& c = l.result.cores[i].counters;
    if (c.contains("device.bridge.after_barrier_cycles"))
      after = std::max(after, c.at("device.bridge.after_barrier_cycles"));
  }
  if (reduces) st->reduction += after;
  return l.result.total();
}
}  // namespace

StepStats DeviceMlp::step(const model::RawMatrix& x, std::span<const std::uint8_t> labels) {
  if (x.rows() != static_cast<Eigen::Index>(cfg_.batch) ||
      x.cols() != static_cast<Eigen::Index>(cfg_.layers[0]) || labels.size() != cfg_.batch)
    throw std::invalid_argument("DeviceMlp::step: the batch must be " + std::to_string(cfg_.batch) +
                                " x " + std::to_string(cfg_.layers[0]) + " with one label per row");
  StepStats st;
  const std::size_t L = layers_.size();
  const model::UpdateRule rule = cfg_.rule_at(step_++);
  forward(x, st.forward, &st);
  // Loss on the host: the logits out, their gradient back in.
  const model::AccMatrix zl = get32(drv_, layers_[L - 1].z);
  model::RowMatrixXf logits(zl.rows(), zl.cols()), dlogits;
  for (Eigen::Index i = 0; i < zl.size(); ++i) logits.data()[i] = model::bits_to_f32(zl.data()[i]);
  st.loss = model::ReferenceMlp::loss_and_grad(logits, labels, dlogits);
  model::AccMatrix dy(dlogits.rows(), dlogits.cols());
  for (Eigen::Index i = 0; i < dy.size(); ++i) dy.data()[i] = model::f32_to_bits(dlogits.data()[i]);
  put32(drv_, layers_[L - 1].dy, dy);
  for (std::size_t l = L; l-- > 0;) {
    Layer& y = layers_[l];
    const Tensor& in = l == 0 ? x_ : layers_[l - 1].act;
    const unsigned moments = rule.moments();
    LayerUpdate u;
    u.w32 = &y.w32;
    u.b32 = &y.b32;
    u.vw = moments >= 1 ? &y.vw : nullptr;
    u.vb = moments >= 1 ? &y.vb : nullptr;
    u.sw = moments >= 2 ? &y.sw : nullptr;
    u.sb = moments >= 2 ? &y.sb : nullptr;
    u.rule = rule;
    u.keep_gradients = keep_gradients_;
    mark("backward", l, true);
    const Tensor* z = l + 1 < L ? &y.z : nullptr;
    const Tensor* dx = l > 0 ? &layers_[l - 1].dy : nullptr;
    if (par_ == Parallelism::kTensor) {
      const TpRole role = tp_role(l);
      st.data_grad.add(add_launch(tp_data_backward(drv_, cores_, role, y.wbf, y.dy, z, y.dz_bf, dx),
                                  &st, role == TpRole::kColumn && dx != nullptr));
      mark("backward", l, false);
      mark("update", l, true);
      st.weight_update.add(add_launch(
          tp_weight_backward(drv_, cores_, role, in, y.wbf, y.dz_bf, y.dw, y.db, u), &st));
      mark("update", l, false);
      continue;
    }
    if (cores_ == 1) {
      // One core: each layer's dX carries the ReLU backward of the layer below
      // (MaskBelow), whose own data pass then only has its dX left.
      MaskBelow below;
      if (l > 0) below = {&layers_[l - 1].z, &layers_[l - 1].dz_bf, keep_gradients_};
      st.data_grad.add(
          data_backward(drv_, y.wbf, y.dy, z, y.dz_bf, dx, l + 1 < L, l > 0 ? &below : nullptr));
    } else {
      st.data_grad.add(
          add_launch(dp_data_backward(drv_, cores_, y.wbf, y.dy, z, y.dz_bf, dx), &st));
    }
    mark("backward", l, false);
    mark("update", l, true);
    st.weight_update.add(cores_ == 1
                             ? weight_backward(drv_, in, y.wbf, y.dz_bf, y.dw, y.db, &u)
                             : add_launch(dp_weight_backward(drv_, cores_, in, y.wbf, y.dz_bf, y.dw,
                                                             y.db, u, reduce_),
                                          &st, reduce_ == GradReduce::kPartials));
    mark("update", l, false);
  }
  return st;
}

void DeviceMlp::forward(const model::RawMatrix& x, spec::RunResult& stats, StepStats* step) {
  const std::size_t L = layers_.size();
  drv_.copy_in(x_, std::span<const std::uint16_t>(x.data(), static_cast<std::size_t>(x.size())));
  for (std::size_t l = 0; l < L; ++l) {
    const Tensor& in = l == 0 ? x_ : layers_[l - 1].act;
    mark("forward", l, true);
    const Layer& y = layers_[l];
    if (cores_ == 1) {
      stats.add(dense_forward(drv_, in, y.wbf, y.b32, y.z, y.act, l + 1 < L));
    } else if (par_ == Parallelism::kTensor) {
      const TpRole role = tp_role(l);
      stats.add(
          add_launch(tp_dense_forward(drv_, cores_, role, in, y.wbf, y.b32, y.z, y.act, l + 1 < L),
                     step, role == TpRole::kRow));
    } else {
      stats.add(add_launch(dp_dense_forward(drv_, cores_, in, y.wbf, y.b32, y.z, y.act, l + 1 < L),
                           step));
    }
    mark("forward", l, false);
  }
}

model::AccMatrix DeviceMlp::logits(const model::RawMatrix& x, spec::RunResult* stats) {
  if (x.rows() != static_cast<Eigen::Index>(cfg_.batch) ||
      x.cols() != static_cast<Eigen::Index>(cfg_.layers[0]))
    throw std::invalid_argument("DeviceMlp::logits: the batch must be " +
                                std::to_string(cfg_.batch) + " x " +
                                std::to_string(cfg_.layers[0]));
  spec::RunResult r;
  forward(x, r);
  if (stats != nullptr) stats->add(r);
  return get32(drv_, layers_.back().z);
}

model::MlpTrace DeviceMlp::trace() {
  if (!keep_gradients_)
    throw std::logic_error("DeviceMlp::trace: the gradients are kept only with keep_gradients");
  model::MlpTrace t;
  for (std::size_t l = 0; l < layers_.size(); ++l) {
    Layer& y = layers_[l];
    t.z.push_back(get32(drv_, y.z));
    model::RawMatrix act;
    if (l + 1 < layers_.size()) {
      act.resize(static_cast<Eigen::Index>(y.act.rows()), static_cast<Eigen::Index>(y.act.cols()));
      drv_.copy_out(y.act,
                    std::span<std::uint16_t>(act.data(), static_cast<std::size_t>(act.size())));
    }
    t.act.push_back(std::move(act));
    t.dz.push_back(get32(drv_, y.dy));  // dY, overwritten with dZ by the ReLU backward
    t.dw.push_back(get32(drv_, y.dw));
    t.db.push_back(get32(drv_, y.db));
  }
  return t;
}

model::MlpState DeviceMlp::state() {
  model::MlpState s;
  for (Layer& y : layers_) {
    s.w32.push_back(get32(drv_, y.w32));
    s.b32.push_back(get32(drv_, y.b32));
    model::RawMatrix wbf(static_cast<Eigen::Index>(y.wbf.rows()),
                         static_cast<Eigen::Index>(y.wbf.cols()));
    drv_.copy_out(y.wbf,
                  std::span<std::uint16_t>(wbf.data(), static_cast<std::size_t>(wbf.size())));
    s.wbf.push_back(std::move(wbf));
    if (cfg_.moments() >= 1) {
      s.vw.push_back(get32(drv_, y.vw));
      s.vb.push_back(get32(drv_, y.vb));
    }
    if (cfg_.moments() >= 2) {
      s.sw.push_back(get32(drv_, y.sw));
      s.sb.push_back(get32(drv_, y.sb));
    }
  }
  return s;
}

}  // namespace sasim::host
