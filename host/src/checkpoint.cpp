#include "sasim/host/checkpoint.hpp"

#include <zlib.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <sstream>

#include "sasim/host/files.hpp"
#include "sasim/model/numerics.hpp"
#include "sasim/model/train_golden.hpp"

namespace sasim::host {

namespace {

constexpr char kMagic[8] = {'S', 'A', 'S', 'I', 'M', 'C', 'K', 'P'};
// 4 adds the optimizer (kind, beta1, beta2, eps, weight_decay) to the
// fingerprint and Adam's second moments to the state; 3 (SGD only) is still
// read.
constexpr std::uint64_t kVersion = 4;
constexpr std::uint64_t kOldestVersion = 3;

std::uint32_t crc32_of(std::string_view bytes) {
  uLong c = crc32(0L, Z_NULL, 0);
  // zlib takes at most uInt bytes per call.
  while (!bytes.empty()) {
    const uInt n = static_cast<uInt>(std::min<std::size_t>(bytes.size(), 1u << 30));
    c = crc32(c, reinterpret_cast<const Bytef*>(bytes.data()), n);
    bytes.remove_prefix(n);
  }
  return static_cast<std::uint32_t>(c);
}

struct Writer {
  std::string out;
  void u64(std::uint64_t v) {
    for (int b = 0; b < 8; ++b) out.push_back(static_cast<char>(v >> (8 * b)));
  }
  template <typename M>
  void matrix(const M& m) {
    for (Eigen::Index i = 0; i < m.size(); ++i)
      for (unsigned b = 0; b < sizeof(m.data()[i]); ++b)
        out.push_back(static_cast<char>(m.data()[i] >> (8 * b)));
  }
};

// The fingerprint fields in file order, with their names in messages.
struct Field {
  const char* name;
  std::uint64_t value;
};
std::vector<Field> fingerprint(const RunFingerprint& r, std::uint64_t version = kVersion) {
  const bool adam = r.mlp.optimizer != model::Optimizer::kSgd;
  const auto adam_bits = [&](float v) { return adam ? std::bit_cast<std::uint32_t>(v) : 0u; };
  std::vector<Field> f = {
      {"the optimizer's state tensors per parameter (train.momentum, train.optimizer)",
       r.mlp.moments()},
      {"train.lr (binary32 bits)", std::bit_cast<std::uint32_t>(r.mlp.lr)},
      {"train.momentum (binary32 bits)", std::bit_cast<std::uint32_t>(r.mlp.momentum)},
      {"train.batch", r.mlp.batch},
      {"train.seed", r.mlp.seed},
      {"train.schedule", static_cast<std::uint64_t>(r.mlp.schedule)},
      {"train.warmup_steps", r.mlp.warmup_steps},
      {"train.step_size (step schedule)",
       r.mlp.schedule == model::LrSchedule::kStep ? r.mlp.step_size : 0},
      {"train.gamma (step schedule, binary32 bits)",
       r.mlp.schedule == model::LrSchedule::kStep ? std::bit_cast<std::uint32_t>(r.mlp.gamma) : 0u},
      {"train.lr_min (cosine schedule, binary32 bits)",
       r.mlp.schedule == model::LrSchedule::kCosine ? std::bit_cast<std::uint32_t>(r.mlp.lr_min)
                                                    : 0u},
      {"the cosine schedule's length in steps",
       r.mlp.schedule == model::LrSchedule::kCosine ? r.mlp.total_steps : 0},
      {"train.train_images", r.train_images},
      {"the numerics version", kNumericsVersion}};
  if (version >= 4) {
    f.insert(f.end(), {{"train.optimizer (0 sgd, 1 adam, 2 adamw)",
                        static_cast<std::uint64_t>(r.mlp.optimizer)},
                       {"train.beta1 (binary32 bits)", adam_bits(r.mlp.beta1)},
                       {"train.beta2 (binary32 bits)", adam_bits(r.mlp.beta2)},
                       {"train.eps (binary32 bits)", adam_bits(r.mlp.eps)},
                       {"train.weight_decay (binary32 bits)", adam_bits(r.mlp.weight_decay)}});
  }
  return f;
}

// Bytes of the state of `layers` after the header.
std::uint64_t state_bytes(const std::vector<unsigned>& layers, unsigned moments) {
  std::uint64_t n = 0;
  for (std::size_t l = 0; l + 1 < layers.size(); ++l) {
    const std::uint64_t w = std::uint64_t{layers[l]} * layers[l + 1], b = layers[l + 1];
    n += (w + b) * 4 * (1 + moments) + w * 2;
  }
  return n;
}

class Reader {
 public:
  Reader(const std::string& path, std::string_view bytes) : path_(path), in_(bytes) {}
  [[noreturn]] void fail(const std::string& msg) const {
    throw CheckpointError(path_ + ": " + msg);
  }
  void need(std::size_t n) const {
    if (in_.size() - pos_ < n) fail("truncated (ends inside the header or the state)");
  }
  std::uint64_t u64() {
    need(8);
    std::uint64_t v = 0;
    for (int b = 0; b < 8; ++b)
      v |= std::uint64_t{static_cast<unsigned char>(in_[pos_ + b])} << (8 * b);
    pos_ += 8;
    return v;
  }
  template <typename M>
  M matrix(Eigen::Index r, Eigen::Index c) {
    M m(r, c);
    need(static_cast<std::size_t>(m.size()) * sizeof(typename M::Scalar));
    for (Eigen::Index i = 0; i < m.size(); ++i) {
      typename M::Scalar v = 0;
      for (unsigned b = 0; b < sizeof(v); ++b)
        v |= static_cast<typename M::Scalar>(
            static_cast<typename M::Scalar>(static_cast<unsigned char>(in_[pos_ + b])) << (8 * b));
      pos_ += sizeof(v);
      m.data()[i] = v;
    }
    return m;
  }

