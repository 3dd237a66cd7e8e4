#include "sasim/mem/backing_store.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>

namespace sasim::mem {

namespace {
std::string hex(std::uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}
}  // namespace

void BackingStore::check(std::uint64_t addr, std::uint64_t len) const {
  if (!contains(addr, len)) {
    throw std::out_of_range("memory access [" + hex(addr) + ", +" + std::to_string(len) +
                            ") outside [" + hex(base_) + ", +" + std::to_string(size_) + ")");
  }
}

void BackingStore::read(std::uint64_t addr, void* dst, std::uint64_t len) const {
  check(addr, len);
  auto* out = static_cast<std::uint8_t*>(dst);
  while (len > 0) {
    const std::uint64_t off = (addr - base_) % kPageBytes;
    const std::uint64_t n = std::min(len, kPageBytes - off);
    const auto it = pages_.find((addr - base_) / kPageBytes);
    if (it == pages_.end()) {
      std::memset(out, 0, n);
    } else {
      std::memcpy(out, it->second->data() + off, n);
    }
    addr += n;
    out += n;
    len -= n;
  }
}

void BackingStore::write(std::uint64_t addr, const void* src, std::uint64_t len,
                         const std::uint8_t* byte_enable, std::uint64_t byte_enable_len) {
  check(addr, len);
  const auto* in = static_cast<const std::uint8_t*>(src);
  std::uint64_t done = 0;
  while (done < len) {
    const std::uint64_t a = addr + done - base_;
    const std::uint64_t off = a % kPageBytes;
    const std::uint64_t n = std::min(len - done, kPageBytes - off);
    auto& page = pages_[a / kPageBytes];
    if (!page) {
      page = std::make_unique<Page>();
      page->fill(0);
    }
    if (byte_enable == nullptr || byte_enable_len == 0) {
      std::memcpy(page->data() + off, in + done, n);
    } else {
      for (std::uint64_t i = 0; i < n; ++i)
        if (byte_enable[(done + i) % byte_enable_len]) (*page)[off + i] = in[done + i];
    }
    done += n;
  }
}

}  // namespace sasim::mem
