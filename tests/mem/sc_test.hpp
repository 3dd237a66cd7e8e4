// Test support for SystemC models: every test gets a fresh simulation context.
// SystemC 2.3 has no API to reset its kernel; replacing the current context is
// the established way to run several independent simulations in one process.
// The previous context is intentionally leaked (its destructor would tear down
// modules that the finished test still owns).
#pragma once

#include <systemc>

namespace sasim::mem::test {

inline void fresh_systemc() {
  sc_core::sc_curr_simcontext = new sc_core::sc_simcontext();  // owned by SystemC globals
  sc_core::sc_default_global_context = sc_core::sc_curr_simcontext;
  sc_core::sc_set_time_resolution(1, sc_core::SC_PS);
}

}  // namespace sasim::mem::test
