// Cache: timing (hit, miss, MSHR merge, backpressure), replacement through the
// cache, write policies, bypass, errors, and a random tester per replacement
// policy x write policy with a shadow memory. Every test puts a
// ProtocolChecker on both of the cache's sockets and expects no violations.
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <unordered_set>
#include <vector>

#include "sasim/mem/cache.hpp"
#include "sasim/mem/simple_memory.hpp"
#include "support/mem_bench.hpp"

namespace sasim::mem::test {
namespace {

using sasim::mem::StatsRegistry;
using sc_core::sc_time;
using sc_core::SC_ZERO_TIME;
using tlm::tlm_generic_payload;

// ---------------------------------------------------------------------------
// Downstream memory for the tests: an AT target that answers each request a
// fixed latency after its BEGIN_REQ (separately for reads and writes), or, in
// random mode, after a random latency and with a random END_REQ delay, so
// responses come back out of order. It performs the access on the store just
// before BEGIN_RESP, logs every request, and offers hooks for the checks.
// ---------------------------------------------------------------------------
class TestMemory : public sc_core::sc_module {
 public:
  struct Access {
    tlm::tlm_command cmd;
    std::uint64_t addr;
    unsigned len;
    const tlm_generic_payload* payload;
    sc_time begin_req, begin_resp;
  };

  tlm_utils::simple_target_socket<TestMemory> socket;
  std::vector<Access> log;
  std::function<void(const tlm_generic_payload&)> on_request;     // at BEGIN_REQ
  std::function<void(const tlm_generic_payload&)> before_access;  // just before the store access
  std::function<bool(const tlm_generic_payload&)> fail_if;  // answer TLM_GENERIC_ERROR_RESPONSE

  SC_HAS_PROCESS(TestMemory);
  TestMemory(const sc_core::sc_module_name& name, BackingStore& store, sc_time read_latency,
             sc_time write_latency)
      : sc_module(name),
        socket("socket"),
        store_(store),
        read_latency_(read_latency),
        write_latency_(write_latency) {
    socket.register_nb_transport_fw(this, &TestMemory::fw);
    SC_METHOD(send);
    sensitive << resp_ev_;
    dont_initialize();
    SC_METHOD(end_req);
    sensitive << end_req_ev_;
    dont_initialize();
  }

  // How BEGIN_REQ is answered (fixed-latency mode): TLM_UPDATED + END_REQ (the
  // response follows on the backward path), or the whole response on the
  // return path with the latency as annotated delay: TLM_UPDATED + BEGIN_RESP
  // (the initiator then sends END_RESP) or TLM_COMPLETED. The last two apply
  // only while no other response is pending (tests use them one at a time).
  enum class Return { kEndReq, kBeginResp, kCompleted };
  void set_return(Return r) { return_ = r; }

  void randomize(std::uint64_t seed, sc_time min_latency, sc_time max_latency) {
    rng_ = std::make_unique<std::mt19937_64>(seed);
    min_ = min_latency;
    max_ = max_latency;
  }
  std::vector<Access> writes() const { return filter(tlm::TLM_WRITE_COMMAND); }
  std::vector<Access> reads() const { return filter(tlm::TLM_READ_COMMAND); }

 private:
  std::vector<Access> filter(tlm::tlm_command c) const {
    std::vector<Access> out;
    for (const Access& a : log)
      if (a.cmd == c) out.push_back(a);
    return out;
  }

  tlm::tlm_sync_enum fw(tlm_generic_payload& t, tlm::tlm_phase& ph, sc_time& d) {
    const sc_time now = sc_core::sc_time_stamp();
    EXPECT_EQ(d, SC_ZERO_TIME);
    if (ph == tlm::END_RESP) {
      EXPECT_EQ(resp_, &t);
      resp_ = nullptr;
      t.release();
      resp_ev_.notify(SC_ZERO_TIME);
      return tlm::TLM_COMPLETED;
    }
    EXPECT_EQ(ph, tlm::BEGIN_REQ);
    EXPECT_EQ(req_, nullptr) << "BEGIN_REQ before END_REQ";
    t.acquire();
    index_[&t] = log.size();
    log.push_back({t.get_command(), t.get_address(), t.get_data_length(), &t, now, SC_ZERO_TIME});
    if (on_request) on_request(t);
    sc_time lat = t.is_write() ? write_latency_ : read_latency_;
    if (rng_) {
      lat = min_ + (max_ - min_) * static_cast<double>((*rng_)() % 1001) / 1000.0;
      const unsigned end_req_ps = static_cast<unsigned>((*rng_)() % 4) * 1000;
      if (end_req_ps > 0) {  // END_REQ later on the backward path
        req_ = &t;
        end_req_ev_.notify(sc_time(end_req_ps, sc_core::SC_PS));
        schedule(t, now + sc_time(end_req_ps, sc_core::SC_PS) + lat);
        return tlm::TLM_ACCEPTED;
      }
    }
    if (return_ != Return::kEndReq && resp_ == nullptr && pending_.empty()) {
      if (before_access) before_access(t);
      access(t);
      log.back().begin_resp = now + lat;
      index_.erase(&t);
      d = lat;
      if (return_ == Return::kCompleted) {
        t.release();
        return tlm::TLM_COMPLETED;
      }
      resp_ = &t;
      ph = tlm::BEGIN_RESP;
      return tlm::TLM_UPDATED;
    }
    schedule(t, now + lat);
    ph = tlm::END_REQ;
    return tlm::TLM_UPDATED;
  }

  void schedule(tlm_generic_payload& t, sc_time at) {
    pending_.emplace(at, &t);
    resp_ev_.notify(at - sc_core::sc_time_stamp());
  }

  void end_req() {
    tlm_generic_payload* t = req_;
    req_ = nullptr;
    tlm::tlm_phase ph = tlm::END_REQ;
    sc_time d = SC_ZERO_TIME;
    EXPECT_EQ(socket->nb_transport_bw(*t, ph, d), tlm::TLM_ACCEPTED);
  }

  void send() {
    const sc_time now = sc_core::sc_time_stamp();
    while (resp_ == nullptr && !pending_.empty()) {
      const auto it = pending_.begin();
      if (it->first > now) {
        resp_ev_.notify(it->first - now);
        return;
      }
      tlm_generic_payload& t = *it->second;
      pending_.erase(it);
      if (before_access) before_access(t);
      access(t);
      log[index_.at(&t)].begin_resp = now;
      index_.erase(&t);
      resp_ = &t;
      tlm::tlm_phase ph = tlm::BEGIN_RESP;
      sc_time d = SC_ZERO_TIME;
      const tlm::tlm_sync_enum r = socket->nb_transport_bw(t, ph, d);
      if (r == tlm::TLM_COMPLETED || (r == tlm::TLM_UPDATED && ph == tlm::END_RESP)) {
        resp_ = nullptr;
        t.release();
      }
    }
  }

  void access(tlm_generic_payload& t) {
    if (fail_if && fail_if(t)) {
      t.set_response_status(tlm::TLM_GENERIC_ERROR_RESPONSE);
      return;
    }
    const unsigned len = t.get_data_length();
    if (!store_.contains(t.get_address(), len)) {
      t.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
      return;
    }
    const unsigned char* be = t.get_byte_enable_ptr();
    const unsigned be_len = t.get_byte_enable_length();
    if (t.is_write()) {
      store_.write(t.get_address(), t.get_data_ptr(), len, be, be ? be_len : 0);
    } else {
      std::vector<std::uint8_t> tmp(len);
      store_.read(t.get_address(), tmp.data(), len);
      for (unsigned i = 0; i < len; ++i)
        if (be == nullptr || be[i % be_len] != 0) t.get_data_ptr()[i] = tmp[i];
    }
    t.set_response_status(tlm::TLM_OK_RESPONSE);
  }

