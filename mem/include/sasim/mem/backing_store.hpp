// The one place where the functional contents of simulated memory live.
// Timing models (DRAM, cache, interconnect) never hold data; they forward the
// payload and the target at the end of the path reads or writes this store.
// Sparse: 4 KiB pages allocated on first write; unwritten bytes read as zero.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <unordered_map>

namespace sasim::mem {

class BackingStore {
 public:
  static constexpr std::uint64_t kPageBytes = 4096;

  // size: bytes of the address range [base, base + size).
  BackingStore(std::uint64_t base, std::uint64_t size) : base_(base), size_(size) {}

  std::uint64_t base() const { return base_; }
  std::uint64_t size() const { return size_; }
  bool contains(std::uint64_t addr, std::uint64_t len) const {
    return addr >= base_ && len <= size_ && addr - base_ <= size_ - len;
  }

  // Reads len bytes (unwritten bytes are zero). Throws std::out_of_range
  // outside [base, base + size).
  void read(std::uint64_t addr, void* dst, std::uint64_t len) const;

  // Writes len bytes; byte_enable (optional) has one entry per byte, a byte is
  // written where its entry is nonzero (TLM byte-enable semantics, length
  // byte_enable_len, repeated over the transfer).
  void write(std::uint64_t addr, const void* src, std::uint64_t len,
             const std::uint8_t* byte_enable = nullptr, std::uint64_t byte_enable_len = 0);

 private:
  using Page = std::array<std::uint8_t, kPageBytes>;
  void check(std::uint64_t addr, std::uint64_t len) const;
  std::uint64_t base_, size_;
  std::unordered_map<std::uint64_t, std::unique_ptr<Page>> pages_;
};

}  // namespace sasim::mem
