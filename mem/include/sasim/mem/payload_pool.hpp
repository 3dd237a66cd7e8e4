// Pooled TLM generic payloads with their memory manager, and request set-up.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <tlm>
#include <vector>

namespace sasim::mem {

// A pool of payloads of type T (a tlm_generic_payload, constructible from the memory manager) that
// is their memory manager: when the last reference is released, the payload is reset (which
// drops its extensions) and returned to the pool. The pool owns every payload it made.
template <class T>
class PayloadPool : public tlm::tlm_mm_interface {
 public:
  PayloadPool() = default;
  PayloadPool(const PayloadPool&) = delete;
  PayloadPool& operator=(const PayloadPool&) = delete;

  // A free payload (made if there is none); the caller acquire()s it.
  T* allocate() {
    if (free_.empty()) {
      pool_.push_back(std::make_unique<T>(this));
      free_.push_back(pool_.back().get());
    }
    T* p = free_.back();
    free_.pop_back();
    return p;
  }

  // Payloads handed out and not yet returned (a leak check for tests).
  std::size_t in_use() const { return pool_.size() - free_.size(); }

  void free(tlm::tlm_generic_payload* gp) override {
    gp->reset();
    free_.push_back(static_cast<T*>(gp));
  }

 private:
  std::vector<std::unique_ptr<T>> pool_;
  std::vector<T*> free_;
};

// Sets up gp as a request of `len` bytes at `addr` on the buffer `data`: command, address, data
// pointer, data length, streaming width = len, byte enables (none by default), DMI hint off,
// response status TLM_INCOMPLETE_RESPONSE. Extensions are left as they are.
inline void set_request(tlm::tlm_generic_payload& gp, tlm::tlm_command cmd, std::uint64_t addr,
                        unsigned char* data, unsigned len, unsigned char* byte_enable = nullptr,
                        unsigned byte_enable_length = 0) {
  gp.set_command(cmd);
  gp.set_address(addr);
  gp.set_data_ptr(data);
  gp.set_data_length(len);
  gp.set_streaming_width(len);
  gp.set_byte_enable_ptr(byte_enable);
  gp.set_byte_enable_length(byte_enable_length);
  gp.set_dmi_allowed(false);
  gp.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
}

}  // namespace sasim::mem
