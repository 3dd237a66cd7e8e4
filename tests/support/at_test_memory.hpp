// AtTestMemory: a small, correct approximately-timed (base protocol) TLM-2.0 memory target for
// [base, base + size) with its own byte array, for tests of components that sit in front of a
// memory (interconnect) and of the protocol checker.
//
// Timing. END_REQ takes effect accept_delay after BEGIN_REQ, BEGIN_RESP `latency` after END_REQ;
// one response at a time (the next BEGIN_RESP waits for END_RESP of the previous one). How
// BEGIN_REQ is answered is the Style:
//   kBackward         TLM_ACCEPTED, END_REQ later through nb_transport_bw (default);
//   kReturnEndReq     TLM_UPDATED + END_REQ with accept_delay added to the annotated delay;
//   kReturnBeginResp  TLM_UPDATED + BEGIN_RESP (delay + accept_delay + latency) on the return
//                     path while the response path is idle, else as kBackward;
//   kReturnCompleted  TLM_COMPLETED on the return path (early completion), same delay.
// b_transport performs the access and adds `latency`; transport_dbg performs it untimed.
//
// Data. Reads and writes honour byte enables; an access outside [base, base + size) answers
// TLM_ADDRESS_ERROR_RESPONSE (transport_dbg: returns 0). at(addr) is the byte at a global address.
// Every BEGIN_REQ is recorded in `arrivals` (the time it takes effect and its address).
// Protocol slips of the initiator side (a phase other than BEGIN_REQ / END_RESP, END_RESP for
// another transaction, an unexpected return value) fail the running test.
#pragma once

#include <gtest/gtest.h>
#include <tlm_utils/peq_with_cb_and_phase.h>
#include <tlm_utils/simple_target_socket.h>

#include <cstdint>
#include <cstring>
#include <deque>
#include <systemc>
#include <tlm>
#include <vector>

#include "sasim/mem/callbacks.hpp"

namespace sasim::mem::test {

class AtTestMemory : public sc_core::sc_module {
 public:
  using Payload = tlm::tlm_generic_payload;

  enum class Style { kBackward, kReturnEndReq, kReturnBeginResp, kReturnCompleted };

  struct Arrival {
    sc_core::sc_time time;
    std::uint64_t address;
  };

  tlm_utils::simple_target_socket<AtTestMemory> socket;
  Style style = Style::kBackward;
  sc_core::sc_time accept_delay = sc_core::sc_time(2, sc_core::SC_NS);  // BEGIN_REQ -> END_REQ
  sc_core::sc_time latency = sc_core::sc_time(10, sc_core::SC_NS);      // END_REQ -> BEGIN_RESP
  std::vector<Arrival> arrivals;

  SC_HAS_PROCESS(AtTestMemory);
  AtTestMemory(sc_core::sc_module_name name, std::uint64_t base, std::uint64_t size)
      : sc_core::sc_module(name),
        socket("socket"),
        base_(base),
        mem_(size),
        req_peq_("req_peq", this, &AtTestMemory::on_end_req_due),
        resp_peq_("resp_peq", this, &AtTestMemory::on_resp_ready) {
    mem::Callbacks::target(socket, this);
    SC_METHOD(try_respond);
    sensitive << retry_;
    dont_initialize();
  }

  std::uint8_t& at(std::uint64_t addr) { return mem_.at(addr - base_); }

 private:
  friend struct mem::Callbacks;
  bool in_range(const Payload& gp) const {
    const std::uint64_t a = gp.get_address();
    return a >= base_ && a - base_ + gp.get_data_length() <= mem_.size();
  }

  void access(Payload& gp) {
    if (!in_range(gp)) {
      gp.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
      return;
    }
    const std::uint64_t off = gp.get_address() - base_;
    const unsigned char* be = gp.get_byte_enable_ptr();
    const unsigned be_len = gp.get_byte_enable_length();
    for (unsigned i = 0; i < gp.get_data_length(); ++i) {
      if (be != nullptr && be[i % be_len] == 0) continue;
      if (gp.is_read()) {
        gp.get_data_ptr()[i] = mem_[off + i];
      } else if (gp.is_write()) {
        mem_[off + i] = gp.get_data_ptr()[i];
      }
    }
    gp.set_response_status(tlm::TLM_OK_RESPONSE);
  }

  bool response_path_idle() const {
    return in_progress_ == nullptr && queued_ == 0 && busy_until_ <= sc_core::sc_time_stamp();
  }

