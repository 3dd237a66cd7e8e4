// Host driver of the sasim device: device memory, tensors, programs, GEMM.
//
//   model::FunctionalBackend dev(params);   // or the co-simulated RTL device
//   host::Driver drv(dev);
//   host::Tensor a = drv.alloc_tensor(M, K, 1), b = drv.alloc_tensor(K, N, 1),
//              c = drv.alloc_tensor(M, N, 4);
//   drv.copy_in(a, a_host);  drv.copy_in(b, b_host);       // int8_t spans
//   spec::RunResult r = drv.gemm(model::Dataflow::kWs, a, b, c);
//   drv.copy_out(c, c_host);                                // uint32_t span
//
// Device memory [dram_base, dram_base + dram_bytes) is managed by a first-fit
// allocator; every block is owned by a DeviceBuffer (or a Tensor holding one)
// and returns to the pool when that is destroyed or freed. Buffers keep the
// pool alive, so they may outlive the Driver (they then only free).
//
// Element formats in memory (little endian): int8 (1 byte), bf16 bits (2
// bytes, uint16_t on the host), int32 / binary32 bits (4 bytes, uint32_t).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <stdexcept>
#include <utility>
#include <vector>

#include "sasim/host/gemm_kernel.hpp"
#include "sasim/host/multicore_kernels.hpp"
#include "sasim/isa/field.hpp"
#include "sasim/model/functional_device.hpp"
#include "sasim/model/types.hpp"
#include "sasim/spec/backend.hpp"

namespace sasim::host {

// Raised when the device memory cannot satisfy an allocation; what() names
// the request, the free bytes and the largest free block.
class DeviceOutOfMemory : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

namespace detail {
class Heap;
}

// A block of device memory, freed when destroyed (move-only).
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  DeviceBuffer(DeviceBuffer&& o) noexcept;
  DeviceBuffer& operator=(DeviceBuffer&& o) noexcept;
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  ~DeviceBuffer() { reset(); }

  std::uint64_t addr() const { return addr_; }
  std::uint64_t bytes() const { return bytes_; }
  explicit operator bool() const { return heap_ != nullptr; }
  void reset();  // frees the block now (no-op when empty)

 private:
  friend class Driver;
  DeviceBuffer(std::shared_ptr<detail::Heap> heap, std::uint64_t addr, std::uint64_t bytes)
      : heap_(std::move(heap)), addr_(addr), bytes_(bytes) {}
  std::shared_ptr<detail::Heap> heap_;
  std::uint64_t addr_ = 0, bytes_ = 0;
};

// A row-major matrix in device memory: rows x cols elements of elem_bytes,
// rows `pitch` bytes apart. Made by Driver::alloc_tensor (owns its memory,
// move-only) or Tensor::view (describes memory owned elsewhere).
class Tensor {
 public:
  Tensor() = default;
  // Throws std::invalid_argument for rows or cols of 0, elem_bytes not 1, 2
  // or 4, or (rows > 1) a pitch below the row bytes.
  static Tensor view(std::uint64_t addr, std::uint64_t rows, std::uint64_t cols,
                     std::uint64_t elem_bytes, std::uint64_t pitch);
  Tensor view() const { return view(addr_, rows_, cols_, elem_bytes_, pitch_); }

  std::uint64_t addr() const { return addr_; }
  std::uint64_t rows() const { return rows_; }
  std::uint64_t cols() const { return cols_; }
  std::uint64_t elem_bytes() const { return elem_bytes_; }
  std::uint64_t pitch() const { return pitch_; }
  std::uint64_t row_bytes() const { return cols_ * elem_bytes_; }
  // Bytes from the first element to one past the last.
  std::uint64_t span_bytes() const { return (rows_ - 1) * pitch_ + row_bytes(); }
  bool owns_memory() const { return static_cast<bool>(mem_); }
  MatrixRef ref() const { return {addr_, pitch_}; }

 private:
  friend class Driver;
  std::uint64_t addr_ = 0, rows_ = 0, cols_ = 0, elem_bytes_ = 0, pitch_ = 0;
  DeviceBuffer mem_;
};

struct DriverOptions {
  std::uint64_t alignment = 64;  // default block alignment and tensor pitch multiple (power of 2)
  bool check_programs = true;    // submit() runs check_program and rejects racy programs
};

