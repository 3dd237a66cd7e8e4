#include "sasim/mem/cache.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <stdexcept>

#include "sasim/mem/config_check.hpp"

namespace sasim::mem {

using sc_core::sc_time;
using sc_core::sc_time_stamp;
using sc_core::SC_ZERO_TIME;
using tlm::tlm_generic_payload;
using tlm::tlm_phase;
using tlm::tlm_sync_enum;

namespace {

bool in_pow2_range(std::uint64_t v, std::uint64_t lo, std::uint64_t hi) {
  return v >= lo && v <= hi && std::has_single_bit(v);
}

}  // namespace

unsigned validate(const CacheConfig& cfg) {
  const auto fail = [](const std::string& key, const std::string& msg) { config_fail(key, msg); };
  if (!in_pow2_range(cfg.size_bytes, 1ULL << 10, 64ULL << 20)) {
    fail("size_bytes",
         std::to_string(cfg.size_bytes) + " is not allowed (a power of two in 1024..67108864)");
  }
  if (!in_pow2_range(cfg.line_bytes, 16, 1024)) {
    fail("line_bytes",
         std::to_string(cfg.line_bytes) + " is not allowed (a power of two in 16..1024)");
  }
  check_uint("ways", cfg.ways, 1, 64);
  check_uint("hit_latency_cycles", cfg.hit_latency_cycles, 0, 1000);
  check_uint("mshrs", cfg.mshrs, 1, 256);
  check_real("clock_mhz", cfg.clock_mhz, 1, 100000);
  const auto names = replacement_names();
  if (std::find(names.begin(), names.end(), cfg.replacement) == names.end()) {
    std::string allowed;
    for (const auto& n : names) allowed += (allowed.empty() ? "" : ", ") + n;
    fail("replacement",
         "'" + cfg.replacement.substr(0, 60) + "' is not allowed (allowed " + allowed + ")");
  }
  if (cfg.write_policy != "wb_wa" && cfg.write_policy != "wt_nwa") {
    fail("write_policy",
         "'" + cfg.write_policy.substr(0, 60) + "' is not allowed (allowed wb_wa, wt_nwa)");
  }
  const std::uint64_t set_bytes = std::uint64_t{cfg.line_bytes} * cfg.ways;
  if (cfg.size_bytes < set_bytes || cfg.size_bytes % set_bytes != 0) {
    fail("ways", std::to_string(cfg.ways) + " ways of " + std::to_string(cfg.line_bytes) +
                     " bytes do not divide size_bytes " + std::to_string(cfg.size_bytes) +
                     " into a whole number of sets");
  }
  return static_cast<unsigned>(cfg.size_bytes / set_bytes);
}

// Line-sized payloads for fills and write-backs, with a memory manager so that
// downstream targets may acquire/release them as the base protocol allows.
class Cache::PayloadPool : public tlm::tlm_mm_interface {
 public:
  explicit PayloadPool(unsigned bytes) : bytes_(bytes) {}
  // A payload with one reference held by the caller, set up for a line
  // transfer (data pointer to its own line buffer).
  tlm_generic_payload* get(tlm::tlm_command cmd, std::uint64_t addr) {
    if (free_.empty()) {
      all_.push_back(std::make_unique<Entry>(bytes_));
      all_.back()->set_mm(this);
      free_.push_back(all_.back().get());
    }
    Entry* e = free_.back();
    free_.pop_back();
    tlm_generic_payload& p = *e;
    p.set_command(cmd);
    p.set_address(addr);
    p.set_data_ptr(e->data.data());
    p.set_data_length(bytes_);
    p.set_streaming_width(bytes_);
    p.set_byte_enable_ptr(nullptr);
    p.set_byte_enable_length(0);
    p.set_dmi_allowed(false);
    p.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
    p.acquire();
    return &p;
  }
  void free(tlm_generic_payload* p) override {
    p->reset();
    free_.push_back(static_cast<Entry*>(p));
  }

