#include "sasim/app/mem_job.hpp"

#include <algorithm>
#include <cstdio>
#include <limits>
#include <random>
#include <sstream>
#include <stdexcept>

#include "sasim/app/summary.hpp"
#include "sasim/mem/at_initiator.hpp"
#include "sasim/mem/memory_system.hpp"
#include "sasim/mem/protocol_checker.hpp"

namespace sasim::app {

MemJobResult mem_job(const Config& cfg) {
  const TrafficConfig& t = cfg.traffic;
  mem::StatsRegistry stats;
  mem::MemorySystem sys("sys", cfg.memory_system(), stats);
  mem::AtInitiator init("dma", t.outstanding);
  mem::ProtocolChecker checker("checker");
  init.socket.bind(checker.in);
  checker.out.bind(sys.in());

  // The script: addresses aligned to request_bytes inside the footprint.
  std::mt19937_64 rng(t.seed);
  const std::uint64_t slots = t.footprint_bytes / t.request_bytes;
  std::vector<std::uint8_t> payload(t.request_bytes);
  for (std::uint64_t i = 0; i < t.requests; ++i) {
    const std::uint64_t slot = t.pattern == "stream" ? i % slots : rng() % slots;
    const std::uint64_t addr = cfg.memory.base + slot * t.request_bytes;
    const bool write =
        t.write_fraction > 0 && static_cast<double>(rng() >> 11) * 0x1.0p-53 < t.write_fraction;
    if (write) {
      for (auto& b : payload) b = static_cast<std::uint8_t>(rng());
      init.write(addr, payload);
    } else {
      init.read(addr, t.request_bytes);
    }
  }
  if (!mem::run_until_done(init, sc_core::sc_time(1e6, sc_core::SC_SEC))) {
    throw std::runtime_error("traffic job: the memory system stopped answering after " +
                             std::to_string(init.completed()) + " of " +
                             std::to_string(t.requests) + " requests");
  }
  checker.check_idle();
  if (!checker.violations().empty()) {
    throw std::runtime_error("traffic job: TLM protocol violation: " + checker.violations()[0]);
  }

  MemJobResult r;
  r.requests = t.requests;
  r.bytes = t.requests * t.request_bytes;
  double first = std::numeric_limits<double>::infinity(), last = 0, sum = 0;
  r.min_latency_ns = std::numeric_limits<double>::infinity();
  for (std::size_t i = 0; i < init.size(); ++i) {
    const auto& rec = init.record(i);
    if (rec.status != tlm::TLM_OK_RESPONSE) {
      throw std::runtime_error("traffic job: request " + std::to_string(i) + " failed with " +
                               std::string(tlm::tlm_generic_payload().get_response_string()));
    }
    const double req = rec.begin_req.to_seconds() * 1e9;
    const double resp = rec.begin_resp.to_seconds() * 1e9;
    first = std::min(first, req);
    last = std::max(last, resp);
    sum += resp - req;
    r.min_latency_ns = std::min(r.min_latency_ns, resp - req);
    r.max_latency_ns = std::max(r.max_latency_ns, resp - req);
  }
  r.elapsed_ns = last - first;
  r.bandwidth_gbps = r.elapsed_ns > 0 ? static_cast<double>(r.bytes) / r.elapsed_ns : 0;
  r.mean_latency_ns = sum / static_cast<double>(t.requests);
  r.peak_gbps = sys.peak_bytes_per_s() / 1e9;
  r.bounds = sys.describe_bounds();
  r.stats = {{"config", cfg.name},
             {"counters", stats.to_json()},
             {"derived",
              {{"requests", r.requests},
               {"bytes", r.bytes},
               {"elapsed_ns", r.elapsed_ns},
               {"bandwidth_gbps", r.bandwidth_gbps},
               {"peak_gbps", r.peak_gbps},
               {"mean_latency_ns", r.mean_latency_ns},
               {"min_latency_ns", r.min_latency_ns},
               {"max_latency_ns", r.max_latency_ns}}}};
  return r;
}

std::string mem_summary(const Config& cfg, const MemJobResult& r) {
  const auto& c = r.stats.at("counters");
  char line[256];
  std::ostringstream o;
  o << "sasim: memory traffic, " << cfg.traffic.requests << " x " << cfg.traffic.request_bytes
    << " B " << cfg.traffic.pattern << " (" << cfg.source << ")\n";
  o << "  bounds           " << r.bounds << "\n";
  std::snprintf(line, sizeof line, "  bandwidth        %.3f GB/s (%.1f %% of peak %.3f GB/s)\n",
                r.bandwidth_gbps, r.peak_gbps > 0 ? 100 * r.bandwidth_gbps / r.peak_gbps : 0.0,
                r.peak_gbps);
  o << line;
  std::snprintf(line, sizeof line, "  latency          mean %.2f ns, min %.2f ns, max %.2f ns\n",
                r.mean_latency_ns, r.min_latency_ns, r.max_latency_ns);
  o << line;
  spec::Counters counters;
  for (const auto& [k, v] : c.items()) counters.set(k, v.get<std::uint64_t>());
  o << l2_line(cfg, counters, "sys.") << memory_line(cfg, counters, "sys.", r.elapsed_ns * 1e-9);
  return o.str();
}

}  // namespace sasim::app
