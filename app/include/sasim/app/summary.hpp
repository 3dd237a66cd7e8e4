// Summary lines derived from named counters, each written once: the L2 line
// and the main-memory line of `sasim run`, `sasim mem` and `sasim train`.
// A counter that is not there is an error (spec::Counters::at), never 0.
#pragma once

#include <string>

#include "sasim/app/config.hpp"
#include "sasim/spec/backend.hpp"

namespace sasim::app {

// "  L2 (lru, wb_wa)  hits 12, misses 3 (hit rate 80.0 %), evictions 0, write-backs 0"
// or "  L2               bypassed"; `prefix` is the memory system's ("device.mem.").
std::string l2_line(const Config& cfg, const spec::Counters& c, const std::string& prefix);
// The DRAM's bytes, bandwidth over `seconds` and row-buffer outcomes, or the
// model's name for the fixed and ideal memories.
std::string memory_line(const Config& cfg, const spec::Counters& c, const std::string& prefix,
                        double seconds);
// What simulated the core: "RTL", "cycle model" or "RTL checked against the
// cycle model every cycle" (run.engine), for the summaries' first line.
std::string engine_text(const Config& cfg);
// The run's correlation class, "datapath/dataflow/memory model" (bf16/ws/dram):
// written as `correlation_class` into stats.json and train_report.json, where
// tests/correlation/correlate.py reads it for docs/correlation.json's table.
std::string correlation_class(const Config& cfg);
// "  engine           ..." for a model run: how far the model was from the RTL
// on the correlated configs (docs/correlation.json) of the run's class, or on
// all of them when none is of its class; empty for the other engines.
std::string engine_line(const Config& cfg);
// A wall-clock duration for progress lines: "42s", "3m07s", "2h05m".
std::string duration_text(double seconds);

}  // namespace sasim::app
