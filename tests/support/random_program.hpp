// Random legal device programs (as Ibex is checked against Spike with random
// instruction streams): every opcode, random fields within the device's
// limits, dependency tokens from host::assign_dependencies, and a random
// memory system to run them on.
//
// A program works in the first kRows rows of the scratchpad and of the
// accumulator (so that instructions overlap and the token logic is
// exercised), reads memory from an input and an output window and writes only
// the output window. It starts by loading every SRAM row it uses in full (the
// RTL's SRAMs are not reset, the golden model's are zero), then draws LOAD,
// STORE, GEMM, VEC and CONFIG instructions:
//  - LOAD / STORE: either SRAM, transposed or not, element-aligned addresses;
//    a STORE's rows do not overlap one another (their order in memory would be
//    the memory system's choice);
//  - GEMM: all three dataflows, accumulate or not, `reuse` only right after a
//    GEMM of the same weight- or input-stationary dataflow;
//  - VEC: every operation; the destination rows either are the source rows or
//    are apart from both sources (a partial overlap would depend on the
//    pipeline's read-ahead); TO_BF16 / TO_INT8 write the scratchpad;
//  - CONFIG: any shift;
//  - SYNC (a fence on one core), now and then.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "sasim/cosim/device.hpp"
#include "sasim/host/program_check.hpp"
#include "sasim/isa/encode.hpp"

namespace sasim::test {

struct RandomProgram {
  std::vector<isa::Instruction> program;  // tokens assigned, ends with FINISH
  std::uint64_t in = 0, out = 0;          // the memory windows (kWindow bytes each)
  static constexpr std::uint64_t kWindow = 1 << 14;
  static constexpr unsigned kRows = 48;  // SRAM rows used
};

class ProgramGenerator {
 public:
  ProgramGenerator(const spec::DeviceSpec& p, std::uint64_t seed) : p_(p), rng_(seed) {}

  // A program of about n random instructions after the initial loads.
  RandomProgram make(unsigned n) {
    for (;;) {  // a draw that needs a token relay with no EXEC between is drawn again
      RandomProgram r = draw(n);
      try {
        host::assign_dependencies(p_, r.program);
      } catch (const std::invalid_argument&) {
        continue;
      }
      return r;
    }
  }

 private:
  std::uint64_t below(std::uint64_t n) { return n ? rng_() % n : 0; }
  bool coin(unsigned percent) { return below(100) < percent; }

  RandomProgram draw(unsigned n) {
    RandomProgram r;
    r.in = p_.dram_base;
    r.out = p_.dram_base + (std::uint64_t{1} << 20);
    const unsigned W = p_.width(), C = p_.cols;
    auto& prog = r.program;
    // Every SRAM row used, loaded in full.
    prog.push_back(isa::encode_load(
        {isa::Sram::kSpad, false, 0, RandomProgram::kRows, W, r.in, W * p_.elem_bytes()}));
    prog.push_back(
        isa::encode_load({isa::Sram::kAcc, false, 0, RandomProgram::kRows, C, r.in + 4096, C * 4}));
    std::optional<isa::Dataflow> last_gemm;
    for (unsigned i = 0; i < n; ++i) {
      const unsigned k = static_cast<unsigned>(below(100));
      if (k < 22) {
        prog.push_back(dma(true, r));
      } else if (k < 40) {
        prog.push_back(dma(false, r));
      } else if (k < 65) {
        prog.push_back(gemm(last_gemm));
      } else if (k < 94) {
        prog.push_back(vec());
      } else if (k < 98) {
        prog.push_back(isa::encode_config(static_cast<unsigned>(below(32))));
      } else {
        prog.push_back(isa::encode_sync());  // a fence: everything before completes first
      }
    }
    prog.push_back(isa::encode_finish());
    return r;
  }

