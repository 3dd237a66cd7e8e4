// Data set reader (gzip IDX), its error messages, subsets, shuffled orders,
// batches, the synthetic data set and the installed Fashion-MNIST files.
#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <initializer_list>
#include <iterator>
#include <memory>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

#include "sasim/host/dataset.hpp"

namespace {

namespace fs = std::filesystem;
namespace host = sasim::host;

// A fresh directory per test, removed afterwards.
class TempDir {
 public:
  TempDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = fs::temp_directory_path() /
            ("sasim_dataset_" + std::to_string(::getpid()) + "_" + info->name());
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  fs::path operator/(const std::string& name) const { return path_ / name; }

 private:
  fs::path path_;
};

using Bytes = std::vector<std::uint8_t>;

// An IDX file's bytes: big-endian magic and dims, then the data.
Bytes idx_bytes(std::uint32_t magic, std::initializer_list<std::uint32_t> dims, const Bytes& data) {
  Bytes out;
  const auto put32 = [&out](std::uint32_t v) {
    for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<std::uint8_t>(v >> s));
  };
  put32(magic);
  for (std::uint32_t d : dims) put32(d);
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

struct GzCloser {
  void operator()(gzFile f) const { gzclose(f); }
};

void write_gz(const fs::path& p, const Bytes& bytes) {
  std::unique_ptr<gzFile_s, GzCloser> f(gzopen(p.c_str(), "wb"));
  ASSERT_TRUE(f) << p;
  if (!bytes.empty()) {
    ASSERT_EQ(gzwrite(f.get(), bytes.data(), static_cast<unsigned>(bytes.size())),
              static_cast<int>(bytes.size()));
  }
}

void write_raw(const fs::path& p, const Bytes& bytes) {
  std::ofstream out(p, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(out.good()) << p;
}

Bytes read_raw(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

Bytes iota_bytes(std::size_t n, std::uint8_t start = 0, std::uint8_t step = 1) {
  Bytes b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>(start + i * step);
  return b;
}

// The DatasetError message of f(), or a failure if it throws none.
std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const host::DatasetError& e) {
    return e.what();
  }
  ADD_FAILURE() << "no DatasetError thrown";
  return {};
}

void expect_contains(const std::string& msg, std::initializer_list<std::string> parts) {
  for (const auto& p : parts)
    EXPECT_NE(msg.find(p), std::string::npos) << "'" << p << "' in: " << msg;
}

// A valid pair: 3 images of 4x5 and their labels.
struct SmallFiles {
  fs::path images, labels;
  Bytes pixels = iota_bytes(3 * 4 * 5, 7, 13);
  Bytes label_values{2, 0, 9};
  explicit SmallFiles(const TempDir& dir)
      : images(dir / "img-idx3-ubyte.gz"), labels(dir / "lab-idx1-ubyte.gz") {
    write_gz(images, idx_bytes(host::kIdxImagesMagic, {3, 4, 5}, pixels));
    write_gz(labels, idx_bytes(host::kIdxLabelsMagic, {3}, label_values));
  }
};

TEST(IdxReader, RoundTripsExactly) {
  TempDir dir;
  SmallFiles files(dir);
  const host::Dataset d = host::load_idx(files.images, files.labels);
  EXPECT_EQ(d.count, 3u);
  EXPECT_EQ(d.rows, 4u);
  EXPECT_EQ(d.cols, 5u);
  EXPECT_EQ(d.classes, 10u);
  EXPECT_EQ(d.pixels, files.pixels);
  EXPECT_EQ(d.labels, files.label_values);
  // image(i) is the i-th block of rows * cols bytes.
  const auto img1 = d.image(1);
  EXPECT_TRUE(std::equal(img1.begin(), img1.end(), files.pixels.begin() + 20));

  const host::IdxFile raw = host::read_idx(files.images, host::kIdxImagesMagic);
  EXPECT_EQ(raw.magic, host::kIdxImagesMagic);
  EXPECT_EQ(raw.dims, (std::vector<std::uint32_t>{3, 4, 5}));
}

TEST(IdxReader, ReadsLargerFilesInChunks) {
  // More than one gzbuffer (128 KiB) of payload, all byte values.
  TempDir dir;
  const Bytes pixels = iota_bytes(300 * 28 * 28, 3, 101);
  Bytes labels(300);
  for (std::size_t i = 0; i < labels.size(); ++i) labels[i] = static_cast<std::uint8_t>(i % 10);
  write_gz(dir / "i.gz", idx_bytes(host::kIdxImagesMagic, {300, 28, 28}, pixels));
  write_gz(dir / "l.gz", idx_bytes(host::kIdxLabelsMagic, {300}, labels));
  const host::Dataset d = host::load_idx(dir / "i.gz", dir / "l.gz");
  EXPECT_EQ(d.pixels, pixels);
  EXPECT_EQ(d.labels, labels);
}

TEST(IdxReader, MissingFileIsNamed) {
  TempDir dir;
  SmallFiles files(dir);
  const fs::path missing = dir / "no-such-idx3-ubyte.gz";
  expect_contains(error_of([&] { host::load_idx(missing, files.labels); }),
                  {missing.string(), "file not found"});
  expect_contains(error_of([&] { host::load_idx(files.images, missing); }),
                  {missing.string(), "file not found"});
}

TEST(IdxReader, DirectoryIsNotAFile) {
  TempDir dir;
  SmallFiles files(dir);
  const fs::path sub = dir / "subdir";
  fs::create_directories(sub);
  expect_contains(error_of([&] { host::load_idx(sub, files.labels); }),
                  {sub.string(), "not a regular file"});
}

TEST(IdxReader, EmptyFile) {
  TempDir dir;
  SmallFiles files(dir);
  write_raw(dir / "empty.gz", {});
  expect_contains(error_of([&] { host::load_idx(dir / "empty.gz", files.labels); }),
                  {(dir / "empty.gz").string(), "empty file"});
}

TEST(IdxReader, UncompressedFileIsNotGzip) {
  // zlib would pass it through unchanged; the reader must refuse it.
  TempDir dir;
  SmallFiles files(dir);
  const fs::path raw = dir / "raw-idx3-ubyte";
  write_raw(raw, idx_bytes(host::kIdxImagesMagic, {3, 4, 5}, files.pixels));
  expect_contains(error_of([&] { host::load_idx(raw, files.labels); }),
                  {raw.string(), "not a gzip file"});
}

TEST(IdxReader, CorruptCrcIsDetected) {
  // The gzip trailer is CRC32 then ISIZE (little endian, 4 bytes each).
  TempDir dir;
  SmallFiles files(dir);
  Bytes gz = read_raw(files.images);
  ASSERT_GT(gz.size(), 8u);
  gz[gz.size() - 8] ^= 0x5A;
  write_raw(files.images, gz);
  expect_contains(error_of([&] { host::load_idx(files.images, files.labels); }),
                  {files.images.string(), "corrupt gzip stream", "incorrect data check"});
}

TEST(IdxReader, CorruptHeaderIsDetected) {
  // Byte 2 of a gzip member is the compression method (8 = deflate).
  TempDir dir;
  SmallFiles files(dir);
  Bytes gz = read_raw(files.labels);
  gz[2] = 7;
  write_raw(files.labels, gz);
  expect_contains(error_of([&] { host::load_idx(files.images, files.labels); }),
                  {files.labels.string(), "corrupt gzip stream", "unknown compression method"});
}

TEST(IdxReader, TruncatedGzipStream) {
  TempDir dir;
  SmallFiles files(dir);
  Bytes gz = read_raw(files.images);
  gz.resize(gz.size() - 12);  // the trailer and the last deflate bytes
  write_raw(files.images, gz);
  expect_contains(error_of([&] { host::load_idx(files.images, files.labels); }),
                  {files.images.string(), "truncated gzip stream", "unexpected end of file"});
}

TEST(IdxReader, BadMagicShowsExpectedAndFound) {
  TempDir dir;
  SmallFiles files(dir);
  // Labels passed as images and vice versa.
  expect_contains(
      error_of([&] { host::load_idx(files.labels, files.images); }),
      {files.labels.string(), "bad IDX magic", "expected 0x00000803", "found 0x00000801"});
  // A non-byte element type (0x0D = float) is a bad magic too.
  write_gz(dir / "f.gz", idx_bytes(0x00000D03u, {1, 1, 1}, {0, 0, 0, 0}));
  expect_contains(error_of([&] { host::load_idx(dir / "f.gz", files.labels); }),
                  {(dir / "f.gz").string(), "expected 0x00000803", "found 0x00000D03"});
}

TEST(IdxReader, TruncatedHeaderAndData) {
  TempDir dir;
  SmallFiles files(dir);
  // Header claims 3 images of 4x5 (60 bytes), the file holds 2 (40).
  write_gz(files.images, idx_bytes(host::kIdxImagesMagic, {3, 4, 5}, iota_bytes(40)));
  expect_contains(error_of([&] { host::load_idx(files.images, files.labels); }),
                  {files.images.string(), "truncated IDX data", "expected 60 bytes, got 40"});
  // Only the magic and one of three dimensions.
  Bytes header = idx_bytes(host::kIdxImagesMagic, {3}, {});
  write_gz(files.images, header);
  expect_contains(error_of([&] { host::load_idx(files.images, files.labels); }),
                  {files.images.string(), "truncated IDX header", "expected 12 bytes", "got 4"});
  // Two bytes: not even the magic.
  write_gz(files.images, {0, 0});
  expect_contains(error_of([&] { host::load_idx(files.images, files.labels); }),
                  {files.images.string(), "expected 4 magic bytes, got 2"});
}

TEST(IdxReader, TrailingDataAndHugeDims) {
  TempDir dir;
  SmallFiles files(dir);
  Bytes long_labels = idx_bytes(host::kIdxLabelsMagic, {3}, {1, 2, 3, 4});
  write_gz(files.labels, long_labels);
  expect_contains(error_of([&] { host::load_idx(files.images, files.labels); }),
                  {files.labels.string(), "trailing data after the 3 bytes"});
  // 2^32-1 cubed must be refused before any allocation.
  write_gz(files.images,
           idx_bytes(host::kIdxImagesMagic, {0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu}, {}));
  expect_contains(error_of([&] { host::load_idx(files.images, files.labels); }),
                  {files.images.string(), "corrupt header"});
}

TEST(IdxReader, CountMismatchNamesBothFiles) {
  TempDir dir;
  SmallFiles files(dir);
  write_gz(files.labels, idx_bytes(host::kIdxLabelsMagic, {2}, {1, 2}));
  expect_contains(
      error_of([&] { host::load_idx(files.images, files.labels); }),
      {files.images.string(), files.labels.string(), "3 images", "2 labels", "count mismatch"});
}

TEST(IdxReader, LabelOutOfRange) {
  TempDir dir;
  SmallFiles files(dir);
  write_gz(files.labels, idx_bytes(host::kIdxLabelsMagic, {3}, {1, 10, 2}));
  expect_contains(error_of([&] { host::load_idx(files.images, files.labels); }),
                  {files.labels.string(), "label 10 of item 1", "allowed 0..9"});
  // With fewer classes a smaller label is already out of range.
  write_gz(files.labels, idx_bytes(host::kIdxLabelsMagic, {3}, {1, 0, 2}));
  EXPECT_EQ(host::load_idx(files.images, files.labels, 3).classes, 3u);
  expect_contains(error_of([&] { host::load_idx(files.images, files.labels, 2); }),
                  {files.labels.string(), "label 2 of item 2", "allowed 0..1"});
}

TEST(Dataset, SubsetCopiesTheRange) {
  const host::Dataset d = host::synthetic_dataset(20, 3, 2, 4, 5);
  const host::Dataset s = host::subset(d, 5, 10);
  ASSERT_EQ(s.count, 10u);
  EXPECT_EQ(s.rows, 3u);
  EXPECT_EQ(s.cols, 2u);
  EXPECT_EQ(s.classes, 4u);
  for (std::size_t i = 0; i < s.count; ++i) {
    EXPECT_EQ(s.labels[i], d.labels[5 + i]);
    const auto a = s.image(i), b = d.image(5 + i);
    EXPECT_TRUE(std::equal(a.begin(), a.end(), b.begin())) << "image " << i;
  }
  EXPECT_EQ(host::subset(d, 20, 0).count, 0u);
  EXPECT_THROW(host::subset(d, 15, 6), std::out_of_range);
  EXPECT_THROW(host::subset(d, 21, 0), std::out_of_range);
}

TEST(Dataset, ShuffledOrderIsASeededPermutation) {
  const auto a = host::shuffled_order(1000, 42, 0);
  std::vector<std::size_t> sorted = a;
  std::sort(sorted.begin(), sorted.end());
  std::vector<std::size_t> iota(1000);
  std::iota(iota.begin(), iota.end(), std::size_t{0});
  EXPECT_EQ(sorted, iota);
  EXPECT_NE(a, iota);
  EXPECT_EQ(a, host::shuffled_order(1000, 42, 0));  // replayable
  EXPECT_NE(a, host::shuffled_order(1000, 42, 1));  // a new order every epoch
  EXPECT_NE(a, host::shuffled_order(1000, 43, 0));
  EXPECT_TRUE(host::shuffled_order(0, 1, 0).empty());
  // Pinned: mt19937_64 is standardised and the bounded draw and shuffle are
  // our own, so this order is the same with every standard library (a change
  // here changes every recorded training run).
  EXPECT_EQ(host::shuffled_order(10, 42, 0),
            (std::vector<std::size_t>{9, 6, 2, 0, 1, 4, 3, 8, 5, 7}));
}

TEST(Dataset, MakeBatchScalesPixels) {
  TempDir dir;
  SmallFiles files(dir);
  const host::Dataset d = host::load_idx(files.images, files.labels);
  const std::vector<std::size_t> order{2, 0, 1};
  const auto b = host::make_batch(d, order, 0, 2);  // images 2 and 0
  ASSERT_EQ(b.x.rows(), 2);
  ASSERT_EQ(b.x.cols(), 20);
  EXPECT_EQ(b.labels, (std::vector<std::uint8_t>{9, 2}));
  for (int k = 0; k < 20; ++k) {
    EXPECT_EQ(b.x(0, k), static_cast<float>(files.pixels[40 + k]) / 255.0f);
    EXPECT_EQ(b.x(1, k), static_cast<float>(files.pixels[k]) / 255.0f);
  }
  // Row-major: row r is contiguous.
  EXPECT_EQ(b.x.data()[20], b.x(1, 0));
  // The last batch is clipped to the order.
  EXPECT_EQ(host::make_batch(d, order, 2, 32).x.rows(), 1);
  const std::vector<std::size_t> bad{3};
  EXPECT_THROW(host::make_batch(d, bad), std::out_of_range);
}

// A fixed-size batch at the end of a set repeats its last image.
TEST(Dataset, PaddedBatchRepeatsTheLastImage) {
  const host::Dataset d = host::synthetic_dataset(5, 3, 2, 4, 5);
  const auto b = host::padded_batch(d, 3, 4);  // images 3, 4, 4, 4
  ASSERT_EQ(b.x.rows(), 4);
  const auto want = host::make_batch(d, std::vector<std::size_t>{3, 4, 4, 4});
  EXPECT_TRUE((b.x.array() == want.x.array()).all());
  EXPECT_EQ(b.labels, want.labels);
  EXPECT_TRUE((host::padded_batch(d, 0, 5).x.array() ==
               host::make_batch(d, std::vector<std::size_t>{0, 1, 2, 3, 4}).x.array())
                  .all());
  EXPECT_THROW(host::padded_batch(d, 5, 2), std::out_of_range);
}

TEST(Dataset, SyntheticIsDeterministicAndBalanced) {
  const host::Dataset a = host::synthetic_dataset(500, 8, 8, 10, 7);
  EXPECT_EQ(a.count, 500u);
  EXPECT_EQ(a.pixels.size(), 500u * 64u);
  EXPECT_EQ(a.labels.size(), 500u);
  std::vector<int> per_class(10, 0);
  for (auto l : a.labels) {
    ASSERT_LT(l, 10);
    ++per_class[l];
  }
  for (int c = 0; c < 10; ++c) EXPECT_EQ(per_class[c], 50) << "class " << c;
  const host::Dataset b = host::synthetic_dataset(500, 8, 8, 10, 7);
  EXPECT_EQ(a.pixels, b.pixels);
  EXPECT_EQ(a.labels, b.labels);
  const host::Dataset c = host::synthetic_dataset(500, 8, 8, 10, 8);
  EXPECT_NE(a.pixels, c.pixels);
  // Pixels use the whole range (noise and clamping), not a constant.
  const auto [lo, hi] = std::minmax_element(a.pixels.begin(), a.pixels.end());
  EXPECT_EQ(*lo, 0);
  EXPECT_EQ(*hi, 255);
  EXPECT_THROW(host::synthetic_dataset(0, 8, 8, 10, 1), std::invalid_argument);
  EXPECT_THROW(host::synthetic_dataset(10, 8, 8, 0, 1), std::invalid_argument);
}

TEST(Dataset, SyntheticClassesAreSeparable) {
  // Nearest class mean (estimated on the first half) classifies the second
  // half: the structure a classifier can learn is really there.
  const host::Dataset d = host::synthetic_dataset(1000, 10, 10, 10, 3);
  const std::size_t f = d.features();
  std::vector<std::vector<double>> mean(10, std::vector<double>(f, 0.0));
  std::vector<int> n(10, 0);
  for (std::size_t i = 0; i < 500; ++i) {
    ++n[d.labels[i]];
    for (std::size_t k = 0; k < f; ++k) mean[d.labels[i]][k] += d.image(i)[k];
  }
  for (int c = 0; c < 10; ++c) {
    for (auto& m : mean[c]) m /= n[c];
  }
  int correct = 0;
  for (std::size_t i = 500; i < 1000; ++i) {
    int best = 0;
    double best_d = 1e300;
    for (int c = 0; c < 10; ++c) {
      double dist = 0;
      for (std::size_t k = 0; k < f; ++k)
        dist += (d.image(i)[k] - mean[c][k]) * (d.image(i)[k] - mean[c][k]);
      if (dist < best_d) best_d = dist, best = c;
    }
    correct += best == d.labels[i];
  }
  EXPECT_GT(correct, 450) << "nearest-mean accuracy " << correct / 500.0;
}

// --- The installed data set (Debian package dataset-fashion-mnist) ----------

std::uint64_t fnv1a(const Bytes& b, std::size_t skip) {
  std::uint64_t h = 0xCBF29CE484222325ull;
  for (std::size_t i = skip; i < b.size(); ++i) h = (h ^ b[i]) * 0x100000001B3ull;
  return h;
}

// The file decompressed by gzip(1), an implementation independent of ours.
Bytes gunzip_with_tool(const fs::path& p) {
  struct PipeCloser {
    void operator()(FILE* f) const { pclose(f); }
  };
  std::unique_ptr<FILE, PipeCloser> pipe(popen(("gzip -dc '" + p.string() + "'").c_str(), "r"));
  Bytes out;
  if (!pipe) return out;
  std::uint8_t buf[1 << 16];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, pipe.get())) > 0;) {
    out.insert(out.end(), buf, buf + n);
  }
  return out;
}

