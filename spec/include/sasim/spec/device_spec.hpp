// The one description of a sasim core (CoreSpec) and of the device it sits in
// (DeviceSpec: the core plus its window of device memory). Defaults and legal
// ranges come from the device contract (spec/contract.json, generated into
// sasim/spec/contract.hpp); validate() is the one place that checks them. The
// config loader, the host kernels, the functional device, the co-simulated
// device and the golden models all take these types.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

#include "sasim/spec/contract.hpp"

namespace sasim::spec {

// A core or device description outside the contract's ranges. what() names
// the config key ("core.spad_rows: ...") and the allowed values.
class SpecError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// The contract's parameters (generated CoreParams) and what follows from them.
constexpr unsigned core_default_bus_bytes() { return CoreParams{}.bus_bytes; }

struct CoreSpec : CoreParams {
  unsigned width() const { return rows > cols ? rows : cols; }  // W: scratchpad row width
  unsigned elem_bytes() const { return datapath == Datapath::kBf16 ? 2u : 1u; }
  bool operator==(const CoreSpec&) const = default;
};

struct DeviceSpec : CoreSpec {
  std::uint64_t dram_base = 0x8000'0000;
  std::uint64_t dram_bytes = std::uint64_t{64} << 20;
  bool operator==(const DeviceSpec&) const = default;
};

// A core with this array and the contract's defaults for the rest, or with
// these SRAM sizes and bus width too.
CoreSpec core_of(Datapath dp, unsigned rows, unsigned cols);
CoreSpec core_of(Datapath dp, unsigned rows, unsigned cols, unsigned spad_rows, unsigned acc_rows,
                 unsigned bus_bytes = core_default_bus_bytes());

// This core with a memory window of dram_bytes from dram_base.
DeviceSpec device_of(const CoreSpec& core, std::uint64_t dram_bytes,
                     std::uint64_t dram_base = DeviceSpec{}.dram_base);

// Throws SpecError for the first parameter outside the contract's range.
void validate(const CoreSpec& c);
// validate(core) plus a non-empty memory window inside the 40-bit address space.
void validate(const DeviceSpec& d);

// Do a and b elaborate the same RTL (the contract's parameters with an rtl name)?
bool same_core(const CoreSpec& a, const CoreSpec& b);
// Do a and b have the same array (datapath, rows, cols)?
bool same_array(const CoreSpec& a, const CoreSpec& b);

// "int8 16x16"
std::string array_name(const CoreSpec& c);
// "int8 16x16, spad 8192 rows, acc 1024 rows, 16-byte bus"
std::string core_name(const CoreSpec& c);
// The build's names: "int8_16x16" (SASIM_ARRAY_VARIANTS) and
// "int8_16x16_s8192_a1024_b16" (SASIM_CORE_VARIANTS).
std::string array_variant(const CoreSpec& c);
std::string core_variant(const CoreSpec& c);

std::string_view to_string(Datapath dp);       // "int8"
std::string_view to_string(isa::Dataflow df);  // "ws"

}  // namespace sasim::spec
