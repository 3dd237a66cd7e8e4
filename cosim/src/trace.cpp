#include "sasim/cosim/trace.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <type_traits>
#include <utility>

namespace sasim::cosim {

namespace {

constexpr int kDevicePid = 1;
constexpr int kHostPid = 2;
constexpr std::size_t kFlushBytes = std::size_t{1} << 20;
constexpr std::size_t kNoIndex = ~std::size_t{0};

// Microseconds to 0.1 ps: short numbers, nothing lost at any clock.
double round_us(double us) { return std::round(us * 1e7) / 1e7; }

std::string_view short_name(std::string_view field) {
  const auto dot = field.find('.');
  return dot == std::string_view::npos ? field : field.substr(dot + 1);
}

struct ToJson {
  nlohmann::json& j;
  template <typename T>
  void operator()(const isa::Field& f, const T& v) const {
    nlohmann::json& slot = j[std::string(short_name(f.name))];
    if constexpr (std::is_enum_v<T>) {
      slot = std::string(isa::name_of(v));
    } else if constexpr (std::is_same_v<T, bool>) {
      slot = v;
    } else {
      slot = static_cast<std::uint64_t>(v);
    }
  }
};

}  // namespace

TraceWriter::TraceWriter(Sink sink, std::uint64_t start_cycle, std::uint64_t end_cycle)
    : sink_(std::move(sink)), start_(start_cycle), end_(end_cycle) {
  if (start_ >= end_)
    throw std::invalid_argument("trace window " + std::to_string(start_) + ":" +
                                std::to_string(end_) + " is empty (START must be below END)");
  buf_ = "{\"displayTimeUnit\":\"ns\",\"traceEvents\":[\n";
  emit({{"name", "process_name"},
        {"ph", "M"},
        {"pid", kDevicePid},
        {"tid", 0},
        {"args", {{"name", "sasim device"}}}});
  emit({{"name", "process_name"},
        {"ph", "M"},
        {"pid", kHostPid},
        {"tid", 0},
        {"args", {{"name", "host"}}}});
  static const char* kQueue[3] = {"LOAD", "EXEC", "STORE"};
  for (unsigned q = 0; q < 3; ++q) insn_track_[q] = track(kQueue[q]);
  using spec::CounterId;
  const std::pair<CounterId, const char*> runs[] = {
      {CounterId::kLoadBusy, "LOAD busy"},      {CounterId::kExecBusy, "EXEC busy"},
      {CounterId::kStoreBusy, "STORE busy"},    {CounterId::kArraySteps, "array"},
      {CounterId::kExecWaitLoad, "EXEC waits"}, {CounterId::kExecWaitStore, "EXEC waits"}};
  for (const auto& [id, tr] : runs) {
    const char* name = id == CounterId::kArraySteps      ? "streaming"
                       : id == CounterId::kExecWaitLoad  ? "wait LOAD token"
                       : id == CounterId::kExecWaitStore ? "wait STORE token"
                                                         : "busy";
    runs_.push_back(Run{id, track(tr), name});
  }
  read_track_ = track("AXI read");
  write_track_ = track("AXI write");
}

unsigned TraceWriter::track(const std::string& name) {
  for (unsigned i = 0; i < tracks_.size(); ++i)
    if (tracks_[i].name == name) return i;
  tracks_.push_back(Track{name, {}});
  return static_cast<unsigned>(tracks_.size() - 1);
}

void TraceWriter::emit(const nlohmann::json& event) {
  if (finished_) throw std::logic_error("trace: event after finish()");
  if (!first_event_) buf_ += ",\n";
  first_event_ = false;
  buf_ += event.dump();
  ++events_;
  flush_if_large();
}

void TraceWriter::flush_if_large() {
  if (buf_.size() < kFlushBytes) return;
  sink_(buf_);
  buf_.clear();
}

double TraceWriter::time_of(std::uint64_t cycle) const {
  return t0_us_ + double(cycle - run_first_) * period_us_;
}

void TraceWriter::slice(unsigned t, const std::string& name, std::uint64_t begin, std::uint64_t end,
                        nlohmann::json args) {
  begin = std::max(begin, start_);
  end = std::min(end, end_);
  if (begin >= end) return;
  Track& tr = tracks_[t];
  // The first lane free at `begin` (slices of a track come in start order).
  std::size_t lane = 0;
  while (lane < tr.lanes.size() && tr.lanes[lane].free_at > begin) ++lane;
  if (lane == tr.lanes.size()) {
    const unsigned tid = next_tid_++;
    tr.lanes.push_back(Lane{tid, 0});
    const std::string label = lane == 0 ? tr.name : tr.name + " +" + std::to_string(lane);
    emit({{"name", "thread_name"},
          {"ph", "M"},
          {"pid", kDevicePid},
          {"tid", tid},
          {"args", {{"name", label}}}});
    emit({{"name", "thread_sort_index"},
          {"ph", "M"},
          {"pid", kDevicePid},
          {"tid", tid},
          {"args", {{"sort_index", t * 64 + lane}}}});
  }
  tr.lanes[lane].free_at = end;
  if (args.is_null()) args = nlohmann::json::object();
  args["cycle"] = begin;
  args["cycles"] = end - begin;
  const double ts = round_us(time_of(begin));
  emit({{"name", name},
        {"ph", "X"},
        {"ts", ts},
        {"dur", round_us(std::max(0.0, time_of(end) - time_of(begin)))},
        {"pid", kDevicePid},
        {"tid", tr.lanes[lane].tid},
        {"args", std::move(args)}});
}

void TraceWriter::begin_run(std::uint64_t first_cycle, double t0_us, double period_us,
                            const std::vector<isa::Instruction>& program) {
  if (in_run_) throw std::logic_error("trace: begin_run() inside a run");
  in_run_ = true;
  run_first_ = cycle_ = first_cycle;
  t0_us_ = t0_us;
  period_us_ = period_us;
  program_ = program;
  for (unsigned q = 0; q < 3; ++q) {
    queue_insns_[q].clear();
    queue_next_[q] = 0;
    in_flight_[q].clear();
  }
  // The controller dispatches in program order up to FINISH.
  for (std::size_t i = 0; i < program_.size(); ++i) {
    const auto op = isa::opcode_from(program_[i].get(isa::common::kOpcode));
    if (!op) continue;  // the core rejects it; nothing of it runs
    if (*op == isa::Opcode::kFinish) break;
    const auto q = static_cast<unsigned>(isa::queue_of(*op));
    if (q < 3) queue_insns_[q].push_back(i);
  }
  for (auto& r : runs_) r.open = false;
  for (auto& q : reads_) q.clear();
  writes_.clear();
}

nlohmann::json TraceWriter::insn_args(std::size_t index) const {
  nlohmann::json j = nlohmann::json::object();
  if (index == kNoIndex) return j;
  const isa::Instruction& insn = program_[index];
  j["index"] = index;
  const auto op = *isa::opcode_from(insn.get(isa::common::kOpcode));
  ToJson f{j};
  if (op == isa::Opcode::kLoad || op == isa::Opcode::kStore) {
    isa::DmaArgs a = isa::decode_dma(insn);
    isa::visit_dma(a, f);
  } else if (op == isa::Opcode::kGemm) {
    isa::GemmArgs a = isa::decode_gemm(insn);
    isa::visit_gemm(a, f);
  } else if (op == isa::Opcode::kVec) {
    isa::VecArgs a = isa::decode_vec(insn);
    isa::visit_vec(a, f);
  } else if (op == isa::Opcode::kConfig) {
    j["int8_shift"] = insn.get(isa::config::kInt8Shift);
  }
  for (const isa::Field& d : {isa::common::kPopPrev, isa::common::kPopNext, isa::common::kPushPrev,
                              isa::common::kPushNext})
    if (insn.get(d)) j[std::string(d.name)] = true;
  return j;
}

void TraceWriter::cycle(const CoreEvents& e, const AxiIn& in, const AxiOut& out) {
  const std::uint64_t c = cycle_++;
  // Instructions: starts, then completions (one may start and end in a cycle).
  for (unsigned q = 0; q < 3; ++q) {
    if (e.started >> q & 1u) {
      const std::size_t idx =
          queue_next_[q] < queue_insns_[q].size() ? queue_insns_[q][queue_next_[q]++] : kNoIndex;
      in_flight_[q].push_back(Open{c, idx});
    }
  }
  using spec::CounterId;
  static constexpr CounterId kDone[3] = {CounterId::kInsnLoad, CounterId::kInsnExec,
                                         CounterId::kInsnStore};
  for (unsigned q = 0; q < 3; ++q) {
    if (!(e.counted >> static_cast<unsigned>(kDone[q]) & 1u) || in_flight_[q].empty()) continue;
    const Open o = in_flight_[q].front();
    in_flight_[q].pop_front();
    if (c + 1 <= start_ || o.start >= end_) continue;
    std::string name = "?";
    if (o.index != kNoIndex) {
      const isa::Instruction& insn = program_[o.index];
      const auto op = *isa::opcode_from(insn.get(isa::common::kOpcode));
      name = std::string(isa::to_string(op));
      if (op == isa::Opcode::kVec)
        name += " " + std::string(isa::name_of(isa::decode_vec(insn).op));
      else if (op == isa::Opcode::kLoad || op == isa::Opcode::kStore)
        name += std::string(isa::decode_dma(insn).sram == isa::Sram::kSpad ? " spad" : " acc");
    }
    slice(insn_track_[q], name, o.start, c + 1, insn_args(o.index));
  }
  for (Run& r : runs_) {
    const bool on = e.counted >> static_cast<unsigned>(r.id) & 1u;
    if (on && !r.open) {
      r.open = true;
      r.since = c;
    } else if (!on && r.open) {
      r.open = false;
      slice(r.track, r.name, r.since, c, {});
    }
  }
  // AXI bursts.
  if (out.ar_valid && in.ar_ready)
    reads_[out.ar_id & 3u].push_back(Burst{c, 0, out.ar_addr, out.ar_len + 1, 0, out.ar_id});
  if (in.r_valid && out.r_ready && !reads_[in.r_id & 3u].empty()) {
    Burst& b = reads_[in.r_id & 3u].front();
    if (b.seen++ == 0) b.first_beat = c;
    if (in.r_last) {
      slice(read_track_, b.id == 0 ? "fetch" : "load", b.accept, c + 1,
            {{"id", b.id},
             {"address", b.addr},
             {"beats", b.beats},
             {"latency_cycles", b.first_beat - b.accept}});
      reads_[in.r_id & 3u].pop_front();
    }
  }
  if (out.aw_valid && in.aw_ready)
    writes_.push_back(Burst{c, 0, out.aw_addr, out.aw_len + 1, 0, out.aw_id});
  if (in.b_valid && out.b_ready && !writes_.empty()) {
    const Burst b = writes_.front();
    writes_.pop_front();
    slice(
        write_track_, "store", b.accept, c + 1,
        {{"id", b.id}, {"address", b.addr}, {"beats", b.beats}, {"latency_cycles", c - b.accept}});
  }
}

void TraceWriter::end_run() {
  if (!in_run_) return;
  for (Run& r : runs_) {
    if (r.open) slice(r.track, r.name, r.since, cycle_, {});
    r.open = false;
  }
  in_run_ = false;
}

void TraceWriter::counter(const std::string& name, std::uint64_t cycle, double t_us,
                          const nlohmann::json& args) {
  if (cycle < start_ || cycle > end_) return;
  emit({{"name", name},
        {"ph", "C"},
        {"ts", round_us(t_us)},
        {"pid", kDevicePid},
        {"tid", 0},
        {"args", args}});
}

void TraceWriter::span(const std::string& track_name, const std::string& name, std::uint64_t first,
                       std::uint64_t end, double t_begin_us, double t_end_us,
                       const nlohmann::json& args) {
  if (end <= start_ || first >= end_) return;
  // Clipped to the window: interpolated within the span (its clock is one
  // clock when the caller's span is one run; otherwise an approximation of
  // where the window edge falls, marked in args).
  nlohmann::json a = args.is_null() ? nlohmann::json::object() : args;
  const double per = end > first ? (t_end_us - t_begin_us) / double(end - first) : 0.0;
  if (first < start_) {
    t_begin_us += per * double(start_ - first);
    a["clipped"] = true;
    first = start_;
  }
  if (end > end_) {
    t_end_us -= per * double(end - end_);
    a["clipped"] = true;
    end = end_;
  }
  unsigned tid = 0;
  const std::string key = "host:" + track_name;
  const unsigned t = track(key);
  if (tracks_[t].lanes.empty()) {
    tid = next_tid_++;
    tracks_[t].lanes.push_back(Lane{tid, 0});
    emit({{"name", "thread_name"},
          {"ph", "M"},
          {"pid", kHostPid},
          {"tid", tid},
          {"args", {{"name", track_name}}}});
  }
  tid = tracks_[t].lanes[0].tid;
  a["cycle"] = first;
  a["cycles"] = end - first;
  const double ts = round_us(t_begin_us);
  emit({{"name", name},
        {"ph", "X"},
        {"ts", ts},
        {"dur", round_us(std::max(0.0, t_end_us - t_begin_us))},
        {"pid", kHostPid},
        {"tid", tid},
        {"args", a}});
}

void TraceWriter::finish() {
  if (finished_) return;
  if (in_run_) end_run();
  buf_ += "\n]}\n";
  finished_ = true;
  sink_(buf_);
  buf_.clear();
}

}  // namespace sasim::cosim
