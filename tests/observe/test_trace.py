#!/usr/bin/env python3
"""`sasim run --trace`: the trace is valid trace-event JSON (the rules of the
Trace Event Format that Perfetto and chrome://tracing read), its slices add up
to the run's counters, tracing changes no cycle, windows keep only their
cycles, a bad window is a clear error, and `sasim plot trace` draws it."""
import argparse
import collections
import json
import os
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PHASES = {"X", "C", "M"}  # what sasim writes (a subset of the format's phases)
# Timestamps are written rounded to 1e-7 us (0.1 ps): slices that touch may
# appear to overlap by that much.
EPS_US = 1e-6


def run(sasim, args, cwd, expect=0):
    p = subprocess.run([sasim] + args, cwd=cwd, capture_output=True, text=True, timeout=600)
    if p.returncode != expect:
        sys.exit(f"FAIL: sasim {' '.join(args)}: exit {p.returncode} (expected {expect})\n"
                 f"{p.stdout}\n{p.stderr}")
    return p


def check_format(t):
    assert isinstance(t, dict), "the JSON object form"
    assert t.get("displayTimeUnit") in ("ms", "ns"), "displayTimeUnit"
    ev = t["traceEvents"]
    assert isinstance(ev, list) and ev, "traceEvents is a non-empty list"
    names = {}
    for e in ev:
        assert isinstance(e.get("name"), str), e
        assert e.get("ph") in PHASES, e
        assert isinstance(e.get("pid"), int) and isinstance(e.get("tid"), int), e
        if e["ph"] == "M":
            assert e["name"] in ("process_name", "thread_name", "thread_sort_index"), e
            assert isinstance(e["args"], dict), e
            if e["name"] == "thread_name":
                names[(e["pid"], e["tid"])] = e["args"]["name"]
            continue
        assert isinstance(e.get("ts"), (int, float)) and e["ts"] >= 0, e
        if e["ph"] == "X":
            assert isinstance(e.get("dur"), (int, float)) and e["dur"] >= 0, e
            assert isinstance(e["args"]["cycle"], int) and e["args"]["cycles"] > 0, e
        if e["ph"] == "C":
            assert e["args"] and all(isinstance(v, (int, float)) for v in e["args"].values()), e
    # Complete events on one thread must nest; sasim's never overlap.
    by_thread = collections.defaultdict(list)
    for e in ev:
        if e["ph"] == "X":
            assert (e["pid"], e["tid"]) in names, f"thread of {e} has no thread_name"
            by_thread[(e["pid"], e["tid"])].append(e)
    for k, xs in by_thread.items():
        xs.sort(key=lambda e: e["ts"])
        for a, b in zip(xs, xs[1:]):
            assert a["ts"] + a["dur"] <= b["ts"] + EPS_US, f"overlap on {names[k]}: {a} {b}"
            assert a["args"]["cycle"] + a["args"]["cycles"] <= b["args"]["cycle"], (a, b)
    return names


