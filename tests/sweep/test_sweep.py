#!/usr/bin/env python3
"""End-to-end tests of `sasim sweep` (issue 10): the table, resuming, SIGKILL,
failing points, invalid sweeps and the plots.

1. --dry-run lists the points and writes nothing (before and after a run).
   tests/sweep/small.yaml (12 points on the cores every build links) runs
   uninterrupted: 12 rows, every point ok and bit-exact, sweep.jsonl with the
   counters, the effective config of every point, PNG and SVG plots.
2. Run again: every point is reused (nothing runs) and the table is the same.
3. The same sweep in a new folder is killed with SIGKILL once a few points
   have finished, checked (no point process outlives it, every result.json
   and the table parse), then restarted: it ends with the same sweep.csv as
   the uninterrupted run, wall-time column aside, and runs only the points
   that had not finished. While it runs, a second sweep in the same folder
   is refused.
   A result marked `retry` (a failure of the machinery) runs again.
   A `mem` sweep has the memory system's figures (DRAM bytes, hit rates).
4. With run.waves set, every point writes its own waveform in its folder.
5. A sweep with an invalid axis value does not start: the error names the
   sweep file, the point's values and the config key; with --skip-invalid it
   runs the rest and the bad point is in the table with its error. A point
   whose run fails (the watchdog stops it) is in the table with the error and
   the other points complete; the exit status is 4.

Usage: test_sweep.py --sasim build/app/sasim
"""
import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "fuzz"))
from common import arguments  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SMALL = os.path.join(HERE, "small.yaml")
# Larger GEMMs for the kill test, so that SIGKILL lands while points run.
SLOWER = ["--set", "gemm.k=160", "--set", "gemm.n=160"]


DEFAULT = os.path.join(HERE, "..", "..", "configs", "default.yaml")
# A 4x4 core (linked into every build) and a small GEMM.
QUICK = ("core.rows: 4, core.cols: 4, core.spad_rows: 512, core.acc_rows: 256, "
         "gemm.m: %d, gemm.k: %d, gemm.n: %d")


def write_sweep(path, set_text, axes_text):
    with open(path, "w") as f:
        f.write("base: %s\nset: {%s}\naxes: {%s}\n" % (DEFAULT, set_text, axes_text))
    return path


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def sweep(sasim, cfg, out, *extra, check=True):
    p = subprocess.run([sasim, "sweep", "--config", cfg, "--out", out, *extra],
                       capture_output=True, text=True)
    if check and p.returncode != 0:
        fail("sasim sweep %s exited %d:\n%s%s" % (cfg, p.returncode, p.stdout, p.stderr))
    return p


def table(path, drop_wall=True):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    if drop_wall:
        for r in rows:
            r.pop("wall_seconds")
            r.pop("sim_cycles_per_s")  # measured on the wall clock too
    return rows