TEST(FashionMnist, TestSplit) {
  if (!host::fashion_mnist_installed())
    GTEST_SKIP() << "dataset-fashion-mnist is not installed (" << host::kFashionMnistDir
                 << "); ./sasim installs it";
  const auto t0 = std::chrono::steady_clock::now();
  const host::Dataset d = host::load_fashion_mnist(host::Split::kTest);
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_EQ(d.count, 10000u);
  ASSERT_EQ(d.rows, 28u);
  ASSERT_EQ(d.cols, 28u);
  ASSERT_EQ(d.pixels.size(), 10000u * 784u);
  // The test split holds exactly 1000 images of each class.
  std::vector<int> per_class(10, 0);
  for (auto l : d.labels) ++per_class.at(l);
  for (int c = 0; c < 10; ++c) EXPECT_EQ(per_class[c], 1000) << host::kFashionMnistClassNames[c];
  // Its first image is an ankle boot (class 9).
  EXPECT_EQ(d.labels[0], 9);
  EXPECT_EQ(d.labels[1], 2);  // pullover
  // Published normalisation constants put the mean pixel at ~0.286 * 255 = 73.
  const double mean =
      std::accumulate(d.pixels.begin(), d.pixels.end(), 0.0) / static_cast<double>(d.pixels.size());
  EXPECT_GT(mean, 71.0);
  EXPECT_LT(mean, 75.0);
  // Every byte equals what gzip(1) decompresses (after the 16-byte header).
  const Bytes ref =
      gunzip_with_tool(fs::path(host::kFashionMnistDir) / "t10k-images-idx3-ubyte.gz");
  ASSERT_EQ(ref.size(), 16u + d.pixels.size());
  EXPECT_EQ(fnv1a(ref, 16), fnv1a(d.pixels, 0));
  std::printf("t10k: mean pixel %.3f, loaded in %.0f ms\n", mean, ms);
}

