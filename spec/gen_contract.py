#!/usr/bin/env python3
"""Generates every copy of the sasim device contract (spec/contract.json).

  gen_contract.py --out DIR            DIR/rtl/sa_isa_pkg.sv, DIR/include/sasim/spec/contract.hpp,
                                       DIR/isa.md and DIR/config_core.md (run by CMake at configure
                                       time, Verilator needs the package then, and again by the
                                       build when the contract changed)
  gen_contract.py --check-docs SRC     exit 1 when SRC/docs/isa.md or the generated section of
                                       SRC/docs/config.md differ from the contract
  gen_contract.py --write-docs SRC     rewrite them

One file on purpose (over 600 lines): the four outputs share the loader, the
checks and the derived values (field spans, range texts), and a reader
following one contract entry to every copy finds them here in order.

The contract is validated first (fields inside the word and not overlapping, enum values fitting
their fields, every opcode with a known format and queue, unique counter and error names); a broken
contract stops the configure step with a message naming the entry.
"""
import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
CONTRACT = os.path.join(HERE, "contract.json")
BEGIN_CORE = "<!-- BEGIN core parameters: generated from spec/contract.json, do not edit -->"
END_CORE = "<!-- END core parameters -->"


class ContractError(Exception):
    pass


def camel(name):
    return "".join(p[:1].upper() + p[1:].lower() for p in name.split("_"))


def load(path):
    with open(path, encoding="utf-8") as f:
        c = json.load(f)
    check(c, path)
    return c


def check(c, path):
    def fail(what):
        raise ContractError(f"{path}: {what}")

    width = c["width"]
    enums = c["enums"]
    for fmt, fields in [("common", c["common"])] + list(c["formats"].items()):
        used = {}
        for f in c["common"] + (fields if fmt != "common" else []):
            lo, w = f["lsb"], f["width"]
            if w < 1 or lo + w > width:
                fail(f"{fmt}.{f['name']}: bits {lo}..{lo + w - 1} outside the {width}-bit word")
            for b in range(lo, lo + w):
                if b in used and used[b] != f["name"]:
                    fail(f"{fmt}.{f['name']}: bit {b} overlaps {used[b]}")
                used[b] = f["name"]
            if "enum" in f:
                if f["enum"] not in enums:
                    fail(f"{fmt}.{f['name']}: unknown enum {f['enum']}")
                if max(v["value"] for v in enums[f["enum"]]) >= 1 << w:
                    fail(f"{fmt}.{f['name']}: enum {f['enum']} does not fit {w} bits")
            if f.get("kind") not in (None, "count", "sram_row"):
                fail(f"{fmt}.{f['name']}: unknown kind {f['kind']}")
    widths = {}
    for fields in c["formats"].values():
        for f in fields:
            if "enum" in f and widths.setdefault(f["enum"], f["width"]) != f["width"]:
                fail(f"enum {f['enum']} used with two widths")
            if f.get("kind"):
                k = f["kind"]
                if widths.setdefault("kind:" + k, f["width"]) != f["width"]:
                    fail(f"fields of kind {k} have two widths")
    for e in enums:
        if e not in widths:
            fail(f"enum {e} is not used by any field")
    queues = [q["name"] for q in c["queues"]]
    seen = set()
    for op in c["opcodes"]:
        if op["format"] not in c["formats"]:
            fail(f"opcode {op['name']}: unknown format {op['format']}")
        if op["queue"] not in queues:
            fail(f"opcode {op['name']}: unknown queue {op['queue']}")
        if op["value"] == 0 or op["value"] >= 16 or op["value"] in seen:
            fail(f"opcode {op['name']}: value {op['value']} is 0, too wide or used twice")
        seen.add(op["value"])
        if op["name"] not in c["operands"]:
            fail(f"opcode {op['name']}: no operands entry")
    for m in c["microarch"]:
        v = m["value"]
        if not isinstance(v, int) or isinstance(v, bool) or v < 1:
            fail(f"microarch.{m['name']}: value {v} is not a positive integer")
    ma = {m["name"]: m["value"] for m in c["microarch"]}
    # What the RTL (and TimedCore) rely on, entry by entry: (name, low, high, why).
    limits = [
        ("insn_queue_depth", 1, None, ""),
        ("fetch_buf_depth", 4, None, "a 64-byte beat carries 4 instructions (sa_fetch reserves room for whole beats)"),
        ("max_burst_beats", 1, 256, "AXI4's longest INCR burst"),
        ("fetch_max_bursts", 1, None, ""),
        ("load_max_bursts", 1, None, ""),
        ("load_rx_depth", 1, None, ""),
        ("r_slice_depth", 1, None, ""),
        ("exec_stream_jobs", 1, None, ""),
        ("exec_preload_jobs", 1, None, ""),
        ("exec_tag_depth", 1, None, ""),
        ("exec_skid_depth", 1, None, ""),
        ("store_cpl_depth", 1, None, ""),
        ("exec_gemm_table", ma.get("exec_tag_depth", 1) + 2, None,
         "a GEMM stays in sa_exec's table from dispatch through the tag queue and the two-stage "
         "delay line"),
        ("exec_cpl_depth", 1, None, ""),
    ]
    for name, lo, hi, why in limits:
        if name not in ma:
            fail(f"microarch: no entry {name} (the RTL and TimedCore use it)")
        v = ma[name]
        if v < lo or (hi is not None and v > hi):
            rng = f"{lo}..{hi}" if hi is not None else f"at least {lo}"
            fail(f"microarch.{name}: {v} is out of range (allowed {rng}{': ' + why if why else ''})")
    gin = ma["exec_gemm_table"]
    if gin & (gin - 1):
        fail(f"microarch.exec_gemm_table: {gin} is not a power of two (sa_exec's table pointers wrap)")
    extra = set(ma) - {n for n, *_ in limits}
    if extra:
        fail(f"microarch: {', '.join(sorted(extra))} not known to gen_contract.py (add its limits)")
    for kind in ("counters", "errors", "core_params", "microarch"):
        names = [x["name"] for x in c[kind]]
        if len(names) != len(set(names)):
            fail(f"{kind}: a name is used twice")
    for q in queues:
        if not any(x["name"] == "insn_" + q.lower() for x in c["counters"]):
            fail(f"counters: no insn_{q.lower()} counter for queue {q}")
    for p in c["core_params"]:
        if p["type"] not in ("uint", "real", "enum"):
            fail(f"core_params.{p['name']}: unknown type {p['type']}")