def sums(t, names):
    count, cycles, beats = collections.Counter(), collections.Counter(), collections.Counter()
    for e in t["traceEvents"]:
        if e["ph"] != "X":
            continue
        track = names[(e["pid"], e["tid"])].split(" +")[0]
        key = (track, e["name"])
        count[key] += 1
        cycles[key] += e["args"]["cycles"]
        beats[key] += e["args"].get("beats", 0)
    return count, cycles, beats


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sasim", required=True)
    a = ap.parse_args()
    sasim = os.path.abspath(a.sasim)
    tmp = tempfile.mkdtemp(prefix="sasim_trace_")
    try:
        cfg = os.path.join(ROOT, "configs", "default.yaml")
        # As the README runs it (relative to the working folder).
        run(sasim, ["run", "--config", cfg, "--out", "out", "--trace", "out/default/trace.json"], tmp)
        t = json.load(open(os.path.join(tmp, "out/default/trace.json")))
        stats = json.load(open(os.path.join(tmp, "out/default/stats.json")))
        names = check_format(t)
        c = stats["counters"]
        count, cycles, beats = sums(t, names)
        q = {track: sum(n for (tr, _), n in count.items() if tr == track)
             for track in ("LOAD", "EXEC", "STORE")}
        expect = {
            "instructions LOAD": (q["LOAD"], c["core.insn_load"]),
            "instructions EXEC": (q["EXEC"], c["core.insn_exec"]),
            "instructions STORE": (q["STORE"], c["core.insn_store"]),
            "array steps": (cycles[("array", "streaming")], c["core.array_steps"]),
            "exec busy": (cycles[("EXEC busy", "busy")], c["core.exec_busy"]),
            "load busy": (cycles[("LOAD busy", "busy")], c["core.load_busy"]),
            "store busy": (cycles[("STORE busy", "busy")], c["core.store_busy"]),
            "exec waits load": (cycles[("EXEC waits", "wait LOAD token")],
                                c["core.exec_wait_load"]),
            "exec waits store": (cycles[("EXEC waits", "wait STORE token")],
                                 c["core.exec_wait_store"]),
            "load beats": (beats[("AXI read", "load")], c["core.load_beats"]),
            "fetch beats": (beats[("AXI read", "fetch")], c["core.fetch_beats"]),
            "store beats": (beats[("AXI write", "store")], c["core.store_beats"]),
            "read bursts": (count[("AXI read", "load")] + count[("AXI read", "fetch")],
                            c["device.bridge.reads"]),
            "write bursts": (count[("AXI write", "store")], c["device.bridge.writes"]),
            "run cycles": (cycles[("host", "GEMM 256x256x256")], stats["derived"]["cycles"]),
        }
        bad = {k: v for k, v in expect.items() if v[0] != v[1]}
        assert not bad, f"trace sums differ from the counters (trace, counter): {bad}"
        assert all(v[1] > 0 for k, v in expect.items() if "store" not in k or "beats" in k), expect
        assert stats["trace"]["events"] == len(t["traceEvents"]), "event count in stats.json"
        # Counter tracks: one sample per window of the power section.
        csamples = [e for e in t["traceEvents"] if e["ph"] == "C" and e["name"] == "power (W)"]
        assert len(csamples) == stats["power"]["windows"], (len(csamples), stats["power"])
        print(f"trace: {len(t['traceEvents'])} events; sums equal the counters: "
              + ", ".join(f"{k} {v[0]}" for k, v in expect.items()))

        # Tracing changes no cycle and no counter.
        run(sasim, ["run", "--config", cfg, "--out", "plain"], tmp)
        plain = json.load(open(os.path.join(tmp, "plain/default/stats.json")))
        assert plain["counters"] == stats["counters"], "the traced run's counters differ"

        # A window: only its cycles, clipped; busy slices inside add up to at most its length.
        run(sasim, ["run", "--config", cfg, "--out", "win", "--trace", "win/trace.json",
                    "--trace-window", "20000:30000"], tmp)
        w = json.load(open(os.path.join(tmp, "win/trace.json")))
        wn = check_format(w)
        xs = [e for e in w["traceEvents"] if e["ph"] == "X"]
        assert xs and all(20000 <= e["args"]["cycle"] and
                          e["args"]["cycle"] + e["args"]["cycles"] <= 30000 for e in xs)
        _, wc, _ = sums(w, wn)
        assert 0 < wc[("array", "streaming")] <= 10000, wc
        assert len(w["traceEvents"]) < len(t["traceEvents"]) / 3
        cs = [e for e in w["traceEvents"] if e["ph"] == "C"]
        assert cs, "counter samples inside the window"
        print(f"window 20000:30000: {len(w['traceEvents'])} events, "
              f"array streaming {wc[('array', 'streaming')]} cycles")

        # Bad windows: a clear error naming the key, no trace left behind.
        for bad_window, msg in (("5:5", "is empty (START must be below END)"),
                                ("x:9", "is not START:END")):
            p = run(sasim, ["run", "--config", cfg, "--out", "bad", "--trace", "bad/t.json",
                            "--trace-window", bad_window], tmp, expect=2)
            assert "run.trace_window: '" + bad_window + "' " + msg in p.stderr, p.stderr
            assert not os.path.exists(os.path.join(tmp, "bad/t.json"))

        # The picture.
        if shutil.which("gnuplot"):
            p = run(sasim, ["plot", "trace", "win/trace.json", "--window", "20000:21500",
                            "--out", "fig/trace"], tmp)
            png = os.path.join(tmp, "fig/trace.png")
            assert os.path.getsize(png) > 10000 and open(png, "rb").read(4) == b"\x89PNG"
            p = run(sasim, ["plot", "trace", "win/trace.json", "--window", "0:100",
                            "--out", "fig/none"], tmp, expect=2)
            assert "no device slices in the window 0:100" in p.stderr, p.stderr
        else:
            print("gnuplot not installed: the figure is not checked")
        print("PASS")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
