#include "sasim/spec/backend.hpp"

namespace sasim::spec {

std::string counter_name(CounterId id) {
  return "core." + std::string(kCounters.at(static_cast<std::size_t>(id)).name);
}

void Counters::add(const Counters& o) {
  for (const auto& [name, v] : o) m_[name] += v;
}

std::uint64_t Counters::at(std::string_view name) const {
  const auto it = m_.find(name);
  if (it != m_.end()) return it->second;
  std::string have;
  for (const auto& [n, v] : m_) have += (have.empty() ? "" : ", ") + n;
  throw std::out_of_range("no counter '" + std::string(name) +
                          "' in this run (it has: " + (have.empty() ? "none" : have) + ")");
}

std::uint64_t instructions(const Counters& c) {
  std::uint64_t n = 0;
  for (isa::Queue q : isa::kQueues) n += c.at(insn_counter(q));
  return n;
}

void RunResult::add(const RunResult& o) {
  cycles += o.cycles;
  counters.add(o.counters);
}

RunResult LaunchResult::total() const {
  RunResult r;
  r.cycles = cycles;
  for (const RunResult& c : cores) r.counters.add(c.counters);
  r.counters.add(shared);
  return r;
}

LaunchResult DeviceBackend::launch(const std::vector<CoreLaunch>& programs) {
  if (programs.size() != 1)
    throw std::invalid_argument("device launch: " + std::to_string(programs.size()) +
                                " programs for a device of 1 core (allowed 1..1)");
  const RunResult r = run(programs[0].prog_addr, programs[0].n_insn);
  LaunchResult l;
  l.cycles = r.cycles;
  l.cores.resize(1);
  l.cores[0].cycles = r.cycles;
  for (const auto& [name, v] : r.counters) {
    if (name.rfind("core.", 0) == 0 || name.rfind("device.bridge.", 0) == 0)
      l.cores[0].counters.set(name, v);
    else
      l.shared.set(name, v);
  }
  return l;
}

}  // namespace sasim::spec
