#include "sasim/host/program_check.hpp"

#include <algorithm>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>
#include <stdexcept>

#include "sasim/isa/encode.hpp"
#include "sasim/spec/contract.hpp"

namespace sasim::host {

namespace {

struct ChannelInfo {
  Queue from, to;
  const isa::Field& push;  // flag of the producer
  const isa::Field& pop;   // flag of the consumer
};
const std::array<ChannelInfo, 4> kChannels{{
    {Queue::kLoad, Queue::kExec, isa::common::kPushNext, isa::common::kPopPrev},
    {Queue::kExec, Queue::kLoad, isa::common::kPushPrev, isa::common::kPopNext},
    {Queue::kExec, Queue::kStore, isa::common::kPushNext, isa::common::kPopPrev},
    {Queue::kStore, Queue::kExec, isa::common::kPushPrev, isa::common::kPopNext},
}};

// The channel a flag of an instruction in queue q uses, if any.
std::optional<Channel> channel_of(Queue q, const isa::Field& flag) {
  for (std::size_t c = 0; c < kChannels.size(); ++c) {
    const ChannelInfo& ci = kChannels[c];
    if ((&flag == &ci.push && ci.from == q) || (&flag == &ci.pop && ci.to == q)) {
      return static_cast<Channel>(c);
    }
  }
  return std::nullopt;
}
std::optional<Channel> channel_between(Queue from, Queue to) {
  for (std::size_t c = 0; c < kChannels.size(); ++c) {
    if (kChannels[c].from == from && kChannels[c].to == to) return static_cast<Channel>(c);
  }
  return std::nullopt;
}

const std::array<const isa::Field*, 4> kFlags{&isa::common::kPopPrev, &isa::common::kPopNext,
                                              &isa::common::kPushPrev, &isa::common::kPushNext};

std::string insn_name(const std::vector<isa::Instruction>& prog, std::size_t idx) {
  return "instruction " + std::to_string(idx) + " (" +
         std::string(isa::to_string(isa::opcode_of(prog[idx]))) + ")";
}

// Last writer (and its queue) and latest reader per queue of one place
// (program indices).
struct Last {
  std::int64_t w = -1;
  Queue wq = Queue::kCtrl;
  std::array<std::int64_t, 3> r{-1, -1, -1};
};

// Walks the accesses of a program in program order and reports, for every
// access, the earlier accesses it conflicts with: the last write (RAW, WAW)
// and, for a write, the latest read of every queue since that write (WAR).
// Earlier conflicting accesses are ordered before those by the same rule.
// A write after a write also reports whether a read in another queue than the
// first writer's lies between them: ordering that read after the first write
// and before the second (RAW, WAR) already orders the two writes.
class Tracker {
 public:
  explicit Tracker(const spec::DeviceSpec& p) : spad_(p.spad_rows), acc_(p.acc_rows) {}

  // f(x, x_wrote, covered) for each conflicting earlier instruction x (covered:
  // see above; only for write after write). Returns false
  // (and reports nothing) for SRAM rows beyond the SRAM.
  template <class F>
  bool access(std::int64_t y, Queue q, const Access& a, F&& f) {
    if (a.space == Space::kMem) {
      for (std::uint64_t i = 0; i < a.count; ++i) {
        const std::uint64_t lo = a.first + i * a.stride;
        range(lo, lo + a.row_bytes, y, q, a.write, f);
      }
      return true;
    }
    std::vector<Last>& v = a.space == Space::kSpad ? spad_ : acc_;
    if (a.first + a.count > v.size()) return false;
    for (std::uint64_t r = a.first; r < a.first + a.count; ++r) unit(v[r], y, q, a.write, f);
    return true;
  }

 private:
  struct Seg {
    std::uint64_t end;
    Last last;
  };

  template <class F>
  static void unit(Last& u, std::int64_t y, Queue q, bool write, F& f) {
    if (u.w >= 0 && u.w != y) {
      bool covered = false;
      for (std::size_t k = 0; k < 3 && write; ++k) {
        covered = covered || (u.r[k] >= 0 && u.r[k] != y && static_cast<Queue>(k) != u.wq);
      }
      f(u.w, true, covered);
    }
    if (write) {
      for (std::int64_t r : u.r) {
        if (r >= 0 && r != y) f(r, false, false);
      }
      u.w = y;
      u.wq = q;
      u.r = {-1, -1, -1};
    } else {
      u.r[static_cast<std::size_t>(q)] = y;
    }
  }

