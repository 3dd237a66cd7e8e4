// The cycle-level interface of one verilated systolic array (rtl/sa_array.sv).
//
// Use per cycle: set the inputs, call settle() and read the ready/valid outputs
// (they are combinational on the inputs), then tick() for the rising edge.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "sasim/model/types.hpp"
#include "sasim/spec/device_spec.hpp"

namespace sasim::cosim {

struct ArrayModelOptions {
  std::string wave_file;   // FST waveform written here when not empty
  int rand_reset = 2;      // Verilator X init: 0 zeros, 1 ones, 2 random
  std::uint32_t seed = 1;  // seed of the random X initialisation
};

// Raised when the RTL reports an assertion failure or $error.
class RtlError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class ArrayModel {
 public:
  virtual ~ArrayModel() = default;
  ArrayModel() = default;
  ArrayModel(const ArrayModel&) = delete;
  ArrayModel& operator=(const ArrayModel&) = delete;

  virtual const spec::CoreSpec& spec() const = 0;  // datapath, rows, cols

  // Holds reset for a few cycles; leaves the model idle with cycle() == 0.
  virtual void reset() = 0;

  // Inputs. Operands are raw bit patterns (int8 in the low 8 bits).
  virtual void set_dataflow(model::Dataflow df) = 0;
  virtual void set_pre(bool valid, std::span<const std::uint16_t> row) = 0;  // cols
  virtual void set_in(bool valid, std::span<const std::uint16_t> a,          // rows
                      std::span<const std::uint16_t> b,                      // cols (OS)
                      bool first, bool last) = 0;
  virtual void set_out_ready(bool ready) = 0;

  // Evaluates combinational logic after the inputs changed.
  virtual void settle() = 0;

  // Outputs (valid after settle()).
  virtual bool pre_ready() const = 0;
  virtual bool in_ready() const = 0;
  virtual bool out_valid() const = 0;
  virtual bool out_last() const = 0;
  virtual bool idle() const = 0;
  virtual void out_data(std::span<std::uint32_t> row) const = 0;  // cols

  // One rising clock edge.
  virtual void tick() = 0;
  virtual std::uint64_t cycle() const = 0;
};

// The arrays verilated into this build (SASIM_ARRAY_VARIANTS in CMake): only
// datapath, rows and cols of each spec matter. is_array_built: linked in or
// in the variant cache (variant_cache.hpp), i.e. usable without a build.
std::vector<spec::CoreSpec> built_array_variants();
bool is_array_built(const spec::CoreSpec& s);

// Creates the verilated array of s; throws spec::SpecError for a core outside
// the contract's ranges. An array that is not linked in comes from the
// variant cache, built there first when missing (VariantBuildError if that
// fails).
std::unique_ptr<ArrayModel> make_array_model(const spec::CoreSpec& s,
                                             const ArrayModelOptions& options = {});

}  // namespace sasim::cosim