def test_table_and_reuse(sasim, work):
    out = os.path.join(work, "a")
    p = sweep(sasim, SMALL, out, "--dry-run")
    if "12 points (0 excluded)" not in p.stdout or "0 done, 12 to run, 0 invalid" not in p.stdout \
            or os.path.exists(os.path.join(out, "small")):
        fail("--dry-run should list 12 points to run and write nothing:\n" + p.stdout)
    p = sweep(sasim, SMALL, out)
    d = os.path.join(out, "small")
    rows = table(os.path.join(d, "sweep.csv"))
    if len(rows) != 12:
        fail("12 rows expected, got %d" % len(rows))
    for r in rows:
        if r["status"] != "ok" or r["match"] != "true" or r["error"]:
            fail("point %s: %s" % (r["point"], r))
        if not (0 < float(r["pe_utilization"]) <= 1) or int(r["cycles"]) <= 0:
            fail("point %s: implausible metrics %s" % (r["point"], r))
        if float(r["dram_bytes"]) <= 0 or not (0 <= float(r["l2_hit_rate"]) <= 1):
            fail("point %s: no memory figures %s" % (r["point"], r))
        cfg = os.path.join(d, "points", r["id"], "default", "config.yaml")
        text = open(cfg).read()
        for key, col in (("rows", "core.rows"), ("dataflow", "core.dataflow")):
            if "%s: %s" % (key, r[col]) not in text:
                fail("%s does not record %s=%s" % (cfg, col, r[col]))
    # Utilization differs between dataflows: the axis reaches the run.
    if len({r["cycles"] for r in rows}) < 6:
        fail("the points' cycles barely differ: the axes did not reach the runs")
    jl = [json.loads(x) for x in open(os.path.join(d, "sweep.jsonl"))]
    if len(jl) != 12 or "device.mem.l2.hits" not in jl[0]["stats"]["counters"]:
        fail("sweep.jsonl lacks the counters")
    for stem in ("pe_utilization_vs_core.rows_by_core.dataflow", "cycles_vs_core.dataflow_by_gemm.m"):
        for ext in ("png", "svg"):
            f = os.path.join(d, "plots", stem + "." + ext)
            if not os.path.exists(f) or os.path.getsize(f) < 1000:
                fail("missing plot " + f)
    p = sweep(sasim, SMALL, out, "-n")
    if "12 done, 0 to run" not in p.stdout:
        fail("--dry-run after the run should find every point done:\n" + p.stdout)
    before = open(os.path.join(d, "sweep.csv")).read()
    t0 = time.time()
    p = sweep(sasim, SMALL, out)
    if "12 reused" not in p.stdout or "0 run" not in p.stdout:
        fail("the second run did not reuse every point:\n" + p.stdout)
    if open(os.path.join(d, "sweep.csv")).read() != before:
        fail("the second run changed sweep.csv")
    # A failure of the machinery (marked retry: a killed process, a core
    # that did not build) runs again; the point's own result does not.
    rj = os.path.join(d, "points", rows[5]["id"], "result.json")
    r = json.load(open(rj))
    r["retry"] = True
    json.dump(r, open(rj, "w"))
    p = sweep(sasim, SMALL, out)
    if "11 reused" not in p.stdout or "1 run" not in p.stdout:
        fail("a result marked retry should run again, the others not:\n" + p.stdout)
    print("table and reuse: ok (second run %.2f s)" % (time.time() - t0))
    return out


def test_mem_sweep(sasim, work):
    cfg = os.path.join(work, "mem.yaml")
    with open(cfg, "w") as f:
        f.write("command: mem\nbase: %s\n" % os.path.join(HERE, "..", "..", "configs", "memory.yaml"))
        f.write("set: {traffic.requests: 2000}\naxes: {traffic.pattern: [stream, random]}\n")
    out = os.path.join(work, "mem")
    sweep(sasim, cfg, out)
    for r in table(os.path.join(out, "mem", "sweep.csv")):
        if r["status"] != "ok" or not float(r["dram_bytes"]) > 0 or not r["l2_hit_rate"] \
                or not r["row_hit_rate"] or not float(r["simulated_us"]) > 0:
            fail("a mem point lacks its memory figures: %s" % r)
    print("mem sweep: ok")


