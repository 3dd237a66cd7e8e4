// Test support for SystemC / TLM-2.0 models.
//
// Every test gets a fresh simulation context: SystemC 2.3 has no API to reset its kernel;
// replacing the current context is the established way to run several independent simulations
// in one process. A replaced context is deleted (with its processes and their coroutine stacks)
// once no module of it is left (its destructor would tear down modules that a finished test
// still owns): thousands of simulations in one process (the random device programs) would
// otherwise exhaust the process's memory mappings, and none is leaked at exit.
//
// sc_main: libsystemc references it, gtest_main provides main(). The one definition the mem
// tests link comes with sasim_mem (mem/src/sc_main.cpp, see mem/CMakeLists.txt); no test file
// defines it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <systemc>
#include <tlm>
#include <vector>

#include "sasim/mem/payload_pool.hpp"

namespace sasim::mem::test {

namespace detail {

// A destroyed module leaves its processes behind as top-level objects;
// anything else is a module still alive.
inline bool only_processes_left(sc_core::sc_simcontext* c) {
  for (sc_core::sc_object* o : sc_core::sc_get_top_level_objects(c))
    if (dynamic_cast<sc_core::sc_process_b*>(o) == nullptr) return false;
  return true;
}

// Contexts made by fresh_systemc() and replaced since: each is deleted as soon
// as none of its modules is alive, at a later fresh_systemc() or at exit (a
// test's bench may outlive the next test's context, e.g. a fixture member).
struct RetiredContexts {
  std::vector<sc_core::sc_simcontext*> list;
  void sweep() {
    std::erase_if(list, [](sc_core::sc_simcontext* c) {
      if (!only_processes_left(c)) return false;
      delete c;
      return true;
    });
  }
  ~RetiredContexts() { sweep(); }
};

}  // namespace detail

inline void fresh_systemc() {
  // Only a context made here is deleted (SystemC's first one is referred to
  // from its static objects).
  static sc_core::sc_simcontext* made = nullptr;
  static detail::RetiredContexts retired;
  sc_core::sc_simcontext* const old = sc_core::sc_curr_simcontext;
  sc_core::sc_curr_simcontext = new sc_core::sc_simcontext();  // owned by SystemC globals
  sc_core::sc_default_global_context = sc_core::sc_curr_simcontext;
  if (old != nullptr && old == made) retired.list.push_back(old);
  made = sc_core::sc_curr_simcontext;
  retired.sweep();
  sc_core::sc_set_time_resolution(1, sc_core::SC_PS);
}

// First base of a test bench: makes the fresh SystemC context before any module of the bench
// (a later base or member) exists.
struct FreshContext {
  FreshContext() { fresh_systemc(); }
};

inline sc_core::sc_time ns(double v) { return sc_core::sc_time(v, sc_core::SC_NS); }
inline sc_core::sc_time ps(double v) { return sc_core::sc_time(v, sc_core::SC_PS); }

// One line per entry, for failure messages (e.g. a ProtocolChecker's violations()).
inline std::string joined(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += x + "\n";
  return s;
}

}  // namespace sasim::mem::test