  BackingStore& store_;
  Return return_ = Return::kEndReq;
  sc_time read_latency_, write_latency_, min_, max_;
  std::unique_ptr<std::mt19937_64> rng_;
  std::multimap<sc_time, tlm_generic_payload*> pending_;  // equal times: arrival order
  std::map<const tlm_generic_payload*, std::size_t> index_;
  tlm_generic_payload* req_ = nullptr;   // END_REQ withheld
  tlm_generic_payload* resp_ = nullptr;  // BEGIN_RESP sent, END_RESP outstanding
  sc_core::sc_event resp_ev_, end_req_ev_;
};

// initiator -> checker -> cache -> checker -> memory, store [0, 1 MiB).
struct Bench : FreshContext {
  explicit Bench(const CacheConfig& cfg, unsigned outstanding = 1, sc_time read_lat = ns(40),
                 sc_time write_lat = ns(40))
      : store(0, 1 << 20),
        init("init", outstanding),
        up_check("up_check", false),
        cache("l2", cfg, store, stats),
        down_check("down_check", false),
        mem("mem", store, read_lat, write_lat) {
    init.socket.bind(up_check.in);
    up_check.out.bind(cache.upstream);
    cache.downstream.bind(down_check.in);
    down_check.out.bind(mem.socket);
  }
  bool run() { return run_until_done(init); }
  std::uint64_t stat(const std::string& n) const { return stats.value("l2." + n); }
  // Expects a clean protocol on both hops and nothing left in flight.
  void expect_clean_protocol() {
    expect_clean(up_check);
    expect_clean(down_check);
    EXPECT_GT(up_check.transactions_completed(), 0u);
    EXPECT_EQ(cache.mshrs_in_use(), 0u);
    EXPECT_EQ(init.payloads_in_use(), 0u);
  }