def field_span(c, kind):
    """2^width of the fields of a kind (all of a kind share one width)."""
    for fields in c["formats"].values():
        for f in fields:
            if f.get("kind") == kind:
                return 1 << f["width"]
    raise ContractError(f"no field of kind {kind}")


def bound(c, b):
    """(number or None, param name or None, offset) of a min/max entry."""
    if b is None:
        return None, None, 0
    if isinstance(b, (int, float)):
        return b, None, 0
    if "span_of" in b:
        return field_span(c, b["span_of"]), None, 0
    return None, b["param"], b.get("plus", 0)


def range_text(c, p):
    """The allowed values of a core parameter, as the docs and the loader say them."""
    if p["type"] == "enum":
        return ", ".join(p["values"])
    if "choices" in p:
        return ", ".join(str(v) for v in p["choices"])
    if p["type"] == "real":
        lo = p.get("min_exclusive")
        return f"({lo}, {p['max']}]" if lo is not None else f"[{p['min']}, {p['max']}]"
    lo, lo_p, lo_plus = bound(c, p["min"])
    hi, _, _ = bound(c, p["max"])
    lo_s = str(lo) if lo_p is None else (lo_p if lo_plus == 0 else f"{lo_p} + {lo_plus}")
    text = f"{lo_s}..{hi}"
    if p.get("pow2"):
        text += ", a power of two"
    return text


# ---------------------------------------------------------------------------
# SystemVerilog
# ---------------------------------------------------------------------------
GENERATED = "Generated from spec/contract.json by spec/gen_contract.py: do not edit."


def output(first_line):
    """The lines of a generated file, starting with first_line, and their append."""
    o = [first_line]
    return o, o.append