  isa::Instruction dma(bool load, const RandomProgram& r) {
    isa::DmaArgs a;
    a.sram = coin(50) ? isa::Sram::kSpad : isa::Sram::kAcc;
    const bool acc = a.sram == isa::Sram::kAcc;
    const unsigned width = acc ? p_.cols : p_.width();
    const unsigned eb = acc ? 4 : p_.elem_bytes();
    a.transpose = coin(25);
    if (a.transpose) {
      a.rows = 1 + static_cast<unsigned>(below(width));
      a.cols = 1 + static_cast<unsigned>(below(12));
      a.sram_row = static_cast<unsigned>(below(RandomProgram::kRows - a.cols + 1));
    } else {
      a.rows = 1 + static_cast<unsigned>(below(12));
      a.cols = 1 + static_cast<unsigned>(below(width));
      a.sram_row = static_cast<unsigned>(below(RandomProgram::kRows - a.rows + 1));
    }
    const std::uint64_t row_bytes = std::uint64_t{a.cols} * eb;
    // A LOAD may read a row more than once (stride 0); a STORE's rows are apart.
    a.dram_stride = (!load || coin(80)) ? row_bytes + eb * below(6) : (coin(50) ? 0 : eb);
    const std::uint64_t span = (a.rows - 1) * a.dram_stride + row_bytes;
    const std::uint64_t window = load && coin(60) ? r.in : r.out;
    a.dram_addr = window + eb * below((RandomProgram::kWindow - span) / eb + 1);
    return load ? isa::encode_load(a) : isa::encode_store(a);
  }

  isa::Instruction gemm(std::optional<isa::Dataflow>& last) {
    const unsigned R = p_.rows, Rows = RandomProgram::kRows;
    isa::GemmArgs g;
    g.dataflow = static_cast<isa::Dataflow>(below(3));
    g.accumulate = coin(50);
    g.len = 1 + static_cast<unsigned>(below(12));
    g.in_row = static_cast<unsigned>(below(Rows - g.len + 1));
    if (g.dataflow == isa::Dataflow::kOs) {
      g.b_row = static_cast<unsigned>(below(Rows - g.len + 1));
      g.acc_row = static_cast<unsigned>(below(Rows - R + 1));
    } else {
      g.reuse = last == g.dataflow && coin(40);
      g.pre_row = static_cast<unsigned>(below(Rows - R + 1));
      g.acc_row = static_cast<unsigned>(below(Rows - g.len + 1));
    }
    last = g.dataflow;
    return isa::encode_gemm(g);
  }

  isa::Instruction vec() {
    const unsigned Rows = RandomProgram::kRows;
    isa::VecArgs v;
    // Any operation of the contract: a value of the op field that names one.
    std::optional<isa::VecOp> op;
    while (!(op = isa::vec_op_from(below(std::uint64_t{1} << isa::vec::kOp.width)))) {
    }
    v.op = *op;
    const bool narrow = v.op == isa::VecOp::kToBf16 || v.op == isa::VecOp::kToInt8;
    v.dst_sram = narrow ? isa::Sram::kSpad : isa::Sram::kAcc;
    v.rows = 1 + static_cast<unsigned>(below(8));
    v.src_row = static_cast<unsigned>(below(Rows - v.rows + 1));
    v.src2_row = static_cast<unsigned>(below(Rows - v.rows + 1));
    v.imm = static_cast<std::uint32_t>(rng_());
    if (coin(50)) v.imm = 0x3F800000u ^ (v.imm & 0x807FFFFFu);  // an ordinary float now and then
    const auto apart = [&](unsigned a, unsigned b) { return a + v.rows <= b || b + v.rows <= a; };
    for (;;) {
      v.dst_row = static_cast<unsigned>(below(Rows - v.rows + 1));
      if (narrow) break;  // the scratchpad: no overlap with the sources
      if (!coin(30)) {
        if (apart(v.dst_row, v.src_row) && (!isa::reads_src2(v.op) || apart(v.dst_row, v.src2_row)))
          break;
      } else if (!isa::reads_src2(v.op) || apart(v.src_row, v.src2_row)) {
        v.dst_row = v.src_row;  // in place
        break;
      }
    }
    return isa::encode_vec(v);
  }

