// AxiTlmBridge: a behavioural AXI master (ClockedCore) drives the bridge into a real
// MemorySystem with a ProtocolChecker on the TLM hop. Checks data end to end (also through the
// backdoor), that the temporally decoupled run is cycle-for-cycle identical to the lock-step
// reference on several memory configurations and random scripts while synchronising far less, the
// exact latencies the core sees with ideal and fixed-latency memory, AXI ordering, the watchdog,
// the min_latency check, protocol violations, config validation, and memory_path_min_latency()
// against measured latencies. Seeds are printed with every failure.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <iostream>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "sasim/cosim/axi_bridge.hpp"
#include "sasim/mem/memory_system.hpp"
#include "sasim/mem/protocol_checker.hpp"
#include "support/mem_bench.hpp"
#include "support/sc_test.hpp"

namespace sasim::cosim {
namespace {

using mem::MemorySystem;
using mem::MemorySystemConfig;
using mem::ProtocolChecker;
using mem::test::FreshContext;
using mem::test::ns;
using mem::test::ps;

constexpr std::uint64_t kBase = 0x8000'0000;

// ---------------------------------------------------------------------------
// A scripted behavioural AXI master
// ---------------------------------------------------------------------------

// One transfer seen by the master: channel ('a' AR, 'w' AW, 'd' W beat, 'r' R beat, 'b' B),
// cycle, id, beat, response and a hash of the address or data.
struct Event {
  char ch;
  std::uint64_t cycle;
  unsigned id;
  unsigned beat;
  unsigned resp;
  std::uint64_t hash;
  bool operator==(const Event&) const = default;
};

std::string str(const Event& e) {
  std::ostringstream o;
  o << e.ch << " cycle " << e.cycle << " id " << e.id << " beat " << e.beat << " resp " << e.resp
    << " hash " << std::hex << e.hash;
  return o.str();
}

std::uint64_t fnv(const std::uint8_t* p, std::size_t n) {
  std::uint64_t h = 1469598103934665603ull;
  for (std::size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 1099511628211ull;
  return h;
}

// The first difference of two traces, or "" if they are equal.
std::string first_difference(const std::vector<Event>& a, const std::vector<Event>& b) {
  for (std::size_t i = 0; i < std::min(a.size(), b.size()); ++i) {
    if (!(a[i] == b[i]))
      return "event " + std::to_string(i) + ": " + str(a[i]) + " vs " + str(b[i]);
  }
  if (a.size() != b.size()) {
    return "lengths " + std::to_string(a.size()) + " vs " + std::to_string(b.size());
  }
  return "";
}

class ScriptedMaster : public ClockedCore {
 public:
  struct Options {
    unsigned bus_bytes = 16;
    unsigned max_reads = 4, max_writes = 4;  // bursts in flight (issued, response not complete)
    unsigned valid_percent = 100;            // chance per cycle to start an idle channel's valid
    unsigned ready_percent = 100;            // chance per cycle of r_ready / b_ready
    bool w_before_aw = false;                // W beats may precede their AW handshake
    std::uint64_t seed = 1;
  };

  explicit ScriptedMaster(const Options& o) : o_(o), rng_(o.seed) {}

  // Appends a read of len + 1 beats; returns its index for read_data().
  std::size_t read(unsigned id, std::uint64_t addr, unsigned len) {
    Op op;
    op.kind = Op::kRead;
    op.id = id;
    op.addr = addr;
    op.len = len;
    script_.push_back(op);
    reads_.emplace_back();
    script_.back().result = reads_.size() - 1;
    return reads_.size() - 1;
  }
  // Appends a write of data ((len + 1) * bus_bytes bytes) with per-beat strobes (default all).
  std::size_t write(unsigned id, std::uint64_t addr, std::vector<std::uint8_t> data,
                    std::vector<std::uint64_t> strb = {}) {
    Op op;
    op.kind = Op::kWrite;
    op.id = id;
    op.addr = addr;
    op.len = static_cast<unsigned>(data.size() / o_.bus_bytes) - 1;
    if (strb.empty()) strb.assign(op.len + 1, ~std::uint64_t{0});
    op.data = std::move(data);
    op.strb = std::move(strb);
    script_.push_back(std::move(op));
    write_resp_.push_back(~0u);
    script_.back().result = write_resp_.size() - 1;
    return write_resp_.size() - 1;
  }
  // Waits until every issued burst got its response.
  void barrier() {
    Op op;
    op.kind = Op::kBarrier;
    script_.push_back(op);
  }
  void idle(unsigned cycles) {
    Op op;
    op.kind = Op::kIdle;
    op.len = cycles;
    script_.push_back(op);
  }

  const std::vector<std::uint8_t>& read_data(std::size_t r) const { return reads_.at(r).data; }
  const std::vector<unsigned>& read_resp(std::size_t r) const { return reads_.at(r).resp; }
  unsigned write_resp(std::size_t w) const { return write_resp_.at(w); }
  const std::vector<Event>& trace() const { return trace_; }
  const std::vector<std::string>& errors() const { return errors_; }
  // Cycle of the first R beat of read r.
  std::uint64_t first_beat_cycle(std::size_t r) const { return reads_.at(r).first_beat; }
  std::uint64_t last_beat_cycle(std::size_t r) const { return reads_.at(r).last_beat; }
  std::uint64_t ar_cycle(std::size_t r) const { return reads_.at(r).ar_cycle; }

  unsigned bus_bytes() const override { return o_.bus_bytes; }

  void cycle(const AxiIn& in, AxiOut& out) override {
    progressed_ = false;
    // Outputs from the state at the start of the cycle.
    out.ar_valid = ar_valid_;
    if (ar_valid_) {
      const Op& op = script_[ar_op_];
      out.ar_id = op.id;
      out.ar_addr = op.addr;
      out.ar_len = op.len;
    }
    out.aw_valid = aw_valid_;
    if (aw_valid_) {
      const Op& op = script_[aw_op_];
      out.aw_id = op.id;
      out.aw_addr = op.addr;
      out.aw_len = op.len;
    }
    out.w_valid = w_valid_;
    if (w_valid_) {
      const Op& op = script_[w_op_];
      std::copy_n(op.data.begin() + std::size_t{w_beat_} * o_.bus_bytes, o_.bus_bytes,
                  out.w_data.begin());
      out.w_strb = op.strb[w_beat_];
      out.w_last = w_beat_ == op.len;
    }
    out.r_ready = chance(o_.ready_percent);
    out.b_ready = chance(o_.ready_percent);

    // Transfers.
    if (ar_valid_ && in.ar_ready) {
      ar_valid_ = false;
      const Op& op = script_[ar_op_];
      reads_[op.result].ar_cycle = cycle_;
      record('a', op.id, 0, 0, op.addr);
    }
    if (aw_valid_ && in.aw_ready) {
      aw_valid_ = false;
      const Op& op = script_[aw_op_];
      record('w', op.id, 0, 0, op.addr);
      if (!o_.w_before_aw) w_q_.push_back(aw_op_);
    }
    if (w_valid_ && in.w_ready) {
      const Op& op = script_[w_op_];
      record('d', op.id, w_beat_, 0, fnv(out.w_data.data(), o_.bus_bytes));
      if (++w_beat_ > op.len) w_valid_ = false;
    }
    if (in.r_valid && out.r_ready) take_r(in);
    if (in.b_valid && out.b_ready) take_b(in);

    // Next state: issue from the script, start valids.
    issue();
    if (!ar_valid_ && !ar_q_.empty() && chance(o_.valid_percent)) {
      ar_valid_ = true;
      ar_op_ = ar_q_.front();
      ar_q_.pop_front();
    }
    if (!aw_valid_ && !aw_q_.empty() && chance(o_.valid_percent)) {
      aw_valid_ = true;
      aw_op_ = aw_q_.front();
      aw_q_.pop_front();
    }
    if (!w_valid_ && !w_q_.empty() && chance(o_.valid_percent)) {
      w_valid_ = true;
      w_op_ = w_q_.front();
      w_q_.pop_front();
      w_beat_ = 0;
    }
    ++cycle_;
  }

  bool done() const override {
    return next_ == script_.size() && idle_left_ == 0 && reads_out_ == 0 && writes_out_ == 0;
  }
  bool progressed() const override { return progressed_; }
  std::string dump_state() const override {
    std::ostringstream o;
    o << "ScriptedMaster: op " << next_ << "/" << script_.size() << ", reads out " << reads_out_
      << ", writes out " << writes_out_ << ", cycle " << cycle_;
    return o.str();
  }

 private:
  struct Op {
    enum Kind { kRead, kWrite, kBarrier, kIdle } kind = kRead;
    unsigned id = 0;
    std::uint64_t addr = 0;
    unsigned len = 0;
    std::vector<std::uint8_t> data;
    std::vector<std::uint64_t> strb;
    std::size_t result = 0;
  };
  struct ReadResult {
    std::vector<std::uint8_t> data;
    std::vector<unsigned> resp;
    std::uint64_t ar_cycle = 0, first_beat = 0, last_beat = 0;
  };

  bool chance(unsigned percent) { return percent >= 100 || rng_() % 100 < percent; }

  void record(char ch, unsigned id, unsigned beat, unsigned resp, std::uint64_t hash) {
    trace_.push_back(Event{ch, cycle_, id, beat, resp, hash});
    progressed_ = true;
  }

  void take_r(const AxiIn& in) {
    if (in.r_id >= 4 || by_id_r_[in.r_id].empty()) {
      errors_.push_back("cycle " + std::to_string(cycle_) + ": R beat for id " +
                        std::to_string(in.r_id) + " without an outstanding read");
      return;
    }
    const Op& op = script_[by_id_r_[in.r_id].front()];
    ReadResult& r = reads_[op.result];
    const auto beat = static_cast<unsigned>(r.resp.size());
    if (beat == 0) r.first_beat = cycle_;
    r.data.insert(r.data.end(), in.r_data.begin(), in.r_data.begin() + o_.bus_bytes);
    r.resp.push_back(in.r_resp);
    record('r', in.r_id, beat, in.r_resp, fnv(in.r_data.data(), o_.bus_bytes));
    if (in.r_last != (beat == op.len)) {
      errors_.push_back("cycle " + std::to_string(cycle_) +
                        ": r_last = " + std::to_string(in.r_last) + " on beat " +
                        std::to_string(beat) + " of a read with len " + std::to_string(op.len));
    }
    if (beat == op.len) {
      r.last_beat = cycle_;
      by_id_r_[in.r_id].pop_front();
      --reads_out_;
    }
  }

  void take_b(const AxiIn& in) {
    if (in.b_id >= 4 || by_id_b_[in.b_id].empty()) {
      errors_.push_back("cycle " + std::to_string(cycle_) + ": B for id " +
                        std::to_string(in.b_id) + " without an outstanding write");
      return;
    }
    const Op& op = script_[by_id_b_[in.b_id].front()];
    write_resp_[op.result] = in.b_resp;
    record('b', in.b_id, 0, in.b_resp, op.addr);
    by_id_b_[in.b_id].pop_front();
    --writes_out_;
  }

  // At most one script step per cycle.
  void issue() {
    if (idle_left_ > 0) {
      --idle_left_;
      progressed_ = true;
      return;
    }
    if (next_ == script_.size()) return;
    const Op& op = script_[next_];
    switch (op.kind) {
      case Op::kRead:
        if (reads_out_ >= o_.max_reads) return;
        ++reads_out_;
        ar_q_.push_back(next_);
        by_id_r_[op.id].push_back(next_);
        break;
      case Op::kWrite:
        if (writes_out_ >= o_.max_writes) return;
        ++writes_out_;
        aw_q_.push_back(next_);
        if (o_.w_before_aw) w_q_.push_back(next_);
        by_id_b_[op.id].push_back(next_);
        break;
      case Op::kBarrier:
        if (reads_out_ != 0 || writes_out_ != 0) return;
        break;
      case Op::kIdle:
        idle_left_ = op.len;
        break;
    }
    ++next_;
    progressed_ = true;
  }

  Options o_;
  std::mt19937_64 rng_;
  std::vector<Op> script_;
  std::vector<ReadResult> reads_;
  std::vector<unsigned> write_resp_;
  std::size_t next_ = 0;
  unsigned idle_left_ = 0;
  unsigned reads_out_ = 0, writes_out_ = 0;
  std::deque<std::size_t> ar_q_, aw_q_, w_q_;
  std::deque<std::size_t> by_id_r_[4], by_id_b_[4];
  bool ar_valid_ = false, aw_valid_ = false, w_valid_ = false;
  std::size_t ar_op_ = 0, aw_op_ = 0, w_op_ = 0;
  unsigned w_beat_ = 0;
  bool progressed_ = false;
  std::uint64_t cycle_ = 0;
  std::vector<Event> trace_;
  std::vector<std::string> errors_;
};

// Never finishes; optionally issues one read and then never takes its data.
class StuckMaster : public ClockedCore {
 public:
  explicit StuckMaster(bool issue_read) : pending_(issue_read) {}
  unsigned bus_bytes() const override { return 16; }
  void cycle(const AxiIn& in, AxiOut& out) override {
    out = AxiOut{};
    out.ar_valid = pending_;
    out.ar_id = 1;
    out.ar_addr = kBase + 0x100;
    out.ar_len = 3;
    progressed_ = pending_ && in.ar_ready;
    if (progressed_) pending_ = false;
  }
  bool done() const override { return false; }
  bool progressed() const override { return progressed_; }
  std::string dump_state() const override { return "StuckMaster: waiting forever"; }

 private:
  bool pending_;
  bool progressed_ = false;
};

// Runs `cycles` cycles doing nothing on the bus (the bridge's cost without traffic).
class IdleCore : public ClockedCore {
 public:
  explicit IdleCore(std::uint64_t cycles) : left_(cycles) {}
  unsigned bus_bytes() const override { return 16; }
  void cycle(const AxiIn&, AxiOut&) override { --left_; }
  bool done() const override { return left_ == 0; }
  bool progressed() const override { return true; }
  std::string dump_state() const override { return "IdleCore"; }

 private:
  std::uint64_t left_;
};

// Streams `bursts` reads of len + 1 beats over a 64 KiB window with up to `outstanding` in
// flight, starting one every `gap` cycles at most.
class StreamCore : public ClockedCore {
 public:
  StreamCore(std::uint64_t bursts, unsigned outstanding, unsigned len = 3, unsigned gap = 0)
      : left_(bursts), max_(outstanding), len_(len), gap_(gap) {}
  unsigned bus_bytes() const override { return 16; }
  void cycle(const AxiIn& in, AxiOut& out) override {
    out.ar_valid = issued_ < left_ && out_ < max_ && wait_ == 0;
    out.ar_id = 0;
    out.ar_addr = kBase + (issued_ * (len_ + 1) * 16) % 65536;
    out.ar_len = len_;
    out.r_ready = true;
    if (wait_ > 0) --wait_;
    if (out.ar_valid && in.ar_ready) {
      ++issued_;
      ++out_;
      wait_ = gap_;
    }
    if (in.r_valid && in.r_last) {
      --out_;
      ++received_;
    }
  }
  bool done() const override { return received_ == left_; }
  bool progressed() const override { return true; }
  std::string dump_state() const override { return "StreamCore"; }

 private:
  std::uint64_t left_, issued_ = 0, received_ = 0;
  unsigned max_, len_, gap_, out_ = 0, wait_ = 0;
};

// ---------------------------------------------------------------------------
// Bench: core(s) -> bridge -> protocol checker -> MemorySystem
// ---------------------------------------------------------------------------

struct Driver : sc_core::sc_module {
  Driver(sc_core::sc_module_name n, AxiTlmBridge& b, std::vector<ClockedCore*> c)
      : sc_core::sc_module(n), bridge(b), cores(std::move(c)) {
    SC_HAS_PROCESS(Driver);
    SC_THREAD(main);
  }
  void main() {
    for (ClockedCore* core : cores) {
      starts.push_back(sc_core::sc_time_stamp());
      try {
        cycles.push_back(bridge.run(*core));
      } catch (const std::exception& e) {
        error = e.what();
        return;
      }
      ends.push_back(sc_core::sc_time_stamp());
    }
  }
  AxiTlmBridge& bridge;
  std::vector<ClockedCore*> cores;
  std::vector<std::uint64_t> cycles;
  std::vector<sc_core::sc_time> starts, ends;
  std::string error;
};

AxiBridgeConfig bridge_config(const MemorySystemConfig& mc, bool lockstep,
                              double clock_mhz = 1000) {
  AxiBridgeConfig bc;
  bc.clock_mhz = clock_mhz;
  bc.lockstep = lockstep;
  bc.min_latency = memory_path_min_latency(mc);
  bc.split_bytes = memory_path_split_bytes(mc);
  return bc;
}

struct Bench : FreshContext {
  Bench(const MemorySystemConfig& mc, const AxiBridgeConfig& bc)
      : sys("sys", mc, stats), checker("checker"), bridge("bridge", bc, stats) {
    bridge.socket.bind(checker.in);
    checker.out.bind(sys.in());
  }
  // Runs the cores one after the other, then lets the memory system drain.
  void run(std::vector<ClockedCore*> cores) {
    driver = std::make_unique<Driver>("driver", bridge, std::move(cores));
    const auto t0 = std::chrono::steady_clock::now();
    sc_core::sc_start(sc_core::sc_time(10, sc_core::SC_SEC), sc_core::SC_EXIT_ON_STARVATION);
    seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  void run(ClockedCore& core) { run(std::vector<ClockedCore*>{&core}); }
  // The run ended without error, the TLM hop was clean and every payload came back.
  void expect_clean_run() {
    EXPECT_EQ(driver->error, "");
    mem::test::expect_clean(checker);
    EXPECT_EQ(bridge.payloads_in_use(), 0u);
  }
  std::uint64_t stat(const std::string& n) const { return stats.value("bridge." + n); }
  std::uint64_t cycles() const { return driver->cycles.empty() ? 0 : driver->cycles.back(); }

  mem::StatsRegistry stats;
  MemorySystem sys;
  ProtocolChecker checker;
  AxiTlmBridge bridge;
  std::unique_ptr<Driver> driver;
  double seconds = 0;
};

struct NamedConfig {
  std::string name;
  MemorySystemConfig cfg;
};

MemorySystemConfig small_config(const std::string& model, bool bypass) {
  MemorySystemConfig c;
  c.l2.size_bytes = 16 * 1024;
  c.l2.bypass = bypass;
  c.memory.model = model;
  c.memory.size = 1 << 24;
  return c;
}

std::vector<NamedConfig> configs() {
  MemorySystemConfig fixed = small_config("fixed", true);
  fixed.memory.fixed.latency_ns = 37;
  MemorySystemConfig dram_mshr = small_config("dram", false);
  dram_mshr.l2.mshrs = 2;  // backpressure: END_REQ withheld
  dram_mshr.l2.ways = 2;
  return {{"ideal_l2", small_config("ideal", false)},
          {"fixed_bypass", fixed},
          {"dram_l2", small_config("dram", false)},
          {"dram_bypass", small_config("dram", true)},
          {"dram_l2_2mshrs", dram_mshr}};
}

std::vector<std::uint8_t> pattern(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 r(seed);
  std::vector<std::uint8_t> v(n);
  for (auto& b : v) b = static_cast<std::uint8_t>(r());
  return v;
}

// A reference of the memory: preloaded region R (read only), written region W.
struct Script {
  static constexpr std::uint64_t kR = kBase + 0x10000, kW = kBase + 0x20000;
  static constexpr std::uint64_t kRSize = 0x4000, kWSize = 0x2000;
  std::vector<std::uint8_t> r_image = pattern(kRSize, 99);
  std::vector<std::uint8_t> w_image = std::vector<std::uint8_t>(kWSize, 0);
  struct Check {
    std::size_t read;
    std::vector<std::uint8_t> expect;
    std::string what;
  };
  std::vector<Check> checks;
};

// Random traffic: reads of R and writes of W (random ids, lengths, strobes, idle gaps), a
// barrier, then reads of everything written. Reads of R are checked against the preload, reads of
// W against the writes applied in script order.
void random_script(ScriptedMaster& m, Script& s, std::uint64_t seed, unsigned ops,
                   unsigned bus = 16) {
  std::mt19937_64 r(seed);
  std::vector<std::pair<std::uint64_t, unsigned>> written;
  for (unsigned i = 0; i < ops; ++i) {
    const unsigned id = static_cast<unsigned>(r() % 4);
    const unsigned len = static_cast<unsigned>(r() % 8 == 0 ? r() % 16 : r() % 4);
    const std::uint64_t bytes = std::uint64_t{len + 1} * bus;
    const unsigned k = static_cast<unsigned>(r() % 10);
    if (k < 5) {
      std::uint64_t off = (r() % (Script::kRSize / bus)) * bus;
      off = std::min(off, Script::kRSize - bytes);
      if (((Script::kR + off) & 0xFFF) + bytes > 0x1000)
        off -= ((Script::kR + off) & 0xFFF) + bytes - 0x1000;
      const std::size_t id_r = m.read(id, Script::kR + off, len);
      s.checks.push_back(
          {id_r,
           std::vector<std::uint8_t>(s.r_image.begin() + off, s.r_image.begin() + off + bytes),
           "read of R at +" + std::to_string(off)});
    } else if (k < 9) {
      std::uint64_t off = (r() % (Script::kWSize / bus)) * bus;
      off = std::min(off, Script::kWSize - bytes);
      if (((Script::kW + off) & 0xFFF) + bytes > 0x1000)
        off -= ((Script::kW + off) & 0xFFF) + bytes - 0x1000;
      std::vector<std::uint8_t> data = pattern(bytes, r());
      std::vector<std::uint64_t> strb(len + 1, ~std::uint64_t{0});
      if (r() % 3 == 0) {
        for (auto& st : strb) st = r();  // partial strobes
      }
      for (unsigned b = 0; b <= len; ++b) {
        for (unsigned i2 = 0; i2 < bus; ++i2) {
          if ((strb[b] >> i2) & 1) s.w_image[off + b * bus + i2] = data[b * bus + i2];
        }
      }
      m.write(id, Script::kW + off, std::move(data), std::move(strb));
      written.emplace_back(off, len);
    } else {
      m.idle(static_cast<unsigned>(r() % 200));  // compute between bursts
    }
  }
  m.barrier();
  for (const auto& [off, len] : written) {
    const std::uint64_t bytes = std::uint64_t{len + 1} * bus;
    const std::size_t id_r = m.read(static_cast<unsigned>(r() % 4), Script::kW + off, len);
    s.checks.push_back(
        {id_r, std::vector<std::uint8_t>(s.w_image.begin() + off, s.w_image.begin() + off + bytes),
         "read back of W at +" + std::to_string(off)});
  }
}

void preload(Bench& b, const Script& s) {
  b.sys.store().write(Script::kR, s.r_image.data(), s.r_image.size());
}

void expect_data(Bench& b, const ScriptedMaster& m, const Script& s, const std::string& ctx) {
  EXPECT_TRUE(m.errors().empty()) << ctx << "\n" << mem::test::joined(m.errors());
  for (const Script::Check& c : s.checks) {
    const std::vector<std::uint8_t>& got = m.read_data(c.read);
    ASSERT_EQ(got.size(), c.expect.size()) << ctx << ": " << c.what;
    for (std::size_t i = 0; i < got.size(); ++i) {
      ASSERT_EQ(got[i], c.expect[i]) << ctx << ": " << c.what << ", first mismatch at byte " << i;
    }
    for (unsigned resp : m.read_resp(c.read)) ASSERT_EQ(resp, kAxiRespOkay) << ctx << c.what;
  }
  std::vector<std::uint8_t> back(Script::kWSize);
  b.sys.store().read(Script::kW, back.data(), back.size());
  for (std::size_t i = 0; i < back.size(); ++i) {
    ASSERT_EQ(back[i], s.w_image[i]) << ctx << ": store differs from the writes at W + " << i;
  }
}

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

TEST(AxiBridge, DataRoundTripsThroughEveryMemoryConfig) {
  for (const NamedConfig& nc : configs()) {
    for (const bool w_before_aw : {false, true}) {
      const std::string ctx = nc.name + (w_before_aw ? " (W before AW)" : "");
      Bench b(nc.cfg, bridge_config(nc.cfg, false));
      ScriptedMaster::Options o;
      o.w_before_aw = w_before_aw;
      o.valid_percent = 70;
      o.ready_percent = 80;
      ScriptedMaster m(o);
      Script s;
      random_script(m, s, 7, 80);
      preload(b, s);
      b.run(m);
      SCOPED_TRACE(ctx);
      b.expect_clean_run();
      expect_data(b, m, s, ctx);
      EXPECT_GT(b.stat("reads"), 40u);
      EXPECT_GT(b.stat("writes"), 20u);
      EXPECT_EQ(b.stat("error_responses"), 0u);
      EXPECT_EQ(b.bridge.cycles_run(), b.cycles());
    }
  }
}

// The decoupled run gives the same per-transfer cycle trace, total cycles and memory-system
// counters as the lock-step reference, with far fewer wait() calls.
TEST(AxiBridge, DecoupledRunIsCycleIdenticalToLockstep) {
  struct Case {
    unsigned valid, ready;
    double clock_mhz;
  };
  const Case cases[] = {{100, 100, 1000}, {60, 70, 1000}, {80, 50, 700}};
  for (const NamedConfig& nc : configs()) {
    for (std::uint64_t seed = 1; seed <= 3; ++seed) {
      const Case& c = cases[seed - 1];
      const std::string ctx = nc.name + " seed " + std::to_string(seed) + " clock " +
                              std::to_string(c.clock_mhz) + " MHz";
      SCOPED_TRACE(ctx);
      std::vector<Event> trace[2];
      std::uint64_t cycles[2], syncs[2];
      nlohmann::json counters[2];
      for (const bool lockstep : {true, false}) {
        Bench b(nc.cfg, bridge_config(nc.cfg, lockstep, c.clock_mhz));
        ScriptedMaster::Options o;
        o.valid_percent = c.valid;
        o.ready_percent = c.ready;
        o.w_before_aw = seed == 2;
        o.seed = seed;
        ScriptedMaster m(o);
        Script s;
        random_script(m, s, seed * 1000 + 3, 120);
        preload(b, s);
        b.run(m);
        b.expect_clean_run();
        expect_data(b, m, s, ctx);
        trace[lockstep] = m.trace();
        cycles[lockstep] = b.cycles();
        syncs[lockstep] = b.stat("syncs");
        counters[lockstep] = b.stats.to_json();
        counters[lockstep].erase("bridge.syncs");
        counters[lockstep].erase("bridge.sync_points");
        // The run ends at exactly T0 + cycles * P.
        EXPECT_EQ(
            b.driver->ends.at(0) - b.driver->starts.at(0),
            sc_core::sc_time(1e6 / c.clock_mhz, sc_core::SC_PS) * static_cast<double>(b.cycles()));
      }
      EXPECT_EQ(cycles[0], cycles[1]);
      EXPECT_EQ(first_difference(trace[1], trace[0]), "");
      EXPECT_EQ(counters[0], counters[1]);
      EXPECT_GE(syncs[1], cycles[1]);
      // Dense random traffic: every transaction needs a sync at its edge (SyncCountsAndSpeed has
      // the figures for sparser traffic).
      EXPECT_LT(syncs[0] * 3, syncs[1] * 2) << "decoupled " << syncs[0] << " vs lockstep "
                                            << syncs[1] << " waits over " << cycles[0] << " cycles";
    }
  }
}

// Exact latencies: ideal memory behind the L2 answers 12 ns after BEGIN_REQ (interconnect 2 + L2
// hit or miss-to-ideal 10 cycles at 1 GHz); fixed-latency memory with the L2 bypassed 2 + 50 ns.
// An AR accepted in cycle c is sent at edge c+1 and its first beat is visible in cycle
// c + 1 + latency / P.
TEST(AxiBridge, CoreSeesTheMemoryLatencyExactly) {
  struct Case {
    std::string name;
    MemorySystemConfig cfg;
    double clock_mhz;
    std::uint64_t latency_cycles;
  };
  MemorySystemConfig fixed = small_config("fixed", true);
  fixed.memory.fixed.latency_ns = 50;
  const std::vector<Case> cases = {{"ideal_l2 1 GHz", small_config("ideal", false), 1000, 12},
                                   {"ideal_l2 500 MHz", small_config("ideal", false), 500, 6},
                                   {"fixed_bypass 1 GHz", fixed, 1000, 52},
                                   {"fixed_bypass 250 MHz", fixed, 250, 13}};
  for (const Case& c : cases) {
    for (const bool lockstep : {true, false}) {
      SCOPED_TRACE(c.name + (lockstep ? " lockstep" : " decoupled"));
      Bench b(c.cfg, bridge_config(c.cfg, lockstep, c.clock_mhz));
      EXPECT_EQ(memory_path_min_latency(c.cfg),
                sc_core::sc_time(1e6 / c.clock_mhz, sc_core::SC_PS) *
                    static_cast<double>(c.latency_cycles));
      ScriptedMaster m1{ScriptedMaster::Options{}};
      const std::size_t w = m1.write(0, kBase + 0x40, pattern(64, 5));
      m1.barrier();
      const std::size_t r = m1.read(1, kBase + 0x40, 3);  // 4 beats of 16 bytes
      // A second run of the bridge continues from the end time of the first.
      ScriptedMaster m2{ScriptedMaster::Options{}};
      m2.idle(7);
      const std::size_t r2 = m2.read(2, kBase + 0x40, 3);
      b.run({&m1, &m2});
      b.expect_clean_run();
      EXPECT_EQ(m1.write_resp(w), kAxiRespOkay);
      EXPECT_EQ(m1.read_data(r), pattern(64, 5));
      EXPECT_EQ(m2.read_data(r2), pattern(64, 5));
      for (const ScriptedMaster* m : {&m1, &m2}) {
        const std::size_t rr = m == &m1 ? r : r2;
        EXPECT_EQ(m->first_beat_cycle(rr), m->ar_cycle(rr) + 1 + c.latency_cycles);
        EXPECT_EQ(m->last_beat_cycle(rr), m->first_beat_cycle(rr) + 3);  // one beat per cycle
      }
      // The write is sent at the edge after its last W beat (its AW came first); B is visible
      // latency later.
      const auto& t = m1.trace();
      const auto wt = std::find_if(t.begin(), t.end(),
                                   [](const Event& e) { return e.ch == 'd' && e.beat == 3; });
      const auto bt = std::find_if(t.begin(), t.end(), [](const Event& e) { return e.ch == 'b'; });
      ASSERT_NE(wt, t.end());
      ASSERT_NE(bt, t.end());
      EXPECT_EQ(bt->cycle, wt->cycle + 1 + c.latency_cycles);
      EXPECT_EQ(b.stat("read_latency_cycles"), 2 * (1 + c.latency_cycles));
      EXPECT_EQ(b.stat("write_latency_cycles"), 1 + c.latency_cycles);
      EXPECT_EQ(b.driver->starts.at(1), b.driver->ends.at(0));
      EXPECT_EQ(b.bridge.cycles_run(), b.driver->cycles.at(0) + b.driver->cycles.at(1));
      EXPECT_EQ(b.bridge.observed_min_latency(), memory_path_min_latency(c.cfg));
    }
  }
}

// A 256-byte burst through the L2 (64-byte lines) becomes four line-sized transactions: piece k
// is granted by the interconnect in cycle k after the first (one path cycle each) and answers 12
// ns later, so the beats still stream one per cycle from cycle c + 13.
TEST(AxiBridge, BurstsAreSplitAtL2Lines) {
  const MemorySystemConfig mc = small_config("ideal", false);
  for (const bool lockstep : {true, false}) {
    Bench b(mc, bridge_config(mc, lockstep));
    ScriptedMaster m{ScriptedMaster::Options{}};
    b.sys.store().write(kBase + 0x200, pattern(256, 8).data(), 256);
    const std::size_t r = m.read(0, kBase + 0x200, 15);
    b.run(m);
    b.expect_clean_run();
    EXPECT_EQ(m.read_data(r), pattern(256, 8));
    EXPECT_EQ(m.first_beat_cycle(r), m.ar_cycle(r) + 13);
    EXPECT_EQ(m.last_beat_cycle(r), m.first_beat_cycle(r) + 15);
    EXPECT_EQ(b.stat("transactions"), 4u);
    EXPECT_EQ(b.stats.value("sys.noc.requests"), 4u);
    EXPECT_EQ(b.stats.value("sys.l2.errors"), 0u);
  }
  // Without splitting the L2 rejects the line-crossing access: SLVERR on every beat.
  AxiBridgeConfig bc = bridge_config(mc, false);
  bc.split_bytes = 0;
  Bench b(mc, bc);
  ScriptedMaster m{ScriptedMaster::Options{}};
  const std::size_t r = m.read(0, kBase + 0x200, 15);
  b.run(m);
  b.expect_clean_run();
  EXPECT_EQ(m.read_resp(r), std::vector<unsigned>(16, kAxiRespSlvErr));
  EXPECT_EQ(b.stat("error_responses"), 1u);
}

// Same id: responses in request order even when the memory answers the later one first (an L2
// hit behind a DRAM miss). Different ids: the hit overtakes the miss.
TEST(AxiBridge, ResponsesKeepRequestOrderPerIdOnly) {
  for (const unsigned second_id : {0u, 1u}) {
    const MemorySystemConfig mc = small_config("dram", false);
    Bench b(mc, bridge_config(mc, false));
    ScriptedMaster m{ScriptedMaster::Options{}};
    m.read(3, kBase + 0x1000, 0);  // bring the line of B into the L2
    m.barrier();
    const std::size_t a = m.read(0, kBase + 0x8000, 3);  // miss
    const std::size_t hit = m.read(second_id, kBase + 0x1000, 3);
    b.run(m);
    b.expect_clean_run();
    SCOPED_TRACE("second id " + std::to_string(second_id));
    if (second_id == 0) {
      EXPECT_GT(m.first_beat_cycle(hit), m.last_beat_cycle(a));
    } else {
      EXPECT_LT(m.last_beat_cycle(hit), m.first_beat_cycle(a));
    }
    EXPECT_TRUE(m.errors().empty()) << mem::test::joined(m.errors());
  }
}

TEST(AxiBridge, AddressErrorsBecomeDecodeErrors) {
  const MemorySystemConfig mc = small_config("ideal", false);
  Bench b(mc, bridge_config(mc, false));
  ScriptedMaster m{ScriptedMaster::Options{}};
  const std::uint64_t outside = kBase + mc.memory.size + 0x100;
  const std::size_t r = m.read(0, outside, 1);
  const std::size_t w = m.write(1, outside, pattern(32, 1));
  b.run(m);
  b.expect_clean_run();
  EXPECT_EQ(m.read_resp(r), std::vector<unsigned>(2, kAxiRespDecErr));
  EXPECT_EQ(m.write_resp(w), kAxiRespDecErr);
  EXPECT_EQ(b.stats.value("sys.noc.address_errors"), 2u);
}

// An address error is answered at once even for a request that waited for END_REQ while the core
// ran ahead: behind a 2-piece read (a 16-byte interconnect holds its path 4 cycles per 64-byte
// piece) the error read is sent 4 cycles after it was ready, well before the 12 ns min_latency
// after the first piece. The decoupled run still matches the lock-step one.
TEST(AxiBridge, AddressErrorsBehindHeldBackRequests) {
  MemorySystemConfig mc = small_config("ideal", false);
  mc.interconnect.width_bytes = 16;
  const std::uint64_t outside = kBase + mc.memory.size + 0x100;
  std::vector<Event> trace[2];
  for (const bool lockstep : {true, false}) {
    SCOPED_TRACE(lockstep ? "lockstep" : "decoupled");
    Bench b(mc, bridge_config(mc, lockstep));
    ScriptedMaster m{ScriptedMaster::Options{}};
    const std::size_t big = m.read(0, kBase + 0x400, 7);  // 2 pieces of 64 bytes
    const std::size_t r = m.read(1, outside, 0);
    const std::size_t w = m.write(2, outside, pattern(16, 2));
    b.run(m);
    b.expect_clean_run();
    EXPECT_EQ(m.read_resp(big), std::vector<unsigned>(8, kAxiRespOkay));
    EXPECT_EQ(m.read_resp(r), std::vector<unsigned>(1, kAxiRespDecErr));
    EXPECT_EQ(m.write_resp(w), kAxiRespDecErr);
    EXPECT_GE(b.stat("request_wait_cycles"), 3u);              // the error read was held back
    EXPECT_LT(m.last_beat_cycle(r), m.first_beat_cycle(big));  // id 1 overtakes id 0
    trace[lockstep] = m.trace();
  }
  EXPECT_EQ(first_difference(trace[1], trace[0]), "");
}

TEST(AxiBridge, WatchdogReportsTheCoreAndTheOutstandingTransactions) {
  const MemorySystemConfig mc = small_config("ideal", false);
  for (const bool lockstep : {true, false}) {
    for (const bool issue_read : {false, true}) {
      SCOPED_TRACE(std::string(lockstep ? "lockstep" : "decoupled") +
                   (issue_read ? ", read never taken" : ", idle"));
      AxiBridgeConfig bc = bridge_config(mc, lockstep);
      bc.watchdog_cycles = 1000;
      Bench b(mc, bc);
      StuckMaster core(issue_read);
      b.run(core);
      const std::string& e = b.driver->error;
      // The read's handshake in cycle 0 is the last progress.
      const std::string head = issue_read ? "watchdog: no progress for 1000 cycles (cycle 1000)"
                                          : "watchdog: no progress for 1000 cycles (cycle 999)";
      EXPECT_NE(e.find(head), std::string::npos) << e;
      EXPECT_NE(e.find("StuckMaster: waiting forever"), std::string::npos) << e;
      if (issue_read) {
        EXPECT_NE(e.find("read id 1 addr 0x80000100 len 3, accepted in cycle 0, issued in cycle 1"),
                  std::string::npos)
            << e;
      }
    }
  }
}

TEST(AxiBridge, TooLargeMinLatencyIsDetected) {
  const MemorySystemConfig mc = small_config("ideal", false);  // true minimum 12 ns
  AxiBridgeConfig bc = bridge_config(mc, false);
  bc.min_latency = ns(30);
  Bench b(mc, bc);
  ScriptedMaster m{ScriptedMaster::Options{}};
  m.read(0, kBase, 3);
  b.run(m);
  EXPECT_NE(b.driver->error.find("min_latency = 30 ns is not a lower bound"), std::string::npos)
      << b.driver->error;
  // The same script in lock step does not use the bound.
  bc.lockstep = true;
  Bench l(mc, bc);
  ScriptedMaster m2{ScriptedMaster::Options{}};
  m2.read(0, kBase, 3);
  l.run(m2);
  l.expect_clean_run();
}

TEST(AxiBridge, ProtocolViolationsByTheCoreAreReported) {
  struct Case {
    std::string expect;
    std::function<void(ScriptedMaster&)> script;
  };
  const std::vector<Case> cases = {
      {"ARADDR = 0x80000008 is not aligned", [](ScriptedMaster& m) { m.read(0, kBase + 8, 0); }},
      {"AR burst at 0x80000ff0 of 2 beats crosses a 4 KiB boundary",
       [](ScriptedMaster& m) { m.read(0, kBase + 0xFF0, 1); }},
      {"AWLEN = 300 > 255",
       [](ScriptedMaster& m) { m.write(0, kBase, std::vector<std::uint8_t>(16 * 301)); }},
  };
  const MemorySystemConfig mc = small_config("ideal", false);
  for (const Case& c : cases) {
    Bench b(mc, bridge_config(mc, false));
    ScriptedMaster m{ScriptedMaster::Options{}};
    c.script(m);
    b.run(m);
    EXPECT_NE(b.driver->error.find("AXI protocol violation by the core in cycle 1: " + c.expect),
              std::string::npos)
        << b.driver->error;
  }
}

// w_last on the wrong beat (a master whose W burst is one beat short).
TEST(AxiBridge, WLastOnTheWrongBeatIsAViolation) {
  class ShortBurst : public ClockedCore {
   public:
    unsigned bus_bytes() const override { return 16; }
    void cycle(const AxiIn& in, AxiOut& out) override {
      out = AxiOut{};
      out.aw_valid = !aw_done_;
      out.aw_addr = kBase;
      out.aw_len = 3;
      out.w_valid = beat_ < 3;
      out.w_strb = ~std::uint64_t{0};
      out.w_last = beat_ == 2;  // should be on beat 3
      if (out.aw_valid && in.aw_ready) aw_done_ = true;
      if (out.w_valid && in.w_ready) ++beat_;
    }
    bool done() const override { return false; }
    bool progressed() const override { return true; }
    std::string dump_state() const override { return "ShortBurst"; }

   private:
    bool aw_done_ = false;
    unsigned beat_ = 0;
  };
  const MemorySystemConfig mc = small_config("ideal", false);
  Bench b(mc, bridge_config(mc, false));
  ShortBurst core;
  b.run(core);
  EXPECT_NE(b.driver->error.find("in cycle 2: w_last on beat 2 of the write burst at 0x80000000 "
                                 "(AWLEN = 3)"),
            std::string::npos)
      << b.driver->error;
}

// W beats before their AW are buffered (w_ready with a free write slot); the write is sent at the
// edge after the AW completes it: beats in cycles 0..3, AW in cycle 6, B visible in cycle
// 6 + 1 + 12 (ideal memory behind the L2).
TEST(AxiBridge, WBeatsMayPrecedeTheirAw) {
  class WFirst : public ClockedCore {
   public:
    unsigned bus_bytes() const override { return 16; }
    void cycle(const AxiIn& in, AxiOut& out) override {
      out = AxiOut{};
      out.w_valid = beat_ < 4;
      if (out.w_valid) {
        std::copy_n(pattern(64, 3).begin() + beat_ * 16, 16, out.w_data.begin());
        out.w_strb = 0xFFFF;
        out.w_last = beat_ == 3;
      }
      out.aw_valid = !aw_done_ && cycle_ >= 6;
      out.aw_id = 2;
      out.aw_addr = kBase + 0x300;
      out.aw_len = 3;
      out.b_ready = true;
      if (out.w_valid && in.w_ready) ++beat_;
      if (out.aw_valid && in.aw_ready) aw_done_ = true;
      if (in.b_valid) {
        b_cycle = cycle_;
        b_resp = in.b_resp;
        b_id = in.b_id;
      }
      ++cycle_;
    }
    bool done() const override { return b_cycle != 0; }
    bool progressed() const override { return true; }
    std::string dump_state() const override { return "WFirst"; }
    std::uint64_t b_cycle = 0;
    unsigned b_resp = 99, b_id = 99;

   private:
    unsigned beat_ = 0;
    bool aw_done_ = false;
    std::uint64_t cycle_ = 0;
  };
  const MemorySystemConfig mc = small_config("ideal", false);
  for (const bool lockstep : {true, false}) {
    Bench b(mc, bridge_config(mc, lockstep));
    WFirst core;
    b.run(core);
    b.expect_clean_run();
    EXPECT_EQ(core.b_cycle, 6u + 1 + 12);
    EXPECT_EQ(core.b_resp, kAxiRespOkay);
    EXPECT_EQ(core.b_id, 2u);
    EXPECT_EQ(b.stat("w_stall_cycles"), 0u);
    std::vector<std::uint8_t> back(64);
    b.sys.store().read(kBase + 0x300, back.data(), back.size());
    EXPECT_EQ(back, pattern(64, 3));
  }
}

TEST(AxiBridge, BadConfigIsRejected) {
  FreshContext fresh;
  const auto rejects = [](const std::string& field, auto mutate) {
    AxiBridgeConfig c;
    mutate(c);
    try {
      c.validate();
      ADD_FAILURE() << field << " accepted";
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find("AxiBridgeConfig." + field), std::string::npos)
          << e.what();
    }
  };
  rejects("clock_mhz", [](AxiBridgeConfig& c) { c.clock_mhz = 0; });
  rejects("clock_mhz", [](AxiBridgeConfig& c) { c.clock_mhz = 200000; });
  rejects("quantum_cycles", [](AxiBridgeConfig& c) { c.quantum_cycles = 0; });
  rejects("watchdog_cycles", [](AxiBridgeConfig& c) { c.watchdog_cycles = 0; });
  rejects("max_outstanding_reads", [](AxiBridgeConfig& c) { c.max_outstanding_reads = 0; });
  rejects("max_outstanding_writes", [](AxiBridgeConfig& c) { c.max_outstanding_writes = 257; });
  rejects("split_bytes", [](AxiBridgeConfig& c) { c.split_bytes = 48; });
  EXPECT_NO_THROW(AxiBridgeConfig{}.validate());
  mem::StatsRegistry stats;
  AxiBridgeConfig bad;
  bad.max_outstanding_reads = 0;
  EXPECT_THROW(AxiTlmBridge("bridge", bad, stats), std::invalid_argument);
}

TEST(AxiBridge, SplitBelowTheBusWidthIsRejectedAtRun) {
  const MemorySystemConfig mc = small_config("ideal", false);
  AxiBridgeConfig bc = bridge_config(mc, false);
  bc.split_bytes = 8;
  Bench b(mc, bc);
  ScriptedMaster m{ScriptedMaster::Options{}};
  b.run(m);
  EXPECT_NE(b.driver->error.find("split_bytes = 8 is below the core's bus_bytes = 16"),
            std::string::npos)
      << b.driver->error;
}

// memory_path_min_latency() is a lower bound of every latency measured under random traffic,
// and the measured minimum reaches it where the docs say it is exact.
TEST(AxiBridge, MinLatencyHelperBoundsMeasuredLatencies) {
  for (const NamedConfig& nc : configs()) {
    SCOPED_TRACE(nc.name);
    Bench b(nc.cfg, bridge_config(nc.cfg, true));  // lock step: the bound is not relied on
    ScriptedMaster m{ScriptedMaster::Options{}};
    Script s;
    random_script(m, s, 11, 100);
    preload(b, s);
    b.run(m);
    b.expect_clean_run();
    const sc_core::sc_time bound = memory_path_min_latency(nc.cfg);
    EXPECT_GE(b.bridge.observed_min_latency(), bound);
    if (nc.name == "ideal_l2" || nc.name == "fixed_bypass") {
      EXPECT_EQ(b.bridge.observed_min_latency(), bound);
    }
    std::cout << "[ bound ] " << nc.name << ": min_latency bound " << bound << ", measured min "
              << b.bridge.observed_min_latency() << "\n";
  }
  // DRAM bypassed: 2 ns + (16 + 16 + 4) cycles of 625 ps - 1 ps (tCWL = 16 < tCL = 22).
  EXPECT_EQ(memory_path_min_latency(small_config("dram", true)), ps(2000 + 22500 - 1));
}

// Figures: synchronisations per 1000 cycles and simulated cycles per second of the bridge with
// trivial cores (printed), and the sync counts that make them possible (asserted).
TEST(AxiBridge, SyncCountsAndSpeed) {
  const MemorySystemConfig mc = small_config("ideal", false);
  for (const bool lockstep : {true, false}) {
    const std::uint64_t n = lockstep ? 200'000 : 2'000'000;
    Bench b(mc, bridge_config(mc, lockstep));
    IdleCore core(n);
    b.run(core);
    b.expect_clean_run();
    EXPECT_EQ(b.cycles(), n);
    if (lockstep) {
      EXPECT_EQ(b.stat("syncs"), n);
    } else {
      EXPECT_LE(b.stat("syncs"), n / 10000 + 2);
    }
    std::cout << "[ speed ] idle core, " << (lockstep ? "lockstep" : "decoupled") << ": "
              << b.stat("syncs") * 1000.0 / n << " syncs / 1000 cycles, " << n / b.seconds / 1e6
              << " M cycles/s\n";
  }
  struct Traffic {
    std::string what;
    unsigned len, gap;
  };
  const Traffic traffic[] = {{"back-to-back 4-beat reads", 3, 0},
                             {"16-beat reads every 64 cycles", 15, 64}};
  for (const std::string model : {"ideal", "dram"}) {
    for (const Traffic& t : traffic) {
      const MemorySystemConfig c = small_config(model, false);
      std::uint64_t syncs[2], cycles[2];
      for (const bool lockstep : {true, false}) {
        Bench b(c, bridge_config(c, lockstep));
        StreamCore core(t.gap == 0 ? 20000 : 2000, 8, t.len, t.gap);
        b.run(core);
        b.expect_clean_run();
        syncs[lockstep] = b.stat("syncs");
        cycles[lockstep] = b.cycles();
        std::cout << "[ speed ] " << t.what << ", " << model << " + L2, "
                  << (lockstep ? "lockstep" : "decoupled") << ": " << b.cycles() << " cycles, "
                  << b.stat("syncs") * 1000.0 / b.cycles() << " syncs and "
                  << b.stat("sync_points") * 1000.0 / b.cycles() << " sync points / 1000 cycles, "
                  << b.stat("transactions") * 1000.0 / b.cycles() << " transactions / 1000 cycles, "
                  << b.cycles() / b.seconds / 1e6 << " M cycles/s\n";
      }
      EXPECT_EQ(cycles[0], cycles[1]);
      EXPECT_LT(syncs[0] * (t.gap == 0 ? 1 : 3), syncs[1]);
    }
  }
}

}  // namespace
}  // namespace sasim::cosim
