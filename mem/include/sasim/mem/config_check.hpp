// The checks of the memory-system configurations (DramConfig, CacheConfig,
// InterconnectConfig, FixedLatencyConfig): each failure throws
// std::invalid_argument "<key>: <value> is out of range (allowed <range>)"
// with the key as the YAML file spells it; the config loader puts the file and
// the section before it ("t.yaml: memory.dram.tCL: 0 is out of range ...").
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

namespace sasim::mem {

[[noreturn]] void config_fail(const std::string& key, const std::string& msg);
// lo..hi, and a power of two when pow2.
void check_uint(const std::string& key, std::uint64_t v, std::uint64_t lo, std::uint64_t hi,
                bool pow2 = false);
// A finite value in [lo, hi].
void check_real(const std::string& key, double v, double lo, double hi);
// A name a registry must know: make(name) throws std::invalid_argument
// listing the allowed names, which becomes the message of `key`.
template <typename Make>
void check_name(const std::string& key, Make&& make) {
  try {
    make();
  } catch (const std::invalid_argument& e) {
    config_fail(key, e.what());
  }
}
// v as a message shows it (%g: 1e-300, 0.5, 1600).
std::string number_text(double v);

}  // namespace sasim::mem