  BackingStore store;
  StatsRegistry stats;
  AtTestInitiator init;
  ProtocolChecker up_check;
  Cache cache;
  ProtocolChecker down_check;
  TestMemory mem;
};

// 2 sets x 4 ways of 128-byte lines (1 KiB, the smallest size), 1 GHz.
CacheConfig tiny(const std::string& replacement = "lru", const std::string& wp = "wb_wa") {
  return {.size_bytes = 1024,
          .line_bytes = 128,
          .ways = 4,
          .hit_latency_cycles = 10,
          .mshrs = 4,
          .clock_mhz = 1000,
          .replacement = replacement,
          .write_policy = wp};
}

std::vector<std::uint8_t> bytes(unsigned n, std::uint8_t first) {
  std::vector<std::uint8_t> v(n);
  for (unsigned i = 0; i < n; ++i) v[i] = static_cast<std::uint8_t>(first + i);
  return v;
}

// ---------------------------------------------------------------------------
// Configuration
// ---------------------------------------------------------------------------

TEST(CacheConfig, DefaultsAreValidAndEveryRangeIsChecked) {
  EXPECT_EQ(sasim::mem::validate(CacheConfig{}), 2048u);  // 1 MiB / (64 B * 8)
  const auto rejects = [](auto mutate, const std::string& key) {
    CacheConfig c;
    mutate(c);
    try {
      sasim::mem::validate(c);
      ADD_FAILURE() << key << ": no exception";
    } catch (const std::invalid_argument& e) {
      EXPECT_EQ(std::string(e.what()).rfind(key + ": ", 0), 0u) << e.what();
    }
  };
  rejects([](CacheConfig& c) { c.size_bytes = 512; }, "size_bytes");
  rejects([](CacheConfig& c) { c.size_bytes = 3 << 10; }, "size_bytes");
  rejects([](CacheConfig& c) { c.size_bytes = 128ULL << 20; }, "size_bytes");
  rejects([](CacheConfig& c) { c.line_bytes = 8; }, "line_bytes");
  rejects([](CacheConfig& c) { c.line_bytes = 96; }, "line_bytes");
  rejects([](CacheConfig& c) { c.line_bytes = 2048; }, "line_bytes");
  rejects([](CacheConfig& c) { c.ways = 0; }, "ways");
  rejects([](CacheConfig& c) { c.ways = 65; }, "ways");
  rejects([](CacheConfig& c) { c.ways = 3; }, "ways");  // 1 MiB / (64 * 3) is no whole number
  rejects(
      [](CacheConfig& c) {
        c.size_bytes = 1024;
        c.line_bytes = 1024;
        c.ways = 2;
      },
      "ways");
  rejects([](CacheConfig& c) { c.hit_latency_cycles = 1001; }, "hit_latency_cycles");
  rejects([](CacheConfig& c) { c.mshrs = 0; }, "mshrs");
  rejects([](CacheConfig& c) { c.mshrs = 257; }, "mshrs");
  rejects([](CacheConfig& c) { c.clock_mhz = 0; }, "clock_mhz");
  rejects([](CacheConfig& c) { c.replacement = "mru"; }, "replacement");
  rejects([](CacheConfig& c) { c.write_policy = "wt_wa"; }, "write_policy");
  CacheConfig c;
  c.replacement = "nope";
  try {
    sasim::mem::validate(c);
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(),
                 "replacement: 'nope' is not allowed (allowed lru, plru, fifo, random, srrip)");
  }
  // The extremes of every range are accepted.
  const CacheConfig lo{
      .size_bytes = 1024, .line_bytes = 16, .ways = 64, .hit_latency_cycles = 0, .mshrs = 1};
  EXPECT_EQ(sasim::mem::validate(lo), 1u);
  const CacheConfig hi{.size_bytes = 64ULL << 20,
                       .line_bytes = 1024,
                       .ways = 1,
                       .hit_latency_cycles = 1000,
                       .mshrs = 256};
  EXPECT_EQ(sasim::mem::validate(hi), 65536u);
}

TEST(Cache, ConstructorRejectsAnInvalidConfigAndRegistersItsCounters) {
  fresh_systemc();
  BackingStore store(0, 1 << 20);
  StatsRegistry stats;
  CacheConfig bad = tiny();
  bad.mshrs = 0;
  EXPECT_THROW(Cache("bad", bad, store, stats), std::invalid_argument);
  Cache c("l1d", tiny(), store, stats);
  for (const char* n :
       {"reads", "writes", "hits", "misses", "mshr_merges", "evictions", "writebacks", "bypassed",
        "mshr_full_stall_cycles", "set_busy_stall_cycles", "errors"}) {
    EXPECT_TRUE(stats.has(std::string("l1d.") + n)) << n;
  }
  EXPECT_EQ(c.sets(), 2u);
  EXPECT_EQ(c.clock_period(), ns(1));
  EXPECT_EQ(c.hit_rate(), 0.0);
}

// ---------------------------------------------------------------------------
// Latency
// ---------------------------------------------------------------------------

// Hits answer exactly hit_latency_cycles cache cycles after BEGIN_REQ: 10 cycles
// at 1 GHz = 10 ns, 3 cycles at 500 MHz = 6 ns, 0 cycles = same time.
TEST(Cache, HitLatencyIsExactlyHitLatencyCycles) {
  struct Case {
    unsigned cycles;
    double mhz;
    double expect_ns;
  };
  for (const Case& k : {Case{10, 1000, 10}, Case{3, 500, 6}, Case{0, 1000, 0}, Case{7, 250, 28}}) {
    CacheConfig cfg = tiny();
    cfg.hit_latency_cycles = k.cycles;
    cfg.clock_mhz = k.mhz;
    Bench b(cfg);
    // Spaced out: the tag pipeline takes one request per cycle.
    b.init.write(0x1000, bytes(8, 1));                          // miss, allocates
    const auto r = b.init.read(0x1004, 4, ns(100));             // hit
    const auto w = b.init.write(0x1010, bytes(4, 9), ns(200));  // hit
    const auto r2 = b.init.read(0x1010, 4, ns(300));            // hit, sees w
    ASSERT_TRUE(b.run());
    for (const auto id : {r, w, r2}) {
      EXPECT_EQ(b.init.record(id).latency(), ns(k.expect_ns)) << k.cycles << "@" << k.mhz;
      EXPECT_EQ(b.init.record(id).end_req, b.init.record(id).begin_req);  // accepted at once
      EXPECT_TRUE(b.init.record(id).ok());
    }
    EXPECT_EQ(b.init.record(r).data, (std::vector<std::uint8_t>{5, 6, 7, 8}));
    EXPECT_EQ(b.init.record(r2).data, bytes(4, 9));
    EXPECT_EQ(b.stat("hits"), 3u);
    EXPECT_EQ(b.stat("misses"), 1u);
    EXPECT_DOUBLE_EQ(b.cache.hit_rate(), 0.75);
    b.expect_clean_protocol();
  }
}

// Miss latency = hit path (hit_latency_cycles, the tag check) + downstream
// latency (fill BEGIN_REQ -> BEGIN_RESP): 10 ns + 40 ns = 50 ns; the fill is a
// line-sized, line-aligned read sent at BEGIN_REQ + 10 ns. At 250 MHz with
// 2 cycles: 8 ns + 40 ns.
TEST(Cache, MissLatencyIsHitPathPlusDownstreamLatency) {
  for (const auto& [cycles, mhz, hit_ns] : {std::tuple{10u, 1000.0, 10.0}, {2u, 250.0, 8.0}}) {
    CacheConfig cfg = tiny();
    cfg.hit_latency_cycles = cycles;
    cfg.clock_mhz = mhz;
    Bench b(cfg);
    const auto r = b.init.read(0x1234, 4);
    const auto w = b.init.write(0x2345, bytes(2, 1), ns(100));  // write miss (wb_wa allocates)
    ASSERT_TRUE(b.run());
    EXPECT_EQ(b.init.record(r).latency(), ns(hit_ns + 40));
    EXPECT_EQ(b.init.record(w).latency(), ns(hit_ns + 40));
    ASSERT_EQ(b.mem.log.size(), 2u);
    EXPECT_EQ(b.mem.log[0].cmd, tlm::TLM_READ_COMMAND);
    EXPECT_EQ(b.mem.log[0].addr, 0x1200u);
    EXPECT_EQ(b.mem.log[0].len, 128u);
    EXPECT_EQ(b.mem.log[0].begin_req, ns(hit_ns));
    EXPECT_EQ(b.mem.log[1].cmd, tlm::TLM_READ_COMMAND);
    EXPECT_EQ(b.mem.log[1].addr, 0x2300u);
    EXPECT_EQ(b.mem.log[1].begin_req, ns(100 + hit_ns));
    EXPECT_EQ(b.stat("misses"), 2u);
    b.expect_clean_protocol();
  }
}

// With a slow initiator (explicit END_RESP 5 ns after BEGIN_RESP) the next
// response waits for END_RESP; each access completes when its BEGIN_RESP is
// sent. Three hits accepted at 0, 1, 2 ns (one per cycle) are ready at 10, 11,
// 12 ns and answered at 10, 15, 20 ns.
TEST(Cache, ResponsesWaitForEndRespOfThePreviousOne) {
  Bench b(tiny(), 3);
  b.init.set_response_mode(AtTestInitiator::ResponseMode::kExplicitEndResp);
  b.init.set_end_resp_delay(ns(5));
  b.init.read(0x0, 4);
  ASSERT_TRUE(b.run());
  const sc_time t0 = ns(1000);
  const auto a = b.init.write(0x10, bytes(4, 1), t0);
  const auto c = b.init.read(0x10, 4, t0);
  const auto d = b.init.read(0x20, 4, t0);
  ASSERT_TRUE(b.run());
  EXPECT_EQ(b.init.record(a).end_req, t0);
  EXPECT_EQ(b.init.record(c).end_req, t0 + ns(1));
  EXPECT_EQ(b.init.record(d).end_req, t0 + ns(2));
  EXPECT_EQ(b.init.record(a).begin_resp, t0 + ns(10));
  EXPECT_EQ(b.init.record(c).begin_resp, t0 + ns(15));
  EXPECT_EQ(b.init.record(d).begin_resp, t0 + ns(20));
  EXPECT_EQ(b.init.record(c).data, bytes(4, 1));
  b.expect_clean_protocol();
}

// ---------------------------------------------------------------------------
// Replacement through the cache
// ---------------------------------------------------------------------------

// One trace per policy on 2 sets x 4 ways of 128 B, reads only, one at a time.
// Lines A..F = 0x000, 0x100, ..., 0x500 all map to set 0 (line number even);
// X = 0x080 maps to set 1 and is never evicted (set 1 holds only X).
// Trace: A B C D X A E B A C E D F B X. The first five fill invalid ways (the
// cache fills the lowest invalid way without asking the policy), then:
//  lru:    order after A hit: B C D A -> E evicts B; B evicts C; A hit;
//          C evicts D; E hit; D evicts B; F evicts A; B evicts C.
//  plru:   bits after fills: b0=0 b1=0 b2=0; A hit -> b0=1 b1=1; E: right, b2=0
//          -> way 2 (C); B, A hit; C: b0=1, b2=1 -> way 3 (D); E hit -> b0=0
//          b2=1; D: left, b1=1 -> way 1 (B); F: right, b2=1 -> way 3 (C);
//          B: left, b1=0 -> way 0 (A).
//  fifo:   fill order A B C D; E evicts A; B hit; A evicts B; C, E, D hit;
//          F evicts C; B evicts D.
//  srrip:  RRPV after fills [2 2 2 2], A hit [0 2 2 2]; E: age -> [1 3 3 3],
//          way 1 (B), insert [1 2 3 3]; B: way 2 (C) [1 2 2 3]; A hit
//          [0 2 2 3]; C: way 3 (D) [0 2 2 2]; E hit [0 0 2 2]; D: age
//          [1 1 3 3] way 2 (B) [1 1 2 3]; F: way 3 (C) [1 1 2 2]; B: age
//          [2 2 3 3] way 2 (D).
//  random: seed 1, k = splitmix64() % 4 = 1, 3, 2, 3, 1 (see
//          test_replacement.cpp): E -> way 1 (B); B -> way 3 (D); A, C, E hit;
//          D -> way 2 (C); F -> way 3 (B); B -> way 1 (E).
TEST(Cache, ReplacementTracePerPolicy) {
  const std::map<char, std::uint64_t> addr = {{'A', 0x000}, {'B', 0x100}, {'C', 0x200},
                                              {'D', 0x300}, {'E', 0x400}, {'F', 0x500},
                                              {'X', 0x080}};
  const std::string trace = "ABCDXAEBACEDFBX";
  // Per access: 'H' hit, 'M' miss into an invalid way, or the evicted line.
  const std::map<std::string, std::string> expect = {
      {"lru", "MMMMMHBCHDHBACH"},   {"plru", "MMMMMHCHHDHBCAH"},   {"fifo", "MMMMMHAHBHHHCDH"},
      {"srrip", "MMMMMHBCHDHBCDH"}, {"random", "MMMMMHBDHHHCBEH"},
  };
  for (const auto& [policy, outcome] : expect) {
    SCOPED_TRACE(policy);
    Bench b(tiny(policy));
    const auto present = [&] {
      std::set<char> s;
      for (const auto& [name, a] : addr)
        if (b.cache.probe(a).present) s.insert(name);
      return s;
    };
    std::uint64_t hits = 0;
    for (std::size_t i = 0; i < trace.size(); ++i) {
      const std::set<char> before = present();
      const auto id = b.init.read(addr.at(trace[i]) + 4 * i, 4);
      ASSERT_TRUE(b.run());
      const std::set<char> after = present();
      std::string evicted;
      for (const char c : before)
        if (!after.count(c)) evicted += c;
      const char want = outcome[i];
      if (want == 'H') {
        ++hits;
        EXPECT_EQ(b.init.record(id).latency(), ns(10)) << "access " << i << " " << trace[i];
        EXPECT_EQ(evicted, "") << i;
      } else {
        EXPECT_EQ(b.init.record(id).latency(), ns(50)) << "access " << i << " " << trace[i];
        EXPECT_EQ(evicted, want == 'M' ? "" : std::string(1, want)) << "access " << i;
      }
      EXPECT_TRUE(after.count(trace[i])) << i;
    }
    EXPECT_EQ(b.stat("hits"), hits);
    EXPECT_EQ(b.stat("misses"), trace.size() - hits);
    EXPECT_EQ(b.stat("evictions"), trace.size() - hits - 5);
    EXPECT_EQ(b.stat("writebacks"), 0u);
    EXPECT_DOUBLE_EQ(b.cache.hit_rate(), static_cast<double>(hits) / trace.size());
    b.expect_clean_protocol();
  }
}

// ---------------------------------------------------------------------------
// Write policies
// ---------------------------------------------------------------------------

// wb_wa: a write miss allocates (fill read, line dirty), write hits stay in the
// cache, a dirty victim is written back (one line-sized write, after the fill
// that evicted it), a clean victim is dropped silently.
TEST(Cache, WriteBackWriteAllocateTrace) {
  Bench b(tiny("lru", "wb_wa"));
  auto& in = b.init;
  in.write(0x008, bytes(4, 0x10));  // A: write miss -> fill A, A dirty
  in.write(0x010, bytes(4, 0x20));  // A: write hit, no traffic
  in.read(0x100, 4);                // B miss
  in.read(0x200, 4);                // C miss
  in.read(0x300, 4);                // D miss (set 0 full: A(dirty) B C D)
  ASSERT_TRUE(b.run());
  EXPECT_TRUE(b.cache.probe(0x000).present);
  EXPECT_TRUE(b.cache.probe(0x000).dirty);
  EXPECT_FALSE(b.cache.probe(0x100).dirty);
  EXPECT_TRUE(b.mem.writes().empty());
  ASSERT_EQ(b.mem.reads().size(), 4u);
  EXPECT_EQ(b.mem.reads()[0].addr, 0x000u);

  const sc_time t = ns(1000);
  in.read(0x400, 4, t);  // E: LRU victim A (dirty) -> fill E, then write back A
  ASSERT_TRUE(b.run());
  ASSERT_EQ(b.mem.log.size(), 6u);
  EXPECT_EQ(b.mem.log[4].cmd, tlm::TLM_READ_COMMAND);
  EXPECT_EQ(b.mem.log[4].addr, 0x400u);
  EXPECT_EQ(b.mem.log[5].cmd, tlm::TLM_WRITE_COMMAND);
  EXPECT_EQ(b.mem.log[5].addr, 0x000u);
  EXPECT_EQ(b.mem.log[5].len, 128u);
  EXPECT_EQ(b.mem.log[5].begin_req, t + ns(10));
  EXPECT_FALSE(b.cache.probe(0x000).present);
  in.read(0x500, 4, t + ns(1000));                   // F: victim B (clean) -> no write
  const auto ra = in.read(0x008, 12, t + ns(2000));  // A again: miss, data from the store
  ASSERT_TRUE(b.run());
  EXPECT_EQ(b.mem.writes().size(), 1u);
  std::vector<std::uint8_t> want = bytes(4, 0x10);
  want.insert(want.end(), 4, 0);
  for (auto v : bytes(4, 0x20)) want.push_back(v);
  EXPECT_EQ(in.record(ra).data, want);
  EXPECT_EQ(b.stat("writes"), 2u);
  EXPECT_EQ(b.stat("reads"), 6u);
  EXPECT_EQ(b.stat("hits"), 1u);
  EXPECT_EQ(b.stat("misses"), 7u);
  EXPECT_EQ(b.stat("evictions"), 3u);  // A, B, then C (for A)
  EXPECT_EQ(b.stat("writebacks"), 1u);
  b.expect_clean_protocol();
}

// wt_nwa: every write goes downstream as it is (address, length) after the
// H-cycle tag check, answers when the downstream does (10 + 40 ns), never
// allocates, and never dirties a line; evictions never write back.
TEST(Cache, WriteThroughNoWriteAllocateTrace) {
  Bench b(tiny("lru", "wt_nwa"));
  auto& in = b.init;
  const auto w0 = in.write(0x008, bytes(4, 0x10));           // miss: no allocate
  const auto w1 = in.write(0x010, bytes(4, 0x20), ns(100));  // miss again
  const auto r0 = in.read(0x008, 12, ns(200));               // read miss: fill A
  const auto w2 = in.write(0x018, bytes(4, 0x30), ns(300));  // hit: written through
  in.read(0x100, 4, ns(400));                                // B, C, D, E: E evicts A
  in.read(0x200, 4, ns(500));
  in.read(0x300, 4, ns(600));
  in.read(0x400, 4, ns(700));
  ASSERT_TRUE(b.run());
  for (const auto id : {w0, w1, w2}) EXPECT_EQ(in.record(id).latency(), ns(50)) << id;
  std::vector<std::uint8_t> want = bytes(4, 0x10);
  want.insert(want.end(), 4, 0);
  for (auto v : bytes(4, 0x20)) want.push_back(v);
  EXPECT_EQ(in.record(r0).data, want);
  const auto writes = b.mem.writes();
  ASSERT_EQ(writes.size(), 3u);
  EXPECT_EQ(writes[0].addr, 0x008u);
  EXPECT_EQ(writes[0].len, 4u);
  EXPECT_EQ(writes[0].begin_req, ns(10));
  EXPECT_EQ(writes[1].addr, 0x010u);
  EXPECT_EQ(writes[2].addr, 0x018u);
  EXPECT_EQ(writes[2].begin_req, ns(310));
  EXPECT_EQ(b.mem.reads().size(), 5u);  // fills A B C D E
  std::uint8_t third[4];
  b.store.read(0x018, third, 4);
  EXPECT_EQ(std::vector<std::uint8_t>(third, third + 4), bytes(4, 0x30));
  EXPECT_FALSE(b.cache.probe(0x000).present);  // A evicted (clean, no write-back)
  EXPECT_EQ(b.stat("hits"), 1u);
  EXPECT_EQ(b.stat("misses"), 7u);
  EXPECT_EQ(b.stat("evictions"), 1u);
  EXPECT_EQ(b.stat("writebacks"), 0u);
  b.expect_clean_protocol();
}

// A miss to a line whose write-back is still in flight holds its fill until the
// write-back completes (otherwise a slow write-back could overwrite newer data
// in the store). Direct-mapped, reads 20 ns, writes 200 ns.
TEST(Cache, FillWaitsForTheWriteBackOfTheSameLine) {
  CacheConfig cfg = tiny();
  cfg.ways = 1;  // 8 sets; 0x000 and 0x400 share set 0
  Bench b(cfg, 1, ns(20), ns(200));
  auto& in = b.init;
  in.write(0x000, bytes(4, 1));               // fill X, dirty
  in.read(0x400, 4, ns(100));                 // evicts X: write-back X at 110, done 310
  const auto r = in.read(0x000, 4, ns(150));  // X again: fill must wait until 310
  const auto w = in.write(0x004, bytes(4, 5), ns(400));
  ASSERT_TRUE(b.run());
  const auto log = b.mem.log;
  ASSERT_EQ(log.size(), 4u);  // fill X, fill Y, write-back X, fill X (Y is clean)
  EXPECT_EQ(log[2].cmd, tlm::TLM_WRITE_COMMAND);
  EXPECT_EQ(log[2].begin_req, ns(110));
  EXPECT_EQ(log[2].begin_resp, ns(310));
  EXPECT_EQ(log[3].cmd, tlm::TLM_READ_COMMAND);
  EXPECT_EQ(log[3].addr, 0x000u);
  EXPECT_EQ(log[3].begin_req, ns(310));
  EXPECT_EQ(in.record(r).begin_resp, ns(330));
  EXPECT_EQ(in.record(r).data, bytes(4, 1));
  EXPECT_EQ(in.record(w).latency(), ns(10));  // X is back and hits
  EXPECT_EQ(b.stat("writebacks"), 1u);
  b.expect_clean_protocol();
}

// ---------------------------------------------------------------------------
// MSHRs
// ---------------------------------------------------------------------------

// Three accesses to one line in flight: the first allocates an MSHR, the next
// two merge into it; one fill; all answer when it arrives (50 ns), in arrival
// order, so the read after the write sees the written bytes.
TEST(Cache, SecondaryMissesMergeIntoTheMshr) {
  Bench b(tiny(), 3);
  auto& in = b.init;
  const auto r0 = in.read(0x100, 4);
  const auto w = in.write(0x108, bytes(4, 0x77));
  const auto r1 = in.read(0x108, 4);
  ASSERT_TRUE(b.run());
  ASSERT_EQ(b.mem.log.size(), 1u);
  EXPECT_EQ(b.mem.log[0].addr, 0x100u);
  EXPECT_EQ(in.record(r0).end_req, ns(0));
  EXPECT_EQ(in.record(w).end_req, ns(1));
  EXPECT_EQ(in.record(r1).end_req, ns(2));
  for (const auto id : {r0, w, r1}) EXPECT_EQ(in.record(id).begin_resp, ns(50)) << id;
  EXPECT_EQ(in.record(r1).data, bytes(4, 0x77));
  EXPECT_EQ(b.stat("misses"), 3u);
  EXPECT_EQ(b.stat("mshr_merges"), 2u);
  EXPECT_TRUE(b.cache.probe(0x100).dirty);
  b.expect_clean_protocol();
}

// A secondary miss whose fill arrives before its own tag check is done
// answers at the end of that check: no response comes sooner than H cycles
// after acceptance (the bound the RTL <-> TLM bridge's temporal decoupling
// relies on; found by the random device programs).
TEST(Cache, MergedMissAnswersNoSoonerThanItsTagCheck) {
  Bench b(tiny(), 2, ns(5), ns(5));
  auto& in = b.init;
  const auto r0 = in.read(0x100, 4);         // fill sent at 10 ns, back at 15 ns
  const auto r1 = in.read(0x104, 4, ns(8));  // merges; its tag check ends at 18 ns
  ASSERT_TRUE(b.run());
  b.expect_clean_protocol();
  EXPECT_EQ(b.stat("mshr_merges"), 1u);
  EXPECT_EQ(in.record(r0).begin_resp, ns(15));
  EXPECT_EQ(in.record(r1).end_req, ns(8));
  EXPECT_EQ(in.record(r1).begin_resp, ns(18));
}

// Two MSHRs, three misses to different lines: the third request (BEGIN_REQ at
// 1 ns; the tag pipeline could take it at 2 ns) has its END_REQ withheld until
// the first fill returns (50 ns) and frees an MSHR: 48 stall cycles. Its fill
// goes out at 60 ns and it answers at 100 ns.
TEST(Cache, AllMshrsBusyWithholdsEndReq) {
  CacheConfig cfg = tiny();
  cfg.mshrs = 2;
  Bench b(cfg, 3);
  auto& in = b.init;
  const auto r0 = in.read(0x000, 4);
  const auto r1 = in.read(0x080, 4);
  const auto r2 = in.read(0x100, 4);
  ASSERT_TRUE(b.run());
  EXPECT_EQ(in.record(r1).end_req, ns(1));
  EXPECT_EQ(in.record(r2).begin_req, ns(1));
  EXPECT_EQ(in.record(r2).end_req, ns(50));
  EXPECT_EQ(in.record(r0).begin_resp, ns(50));
  EXPECT_EQ(in.record(r1).begin_resp, ns(51));
  EXPECT_EQ(in.record(r2).begin_resp, ns(100));
  ASSERT_EQ(b.mem.log.size(), 3u);
  EXPECT_EQ(b.mem.log[2].begin_req, ns(60));
  EXPECT_EQ(b.stat("mshr_full_stall_cycles"), 48u);
  EXPECT_EQ(b.stat("set_busy_stall_cycles"), 0u);
  b.expect_clean_protocol();
}

// Direct-mapped: a miss whose only way waits for its own fill cannot allocate;
// END_REQ is withheld until that fill is done and answered (50 ns); it could
// have been accepted at 1 ns (one request per cycle): 49 stall cycles.
TEST(Cache, SetWithEveryWayBusyWithholdsEndReq) {
  CacheConfig cfg = tiny();
  cfg.ways = 1;
  Bench b(cfg, 2);
  const auto r0 = b.init.read(0x000, 4);
  const auto r1 = b.init.read(0x400, 4);  // set 0 as well
  ASSERT_TRUE(b.run());
  EXPECT_EQ(b.init.record(r0).begin_resp, ns(50));
  EXPECT_EQ(b.init.record(r1).end_req, ns(50));
  EXPECT_EQ(b.init.record(r1).begin_resp, ns(100));
  EXPECT_EQ(b.stat("set_busy_stall_cycles"), 49u);
  EXPECT_EQ(b.stat("mshr_full_stall_cycles"), 0u);
  EXPECT_EQ(b.stat("evictions"), 1u);
  b.expect_clean_protocol();
}

// The downstream may answer on the return path of BEGIN_REQ (TLM_UPDATED +
// BEGIN_RESP, or TLM_COMPLETED) with the latency as annotated delay; the cache
// honours the delay: the same 50 ns miss latency.
TEST(Cache, DownstreamAnswersOnTheReturnPath) {
  for (const auto mode : {TestMemory::Return::kBeginResp, TestMemory::Return::kCompleted}) {
    for (const std::string wp : {"wb_wa", "wt_nwa"}) {
      Bench b(tiny("lru", wp));
      b.mem.set_return(mode);
      const auto w = b.init.write(0x108, bytes(4, 3));
      const auto r = b.init.read(0x100, 12, ns(100));
      const auto h = b.init.read(0x108, 4, ns(200));
      ASSERT_TRUE(b.run());
      EXPECT_EQ(b.init.record(w).latency(), ns(50));
      EXPECT_EQ(b.init.record(r).latency(), ns(wp == "wb_wa" ? 10 : 50));  // allocated by w?
      EXPECT_EQ(b.init.record(h).latency(), ns(10));
      std::vector<std::uint8_t> want(8, 0);
      for (auto v : bytes(4, 3)) want.push_back(v);
      EXPECT_EQ(b.init.record(r).data, want);
      EXPECT_EQ(b.init.record(h).data, bytes(4, 3));
      b.expect_clean_protocol();
    }
  }
}

// Against the project's FixedLatencyMemory (simple_memory.hpp): unloaded
// latency 40 ns for any size, so a miss takes 10 + 40 ns here too.
TEST(Cache, InFrontOfFixedLatencyMemory) {
  fresh_systemc();
  BackingStore store(0, 1 << 20);
  StatsRegistry stats;
  AtTestInitiator init("init", 2);
  ProtocolChecker up("up_check", false);
  Cache cache("l2", tiny(), store, stats);
  ProtocolChecker down("down_check", false);
  sasim::mem::FixedLatencyConfig mcfg;
  mcfg.latency_ns = 40;
  sasim::mem::FixedLatencyMemory mem("mem", mcfg, store, stats);
  init.socket.bind(up.in);
  up.out.bind(cache.upstream);
  cache.downstream.bind(down.in);
  down.out.bind(mem.socket);
  const auto w = init.write(0x1008, bytes(8, 1));
  const auto r = init.read(0x100C, 4, ns(100));
  const auto m = init.read(0x2000, 4, ns(200));
  ASSERT_TRUE(run_until_done(init));
  EXPECT_EQ(init.record(w).latency(), ns(50));
  EXPECT_EQ(init.record(r).latency(), ns(10));
  EXPECT_EQ(init.record(r).data, bytes(4, 5));
  EXPECT_EQ(init.record(m).latency(), ns(50));
  EXPECT_EQ(stats.value("mem.reads"), 2u);  // two fills
  EXPECT_EQ(stats.value("l2.hits"), 1u);
  expect_clean(up);
  expect_clean(down);
}

// A fill that fails downstream answers the access and every merged one with
// the fill's status and leaves the line invalid (the next access misses
// again); a failed write-through write returns its status upstream.
TEST(Cache, DownstreamErrorsReachTheInitiator) {
  Bench b(tiny("lru", "wt_nwa"), 2);
  bool failing = true;
  b.mem.fail_if = [&](const tlm_generic_payload& t) { return failing && t.get_address() < 0x80; };
  const auto r0 = b.init.read(0x00, 4);
  const auto r1 = b.init.read(0x10, 4);  // merges into r0's MSHR
  const auto w = b.init.write(0x20, bytes(4, 1), ns(100));
  ASSERT_TRUE(b.run());
  for (const auto id : {r0, r1, w})
    EXPECT_EQ(b.init.record(id).status, tlm::TLM_GENERIC_ERROR_RESPONSE) << id;
  EXPECT_EQ(b.init.record(r1).begin_resp, ns(50));
  EXPECT_FALSE(b.cache.probe(0x00).present);
  EXPECT_EQ(b.stat("mshr_merges"), 1u);
  failing = false;
  const auto r2 = b.init.read(0x00, 4, ns(200));
  ASSERT_TRUE(b.run());
  EXPECT_TRUE(b.init.record(r2).ok());
  EXPECT_EQ(b.init.record(r2).latency(), ns(50));  // missed again
  EXPECT_TRUE(b.cache.probe(0x00).present);
  b.expect_clean_protocol();
}

// ---------------------------------------------------------------------------
// Bypass, errors, debug transport
// ---------------------------------------------------------------------------

// Bypass forwards each request unchanged (even one that spans lines), adds no
// latency, and counts it; the tags stay empty.
TEST(Cache, BypassForwardsEveryRequestUnchanged) {
  CacheConfig cfg = tiny();
  cfg.bypass = true;
  Bench b(cfg, 2);
  auto& in = b.init;
  const auto w = in.write(0x07E, bytes(5, 1));  // spans 0x000 / 0x080
  const auto r = in.read(0x07E, 5, ns(100));
  const auto r2 = in.read(0x07E, 5, ns(200));
  ASSERT_TRUE(b.run());
  ASSERT_EQ(b.mem.log.size(), 3u);
  for (const auto& a : b.mem.log) {
    EXPECT_EQ(a.addr, 0x07Eu);
    EXPECT_EQ(a.len, 5u);
  }
  for (const auto id : {w, r, r2}) EXPECT_EQ(in.record(id).latency(), ns(40));
  EXPECT_EQ(in.record(r).data, bytes(5, 1));
  EXPECT_EQ(b.stat("bypassed"), 3u);
  EXPECT_EQ(b.stat("reads"), 2u);
  EXPECT_EQ(b.stat("writes"), 1u);
  EXPECT_EQ(b.stat("hits") + b.stat("misses"), 0u);
  EXPECT_FALSE(b.cache.probe(0x000).present);
  b.expect_clean_protocol();
}

// An access that spans a line boundary answers TLM_BURST_ERROR_RESPONSE, one
// outside the store TLM_ADDRESS_ERROR_RESPONSE, both after the hit latency and
// without downstream traffic or state change.
TEST(Cache, LineCrossingAndOutOfRangeAccessesAnswerErrors) {
  Bench b(tiny());
  const auto cross = b.init.read(0x07E, 4);
  const auto out = b.init.write(0x200000, bytes(4, 1));
  const auto edge = b.init.read(0x07C, 4);  // last 4 bytes of a line: fine
  ASSERT_TRUE(b.run());
  EXPECT_EQ(b.init.record(cross).status, tlm::TLM_BURST_ERROR_RESPONSE);
  EXPECT_EQ(b.init.record(cross).latency(), ns(10));
  EXPECT_EQ(b.init.record(out).status, tlm::TLM_ADDRESS_ERROR_RESPONSE);
  EXPECT_TRUE(b.init.record(edge).ok());
  EXPECT_EQ(b.mem.log.size(), 1u);
  EXPECT_EQ(b.stat("errors"), 2u);
  EXPECT_EQ(b.stat("reads") + b.stat("writes"), 1u);
  b.expect_clean_protocol();
}

TEST(Cache, DebugTransportGoesStraightToTheStore) {
  Bench b(tiny());
  std::uint8_t data[6] = {1, 2, 3, 4, 5, 6};
  tlm_generic_payload p;
  set_request(p, tlm::TLM_WRITE_COMMAND, 0x7E, data, 6);  // spans lines: fine without timing
  EXPECT_EQ(b.init.socket->transport_dbg(p), 6u);
  std::uint8_t back[6] = {};
  b.store.read(0x7E, back, 6);
  EXPECT_EQ(std::vector<std::uint8_t>(back, back + 6), std::vector<std::uint8_t>(data, data + 6));
  std::uint8_t rd[6] = {};
  p.set_command(tlm::TLM_READ_COMMAND);
  p.set_data_ptr(rd);
  EXPECT_EQ(b.init.socket->transport_dbg(p), 6u);
  EXPECT_EQ(std::vector<std::uint8_t>(rd, rd + 6), std::vector<std::uint8_t>(data, data + 6));
  p.set_address(0x100000);
  EXPECT_EQ(b.init.socket->transport_dbg(p), 0u);
  EXPECT_TRUE(b.mem.log.empty());
  EXPECT_EQ(b.stat("reads") + b.stat("writes"), 0u);
}

// ---------------------------------------------------------------------------
// Random tester
// ---------------------------------------------------------------------------

// An AT initiator issuing random reads and writes (random size and alignment
// within a line, sometimes byte enables) with up to `max_outstanding` in flight,
// checking every read against a shadow memory. Two accesses in flight never
// overlap where one of them writes (the base protocol does not order them), so
// the shadow is exact. It answers BEGIN_RESP at random with TLM_COMPLETED,
// TLM_UPDATED + END_RESP, or TLM_ACCEPTED and an END_RESP 1-5 cycles later.
class RandomInitiator : public sc_core::sc_module {
 public:
  static constexpr std::uint8_t kPoison = 0xCD;
  struct Params {
    std::uint64_t seed;
    unsigned ops;
    unsigned max_outstanding;
    std::uint64_t base, size;  // the region accessed
    unsigned line;
    sc_time period;
  };