  tlm::tlm_sync_enum nb_transport_fw(Payload& gp, tlm::tlm_phase& phase, sc_core::sc_time& delay) {
    if (phase == tlm::END_RESP) {
      EXPECT_EQ(&gp, in_progress_);
      in_progress_ = nullptr;
      busy_until_ = sc_core::sc_time_stamp() + delay;
      gp.release();
      retry_.notify(delay);
      return tlm::TLM_COMPLETED;
    }
    EXPECT_EQ(phase, tlm::BEGIN_REQ);
    arrivals.push_back({sc_core::sc_time_stamp() + delay, gp.get_address()});
    switch (style) {
      case Style::kBackward:
        ++queued_;
        gp.acquire();
        req_peq_.notify(gp, tlm::END_REQ, delay + accept_delay);
        return tlm::TLM_ACCEPTED;
      case Style::kReturnEndReq:
        ++queued_;
        gp.acquire();
        delay += accept_delay;
        resp_peq_.notify(gp, tlm::BEGIN_RESP, delay + latency);
        phase = tlm::END_REQ;
        return tlm::TLM_UPDATED;
      case Style::kReturnBeginResp:
        if (!response_path_idle()) {
          ++queued_;
          gp.acquire();
          req_peq_.notify(gp, tlm::END_REQ, delay + accept_delay);
          return tlm::TLM_ACCEPTED;
        }
        gp.acquire();
        access(gp);
        in_progress_ = &gp;
        delay += accept_delay + latency;
        phase = tlm::BEGIN_RESP;
        return tlm::TLM_UPDATED;
      case Style::kReturnCompleted:
        access(gp);
        delay += accept_delay + latency;
        return tlm::TLM_COMPLETED;
    }
    return tlm::TLM_ACCEPTED;
  }

  void on_end_req_due(Payload& gp, const tlm::tlm_phase&) {
    tlm::tlm_phase phase = tlm::END_REQ;
    sc_core::sc_time delay = sc_core::SC_ZERO_TIME;
    EXPECT_EQ(socket->nb_transport_bw(gp, phase, delay), tlm::TLM_ACCEPTED);
    resp_peq_.notify(gp, tlm::BEGIN_RESP, latency);
  }

  void on_resp_ready(Payload& gp, const tlm::tlm_phase&) {
    ready_.push_back(&gp);
    try_respond();
  }

  void try_respond() {
    while (in_progress_ == nullptr && !ready_.empty()) {
      if (busy_until_ > sc_core::sc_time_stamp()) {
        retry_.notify(busy_until_ - sc_core::sc_time_stamp());
        return;
      }
      Payload& gp = *ready_.front();
      ready_.pop_front();
      --queued_;
      access(gp);
      tlm::tlm_phase phase = tlm::BEGIN_RESP;
      sc_core::sc_time delay = sc_core::SC_ZERO_TIME;
      in_progress_ = &gp;  // busy during the call: a BEGIN_REQ arriving in it is not answered early
      switch (socket->nb_transport_bw(gp, phase, delay)) {
        case tlm::TLM_ACCEPTED:
          break;
        case tlm::TLM_UPDATED:
          EXPECT_EQ(phase, tlm::END_RESP);
          [[fallthrough]];
        case tlm::TLM_COMPLETED:
          in_progress_ = nullptr;
          busy_until_ = sc_core::sc_time_stamp() + delay;
          gp.release();
          break;
      }
    }
  }

  void b_transport(Payload& gp, sc_core::sc_time& delay) {
    access(gp);
    delay += latency;
  }

  unsigned transport_dbg(Payload& gp) {
    if (!in_range(gp)) return 0;
    const std::uint64_t off = gp.get_address() - base_;
    const unsigned n = gp.get_data_length();
    if (gp.is_read()) std::memcpy(gp.get_data_ptr(), &mem_[off], n);
    if (gp.is_write()) std::memcpy(&mem_[off], gp.get_data_ptr(), n);
    return n;
  }

  std::uint64_t base_;
  std::vector<std::uint8_t> mem_;
  tlm_utils::peq_with_cb_and_phase<AtTestMemory> req_peq_, resp_peq_;
  std::deque<Payload*> ready_;
  unsigned queued_ = 0;  // accepted, BEGIN_RESP not sent yet
  Payload* in_progress_ = nullptr;
  sc_core::sc_time busy_until_;
  sc_core::sc_event retry_;
};

}  // namespace sasim::mem::test
