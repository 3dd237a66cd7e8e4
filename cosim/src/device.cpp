// sc_spawn for the cores' threads.
#define SC_INCLUDE_DYNAMIC_PROCESSES
#include "sasim/cosim/device.hpp"

#include <algorithm>
#include <exception>
#include <sstream>
#include <stdexcept>
#include <systemc>

#include "sasim/cosim/axi_bridge.hpp"
#include "sasim/cosim/trace.hpp"

namespace sasim::cosim {

// The SystemC side: memory system, one bridge, core and thread per core.
struct CosimDevice::Top : sc_core::sc_module {
  // One core with its bridge and the thread that runs its programs.
  struct Lane {
    unsigned index = 0;
    std::unique_ptr<AxiTlmBridge> bridge;
    std::unique_ptr<CoreModel> core;
    std::string prefix;  // its bridge's counters: "<prefix>.<counter>"
    sc_core::sc_event go;
    bool pending = false;
    std::uint64_t cycles = 0;
    std::exception_ptr error;
    std::string aborted;  // BarrierAborted: the barrier's message
  };

  Top(sc_core::sc_module_name nm, const DeviceConfig& cfg, mem::StatsRegistry& stats)
      : sc_core::sc_module(nm),
        memory("mem", cfg.memory, stats),
        barrier(cfg.cores),
        stats_ref(stats) {
    for (unsigned i = 0; i < cfg.cores; ++i) {
      auto lane = std::make_unique<Lane>();
      lane->index = i;
      const std::string bname = cfg.cores == 1 ? "bridge" : "bridge" + std::to_string(i);
      lane->bridge = std::make_unique<AxiTlmBridge>(bname.c_str(), bridge_config(cfg), stats);
      lane->prefix = lane->bridge->name();
      // Each core its own seed for the RTL's random initial values.
      lane->core = make_engine_core(cfg.engine, cfg.core,
                                    CoreModelOptions{i == 0 ? cfg.wave_file : "", 2, 1 + i});
      lane->bridge->socket.bind(memory.in());
      Lane* l = lane.get();
      sc_core::sc_spawn([this, l] { main(*l); }, ("core" + std::to_string(i)).c_str());
      lanes.push_back(std::move(lane));
    }
  }

  static AxiBridgeConfig bridge_config(const DeviceConfig& cfg) {
    AxiBridgeConfig b;
    b.clock_mhz = cfg.core.clock_mhz;
    b.lockstep = cfg.lockstep;
    b.watchdog_cycles = cfg.watchdog_cycles;
    b.min_latency = memory_path_min_latency(cfg.memory);
    b.split_bytes = memory_path_split_bytes(cfg.memory);
    return b;
  }

  // The core as the bridge sees it while a trace is recorded.
  struct Traced final : ClockedCore {
    CoreModel& core;
    TraceWriter& trace;
    Traced(CoreModel& c, TraceWriter& t) : core(c), trace(t) {}
    unsigned bus_bytes() const override { return core.bus_bytes(); }
    void cycle(const AxiIn& in, AxiOut& out) override {
      core.cycle(in, out);
      trace.cycle(core.events(), in, out);
    }
    bool done() const override { return core.done(); }
    bool progressed() const override { return core.progressed(); }
    std::string dump_state() const override { return core.dump_state(); }
  };

