#include "sasim/cosim/device.hpp"

#include <exception>
#include <sstream>
#include <stdexcept>
#include <systemc>

#include "sasim/cosim/axi_bridge.hpp"

namespace sasim::cosim {

// The SystemC side: memory system, bridge and the thread that runs programs.
struct CosimDevice::Top : sc_core::sc_module {
  SC_HAS_PROCESS(Top);

  Top(sc_core::sc_module_name nm, const DeviceConfig& cfg, mem::StatsRegistry& stats)
      : sc_core::sc_module(nm),
        memory("mem", cfg.memory, stats),
        bridge("bridge", bridge_config(cfg), stats),
        core(make_core_model(cfg.core, CoreModelOptions{cfg.wave_file, 2, 1})) {
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

  void main() {
    for (;;) {
      while (!pending) wait(go);
      pending = false;
      try {
        cycles = bridge.run(*core);
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
  top_->core->start(prog_addr, static_cast<std::uint32_t>(n_insn));
  top_->pending = true;
  top_->error = nullptr;
  top_->go.notify(sc_core::SC_ZERO_TIME);
  sc_core::sc_start();
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
