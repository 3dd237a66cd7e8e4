#include "sasim/host/driver.hpp"

#include <algorithm>
#include <iterator>
#include <map>
#include <string>
#include <type_traits>

#include "sasim/host/multicore_kernels.hpp"
#include "sasim/host/program_check.hpp"
#include "sasim/isa/encode.hpp"

namespace sasim::host {

namespace detail {

// First-fit allocator over [base, base + size): free blocks by address,
// neighbours merged on release.
class Heap {
 public:
  Heap(std::uint64_t base, std::uint64_t size) : size_(size) { free_[base] = size; }

  std::uint64_t alloc(std::uint64_t bytes, std::uint64_t align) {
    for (auto it = free_.begin(); it != free_.end(); ++it) {
      const std::uint64_t lo = it->first, hi = it->first + it->second;
      const std::uint64_t start = (lo + align - 1) / align * align;
      if (start < lo || start > hi || bytes > hi - start) continue;
      free_.erase(it);
      if (start > lo) free_[lo] = start - lo;
      if (start + bytes < hi) free_[start + bytes] = hi - (start + bytes);
      used_[start] = bytes;
      return start;
    }
    throw DeviceOutOfMemory("Driver::alloc: out of device memory: cannot allocate " +
                            std::to_string(bytes) + " bytes (alignment " + std::to_string(align) +
                            "); " + std::to_string(bytes_free()) + " of " + std::to_string(size_) +
                            " bytes free, the largest free block " + std::to_string(largest()) +
                            " bytes");
  }

  void release(std::uint64_t addr) {
    const auto u = used_.find(addr);
    if (u == used_.end()) return;  // unreachable through DeviceBuffer
    std::uint64_t lo = addr, hi = addr + u->second;
    used_.erase(u);
    auto next = free_.lower_bound(lo);
    if (next != free_.end() && next->first == hi) {
      hi += next->second;
      next = free_.erase(next);
    }
    if (next != free_.begin()) {
      auto prev = std::prev(next);
      if (prev->first + prev->second == lo) {
        lo = prev->first;
        free_.erase(prev);
      }
    }
    free_[lo] = hi - lo;
  }

  std::uint64_t bytes_free() const {
    std::uint64_t s = 0;
    for (const auto& [a, n] : free_) s += n;
    return s;
  }
  std::uint64_t largest() const {
    std::uint64_t m = 0;
    for (const auto& [a, n] : free_) m = std::max(m, n);
    return m;
  }

