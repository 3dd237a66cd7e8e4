// Data set reader (gzip IDX via zlib) and helpers; see dataset.hpp.
#include "sasim/host/dataset.hpp"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <system_error>

namespace sasim::host {

namespace {

namespace fs = std::filesystem;

struct GzCloser {
  void operator()(gzFile f) const { gzclose(f); }
};
using GzPtr = std::unique_ptr<gzFile_s, GzCloser>;

std::string hex32(std::uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08X", v);
  return buf;
}

[[noreturn]] void fail(const fs::path& path, const std::string& what) {
  throw DatasetError(path.string() + ": " + what);
}

// zlib's description of the stream's error state ("" when there is none).
std::string gz_error(gzFile f, int* errnum) {
  const char* msg = gzerror(f, errnum);
  if (*errnum == Z_ERRNO) return std::strerror(errno);
  return msg ? msg : "";
}

// Reads up to n bytes (n may exceed INT_MAX-sized single reads); returns the
// count read, throwing on a stream error. `what` names the part being read.
std::size_t read_bytes(gzFile f, const fs::path& path, std::uint8_t* dst, std::size_t n,
                       const char* what) {
  std::size_t got = 0;
  while (got < n) {
    const auto chunk = static_cast<unsigned>(std::min<std::size_t>(n - got, 1u << 30));
    const int r = gzread(f, dst + got, chunk);
    int errnum = Z_OK;
    const std::string msg = gz_error(f, &errnum);
    if (r < 0 || (errnum != Z_OK && errnum != Z_BUF_ERROR)) {
      fail(path,
           std::string("corrupt gzip stream while reading the ") + what + " (zlib: " + msg + ")");
    }
    if (errnum == Z_BUF_ERROR) {
      // zlib reports a gzip stream that ends before its trailer this way.
      fail(path,
           std::string("truncated gzip stream while reading the ") + what + " (zlib: " + msg + ")");
    }
    if (r == 0) break;
    got += static_cast<std::size_t>(r);
  }
  return got;
}

std::uint32_t be32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}

std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// Unbiased draw in [0, n), n >= 1, by rejection (library independent).
std::uint64_t below(std::mt19937_64& rng, std::uint64_t n) {
  const std::uint64_t threshold = (0 - n) % n;  // 2^64 mod n
  for (;;) {
    const std::uint64_t r = rng();
    if (r >= threshold) return r % n;
  }
}

template <typename T>
void shuffle(std::vector<T>& v, std::mt19937_64& rng) {
  for (std::size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[below(rng, i)]);
}

}  // namespace