  tlm_utils::simple_initiator_socket<RandomInitiator> socket;
  std::vector<std::uint8_t> shadow;
  std::vector<std::string> failures;
  std::function<void(std::uint64_t addr)> on_write_done;  // a write completed OK
  unsigned reads = 0, writes = 0, done = 0;

  SC_HAS_PROCESS(RandomInitiator);
  RandomInitiator(const sc_core::sc_module_name& name, const Params& p)
      : sc_module(name), socket("socket"), shadow(p.size, 0), p_(p), rng_(p.seed) {
    socket.register_nb_transport_bw(this, &RandomInitiator::bw);
    SC_THREAD(run);
    SC_METHOD(end_resp);
    sensitive << end_resp_ev_;
    dont_initialize();
  }
  bool in_flight(const tlm_generic_payload* t) const {
    return inflight_.count(const_cast<tlm_generic_payload*>(t)) != 0;
  }
  bool finished() const { return done == p_.ops; }

 private:
  struct Txn : tlm_generic_payload {
    explicit Txn(tlm::tlm_mm_interface* mm) : tlm_generic_payload(mm) {}
    std::vector<std::uint8_t> data, be;
    unsigned id = 0;
  };

  std::uint64_t rnd(std::uint64_t n) { return rng_() % n; }

  Txn* make(unsigned id) {
    Txn* t = pool_.allocate();
    t->id = id;
    const unsigned lines = static_cast<unsigned>(p_.size / p_.line);
    // Half the accesses go to one of the last 8 lines used (hits, merges).
    std::uint64_t line_no = rnd(lines);
    if (!recent_.empty() && rnd(2) == 0) line_no = recent_[rnd(recent_.size())];
    recent_.push_back(line_no);
    if (recent_.size() > 8) recent_.erase(recent_.begin());
    unsigned len, off;
    switch (rnd(4)) {
      case 0: {  // naturally aligned power of two
        len = 1u << rnd(std::countr_zero(p_.line) + 1);
        off = static_cast<unsigned>(rnd(p_.line / len)) * len;
        break;
      }
      case 1:  // whole line
        len = p_.line;
        off = 0;
        break;
      default:  // anything within the line
        off = static_cast<unsigned>(rnd(p_.line));
        len = 1 + static_cast<unsigned>(rnd(p_.line - off));
    }
    const bool write = rnd(100) < 45;
    t->data.assign(len, kPoison);
    if (write)
      for (auto& v : t->data) v = static_cast<std::uint8_t>(rng_());
    t->be.clear();
    if (rnd(4) == 0) {
      t->be.resize(1 + rnd(std::min(len, 8u)));
      for (auto& v : t->be) v = rnd(3) == 0 ? 0x00 : 0xFF;
    }
    set_request(*t, write ? tlm::TLM_WRITE_COMMAND : tlm::TLM_READ_COMMAND,
                p_.base + line_no * p_.line + off, t->data.data(), len,
                t->be.empty() ? nullptr : t->be.data(), static_cast<unsigned>(t->be.size()));
    return t;
  }

