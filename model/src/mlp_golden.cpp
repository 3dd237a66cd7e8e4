#include "sasim/model/mlp_golden.hpp"

#include <stdexcept>

#include "sasim/model/numerics.hpp"
#include "sasim/model/train_golden.hpp"

namespace sasim::model {

MlpState mlp_init(const MlpConfig& cfg) {
  const ReferenceMlp ref(cfg);
  MlpState s;
  for (std::size_t l = 0; l < ref.num_layers(); ++l) {
    const RowMatrixXf& w = ref.weight(l);
    AccMatrix w32(w.rows(), w.cols());
    for (Eigen::Index i = 0; i < w.size(); ++i) w32.data()[i] = f32_to_bits(w.data()[i]);
    s.wbf.push_back(to_bf16(w32));
    s.w32.push_back(std::move(w32));
    s.b32.push_back(AccMatrix::Zero(1, w.cols()));
    const unsigned moments = cfg.moments();
    if (moments >= 1) {
      s.vw.push_back(AccMatrix::Zero(w.rows(), w.cols()));
      s.vb.push_back(AccMatrix::Zero(1, w.cols()));
    }
    if (moments >= 2) {
      s.sw.push_back(AccMatrix::Zero(w.rows(), w.cols()));
      s.sb.push_back(AccMatrix::Zero(1, w.cols()));
    }
  }
  return s;
}

RawMatrix to_bf16_input(const RowMatrixXf& x) {
  RawMatrix r(x.rows(), x.cols());
  for (Eigen::Index i = 0; i < x.size(); ++i) r.data()[i] = f32_to_bf16(x.data()[i]);
  return r;
}

namespace {

template <typename M>
bool equal_bits(const M& a, const M& b) {
  return a.rows() == b.rows() && a.cols() == b.cols() && (a.array() == b.array()).all();
}

// Appends the first differing tensor of the per-layer lists `a` and `b`.
template <typename M>
bool differ(const std::vector<M>& a, const std::vector<M>& b, std::size_t l, const char* what,
            std::string& out) {
  if (l < a.size() && l < b.size() && equal_bits(a[l], b[l])) return false;
  out = "layer " + std::to_string(l) + " " + what;
  return true;
}

}  // namespace

std::string first_difference(const MlpState& a, const MlpState& b) {
  if (a.w32.size() != b.w32.size()) return "the number of layers";
  if (a.vw.size() != b.vw.size()) return "the presence of velocities (first moments)";
  if (a.sw.size() != b.sw.size()) return "the presence of second moments";
  std::string d;
  for (std::size_t l = 0; l < a.w32.size(); ++l) {
    if (differ(a.w32, b.w32, l, "fp32 weights", d) || differ(a.wbf, b.wbf, l, "bf16 weights", d) ||
        differ(a.b32, b.b32, l, "biases", d) ||
        (!a.vw.empty() && (differ(a.vw, b.vw, l, "weight velocities (first moments)", d) ||
                           differ(a.vb, b.vb, l, "bias velocities (first moments)", d))) ||
        (!a.sw.empty() && (differ(a.sw, b.sw, l, "weight second moments", d) ||
                           differ(a.sb, b.sb, l, "bias second moments", d))))
      return d;
  }
  return "";
}

std::string first_difference(const MlpTrace& a, const MlpTrace& b) {
  if (a.z.size() != b.z.size()) return "the number of layers";
  std::string d;
  for (std::size_t l = 0; l < a.z.size(); ++l) {
    if (differ(a.z, b.z, l, "pre-activations z", d) ||
        differ(a.act, b.act, l, "bf16 activations", d) ||
        differ(a.dz, b.dz, l, "gradient at z", d) || differ(a.dw, b.dw, l, "dW", d) ||
        differ(a.db, b.db, l, "db", d))
      return d;
  }
  return "";
}

float mlp_step(MlpState& s, const MlpConfig& cfg, std::uint64_t step, const RawMatrix& x,
               std::span<const std::uint8_t> labels, const StepFolds& folds, MlpTrace* trace) {
  const UpdateRule rule = cfg.rule_at(step);
  const float lr = rule.lr;
  const std::size_t L = s.w32.size();
  if (static_cast<std::size_t>(x.rows()) != labels.size())
    throw std::invalid_argument("mlp_step: " + std::to_string(x.rows()) + " rows but " +
                                std::to_string(labels.size()) + " labels");
  const Eigen::Index tp = folds.tensor;
  if (tp < 1 || folds.shards < 1 || (tp > 1 && (folds.shards > 1 || L % 2 != 0)))
    throw std::invalid_argument("mlp_step: tensor " + std::to_string(tp) + " and shards " +
                                std::to_string(folds.shards) + " for " + std::to_string(L) +
                                " layers (allowed at most one above 1, tensor > 1 with an even "
                                "number of layers)");
  // The cores' partial products of a tensor-parallel layer pair, summed in
  // core order: a (M x n) times b (n x N), n split into the hidden slices.
  const auto tp_sum = [&](const RawMatrix& a, const RawMatrix& b) {
    return gemm_slices(Datapath::kBf16, a, b, even_bounds(a.cols(), tp),
                       std::vector<Eigen::Index>(static_cast<std::size_t>(tp), folds.k_fold));
  };
  std::vector<RawMatrix> acts{x};
  std::vector<AccMatrix> z;
  for (std::size_t l = 0; l < L; ++l) {
    std::vector<std::uint32_t> bias(s.b32[l].data(), s.b32[l].data() + s.b32[l].size());
    BiasAct f = tp > 1 && l % 2 == 1
                    ? bias_act(tp_sum(acts[l], s.wbf[l]), bias, l + 1 < L)
                    : dense_forward(acts[l], s.wbf[l], bias, l + 1 < L, folds.k_fold);
    z.push_back(std::move(f.z));
    acts.push_back(std::move(f.y));
  }
  RowMatrixXf logits(z[L - 1].rows(), z[L - 1].cols()), dlogits;
  for (Eigen::Index i = 0; i < logits.size(); ++i)
    logits.data()[i] = bits_to_f32(z[L - 1].data()[i]);
  const float loss = ReferenceMlp::loss_and_grad(logits, labels, dlogits);
  AccMatrix dy(dlogits.rows(), dlogits.cols());
  for (Eigen::Index i = 0; i < dy.size(); ++i) dy.data()[i] = f32_to_bits(dlogits.data()[i]);
  if (trace != nullptr) {
    *trace = MlpTrace{};
    trace->z = z;
    for (std::size_t l = 0; l < L; ++l) trace->act.push_back(l + 1 < L ? acts[l + 1] : RawMatrix());
    trace->dz.resize(L);
    trace->dw.resize(L);
    trace->db.resize(L);
  }
  for (std::size_t l = L; l-- > 0;) {
    DenseGrads g = dense_backward(acts[l], s.wbf[l], dy, l + 1 < L ? &z[l] : nullptr, folds.k_fold,
                                  folds.dw_fold, folds.shards);
    if (tp > 1 && l % 2 == 0 && l > 0) g.dx = tp_sum(g.dz_bf, transpose(s.wbf[l]));
    if (trace != nullptr) {
      trace->dz[l] = l + 1 < L ? g.dz : dy;
      trace->dw[l] = g.dw;
      trace->db[l] = g.db;
    }
    if (rule.optimizer != Optimizer::kSgd) {
      AdamStep w = adam_update(s.w32[l], g.dw, s.vw[l], s.sw[l], rule);
      AdamStep b = adam_update(s.b32[l], g.db, s.vb[l], s.sb[l], rule);
      s.w32[l] = std::move(w.w32);
      s.vw[l] = std::move(w.m);
      s.sw[l] = std::move(w.v);
      s.wbf[l] = std::move(w.wbf);
      s.b32[l] = std::move(b.w32);
      s.vb[l] = std::move(b.m);
      s.sb[l] = std::move(b.v);
    } else if (rule.momentum > 0) {
      SgdStep w = sgd_momentum_update(s.w32[l], g.dw, s.vw[l], lr, rule.momentum);
      SgdStep b = sgd_momentum_update(s.b32[l], g.db, s.vb[l], lr, rule.momentum);
      s.w32[l] = std::move(w.w32);
      s.vw[l] = std::move(w.v);
      s.wbf[l] = std::move(w.wbf);
      s.b32[l] = std::move(b.w32);
      s.vb[l] = std::move(b.v);
    } else {
      SgdStep w = sgd_update(s.w32[l], g.dw, lr);
      SgdStep b = sgd_update(s.b32[l], g.db, lr);
      s.w32[l] = std::move(w.w32);
      s.wbf[l] = std::move(w.wbf);
      s.b32[l] = std::move(b.w32);
    }
    if (l > 0) dy = std::move(g.dx);
  }
  return loss;
}

}  // namespace sasim::model