  // Splits the memory segment containing x (if any) at x.
  void split(std::uint64_t x) {
    auto it = mem_.upper_bound(x);
    if (it == mem_.begin()) return;
    --it;
    if (it->first < x && x < it->second.end) {
      const Seg tail{it->second.end, it->second.last};
      it->second.end = x;
      mem_.emplace(x, tail);
    }
  }

  template <class F>
  void range(std::uint64_t lo, std::uint64_t hi, std::int64_t y, Queue q, bool write, F& f) {
    if (lo >= hi) return;
    split(lo);
    split(hi);
    auto it = mem_.lower_bound(lo);
    for (std::uint64_t cur = lo; cur < hi;) {
      if (it == mem_.end() || it->first > cur) {  // untouched bytes: a new segment
        const std::uint64_t e = it == mem_.end() ? hi : std::min(hi, it->first);
        it = mem_.emplace_hint(it, cur, Seg{e, {}});
      }
      unit(it->second.last, y, q, write, f);
      cur = it->second.end;
      ++it;
    }
  }

  std::vector<Last> spad_, acc_;
  std::map<std::uint64_t, Seg> mem_;  // disjoint byte segments [key, end)
};

// Program indices up to FINISH (excluded); nullopt if there is no FINISH.
std::optional<std::size_t> finish_index(const std::vector<isa::Instruction>& prog) {
  for (std::size_t i = 0; i < prog.size(); ++i) {
    if (isa::opcode_of(prog[i]) == isa::Opcode::kFinish) return i;
  }
  return std::nullopt;
}

// Does a conflict between x (queue qx, wrote?) and y (queue qy, writes?) need
// ordering by tokens?
bool needs_order(Queue qx, bool x_wrote, Queue qy, bool y_writes, const CheckOptions& o) {
  if (qx != qy) return true;
  if (qx == Queue::kExec) return false;
  return o.order_dma_writes_in_queue && x_wrote && y_writes;
}

}  // namespace

Queue queue_of(const isa::Instruction& insn) { return isa::queue_of(isa::opcode_of(insn)); }

std::string to_string(Channel c) {
  const ChannelInfo& ci = kChannels.at(static_cast<std::size_t>(c));
  return std::string(isa::to_string(ci.from)) + "->" + std::string(isa::to_string(ci.to));
}

std::string to_string(const Access& a) {
  std::ostringstream s;
  if (a.space == Space::kMem) {
    s << "memory " << a.count << " x " << a.row_bytes << " bytes at 0x" << std::hex << a.first
      << std::dec << " stride " << a.stride;
  } else {
    s << (a.space == Space::kSpad ? "spad" : "acc") << " rows " << a.first << ".."
      << a.first + a.count - 1;
  }
  s << (a.write ? " (write)" : " (read)");
  return s.str();
}

std::vector<Access> footprint(const spec::DeviceSpec& p, const isa::Instruction& in) {
  std::vector<Access> v;
  auto sram = [](Space s, bool w, std::uint64_t first, std::uint64_t n) {
    return Access{s, w, first, n, 0, 0};
  };
  switch (isa::opcode_of(in)) {
    case isa::Opcode::kLoad:
    case isa::Opcode::kStore: {
      const bool load = isa::opcode_of(in) == isa::Opcode::kLoad;
      const isa::DmaArgs d = isa::decode_dma(in);
      const bool acc = d.sram == isa::Sram::kAcc;
      const std::uint64_t eb = acc ? 4 : p.elem_bytes();
      v.push_back(
          sram(acc ? Space::kAcc : Space::kSpad, load, d.sram_row, d.transpose ? d.cols : d.rows));
      v.push_back(Access{Space::kMem, !load, d.dram_addr, d.rows, d.dram_stride, d.cols * eb});
      break;
    }
    case isa::Opcode::kGemm: {
      const isa::GemmArgs g = isa::decode_gemm(in);
      if (g.dataflow == isa::Dataflow::kOs) {
        v.push_back(sram(Space::kSpad, false, g.in_row, g.len));
        v.push_back(sram(Space::kSpad, false, g.b_row, g.len));
        v.push_back(sram(Space::kAcc, true, g.acc_row, p.rows));
      } else {
        if (!g.reuse) v.push_back(sram(Space::kSpad, false, g.pre_row, p.rows));
        v.push_back(sram(Space::kSpad, false, g.in_row, g.len));
        v.push_back(sram(Space::kAcc, true, g.acc_row, g.len));
      }
      break;
    }
    case isa::Opcode::kVec: {
      const isa::VecArgs a = isa::decode_vec(in);
      v.push_back(sram(Space::kAcc, false, a.src_row, a.rows));
      if (isa::reads_src2(a.op)) v.push_back(sram(Space::kAcc, false, a.src2_row, a.rows));
      v.push_back(sram(a.dst_sram == isa::Sram::kSpad ? Space::kSpad : Space::kAcc, true, a.dst_row,
                       a.rows));
      break;
    }
    case isa::Opcode::kConfig:
    case isa::Opcode::kSync:
    case isa::Opcode::kFinish:
      break;
  }
  return v;
}

std::string CheckReport::summary() const {
  std::string s;
  for (const std::string& e : errors) s += e + "\n";
  return s;
}

namespace {

void assign_dependencies_uncached(const spec::DeviceSpec& p, std::vector<isa::Instruction>& prog,
                                  const CheckOptions& opts) {
  const std::optional<std::size_t> fin = finish_index(prog);
  if (!fin) throw std::invalid_argument("assign_dependencies: the program has no FINISH");
  const std::size_t n = *fin;
  std::vector<Queue> q(n);
  std::vector<std::int64_t> fence(n, -1);  // the last SYNC before instruction i
  for (std::size_t i = 0; i < n; ++i) {
    q[i] = queue_of(prog[i]);
    for (const isa::Field* f : kFlags) prog[i].set(*f, 0);
    fence[i] =
        i == 0 ? -1 : (q[i - 1] == Queue::kCtrl ? static_cast<std::int64_t>(i - 1) : fence[i - 1]);
  }
  std::vector<std::int64_t> next_exec(n + 1, -1);  // first EXEC instruction at index > i
  for (std::size_t i = n; i-- > 0;) {
    next_exec[i] =
        i + 1 < n && q[i + 1] == Queue::kExec ? static_cast<std::int64_t>(i + 1) : next_exec[i + 1];
  }
  // need[y * 4 + channel]: the latest producer instruction y must wait for.
  std::vector<std::int64_t> need(n * 4, -1);
  auto add = [&](std::int64_t x, std::int64_t y) {
    const Channel c = *channel_between(q[x], q[y]);
    std::int64_t& v = need[static_cast<std::size_t>(y) * 4 + static_cast<std::size_t>(c)];
    v = std::max(v, x);
  };

  Tracker t(p);
  for (std::size_t y = 0; y < n; ++y) {
    for (const Access& a : footprint(p, prog[y])) {
      auto on_conflict = [&](std::int64_t x, bool x_wrote, bool covered) {
        if (x < fence[y]) return;  // a SYNC between: x completes before y starts
        if (!needs_order(q[x], x_wrote, q[y], a.write, opts)) return;
        if (q[x] == q[y] && covered) return;  // ordered through the reads between
        if (channel_between(q[x], q[y])) {
          add(x, static_cast<std::int64_t>(y));
          return;
        }
        const std::int64_t e = next_exec[x];  // relay LOAD <-> STORE, DMA -> same DMA queue
        if (e < 0 || e > static_cast<std::int64_t>(y)) {
          throw std::invalid_argument("assign_dependencies: " + insn_name(prog, y) +
                                      " conflicts with " + insn_name(prog, x) + " on " +
                                      to_string(a) + " and no EXEC instruction lies between");
        }
        add(x, e);
        add(e, static_cast<std::int64_t>(y));
      };
      if (!t.access(static_cast<std::int64_t>(y), q[y], a, on_conflict)) {
        throw std::invalid_argument("assign_dependencies: " + insn_name(prog, y) + ": " +
                                    to_string(a) + " is beyond the SRAM");
      }
    }
  }
  // Per channel, consumers in program order (= their queue order): keep a pair
  // only if its producer is later than every kept producer of an earlier
  // consumer; the kept pairs then ascend in both queues (FIFO matching).
  for (std::size_t c = 0; c < kChannels.size(); ++c) {
    std::int64_t last = -1;
    for (std::size_t y = 0; y < n; ++y) {
      const std::int64_t x = need[y * 4 + c];
      if (x <= last) continue;
      prog[static_cast<std::size_t>(x)].set(kChannels[c].push, 1);
      prog[y].set(kChannels[c].pop, 1);
      last = x;
    }
  }
}

CheckReport check_program_uncached(const spec::DeviceSpec& p,
                                   const std::vector<isa::Instruction>& prog,
                                   const CheckOptions& opts) {
  CheckReport rep;
  auto error = [&](const std::string& e) {
    if (rep.errors.size() < opts.max_errors) rep.errors.push_back(e);
  };
  std::size_t n = prog.size();
  for (std::size_t i = 0; i < prog.size(); ++i) {
    isa::Opcode op{};
    try {
      op = isa::opcode_of(prog[i]);
    } catch (const std::invalid_argument&) {
      error("instruction " + std::to_string(i) + ": illegal opcode " +
            std::to_string(prog[i].get(isa::common::kOpcode)));
      return rep;
    }
    if (op == isa::Opcode::kFinish) {
      n = i;
      break;
    }
  }
  if (n == prog.size()) error("the program has no FINISH");
  if (n < prog.size()) {
    for (const isa::Field* f : kFlags) {
      if (prog[n].get(*f)) error(insn_name(prog, n) + ": " + std::string(f->name) + " is set");
    }
  }

  // Queues, queue positions (1-based) and the token flags.
  std::vector<Queue> q(n);
  std::vector<std::size_t> qpos(n);
  std::array<std::vector<std::size_t>, 3> queue;
  std::array<std::vector<std::size_t>, 4> pushes;  // producers per channel, in order
  std::vector<std::array<bool, 4>> pops(n);        // pops[i][channel]
  // fence[i][k]: the instructions of queue k before the last SYNC before i,
  // all complete before i starts.
  using Clock = std::array<std::size_t, 3>;
  std::vector<Clock> fence(n);
  Clock fence_now{};
  for (std::size_t i = 0; i < n; ++i) {
    q[i] = queue_of(prog[i]);
    fence[i] = fence_now;
    if (q[i] == Queue::kCtrl) {  // SYNC
      for (const isa::Field* f : kFlags) {
        if (prog[i].get(*f)) error(insn_name(prog, i) + ": " + std::string(f->name) + " is set");
      }
      for (std::size_t k = 0; k < 3; ++k) fence_now[k] = queue[k].size();
      continue;
    }
    auto& qu = queue[static_cast<std::size_t>(q[i])];
    qu.push_back(i);
    qpos[i] = qu.size();
    pops[i] = {};
    for (const isa::Field* f : kFlags) {
      if (!prog[i].get(*f)) continue;
      const std::optional<Channel> c = channel_of(q[i], *f);
      if (!c) {
        error(insn_name(prog, i) + ": " + std::string(f->name) + " names no queue");
        continue;
      }
      if (f == &isa::common::kPushPrev || f == &isa::common::kPushNext) {
        pushes[static_cast<std::size_t>(*c)].push_back(i);
      } else {
        pops[i][static_cast<std::size_t>(*c)] = true;
      }
    }
  }
  for (std::size_t k = 0; k < 3; ++k) rep.queue_length[k] = queue[k].size();
  for (std::size_t c = 0; c < 4; ++c) rep.tokens[c] = pushes[c].size();
  if (!rep.ok()) return rep;

  // Simulate with instant completion (the most permissive schedule: if this
  // one gets stuck, every one does), computing vector clocks: vc[i][k] = the
  // number of instructions of queue k known complete when i starts.
  std::vector<Clock> vc(n);
  std::array<std::size_t, 3> head{};
  std::array<std::size_t, 4> popped{};  // pops done per channel (= index of the next push)
  std::array<std::size_t, 4> avail{};   // completed pushes per channel
  Clock prev_start[3]{};
  for (bool progress = true; progress;) {
    progress = false;
    for (std::size_t k = 0; k < 3; ++k) {
      while (head[k] < queue[k].size()) {
        const std::size_t i = queue[k][head[k]];
        bool ready = true;
        for (std::size_t c = 0; c < 4; ++c) ready = ready && (!pops[i][c] || avail[c] > popped[c]);
        for (std::size_t j = 0; j < 3; ++j) ready = ready && head[j] >= fence[i][j];
        if (!ready) break;
        Clock clk = prev_start[k];
        for (std::size_t j = 0; j < 3; ++j) clk[j] = std::max(clk[j], fence[i][j]);
        for (std::size_t c = 0; c < 4; ++c) {
          if (!pops[i][c]) continue;
          const std::size_t x = pushes[c][popped[c]++];
          for (std::size_t j = 0; j < 3; ++j) clk[j] = std::max(clk[j], vc[x][j]);
          const auto qx = static_cast<std::size_t>(q[x]);
          clk[qx] = std::max(clk[qx], qpos[x]);
        }
        vc[i] = clk;
        prev_start[k] = clk;
        for (std::size_t c = 0; c < 4; ++c) {
          if (!pushes[c].empty() && avail[c] < pushes[c].size() && pushes[c][avail[c]] == i) {
            ++avail[c];
          }
        }
        ++head[k];
        progress = true;
      }
    }
  }
  bool stuck = false;
  for (std::size_t k = 0; k < 3; ++k) stuck = stuck || head[k] < queue[k].size();
  if (stuck) {
    std::string s = "deadlock:";
    for (std::size_t k = 0; k < 3; ++k) {
      s += " " + std::string(isa::to_string(static_cast<Queue>(k))) + " head ";
      s += head[k] < queue[k].size() ? std::to_string(queue[k][head[k]]) : "(drained)";
      s += ";";
    }
    s += " tokens";
    for (std::size_t c = 0; c < 4; ++c) {
      s += std::string(" ") + to_string(static_cast<Channel>(c)) + "=" +
           std::to_string(avail[c] - popped[c]);
    }
    error(s);
    return rep;
  }
  // Counter bound: before the k-th pop (instruction y, queue qy), the pushes
  // that may have completed are those whose start does not wait for y (a
  // prefix of the producer queue: clocks grow along a queue).
  for (std::size_t c = 0; c < 4; ++c) {
    std::size_t k = 0, may = 0;
    const auto qy = static_cast<std::size_t>(kChannels[c].to);
    for (std::size_t y = 0; y < n; ++y) {
      if (!pops[y][c]) continue;
      while (may < pushes[c].size() && vc[pushes[c][may]][qy] < qpos[y]) ++may;
      rep.max_tokens[c] = std::max(rep.max_tokens[c], may - k);
      ++k;
    }
    rep.max_tokens[c] = std::max(rep.max_tokens[c], pushes[c].size() - k);
  }
  for (std::size_t c = 0; c < 4; ++c) {
    if (popped[c] < pushes[c].size()) {
      error(std::to_string(pushes[c].size() - popped[c]) + " token(s) on " +
            to_string(static_cast<Channel>(c)) + " never popped, the first pushed by " +
            insn_name(prog, pushes[c][popped[c]]));
    }
  }

  // Races: every conflicting pair in program order must be ordered.
  Tracker t(p);
  for (std::size_t y = 0; y < n; ++y) {
    for (const Access& a : footprint(p, prog[y])) {
      std::int64_t reported = -1;
      auto on_conflict = [&](std::int64_t xi, bool x_wrote, bool /*covered*/) {
        const auto x = static_cast<std::size_t>(xi);
        if (!needs_order(q[x], x_wrote, q[y], a.write, opts)) return;
        if (qpos[x] <= vc[y][static_cast<std::size_t>(q[x])] || xi == reported) return;
        reported = xi;
        error("race: " + insn_name(prog, y) + " [" + std::string(isa::to_string(q[y])) + "] " +
              to_string(a) + " conflicts with " + insn_name(prog, x) + " [" +
              std::string(isa::to_string(q[x])) + "] (" + (x_wrote ? "write" : "read") +
              "), not ordered by tokens");
      };
      if (!t.access(static_cast<std::int64_t>(y), q[y], a, on_conflict)) {
        error(insn_name(prog, y) + ": " + to_string(a) + " is beyond the SRAM");
      }
    }
  }
  return rep;
}

// A bounded memo of one of the two analyses above, both pure functions of
// (device, options, program). A training run submits the same few programs
// in every step (only the data they move change), so every analysis after a
// program's first is a lookup (with the word-level field access, about 3.5 %
// fewer instructions for 6 RTL training steps, callgrind, 2026-12-06). The hash only selects; keys
// are compared in full. Bounded by entries and by the instructions their keys hold (a value holds
// at most as many), oldest out first; a program larger than the bound is not kept. A run whose
// programs change every step (a learning-rate schedule's immediates) only misses. Thread-safe:
// data-parallel kernels build programs on several threads.
template <class Value>
class Memo {
 public:
  static constexpr std::size_t kMaxEntries = 64;
  static constexpr std::size_t kMaxInstructions = std::size_t{1} << 19;  // 8 MiB of keys

