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

}  // namespace sasim::spec
