// The configured memory hierarchy behind the accelerator's bus-master port(s):
//
//   initiators --> Interconnect --> L2 Cache (or bypass) --> Dram | FixedLatencyMemory |
//   IdealMemory
//
// built from the YAML sections interconnect, l2 and memory (app/src/config.cpp
// fills and validates them). Owns the BackingStore, the one functional copy of
// memory, reachable without timing through store() or any component's
// transport_dbg.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <systemc>

#include "sasim/mem/backing_store.hpp"
#include "sasim/mem/cache.hpp"
#include "sasim/mem/dram.hpp"
#include "sasim/mem/interconnect.hpp"
#include "sasim/mem/simple_memory.hpp"
#include "sasim/mem/stats.hpp"

namespace sasim::mem {

// The memory behind the L2: the DRAM timing model, or one of the baselines
// that isolate its effect.
struct MainMemoryConfig {
  std::string model = "dram";  // "dram" | "fixed" | "ideal"
  std::uint64_t base = 0x8000'0000;
  std::uint64_t size = std::uint64_t{1} << 32;  // bytes, 1 MiB .. 1 TiB
  DramConfig dram;
  FixedLatencyConfig fixed;
  // Throws std::invalid_argument naming the key ("memory.model: ...") and its
  // allowed values or range.
  void validate() const;
};

struct MemorySystemConfig {
  InterconnectConfig interconnect;
  CacheConfig l2;
  MainMemoryConfig memory;
};

class MemorySystem : public sc_core::sc_module {
 public:
  // Component names (and counter prefixes): <name>.noc, <name>.l2, <name>.dram
  // (or .fixed / .ideal). Throws std::invalid_argument for a bad config.
  MemorySystem(sc_core::sc_module_name name, const MemorySystemConfig& cfg,
               mem::StatsRegistry& stats);
  ~MemorySystem() override;

  // Initiators bind their initiator sockets here, one port each, in order.
  tlm_utils::multi_passthrough_target_socket<Interconnect>& in();
  BackingStore& store() { return *store_; }
  const MemorySystemConfig& config() const { return cfg_; }

  // Theoretical bounds of the configuration, printed beside every result.
  // Peak bandwidth: the narrowest of the interconnect data path and the
  // memory (DRAM peak, fixed-latency cap; ideal memory has none).
  double peak_bytes_per_s() const;
  // One line naming the bound and where it comes from.
  std::string describe_bounds() const;

 private:
  MemorySystemConfig cfg_;
  std::unique_ptr<BackingStore> store_;
  std::unique_ptr<Interconnect> noc_;
  std::unique_ptr<Cache> l2_;
  std::unique_ptr<Dram> dram_;
  std::unique_ptr<FixedLatencyMemory> fixed_;
  std::unique_ptr<IdealMemory> ideal_;
};

}  // namespace sasim::mem