  // Windows of a run for set_sampling() (one core).
  struct Sampler final : CycleSampler {
    Top& top;
    mem::StatsRegistry& stats;
    explicit Sampler(Top& t, mem::StatsRegistry& s) : top(t), stats(s) {}
    std::function<void(const DeviceWindow&)> on_window;
    std::uint64_t every = 0;
    // Per run.
    std::uint64_t run = 0, first = 0, last = 0;
    double t0_us = 0, period_us = 0, clock_mhz = 0;
    CorePerf perf{};
    nlohmann::json mem;
    void begin(std::uint64_t run_index, std::uint64_t device_cycle, double t0, double period,
               double mhz) {
      run = run_index;
      first = device_cycle;
      last = 0;
      t0_us = t0;
      period_us = period;
      clock_mhz = mhz;
      perf = CorePerf{};
      mem = stats.to_json();
    }
    void window(std::uint64_t cycle, bool is_last) {
      DeviceWindow w;
      w.run = run;
      w.first_cycle = first + last;
      w.cycles = cycle - last;
      w.start_us = t0_us + double(last) * period_us;
      w.end_us = t0_us + double(cycle) * period_us;
      w.clock_mhz = clock_mhz;
      w.last = is_last;
      const CorePerf p = top.lanes[0]->core->perf();
      for (std::size_t i = 0; i < p.size(); ++i)
        w.counters.set(spec::counter_name(static_cast<spec::CounterId>(i)), p[i] - perf[i]);
      nlohmann::json now = stats.to_json();
      for (const auto& [name, v] : now.items()) {
        const std::uint64_t b = mem.contains(name) ? mem[name].get<std::uint64_t>() : 0;
        w.counters.set(name, v.get<std::uint64_t>() - b);
      }
      perf = p;
      mem = std::move(now);
      last = cycle;
      on_window(w);
    }
    void sample(std::uint64_t cycle) override { window(cycle, false); }
  };

  void main(Lane& l) {
    for (;;) {
      while (!l.pending) sc_core::wait(l.go);
      l.pending = false;
      SyncBarrier* b = participants > 1 ? &barrier : nullptr;
      std::string how = "done";
      try {
        if (trace) {
          Traced traced(*l.core, *trace);
          l.cycles = l.bridge->run(traced, b, l.index);
        } else {
          l.cycles = l.bridge->run(*l.core, b, l.index);
        }
        if (l.core->error() != spec::CoreError::kNone) how = "error";
      } catch (const BarrierAborted& e) {
        l.aborted = e.what();
        how = "aborted at its SYNC";
      } catch (...) {
        l.error = std::current_exception();
        how = "bridge error";
      }
      if (b) b->leave(l.index, l.bridge->cycles_run() - start_cycles[l.index], how);
      if (--running == 0) sc_core::sc_pause();
    }
  }