  bool conflicts(const Txn& t) const {
    const std::uint64_t a = t.get_address(), e = a + t.get_data_length();
    for (const tlm_generic_payload* o : inflight_) {
      const std::uint64_t oa = o->get_address(), oe = oa + o->get_data_length();
      if (a < oe && oa < e && (t.is_write() || o->is_write())) return true;
    }
    return false;
  }

  void run() {
    for (unsigned i = 0; i < p_.ops; ++i) {
      Txn* t = make(i);
      if (const auto gap = rnd(4); gap != 0) wait(p_.period * static_cast<double>(gap));
      while (req_ != nullptr || inflight_.size() >= p_.max_outstanding || conflicts(*t))
        wait(change_ev_);
      t->acquire();
      inflight_.insert(t);
      req_ = t;
      (t->is_write() ? writes : reads)++;
      tlm::tlm_phase ph = tlm::BEGIN_REQ;
      sc_time d = SC_ZERO_TIME;
      const auto r = socket->nb_transport_fw(*t, ph, d);
      if (r != tlm::TLM_ACCEPTED) fail(*t, "BEGIN_REQ not answered with TLM_ACCEPTED");
    }
  }

  tlm::tlm_sync_enum bw(tlm_generic_payload& gp, tlm::tlm_phase& ph, sc_time& d) {
    auto& t = static_cast<Txn&>(gp);
    if (d != SC_ZERO_TIME) fail(t, "annotated delay on the backward path");
    if (ph == tlm::END_REQ || ph == tlm::BEGIN_RESP) {
      if (req_ == &t) {
        req_ = nullptr;
        change_ev_.notify(SC_ZERO_TIME);
      }
    }
    if (ph == tlm::END_REQ) return tlm::TLM_ACCEPTED;
    if (ph != tlm::BEGIN_RESP) {
      fail(t, "unexpected phase");
      return tlm::TLM_ACCEPTED;
    }
    check(t);
    const auto mode = rnd(10);
    if (mode < 5) {
      finish(t);
      return tlm::TLM_COMPLETED;
    }
    if (mode < 7) {
      finish(t);
      ph = tlm::END_RESP;
      return tlm::TLM_UPDATED;
    }
    resp_ = &t;
    end_resp_ev_.notify(p_.period * static_cast<double>(1 + rnd(5)));
    return tlm::TLM_ACCEPTED;
  }

