// The DRAM timing model (dram.hpp): configuration checks, address mapping,
// the per-bank state machines, the schedulers and refresh. Over 600 lines on
// purpose: the timing rules of one controller are read together (a command's
// legality depends on every constraint at once), and splitting them across
// files would separate tRCD/tRP/tRAS/tWTR checks from the state they guard.
#include "sasim/mem/dram.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <limits>
#include <sstream>
#include <stdexcept>

#include "sasim/mem/config_check.hpp"

namespace sasim::mem {

namespace {

constexpr std::uint64_t kNever = std::numeric_limits<std::uint64_t>::max();

// ---------------------------------------------------------------------------
// Page policies and schedulers, and their registries.
// ---------------------------------------------------------------------------

class OpenPage final : public DramPagePolicy {
 public:
  bool close_after_access(bool) const override { return false; }
};

class ClosedPage final : public DramPagePolicy {
 public:
  bool close_after_access(bool pending_hit) const override { return !pending_hit; }
};

class Fcfs final : public DramScheduler {
 public:
  std::optional<std::size_t> pick(std::span<const DramCandidate> queue) const override {
    if (!queue.empty() && queue.front().ready) return 0;
    return std::nullopt;
  }
};

class FrFcfs final : public DramScheduler {
 public:
  std::optional<std::size_t> pick(std::span<const DramCandidate> queue) const override {
    std::optional<std::size_t> row_cmd;
    for (std::size_t i = 0; i < queue.size(); ++i) {
      if (!queue[i].ready) continue;
      if (queue[i].column) return i;
      if (!row_cmd) row_cmd = i;
    }
    return row_cmd;
  }
};

template <class T>
struct RegistryEntry {
  const char* name;
  std::unique_ptr<T> (*make)();
};

const std::array<RegistryEntry<DramPagePolicy>, 2> kPagePolicies{{
    {"open", [] { return std::unique_ptr<DramPagePolicy>(new OpenPage); }},
    {"closed", [] { return std::unique_ptr<DramPagePolicy>(new ClosedPage); }},
}};

const std::array<RegistryEntry<DramScheduler>, 2> kSchedulers{{
    {"fcfs", [] { return std::unique_ptr<DramScheduler>(new Fcfs); }},
    {"frfcfs", [] { return std::unique_ptr<DramScheduler>(new FrFcfs); }},
}};

template <class T, std::size_t N>
std::vector<std::string> names_of(const std::array<RegistryEntry<T>, N>& table) {
  std::vector<std::string> names;
  for (const auto& e : table) names.emplace_back(e.name);
  return names;
}

template <class T, std::size_t N>
std::unique_ptr<T> make_from(const std::array<RegistryEntry<T>, N>& table, const char* what,
                             const std::string& name) {
  for (const auto& e : table)
    if (name == e.name) return e.make();
  std::string allowed;
  for (const auto& e : table) allowed += (allowed.empty() ? "" : ", ") + std::string(e.name);
  throw std::invalid_argument(std::string("unknown ") + what + " '" + name.substr(0, 60) +
                              "' (allowed: " + allowed + ")");
}

// ---------------------------------------------------------------------------
// Configuration checks.
// ---------------------------------------------------------------------------

// Splits "row:rank:bank:column:channel" into its names, most significant first.
std::vector<std::string> split_mapping(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  std::string part;
  while (std::getline(in, part, ':')) out.push_back(part);
  return out;
}

constexpr std::array<const char*, 5> kFieldNames{"row", "rank", "bank", "channel", "column"};

unsigned log2u(std::uint64_t v) { return static_cast<unsigned>(std::bit_width(v) - 1); }
unsigned ceil_log2(std::uint64_t v) {
  return v <= 1 ? 0 : static_cast<unsigned>(std::bit_width(v - 1));
}
std::uint64_t sub_sat(std::uint64_t a, std::uint64_t b) { return a > b ? a - b : 0; }

void send_end_req(tlm::tlm_target_socket<>& socket, tlm::tlm_generic_payload& trans) {
  tlm::tlm_phase phase = tlm::END_REQ;
  sc_core::sc_time delay = sc_core::SC_ZERO_TIME;
  socket->nb_transport_bw(trans, phase, delay);
}

}  // namespace

std::unique_ptr<DramPagePolicy> make_dram_page_policy(const std::string& name) {
  return make_from(kPagePolicies, "DRAM page policy", name);
}
std::vector<std::string> dram_page_policy_names() { return names_of(kPagePolicies); }
std::unique_ptr<DramScheduler> make_dram_scheduler(const std::string& name) {
  return make_from(kSchedulers, "DRAM scheduler", name);
}
std::vector<std::string> dram_scheduler_names() { return names_of(kSchedulers); }

void DramConfig::validate() const {
  check_uint("channels", channels, 1, 16, true);
  check_uint("ranks", ranks, 1, 4, true);
  check_uint("banks", banks, 1, 32, true);
  check_uint("bus_width_bits", bus_width_bits, 16, 256, true);
  if (data_rate != 1 && data_rate != 2 && data_rate != 4)
    config_fail("data_rate", std::to_string(data_rate) + " is not allowed (allowed 1, 2, 4)");
  check_real("clock_mhz", clock_mhz, 100, 5000);
  check_uint("burst_length", burst_length, data_rate, 32, true);
  check_uint("row_bytes", row_bytes, burst_bytes(), 1 << 20, true);
  check_uint("tCL", tCL, 1, 1000);
  check_uint("tRCD", tRCD, 1, 1000);
  check_uint("tRP", tRP, 1, 1000);
  check_uint("tRAS", tRAS, 1, 1000);
  check_uint("tCWL", tCWL, 1, 1000);
  check_uint("tWR", tWR, 0, 1000);
  check_uint("tRTP", tRTP, 0, 1000);
  check_uint("tCCD", tCCD, 1, 1000);
  check_uint("tRRD", tRRD, 0, 1000);
  check_uint("tWTR", tWTR, 0, 1000);
  check_uint("tRFC", tRFC, 1, 100000);
  check_uint("tREFI", tREFI, std::uint64_t{tRFC} + 1, 1000000);
  check_uint("queue_depth", queue_depth, 1, 1024);
  check_uint("frontend_latency_cycles", frontend_latency_cycles, 0, 1000);
  check_name("page_policy", [&] { make_dram_page_policy(page_policy); });
  check_name("scheduler", [&] { make_dram_scheduler(scheduler); });
  const auto parts = split_mapping(address_mapping);
  bool ok = parts.size() == kFieldNames.size();
  for (const char* f : kFieldNames) ok = ok && std::count(parts.begin(), parts.end(), f) == 1;
  if (!ok) {
    std::string msg = "'";
    msg.append(address_mapping, 0, 60);
    msg +=
        "' must name row, rank, bank, channel and column once each, ':'-separated, most "
        "significant first";
    config_fail("address_mapping", msg);
  }
}

// ---------------------------------------------------------------------------
// Controller state.
// ---------------------------------------------------------------------------

struct Dram::Request {
  tlm::tlm_generic_payload* trans;
  bool write;
  std::uint64_t arrival;         // bus cycle of BEGIN_REQ
  std::vector<Location> bursts;  // address order
  std::size_t next_push = 0;     // first burst not yet in a channel queue
  std::size_t unissued = 0;      // bursts whose RD/WR has not issued
  std::uint64_t done = 0;        // cycle the last issued burst's data ends
  std::uint64_t lo = 0, hi = 0;  // byte range [lo, hi)
  bool ready = false;            // every burst's RD/WR issued
  bool released = false;         // BEGIN_RESP scheduled at release_at
  sc_core::sc_time release_at;
};

struct Dram::Burst {
  Request* req;
  std::uint64_t seq;
  unsigned rank, bank;
  std::uint64_t row, column;
  bool write;
  std::uint64_t eligible;  // first cycle the scheduler may pick it
  bool needed_act = false, needed_pre = false;
};

struct Dram::Bank {
  bool open = false;
  std::uint64_t row = 0;
  std::uint64_t act_ok = 0;  // earliest ACT (tRP after PRE, tRFC after REF)
  std::uint64_t pre_ok = 0;  // earliest PRE (tRAS, tRTP, tWR)
  std::uint64_t col_ok = 0;  // earliest RD/WR (tRCD)
};

struct Dram::Rank {
  std::uint64_t act_ok = 0;  // tRRD
  std::uint64_t next_refresh = kNever;
  bool refresh_due = false;
};

enum class DramCmd { kNone, kAct, kPre, kRd, kWr };

struct Dram::Channel {
  explicit Channel(const DramConfig& c)
      : banks_per_rank(c.banks), banks(c.ranks * c.banks), ranks(c.ranks) {}
  unsigned banks_per_rank;
  std::vector<Bank> banks;
  std::vector<Rank> ranks;
  std::vector<Burst> queue;  // arrival order
  unsigned writes_queued = 0;
  std::uint64_t cmd_ok = 0;    // command bus: one command per cycle
  std::uint64_t ccd_ok = 0;    // tCCD
  std::uint64_t bus_free = 0;  // data bus busy until
  std::uint64_t rd_ok = 0;     // write-to-read turnaround
  std::uint64_t wr_ok = 0;     // read-to-write turnaround
  std::uint64_t wake_at = kNever;
  bool idle = true;                  // queue was empty when the channel last ran
  std::vector<DramCandidate> cands;  // scratch for run_channel: the scheduler's view
  std::vector<std::size_t> index;    // queue index of each candidate