class Driver {
 public:
  // Throws std::invalid_argument for an alignment that is not a power of 2.
  explicit Driver(spec::DeviceBackend& dev, const DriverOptions& opts = {});

  const spec::DeviceSpec& params() const { return dev_.params(); }
  spec::DeviceBackend& backend() { return dev_; }

  // --- Device memory -------------------------------------------------------
  // bytes >= 1; alignment 0 means DriverOptions::alignment, otherwise a power
  // of 2. Throws std::invalid_argument for bad arguments, DeviceOutOfMemory.
  DeviceBuffer alloc(std::uint64_t bytes, std::uint64_t alignment = 0);
  // A tensor with pitch = row bytes rounded up to the alignment.
  Tensor alloc_tensor(std::uint64_t rows, std::uint64_t cols, std::uint64_t elem_bytes);
  void free(DeviceBuffer& b) { b.reset(); }
  // Frees the tensor's memory (it becomes empty); std::invalid_argument for a
  // view, which owns nothing.
  void free(Tensor& t);
  std::uint64_t bytes_free() const;
  std::uint64_t largest_free_block() const;

  // --- Copies (backdoor) ---------------------------------------------------
  // Row-major host data of rows x cols elements; the element size must equal
  // the tensor's. Bytes between rows are not touched. std::invalid_argument
  // on a size mismatch.
  void copy_in(const Tensor& t, std::span<const std::int8_t> v);
  void copy_in(const Tensor& t, std::span<const std::uint8_t> v);
  void copy_in(const Tensor& t, std::span<const std::uint16_t> v);
  void copy_in(const Tensor& t, std::span<const std::uint32_t> v);
  void copy_out(const Tensor& t, std::span<std::int8_t> v);
  void copy_out(const Tensor& t, std::span<std::uint8_t> v);
  void copy_out(const Tensor& t, std::span<std::uint16_t> v);
  void copy_out(const Tensor& t, std::span<std::uint32_t> v);

  // --- Programs ------------------------------------------------------------
  // Writes the program (16 bytes per instruction, little endian, words[0]
  // first) to a fresh block of device memory, runs it on the backend and
  // frees the block. With check_programs, a program check_program rejects
  // throws std::invalid_argument (with the report) before anything runs.
  spec::RunResult submit(const std::vector<isa::Instruction>& program);
  // One program per core (docs/multicore.md), each checked and written as by
  // submit(), then launched together (spec::DeviceBackend::launch).
  spec::LaunchResult launch(const std::vector<std::vector<isa::Instruction>>& programs);

  // C = A * B (gemm_kernel.hpp) on tensors: A (M x K) and B (K x N) of the
  // datapath's element size, C (M x N) of 4-byte elements. The zero region
  // the kernel may need is the driver's own. std::invalid_argument on shape or
  // element size mismatches (and as gemm_program).
  spec::RunResult gemm(model::Dataflow df, const Tensor& a, const Tensor& b, const Tensor& c);
  // The same C on `cores` cores (2..backend().cores()), multicore_kernels.hpp:
  // rows split (kM: the result equals gemm()'s) or K split with the partials
  // reduced on the device (kK: partial buffers are the driver's for the call;
  // the result equals split_k_gemm_golden, another summation order on bf16).
  spec::LaunchResult split_gemm(model::Dataflow df, const Tensor& a, const Tensor& b,
                                const Tensor& c, unsigned cores, GemmSplit split);

  // GemmOptions with the driver's zero region (allocated on first use and
  // rewritten with zeros), for kernels that build on gemm_program.
  GemmOptions gemm_options();

 private:
  void copy_in_bytes(const Tensor& t, const std::uint8_t* src, std::uint64_t elem_bytes,
                     std::uint64_t n);
  void copy_out_bytes(const Tensor& t, std::uint8_t* dst, std::uint64_t elem_bytes,
                      std::uint64_t n);

  spec::DeviceBackend& dev_;
  DriverOptions opts_;
  std::shared_ptr<detail::Heap> heap_;
  DeviceBuffer zero_;  // gemm_zero_bytes, allocated on first use
};

}  // namespace sasim::host
