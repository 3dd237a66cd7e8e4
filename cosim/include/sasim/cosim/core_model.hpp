// The cycle-level interface of one verilated sasim core (rtl/sa_core.sv): an
// AXI4 bus master (ClockedCore, axi.hpp) plus the host-side control (start a
// program, done, error) and the performance counters.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sasim/cosim/array_model.hpp"
#include "sasim/cosim/axi.hpp"
#include "sasim/spec/device_spec.hpp"

namespace sasim::cosim {

// The performance counters of one run, perf_o[i] = spec::kCounters[i].
using CorePerf = std::array<std::uint64_t, spec::kCounters.size()>;

// What happened in the core in the last cycle() (the trace, trace.hpp).
struct CoreEvents {
  // Bit i: counter spec::kCounters[i] counted in the cycle (the counters
  // that count at most one per cycle; the SRAM access counters stay 0).
  std::uint32_t counted = 0;
  // Bit 0 / 1 / 2: the LOAD / EXEC / STORE queue's head instruction left its
  // queue for its unit (it starts), in program order per queue.
  std::uint32_t started = 0;
};

class CoreModel : public ClockedCore {
 public:
  CoreModel() = default;
  CoreModel(const CoreModel&) = delete;
  CoreModel& operator=(const CoreModel&) = delete;

  virtual const spec::CoreSpec& spec() const = 0;
  // Holds reset for a few cycles; the core is idle afterwards.
  virtual void reset() = 0;
  // start_i is raised in the next cycle(): the program of n instructions at addr.
  virtual void start(std::uint64_t prog_addr, std::uint32_t n_insn) = 0;
  virtual spec::CoreError error() const = 0;
  virtual std::uint32_t error_pc() const = 0;
  virtual CorePerf perf() const = 0;
  virtual std::uint64_t cycles() const = 0;  // cycles since construction
  virtual CoreEvents events() const = 0;     // of the last cycle()
};

struct CoreModelOptions {
  std::string wave_file;  // FST waveform written here when not empty
  int rand_reset = 2;     // Verilator X init: 0 zeros, 1 ones, 2 random
  std::uint32_t seed = 1;
  bool assertions = true;  // evaluate the RTL's SVA assertions (compiled in; off is faster)
};

// The cores verilated into this build (SASIM_CORE_VARIANTS in CMake).
// is_core_built: linked in or in the variant cache (variant_cache.hpp), i.e.
// usable without a build.
std::vector<spec::CoreSpec> built_core_variants();
bool is_core_built(const spec::CoreSpec& s);
// Throws spec::SpecError for a core outside the contract's ranges. A core that
// is not linked in comes from the variant cache, built there first when
// missing (VariantBuildError if that fails).
std::unique_ptr<CoreModel> make_core_model(const spec::CoreSpec& s,
                                           const CoreModelOptions& options = {});

}  // namespace sasim::cosim
