// Test benches shared by the memory-system tests.
//
//   expect_clean(checker)   the ProtocolChecker saw no violation and nothing is left in flight.
//   MemBench<Memory>        AtTestInitiator -> ProtocolChecker -> Memory on a BackingStore, for
//                           the memory models that end a path (Dram, IdealMemory,
//                           FixedLatencyMemory): they are built as
//                           Memory(name, config..., store, stats).
//   LtBench<Memory>         a bare LT initiator socket bound to such a Memory, for b_transport.
#pragma once

#include <gtest/gtest.h>
#include <tlm_utils/simple_initiator_socket.h>

#include <cstdint>
#include <string>
#include <systemc>
#include <tlm>

#include "sasim/mem/backing_store.hpp"
#include "sasim/mem/protocol_checker.hpp"
#include "sasim/mem/stats.hpp"
#include "support/at_test_initiator.hpp"
#include "support/sc_test.hpp"

namespace sasim::mem::test {

// Checks the end of the transactions still open (check_idle) and expects no violation at all.
inline void expect_clean(ProtocolChecker& checker) {
  checker.check_idle();
  EXPECT_TRUE(checker.violations().empty()) << checker.name() << "\n"
                                            << joined(checker.violations());
}

// initiator -> protocol checker -> memory, in a fresh SystemC context. stat(n) reads the memory's
// counter "<name>.<n>".
template <class Memory>
struct MemBench : FreshContext {
  template <class... Config>
  MemBench(const std::string& name, std::uint64_t base, std::uint64_t size, unsigned outstanding,
           const Config&... config)
      : store(base, size),
        init("init", outstanding),
        checker("checker"),
        dut(name.c_str(), config..., store, stats) {
    init.socket.bind(checker.in);
    checker.out.bind(dut.socket);
  }

  std::uint64_t stat(const std::string& n) const {
    return stats.value(std::string(dut.name()) + "." + n);
  }

  // Runs the script to completion, checks the protocol and that every payload came back.
  void run() {
    ASSERT_TRUE(run_until_done(init));
    expect_clean(checker);
    EXPECT_EQ(init.payloads_in_use(), 0u);
  }

  BackingStore store;
  sasim::mem::StatsRegistry stats;
  AtTestInitiator init;
  ProtocolChecker checker;
  Memory dut;
};

// A bare LT initiator socket.
struct LtInitiator : sc_core::sc_module {
  tlm_utils::simple_initiator_socket<LtInitiator> socket;
  explicit LtInitiator(sc_core::sc_module_name n) : sc_core::sc_module(n), socket("socket") {}
};

// lt -> memory, in a fresh SystemC context, elaborated (the sockets are bound) on construction.
template <class Memory>
struct LtBench : FreshContext {
  template <class... Config>
  LtBench(const std::string& name, std::uint64_t base, std::uint64_t size, const Config&... config)
      : store(base, size), lt("lt"), dut(name.c_str(), config..., store, stats) {
    lt.socket.bind(dut.socket);
    sc_core::sc_start(ns(1));
  }

  BackingStore store;
  sasim::mem::StatsRegistry stats;
  LtInitiator lt;
  Memory dut;
};

}  // namespace sasim::mem::test