  void end_resp() {
    Txn& t = *resp_;
    resp_ = nullptr;
    tlm::tlm_phase ph = tlm::END_RESP;
    sc_time d = SC_ZERO_TIME;
    socket->nb_transport_fw(t, ph, d);
    finish(t);
  }

  void check(Txn& t) {
    if (!t.is_response_ok()) {
      fail(t, "response status " + t.get_response_string());
      return;
    }
    const std::uint64_t off = t.get_address() - p_.base;
    const unsigned len = t.get_data_length();
    const auto enabled = [&](unsigned i) { return t.be.empty() || t.be[i % t.be.size()] != 0; };
    if (t.is_write()) {
      for (unsigned i = 0; i < len; ++i)
        if (enabled(i)) shadow[off + i] = t.data[i];
      if (on_write_done) on_write_done(t.get_address());
      return;
    }
    for (unsigned i = 0; i < len; ++i) {
      const std::uint8_t want = enabled(i) ? shadow[off + i] : kPoison;
      if (t.data[i] != want) {
        std::ostringstream s;
        s << "read byte " << i << " is 0x" << std::hex << int{t.data[i]} << ", want 0x"
          << int{want};
        fail(t, s.str());
        return;
      }
    }
  }

  void finish(Txn& t) {
    inflight_.erase(&t);
    ++done;
    t.release();
    change_ev_.notify(SC_ZERO_TIME);
  }

