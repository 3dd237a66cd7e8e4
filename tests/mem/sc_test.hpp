// Test support for SystemC / TLM-2.0 models.
//
// Every test gets a fresh simulation context: SystemC 2.3 has no API to reset its kernel;
// replacing the current context is the established way to run several independent simulations
// in one process. The previous context is intentionally leaked (its destructor would tear down
// modules that the finished test still owns).
//
// sc_main: libsystemc references it, gtest_main provides main(). The one definition the mem
// tests link is sasim_sc_main (sim/src/sc_main.cpp, see tests/mem/CMakeLists.txt); no test file
// defines it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <systemc>
#include <tlm>
#include <vector>

namespace sasim::mem::test {

inline void fresh_systemc() {
  sc_core::sc_curr_simcontext = new sc_core::sc_simcontext();  // owned by SystemC globals
  sc_core::sc_default_global_context = sc_core::sc_curr_simcontext;
  sc_core::sc_set_time_resolution(1, sc_core::SC_PS);
}

// First base of a test bench: makes the fresh SystemC context before any module of the bench
// (a later base or member) exists.
struct FreshContext {
  FreshContext() { fresh_systemc(); }
};

inline sc_core::sc_time ns(double v) { return sc_core::sc_time(v, sc_core::SC_NS); }
inline sc_core::sc_time ps(double v) { return sc_core::sc_time(v, sc_core::SC_PS); }

// One line per entry, for failure messages (e.g. a ProtocolChecker's violations()).
inline std::string joined(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += x + "\n";
  return s;
}

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

}  // namespace sasim::mem::test
