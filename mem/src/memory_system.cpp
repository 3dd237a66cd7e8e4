#include "sasim/mem/memory_system.hpp"

#include <algorithm>
#include <limits>
#include <sstream>
#include <stdexcept>

namespace sasim::mem {

void MainMemoryConfig::validate() const {
  if (model != "dram" && model != "fixed" && model != "ideal") {
    throw std::invalid_argument("memory.model: '" + model.substr(0, 60) +
                                "' is not allowed (allowed dram, fixed, ideal)");
  }
  constexpr std::uint64_t kMin = std::uint64_t{1} << 20, kMax = std::uint64_t{1} << 40;
  if (size < kMin || size > kMax) {
    throw std::invalid_argument("memory.size: " + std::to_string(size) +
                                " is out of range (allowed " + std::to_string(kMin) + ".." +
                                std::to_string(kMax) + ")");
  }
}

MemorySystem::MemorySystem(sc_core::sc_module_name name, const MemorySystemConfig& cfg,
                           mem::StatsRegistry& stats)
    : sc_core::sc_module(name), cfg_(cfg) {
  const MainMemoryConfig& m = cfg_.memory;
  m.validate();
  store_ = std::make_unique<BackingStore>(m.base, m.size);
  noc_ = std::make_unique<Interconnect>("noc", cfg_.interconnect,
                                        std::vector<AddressRange>{{m.base, m.size, 0}}, stats);
  l2_ = std::make_unique<Cache>("l2", cfg_.l2, *store_, stats);
  noc_->out.bind(l2_->upstream);
  if (m.model == "dram") {
    dram_ = std::make_unique<Dram>("dram", m.dram, *store_, stats);
    l2_->downstream.bind(dram_->socket);
  } else if (m.model == "fixed") {
    fixed_ = std::make_unique<FixedLatencyMemory>("fixed", m.fixed, *store_, stats);
    l2_->downstream.bind(fixed_->socket);
  } else {
    ideal_ = std::make_unique<IdealMemory>("ideal", *store_, stats);
    l2_->downstream.bind(ideal_->socket);
  }
}

MemorySystem::~MemorySystem() = default;

tlm_utils::multi_passthrough_target_socket<Interconnect>& MemorySystem::in() { return noc_->in; }

double MemorySystem::peak_bytes_per_s() const {
  const double noc = cfg_.interconnect.width_bytes * cfg_.interconnect.clock_mhz * 1e6;
  double mem = std::numeric_limits<double>::infinity();
  if (dram_) mem = dram_->theoretical_peak_bytes_per_s();
  if (fixed_) mem = cfg_.memory.fixed.bandwidth_gbps * 1e9;
  return std::min(noc, mem);
}

std::string MemorySystem::describe_bounds() const {
  std::ostringstream o;
  o.precision(4);
  o << "peak bandwidth " << peak_bytes_per_s() / 1e9 << " GB/s (interconnect "
    << cfg_.interconnect.width_bytes * cfg_.interconnect.clock_mhz / 1e3 << " GB/s";
  if (dram_) o << ", DRAM " << dram_->theoretical_peak_bytes_per_s() / 1e9 << " GB/s";
  if (fixed_) o << ", fixed-latency memory " << cfg_.memory.fixed.bandwidth_gbps << " GB/s";
  if (ideal_) o << ", ideal memory unbounded";
  o << ")";
  return o.str();
}

}  // namespace sasim::mem