def test_kill_and_resume(sasim, work):
    ref = os.path.join(work, "ref")
    sweep(sasim, SMALL, ref, "--jobs", "2", *SLOWER)
    out = os.path.join(work, "killed")
    d = os.path.join(out, "small")
    proc = subprocess.Popen([sasim, "sweep", "--config", SMALL, "--out", out, "--jobs", "2", *SLOWER],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    done = 0
    while time.time() < deadline and proc.poll() is None:
        pts = os.path.join(d, "points")
        done = sum(os.path.exists(os.path.join(pts, x, "result.json"))
                   for x in (os.listdir(pts) if os.path.isdir(pts) else []))
        if done >= 4:
            break
        time.sleep(0.02)
    if proc.poll() is not None:
        fail("the sweep ended before it could be killed (make its points slower)")
    # A second sweep in the same folder while the first runs: refused.
    p = sweep(sasim, SMALL, out, "--jobs", "2", *SLOWER, check=False)
    if p.returncode != 2 or "is in use by another sasim sweep" not in p.stderr:
        fail("a second sweep in a busy folder should stop (exit 2):\n" + p.stderr)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    time.sleep(0.5)
    # Nothing of the sweep outlives it.
    ps = subprocess.run(["pgrep", "-f", d], capture_output=True, text=True).stdout.split()
    if ps:
        fail("processes of the killed sweep still run: " + " ".join(ps))
    finished = []
    for x in os.listdir(os.path.join(d, "points")):
        f = os.path.join(d, "points", x, "result.json")
        if os.path.exists(f):
            finished.append(json.load(open(f))["index"])
    if os.path.exists(os.path.join(d, "sweep.csv")):
        table(os.path.join(d, "sweep.csv"))  # whole, if there
    if not 4 <= len(finished) < 12:
        fail("killed with %d points finished" % len(finished))
    p = sweep(sasim, SMALL, out, "--jobs", "2", *SLOWER)
    if "%d reused" % len(finished) not in p.stdout:
        fail("the restart did not reuse the %d finished points:\n%s" % (len(finished), p.stdout))
    a = table(os.path.join(ref, "small", "sweep.csv"))
    b = table(os.path.join(d, "sweep.csv"))
    if a != b:
        fail("the killed and restarted sweep's table differs from the uninterrupted one")
    print("kill and resume: ok (killed with %d of 12 points done)" % len(finished))


def test_failures(sasim, work):
    bad = write_sweep(os.path.join(work, "bad.yaml"), QUICK % (24, 40, 24),
                      "core.dataflow: [ws, os], run.watchdog_cycles: [100000, 3, -5]")
    out = os.path.join(work, "bad")
    p = sweep(sasim, bad, out, check=False)
    if p.returncode != 2 or os.path.exists(os.path.join(out, "bad")):
        fail("an invalid sweep started (exit %d)" % p.returncode)
    want = "bad.yaml: 2 of 6 points have an invalid config"
    if want not in p.stderr or "(core.dataflow=ws run.watchdog_cycles=-5)" not in p.stderr or \
            "run.watchdog_cycles: '-5' is out of range (allowed 1..1000000000)" not in p.stderr:
        fail("the error does not name the file, the axis and the value:\n" + p.stderr)
    p = sweep(sasim, bad, out, "--dry-run")
    if "2 invalid" not in p.stdout or "invalid: " not in p.stdout:
        fail("--dry-run should list the invalid points:\n" + p.stdout)
    p = sweep(sasim, bad, out, "--skip-invalid", check=False)
    if p.returncode != 4:
        fail("a sweep with failed points should exit 4, not %d:\n%s" % (p.returncode, p.stderr))
    rows = table(os.path.join(out, "bad", "sweep.csv"))
    by = {(r["core.dataflow"], r["run.watchdog_cycles"]): r for r in rows}
    if len(rows) != 6:
        fail("6 rows expected")
    for df in ("ws", "os"):
        if by[(df, "100000")]["status"] != "ok":
            fail("a good point failed: %s" % by[(df, "100000")])
        r = by[(df, "3")]
        if r["status"] != "error" or "watchdog" not in r["error"].lower():
            fail("the watchdog point does not carry its error: %s" % r)
        r = by[(df, "-5")]
        if r["status"] != "error" or "run.watchdog_cycles: '-5' is out of range" not in r["error"]:
            fail("the invalid point does not carry its error: %s" % r)
    print("failing points: ok")


def test_waves(sasim, work):
    cfg = write_sweep(os.path.join(work, "waves.yaml"), QUICK % (8, 8, 8) + ", run.waves: true",
                      "core.dataflow: [ws, os]")
    out = os.path.join(work, "waves")
    sweep(sasim, cfg, out)
    rows = table(os.path.join(out, "waves", "sweep.csv"))
    for r in rows:
        f = os.path.join(out, "waves", "points", r["id"], "waves.fst")
        if not os.path.exists(f) or os.path.getsize(f) < 1000:
            fail("point %s has no waveform of its own (%s)" % (r["point"], f))
    print("waveforms per point: ok")


def main():
    args = arguments(__doc__)
    work = tempfile.mkdtemp(prefix="sasim_sweep_")
    try:
        test_table_and_reuse(args.sasim, work)
        test_failures(args.sasim, work)
        test_waves(args.sasim, work)
        test_mem_sweep(args.sasim, work)
        test_kill_and_resume(args.sasim, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("PASS")


if __name__ == "__main__":
    main()