def gen_sv(c):
    o, w = output("// " + GENERATED)
    w("package sa_isa_pkg;")
    w("")
    w(f"  localparam int unsigned INSN_W = {c['width']};")
    w(f"  localparam int unsigned COUNT_MAX = {field_span(c, 'count') - 1};  // count fields: 1..COUNT_MAX")
    w(f"  localparam int unsigned SRAM_ROW_SPAN = {field_span(c, 'sram_row')};  // rows an SRAM row field addresses")
    for m in c["microarch"]:
        w(f"  localparam int unsigned {m['rtl']} = {m['value']};  // {m['doc']}")
    w("")
    w("  typedef enum logic [3:0] {")
    w(",\n".join(f"    OP_{op['name']} = 4'd{op['value']}" for op in c["opcodes"]))
    w("  } opcode_e;")
    w("")
    w("  // Instruction queues of the controller (docs/device.md).")
    w("  typedef enum logic [1:0] {")
    w(",\n".join(f"    Q_{q['name']} = 2'd{i}" for i, q in enumerate(c["queues"])))
    w("  } queue_e;")
    w("")
    w("  // The queue each opcode enters (CTRL also for opcodes outside the ISA).")
    w("  function automatic queue_e opcode_queue(opcode_e op);")
    w("    unique case (op)")
    for op in c["opcodes"]:
        w(f"      OP_{op['name']}: return Q_{op['queue']};")
    w("      default: return Q_CTRL;")
    w("    endcase")
    w("  endfunction")
    w("")
    for ename, vals in c["enums"].items():
        width = next(f["width"] for fs in c["formats"].values() for f in fs if f.get("enum") == ename)
        up = ename.upper()
        w(f"  typedef enum logic [{width}-1:0] {{")
        w(",\n".join(f"    {up}_{v['name']} = {width}'d{v['value']}" for v in vals))
        w(f"  }} isa_{ename}_e;")
        w("")
        w("  // The field holds one of the values above.")
        w(f"  function automatic logic isa_{ename}_valid(logic [{width}-1:0] v);")
        w(f"    return v inside {{{', '.join(up + '_' + v['name'] for v in vals)}}};")
        w("  endfunction")
        w("")
    readers = [v for v in c["enums"]["vec_op"] if v.get("reads_src2")]
    w("  // VEC operations that read the second operand (src2_row).")
    w("  function automatic logic vec_op_reads_src2(isa_vec_op_e op);")
    w(f"    return op inside {{{', '.join('VEC_OP_' + v['name'] for v in readers)}}};")
    w("  endfunction")
    w("")
    for fmt, fields in c["formats"].items():
        entries = sorted(c["common"] + fields, key=lambda f: -f["lsb"])
        w("  typedef struct packed {")
        nxt = c["width"] - 1
        for f in entries:
            msb = f["lsb"] + f["width"] - 1
            if nxt > msb:
                w(f"    logic [{nxt - msb}-1:0] rsvd{msb + 1};")
            if f["name"] == "opcode":
                w("    opcode_e opcode;")
            elif "enum" in f:
                w(f"    isa_{f['enum']}_e {f['name']};")
            elif f["width"] == 1:
                w(f"    logic {f['name']};")
            else:
                w(f"    logic [{f['width']}-1:0] {f['name']};")
            nxt = f["lsb"] - 1
        if nxt >= 0:
            w(f"    logic [{nxt + 1}-1:0] rsvd0;")
        w(f"  }} {fmt.lower()}_insn_t;")
        w("")
    w("  // Performance counters of sa_core (perf_o[i]).")
    for i, k in enumerate(c["counters"]):
        w(f"  localparam int unsigned PERF_{k['name'].upper()} = {i};  // {k['doc']}")
    w(f"  localparam int unsigned NUM_PERF = {len(c['counters'])};")
    w("")
    w("  // Error codes of sa_core (err_code_o).")
    w("  typedef enum logic [3:0] {")
    w(",\n".join(f"    ERR_{e['name']} = 4'd{e['value']}" for e in c["errors"]))
    w("  } core_err_e;")
    w("")
    w("  // Core parameter defaults (sa_core's parameters) and the datapath encoding.")
    for p in c["core_params"]:
        if "rtl" not in p:
            continue
        if p["type"] == "enum":
            for i, v in enumerate(p["values"]):
                w(f"  localparam int unsigned {p['name'].upper()}_{v.upper()} = {i};")
            w(f"  localparam int unsigned CORE_{p['name'].upper()}_DEFAULT = {p['values'].index(p['default'])};")
        else:
            w(f"  localparam int unsigned CORE_{p['name'].upper()}_DEFAULT = {p['default']};")
    w("")
    w("endpackage")
    return "\n".join(o) + "\n"