 private:
  const std::string& path_;
  std::string_view in_;
  std::size_t pos_ = 0;
};

void check_finite(const model::AccMatrix& m, std::size_t layer, const char* what, const Reader& r) {
  for (Eigen::Index i = 0; i < m.size(); ++i)
    if (!std::isfinite(model::bits_to_f32(m.data()[i])))
      r.fail("layer " + std::to_string(layer) + ": " + what + " hold a non-finite value");
}

}  // namespace

std::string checkpoint_bytes(const model::MlpState& s, std::uint64_t step,
                             const RunFingerprint& run) {
  Writer w;
  w.out.append(kMagic, 8);
  w.u64(kVersion);
  w.u64(step);
  w.u64(run.mlp.layers.size());
  for (unsigned n : run.mlp.layers) w.u64(n);
  for (const Field& f : fingerprint(run)) w.u64(f.value);
  for (std::size_t l = 0; l < s.w32.size(); ++l) {
    w.matrix(s.w32[l]);
    w.matrix(s.b32[l]);
    w.matrix(s.wbf[l]);
    if (!s.vw.empty()) {
      w.matrix(s.vw[l]);
      w.matrix(s.vb[l]);
    }
    if (!s.sw.empty()) {
      w.matrix(s.sw[l]);
      w.matrix(s.sb[l]);
    }
  }
  const std::uint32_t crc = crc32_of(w.out);
  for (int b = 0; b < 4; ++b) w.out.push_back(static_cast<char>(crc >> (8 * b)));
  return w.out;
}

void save_checkpoint(const std::string& path, const model::MlpState& s, std::uint64_t step,
                     const RunFingerprint& run) {
  write_file_atomic(path, checkpoint_bytes(s, step, run));
}

Checkpoint load_checkpoint(const std::string& path, const RunFingerprint& run,
                           std::uint64_t max_step) {
  const std::vector<unsigned>& layers = run.mlp.layers;
  const unsigned moments = run.mlp.moments();
  // magic; version, step, layer count; the layers; the fingerprint
  const auto expected_bytes = [&](std::uint64_t version, unsigned state_moments) {
    return 8 + 8 * (3 + layers.size()) + 8 * fingerprint(run, version).size() +
           state_bytes(layers, state_moments) + 4;
  };
  std::string bytes;
  try {
    // A checkpoint of this run has exactly expected_bytes(version, moments)
    // bytes; up to the largest state of these layers (another optimizer's,
    // named by the fingerprint below) and a little more is read, so that
    // appended bytes are reported as such.
    bytes = read_file(path, expected_bytes(kVersion, 2) + 4096, "checkpoint");
  } catch (const FileError& e) {
    throw CheckpointError(e.what());
  }
  Reader r(path, bytes);
  if (bytes.size() < 32 || std::memcmp(bytes.data(), kMagic, 8) != 0)
    r.fail("not a sasim checkpoint (no SASIMCKP header)");
  r.u64();  // the magic
  const std::uint64_t version = r.u64();
  if (version < kOldestVersion || version > kVersion)
    r.fail("checkpoint format version " + std::to_string(version) + ", this sasim reads " +
           std::to_string(kOldestVersion) + ".." + std::to_string(kVersion));
  const std::uint64_t expected = expected_bytes(version, moments);
  // The checksum first (a damaged header must not pass for another run's):
  // over everything but the last 4 bytes, which hold it.
  std::uint32_t stored = 0;
  for (int b = 0; b < 4; ++b)
    stored |= std::uint32_t{static_cast<unsigned char>(bytes[bytes.size() - 4 + b])} << (8 * b);
  if (crc32_of(std::string_view(bytes.data(), bytes.size() - 4)) != stored) {
    if (bytes.size() < expected)
      r.fail("truncated: " + std::to_string(bytes.size()) +
             " bytes, a checkpoint of this run has " + std::to_string(expected));
    if (bytes.size() > expected)
      r.fail(std::to_string(bytes.size() - expected) +
             " bytes after the end of the checkpoint (appended)");
    r.fail("damaged: the CRC-32 does not match the contents");
  }
  Checkpoint c;
  c.step = r.u64();
  const std::uint64_t n = r.u64();
  bool same = n == layers.size();
  for (std::size_t i = 0; same && i < n; ++i) same = r.u64() == layers[i];
  if (!same) r.fail("written by another run: its layers differ from train.layers");
  for (const Field& f : fingerprint(run, version)) {
    const std::uint64_t v = r.u64();
    if (v != f.value)
      r.fail("written by another run: " + std::string(f.name) + " is " + std::to_string(v) +
             " in the checkpoint, " + std::to_string(f.value) + " in this run");
  }
  if (bytes.size() != expected)  // same fingerprint, other size: not written by sasim
    r.fail(std::to_string(bytes.size()) + " bytes, a checkpoint of this run has " +
           std::to_string(expected));
  if (c.step > max_step)
    r.fail("at step " + std::to_string(c.step) + ", past the end of this run (" +
           std::to_string(max_step) + " steps)");
  for (std::size_t l = 0; l + 1 < layers.size(); ++l) {
    const auto in = static_cast<Eigen::Index>(layers[l]),
               out = static_cast<Eigen::Index>(layers[l + 1]);
    c.state.w32.push_back(r.matrix<model::AccMatrix>(in, out));
    c.state.b32.push_back(r.matrix<model::AccMatrix>(1, out));
    c.state.wbf.push_back(r.matrix<model::RawMatrix>(in, out));
    check_finite(c.state.w32[l], l, "the fp32 weights", r);
    check_finite(c.state.b32[l], l, "the biases", r);
    if (!(c.state.wbf[l].array() == model::to_bf16(c.state.w32[l]).array()).all())
      r.fail("layer " + std::to_string(l) +
             ": the bf16 weights are not the rounding of the fp32 weights");
    if (moments >= 1) {
      c.state.vw.push_back(r.matrix<model::AccMatrix>(in, out));
      c.state.vb.push_back(r.matrix<model::AccMatrix>(1, out));
      check_finite(c.state.vw[l], l, "the weight velocities (first moments)", r);
      check_finite(c.state.vb[l], l, "the bias velocities (first moments)", r);
    }
    if (moments >= 2) {
      c.state.sw.push_back(r.matrix<model::AccMatrix>(in, out));
      c.state.sb.push_back(r.matrix<model::AccMatrix>(1, out));
      check_finite(c.state.sw[l], l, "the weight second moments", r);
      check_finite(c.state.sb[l], l, "the bias second moments", r);
      // sqrt of a negative second moment is NaN: no Adam step writes one.
      for (const model::AccMatrix* m : {&c.state.sw[l], &c.state.sb[l]})
        for (Eigen::Index i = 0; i < m->size(); ++i)
          if (model::bits_to_f32(m->data()[i]) < 0.0f)
            r.fail("layer " + std::to_string(l) + ": a second moment is negative");
    }
  }
  return c;
}

}  // namespace sasim::host