  void fail(const Txn& t, const std::string& what) {
    if (failures.size() >= 10) return;
    std::ostringstream s;
    s << "op " << t.id << " " << (t.is_write() ? "write" : "read") << " 0x" << std::hex
      << t.get_address() << std::dec << " +" << t.get_data_length()
      << (t.be.empty() ? "" : " (byte enables)") << " at " << sc_core::sc_time_stamp() << ": "
      << what;
    failures.push_back(s.str());
  }

  Params p_;
  std::mt19937_64 rng_;
  PayloadPool<Txn> pool_;
  std::unordered_set<tlm_generic_payload*> inflight_;
  std::vector<std::uint64_t> recent_;
  Txn* req_ = nullptr;
  Txn* resp_ = nullptr;
  sc_core::sc_event change_ev_, end_resp_ev_;
};

struct RandomCase {
  std::string replacement, write_policy;
};
void PrintTo(const RandomCase& c, std::ostream* os) {
  *os << c.replacement << "/" << c.write_policy;
}

class CacheRandom : public ::testing::TestWithParam<RandomCase> {};

// 10000 random accesses per replacement policy x write policy on each of three
// small geometries (the seed is derived from the case name; the environment
// variable SASIM_CACHE_SEED replaces that base seed to explore others), against a downstream memory
// with random latencies and END_REQ delays (responses out of order). Checks, besides every read's
// data:
//  - the store (the one functional copy) equals the shadow at the end;
//  - wb_wa: every downstream write is a line-sized, line-aligned write-back of
//    a line written upstream since its previous write-back (so write-back
//    bytes <= line_bytes x dirty episodes), it carries the store's current
//    contents, and is still a no-op when the memory performs it; at the end a
//    line is dirty in the cache exactly if it was written since its last
//    write-back (no dirty data lost);
//  - wt_nwa: downstream writes are exactly the upstream writes, no write-backs;
//  - fills are line-sized and line-aligned; counters add up; both protocol
//    checkers are clean.
TEST_P(CacheRandom, ShadowMemoryAndWriteBackInvariants) {
  struct Geometry {
    unsigned line, ways, mshrs, hit_cycles, outstanding;
  };
  std::uint64_t seed_base = 0xcbf29ce484222325ULL;  // FNV-1a of the case name
  for (const char c : GetParam().replacement + GetParam().write_policy)
    seed_base = (seed_base ^ static_cast<std::uint8_t>(c)) * 0x100000001b3ULL;
  seed_base %= 1000000;
  if (const char* env = std::getenv("SASIM_CACHE_SEED")) seed_base = std::strtoull(env, nullptr, 0);
  constexpr unsigned kOps = 10000;
  for (const Geometry& g :
       {Geometry{64, 4, 4, 2, 6}, Geometry{32, 2, 2, 0, 4}, Geometry{16, 1, 1, 1, 3}}) {
    const std::uint64_t seed = seed_base + g.line;
    SCOPED_TRACE("seed " + std::to_string(seed) + ", line " + std::to_string(g.line));
    const bool wb = GetParam().write_policy == "wb_wa";
    fresh_systemc();
    const CacheConfig cfg{.size_bytes = 1024,
                          .line_bytes = g.line,
                          .ways = g.ways,
                          .hit_latency_cycles = g.hit_cycles,
                          .mshrs = g.mshrs,
                          .replacement = GetParam().replacement,
                          .write_policy = GetParam().write_policy,
                          .seed = seed};
    const std::uint64_t base = 0x10000, size = 4 * cfg.size_bytes;  // 4x the cache
    BackingStore store(0, 1 << 20);
    StatsRegistry stats;
    RandomInitiator init("init", {seed, kOps, g.outstanding, base, size, g.line, ns(1)});
    ProtocolChecker up("up_check", false);
    Cache cache("l2", cfg, store, stats);
    ProtocolChecker down("down_check", false);
    TestMemory mem("mem", store, ns(40), ns(40));
    mem.randomize(seed, ns(3), ns(60));
    init.socket.bind(up.in);
    up.out.bind(cache.upstream);
    cache.downstream.bind(down.in);
    down.out.bind(mem.socket);

    std::map<std::uint64_t, bool> dirty;  // line -> written since its last write-back
    std::uint64_t episodes = 0, wb_count = 0, wb_bytes = 0, wt_writes = 0, fills = 0;
    std::vector<std::string> errors;
    const auto error = [&](const std::string& e) {
      if (errors.size() < 10) errors.push_back(e + " at " + sc_core::sc_time_stamp().to_string());
    };
    init.on_write_done = [&](std::uint64_t addr) {
      bool& d = dirty[addr & ~std::uint64_t{g.line - 1}];
      if (!d) ++episodes;
      d = true;
    };
    mem.on_request = [&](const tlm_generic_payload& t) {
      const std::uint64_t a = t.get_address();
      const bool upstream_payload = init.in_flight(&t);
      if (t.is_read() || wb) {
        if (upstream_payload) return error("upstream payload forwarded downstream");
        if (a % g.line != 0 || t.get_data_length() != g.line) return error("not a line transfer");
      }
      if (t.is_read()) {
        ++fills;
        return;
      }
      if (!wb) {
        if (!upstream_payload) return error("wt_nwa: a downstream write that is no upstream write");
        ++wt_writes;
        return;
      }
      ++wb_count;
      wb_bytes += t.get_data_length();
      bool& d = dirty[a];
      if (!d) return error("write-back of a line not written since its last write-back");
      d = false;
      if (!std::equal(t.get_data_ptr(), t.get_data_ptr() + g.line,
                      init.shadow.begin() + (a - base)))
        error("write-back data is not the line's current contents");
    };
    mem.before_access = [&](const tlm_generic_payload& t) {
      if (!wb || !t.is_write()) return;
      std::vector<std::uint8_t> now(g.line);
      store.read(t.get_address(), now.data(), g.line);
      if (!std::equal(now.begin(), now.end(), t.get_data_ptr()))
        error("write-back would overwrite newer data");
    };

    sc_core::sc_start();
    ASSERT_TRUE(init.finished()) << init.done << " of " << kOps << " done";
    for (const auto& f : init.failures) ADD_FAILURE() << f;
    for (const auto& e : errors) ADD_FAILURE() << e;
    std::vector<std::uint8_t> final_store(size);
    store.read(base, final_store.data(), size);
    EXPECT_TRUE(final_store == init.shadow) << "store differs from the shadow memory";
    expect_clean(up);
    expect_clean(down);
    EXPECT_EQ(cache.mshrs_in_use(), 0u);

    const auto stat = [&](const char* n) { return stats.value(std::string("l2.") + n); };
    EXPECT_EQ(stat("reads"), init.reads);
    EXPECT_EQ(stat("writes"), init.writes);
    EXPECT_EQ(stat("hits") + stat("misses"), init.reads + init.writes);
    EXPECT_EQ(stat("errors"), 0u);
    EXPECT_GT(stat("hits"), 400u);
    EXPECT_GT(stat("evictions"), 200u);
    EXPECT_GT(stat("mshr_merges"), 0u);
    EXPECT_LE(stat("evictions"), fills);
    if (wb) {
      EXPECT_EQ(fills, stat("misses") - stat("mshr_merges"));
      EXPECT_EQ(stat("writebacks"), wb_count);
      EXPECT_GT(wb_count, 50u);
      EXPECT_LE(wb_bytes, std::uint64_t{g.line} * episodes);
      for (std::uint64_t l = base; l < base + size; l += g.line) {
        const bool written = dirty.count(l) != 0 && dirty[l];
        EXPECT_EQ(cache.probe(l).dirty, written) << "line 0x" << std::hex << l;
        if (written) {
          EXPECT_TRUE(cache.probe(l).present) << "dirty line lost 0x" << std::hex << l;
        }
      }
    } else {
      EXPECT_EQ(stat("writebacks"), 0u);
      EXPECT_EQ(wt_writes, init.writes);
      EXPECT_LE(fills, stat("misses") - stat("mshr_merges"));
      for (std::uint64_t l = base; l < base + size; l += g.line) EXPECT_FALSE(cache.probe(l).dirty);
    }
    if (HasFailure()) std::cerr << "CacheRandom failed with seed " << seed << "\n";
  }
}

INSTANTIATE_TEST_SUITE_P(
    PolicyByWritePolicy, CacheRandom,
    ::testing::Values(RandomCase{"lru", "wb_wa"}, RandomCase{"plru", "wb_wa"},
                      RandomCase{"fifo", "wb_wa"}, RandomCase{"random", "wb_wa"},
                      RandomCase{"srrip", "wb_wa"}, RandomCase{"lru", "wt_nwa"},
                      RandomCase{"plru", "wt_nwa"}, RandomCase{"fifo", "wt_nwa"},
                      RandomCase{"random", "wt_nwa"}, RandomCase{"srrip", "wt_nwa"}),
    [](const ::testing::TestParamInfo<RandomCase>& i) {
      return i.param.replacement + "_" + i.param.write_policy;
    });

}  // namespace
}  // namespace sasim::mem::test
