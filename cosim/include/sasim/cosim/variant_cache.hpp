// Cores and arrays built on demand. A variant that is not verilated into this
// build (SASIM_CORE_VARIANTS / SASIM_ARRAY_VARIANTS) is verilated and compiled
// once into a persistent cache, as a module that sasim loads with dlopen:
//   <cache>/<kind>_<variant>_<key>/sasim_variant.so
// where <key> hashes what the module is made of (the RTL, the C++ headers it
// compiles, the contract, the compiler and Verilator versions, the flags), so
// an edit to any of them builds a new entry instead of reusing a stale one.
// The cache is $SASIM_VARIANT_CACHE, or variant-cache/ in the build directory.
// Concurrent builds are bounded across processes by lock files
// (<cache>/build-slot-<i>.lock, $SASIM_BUILD_SLOTS of them, default 1); two
// processes that want the same variant build it once (<entry>.lock).
#pragma once

#include <cstdint>
#include <filesystem>
#include <iosfwd>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "sasim/cosim/array_model.hpp"
#include "sasim/cosim/core_model.hpp"

namespace sasim::cosim {

// What a variant module exports (sasim_variant_plugin()): the key it was built
// with, checked against this build's before anything else is used, and its
// factory.
struct VariantPlugin {
  const char* key;  // SASIM_VARIANT_ABI of the build that made it
  int kind;         // 0 core, 1 array
  std::unique_ptr<CoreModel> (*make_core)(const spec::CoreSpec&, const CoreModelOptions&);
  std::unique_ptr<ArrayModel> (*make_array)(const spec::CoreSpec&, const ArrayModelOptions&);
};

// A variant that could not be built; what() names the variant and the build
// log, with its last lines.
class VariantBuildError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class VariantKind { kCore, kArray };

std::filesystem::path variant_cache_dir();
// This build's key (the hash described above, 16 hex digits).
std::string variant_key();
// The cache entry of a variant (it may not exist yet).
std::filesystem::path variant_entry(VariantKind kind, const spec::CoreSpec& s);
bool is_variant_cached(VariantKind kind, const spec::CoreSpec& s);
// How long the cached variant took to build (<entry>/build.txt), or -1.
double variant_build_seconds(VariantKind kind, const spec::CoreSpec& s);
// Removes the cache's entries of other keys (earlier RTL, headers or
// compilers) and their lock files; returns the bytes freed. An entry being
// built (its lock held) is left alone.
std::uintmax_t prune_variant_cache(std::ostream& log);
// The variants in the cache for this build's key.
std::vector<spec::CoreSpec> cached_variants(VariantKind kind);

// The largest array the variant cache verilates: 128 x 128 PEs (a 256 x 256
// core is legal, but its Verilator build would take hours and tens of GB; the
// model engine runs it, docs/model.md).
inline constexpr unsigned kMaxRtlPes = 128 * 128;

// Builds the variant into the cache unless it is there (waiting for a build
// slot, or for another process building the same variant), reporting on
// `progress`. Throws VariantBuildError when the build fails or the array has
// more than kMaxRtlPes PEs.
void build_variant(VariantKind kind, const spec::CoreSpec& s, std::ostream& progress);

// The model of a cached variant (built first when missing, progress on stderr).
std::unique_ptr<CoreModel> load_cached_core(const spec::CoreSpec& s,
                                            const CoreModelOptions& options);
std::unique_ptr<ArrayModel> load_cached_array(const spec::CoreSpec& s,
                                              const ArrayModelOptions& options);

}  // namespace sasim::cosim
