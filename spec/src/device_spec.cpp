#include "sasim/spec/device_spec.hpp"

#include <bit>
#include <sstream>

namespace sasim::spec {

namespace {

std::string number(double v) {
  std::ostringstream s;
  s.precision(12);
  s << v;
  return s.str();
}

// The allowed values of p for this core: a bound relative to another
// parameter is resolved ("17..65536, a power of two: at least rows + 1").
std::string allowed(const ParamInfo& p, double lo) {
  if (p.min_param.empty() || p.type != ParamType::kUint) return std::string(p.allowed);
  std::string a = number(lo) + ".." + number(p.max);
  if (p.pow2) a += ", a power of two";
  return a + ": at least " + std::string(p.min_param) +
         (p.min > 0 ? " + " + number(p.min) : std::string());
}

[[noreturn]] void fail(const ParamInfo& p, double v, double lo, const std::string& why = "") {
  throw SpecError("core." + std::string(p.name) + ": " + number(v) + " " +
                  (why.empty() ? "is out of range" : why) + " (allowed " + allowed(p, lo) + ")");
}

// The value of a contract parameter (kCoreParams only names those).
double value_of(const CoreSpec& c, std::string_view name) {
  const auto v = param_value(c, name);
  if (!v) throw SpecError("core." + std::string(name) + ": not a core parameter of the contract");
  return *v;
}

}  // namespace

CoreSpec core_of(Datapath dp, unsigned rows, unsigned cols) {
  CoreSpec c;
  c.datapath = dp;
  c.rows = rows;
  c.cols = cols;
  return c;
}

CoreSpec core_of(Datapath dp, unsigned rows, unsigned cols, unsigned spad_rows, unsigned acc_rows,
                 unsigned bus_bytes) {
  CoreSpec c = core_of(dp, rows, cols);
  c.spad_rows = spad_rows;
  c.acc_rows = acc_rows;
  c.bus_bytes = bus_bytes;
  return c;
}

DeviceSpec device_of(const CoreSpec& core, std::uint64_t dram_bytes, std::uint64_t dram_base) {
  DeviceSpec d;
  static_cast<CoreSpec&>(d) = core;
  d.dram_base = dram_base;
  d.dram_bytes = dram_bytes;
  return d;
}

void validate(const CoreSpec& c) {
  for (const ParamInfo& p : kCoreParams) {
    const double v = value_of(c, p.name);
    const double lo = p.min + (p.min_param.empty() ? 0.0 : value_of(c, p.min_param));
    switch (p.type) {
      case ParamType::kEnum:
        if (v < p.min || v > p.max) fail(p, v, lo, "is not a value of the enumeration");
        break;
      case ParamType::kReal:
        if (!(p.min_exclusive ? v > lo : v >= lo) || !(v <= p.max)) fail(p, v, lo);
        break;
      case ParamType::kUint:
        if (p.choices[0] != 0) {
          bool ok = false;
          for (unsigned x : p.choices) ok = ok || (x != 0 && v == x);
          if (!ok) fail(p, v, lo, "is not allowed");
        } else if (v < lo || v > p.max) {
          fail(p, v, lo);
        } else if (p.pow2 && !std::has_single_bit(static_cast<std::uint64_t>(v))) {
          fail(p, v, lo, "is not a power of two");
        }
        break;
    }
  }
}

void validate(const DeviceSpec& d) {
  validate(static_cast<const CoreSpec&>(d));
  constexpr std::uint64_t kSpace = std::uint64_t{1} << 40;  // the AXI address width
  if (d.dram_bytes == 0 || d.dram_base >= kSpace || d.dram_bytes > kSpace - d.dram_base) {
    throw SpecError("memory: base " + std::to_string(d.dram_base) + ", size " +
                    std::to_string(d.dram_bytes) +
                    ": the device memory must be non-empty and inside the 40-bit address space");
  }
}

bool same_core(const CoreSpec& a, const CoreSpec& b) {
  for (const ParamInfo& p : kCoreParams)
    if (!p.rtl.empty() && value_of(a, p.name) != value_of(b, p.name)) return false;
  return true;
}

bool same_array(const CoreSpec& a, const CoreSpec& b) {
  return a.datapath == b.datapath && a.rows == b.rows && a.cols == b.cols;
}

std::string_view to_string(Datapath dp) { return kDatapathNames.at(static_cast<std::size_t>(dp)); }
std::string_view to_string(isa::Dataflow df) {
  return kDataflowNames.at(static_cast<std::size_t>(df));
}

std::string array_name(const CoreSpec& c) {
  return std::string(to_string(c.datapath)) + " " + std::to_string(c.rows) + "x" +
         std::to_string(c.cols);
}

std::string core_name(const CoreSpec& c) {
  return array_name(c) + ", spad " + std::to_string(c.spad_rows) + " rows, acc " +
         std::to_string(c.acc_rows) + " rows, " + std::to_string(c.bus_bytes) + "-byte bus";
}

std::string array_variant(const CoreSpec& c) {
  return std::string(to_string(c.datapath)) + "_" + std::to_string(c.rows) + "x" +
         std::to_string(c.cols);
}

std::string core_variant(const CoreSpec& c) {
  return array_variant(c) + "_s" + std::to_string(c.spad_rows) + "_a" + std::to_string(c.acc_rows) +
         "_b" + std::to_string(c.bus_bytes);
}

}  // namespace sasim::spec