# ---------------------------------------------------------------------------
# C++
# ---------------------------------------------------------------------------
def cstr(s):
    return json.dumps(s)


def gen_hpp(c):
    o, w = output("// " + GENERATED)
    ops = c["opcodes"]
    queues = c["queues"]
    w("#pragma once")
    w("")
    w("#include <array>")
    w("#include <cstddef>")
    w("#include <cstdint>")
    w("#include <optional>")
    w("#include <string_view>")
    w("")
    w('#include "sasim/isa/field.hpp"')
    w("")
    w("namespace sasim::isa {")
    w("")
    w(f"inline constexpr unsigned kInsnBits = {c['width']};")
    w(f"// Count fields (rows, cols, len) hold 1..kMaxCount.")
    w(f"inline constexpr std::uint64_t kMaxCount = {field_span(c, 'count') - 1};")
    w(f"// SRAM row fields address rows 0..kSramRowSpan - 1.")
    w(f"inline constexpr std::uint64_t kSramRowSpan = {field_span(c, 'sram_row')};")
    w("// Micro-architecture sizes the RTL and the model engine share.")
    for m in c["microarch"]:
        w(f"inline constexpr unsigned {m['cpp']} = {m['value']};  // {m['doc']}")
    w("")
    w("enum class Opcode : std::uint8_t {")
    for op in ops:
        w(f"  k{camel(op['name'])} = {op['value']},  // {op['doc']}")
    w("};")
    w(f"inline constexpr std::array<Opcode, {len(ops)}> kOpcodes = {{"
      + ", ".join(f"Opcode::k{camel(op['name'])}" for op in ops) + "};")
    w("")
    w("constexpr std::string_view to_string(Opcode op) {")
    w("  switch (op) {")
    for op in ops:
        w(f"    case Opcode::k{camel(op['name'])}: return {cstr(op['name'])};")
    w("  }")
    w('  return "?";')
    w("}")
    w("")
    w("// The opcode of a field value, or nothing when it is not in the ISA.")
    w("constexpr std::optional<Opcode> opcode_from(std::uint64_t v) {")
    w("  for (Opcode op : kOpcodes)")
    w("    if (static_cast<std::uint64_t>(op) == v) return op;")
    w("  return std::nullopt;")
    w("}")
    w("")
    w("// Instruction queues of the controller.")
    w("enum class Queue : std::uint8_t {")
    for i, q in enumerate(queues):
        w(f"  k{camel(q['name'])} = {i},  // {q['doc']}")
    w("};")
    w(f"inline constexpr std::size_t kNumQueues = {len(queues)};")
    w(f"inline constexpr std::array<Queue, {len(queues)}> kQueues = {{"
      + ", ".join(f"Queue::k{camel(q['name'])}" for q in queues) + "};")
    w("constexpr std::string_view to_string(Queue q) {")
    w("  switch (q) {")
    for q in queues:
        w(f"    case Queue::k{camel(q['name'])}: return {cstr(q['name'])};")
    w("  }")
    w('  return "?";')
    w("}")
    w("constexpr Queue queue_of(Opcode op) {")
    w("  switch (op) {")
    for op in ops:
        w(f"    case Opcode::k{camel(op['name'])}: return Queue::k{camel(op['queue'])};")
    w("  }")
    w("  return Queue::kCtrl;")
    w("}")
    w("")
    for ename, vals in c["enums"].items():
        cn = camel(ename)
        w(f"enum class {cn} : std::uint8_t {{")
        for v in vals:
            w(f"  k{camel(v['name'])} = {v['value']},  // {v['doc']}")
        w("};")
        w(f"// The ISA spelling of a {ename} value (\"{vals[0]['name']}\").")
        w(f"constexpr std::string_view name_of({cn} v) {{")
        w("  switch (v) {")
        for v in vals:
            w(f"    case {cn}::k{camel(v['name'])}: return {cstr(v['name'])};")
        w("  }")
        w('  return "?";')
        w("}")
        w(f"// Every {ename} of the ISA, in encoding order.")
        w(f"inline constexpr {cn} kAll{cn}s[] = {{" +
          ", ".join(f"{cn}::k{camel(v['name'])}" for v in vals) + "};")
        w(f"constexpr std::optional<{cn}> {ename}_from(std::uint64_t v) {{")
        w("  switch (v) {")
        for v in vals:
            w(f"    case {v['value']}: return {cn}::k{camel(v['name'])};")
        w("  }")
        w("  return std::nullopt;")
        w("}")
        w("")
    w("// VEC operations that read the second operand (src2_row).")
    w("constexpr bool reads_src2(VecOp op) {")
    w("  switch (op) {")
    for v in c["enums"]["vec_op"]:
        w(f"    case VecOp::k{camel(v['name'])}: return {'true' if v.get('reads_src2') else 'false'};")
    w("  }")
    w("  return false;")
    w("}")
    w("")
    w("namespace common {")
    for f in c["common"]:
        w(f"inline constexpr Field k{camel(f['name'])}{{{cstr(f['name'])}, {f['lsb']}, {f['width']}}};")
    w("}  // namespace common")
    w("")
    for fmt, fields in c["formats"].items():
        w(f"namespace {fmt.lower()} {{")
        for f in fields:
            kind = {"count": "FieldKind::kCount", "sram_row": "FieldKind::kSramRow"}.get(
                f.get("kind"), "FieldKind::kPlain")
            w(f"inline constexpr Field k{camel(f['name'])}{{{cstr(fmt.lower() + '.' + f['name'])}, "
              f"{f['lsb']}, {f['width']}, {kind}}};")
        w(f"}}  // namespace {fmt.lower()}")
        w("")
    w("// The fields of each format with arguments, in contract order: visit_<format>(a, f)")
    w("// calls f(field, a.<field name>) for each (the encoder and decoder of sasim/isa/encode.hpp).")
    for fmt, fields in c["formats"].items():
        if len(fields) < 2:
            continue
        w("template <typename Args, typename F>")
        w(f"constexpr void visit_{fmt.lower()}(Args& a, F&& f) {{")
        for f in fields:
            w(f"  f({fmt.lower()}::k{camel(f['name'])}, a.{f['name']});")
        w("}")
    w("")
    w("}  // namespace sasim::isa")
    w("")
    w("namespace sasim::spec {")
    w("")
    w("// Performance counters: perf_o[i] of sa_core is kCounters[i]. `functional`:")
    w("// the program alone determines the count, so the functional device reports it too.")
    w("struct CounterInfo {")
    w("  std::string_view name;")
    w("  bool functional;")
    w("  std::string_view doc;")
    w("};")
    w(f"inline constexpr std::array<CounterInfo, {len(c['counters'])}> kCounters = {{{{")
    for k in c["counters"]:
        w(f"    {{{cstr(k['name'])}, {'true' if k.get('functional') else 'false'}, {cstr(k['doc'])}}},")
    w("}};")
    w("enum class CounterId : std::uint8_t {")
    for i, k in enumerate(c["counters"]):
        w(f"  k{camel(k['name'])} = {i},")
    w("};")
    w("// The counter of a queue's completed instructions (insn_<queue>).")
    w("constexpr CounterId insn_counter(isa::Queue q) {")
    w("  switch (q) {")
    for q in queues:
        w(f"    case isa::Queue::k{camel(q['name'])}: return CounterId::kInsn{camel(q['name'])};")
    w("  }")
    w("  return CounterId::kInsnCtrl;")
    w("}")
    w("")
    w("// Error codes of sa_core (err_code_o).")
    w("enum class CoreError : std::uint8_t {")
    for e in c["errors"]:
        w(f"  k{camel(e['name'])} = {e['value']},")
    w("};")
    w("constexpr std::string_view describe(CoreError e) {")
    w("  switch (e) {")
    for e in c["errors"]:
        w(f"    case CoreError::k{camel(e['name'])}: return {cstr(e['message'])};")
    w("  }")
    w('  return "unknown error code";')
    w("}")
    w("constexpr std::string_view name_of(CoreError e) {")
    w("  switch (e) {")
    for e in c["errors"]:
        w(f"    case CoreError::k{camel(e['name'])}: return {cstr(e['name'])};")
    w("  }")
    w('  return "?";')
    w("}")
    w("")
    dp = next(p for p in c["core_params"] if p["name"] == "datapath")
    w("// Datapaths (sa_core's Datapath parameter; the index is the RTL encoding).")
    w("enum class Datapath : std::uint8_t {")
    for i, v in enumerate(dp["values"]):
        w(f"  k{camel(v)} = {i},")
    w("};")
    w(f"inline constexpr std::array<std::string_view, {len(dp['values'])}> kDatapathNames = {{"
      + ", ".join(cstr(v) for v in dp["values"]) + "};")
    df = next(p for p in c["core_params"] if p["name"] == "dataflow")
    w(f"// Config spellings of isa::Dataflow, by value.")
    w(f"inline constexpr std::array<std::string_view, {len(df['values'])}> kDataflowNames = {{"
      + ", ".join(cstr(v) for v in df["values"]) + "};")
    w("")
    w("// Core parameters: defaults and legal ranges (validated by spec::validate).")
    w("enum class ParamType : std::uint8_t { kUint, kReal, kEnum };")
    w("struct ParamInfo {")
    w("  std::string_view name;       // key in the config's core section")
    w("  std::string_view rtl;        // sa_core parameter (empty: not an elaboration parameter)")
    w("  ParamType type;")
    w("  double min;                  // kUint/kReal: lower bound (plus min_param's value when set)")
    w("  std::string_view min_param;  // a parameter the lower bound adds to")
    w("  bool min_exclusive;          // kReal: (min, max]")
    w("  double max;")
    w("  bool pow2;                   // kUint: a power of two")
    w("  std::array<unsigned, 4> choices;  // kUint: the allowed values when choices[0] != 0")
    w("  std::array<std::string_view, 4> values;  // kEnum: the spellings, by value")
    w("  std::string_view allowed;    // the allowed values as the docs and messages say them")
    w("  std::string_view doc;")
    w("};")
    w(f"inline constexpr std::array<ParamInfo, {len(c['core_params'])}> kCoreParams = {{{{")
    for p in c["core_params"]:
        if p["type"] == "enum":
            lo, lo_p, lo_plus, hi, excl = 0, None, 0, len(p["values"]) - 1, False
        elif p["type"] == "real":
            excl = "min_exclusive" in p
            lo, lo_p, lo_plus = (p["min_exclusive"], None, 0) if excl else bound(c, p["min"])
            hi = p["max"]
        elif "choices" in p:
            lo, lo_p, lo_plus, hi, excl = min(p["choices"]), None, 0, max(p["choices"]), False
        else:
            lo, lo_p, lo_plus = bound(c, p["min"])
            hi = bound(c, p["max"])[0]
            excl = False
        if lo_p is not None:
            lo = lo_plus
        ch = (p.get("choices", []) + [0, 0, 0, 0])[:4]
        vals = (p.get("values", []) + ["", "", "", ""])[:4]
        if len(p.get("values", [])) > 4 or len(p.get("choices", [])) > 4:
            raise ContractError(f"core_params.{p['name']}: at most 4 values or choices")
        ptype = {"uint": "kUint", "real": "kReal", "enum": "kEnum"}[p["type"]]
        w(f"    {{{cstr(p['name'])}, {cstr(p.get('rtl', ''))}, ParamType::{ptype}, {lo}, "
          f"{cstr(lo_p or '')}, {'true' if excl else 'false'}, {hi}, "
          f"{'true' if p.get('pow2') else 'false'}, {{{', '.join(str(x) for x in ch)}}}, "
          f"{{{', '.join(cstr(v) for v in vals)}}}, "
          f"{cstr(range_text(c, p))}, {cstr(p['doc'])}}},")
    w("}};")
    w("")
    w("// The core parameters with their defaults (spec::CoreSpec adds the derived sizes).")
    w("struct CoreParams {")
    for p in c["core_params"]:
        if p["type"] == "enum":
            typ, val = p["cpp_type"], f"{p['cpp_type']}::k{camel(p['default'])}"
        elif p["type"] == "real":
            typ, val = "double", repr(float(p["default"]))
        else:
            typ, val = "unsigned", str(p["default"])
        w(f"  {typ} {p['name']} = {val};  // {p['doc']}")
    w("  bool operator==(const CoreParams&) const = default;")
    w("};")
    w("")
    w("// A parameter's value by its contract name (enums: their value); nothing for another name.")
    w("constexpr std::optional<double> param_value(const CoreParams& c, std::string_view name) {")
    for p in c["core_params"]:
        w(f"  if (name == {cstr(p['name'])}) return static_cast<double>(c.{p['name']});")
    w("  return std::nullopt;")
    w("}")
    w("// Sets a parameter by its contract name; false for another name. The value")
    w("// must already be checked against the parameter's type.")
    w("constexpr bool set_param(CoreParams& c, std::string_view name, double v) {")
    for p in c["core_params"]:
        typ = p.get("cpp_type", "double" if p["type"] == "real" else "unsigned")
        w(f"  if (name == {cstr(p['name'])}) return c.{p['name']} = static_cast<{typ}>(v), true;")
    w("  return false;")
    w("}")
    w("")
    w("}  // namespace sasim::spec")
    return "\n".join(o) + "\n"


