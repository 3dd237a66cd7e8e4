// Named statistics counters. Each component registers its counters once, under
// its own prefix ("l2.hits", "dram.ch0.row_hits"); a run dumps them all to
// JSON, and summaries are derived from the registry, never recounted.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

namespace sasim::mem {

class Counter {
 public:
  void operator+=(std::uint64_t v) { value_ += v; }
  void operator++() { ++value_; }
  void set(std::uint64_t v) { value_ = v; }
  std::uint64_t value() const { return value_; }

 private:
  std::uint64_t value_ = 0;
};

class StatsRegistry {
 public:
  // Registers (or returns the existing) counter `name`. The reference stays
  // valid for the registry's lifetime.
  Counter& counter(const std::string& name) {
    auto& slot = counters_[name];
    if (!slot) slot = std::make_unique<Counter>();
    return *slot;
  }
  // Value of a registered counter; throws std::out_of_range for unknown names.
  std::uint64_t value(const std::string& name) const {
    const auto it = counters_.find(name);
    if (it == counters_.end()) throw std::out_of_range("no statistics counter '" + name + "'");
    return it->second->value();
  }
  bool has(const std::string& name) const { return counters_.count(name) != 0; }
  void reset() {
    for (auto& [name, c] : counters_) c->set(0);
  }
  // Flat JSON object {"l2.hits": 12, ...}, sorted by name.
  nlohmann::json to_json() const {
    nlohmann::json j = nlohmann::json::object();
    for (const auto& [name, c] : counters_) j[name] = c->value();
    return j;
  }

 private:
  std::map<std::string, std::unique_ptr<Counter>> counters_;
};

}  // namespace sasim::mem