IdxFile read_idx(const fs::path& path, std::uint32_t expected_magic) {
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  // status() reports a folder it may not search (EACCES) as an error, not as a missing file.
  if (ec && ec != std::errc::no_such_file_or_directory)
    fail(path, "cannot access: " + ec.message());
  if (!fs::exists(st)) fail(path, "file not found");
  if (!fs::is_regular_file(st)) fail(path, "not a regular file");
  if (fs::file_size(path, ec) == 0 && !ec) fail(path, "empty file (expected a gzip IDX file)");

  errno = 0;
  GzPtr f(gzopen(path.c_str(), "rb"));
  if (!f) {
    fail(path, std::string("cannot open: ") + (errno ? std::strerror(errno) : "out of memory"));
  }
  gzbuffer(f.get(), 1u << 17);
  // gzread passes non-gzip files through unchanged ("transparent" mode);
  // gzdirect() tells after a look at the first bytes.
  if (gzdirect(f.get())) fail(path, "not a gzip file (no gzip header: 1f 8b)");

  std::uint8_t head[4 + 4 * 3];
  std::size_t got = read_bytes(f.get(), path, head, 4, "IDX magic");
  if (got < 4) {
    fail(path, "truncated IDX header: expected 4 magic bytes, got " + std::to_string(got));
  }
  IdxFile idx;
  idx.magic = be32(head);
  if (idx.magic != expected_magic) {
    fail(path, "bad IDX magic: expected " + hex32(expected_magic) + ", found " + hex32(idx.magic));
  }
  const unsigned ndims = idx.magic & 0xFFu;
  if ((idx.magic & 0xFFFFFF00u) != 0x00000800u || ndims < 1 || ndims > 3) {
    fail(path, "unsupported IDX magic " + hex32(idx.magic) + " (only unsigned bytes, 1..3 dims)");
  }
  got = read_bytes(f.get(), path, head + 4, 4 * ndims, "IDX dimensions");
  if (got < 4 * ndims) {
    fail(path, "truncated IDX header: expected " + std::to_string(4 * ndims) +
                   " bytes of dimensions, got " + std::to_string(got));
  }
  std::uint64_t bytes = 1;
  for (unsigned d = 0; d < ndims; ++d) {
    idx.dims.push_back(be32(head + 4 + 4 * d));
    bytes *= idx.dims.back();  // at most 3 factors below 2^32 after the check below
    if (bytes > kIdxMaxBytes) {
      fail(path, "IDX dimensions describe more than " + std::to_string(kIdxMaxBytes) +
                     " bytes (corrupt header?)");
    }
  }
  idx.data.resize(bytes);
  got = read_bytes(f.get(), path, idx.data.data(), bytes, "IDX data");
  if (got < bytes) {
    fail(path, "truncated IDX data: expected " + std::to_string(bytes) + " bytes, got " +
                   std::to_string(got));
  }
  // Read to the end of the gzip stream: zlib checks the CRC and length there.
  std::uint8_t extra[1];
  if (read_bytes(f.get(), path, extra, 1, "end of the gzip stream") != 0) {
    fail(path, "trailing data after the " + std::to_string(bytes) + " bytes of IDX data");
  }
  return idx;
}

Dataset load_idx(const fs::path& images_path, const fs::path& labels_path, unsigned classes) {
  if (classes < 1 || classes > 256) {
    throw DatasetError(labels_path.string() + ": classes " + std::to_string(classes) +
                       " is out of range (allowed 1..256)");
  }
  IdxFile img = read_idx(images_path, kIdxImagesMagic);
  IdxFile lab = read_idx(labels_path, kIdxLabelsMagic);
  if (img.dims[1] == 0 || img.dims[2] == 0) {
    fail(images_path, "image size " + std::to_string(img.dims[1]) + "x" +
                          std::to_string(img.dims[2]) + " is empty");
  }
  if (img.dims[0] != lab.dims[0]) {
    throw DatasetError(images_path.string() + " has " + std::to_string(img.dims[0]) +
                       " images but " + labels_path.string() + " has " +
                       std::to_string(lab.dims[0]) + " labels (count mismatch)");
  }
  for (std::size_t i = 0; i < lab.data.size(); ++i) {
    if (lab.data[i] >= classes) {
      fail(labels_path, "label " + std::to_string(lab.data[i]) + " of item " + std::to_string(i) +
                            " is out of range (allowed 0.." + std::to_string(classes - 1) + ")");
    }
  }
  Dataset d;
  d.count = img.dims[0];
  d.rows = img.dims[1];
  d.cols = img.dims[2];
  d.pixels = std::move(img.data);
  d.labels = std::move(lab.data);
  d.classes = classes;
  return d;
}

Dataset load_fashion_mnist(const fs::path& dir, Split split) {
  const char* prefix = split == Split::kTrain ? "train" : "t10k";
  return load_idx(dir / (std::string(prefix) + "-images-idx3-ubyte.gz"),
                  dir / (std::string(prefix) + "-labels-idx1-ubyte.gz"), 10);
}

bool fashion_mnist_installed(const fs::path& dir) {
  for (const char* prefix : {"train", "t10k"}) {
    for (const char* kind : {"-images-idx3-ubyte.gz", "-labels-idx1-ubyte.gz"}) {
      std::error_code ec;
      if (!fs::is_regular_file(dir / (std::string(prefix) + kind), ec)) return false;
    }
  }
  return true;
}