 private:
  struct Entry : tlm_generic_payload {
    explicit Entry(unsigned n) : data(n) {}
    std::vector<std::uint8_t> data;
  };
  unsigned bytes_;
  std::vector<std::unique_ptr<Entry>> all_;
  std::vector<Entry*> free_;
};

Cache::Cache(const sc_core::sc_module_name& nm, const CacheConfig& cfg, BackingStore& store,
             mem::StatsRegistry& stats)
    : sc_module(nm),
      upstream("upstream"),
      downstream("downstream"),
      cfg_(cfg),
      sets_(validate(cfg)),
      write_through_(cfg.write_policy == "wt_nwa"),
      period_(1e6 / cfg.clock_mhz, sc_core::SC_PS),
      hit_time_(period_ * cfg.hit_latency_cycles),
      store_(store),
      repl_(make_replacement(cfg.replacement, sets_, cfg.ways, cfg.seed)),
      lines_(std::size_t{sets_} * cfg.ways),
      mshrs_(cfg.mshrs),
      pool_(std::make_unique<PayloadPool>(cfg.line_bytes)),
      up_peq_("up_peq", this, &Cache::up_peq_cb),
      down_peq_("down_peq", this, &Cache::down_peq_cb),
      prefix_(std::string(name()) + "."),
      stats_(stats),
      reads_(stats.counter(prefix_ + "reads")),
      writes_(stats.counter(prefix_ + "writes")),
      hits_(stats.counter(prefix_ + "hits")),
      misses_(stats.counter(prefix_ + "misses")),
      mshr_merges_(stats.counter(prefix_ + "mshr_merges")),
      evictions_(stats.counter(prefix_ + "evictions")),
      writebacks_(stats.counter(prefix_ + "writebacks")),
      bypassed_(stats.counter(prefix_ + "bypassed")),
      mshr_full_stall_cycles_(stats.counter(prefix_ + "mshr_full_stall_cycles")),
      set_busy_stall_cycles_(stats.counter(prefix_ + "set_busy_stall_cycles")),
      errors_(stats.counter(prefix_ + "errors")) {
  upstream.register_nb_transport_fw(this, &Cache::up_fw);
  upstream.register_transport_dbg(this, &Cache::up_dbg);
  downstream.register_nb_transport_bw(this, &Cache::down_bw);

  SC_HAS_PROCESS(Cache);
  SC_METHOD(try_accept);
  sensitive << accept_ev_;
  dont_initialize();
  SC_METHOD(send_responses);
  sensitive << resp_ev_;
  dont_initialize();
  SC_METHOD(send_requests);
  sensitive << down_ev_;
  dont_initialize();
}

Cache::~Cache() = default;

double Cache::hit_rate() const {
  const std::uint64_t h = hits_.value(), m = misses_.value();
  return h + m == 0 ? 0.0 : static_cast<double>(h) / static_cast<double>(h + m);
}

Cache::LineState Cache::probe(std::uint64_t addr) const {
  LineState s;
  s.set = set_of(addr);
  for (unsigned w = 0; w < cfg_.ways; ++w) {
    const Line& l = line(s.set, w);
    if (l.valid && l.line_addr == line_of(addr)) {
      s.present = true;
      s.dirty = l.dirty;
      s.way = w;
    }
  }
  return s;
}

unsigned Cache::mshrs_in_use() const {
  return static_cast<unsigned>(
      std::count_if(mshrs_.begin(), mshrs_.end(), [](const Mshr& m) { return m.busy; }));
}

// ---------------------------------------------------------------------------
// Upstream: requests
// ---------------------------------------------------------------------------

tlm_sync_enum Cache::up_fw(tlm_generic_payload& t, tlm_phase& ph, sc_time& d) {
  if (ph == tlm::BEGIN_REQ || ph == tlm::END_RESP) {
    up_peq_.notify(t, ph, d);
    return tlm::TLM_ACCEPTED;
  }
  SC_REPORT_ERROR(name(), "upstream: unexpected phase on the forward path");
  return tlm::TLM_COMPLETED;
}

unsigned Cache::up_dbg(tlm_generic_payload& t) {
  const std::uint64_t addr = t.get_address();
  const unsigned len = t.get_data_length();
  if (!store_.contains(addr, len) || (len > 0 && t.get_data_ptr() == nullptr)) {
    t.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
    return 0;
  }
  if (t.is_read()) store_.read(addr, t.get_data_ptr(), len);
  if (t.is_write()) store_.write(addr, t.get_data_ptr(), len);
  t.set_response_status(tlm::TLM_OK_RESPONSE);
  return len;
}

void Cache::up_peq_cb(tlm_generic_payload& t, const tlm_phase& ph) {
  if (ph == tlm::BEGIN_REQ) {
    if (req_ != nullptr) SC_REPORT_ERROR(name(), "upstream: BEGIN_REQ before END_REQ");
    req_ = &t;
    try_accept();
  } else {  // END_RESP (also: TLM_COMPLETED / TLM_UPDATED END_RESP returned to BEGIN_RESP)
    if (resp_ != &t) SC_REPORT_ERROR(name(), "upstream: END_RESP for a transaction not answered");
    resp_ = nullptr;
    send_responses();
  }
}

tlm::tlm_response_status Cache::check_access(const tlm_generic_payload& t) const {
  const std::uint64_t addr = t.get_address();
  const unsigned len = t.get_data_length();
  if (t.get_data_ptr() == nullptr || len == 0) return tlm::TLM_GENERIC_ERROR_RESPONSE;
  if (t.get_byte_enable_ptr() != nullptr && t.get_byte_enable_length() == 0)
    return tlm::TLM_BYTE_ENABLE_ERROR_RESPONSE;
  if (!store_.contains(addr, len)) return tlm::TLM_ADDRESS_ERROR_RESPONSE;
  const unsigned sw = t.get_streaming_width();
  if (sw != 0 && sw < len) return tlm::TLM_BURST_ERROR_RESPONSE;
  if (line_of(addr) != line_of(addr + len - 1)) return tlm::TLM_BURST_ERROR_RESPONSE;
  if (!store_.contains(line_of(addr), cfg_.line_bytes)) return tlm::TLM_ADDRESS_ERROR_RESPONSE;
  return tlm::TLM_OK_RESPONSE;
}

int Cache::free_mshr() const {
  for (unsigned i = 0; i < mshrs_.size(); ++i)
    if (!mshrs_[i].busy) return static_cast<int>(i);
  return -1;
}

int Cache::find_fill_mshr(std::uint64_t line_addr) const {
  for (unsigned i = 0; i < mshrs_.size(); ++i) {
    const Mshr& m = mshrs_[i];
    if (m.busy && m.kind == DownKind::kFill && m.line_addr == line_addr) return static_cast<int>(i);
  }
  return -1;
}

// Ways that may be replaced: no fill outstanding, no accepted access unanswered.
// Returns the way to fill (an invalid one first, else the policy's victim), or
// -1 if there is none.
int Cache::choose_way(unsigned set) {
  std::uint64_t eligible = 0;
  for (unsigned w = 0; w < cfg_.ways; ++w) {
    const Line& l = line(set, w);
    if (!l.pending && l.pins == 0) eligible |= 1ULL << w;
  }
  if (eligible == 0) return -1;
  for (unsigned w = 0; w < cfg_.ways; ++w)
    if (((eligible >> w) & 1) != 0 && !line(set, w).valid) return static_cast<int>(w);
  return static_cast<int>(repl_->victim(set, eligible));
}

void Cache::set_stall(Stall s) {
  const sc_time now = sc_time_stamp();
  if (stall_ != Stall::kNone) {
    sc_time& total = stall_ == Stall::kMshr ? mshr_stall_time_ : set_stall_time_;
    mem::Counter& c = stall_ == Stall::kMshr ? mshr_full_stall_cycles_ : set_busy_stall_cycles_;
    const std::uint64_t before = total.value() / period_.value();
    total += now - stall_since_;
    c += total.value() / period_.value() - before;
  }
  stall_ = s;
  stall_since_ = now;
}

void Cache::try_accept() {
  if (req_ == nullptr) return;
  const sc_time now = sc_time_stamp();
  if (now < next_accept_) {
    accept_ev_.notify(next_accept_ - now);
    return;
  }
  tlm_generic_payload& t = *req_;
  // Stall checks first; they change no state.
  Stall need = Stall::kNone;
  if (cfg_.bypass) {
    if (free_mshr() < 0) need = Stall::kMshr;
  } else if (!(t.get_command() == tlm::TLM_IGNORE_COMMAND) &&
             check_access(t) == tlm::TLM_OK_RESPONSE) {
    const std::uint64_t la = line_of(t.get_address());
    const unsigned set = set_of(la);
    bool hit = false;
    for (unsigned w = 0; w < cfg_.ways; ++w)
      hit = hit || (line(set, w).valid && line(set, w).line_addr == la);
    if (t.is_write() && write_through_) {
      if (free_mshr() < 0) need = Stall::kMshr;
    } else if (!hit && find_fill_mshr(la) < 0) {
      if (free_mshr() < 0) {
        need = Stall::kMshr;
      } else {
        bool replaceable = false;
        for (unsigned w = 0; w < cfg_.ways; ++w)
          replaceable = replaceable || (!line(set, w).pending && line(set, w).pins == 0);
        if (!replaceable) need = Stall::kSet;
      }
    }
  }
  set_stall(need);
  if (need != Stall::kNone) return;  // retried when an MSHR or a way frees
  req_ = nullptr;
  next_accept_ = now + period_;
  accept(t);
  tlm_phase ph = tlm::END_REQ;
  sc_time d = SC_ZERO_TIME;
  upstream->nb_transport_bw(t, ph, d);
}

void Cache::accept(tlm_generic_payload& t) {
  const sc_time now = sc_time_stamp();
  if (cfg_.bypass) {
    if (t.is_read()) ++reads_;
    if (t.is_write()) ++writes_;
    ++bypassed_;
    const int mi = free_mshr();
    Mshr& m = mshrs_[mi];
    m.busy = true;
    m.kind = DownKind::kForward;
    down_txns_[&t] = {DownKind::kForward, static_cast<unsigned>(mi), line_of(t.get_address())};
    push_down(&t, now);
    return;
  }
  if ((t.get_command() == tlm::TLM_IGNORE_COMMAND)) {
    t.set_response_status(tlm::TLM_OK_RESPONSE);
    push_resp(&t, now + hit_time_, Action::kNone);
    return;
  }
  const tlm::tlm_response_status status = check_access(t);
  if (status != tlm::TLM_OK_RESPONSE) {
    ++errors_;
    t.set_response_status(status);
    push_resp(&t, now + hit_time_, Action::kNone);
    return;
  }
  const bool write = t.is_write();
  if (write) {
    ++writes_;
  } else {
    ++reads_;
  }
  const std::uint64_t la = line_of(t.get_address());
  const unsigned set = set_of(la);
  int hit_way = -1;
  for (unsigned w = 0; w < cfg_.ways; ++w)
    if (line(set, w).valid && line(set, w).line_addr == la) hit_way = static_cast<int>(w);

  if (write && write_through_) {  // forward the write; the downstream completes it
    if (hit_way >= 0) {
      ++hits_;
      repl_->touch(set, static_cast<unsigned>(hit_way));
    } else {
      ++misses_;
    }
    const int mi = free_mshr();
    Mshr& m = mshrs_[mi];
    m.busy = true;
    m.kind = DownKind::kForward;
    down_txns_[&t] = {DownKind::kForward, static_cast<unsigned>(mi), la};
    push_down(&t, now + hit_time_);
    return;
  }
  if (hit_way >= 0) {
    ++hits_;
    Line& l = line(set, static_cast<unsigned>(hit_way));
    repl_->touch(set, static_cast<unsigned>(hit_way));
    if (write) l.dirty = true;
    ++l.pins;
    push_resp(&t, now + hit_time_, Action::kComplete, static_cast<int>(set), hit_way);
    return;
  }
  ++misses_;
  if (const int mi = find_fill_mshr(la); mi >= 0) {
    ++mshr_merges_;
    mshrs_[mi].targets.emplace_back(&t, now + hit_time_);
    return;
  }
  // Primary miss: allocate an MSHR and a way, write back a dirty victim.
  const int mi = free_mshr();
  const auto way = static_cast<unsigned>(choose_way(set));
  Line& l = line(set, way);
  tlm_generic_payload* wb = nullptr;
  if (l.valid) {
    ++evictions_;
    if (l.dirty) {
      ++writebacks_;
      wb = pool_->get(tlm::TLM_WRITE_COMMAND, l.line_addr);
      store_.read(l.line_addr, wb->get_data_ptr(), cfg_.line_bytes);
      down_txns_[wb] = {DownKind::kWriteback, 0, l.line_addr};
      ++writebacks_in_flight_[l.line_addr];
    }
    repl_->invalidate(set, way);
  }
  l = Line{la, false, false, true, 0};
  Mshr& m = mshrs_[mi];
  m.busy = true;
  m.kind = DownKind::kFill;
  m.line_addr = la;
  m.set = set;
  m.way = way;
  m.targets.assign(1, {&t, now + hit_time_});
  m.issue_at = now + hit_time_;
  m.wait_writeback = writebacks_in_flight_.count(la) != 0;
  m.down = pool_->get(tlm::TLM_READ_COMMAND, la);
  down_txns_[m.down] = {DownKind::kFill, static_cast<unsigned>(mi), la};
  if (!m.wait_writeback) push_down(m.down, m.issue_at);
  if (wb != nullptr) push_down(wb, now + hit_time_);  // after the fill: the fill is critical
}

// ---------------------------------------------------------------------------
// Upstream: responses
// ---------------------------------------------------------------------------

void Cache::push_resp(tlm_generic_payload* t, sc_time ready, Action a, int set, int way) {
  resps_.push(Resp{ready, seq_++, t, a, set, way});
  const sc_time now = sc_time_stamp();
  resp_ev_.notify(ready > now ? ready - now : SC_ZERO_TIME);
}

void Cache::complete(tlm_generic_payload& t) {
  const std::uint64_t addr = t.get_address();
  const unsigned len = t.get_data_length();
  unsigned char* data = t.get_data_ptr();
  const unsigned char* be = t.get_byte_enable_ptr();
  const unsigned be_len = t.get_byte_enable_length();
  if (t.is_write()) {
    store_.write(addr, data, len, be, be == nullptr ? 0 : be_len);
  } else if (be == nullptr) {
    store_.read(addr, data, len);
  } else {  // only the enabled bytes are transferred
    std::vector<std::uint8_t> tmp(len);
    store_.read(addr, tmp.data(), len);
    for (unsigned i = 0; i < len; ++i)
      if (be[i % be_len] != 0) data[i] = tmp[i];
  }
  t.set_response_status(tlm::TLM_OK_RESPONSE);
}

void Cache::send_responses() {
  const sc_time now = sc_time_stamp();
  while (resp_ == nullptr && !resps_.empty()) {
    const Resp r = resps_.top();
    if (r.ready > now) {
      resp_ev_.notify(r.ready - now);
      return;
    }
    resps_.pop();
    if (r.action == Action::kComplete) complete(*r.trans);
    if (r.set >= 0) {
      Line& l = line(static_cast<unsigned>(r.set), static_cast<unsigned>(r.way));
      if (--l.pins == 0 && req_ != nullptr) accept_ev_.notify(SC_ZERO_TIME);
    }
    resp_ = r.trans;
    tlm_phase ph = tlm::BEGIN_RESP;
    sc_time d = SC_ZERO_TIME;
    const tlm_sync_enum ret = upstream->nb_transport_bw(*r.trans, ph, d);
    if (ret == tlm::TLM_COMPLETED || (ret == tlm::TLM_UPDATED && ph == tlm::END_RESP)) {
      if (d == SC_ZERO_TIME) {
        resp_ = nullptr;
      } else {
        up_peq_.notify(*r.trans, tlm::END_RESP, d);
      }
    }
  }
}

// ---------------------------------------------------------------------------
// Downstream
// ---------------------------------------------------------------------------

void Cache::push_down(tlm_generic_payload* t, sc_time ready) {
  downs_.push(DownReq{ready, seq_++, t});
  const sc_time now = sc_time_stamp();
  down_ev_.notify(ready > now ? ready - now : SC_ZERO_TIME);
}

void Cache::send_requests() {
  const sc_time now = sc_time_stamp();
  while (down_req_ == nullptr && !downs_.empty()) {
    const DownReq r = downs_.top();
    if (r.ready > now) {
      down_ev_.notify(r.ready - now);
      return;
    }
    downs_.pop();
    down_req_ = r.trans;
    tlm_phase ph = tlm::BEGIN_REQ;
    sc_time d = SC_ZERO_TIME;
    const tlm_sync_enum ret = downstream->nb_transport_fw(*r.trans, ph, d);
    if (ret == tlm::TLM_UPDATED) {
      if (ph == tlm::END_REQ || ph == tlm::BEGIN_RESP) down_peq_.notify(*r.trans, ph, d);
    } else if (ret == tlm::TLM_COMPLETED) {
      completed_.insert(r.trans);
      down_peq_.notify(*r.trans, tlm::BEGIN_RESP, d);
    }
  }
}

tlm_sync_enum Cache::down_bw(tlm_generic_payload& t, tlm_phase& ph, sc_time& d) {
  if (ph == tlm::END_REQ || ph == tlm::BEGIN_RESP) {
    down_peq_.notify(t, ph, d);
    return tlm::TLM_ACCEPTED;
  }
  SC_REPORT_ERROR(name(), "downstream: unexpected phase on the backward path");
  return tlm::TLM_COMPLETED;
}

void Cache::down_peq_cb(tlm_generic_payload& t, const tlm_phase& ph) {
  if (down_req_ == &t) {  // END_REQ, or BEGIN_RESP standing for it
    down_req_ = nullptr;
    down_ev_.notify(SC_ZERO_TIME);
  }
  if (ph != tlm::BEGIN_RESP) return;
  if (completed_.erase(&t) == 0) {
    tlm_phase end = tlm::END_RESP;
    sc_time d = SC_ZERO_TIME;
    downstream->nb_transport_fw(t, end, d);
  }
  on_down_response(t);
}

void Cache::on_down_response(tlm_generic_payload& t) {
  const auto it = down_txns_.find(&t);
  if (it == down_txns_.end()) {
    SC_REPORT_ERROR(name(), "downstream: response for an unknown transaction");
    return;
  }
  const DownTxn x = it->second;
  down_txns_.erase(it);
  const sc_time now = sc_time_stamp();
  switch (x.kind) {
    case DownKind::kFill: {
      Mshr& m = mshrs_[x.mshr];
      Line& l = line(m.set, m.way);
      l.pending = false;
      if (t.is_response_ok()) {
        l.valid = true;
        repl_->insert(m.set, m.way);
        for (const auto& [tgt, tag_done] : m.targets) {
          if (tgt->is_write()) l.dirty = true;
          ++l.pins;
          push_resp(tgt, std::max(now, tag_done), Action::kComplete, static_cast<int>(m.set),
                    static_cast<int>(m.way));
        }
      } else {  // the fill failed: the line stays invalid, every access gets the error
        l.valid = false;
        for (const auto& [tgt, tag_done] : m.targets) {
          tgt->set_response_status(t.get_response_status());
          push_resp(tgt, std::max(now, tag_done), Action::kNone);
        }
      }
      m.busy = false;
      m.targets.clear();
      m.down = nullptr;
      t.release();
      break;
    }
    case DownKind::kWriteback: {
      const auto w = writebacks_in_flight_.find(x.line_addr);
      if (--w->second == 0) {
        writebacks_in_flight_.erase(w);
        for (Mshr& m : mshrs_) {
          if (m.busy && m.kind == DownKind::kFill && m.wait_writeback &&
              m.line_addr == x.line_addr) {
            m.wait_writeback = false;
            push_down(m.down, std::max(now, m.issue_at));
          }
        }
      }
      t.release();
      break;
    }
    case DownKind::kForward:
      mshrs_[x.mshr].busy = false;
      push_resp(&t, now, Action::kNone);
      break;
  }
  if (req_ != nullptr) accept_ev_.notify(SC_ZERO_TIME);
}

}  // namespace sasim::mem