  spec::DeviceSpec p_;
  std::mt19937_64 rng_;
};

// A random memory system behind the core: DRAM (random timings and policies),
// fixed latency or ideal memory; the L2 with random geometry and policies, or
// bypassed; the interconnect's width and latency; lock-step or decoupled.
inline cosim::DeviceConfig random_device(const spec::CoreSpec& core, std::mt19937_64& rng) {
  const auto pick = [&](auto... v) {
    const std::uint64_t vals[] = {static_cast<std::uint64_t>(v)...};
    return vals[rng() % sizeof...(v)];
  };
  cosim::DeviceConfig c;
  c.core = core;
  c.lockstep = rng() % 4 == 0;
  auto& m = c.memory;
  m.memory.size = std::uint64_t{4} << 20;  // the windows need 1 MiB + 16 KiB
  m.interconnect.width_bytes = static_cast<unsigned>(pick(8, 16, 32, 64));
  m.interconnect.latency_cycles = static_cast<unsigned>(rng() % 6);
  m.l2.bypass = rng() % 4 == 0;
  m.l2.line_bytes = static_cast<unsigned>(pick(32, 64, 128));
  m.l2.size_bytes = pick(1024, 4096, 65536);
  m.l2.ways = static_cast<unsigned>(pick(1, 2, 4, 8));
  m.l2.hit_latency_cycles = static_cast<unsigned>(rng() % 12);
  m.l2.mshrs = static_cast<unsigned>(pick(1, 2, 8));
  const char* repl[] = {"lru", "plru", "fifo", "random", "srrip"};
  m.l2.replacement = repl[rng() % 5];
  m.l2.write_policy = rng() % 2 ? "wb_wa" : "wt_nwa";
  const char* model[] = {"dram", "dram", "fixed", "ideal"};
  m.memory.model = model[rng() % 4];
  m.memory.fixed.latency_ns = static_cast<double>(rng() % 200);
  m.memory.fixed.bandwidth_gbps = 1.0 + static_cast<double>(rng() % 50);
  m.memory.dram.tCL = 5 + static_cast<unsigned>(rng() % 30);
  m.memory.dram.tRCD = 5 + static_cast<unsigned>(rng() % 30);
  m.memory.dram.tRP = 5 + static_cast<unsigned>(rng() % 30);
  m.memory.dram.page_policy = rng() % 2 ? "open" : "closed";
  m.memory.dram.scheduler = rng() % 2 ? "frfcfs" : "fcfs";
  m.memory.dram.queue_depth = static_cast<unsigned>(pick(1, 4, 32));
  return c;
}

// The memory system of c in a line, for failure messages.
inline std::string describe(const cosim::DeviceConfig& c) {
  const auto& m = c.memory;
  std::string s = std::string(c.lockstep ? "lock-step" : "decoupled") + ", interconnect " +
                  std::to_string(m.interconnect.width_bytes) + " B / " +
                  std::to_string(m.interconnect.latency_cycles) + " cycles, L2 ";
  if (m.l2.bypass) {
    s += "bypassed";
  } else {
    s += std::to_string(m.l2.size_bytes) + " B, " + std::to_string(m.l2.line_bytes) + " B lines, " +
         std::to_string(m.l2.ways) + " ways, hit " + std::to_string(m.l2.hit_latency_cycles) +
         " cycles, " + std::to_string(m.l2.mshrs) + " MSHRs, " + m.l2.replacement + ", " +
         m.l2.write_policy;
  }
  s += ", memory " + m.memory.model;
  if (m.memory.model == "fixed")
    s += " " + std::to_string(m.memory.fixed.latency_ns) + " ns, " +
         std::to_string(m.memory.fixed.bandwidth_gbps) + " GB/s";
  if (m.memory.model == "dram")
    s += " tCL/tRCD/tRP " + std::to_string(m.memory.dram.tCL) + "/" +
         std::to_string(m.memory.dram.tRCD) + "/" + std::to_string(m.memory.dram.tRP) + ", " +
         m.memory.dram.page_policy + ", " + m.memory.dram.scheduler + ", queue " +
         std::to_string(m.memory.dram.queue_depth);
  return s;
}

}  // namespace sasim::test
