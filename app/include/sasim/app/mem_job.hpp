// `sasim mem`: a synthetic access stream through the configured memory system
// (interconnect -> L2 -> DRAM | fixed | ideal), to explore cache and DRAM
// parameters before the device drives the same hierarchy. Reports achieved
// bandwidth and latency beside the configuration's bounds, plus every counter.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "sasim/app/config.hpp"

namespace sasim::app {

struct MemJobResult {
  std::uint64_t requests = 0;
  std::uint64_t bytes = 0;
  double elapsed_ns = 0;       // first BEGIN_REQ to last BEGIN_RESP
  double bandwidth_gbps = 0;   // bytes / elapsed
  double peak_gbps = 0;        // MemorySystem::peak_bytes_per_s
  double mean_latency_ns = 0;  // BEGIN_REQ -> BEGIN_RESP
  double min_latency_ns = 0;
  double max_latency_ns = 0;
  std::string bounds;
  nlohmann::json stats;  // counters and derived values
};

// Runs the `traffic` section of cfg through cfg's memory system. Uses the
// current SystemC context (one run per process, or a fresh context per run).
MemJobResult mem_job(const Config& cfg);

std::string mem_summary(const Config& cfg, const MemJobResult& r);

}  // namespace sasim::app