  Bank& bank(unsigned r, unsigned b) { return banks[r * banks_per_rank + b]; }
  const Bank& bank(unsigned r, unsigned b) const { return banks[r * banks_per_rank + b]; }

  // The burst's next command and the earliest cycle it may issue (kNever while
  // its rank waits for refresh).
  std::pair<DramCmd, std::uint64_t> next_command(const Burst& b, const DramConfig& cf) const {
    if (ranks[b.rank].refresh_due) return {DramCmd::kNone, kNever};
    const Bank& k = bank(b.rank, b.bank);
    DramCmd cmd;
    std::uint64_t at;
    if (k.open && k.row == b.row) {
      if (b.write) {
        cmd = DramCmd::kWr;
        at = std::max({k.col_ok, ccd_ok, wr_ok, sub_sat(bus_free, cf.tCWL)});
      } else {
        cmd = DramCmd::kRd;
        at = std::max({k.col_ok, ccd_ok, rd_ok, sub_sat(bus_free, cf.tCL)});
      }
    } else if (k.open) {
      cmd = DramCmd::kPre;
      at = k.pre_ok;
    } else {
      cmd = DramCmd::kAct;
      at = std::max(k.act_ok, ranks[b.rank].act_ok);
    }
    return {cmd, std::max({at, b.eligible, cmd_ok})};
  }
};

// ---------------------------------------------------------------------------
// Module.
// ---------------------------------------------------------------------------

namespace {
mem::Counter& counter(mem::StatsRegistry& stats, const char* prefix, const char* name) {
  return stats.counter(std::string(prefix) + "." + name);
}
}  // namespace

Dram::Dram(sc_core::sc_module_name name, const DramConfig& config, BackingStore& store,
           mem::StatsRegistry& stats)
    : sc_core::sc_module(name),
      socket("socket"),
      config_((config.validate(), config)),
      store_(store),
      page_policy_(make_dram_page_policy(config.page_policy)),
      scheduler_(make_dram_scheduler(config.scheduler)),
      offset_bits_(log2u(config.burst_bytes())),
      reads_(counter(stats, this->name(), "reads")),
      writes_(counter(stats, this->name(), "writes")),
      bytes_read_(counter(stats, this->name(), "bytes_read")),
      bytes_written_(counter(stats, this->name(), "bytes_written")),
      row_hits_(counter(stats, this->name(), "row_hits")),
      row_misses_(counter(stats, this->name(), "row_misses")),
      row_conflicts_(counter(stats, this->name(), "row_conflicts")),
      activates_(counter(stats, this->name(), "activates")),
      precharges_(counter(stats, this->name(), "precharges")),
      refreshes_(counter(stats, this->name(), "refreshes")),
      busy_cycles_(counter(stats, this->name(), "busy_cycles")),
      queue_stall_cycles_(counter(stats, this->name(), "queue_stall_cycles")),
      peq_(this, &Dram::peq_cb),
      responses_("responses", socket, store) {
  // Address fields, least significant first.
  const unsigned column_bits = log2u(config_.row_bytes / config_.burst_bytes());
  const unsigned other_bits =
      column_bits + log2u(config_.channels) + log2u(config_.ranks) + log2u(config_.banks);
  const unsigned addr_bits = ceil_log2(store_.size());
  const unsigned row_bits =
      addr_bits > offset_bits_ + other_bits ? addr_bits - offset_bits_ - other_bits : 0;
  auto parts = split_mapping(config_.address_mapping);
  std::reverse(parts.begin(), parts.end());
  for (const auto& p : parts) {
    if (p == "row") fields_.emplace_back(Field::kRow, row_bits);
    if (p == "rank") fields_.emplace_back(Field::kRank, log2u(config_.ranks));
    if (p == "bank") fields_.emplace_back(Field::kBank, log2u(config_.banks));
    if (p == "channel") fields_.emplace_back(Field::kChannel, log2u(config_.channels));
    if (p == "column") fields_.emplace_back(Field::kColumn, column_bits);
  }

  for (unsigned i = 0; i < config_.channels; ++i) {
    auto ch = std::make_unique<Channel>(config_);
    if (config_.refresh) {
      for (unsigned r = 0; r < config_.ranks; ++r)
        ch->ranks[r].next_refresh = std::uint64_t{config_.tREFI} * (r + 1) / config_.ranks;
    }
    channels_.push_back(std::move(ch));
  }

  mem::Callbacks::target(socket, this);
  SC_METHOD(tick);
  sensitive << tick_event_;
  dont_initialize();
}

Dram::~Dram() = default;

double Dram::theoretical_peak_bytes_per_s() const {
  return config_.channels * (config_.bus_width_bits / 8.0) * config_.clock_mhz * 1e6 *
         config_.data_rate;
}

unsigned Dram::row_hit_read_cycles() const {
  return config_.frontend_latency_cycles + config_.tCL + config_.burst_cycles();
}
unsigned Dram::row_empty_read_cycles() const { return row_hit_read_cycles() + config_.tRCD; }
unsigned Dram::row_conflict_read_cycles() const { return row_empty_read_cycles() + config_.tRP; }

sc_core::sc_time Dram::cycle_time(std::uint64_t cycle) const {
  return sc_core::sc_time(
      static_cast<double>(std::llround(static_cast<double>(cycle) * config_.tck_ps())),
      sc_core::SC_PS);
}

std::uint64_t Dram::now_cycle() const {
  const sc_core::sc_time now = sc_core::sc_time_stamp();
  auto c = static_cast<std::uint64_t>(
      std::floor(now / sc_core::sc_time(1, sc_core::SC_PS) / config_.tck_ps()));
  while (cycle_time(c) < now) ++c;
  while (c > 0 && cycle_time(c - 1) >= now) --c;
  return c;
}

Dram::Location Dram::decode(std::uint64_t addr) const {
  std::uint64_t v = (addr - store_.base()) >> offset_bits_;
  Location loc{};
  for (std::size_t i = 0; i < fields_.size(); ++i) {
    const auto [field, bits] = fields_[i];
    std::uint64_t x = v;
    if (i + 1 < fields_.size()) {
      x = bits >= 64 ? v : v & ((std::uint64_t{1} << bits) - 1);
      v = bits >= 64 ? 0 : v >> bits;
    }
    switch (field) {
      case Field::kRow:
        loc.row = x;
        break;
      case Field::kRank:
        loc.rank = static_cast<unsigned>(x % config_.ranks);
        break;
      case Field::kBank:
        loc.bank = static_cast<unsigned>(x % config_.banks);
        break;
      case Field::kChannel:
        loc.channel = static_cast<unsigned>(x % config_.channels);
        break;
      case Field::kColumn:
        loc.column = x % (config_.row_bytes / config_.burst_bytes());
        break;
    }
  }
  return loc;
}

// ---------------------------------------------------------------------------
// Transport interfaces and the front end.
// ---------------------------------------------------------------------------

tlm::tlm_sync_enum Dram::nb_transport_fw(tlm::tlm_generic_payload& trans, tlm::tlm_phase& phase,
                                         sc_core::sc_time& delay) {
  return detail::target_fw(peq_, responses_, name(), trans, phase, delay);
}

void Dram::peq_cb(tlm::tlm_generic_payload& trans, const tlm::tlm_phase& phase) {
  if (phase != tlm::BEGIN_REQ) return;
  if (front_ != nullptr) {
    SC_REPORT_ERROR(name(), "BEGIN_REQ before END_REQ of the previous request");
    return;
  }
  const std::uint64_t c = now_cycle();
  const tlm::tlm_response_status status = detail::check_payload(store_, trans);
  if (status != tlm::TLM_INCOMPLETE_RESPONSE) {  // error or TLM_IGNORE_COMMAND: no DRAM access
    trans.set_response_status(status);
    send_end_req(socket, trans);
    responses_.schedule(trans, cycle_time(c + config_.frontend_latency_cycles));
    return;
  }
  auto req = std::make_unique<Request>();
  req->trans = &trans;
  req->write = trans.is_write();
  req->arrival = c;
  const std::uint64_t bb = config_.burst_bytes();
  const std::uint64_t first = (trans.get_address() - store_.base()) / bb * bb;
  const std::uint64_t last = trans.get_address() - store_.base() + trans.get_data_length() - 1;
  for (std::uint64_t off = first; off <= last; off += bb)
    req->bursts.push_back(decode(store_.base() + off));
  req->unissued = req->bursts.size();
  req->lo = trans.get_address();
  req->hi = trans.get_address() + trans.get_data_length();
  if (req->write) {
    ++writes_;
    bytes_written_ += trans.get_data_length();
  } else {
    ++reads_;
    bytes_read_ += trans.get_data_length();
  }
  front_ = req.get();
  requests_.push_back(std::move(req));
  drain_front();
}

void Dram::drain_front() {
  if (front_ == nullptr) return;
  Request& r = *front_;
  const std::uint64_t c = now_cycle();
  while (r.next_push < r.bursts.size()) {
    const Location& l = r.bursts[r.next_push];
    Channel& ch = *channels_[l.channel];
    if (ch.queue.size() >= config_.queue_depth) return;  // END_REQ withheld
    const std::uint64_t eligible = std::max(c, r.arrival) + config_.frontend_latency_cycles;
    ch.queue.push_back(Burst{&r, next_seq_++, l.rank, l.bank, l.row, l.column, r.write, eligible});
    if (r.write) ++ch.writes_queued;
    wake(ch, eligible);
    ++r.next_push;
  }
  if (c > r.arrival) queue_stall_cycles_ += c - r.arrival;
  front_ = nullptr;
  send_end_req(socket, *r.trans);
}

void Dram::b_transport(tlm::tlm_generic_payload& trans, sc_core::sc_time& delay) {
  detail::access_store(store_, trans);
  if (!trans.is_response_ok() || trans.get_command() == tlm::TLM_IGNORE_COMMAND) return;
  const std::uint64_t bb = config_.burst_bytes();
  const std::uint64_t off = trans.get_address() - store_.base();
  const std::uint64_t bursts = (off + trans.get_data_length() - 1) / bb - off / bb + 1;
  if (trans.is_write()) {
    ++writes_;
    bytes_written_ += trans.get_data_length();
  } else {
    ++reads_;
    bytes_read_ += trans.get_data_length();
  }
  const std::uint64_t b = config_.burst_cycles();
  delay +=
      cycle_time(config_.frontend_latency_cycles + (trans.is_write() ? config_.tCWL : config_.tCL) +
                 b + (bursts - 1) * std::max<std::uint64_t>(b, config_.tCCD));
}

unsigned int Dram::transport_dbg(tlm::tlm_generic_payload& trans) {
  return detail::debug_access(store_, trans);
}

// ---------------------------------------------------------------------------
// Channel scheduling.
// ---------------------------------------------------------------------------

void Dram::wake(Channel& ch, std::uint64_t cycle) {
  ch.wake_at = std::min(ch.wake_at, cycle);
  const sc_core::sc_time now = sc_core::sc_time_stamp();
  const sc_core::sc_time at = cycle_time(cycle);
  tick_event_.notify(at > now ? at - now : sc_core::SC_ZERO_TIME);
}

void Dram::tick() {
  const std::uint64_t c = now_cycle();
  for (auto& ch : channels_) {
    if (ch->wake_at > c) continue;
    ch->wake_at = kNever;
    run_channel(*ch, c);
  }
  std::uint64_t next = kNever;
  for (const auto& ch : channels_) next = std::min(next, ch->wake_at);
  if (next != kNever) {
    const sc_core::sc_time now = sc_core::sc_time_stamp();
    const sc_core::sc_time at = cycle_time(next);
    tick_event_.notify(at > now ? at - now : sc_core::SC_ZERO_TIME);
  }
}

void Dram::run_channel(Channel& ch, std::uint64_t c) {
  if (c < ch.cmd_ok) {  // a command already issued this cycle
    wake(ch, ch.cmd_ok);
    return;
  }
  if (config_.refresh && ch.idle) catch_up_refresh(ch, c);
  std::uint64_t next = kNever;
  bool issued = config_.refresh && run_refresh(ch, c, next);
  if (!issued) {
    std::vector<DramCandidate>& cands = ch.cands;
    std::vector<std::size_t>& index = ch.index;
    cands.clear();
    index.clear();
    bool any_ready = false;
    for (std::size_t i = 0; i < ch.queue.size(); ++i) {
      const Burst& b = ch.queue[i];
      if (b.eligible > c) {
        next = std::min(next, b.eligible);
        continue;
      }
      // Same column as an older queued burst, one of them a write: wait for it.
      bool ordered = false;
      for (std::size_t j = 0; ch.writes_queued > 0 && j < i && !ordered; ++j) {
        const Burst& o = ch.queue[j];
        ordered = (o.write || b.write) && o.rank == b.rank && o.bank == b.bank && o.row == b.row &&
                  o.column == b.column;
      }
      auto [cmd, at] = ch.next_command(b, config_);
      if (ordered) {
        cmd = DramCmd::kNone;
        at = kNever;  // the older burst's issue wakes the channel
      }
      const bool ready = at <= c;
      any_ready = any_ready || ready;
      if (!ready) next = std::min(next, at);
      cands.push_back(DramCandidate{ready, cmd == DramCmd::kRd || cmd == DramCmd::kWr});
      index.push_back(i);
    }
    if (const auto pick = scheduler_->pick(cands)) {
      issue(ch, index[*pick], c);
      issued = true;
    } else if (any_ready) {
      next = std::min(next, c + 1);  // a scheduler that declines ready commands: poll
    }
  }
  if (issued) {
    ch.cmd_ok = c + 1;
    next = c + 1;
  }
  ch.idle = ch.queue.empty();
  if (next != kNever) wake(ch, next);
}

void Dram::issue(Channel& ch, std::size_t index, std::uint64_t c) {
  Burst& b = ch.queue[index];
  Bank& k = ch.bank(b.rank, b.bank);
  const DramConfig& cf = config_;
  switch (ch.next_command(b, cf).first) {
    case DramCmd::kNone:
      return;
    case DramCmd::kAct:
      k.open = true;
      k.row = b.row;
      k.col_ok = c + cf.tRCD;
      k.pre_ok = std::max(k.pre_ok, c + cf.tRAS);
      ch.ranks[b.rank].act_ok = c + cf.tRRD;
      b.needed_act = true;
      ++activates_;
      return;
    case DramCmd::kPre:
      k.open = false;
      k.act_ok = std::max(k.act_ok, c + cf.tRP);
      b.needed_pre = true;
      ++precharges_;
      return;
    case DramCmd::kRd:
    case DramCmd::kWr:
      break;
  }
  const unsigned B = cf.burst_cycles();
  const std::uint64_t start = c + (b.write ? cf.tCWL : cf.tCL);
  const std::uint64_t end = start + B;
  ch.bus_free = end;
  ch.ccd_ok = c + cf.tCCD;
  if (b.write) {
    k.pre_ok = std::max(k.pre_ok, end + cf.tWR);
    ch.rd_ok = std::max(ch.rd_ok, end + cf.tWTR);
  } else {
    k.pre_ok = std::max(k.pre_ok, c + cf.tRTP);
    ch.wr_ok = std::max(ch.wr_ok, sub_sat(end + 2, cf.tCWL));
  }
  if (b.needed_pre) {
    ++row_conflicts_;
  } else if (b.needed_act) {
    ++row_misses_;
  } else {
    ++row_hits_;
  }
  busy_cycles_ += B;

  const Burst done = b;
  if (done.write) --ch.writes_queued;
  ch.queue.erase(ch.queue.begin() + static_cast<std::ptrdiff_t>(index));
  bool pending_hit = false;
  for (const Burst& o : ch.queue) {
    pending_hit = pending_hit || (o.eligible <= c && o.rank == done.rank && o.bank == done.bank &&
                                  o.row == done.row);
  }
  if (page_policy_->close_after_access(pending_hit)) {  // auto-precharge
    k.open = false;
    k.act_ok = std::max(k.act_ok, k.pre_ok + cf.tRP);
    ++precharges_;
  }

  Request* req = done.req;
  req->done = std::max(req->done, end);
  if (--req->unissued == 0) {
    req->ready = true;
    release_responses();
  }
  drain_front();  // a queue slot is free
}

void Dram::release_responses() {
  const sc_core::sc_time now = sc_core::sc_time_stamp();
  for (auto it = requests_.begin(); it != requests_.end();) {
    Request& r = **it;
    if (r.released && r.release_at <= now) {  // nothing younger can be scheduled earlier
      it = requests_.erase(it);
      continue;
    }
    if (r.ready && !r.released) {
      sc_core::sc_time at = cycle_time(r.done);
      bool blocked = false;
      for (auto o = requests_.begin(); o != it && !blocked; ++o) {
        const Request& older = **o;
        if (!(older.write || r.write) || older.hi <= r.lo || r.hi <= older.lo) continue;
        blocked = !older.released;
        at = std::max(at, older.release_at);
      }
      if (!blocked) {
        r.released = true;
        r.release_at = at;
        responses_.schedule(*r.trans, at);
      }
    }
    ++it;
  }
}

bool Dram::run_refresh(Channel& ch, std::uint64_t c, std::uint64_t& next) {
  const DramConfig& cf = config_;
  for (unsigned r = 0; r < cf.ranks; ++r) {
    Rank& rk = ch.ranks[r];
    if (!rk.refresh_due) {
      if (c < rk.next_refresh) {
        // Only a busy channel keeps a refresh timer; an idle one catches up.
        if (!ch.queue.empty()) next = std::min(next, rk.next_refresh);
        continue;
      }
      rk.refresh_due = true;
    }
    bool any_open = false;
    std::uint64_t ref_at = c;
    for (unsigned b = 0; b < cf.banks; ++b) {
      Bank& k = ch.bank(r, b);
      if (k.open) {
        any_open = true;
        if (k.pre_ok <= c) {
          k.open = false;
          k.act_ok = std::max(k.act_ok, c + cf.tRP);
          ++precharges_;
          return true;
        }
        next = std::min(next, k.pre_ok);
      } else {
        ref_at = std::max(ref_at, k.act_ok);
      }
    }
    if (any_open) continue;
    if (ref_at <= c) {
      for (unsigned b = 0; b < cf.banks; ++b) ch.bank(r, b).act_ok = c + cf.tRFC;
      ++refreshes_;
      rk.next_refresh += cf.tREFI;
      rk.refresh_due = false;
      return true;
    }
    next = std::min(next, ref_at);
  }
  return false;
}

void Dram::catch_up_refresh(Channel& ch, std::uint64_t c) {
  // Refreshes that fell due while the channel had nothing queued: they took
  // place at their due cycle (after precharging open banks) without
  // competing for the command bus.
  const DramConfig& cf = config_;
  for (unsigned r = 0; r < cf.ranks; ++r) {
    Rank& rk = ch.ranks[r];
    while (!rk.refresh_due && rk.next_refresh <= c) {
      const std::uint64_t due = rk.next_refresh;
      std::uint64_t ref = due;
      for (unsigned b = 0; b < cf.banks; ++b) {
        const Bank& k = ch.bank(r, b);
        ref = std::max(ref, k.open ? std::max(due, k.pre_ok) + cf.tRP : k.act_ok);
      }
      if (ref > c) {  // cannot have finished yet: the regular path does it now
        rk.refresh_due = true;
        break;
      }
      for (unsigned b = 0; b < cf.banks; ++b) {
        Bank& k = ch.bank(r, b);
        if (k.open) ++precharges_;
        k.open = false;
        k.act_ok = ref + cf.tRFC;
      }
      ++refreshes_;
      rk.next_refresh += cf.tREFI;
    }
  }
}

}  // namespace sasim::mem
