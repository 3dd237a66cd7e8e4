// Image classification data sets for the training workloads: a reader for
// gzip-compressed IDX files (the MNIST / Fashion-MNIST format), subsets,
// per-epoch shuffled orders, mini-batches and a synthetic data set with
// learnable class structure for tests that must not depend on files.
//
// IDX (big-endian): magic 0x00 0x00 <type> <ndims>, then ndims 32-bit sizes,
// then the data. Only unsigned bytes (type 0x08) are read: images have magic
// 0x00000803 (count, rows, cols), labels 0x00000801 (count). The whole file is
// one gzip stream; it is read to its end, so zlib's CRC check covers every
// byte, and data after the payload is an error.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <stdexcept>
#include <string_view>
#include <vector>

#include "sasim/model/mlp.hpp"

namespace sasim::host {

// Every problem with a data set file. The message starts with the file's path
// and says what is wrong (missing, not gzip, corrupt stream, bad magic,
// truncated, count mismatch, label out of range, ...).
class DatasetError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

inline constexpr std::uint32_t kIdxImagesMagic = 0x00000803u;
inline constexpr std::uint32_t kIdxLabelsMagic = 0x00000801u;
// Largest payload the reader accepts (a corrupt header must not make it
// allocate without bound): 1 GiB.
inline constexpr std::uint64_t kIdxMaxBytes = std::uint64_t{1} << 30;

// One IDX file of unsigned bytes: its dimensions and data (product of dims bytes).
struct IdxFile {
  std::uint32_t magic = 0;
  std::vector<std::uint32_t> dims;
  std::vector<std::uint8_t> data;
};

// Reads a gzip-compressed IDX file whose magic must be `expected_magic`
// (0x000008nn, nn = number of dimensions, 1..3). Throws DatasetError.
IdxFile read_idx(const std::filesystem::path& path, std::uint32_t expected_magic);

struct Dataset {
  std::size_t count = 0, rows = 0, cols = 0;
  std::vector<std::uint8_t> pixels;  // count * rows * cols, image-major, row-major
  std::vector<std::uint8_t> labels;  // count, each < classes
  unsigned classes = 10;

  std::size_t features() const { return rows * cols; }
  // Image i (i < count), rows * cols bytes.
  std::span<const std::uint8_t> image(std::size_t i) const {
    return std::span(pixels).subspan(i * features(), features());
  }
  // The view the reference trainer (sasim::model::ReferenceMlp) reads.
  model::SampleView samples() const { return {pixels, labels, features()}; }
};

// Reads an image file (magic 0x00000803) and a label file (0x00000801) and
// checks they agree: same count, every label < classes, rows and cols > 0.
// Throws DatasetError naming the file(s) and the problem.
Dataset load_idx(const std::filesystem::path& images_path, const std::filesystem::path& labels_path,
                 unsigned classes = 10);

enum class Split { kTrain, kTest };

// Where the Debian package dataset-fashion-mnist installs the files.
inline constexpr std::string_view kFashionMnistDir = "/usr/share/datasets/fashion-mnist";
inline constexpr std::array<std::string_view, 10> kFashionMnistClassNames = {
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};

// Fashion-MNIST (60000 train / 10000 test 28x28 images, 10 classes) from
// dir/{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz.
Dataset load_fashion_mnist(const std::filesystem::path& dir, Split split);
inline Dataset load_fashion_mnist(Split split) {
  return load_fashion_mnist(std::filesystem::path(kFashionMnistDir), split);
}
// Whether the four Fashion-MNIST files are in dir (tests on the real data run
// only when dataset-fashion-mnist is installed; ./sasim installs it).
bool fashion_mnist_installed(const std::filesystem::path& dir = kFashionMnistDir);

// Images [first, first + count) as a new data set. Throws std::out_of_range if
// the range exceeds d.count.
Dataset subset(const Dataset& d, std::size_t first, std::size_t count);

// A permutation of 0..count-1 for one epoch: a Fisher-Yates shuffle driven by
// std::mt19937_64 seeded from (seed, epoch) (splitmix64 of both), with its own
// unbiased bounded draw instead of std::uniform_int_distribution, so the order
// is the same with every standard library.
std::vector<std::size_t> shuffled_order(std::size_t count, std::uint64_t seed, std::uint64_t epoch);

// Images `indices` of d as a batch: x is indices.size() x features, row-major,
// pixel / 255.0f; labels in the same order. Throws std::out_of_range on a bad
// index.
model::Batch make_batch(const Dataset& d, std::span<const std::size_t> indices);
// Images order[first, first + size) (clipped to the end of order).
model::Batch make_batch(const Dataset& d, std::span<const std::size_t> order, std::size_t first,
                        std::size_t size);

// Images [first, first + size) of d as a batch of exactly `size` rows for a
// fixed-batch device program: rows past the end repeat the last image (whose
// predictions the caller ignores). Throws std::out_of_range if first is not
// below d.count.
model::Batch padded_batch(const Dataset& d, std::size_t first, std::size_t size);

// A generated data set with learnable class structure: a shared random
// background image, per class a prototype that replaces a random quarter of the
// background pixels with new random values, and per sample the prototype of
// its class plus triangular noise of +-96 (sum of two uniforms), clamped to
// 0..255. Labels are balanced (i % classes) and shuffled. Everything derives
// from std::mt19937_64(seed); the prototypes do not depend on count, so the
// first n images of synthetic_dataset(n + m, ...) and the last m share their
// classes: use subset() to split training and held-out data.
// Throws std::invalid_argument for count, rows or cols of 0 or classes outside
// 1..256.
Dataset synthetic_dataset(std::size_t count, std::size_t rows, std::size_t cols, unsigned classes,
                          std::uint64_t seed);

}  // namespace sasim::host
