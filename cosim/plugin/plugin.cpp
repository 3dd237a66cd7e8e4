// The factory of one variant module (cosim/plugin/CMakeLists.txt): the
// verilated model SASIM_PLUGIN_PREFIX behind VerilatedCore or VerilatedArray.
#include SASIM_PLUGIN_HEADER

#include "sasim/cosim/variant_cache.hpp"
#include "sasim/cosim/verilated_array.hpp"
#include "sasim/cosim/verilated_core.hpp"

namespace {

using namespace sasim;
using namespace sasim::cosim;

#if SASIM_PLUGIN_KIND == 0
std::unique_ptr<CoreModel> make_core(const spec::CoreSpec& s, const CoreModelOptions& o) {
  return std::make_unique<VerilatedCore<SASIM_PLUGIN_PREFIX>>(s, o);
}
constexpr VariantPlugin kPlugin{SASIM_VARIANT_ABI, 0, make_core, nullptr};
#else
std::unique_ptr<ArrayModel> make_array(const spec::CoreSpec& s, const ArrayModelOptions& o) {
  return std::make_unique<VerilatedArray<SASIM_PLUGIN_PREFIX>>(s, o);
}
constexpr VariantPlugin kPlugin{SASIM_VARIANT_ABI, 1, nullptr, make_array};
#endif

}  // namespace

extern "C" __attribute__((visibility("default"))) const VariantPlugin* sasim_variant_plugin() {
  return &kPlugin;
}
