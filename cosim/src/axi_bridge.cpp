// The RTL <-> TLM bridge (axi_bridge.hpp). Over 600 lines on purpose: the
// per-cycle AXI pin protocol, the split of bursts at L2 lines, per-id
// ordering and the exact temporal-decoupling bound are one state machine whose
// invariants (when the core may run ahead of SystemC time) must be read
// together; splitting it would separate the bound from the code it protects.
#include "sasim/cosim/axi_bridge.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <sstream>

namespace sasim::cosim {

namespace {

using sc_core::sc_time;

std::string hex(std::uint64_t v) {
  std::ostringstream s;
  s << "0x" << std::hex << v;
  return s.str();
}

[[noreturn]] void out_of_range(const char* field, const std::string& value, const char* range) {
  throw std::invalid_argument(std::string("AxiBridgeConfig.") + field + " = " + value +
                              " outside " + range);
}

unsigned axi_resp(tlm::tlm_response_status s) {
  if (s == tlm::TLM_OK_RESPONSE) return kAxiRespOkay;
  if (s == tlm::TLM_ADDRESS_ERROR_RESPONSE) return kAxiRespDecErr;
  return kAxiRespSlvErr;
}

}  // namespace

// ---------------------------------------------------------------------------
// Configuration and the memory-path helpers
// ---------------------------------------------------------------------------

void AxiBridgeConfig::validate() const {
  if (!(std::isfinite(clock_mhz) && clock_mhz > 0 && clock_mhz <= 100000))
    out_of_range("clock_mhz", std::to_string(clock_mhz), "(0, 100000]");
  if (quantum_cycles < 1 || quantum_cycles > 1'000'000'000)
    out_of_range("quantum_cycles", std::to_string(quantum_cycles), "[1, 1000000000]");
  if (watchdog_cycles < 1 || watchdog_cycles > 1'000'000'000'000)
    out_of_range("watchdog_cycles", std::to_string(watchdog_cycles), "[1, 1000000000000]");
  if (max_outstanding_reads < 1 || max_outstanding_reads > 256)
    out_of_range("max_outstanding_reads", std::to_string(max_outstanding_reads), "[1, 256]");
  if (max_outstanding_writes < 1 || max_outstanding_writes > 256)
    out_of_range("max_outstanding_writes", std::to_string(max_outstanding_writes), "[1, 256]");
  if (split_bytes != 0 &&
      (!std::has_single_bit(split_bytes) || split_bytes < 4 || split_bytes > (1u << 20)))
    out_of_range("split_bytes", std::to_string(split_bytes),
                 "{0} or powers of two in [4, 1048576]");
}

sc_time memory_path_min_latency(const mem::MemorySystemConfig& cfg) {
  // The same rounding as the components: Interconnect and Cache periods.
  const sc_time noc = sc_time(1.0 / cfg.interconnect.clock_mhz, sc_core::SC_US) *
                      static_cast<double>(cfg.interconnect.latency_cycles);
  if (!cfg.l2.bypass) {
    return noc + sc_time(1e6 / cfg.l2.clock_mhz, sc_core::SC_PS) *
                     static_cast<double>(cfg.l2.hit_latency_cycles);
  }
  const mem::MainMemoryConfig& m = cfg.memory;
  if (m.model == "fixed") {
    return noc +
           sc_time(static_cast<double>(std::llround(m.fixed.latency_ns * 1000.0)), sc_core::SC_PS);
  }
  if (m.model == "dram") {
    const mem::DramConfig& d = m.dram;
    const unsigned n = d.frontend_latency_cycles + std::min(d.tCL, d.tCWL) + d.burst_cycles();
    const double ps = std::floor(n * d.tck_ps()) - 1;  // cycle times are rounded to 1 ps
    return noc + sc_time(std::max(0.0, ps), sc_core::SC_PS);
  }
  return noc;  // ideal
}

unsigned memory_path_split_bytes(const mem::MemorySystemConfig& cfg) {
  return cfg.l2.bypass ? 0 : cfg.l2.line_bytes;
}

// ---------------------------------------------------------------------------
// Construction
// ---------------------------------------------------------------------------

namespace {
mem::Counter& counter(mem::StatsRegistry& stats, const sc_core::sc_module& m, const char* n) {
  return stats.counter(std::string(m.name()) + "." + n);
}
}  // namespace

AxiTlmBridge::AxiTlmBridge(sc_core::sc_module_name name, const AxiBridgeConfig& cfg,
                           mem::StatsRegistry& stats)
    : sc_core::sc_module(name),
      socket("socket"),
      cfg_((cfg.validate(), cfg)),
      clock_mhz_(cfg.clock_mhz),
      n_reads_(counter(stats, *this, "reads")),
      n_writes_(counter(stats, *this, "writes")),
      read_bytes_(counter(stats, *this, "read_bytes")),
      write_bytes_(counter(stats, *this, "write_bytes")),
      transactions_(counter(stats, *this, "transactions")),
      error_responses_(counter(stats, *this, "error_responses")),
      read_latency_cycles_(counter(stats, *this, "read_latency_cycles")),
      write_latency_cycles_(counter(stats, *this, "write_latency_cycles")),
      ar_stall_cycles_(counter(stats, *this, "ar_stall_cycles")),
      aw_stall_cycles_(counter(stats, *this, "aw_stall_cycles")),
      w_stall_cycles_(counter(stats, *this, "w_stall_cycles")),
      r_stall_cycles_(counter(stats, *this, "r_stall_cycles")),
      b_stall_cycles_(counter(stats, *this, "b_stall_cycles")),
      request_wait_cycles_(counter(stats, *this, "request_wait_cycles")),
      syncs_(counter(stats, *this, "syncs")),
      sync_points_(counter(stats, *this, "sync_points")),
      cycles_(counter(stats, *this, "cycles")),
      syncs_passed_(counter(stats, *this, "barriers")),
      sync_wait_cycles_(counter(stats, *this, "barrier_wait_cycles")),
      after_barrier_cycles_(counter(stats, *this, "after_barrier_cycles")) {
  socket.register_nb_transport_bw(this, &AxiTlmBridge::nb_transport_bw);
  read_slots_.resize(cfg_.max_outstanding_reads);
  write_slots_.resize(cfg_.max_outstanding_writes);
  for (Burst& b : read_slots_) free_reads_.push_back(&b);
  for (Burst& b : write_slots_) {
    b.write = true;
    free_writes_.push_back(&b);
  }
  std::reverse(free_reads_.begin(), free_reads_.end());  // slot 0 first
  std::reverse(free_writes_.begin(), free_writes_.end());
  r_order_.reserve(read_slots_.size());
  b_order_.reserve(write_slots_.size());
  wfill_.reset(write_slots_.size());
  send_q_.reset(read_slots_.size() + write_slots_.size());
}

AxiTlmBridge::~AxiTlmBridge() = default;

sc_time AxiTlmBridge::observed_min_latency() const {
  return min_latency_seen_ == kNever ? sc_core::SC_ZERO_TIME
                                     : sc_time::from_value(min_latency_seen_);
}

// ---------------------------------------------------------------------------
// The run loop
// ---------------------------------------------------------------------------

std::uint64_t AxiTlmBridge::run(ClockedCore& core, SyncBarrier* barrier, unsigned core_index) {
  const std::string me = name();
  if (broken_) throw BridgeError(me + ": run() after an earlier error");
  if (running_) throw BridgeError(me + ": run() is already running");
  bus_ = core.bus_bytes();
  if (!std::has_single_bit(bus_) || bus_ < 4 || bus_ > kAxiMaxBytes) {
    throw BridgeError(me + ": core bus_bytes = " + std::to_string(bus_) +
                      " is not a power of two in [4, " + std::to_string(kAxiMaxBytes) + "]");
  }
  if (cfg_.split_bytes != 0 && cfg_.split_bytes < bus_) {
    throw BridgeError(me + ": split_bytes = " + std::to_string(cfg_.split_bytes) +
                      " is below the core's bus_bytes = " + std::to_string(bus_));
  }
  bus_mask_ = bus_ == 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << bus_) - 1;
  split_shift_ =
      cfg_.split_bytes == 0 ? 0 : static_cast<unsigned>(std::countr_zero(cfg_.split_bytes));
  period_ = sc_time(1e6 / clock_mhz_, sc_core::SC_PS).value();
  if (period_ < 2) {
    throw BridgeError(me + ": clock_mhz = " + std::to_string(clock_mhz_) +
                      " gives a period below two time-resolution units");
  }
  min_latency_ticks_ = cfg_.min_latency.value();
  t0_ = now_ticks();
  cycle_ = 0;
  limit_ = cfg_.lockstep ? 1 : cfg_.quantum_cycles;
  last_sync_cycle_ = 0;
  next_sample_ = sampler_ ? sample_every_ : kNever;
  end_req_at_ = t0_;
  prev_sent_at_ = t0_;
  quiet_cycles_ = 0;
  in_ = AxiIn{};
  out_ = AxiOut{};
  r_shown_ = ~0u;
  std::uint64_t release = kNever;       // the cycle in which sync_go is driven
  std::uint64_t last_release = kNever;  // the last barrier's release cycle in this run
  const std::size_t max_bytes = std::size_t{256} * bus_;
  const std::size_t max_pieces = cfg_.split_bytes == 0 ? 1 : max_bytes / cfg_.split_bytes + 1;
  for (auto* slots : {&read_slots_, &write_slots_}) {
    for (Burst& b : *slots) {
      b.data.reserve(max_bytes);
      b.byte_enable.reserve(max_bytes);
      b.piece.reserve(max_pieces);
    }
  }
  running_ = true;
  try {
    for (;;) {
      if (free_reads_.size() == read_slots_.size() && free_writes_.size() == write_slots_.size() &&
          core.done())
        break;
      if (cycle_ == next_sample_) {
        synchronize();
        sampler_->sample(cycle_);
        next_sample_ += sample_every_;
      }
      if (cycle_ >= limit_) synchronize();
      drive();
      in_.sync_go = cycle_ == release;
      core.cycle(in_, out_);
      bool progress = core.progressed();
      // A core waiting at a SYNC whose release is known is not stuck (it
      // waits for the release cycle); one waiting for other cores is not
      // cycled at all (below).
      if (out_.sync && release != kNever && cycle_ < release) progress = true;
      if (out_.ar_valid) {
        if (in_.ar_ready) {
          accept_ar(out_);
          progress = true;
        } else {
          ++ar_stall_cycles_;
        }
      }
      if (out_.aw_valid) {
        if (in_.aw_ready) {
          accept_aw(out_);
          progress = true;
        } else {
          ++aw_stall_cycles_;
        }
      }
      if (out_.w_valid) {
        if (in_.w_ready) {
          accept_w(out_);
          progress = true;
        } else {
          ++w_stall_cycles_;
        }
      }
      if (in_.r_valid) {
        if (out_.r_ready) {
          read_beat_done();
          progress = true;
        } else {
          ++r_stall_cycles_;
        }
      }
      if (in_.b_valid) {
        if (out_.b_ready) {
          write_resp_done();
          progress = true;
        } else {
          ++b_stall_cycles_;
        }
      }
      if (progress) {
        quiet_cycles_ = 0;
      } else if (++quiet_cycles_ >= cfg_.watchdog_cycles) {
        throw BridgeError(me + ": watchdog: no progress for " + std::to_string(quiet_cycles_) +
                          " cycles (cycle " + std::to_string(cycle_) + ")\ncore state:\n" +
                          core.dump_state() + "\n" + dump_state());
      }
      ++cycle_;
      if (in_.sync_go) {
        last_release = release;
        release = kNever;
        ++syncs_passed_;
      } else if (out_.sync && release == kNever) {
        // The core arrived at its barrier in cycle_ - 1.
        if (barrier == nullptr) {
          release = cycle_;
        } else {
          synchronize();  // SystemC time at the edge that ends the arrival cycle
          release = barrier->arrive(core_index, cycle_ - 1);
          if (release == SyncBarrier::kNever) {
            release = barrier->wait_release(core_index);
            sync_wait_cycles_ += release - cycle_;
          }
        }
      }
    }
    if (last_release != kNever) after_barrier_cycles_ += cycle_ - last_release;
    const std::uint64_t end = edge(cycle_);
    const std::uint64_t now = now_ticks();
    if (now < end) wait_counted(sc_time::from_value(end - now));
    check_errors();
  } catch (const BarrierAborted&) {
    // The core waits at its SYNC, drained: nothing of it is outstanding, the
    // bridge stays usable (the caller resets the core).
    running_ = false;
    total_cycles_ += cycle_;
    cycles_ += cycle_;
    throw;
  } catch (...) {
    broken_ = true;
    running_ = false;
    total_cycles_ += cycle_;
    cycles_ += cycle_;
    throw;
  }
  running_ = false;
  total_cycles_ += cycle_;
  cycles_ += cycle_;
  return cycle_;
}

void AxiTlmBridge::set_sampler(CycleSampler* sampler, std::uint64_t every) {
  if (running_) throw std::logic_error(std::string(name()) + ": set_sampler() during run()");
  if (sampler && every == 0)
    throw std::invalid_argument(std::string(name()) + ": sampling every 0 cycles");
  sampler_ = sampler;
  sample_every_ = sampler ? every : 0;
}

void AxiTlmBridge::set_clock_mhz(double mhz) {
  if (running_) throw std::logic_error(std::string(name()) + ": set_clock_mhz() during run()");
  AxiBridgeConfig c = cfg_;
  c.clock_mhz = mhz;
  c.validate();
  clock_mhz_ = mhz;
}

unsigned AxiTlmBridge::piece_of_beat(const Burst& b, unsigned beat) const {
  if (split_shift_ == 0) return 0;
  return static_cast<unsigned>(((b.addr + std::uint64_t{beat} * bus_) >> split_shift_) -
                               (b.addr >> split_shift_));
}

void AxiTlmBridge::drive() {
  const bool free_write = !free_writes_.empty();
  in_.ar_ready = !free_reads_.empty();
  in_.aw_ready = wfill_aw_ < wfill_.size() || free_write;
  in_.w_ready = wfill_w_ < wfill_.size() || free_write;

  if (r_active_ == nullptr && reads_waiting_ != 0) select_read();
  in_.r_valid = false;
  if (r_active_ != nullptr) {
    const Burst& b = *r_active_;
    const unsigned beat = b.beat_out;
    const Piece& p = b.piece[piece_of_beat(b, beat)];
    if (p.visible <= cycle_) {
      in_.r_valid = true;
      if (r_shown_ != beat) {
        std::memcpy(in_.r_data.data(), b.data.data() + std::size_t{beat} * bus_, bus_);
        in_.r_last = beat + 1 == b.beats;
        in_.r_resp = axi_resp(p.status);
        in_.r_id = b.id;
        r_shown_ = beat;
      }
    }
  }
  if (b_active_ == nullptr && writes_waiting_ != 0) select_write();
  in_.b_valid = b_active_ != nullptr;
}

bool AxiTlmBridge::select_read() {
  unsigned seen = 0;  // ids with an older outstanding read
  for (Burst* b : r_order_) {
    const unsigned bit = 1u << b->id;
    if ((seen & bit) != 0) continue;
    seen |= bit;
    if (b->piece[0].visible <= cycle_) {
      r_active_ = b;
      r_shown_ = ~0u;
      --reads_waiting_;
      read_latency_cycles_ += cycle_ - b->accept_cycle;
      return true;
    }
  }
  return false;
}

bool AxiTlmBridge::select_write() {
  unsigned seen = 0;
  for (Burst* b : b_order_) {
    const unsigned bit = 1u << b->id;
    if ((seen & bit) != 0) continue;
    seen |= bit;
    if (b->pieces != 0 && b->responded == b->pieces && b->visible <= cycle_) {
      b_active_ = b;
      --writes_waiting_;
      write_latency_cycles_ += cycle_ - b->ready_cycle;
      bool decerr = false, slverr = false;
      for (unsigned i = 0; i < b->pieces; ++i) {
        decerr = decerr || b->piece[i].status == tlm::TLM_ADDRESS_ERROR_RESPONSE;
        slverr = slverr || b->piece[i].status != tlm::TLM_OK_RESPONSE;
      }
      in_.b_id = b->id;
      in_.b_resp = decerr ? kAxiRespDecErr : slverr ? kAxiRespSlvErr : kAxiRespOkay;
      return true;
    }
  }
  return false;
}

void AxiTlmBridge::read_beat_done() {
  Burst& b = *r_active_;
  if (++b.beat_out < b.beats) return;
  r_order_.erase(std::find(r_order_.begin(), r_order_.end(), &b));
  r_active_ = nullptr;
  free_burst(b);
}

void AxiTlmBridge::write_resp_done() {
  Burst& b = *b_active_;
  b_order_.erase(std::find(b_order_.begin(), b_order_.end(), &b));
  b_active_ = nullptr;
  free_burst(b);
}

void AxiTlmBridge::free_burst(Burst& b) { (b.write ? free_writes_ : free_reads_).push_back(&b); }

void AxiTlmBridge::violation(const std::string& what) const {
  throw BridgeError(std::string(name()) + ": AXI protocol violation by the core in cycle " +
                    std::to_string(cycle_) + ": " + what + "\n" + dump_state());
}

void AxiTlmBridge::check_burst(const char* ch, unsigned id, std::uint64_t addr,
                               unsigned len) const {
  if (len > 255) violation(std::string(ch) + "LEN = " + std::to_string(len) + " > 255");
  if (id >= (1u << kAxiIdBits)) {
    violation(std::string(ch) + "ID = " + std::to_string(id) + " does not fit " +
              std::to_string(kAxiIdBits) + " bits");
  }
  if (addr % bus_ != 0) {
    violation(std::string(ch) + "ADDR = " + hex(addr) + " is not aligned to the " +
              std::to_string(bus_) + "-byte bus");
  }
  if ((addr & 0xFFF) + std::uint64_t{len + 1} * bus_ > 0x1000) {
    violation(std::string(ch) + " burst at " + hex(addr) + " of " + std::to_string(len + 1) +
              " beats crosses a 4 KiB boundary");
  }
}

void AxiTlmBridge::init_pieces(Burst& b) const {
  const std::uint64_t bytes = b.data.size();
  b.pieces = split_shift_ == 0 ? 1
                               : static_cast<unsigned>(((b.addr + bytes - 1) >> split_shift_) -
                                                       (b.addr >> split_shift_) + 1);
  b.piece.assign(b.pieces, Piece{});
  b.sent = b.responded = 0;
}

void AxiTlmBridge::accept_ar(const AxiOut& o) {
  check_burst("AR", o.ar_id, o.ar_addr, o.ar_len);
  Burst& b = *free_reads_.back();
  free_reads_.pop_back();
  b.id = o.ar_id;
  b.addr = o.ar_addr;
  b.beats = o.ar_len + 1;
  b.accept_cycle = cycle_;
  b.ready_cycle = cycle_;
  b.beat_out = 0;
  b.data.resize(std::size_t{b.beats} * bus_);
  init_pieces(b);
  r_order_.push_back(&b);
  ++n_reads_;
  read_bytes_ += b.data.size();
  burst_ready(b);
}

AxiTlmBridge::Burst* AxiTlmBridge::open_write() {
  Burst* b = free_writes_.back();
  free_writes_.pop_back();
  b->aw_known = b->last_seen = b->partial = false;
  b->beats = b->beats_in = 0;
  b->pieces = b->sent = b->responded = 0;  // pieces != 0 once complete (init_pieces)
  b->accept_cycle = cycle_;
  b->visible = 0;
  b->data.clear();
  b->byte_enable.clear();
  wfill_.push_back(b);
  return b;
}

// Bursts with their AW and all W beats leave wfill_ in order and become requests.
void AxiTlmBridge::complete_writes() {
  while (!wfill_.empty() && wfill_aw_ > 0 && wfill_w_ > 0) {
    Burst& w = *wfill_.front();
    wfill_.pop_front();
    --wfill_aw_;
    --wfill_w_;
    w.ready_cycle = cycle_;
    init_pieces(w);
    ++n_writes_;
    write_bytes_ += w.data.size();
    burst_ready(w);
  }
}

void AxiTlmBridge::accept_aw(const AxiOut& o) {
  check_burst("AW", o.aw_id, o.aw_addr, o.aw_len);
  Burst* b;
  if (wfill_aw_ < wfill_.size()) {
    b = wfill_[wfill_aw_];  // W beats came first
  } else {
    b = open_write();
  }
  ++wfill_aw_;
  b->aw_known = true;
  b->id = o.aw_id;
  b->addr = o.aw_addr;
  b->beats = o.aw_len + 1;
  if (b->beats_in > b->beats || (b->last_seen && b->beats_in != b->beats) ||
      (!b->last_seen && b->beats_in == b->beats)) {
    violation("AW at " + hex(b->addr) + " with AWLEN = " + std::to_string(o.aw_len) + " follows " +
              std::to_string(b->beats_in) + " W beat(s) " +
              (b->last_seen ? "ending with" : "without") + " w_last");
  }
  b_order_.push_back(b);
  complete_writes();
}

void AxiTlmBridge::accept_w(const AxiOut& o) {
  Burst* b;
  if (wfill_w_ < wfill_.size()) {
    b = wfill_[wfill_w_];
  } else {
    b = open_write();
  }
  const unsigned beat = b->beats_in;
  if (b->aw_known) {
    if (o.w_last != (beat + 1 == b->beats)) {
      violation(std::string("w_last ") + (o.w_last ? "on" : "missing on") + " beat " +
                std::to_string(beat) + " of the write burst at " + hex(b->addr) +
                " (AWLEN = " + std::to_string(b->beats - 1) + ")");
    }
  } else if (beat == 255 && !o.w_last) {
    violation("256 W beats without w_last (no AW yet)");
  }
  const std::size_t off = std::size_t{beat} * bus_;
  b->data.resize(off + bus_);
  b->byte_enable.resize(off + bus_);
  std::memcpy(b->data.data() + off, o.w_data.data(), bus_);
  const std::uint64_t strb = o.w_strb & bus_mask_;
  std::uint8_t* be = b->byte_enable.data() + off;
  if (strb == bus_mask_) {
    std::memset(be, 0xFF, bus_);
  } else {
    b->partial = true;
    for (unsigned i = 0; i < bus_; ++i) be[i] = ((strb >> i) & 1) != 0 ? 0xFF : 0x00;
  }
  b->beats_in = beat + 1;
  if (!o.w_last) return;
  b->last_seen = true;
  ++wfill_w_;
  complete_writes();
}

void AxiTlmBridge::burst_ready(Burst& b) {
  send_q_.push_back(&b);
  limit_ = std::min(limit_, cycle_ + 1);  // sent at the edge that ends this cycle
}

// ---------------------------------------------------------------------------
// Synchronisation and the TLM side
// ---------------------------------------------------------------------------

void AxiTlmBridge::wait_counted(const sc_time& t) {
  ++syncs_;
  wait(t);
}

void AxiTlmBridge::wait_counted(const sc_time& t, const sc_core::sc_event& e) {
  ++syncs_;
  wait(t, e);
}

void AxiTlmBridge::check_errors() const {
  if (!error_.empty()) throw BridgeError(error_ + "\n" + dump_state());
}

std::uint64_t AxiTlmBridge::send_edge() const {
  const Burst& b = *send_q_[0];
  const std::uint64_t ready = b.sent == 0 ? edge(b.ready_cycle + 1) : prev_sent_at_;
  return std::max(ready, edge(cycle_at_or_after(end_req_at_)));
}

std::uint64_t AxiTlmBridge::earliest_response() const {
  if (in_flight_ == 0) return kNever;
  // Nothing happens in SystemC before its next pending activity (this thread sends only while
  // synchronised), so no response can take effect before it either.
  const sc_time now = sc_core::sc_time_stamp();
  const sc_time ahead = sc_core::sc_time_to_pending_activity();
  if (ahead >= sc_core::sc_max_time() - now) return kNever;  // nothing pending at all
  const std::uint64_t next = (now + ahead).value();
  // A request held back by END_REQ goes out at the first edge after an END_REQ that is still to
  // come, and may be answered at once (an address error): only the kernel's bound holds for it.
  if (!send_q_.empty() && req_owner_ != nullptr) return next;
  // The caller's bound: pieces of a burst are sent in order, so a burst's first unanswered piece
  // is its earliest.
  std::uint64_t first = kNever;
  for (const auto* order : {&r_order_, &b_order_}) {
    for (const Burst* b : *order) {
      for (unsigned i = 0; i < b->sent; ++i) {
        if (b->piece[i].visible == kNever) {
          first = std::min(first, b->piece[i].issue);
          break;
        }
      }
    }
  }
  return std::max(first == kNever ? 0 : first + min_latency_ticks_, next);
}

void AxiTlmBridge::synchronize() {
  ++sync_points_;
  const std::uint64_t at = edge(cycle_);
  // Lower bound of the responses to come, taken when arriving at the edge before sending there
  // (afterwards the kernel has the deltas of the new request pending and shows nothing).
  std::uint64_t before_sends = kNever;
  bool sent_at_edge = false;
  std::uint64_t bound = kNever;  // of every response still to come, once synchronised
  for (;;) {
    check_errors();
    const std::uint64_t now = now_ticks();
    if (!send_q_.empty() && req_owner_ == nullptr) {
      const std::uint64_t e = send_edge();
      if (e == now) {
        if (now == at && !sent_at_edge) {
          before_sends = earliest_response();
          sent_at_edge = true;
        }
        send_next();
        continue;
      }
      if (e < now) {
        throw BridgeError(std::string(name()) + ": internal error: request due at " +
                          sc_time::from_value(e).to_string() + " not sent by " +
                          sc_time::from_value(now).to_string());
      }
      if (e <= at) {
        wait_counted(sc_time::from_value(e - now));
        continue;
      }
    }
    // One resolution unit past the edge every delta of the edge has happened. At the edge itself
    // (after sending there) the cycle may run if nothing can still take effect by the edge: no
    // request waiting for an END_REQ that may come in a later delta, no response possible.
    if (now > at) {
      bound = earliest_response();
      break;
    }
    if (now == at && (send_q_.empty() || req_owner_ == nullptr)) {
      bound = sent_at_edge ? std::min(before_sends, at + min_latency_ticks_) : earliest_response();
      if (bound > at) break;
    }
    const sc_time d = sc_time::from_value(at + 1 - now);
    if (!send_q_.empty() && req_owner_ != nullptr) {
      wait_counted(d, end_req_event_);  // a held-back request goes at the edge after END_REQ
    } else {
      wait_counted(d);
    }
  }
  last_sync_cycle_ = cycle_;

  std::uint64_t lim = cfg_.lockstep ? cycle_ + 1 : cycle_ + cfg_.quantum_cycles;
  if (!cfg_.lockstep) {
    if (bound != kNever) lim = std::min(lim, cycle_at_or_after(bound));
    if (!send_q_.empty() && req_owner_ == nullptr) {
      lim = std::min(lim, (send_edge() - t0_) / period_);
    }
  }
  limit_ = std::max(lim, cycle_ + 1);
}

void AxiTlmBridge::send_next() {
  Burst& b = *send_q_[0];
  const unsigned i = b.sent++;
  if (b.sent == b.pieces) send_q_.pop_front();
  const std::uint64_t now = now_ticks();
  const std::uint64_t ready = i == 0 ? edge(b.ready_cycle + 1) : prev_sent_at_;
  request_wait_cycles_ += (now - ready) / period_;
  prev_sent_at_ = now;

  const std::uint64_t end = b.addr + std::uint64_t{b.beats} * bus_;
  std::uint64_t lo = b.addr, hi = end;
  if (split_shift_ != 0) {
    const std::uint64_t first = b.addr >> split_shift_;
    if (i > 0) lo = (first + i) << split_shift_;
    hi = std::min(end, (first + i + 1) << split_shift_);
  }
  Txn* t = pool_.allocate();
  t->burst = &b;
  t->piece = i;
  const std::size_t off = lo - b.addr;
  const auto len = static_cast<unsigned>(hi - lo);
  mem::set_request(*t, b.write ? tlm::TLM_WRITE_COMMAND : tlm::TLM_READ_COMMAND, lo,
                   b.data.data() + off, len, b.partial ? b.byte_enable.data() + off : nullptr,
                   b.partial ? len : 0);
  t->acquire();  // released when the response has been taken
  b.piece[i].issue = now;
  req_owner_ = t;
  ++in_flight_;
  ++transactions_;

  tlm::tlm_phase phase = tlm::BEGIN_REQ;
  sc_time delay = sc_core::SC_ZERO_TIME;
  switch (socket->nb_transport_fw(*t, phase, delay)) {
    case tlm::TLM_ACCEPTED:
      break;
    case tlm::TLM_UPDATED:
      if (phase == tlm::END_REQ) {
        end_request(*t, now + delay.value());
      } else if (phase == tlm::BEGIN_RESP) {
        begin_response(*t, now + delay.value());
        tlm::tlm_phase end = tlm::END_RESP;
        socket->nb_transport_fw(*t, end, delay);
        t->release();
      } else {
        error_ = std::string(name()) + ": nb_transport_fw returned TLM_UPDATED with phase " +
                 phase.get_name();
      }
      break;
    case tlm::TLM_COMPLETED:
      begin_response(*t, now + delay.value());
      t->release();
      break;
  }
}

void AxiTlmBridge::end_request(Txn& t, std::uint64_t at) {
  if (&t != req_owner_) {
    error_ = std::string(name()) + ": END_REQ for a transaction at " + hex(t.get_address()) +
             " that is not in its request phase";
    return;
  }
  req_owner_ = nullptr;
  end_req_at_ = at;
  end_req_event_.notify(sc_time::from_value(at - now_ticks()));
}

void AxiTlmBridge::begin_response(Txn& t, std::uint64_t at) {
  if (&t == req_owner_) end_request(t, at);  // BEGIN_RESP implies END_REQ
  Burst& b = *t.burst;
  Piece& p = b.piece[t.piece];
  if (p.visible != kNever || p.issue == kNever) {
    error_ = std::string(name()) + ": BEGIN_RESP for a transaction at " + hex(t.get_address()) +
             " that is not in flight";
    return;
  }
  p.status = t.get_response_status();
  const std::uint64_t v = cycle_at_or_after(at);
  if (v < cycle_ && error_.empty()) {
    error_ = std::string(name()) + ": the response to the " + (b.write ? "write" : "read") +
             " at " + hex(t.get_address()) + " sent at " +
             sc_time::from_value(p.issue).to_string() + " took effect at " +
             sc_time::from_value(at).to_string() + " (cycle " + std::to_string(v) +
             ") but the core has already run to cycle " + std::to_string(cycle_) +
             ": min_latency = " + cfg_.min_latency.to_string() +
             " is not a lower bound of the memory path's latency (" +
             sc_time::from_value(at - p.issue).to_string() + ")";
  }
  p.visible = std::max(v, cycle_);
  min_latency_seen_ = std::min(min_latency_seen_, at - p.issue);
  --in_flight_;
  ++b.responded;
  if (p.status != tlm::TLM_OK_RESPONSE) ++error_responses_;
  if (!b.write) {
    if (t.piece == 0) ++reads_waiting_;
  } else {
    b.visible = std::max(b.visible, p.visible);
    if (b.responded == b.pieces) ++writes_waiting_;
  }
}

tlm::tlm_sync_enum AxiTlmBridge::nb_transport_bw(tlm::tlm_generic_payload& gp,
                                                 tlm::tlm_phase& phase, sc_time& delay) {
  auto* t = dynamic_cast<Txn*>(&gp);
  if (t == nullptr || t->burst == nullptr) {
    error_ = std::string(name()) + ": nb_transport_bw for a payload the bridge did not send";
    return tlm::TLM_ACCEPTED;
  }
  const std::uint64_t at = now_ticks() + delay.value();
  if (phase == tlm::END_REQ) {
    end_request(*t, at);
    return tlm::TLM_ACCEPTED;
  }
  if (phase == tlm::BEGIN_RESP) {
    begin_response(*t, at);
    t->release();
    return tlm::TLM_COMPLETED;
  }
  error_ = std::string(name()) + ": nb_transport_bw with phase " + phase.get_name();
  return tlm::TLM_ACCEPTED;
}

// ---------------------------------------------------------------------------
// Diagnostics
// ---------------------------------------------------------------------------

std::string AxiTlmBridge::dump_state() const {
  std::ostringstream o;
  o << "bridge " << name() << ": cycle " << cycle_ << ", last sync at cycle " << last_sync_cycle_
    << " (" << sc_core::sc_time_stamp() << "), " << r_order_.size() << " read(s) and "
    << (write_slots_.size() - free_writes_.size()) << " write slot(s) outstanding, " << in_flight_
    << " transaction(s) in flight, request channel " << (req_owner_ != nullptr ? "busy" : "free")
    << ", " << send_q_.size() << " burst(s) waiting to be sent";
  const auto burst = [&](const Burst& b) {
    o << "\n  " << (b.write ? "write" : "read") << " id " << b.id << " addr " << hex(b.addr)
      << " len " << (b.beats == 0 ? 0 : b.beats - 1);
    if (b.write && !b.aw_known) o << " (no AW yet)";
    if (b.write) o << ", W beats " << b.beats_in << (b.last_seen ? " (last)" : "");
    o << ", accepted in cycle " << b.accept_cycle;
    if (b.sent > 0) {
      o << ", issued in cycle " << (b.piece[0].issue - t0_) / period_ << " ("
        << sc_time::from_value(b.piece[0].issue) << ")";
    } else {
      o << ", not issued";
    }
    o << ", transactions sent " << b.sent << "/" << b.pieces << ", answered " << b.responded;
    if (!b.write) o << ", beats delivered " << b.beat_out << "/" << b.beats;
  };
  for (const Burst* b : r_order_) burst(*b);
  for (std::size_t i = 0; i < wfill_.size(); ++i) {
    if (!wfill_[i]->aw_known) burst(*wfill_[i]);
  }
  for (const Burst* b : b_order_) burst(*b);
  return o.str();
}

}  // namespace sasim::cosim