TEST(FashionMnist, TrainSplit) {
  if (!host::fashion_mnist_installed())
    GTEST_SKIP() << "dataset-fashion-mnist is not installed (" << host::kFashionMnistDir
                 << "); ./sasim installs it";
  const host::Dataset d =
      host::load_fashion_mnist(fs::path(host::kFashionMnistDir), host::Split::kTrain);
  ASSERT_EQ(d.count, 60000u);
  ASSERT_EQ(d.rows, 28u);
  ASSERT_EQ(d.cols, 28u);
  std::vector<int> per_class(10, 0);
  for (auto l : d.labels) ++per_class.at(l);
  for (int c = 0; c < 10; ++c) EXPECT_EQ(per_class[c], 6000) << host::kFashionMnistClassNames[c];
  EXPECT_EQ(d.labels[0], 9);  // ankle boot
  const double mean =
      std::accumulate(d.pixels.begin(), d.pixels.end(), 0.0) / static_cast<double>(d.pixels.size());
  EXPECT_NEAR(mean, 0.2860 * 255.0, 0.5);
}

TEST(FashionMnist, MissingDirectoryNamesTheFile) {
  TempDir dir;
  expect_contains(error_of([&] { host::load_fashion_mnist(dir / "nothing", host::Split::kTest); }),
                  {"nothing/t10k-images-idx3-ubyte.gz", "file not found"});
}

}  // namespace