  std::optional<Value> find(const spec::DeviceSpec& p, const CheckOptions& o,
                            const std::vector<isa::Instruction>& prog, std::size_t h) {
    const std::lock_guard<std::mutex> lock(m_);
    for (const Entry& e : entries_) {
      if (e.hash == h && e.p == p && e.opts == o && e.program == prog) return e.value;
    }
    return std::nullopt;
  }
  void insert(const spec::DeviceSpec& p, const CheckOptions& o,
              const std::vector<isa::Instruction>& prog, std::size_t h, Value v) {
    if (prog.size() > kMaxInstructions) return;
    const std::lock_guard<std::mutex> lock(m_);
    while (!entries_.empty() &&
           (entries_.size() >= kMaxEntries || held_ + prog.size() > kMaxInstructions)) {
      held_ -= entries_.front().program.size();
      entries_.pop_front();
    }
    held_ += prog.size();
    entries_.push_back(Entry{h, p, o, prog, std::move(v)});
  }

 private:
  struct Entry {
    std::size_t hash;
    spec::DeviceSpec p;
    CheckOptions opts;
    std::vector<isa::Instruction> program;
    Value value;
  };
  std::mutex m_;
  std::deque<Entry> entries_;
  std::size_t held_ = 0;  // instructions of the entries' keys
};

std::size_t program_hash(const std::vector<isa::Instruction>& prog) {
  std::uint64_t h = 0x9E37'79B9'7F4A'7C15u ^ prog.size();
  for (const isa::Instruction& i : prog) {
    for (const std::uint64_t w : i.words) h = (h ^ w) * 0x1000'0000'01B3u + (h >> 29);
  }
  return static_cast<std::size_t>(h);
}

}  // namespace

void assign_dependencies(const spec::DeviceSpec& p, std::vector<isa::Instruction>& prog,
                         const CheckOptions& opts) {
  static Memo<std::vector<isa::Instruction>> memo;
  const std::size_t h = program_hash(prog);
  if (std::optional<std::vector<isa::Instruction>> done = memo.find(p, opts, prog, h)) {
    prog = std::move(*done);
    return;
  }
  std::vector<isa::Instruction> in = prog;
  assign_dependencies_uncached(p, prog, opts);
  memo.insert(p, opts, in, h, prog);
}

CheckReport check_program(const spec::DeviceSpec& p, const std::vector<isa::Instruction>& prog,
                          const CheckOptions& opts) {
  static Memo<CheckReport> memo;
  const std::size_t h = program_hash(prog);
  if (std::optional<CheckReport> done = memo.find(p, opts, prog, h)) return std::move(*done);
  CheckReport rep = check_program_uncached(p, prog, opts);
  memo.insert(p, opts, prog, h, rep);
  return rep;
}

}  // namespace sasim::host