# ---------------------------------------------------------------------------
# Docs
# ---------------------------------------------------------------------------
def gen_isa_md(c):
    o, w = output("<!-- " + GENERATED)
    w("     After changing the contract: python3 spec/gen_contract.py --write-docs . -->")
    w("# sasim ISA")
    w("")
    w(c["doc"])
    w("")
    w(f"Every instruction is {c['width']} bits. Semantics and hazards: [device.md](device.md).")
    w(f"Count fields (`rows`, `cols`, `len`) hold 1..{field_span(c, 'count') - 1}; SRAM row fields "
      f"address rows 0..{field_span(c, 'sram_row') - 1}.")
    w("")
    w("## Opcodes")
    w("")
    w("| opcode | value | format | queue | reads | writes | meaning |")
    w("|---|---|---|---|---|---|---|")
    for op in c["opcodes"]:
        od = c["operands"][op["name"]]
        w(f"| {op['name']} | {op['value']} | {op['format']} | {op['queue']} | "
          f"{', '.join(od['reads']) or '-'} | {', '.join(od['writes']) or '-'} | {op['doc']} |")
    w("")
    w("## Queues")
    w("")
    for q in c["queues"]:
        w(f"- `{q['name']}`: {q['doc']}")
    w("")
    w("## Common fields")
    w("")
    w("| field | bits | width | meaning |")
    w("|---|---|---|---|")
    for f in c["common"]:
        w(f"| `{f['name']}` | {f['lsb'] + f['width'] - 1}:{f['lsb']} | {f['width']} | {f['doc']} |")
    w("")
    w("## Enumerations")
    w("")
    for ename, vals in c["enums"].items():
        w(f"`{ename}`:")
        w("")
        for v in vals:
            extra = " (reads src2)" if v.get("reads_src2") else ""
            w(f"- {v['name']} = {v['value']}: {v['doc']}{extra}")
        w("")
    w("## Formats")
    w("")
    for fmt, fields in c["formats"].items():
        users = ", ".join(op["name"] for op in c["opcodes"] if op["format"] == fmt)
        w(f"### {fmt} ({users})")
        w("")
        w("| field | bits | width | enum | meaning |")
        w("|---|---|---|---|---|")
        if not fields:
            w("| (common fields only) | | | | |")
        for f in fields:
            en = f"`{f['enum']}`" if "enum" in f else ""
            doc = f["doc"]
            if f.get("kind") == "count":
                doc += f", 1..{(1 << f['width']) - 1}"
            w(f"| `{f['name']}` | {f['lsb'] + f['width'] - 1}:{f['lsb']} | {f['width']} | {en} | {doc} |")
        w("")
    w("## Performance counters")
    w("")
    w("Reported by both devices as `core.<name>`; the functional device reports those marked")
    w("functional (the program alone determines them).")
    w("")
    w("| index | counter | functional | meaning |")
    w("|---|---|---|---|")
    for i, k in enumerate(c["counters"]):
        w(f"| {i} | `{k['name']}` | {'yes' if k.get('functional') else ''} | {k['doc']} |")
    w("")
    w("## Error codes")
    w("")
    w("| code | name | message |")
    w("|---|---|---|")
    for e in c["errors"]:
        w(f"| {e['value']} | `{e['name']}` | {e['message']} |")
    w("")
    w("## Micro-architecture sizes")
    w("")
    w("Buffer depths and limits of sa_core that the RTL (`sa_isa_pkg`) and the model engine")
    w("(`sasim::isa`, cosim/src/timed_core.cpp) both take from here; they set timing, not results.")
    w("")
    w("| name | value | RTL | C++ | meaning |")
    w("|---|---|---|---|---|")
    for m in c["microarch"]:
        w(f"| `{m['name']}` | {m['value']} | `{m['rtl']}` | `{m['cpp']}` | {m['doc']} |")
    return "\n".join(o) + "\n"


