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

#include "sasim/model/types.hpp"
#include "sasim/sim/array_model.hpp"
#include "sasim/sim/axi.hpp"

namespace sasim::sim {

// Elaboration parameters of a core variant (SASIM_CORE_VARIANTS in CMake).
struct CoreShape {
  model::Datapath datapath = model::Datapath::kInt8;
  unsigned rows = 0;
  unsigned cols = 0;
  unsigned spad_rows = 0;
  unsigned acc_rows = 0;
  unsigned bus_bytes = 16;
  bool operator==(const CoreShape&) const = default;
};
// e.g. "int8 16x16, spad 8192 rows, acc 1024 rows, 16-byte bus"
std::string to_string(const CoreShape& s);

// Error codes of sa_core (sa_pkg::core_err_e).
enum class CoreError : unsigned {
  kNone = 0,
  kIllegal = 1,
  kRange = 2,
  kAlign = 3,
  kNoFinish = 4,
  kReuse = 5,
  kBusRead = 6,
  kBusWrite = 7,
};
std::string_view describe(CoreError e);

// Performance counters, in the order of sa_pkg::PERF_* (perf_o[i]).
inline constexpr std::array<std::string_view, 21> kCorePerfNames = {
    "cycles",     "exec_busy",   "exec_wait_load", "exec_wait_store", "exec_starved", "array_steps",
    "vec_rows",   "load_busy",   "store_busy",     "insn_load",       "insn_exec",    "insn_store",
    "load_beats", "store_beats", "fetch_beats",    "spad_reads",      "spad_writes",  "acc_reads",
    "acc_writes", "ar_stall",    "w_stall"};
using CorePerf = std::array<std::uint64_t, kCorePerfNames.size()>;

class CoreModel : public ClockedCore {
 public:
  CoreModel() = default;
  CoreModel(const CoreModel&) = delete;
  CoreModel& operator=(const CoreModel&) = delete;

  virtual const CoreShape& shape() const = 0;
  // Holds reset for a few cycles; the core is idle afterwards.
  virtual void reset() = 0;
  // start_i is raised in the next cycle(): the program of n instructions at addr.
  virtual void start(std::uint64_t prog_addr, std::uint32_t n_insn) = 0;
  virtual CoreError error() const = 0;
  virtual std::uint32_t error_pc() const = 0;
  virtual CorePerf perf() const = 0;
  virtual std::uint64_t cycles() const = 0;  // cycles since construction
};

struct CoreModelOptions {
  std::string wave_file;  // FST waveform written here when not empty
  int rand_reset = 2;     // Verilator X init: 0 zeros, 1 ones, 2 random
  std::uint32_t seed = 1;
  bool assertions = true;  // evaluate the RTL's SVA assertions (compiled in; off is faster)
};

std::vector<CoreShape> built_core_variants();
// Throws std::invalid_argument naming the built variants when `shape` was not
// verilated into this build.
std::unique_ptr<CoreModel> make_core_model(const CoreShape& shape,
                                           const CoreModelOptions& options = {});

}  // namespace sasim::sim