  mem::MemorySystem memory;
  SyncBarrier barrier;
  std::vector<std::unique_ptr<Lane>> lanes;
  TraceWriter* trace = nullptr;
  mem::StatsRegistry& stats_ref;
  Sampler sampler{*this, stats_ref};
  std::uint64_t device_cycles = 0, runs = 0;
  unsigned participants = 0, running = 0;
  std::vector<std::uint64_t> start_cycles;  // each bridge's cycles_run() at the launch
};

CosimDevice::CosimDevice(const DeviceConfig& cfg) : cfg_(cfg) {
  if (cfg.cores < 1 || cfg.cores > kMaxCores)
    throw std::invalid_argument("device: cores = " + std::to_string(cfg.cores) +
                                " is out of range (allowed 1.." + std::to_string(kMaxCores) + ")");
  params_ = spec::device_of(cfg.core, cfg.memory.memory.size, cfg.memory.memory.base);
  spec::validate(params_);
  top_ = std::make_unique<Top>("device", cfg_, stats_);
}

CosimDevice::~CosimDevice() = default;

const mem::MemorySystem& CosimDevice::memory() const { return top_->memory; }

void CosimDevice::write(std::uint64_t addr, const std::uint8_t* data, std::uint64_t len) {
  if (!top_->memory.store().contains(addr, len))
    throw std::invalid_argument("device write: bytes outside the device memory");
  top_->memory.store().write(addr, data, len);
}

void CosimDevice::read(std::uint64_t addr, std::uint8_t* data, std::uint64_t len) {
  if (!top_->memory.store().contains(addr, len))
    throw std::invalid_argument("device read: bytes outside the device memory");
  top_->memory.store().read(addr, data, len);
}

namespace {

void check_program(const mem::BackingStore& store, std::uint64_t prog_addr, std::uint64_t n_insn,
                   const std::string& who) {
  if (n_insn == 0 || n_insn > 0xFFFF'FFFFu)
    throw std::invalid_argument("device run: " + who + "program length " + std::to_string(n_insn) +
                                " is out of range (allowed 1..4294967295 instructions)");
  if (prog_addr % 16 != 0 || !store.contains(prog_addr, n_insn * 16))
    throw std::invalid_argument("device run: " + who +
                                "the program must be 16-byte aligned inside the "
                                "device memory");
}

// The program's instruction words (for the trace).
std::vector<isa::Instruction> read_program(const mem::BackingStore& store, std::uint64_t addr,
                                           std::uint64_t n_insn) {
  std::vector<std::uint8_t> bytes(n_insn * 16);
  store.read(addr, bytes.data(), bytes.size());
  std::vector<isa::Instruction> program(n_insn);
  for (std::size_t i = 0; i < n_insn; ++i)
    for (unsigned w = 0; w < 2; ++w)
      for (unsigned b = 0; b < 8; ++b)
        program[i].words[w] |= std::uint64_t{bytes[16 * i + 8 * w + b]} << (8 * b);
  return program;
}

}  // namespace

spec::RunResult CosimDevice::run(std::uint64_t prog_addr, std::uint64_t n_insn) {
  const spec::LaunchResult l = launch({spec::CoreLaunch{prog_addr, n_insn}});
  spec::RunResult r = l.cores[0];
  for (const auto& [name, v] : l.shared) r.counters.set(name, v);
  return r;
}

spec::LaunchResult CosimDevice::launch(const std::vector<spec::CoreLaunch>& programs) {
  Top& top = *top_;
  const unsigned n = static_cast<unsigned>(programs.size());
  if (n == 0 || n > cfg_.cores)
    throw std::invalid_argument("device launch: " + std::to_string(n) +
                                " programs for a device of " + std::to_string(cfg_.cores) +
                                " cores (allowed 1.." + std::to_string(cfg_.cores) + ")");
  for (unsigned i = 0; i < n; ++i)
    check_program(top.memory.store(), programs[i].prog_addr, programs[i].n_insn,
                  n == 1 ? std::string() : "core " + std::to_string(i) + ": ");
  // Counters of this launch = after - before.
  const nlohmann::json before = stats_.to_json();
  const double t0_us = now_us();
  const double period_us =
      sc_core::sc_time(1e6 / top.lanes[0]->bridge->clock_mhz(), sc_core::SC_PS).to_seconds() * 1e6;
  if (top.trace)
    top.trace->begin_run(
        top.device_cycles, t0_us, period_us,
        read_program(top.memory.store(), programs[0].prog_addr, programs[0].n_insn));
  if (top.sampler.every)
    top.sampler.begin(top.runs, top.device_cycles, t0_us, period_us,
                      top.lanes[0]->bridge->clock_mhz());
  top.participants = n;
  top.running = n;
  top.barrier.start(n);
  top.start_cycles.assign(cfg_.cores, 0);
  for (unsigned i = 0; i < n; ++i) {
    Top::Lane& l = *top.lanes[i];
    top.start_cycles[i] = l.bridge->cycles_run();
    l.core->start(programs[i].prog_addr, static_cast<std::uint32_t>(programs[i].n_insn));
    l.pending = true;
    l.error = nullptr;
    l.aborted.clear();
    l.cycles = 0;
    l.go.notify(sc_core::SC_ZERO_TIME);
  }
  sc_core::sc_start();
  ++top.runs;
  if (top.trace) top.trace->end_run();

  // Errors: each failing core's, in core order, then the barrier's state.
  std::vector<std::string> errors;
  for (unsigned i = 0; i < n; ++i) {
    Top::Lane& l = *top.lanes[i];
    const std::string who = n == 1 ? std::string() : "core " + std::to_string(i) + ": ";
    if (l.error) {
      try {
        std::rethrow_exception(l.error);
      } catch (const std::exception& e) {
        errors.push_back(who + "device run failed: " + e.what());
      }
    } else if (l.core->error() != spec::CoreError::kNone) {
      std::ostringstream s;
      s << who << "device error: " << spec::describe(l.core->error()) << " (instruction "
        << l.core->error_pc() << " of the program at 0x" << std::hex << programs[i].prog_addr
        << std::dec << ")\n"
        << l.core->dump_state();
      errors.push_back(s.str());
    } else if (!l.aborted.empty()) {
      errors.push_back(who + "device run failed: " + l.aborted + l.core->dump_state());
    }
  }
  if (!errors.empty()) {
    // The next program starts from clean cores (the SRAMs keep their data).
    for (unsigned i = 0; i < n; ++i) top.lanes[i]->core->reset();
    std::string msg;
    for (const std::string& e : errors) msg += (msg.empty() || msg.back() == '\n' ? "" : "\n") + e;
    if (n > 1)
      msg += (msg.back() == '\n' ? "" : "\n") + std::string("barrier:\n") + top.barrier.describe();
    throw spec::DeviceError(msg);
  }
  spec::LaunchResult r;
  for (unsigned i = 0; i < n; ++i) r.cycles = std::max(r.cycles, top.lanes[i]->cycles);
  if (top.sampler.every && top.lanes[0]->cycles > top.sampler.last)
    top.sampler.window(top.lanes[0]->cycles, true);
  top.device_cycles += r.cycles;
  const nlohmann::json after = stats_.to_json();
  const std::string one_bridge = std::string(top.name()) + ".bridge";  // a one-core device's
  r.cores.resize(n);
  for (unsigned i = 0; i < n; ++i) {
    Top::Lane& l = *top.lanes[i];
    r.cores[i].cycles = l.cycles;
    const CorePerf perf = l.core->perf();
    for (std::size_t c = 0; c < perf.size(); ++c)
      r.cores[i].counters.set(spec::counter_name(static_cast<spec::CounterId>(c)), perf[c]);
  }
  for (const auto& [name, v] : after.items()) {
    const std::uint64_t b = before.contains(name) ? before[name].get<std::uint64_t>() : 0;
    const std::uint64_t d = v.get<std::uint64_t>() - b;
    // A core's bridge counters go with the core, under the one-core name.
    bool own = false;
    for (unsigned i = 0; i < cfg_.cores && !own; ++i) {
      const std::string& p = top.lanes[i]->prefix;
      if (name.size() > p.size() && name.compare(0, p.size(), p) == 0 && name[p.size()] == '.') {
        own = true;
        if (i < n) r.cores[i].counters.set(one_bridge + name.substr(p.size()), d);
      }
    }
    if (!own) r.shared.set(name, d);
  }
  return r;
}

void CosimDevice::set_sampling(std::uint64_t every,
                               std::function<void(const DeviceWindow&)> on_window) {
  if (every && !on_window) throw std::invalid_argument("device sampling: no window callback");
  top_->sampler.every = every;
  top_->sampler.on_window = std::move(on_window);
  if (every && cfg_.cores > 1)
    throw std::invalid_argument(
        "device sampling: supported on a device of one core (this one has " +
        std::to_string(cfg_.cores) + ")");
  top_->lanes[0]->bridge->set_sampler(every ? &top_->sampler : nullptr, every);
}

void CosimDevice::set_trace(TraceWriter* trace) {
  if (trace && cfg_.cores > 1)
    throw std::invalid_argument("device trace: supported on a device of one core (this one has " +
                                std::to_string(cfg_.cores) + ")");
  top_->trace = trace;
}

void CosimDevice::set_clock_mhz(double mhz) {
  for (auto& l : top_->lanes) l->bridge->set_clock_mhz(mhz);
}

double CosimDevice::clock_mhz() const { return top_->lanes[0]->bridge->clock_mhz(); }

std::uint64_t CosimDevice::device_cycles() const { return top_->device_cycles; }

double CosimDevice::now_us() const { return sc_core::sc_time_stamp().to_seconds() * 1e6; }

double CosimDevice::peak_macs_per_s() const {
  return double(cfg_.cores) * cfg_.core.rows * cfg_.core.cols * cfg_.core.clock_mhz * 1e6;
}

std::string CosimDevice::describe_bounds() const {
  std::ostringstream s;
  s << "peak " << peak_macs_per_s() / 1e9 << " GMAC/s (";
  if (cfg_.cores > 1) s << cfg_.cores << " cores of ";
  s << cfg_.core.rows << " x " << cfg_.core.cols << " PEs at " << cfg_.core.clock_mhz
    << " MHz); memory: " << top_->memory.describe_bounds();
  return s.str();
}

}  // namespace sasim::cosim