def gen_config_core(c):
    o = [BEGIN_CORE, "| key | default | allowed | meaning |", "|---|---|---|---|"]
    for p in c["core_params"]:
        o.append(f"| `core.{p['name']}` | {p['default']} | {range_text(c, p)} | {p['doc']} |")
    o.append(END_CORE)
    return "\n".join(o) + "\n"


def write_if_changed(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    try:
        with open(path, encoding="utf-8") as f:
            if f.read() == text:
                return
    except FileNotFoundError:
        pass
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def config_md_with(src_text, section):
    """docs/config.md with its generated core section replaced."""
    b = src_text.find(BEGIN_CORE)
    e = src_text.find(END_CORE)
    if b < 0 or e < b:
        raise ContractError("docs/config.md: the generated core section markers are missing")
    return src_text[:b] + section + src_text[e + len(END_CORE) + 1:]


def docs(c, src):
    """(path, expected text) of every committed generated copy."""
    cfg_path = os.path.join(src, "docs", "config.md")
    with open(cfg_path, encoding="utf-8") as f:
        cfg = f.read()
    return [(os.path.join(src, "docs", "isa.md"), gen_isa_md(c)),
            (cfg_path, config_md_with(cfg, gen_config_core(c)))]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--contract", default=CONTRACT)
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--out", help="generate the build copies into this folder")
    g.add_argument("--check-docs", metavar="SRC", help="fail when the committed docs are stale")
    g.add_argument("--write-docs", metavar="SRC", help="rewrite the committed docs")
    a = ap.parse_args()
    try:
        c = load(a.contract)
        if a.out:
            write_if_changed(os.path.join(a.out, "rtl", "sa_isa_pkg.sv"), gen_sv(c))
            write_if_changed(os.path.join(a.out, "include", "sasim", "spec", "contract.hpp"), gen_hpp(c))
            write_if_changed(os.path.join(a.out, "isa.md"), gen_isa_md(c))
            write_if_changed(os.path.join(a.out, "config_core.md"), gen_config_core(c))
        elif a.check_docs:
            stale = []
            for path, text in docs(c, a.check_docs):
                with open(path, encoding="utf-8") as f:
                    if f.read() != text:
                        stale.append(path)
            if stale:
                print("stale generated copies of spec/contract.json: " + ", ".join(stale) +
                      "\n  refresh them with: python3 spec/gen_contract.py --write-docs .",
                      file=sys.stderr)
                return 1
            print("docs/isa.md and the core section of docs/config.md match spec/contract.json")
        else:
            for path, text in docs(c, a.write_docs):
                write_if_changed(path, text)
    except (ContractError, KeyError, ValueError, OSError) as e:
        print(f"gen_contract.py: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
