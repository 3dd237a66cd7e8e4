#include "sasim/cosim/device.hpp"

#include <exception>
#include <sstream>
#include <stdexcept>
#include <systemc>

#include "sasim/cosim/axi_bridge.hpp"
#include "sasim/cosim/trace.hpp"

namespace sasim::cosim {

// The SystemC side: memory system, bridge and the thread that runs programs.
struct CosimDevice::Top : sc_core::sc_module {
  SC_HAS_PROCESS(Top);

  Top(sc_core::sc_module_name nm, const DeviceConfig& cfg, mem::StatsRegistry& stats)
      : sc_core::sc_module(nm),
        memory("mem", cfg.memory, stats),
        bridge("bridge", bridge_config(cfg), stats),
        core(make_engine_core(cfg.engine, cfg.core, CoreModelOptions{cfg.wave_file, 2, 1})),
        stats_ref(stats) {
    bridge.socket.bind(memory.in());
    SC_THREAD(main);
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

  // Windows of a run for set_sampling().
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
      const CorePerf p = top.core->perf();
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

  void main() {
    for (;;) {
      while (!pending) wait(go);
      pending = false;
      try {
        if (trace) {
          Traced traced(*core, *trace);
          cycles = bridge.run(traced);
        } else {
          cycles = bridge.run(*core);
        }
      } catch (...) {
        error = std::current_exception();
      }
      sc_core::sc_pause();
    }
  }

  mem::MemorySystem memory;
  AxiTlmBridge bridge;
  std::unique_ptr<CoreModel> core;
  sc_core::sc_event go;
  TraceWriter* trace = nullptr;
  mem::StatsRegistry& stats_ref;
  Sampler sampler{*this, stats_ref};
  std::uint64_t device_cycles = 0, runs = 0;
  bool pending = false;
  std::uint64_t cycles = 0;
  std::exception_ptr error;
};

CosimDevice::CosimDevice(const DeviceConfig& cfg) : cfg_(cfg) {
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

spec::RunResult CosimDevice::run(std::uint64_t prog_addr, std::uint64_t n_insn) {
  if (n_insn == 0 || n_insn > 0xFFFF'FFFFu)
    throw std::invalid_argument("device run: program length " + std::to_string(n_insn) +
                                " is out of range (allowed 1..4294967295 instructions)");
  if (prog_addr % 16 != 0 || !top_->memory.store().contains(prog_addr, n_insn * 16))
    throw std::invalid_argument(
        "device run: the program must be 16-byte aligned inside the "
        "device memory");
  // Counters of this run = after - before.
  const nlohmann::json before = stats_.to_json();
  const double t0_us = now_us();
  const double period_us =
      sc_core::sc_time(1e6 / top_->bridge.clock_mhz(), sc_core::SC_PS).to_seconds() * 1e6;
  if (top_->trace) {
    std::vector<std::uint8_t> bytes(n_insn * 16);
    top_->memory.store().read(prog_addr, bytes.data(), bytes.size());
    std::vector<isa::Instruction> program(n_insn);
    for (std::size_t i = 0; i < n_insn; ++i)
      for (unsigned w = 0; w < 2; ++w)
        for (unsigned b = 0; b < 8; ++b)
          program[i].words[w] |= std::uint64_t{bytes[16 * i + 8 * w + b]} << (8 * b);
    top_->trace->begin_run(top_->device_cycles, t0_us, period_us, program);
  }
  if (top_->sampler.every)
    top_->sampler.begin(top_->runs, top_->device_cycles, t0_us, period_us,
                        top_->bridge.clock_mhz());
  top_->core->start(prog_addr, static_cast<std::uint32_t>(n_insn));
  top_->pending = true;
  top_->error = nullptr;
  top_->go.notify(sc_core::SC_ZERO_TIME);
  sc_core::sc_start();
  ++top_->runs;
  if (top_->trace) top_->trace->end_run();
  if (top_->error) {
    top_->core->reset();  // the next program starts from a clean core (SRAMs keep their data)
    try {
      std::rethrow_exception(top_->error);
    } catch (const std::exception& e) {
      throw spec::DeviceError(std::string("device run failed: ") + e.what());
    }
  }
  CoreModel& core = *top_->core;
  if (core.error() != spec::CoreError::kNone) {
    std::ostringstream s;
    s << "device error: " << spec::describe(core.error()) << " (instruction " << core.error_pc()
      << " of the program at 0x" << std::hex << prog_addr << std::dec << ")\n"
      << core.dump_state();
    core.reset();
    throw spec::DeviceError(s.str());
  }
  if (top_->sampler.every && top_->cycles > top_->sampler.last)
    top_->sampler.window(top_->cycles, true);
  top_->device_cycles += top_->cycles;
  spec::RunResult r;
  r.cycles = top_->cycles;
  const CorePerf perf = core.perf();
  for (std::size_t i = 0; i < perf.size(); ++i)
    r.counters.set(spec::counter_name(static_cast<spec::CounterId>(i)), perf[i]);
  const nlohmann::json after = stats_.to_json();
  for (const auto& [name, v] : after.items()) {
    const std::uint64_t b = before.contains(name) ? before[name].get<std::uint64_t>() : 0;
    r.counters.set(name, v.get<std::uint64_t>() - b);
  }
  return r;
}

void CosimDevice::set_sampling(std::uint64_t every,
                               std::function<void(const DeviceWindow&)> on_window) {
  if (every && !on_window) throw std::invalid_argument("device sampling: no window callback");
  top_->sampler.every = every;
  top_->sampler.on_window = std::move(on_window);
  top_->bridge.set_sampler(every ? &top_->sampler : nullptr, every);
}

void CosimDevice::set_trace(TraceWriter* trace) { top_->trace = trace; }

void CosimDevice::set_clock_mhz(double mhz) { top_->bridge.set_clock_mhz(mhz); }

double CosimDevice::clock_mhz() const { return top_->bridge.clock_mhz(); }

std::uint64_t CosimDevice::device_cycles() const { return top_->device_cycles; }

double CosimDevice::now_us() const { return sc_core::sc_time_stamp().to_seconds() * 1e6; }

double CosimDevice::peak_macs_per_s() const {
  return double(cfg_.core.rows) * cfg_.core.cols * cfg_.core.clock_mhz * 1e6;
}

std::string CosimDevice::describe_bounds() const {
  std::ostringstream s;
  s << "peak " << peak_macs_per_s() / 1e9 << " GMAC/s (" << cfg_.core.rows << " x "
    << cfg_.core.cols << " PEs at " << cfg_.core.clock_mhz
    << " MHz); memory: " << top_->memory.describe_bounds();
  return s.str();
}

}  // namespace sasim::cosim
