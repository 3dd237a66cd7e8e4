#include "sasim/host/quant_mlp.hpp"

#include <stdexcept>
#include <string>

#include "sasim/host/mlp_kernels.hpp"

namespace sasim::host {

namespace {

// int8 operands in the low 8 bits of a RawMatrix <-> the device's bytes.
std::vector<std::uint8_t> low_bytes(const model::RawMatrix& m) {
  std::vector<std::uint8_t> v(static_cast<std::size_t>(m.size()));
  for (Eigen::Index i = 0; i < m.size(); ++i) v[std::size_t(i)] = std::uint8_t(m.data()[i] & 0xFF);
  return v;
}

}  // namespace

DeviceInt8Mlp::DeviceInt8Mlp(Driver& drv, const model::QuantMlp& q, std::uint64_t batch)
    : drv_(drv), batch_(batch) {
  if (drv.params().datapath != model::Datapath::kInt8)
    throw std::invalid_argument("DeviceInt8Mlp: quantized inference needs the int8 datapath");
  if (batch == 0 || q.layers.empty())
    throw std::invalid_argument("DeviceInt8Mlp: needs a batch of at least 1 and a layer");
  x_ = drv.alloc_tensor(batch, q.layers.front().w.rows(), 1);
  for (std::size_t l = 0; l < q.layers.size(); ++l) {
    const model::QuantLayer& ql = q.layers[l];
    const std::uint64_t in = ql.w.rows(), out = ql.w.cols();
    if (l > 0 && in != layers_.back().w.cols())
      throw std::invalid_argument("DeviceInt8Mlp: layer " + std::to_string(l) + " takes " +
                                  std::to_string(in) + " inputs after a layer of " +
                                  std::to_string(layers_.back().w.cols()) + " outputs");
    if (ql.b.rows() != 1 || std::uint64_t(ql.b.cols()) != out)
      throw std::invalid_argument("DeviceInt8Mlp: layer " + std::to_string(l) +
                                  " bias is not 1 x " + std::to_string(out));
    Layer y;
    y.last = l + 1 == q.layers.size();
    y.shift = ql.shift;
    y.w = drv.alloc_tensor(in, out, 1);
    y.b = drv.alloc_tensor(1, out, 4);
    y.z = drv.alloc_tensor(batch, out, 4);
    if (!y.last) y.y = drv.alloc_tensor(batch, out, 1);
    drv.copy_in(y.w, std::span<const std::uint8_t>(low_bytes(ql.w)));
    drv.copy_in(y.b, std::span<const std::uint32_t>(ql.b.data(), std::size_t(ql.b.size())));
    layers_.push_back(std::move(y));
  }
}

model::AccMatrix DeviceInt8Mlp::logits(const model::RawMatrix& xq, spec::RunResult* stats) {
  if (std::uint64_t(xq.rows()) != batch_ || std::uint64_t(xq.cols()) != x_.cols())
    throw std::invalid_argument("DeviceInt8Mlp::logits: the batch must be " +
                                std::to_string(batch_) + " x " + std::to_string(x_.cols()));
  drv_.copy_in(x_, std::span<const std::uint8_t>(low_bytes(xq)));
  spec::RunResult r;
  for (std::size_t l = 0; l < layers_.size(); ++l) {
    const Layer& y = layers_[l];
    const Tensor& in = l == 0 ? x_ : layers_[l - 1].y;
    r.add(drv_.submit(int8_dense_program(
        drv_.params(), batch_, y.w.rows(), y.w.cols(), in.ref(), y.w.ref(), y.b.ref(), y.z.ref(),
        y.last ? y.z.ref() : y.y.ref(), y.last ? std::nullopt : std::optional<unsigned>(y.shift),
        drv_.gemm_options())));
  }
  if (stats != nullptr) stats->add(r);
  const Tensor& z = layers_.back().z;
  model::AccMatrix out(static_cast<Eigen::Index>(z.rows()), static_cast<Eigen::Index>(z.cols()));
  drv_.copy_out(z, std::span<std::uint32_t>(out.data(), static_cast<std::size_t>(out.size())));
  return out;
}

std::vector<model::RawMatrix> DeviceInt8Mlp::hidden() {
  std::vector<model::RawMatrix> h;
  for (std::size_t l = 0; l + 1 < layers_.size(); ++l) {
    const Tensor& t = layers_[l].y;
    std::vector<std::uint8_t> v(t.rows() * t.cols());
    drv_.copy_out(t, std::span<std::uint8_t>(v));
    model::RawMatrix m(static_cast<Eigen::Index>(t.rows()), static_cast<Eigen::Index>(t.cols()));
    for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = v[std::size_t(i)];
    h.push_back(std::move(m));
  }
  return h;
}

}  // namespace sasim::host