 private:
  std::uint64_t size_;
  std::map<std::uint64_t, std::uint64_t> free_, used_;  // address -> bytes
};

}  // namespace detail

namespace {

bool pow2(std::uint64_t v) { return v != 0 && (v & (v - 1)) == 0; }

}  // namespace

DeviceBuffer::DeviceBuffer(DeviceBuffer&& o) noexcept
    : heap_(std::move(o.heap_)), addr_(o.addr_), bytes_(o.bytes_) {
  o.addr_ = o.bytes_ = 0;
}

DeviceBuffer& DeviceBuffer::operator=(DeviceBuffer&& o) noexcept {
  if (this != &o) {
    reset();
    heap_ = std::move(o.heap_);
    addr_ = o.addr_;
    bytes_ = o.bytes_;
    o.addr_ = o.bytes_ = 0;
  }
  return *this;
}

void DeviceBuffer::reset() {
  if (heap_) heap_->release(addr_);
  heap_.reset();
  addr_ = bytes_ = 0;
}

Tensor Tensor::view(std::uint64_t addr, std::uint64_t rows, std::uint64_t cols,
                    std::uint64_t elem_bytes, std::uint64_t pitch) {
  if (rows == 0 || cols == 0) throw std::invalid_argument("Tensor: rows and cols must be >= 1");
  if (elem_bytes != 1 && elem_bytes != 2 && elem_bytes != 4) {
    throw std::invalid_argument("Tensor: elem_bytes " + std::to_string(elem_bytes) +
                                " is not 1, 2 or 4");
  }
  if (rows > 1 && pitch < cols * elem_bytes) {
    throw std::invalid_argument("Tensor: pitch of " + std::to_string(pitch) +
                                " bytes is below the row of " + std::to_string(cols * elem_bytes) +
                                " bytes");
  }
  Tensor t;
  t.addr_ = addr;
  t.rows_ = rows;
  t.cols_ = cols;
  t.elem_bytes_ = elem_bytes;
  t.pitch_ = pitch;
  return t;
}

Driver::Driver(spec::DeviceBackend& dev, const DriverOptions& opts)
    : dev_(dev),
      opts_(opts),
      heap_(std::make_shared<detail::Heap>(dev.params().dram_base, dev.params().dram_bytes)) {
  if (!pow2(opts.alignment)) {
    throw std::invalid_argument("Driver: alignment " + std::to_string(opts.alignment) +
                                " is not a power of 2");
  }
}

DeviceBuffer Driver::alloc(std::uint64_t bytes, std::uint64_t alignment) {
  if (alignment == 0) alignment = opts_.alignment;
  if (bytes == 0) throw std::invalid_argument("Driver::alloc: 0 bytes");
  if (!pow2(alignment)) {
    throw std::invalid_argument("Driver::alloc: alignment " + std::to_string(alignment) +
                                " is not a power of 2");
  }
  const std::uint64_t addr = heap_->alloc(bytes, alignment);
  return DeviceBuffer(heap_, addr, bytes);
}

Tensor Driver::alloc_tensor(std::uint64_t rows, std::uint64_t cols, std::uint64_t elem_bytes) {
  Tensor probe = Tensor::view(0, rows, cols, elem_bytes, cols * elem_bytes);  // checks arguments
  const std::uint64_t a = opts_.alignment;
  if (probe.row_bytes() > dev_.params().dram_bytes || rows > dev_.params().dram_bytes) {
    throw DeviceOutOfMemory("Driver::alloc_tensor: " + std::to_string(rows) + " x " +
                            std::to_string(cols) + " elements of " + std::to_string(elem_bytes) +
                            " bytes exceed the device memory of " +
                            std::to_string(dev_.params().dram_bytes) + " bytes");
  }
  const std::uint64_t pitch = (probe.row_bytes() + a - 1) / a * a;
  std::uint64_t bytes = 0;
  if (__builtin_mul_overflow(rows - 1, pitch, &bytes) ||
      __builtin_add_overflow(bytes, probe.row_bytes(), &bytes)) {
    throw DeviceOutOfMemory("Driver::alloc_tensor: " + std::to_string(rows) + " rows of pitch " +
                            std::to_string(pitch) + " bytes overflow the address space");
  }
  DeviceBuffer mem = alloc(bytes, a);
  Tensor t = Tensor::view(mem.addr(), rows, cols, elem_bytes, pitch);
  t.mem_ = std::move(mem);
  return t;
}

void Driver::free(Tensor& t) {
  if (!t.owns_memory()) throw std::invalid_argument("Driver::free: the tensor owns no memory");
  t = Tensor();
}

std::uint64_t Driver::bytes_free() const { return heap_->bytes_free(); }
std::uint64_t Driver::largest_free_block() const { return heap_->largest(); }

namespace {
// n elements of eb bytes fill the non-empty tensor t exactly.
void check_copy(const char* what, const Tensor& t, std::uint64_t eb, std::uint64_t n) {
  if (t.rows() == 0) throw std::invalid_argument(std::string(what) + ": empty tensor");
  if (eb != t.elem_bytes() || n != t.rows() * t.cols()) {
    throw std::invalid_argument(std::string(what) + ": " + std::to_string(n) + " elements of " +
                                std::to_string(eb) + " bytes for a " + std::to_string(t.rows()) +
                                " x " + std::to_string(t.cols()) + " tensor of " +
                                std::to_string(t.elem_bytes()) + "-byte elements");
  }
}
}  // namespace

void Driver::copy_in_bytes(const Tensor& t, const std::uint8_t* src, std::uint64_t eb,
                           std::uint64_t n) {
  check_copy("copy_in", t, eb, n);
  std::vector<std::uint8_t> row(t.row_bytes());
  for (std::uint64_t r = 0; r < t.rows(); ++r) {
    for (std::uint64_t i = 0; i < t.cols(); ++i) {
      const std::uint8_t* e = src + (r * t.cols() + i) * eb;
      for (std::uint64_t b = 0; b < eb; ++b) row[i * eb + b] = e[b];
    }
    dev_.write(t.addr() + r * t.pitch(), row.data(), row.size());
  }
}

void Driver::copy_out_bytes(const Tensor& t, std::uint8_t* dst, std::uint64_t eb, std::uint64_t n) {
  check_copy("copy_out", t, eb, n);
  std::vector<std::uint8_t> row(t.row_bytes());
  for (std::uint64_t r = 0; r < t.rows(); ++r) {
    dev_.read(t.addr() + r * t.pitch(), row.data(), row.size());
    for (std::uint64_t i = 0; i < t.cols(); ++i) {
      std::uint8_t* e = dst + (r * t.cols() + i) * eb;
      for (std::uint64_t b = 0; b < eb; ++b) e[b] = row[i * eb + b];
    }
  }
}

// Host integers to little-endian bytes and back, whatever the host's order.
namespace {

template <typename T>
std::vector<std::uint8_t> le_bytes(std::span<const T> v) {
  std::vector<std::uint8_t> out(v.size() * sizeof(T));
  for (std::size_t i = 0; i < v.size(); ++i) {
    const auto u = static_cast<std::make_unsigned_t<T>>(v[i]);
    for (std::size_t b = 0; b < sizeof(T); ++b) {
      out[i * sizeof(T) + b] = static_cast<std::uint8_t>(u >> (8 * b));
    }
  }
  return out;
}

template <typename T>
void from_le(const std::vector<std::uint8_t>& in, std::span<T> v) {
  using U = std::make_unsigned_t<T>;
  for (std::size_t i = 0; i < v.size(); ++i) {
    U u = 0;
    for (std::size_t b = 0; b < sizeof(T); ++b) {
      u = static_cast<U>(u | static_cast<U>(in[i * sizeof(T) + b]) << (8 * b));
    }
    v[i] = static_cast<T>(u);
  }
}

}  // namespace

void Driver::copy_in(const Tensor& t, std::span<const std::int8_t> v) {
  copy_in_bytes(t, le_bytes(v).data(), 1, v.size());
}
void Driver::copy_in(const Tensor& t, std::span<const std::uint8_t> v) {
  copy_in_bytes(t, v.data(), 1, v.size());
}
void Driver::copy_in(const Tensor& t, std::span<const std::uint16_t> v) {
  copy_in_bytes(t, le_bytes(v).data(), 2, v.size());
}
void Driver::copy_in(const Tensor& t, std::span<const std::uint32_t> v) {
  copy_in_bytes(t, le_bytes(v).data(), 4, v.size());
}

void Driver::copy_out(const Tensor& t, std::span<std::int8_t> v) {
  std::vector<std::uint8_t> b(v.size());
  copy_out_bytes(t, b.data(), 1, v.size());
  from_le(b, v);
}
void Driver::copy_out(const Tensor& t, std::span<std::uint8_t> v) {
  copy_out_bytes(t, v.data(), 1, v.size());
}
void Driver::copy_out(const Tensor& t, std::span<std::uint16_t> v) {
  std::vector<std::uint8_t> b(v.size() * 2);
  copy_out_bytes(t, b.data(), 2, v.size());
  from_le(b, v);
}
void Driver::copy_out(const Tensor& t, std::span<std::uint32_t> v) {
  std::vector<std::uint8_t> b(v.size() * 4);
  copy_out_bytes(t, b.data(), 4, v.size());
  from_le(b, v);
}

spec::RunResult Driver::submit(const std::vector<isa::Instruction>& program) {
  if (program.empty()) throw std::invalid_argument("Driver::submit: empty program");
  if (opts_.check_programs) {
    const CheckReport rep = check_program(params(), program);
    if (!rep.ok()) {
      throw std::invalid_argument("Driver::submit: the program is not race free:\n" +
                                  rep.summary());
    }
  }
  const std::vector<std::uint8_t> bytes = isa::program_bytes(program);
  const DeviceBuffer area = alloc(bytes.size(), std::max<std::uint64_t>(opts_.alignment, 16));
  dev_.write(area.addr(), bytes.data(), bytes.size());
  return dev_.run(area.addr(), program.size());
}

spec::LaunchResult Driver::launch(const std::vector<std::vector<isa::Instruction>>& programs) {
  std::vector<DeviceBuffer> areas;
  std::vector<spec::CoreLaunch> l;
  for (std::size_t i = 0; i < programs.size(); ++i) {
    const auto& program = programs[i];
    if (program.empty()) throw std::invalid_argument("Driver::launch: empty program");
    if (opts_.check_programs) {
      const CheckReport rep = check_program(params(), program);
      if (!rep.ok()) {
        throw std::invalid_argument("Driver::launch: the program of core " + std::to_string(i) +
                                    " is not race free:\n" + rep.summary());
      }
    }
    const std::vector<std::uint8_t> bytes = isa::program_bytes(program);
    areas.push_back(alloc(bytes.size(), std::max<std::uint64_t>(opts_.alignment, 16)));
    dev_.write(areas.back().addr(), bytes.data(), bytes.size());
    l.push_back({areas.back().addr(), program.size()});
  }
  return dev_.launch(l);
}

namespace {
void check_gemm_shapes(const char* who, std::uint64_t eb, const Tensor& a, const Tensor& b,
                       const Tensor& c) {
  auto shape = [](const Tensor& t) {
    return std::to_string(t.rows()) + " x " + std::to_string(t.cols()) + " (" +
           std::to_string(t.elem_bytes()) + "-byte elements)";
  };
  if (a.rows() == 0 || b.rows() == 0 || c.rows() == 0 || a.elem_bytes() != eb ||
      b.elem_bytes() != eb || c.elem_bytes() != 4 || a.cols() != b.rows() || c.rows() != a.rows() ||
      c.cols() != b.cols()) {
    throw std::invalid_argument(std::string(who) + ": A " + shape(a) + ", B " + shape(b) + ", C " +
                                shape(c) + " do not make C = A * B with " + std::to_string(eb) +
                                "-byte operands and 4-byte results");
  }
}
}  // namespace

spec::LaunchResult Driver::split_gemm(model::Dataflow df, const Tensor& a, const Tensor& b,
                                      const Tensor& c, unsigned cores, GemmSplit split) {
  check_gemm_shapes("Driver::split_gemm", params().elem_bytes(), a, b, c);
  if (cores < 2 || cores > dev_.cores())
    throw std::invalid_argument("Driver::split_gemm: " + std::to_string(cores) +
                                " cores on a device of " + std::to_string(dev_.cores()) +
                                " (allowed 2.." + std::to_string(dev_.cores()) + ")");
  const GemmOptions o = gemm_options();
  if (split == GemmSplit::kM)
    return launch(split_m_gemm_programs(params(), df, a.rows(), a.cols(), b.cols(), a.ref(),
                                        b.ref(), c.ref(), cores, o.zero_addr));
  std::vector<Tensor> parts;
  std::vector<MatrixRef> refs;
  for (unsigned i = 0; i < cores; ++i) {
    parts.push_back(alloc_tensor(c.rows(), c.cols(), 4));
    refs.push_back(parts.back().ref());
  }
  return launch(split_k_gemm_programs(params(), df, a.rows(), a.cols(), b.cols(), a.ref(), b.ref(),
                                      refs, c.ref(), o.zero_addr));
}

spec::RunResult Driver::gemm(model::Dataflow df, const Tensor& a, const Tensor& b,
                             const Tensor& c) {
  const spec::DeviceSpec& p = params();
  check_gemm_shapes("Driver::gemm", p.elem_bytes(), a, b, c);
  return submit(
      gemm_program(p, df, a.rows(), a.cols(), b.cols(), a.ref(), b.ref(), c.ref(), gemm_options()));
}

GemmOptions Driver::gemm_options() {
  if (!zero_) zero_ = alloc(gemm_zero_bytes(params()));
  const std::vector<std::uint8_t> zeros(zero_.bytes(), 0);
  dev_.write(zero_.addr(), zeros.data(), zeros.size());  // cheap; robust against stray writes
  GemmOptions o;
  o.zero_addr = zero_.addr();
  return o;
}

}  // namespace sasim::host