Dataset subset(const Dataset& d, std::size_t first, std::size_t count) {
  if (first > d.count || count > d.count - first) {
    throw std::out_of_range("subset: images [" + std::to_string(first) + ", " +
                            std::to_string(first) + " + " + std::to_string(count) +
                            ") exceed the data set's " + std::to_string(d.count));
  }
  Dataset s;
  s.count = count;
  s.rows = d.rows;
  s.cols = d.cols;
  s.classes = d.classes;
  const std::size_t f = d.features();
  s.pixels.assign(d.pixels.begin() + static_cast<std::ptrdiff_t>(first * f),
                  d.pixels.begin() + static_cast<std::ptrdiff_t>((first + count) * f));
  s.labels.assign(d.labels.begin() + static_cast<std::ptrdiff_t>(first),
                  d.labels.begin() + static_cast<std::ptrdiff_t>(first + count));
  return s;
}

std::vector<std::size_t> shuffled_order(std::size_t count, std::uint64_t seed,
                                        std::uint64_t epoch) {
  std::vector<std::size_t> order(count);
  for (std::size_t i = 0; i < count; ++i) order[i] = i;
  std::mt19937_64 rng(splitmix64(seed ^ splitmix64(epoch)));
  shuffle(order, rng);
  return order;
}

model::Batch make_batch(const Dataset& d, std::span<const std::size_t> indices) {
  return model::gather_batch(d.samples(), indices);
}

model::Batch make_batch(const Dataset& d, std::span<const std::size_t> order, std::size_t first,
                        std::size_t size) {
  first = std::min(first, order.size());
  return make_batch(d, order.subspan(first, std::min(size, order.size() - first)));
}

model::Batch padded_batch(const Dataset& d, std::size_t first, std::size_t size) {
  if (first >= d.count)
    throw std::out_of_range("padded_batch: image " + std::to_string(first) + " of " +
                            std::to_string(d.count));
  std::vector<std::size_t> idx(size);
  for (std::size_t i = 0; i < size; ++i) idx[i] = std::min(first + i, d.count - 1);
  return make_batch(d, idx);
}

Dataset synthetic_dataset(std::size_t count, std::size_t rows, std::size_t cols, unsigned classes,
                          std::uint64_t seed) {
  if (count == 0 || rows == 0 || cols == 0 || classes < 1 || classes > 256) {
    throw std::invalid_argument(
        "synthetic_dataset: count, rows and cols must be > 0 and classes 1..256 (got " +
        std::to_string(count) + ", " + std::to_string(rows) + ", " + std::to_string(cols) + ", " +
        std::to_string(classes) + ")");
  }
  const std::size_t f = rows * cols;
  std::mt19937_64 rng(seed);
  const auto byte = [&rng] { return static_cast<int>(rng() >> 56); };  // 0..255
  // Prototypes first, so they depend only on (rows, cols, classes, seed).
  std::vector<int> background(f);
  for (int& p : background) p = byte();
  std::vector<std::vector<int>> proto(classes, background);
  for (auto& pr : proto) {
    for (int& p : pr) {
      if (below(rng, 4) == 0) p = byte();
    }
  }
  Dataset d;
  d.count = count;
  d.rows = rows;
  d.cols = cols;
  d.classes = classes;
  d.labels.resize(count);
  for (std::size_t i = 0; i < count; ++i) d.labels[i] = static_cast<std::uint8_t>(i % classes);
  shuffle(d.labels, rng);
  d.pixels.resize(count * f);
  for (std::size_t i = 0; i < count; ++i) {
    const std::vector<int>& pr = proto[d.labels[i]];
    for (std::size_t k = 0; k < f; ++k) {
      // Two uniforms in -48..47 + -48..47: triangular noise of about +-96.
      const int noise = static_cast<int>(below(rng, 96)) + static_cast<int>(below(rng, 96)) - 96;
      d.pixels[i * f + k] = static_cast<std::uint8_t>(std::clamp(pr[k] + noise, 0, 255));
    }
  }
  return d;
}

}  // namespace sasim::host
