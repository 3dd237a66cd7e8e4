#!/usr/bin/env python3
"""The model engine held to the RTL (docs/model.md#correlation).

Runs every correlation point twice, `sasim run|train --engine rtl` and
`--engine model`, and compares total cycles, the training step's phase cycles,
DRAM bytes, L2 hits and misses, and every other counter of the run. Fails
(exit 1) when a point's cycle error exceeds 2 %, the mean over the points
exceeds 0.5 %, a phase exceeds 3 % or a DRAM / L2 figure exceeds 1 %, or
when the model's result is not bit-exact.

  python3 tests/correlation/correlate.py build/app/sasim [--write-docs] [--jobs N]

--write-docs regenerates docs/correlation.md and docs/correlation.json (the
table the model engine's summary quotes).
"""
import argparse
import concurrent.futures
import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# Cores: the four linked into every build and one non-square core with a
# 32-byte bus (built on first use into the variant cache).
CORES = [
    ("int8 16x16", []),
    ("bf16 16x16", ["core.datapath=bf16"]),
    ("int8 4x4 small SRAMs", ["core.rows=4", "core.cols=4", "core.spad_rows=512",
                              "core.acc_rows=256"]),
    ("bf16 4x4 small SRAMs", ["core.datapath=bf16", "core.rows=4", "core.cols=4",
                              "core.spad_rows=512", "core.acc_rows=256"]),
    ("int8 4x8 32-byte bus", ["core.rows=4", "core.cols=8", "core.spad_rows=512",
                              "core.acc_rows=256", "core.bus_bytes=32"]),
]
DATAFLOWS = ["ws", "os", "is"]
MEMORIES = [
    ("dram, L2 lru wb_wa", []),
    ("dram, L2 srrip wt_nwa", ["l2.replacement=srrip", "l2.write_policy=wt_nwa"]),
    ("dram closed page fcfs, no L2", ["l2.bypass=true", "memory.dram.page_policy=closed",
                                      "memory.dram.scheduler=fcfs"]),
    ("fixed 40 ns, L2 plru", ["memory.model=fixed", "memory.fixed.latency_ns=40",
                              "l2.replacement=plru"]),
    ("ideal, no L2", ["memory.model=ideal", "l2.bypass=true"]),
]
BIG_SHAPES = [(256, 256, 256), (100, 70, 45), (33, 17, 129)]
SMALL_SHAPES = [(64, 64, 64), (50, 30, 20), (17, 9, 33)]


def points():
    """45 GEMM points (every core x dataflow three times, rotating the memory
    system and the shape) and one training step."""
    pts = []
    for rep in range(3):
        for ci, (core, co) in enumerate(CORES):
            for di, df in enumerate(DATAFLOWS):
                mi = (ci + di + 2 * rep) % len(MEMORIES)
                mem, mo = MEMORIES[mi]
                shapes = BIG_SHAPES if "16x16" in core else SMALL_SHAPES
                m, k, n = shapes[(di + rep) % len(shapes)]
                pts.append({
                    "command": "run",
                    "name": f"{core}, {df}, {mem}, {m}x{k}x{n}",
                    "overrides": co + [f"core.dataflow={df}", f"gemm.m={m}", f"gemm.k={k}",
                                       f"gemm.n={n}"] + mo,
                })
    pts.append({
        "command": "train",
        "name": "training step (configs/train.yaml, 1 step, 64 test images)",
        "overrides": ["train.steps=1", "train.test_images=64"],
    })
    return pts


def run_point(sasim, p, engine, out):
    cfg = os.path.join(ROOT, "configs", "train.yaml" if p["command"] == "train" else "default.yaml")
    args = [sasim, p["command"], "--config", cfg, "--out", out, "--engine", engine]
    for o in p["overrides"]:
        args += ["-s", o]
    t0 = time.monotonic()
    r = subprocess.run(args, capture_output=True, text=True)
    wall = time.monotonic() - t0
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({r.returncode}):\n{r.stdout}\n{r.stderr}")
    name = "train" if p["command"] == "train" else "default"
    stats = os.path.join(out, name, "train_report.json" if p["command"] == "train" else "stats.json")
    with open(stats) as f:
        return json.load(f), wall


def figures(p, stats):
    """The compared figures of one run: name -> value."""
    f = {}
    if p["command"] == "train":
        f["cycles"] = stats["training_cycles"]
        for ph, v in stats["phases"].items():
            f[f"phase {ph} cycles"] = v["cycles"]
            f[f"phase {ph} dram_bytes_read"] = v.get("dram_bytes_read", 0)
            f[f"phase {ph} dram_bytes_written"] = v.get("dram_bytes_written", 0)
            f[f"phase {ph} l2_hits"] = v.get("l2_hits", 0)
            f[f"phase {ph} l2_misses"] = v.get("l2_misses", 0)
        f["match"] = stats["checked_against_golden"]
    else:
        f["cycles"] = stats["derived"]["cycles"]
        for k, v in stats["counters"].items():
            if k.startswith("device.bridge.sync"):
                continue  # how often the bridge synchronised: simulator work, not the device
            f[k] = v
        f["match"] = stats["match"]
    return f


def err(a, b):
    if a == b:
        return 0.0
    return abs(b - a) / max(abs(a), 1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("sasim")
    ap.add_argument("--write-docs", action="store_true")
    ap.add_argument("--jobs", type=int, default=1)
    a = ap.parse_args()
    pts = points()
    rows, failures = [], []

    def one(i):
        p = pts[i]
        with tempfile.TemporaryDirectory() as d:
            rtl, rtl_wall = run_point(a.sasim, p, "rtl", os.path.join(d, "rtl"))
            mod, mod_wall = run_point(a.sasim, p, "model", os.path.join(d, "model"))
        # The class the model engine's summary looks a run up by (sasim writes
        # it: app/src/summary.cpp correlation_class).
        cls = [s.get("correlation_class") for s in (rtl, mod)]
        if cls[0] is None or cls[0] != cls[1]:
            raise RuntimeError(f"{p['name']}: correlation_class missing or different in the "
                               f"rtl and model reports ({cls[0]} / {cls[1]}): is {a.sasim} "
                               f"older than this script?")
        return i, cls[0], figures(p, rtl), figures(p, mod), rtl_wall, mod_wall

    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, a.jobs)) as ex:
        results = sorted(ex.map(one, range(len(pts))))
    for i, cls, fr, fm, rw, mw in results:
        p = pts[i]
        worst, worst_name = 0.0, ""
        for k in fr:
            if k == "match":
                continue
            if k not in fm:
                failures.append(f"{p['name']}: {k} missing from the model's statistics")
                continue
            e = err(fr[k], fm[k])
            bound = 0.02 if k == "cycles" else 0.03 if k.endswith(" cycles") else 0.01
            if e > bound:
                failures.append(f"{p['name']}: {k}: RTL {fr[k]}, model {fm[k]} "
                                f"({100 * e:.3f} % > {100 * bound:.1f} %)")
            if e > worst:
                worst, worst_name = e, k
        if not fm["match"] or not fr["match"]:
            failures.append(f"{p['name']}: result not bit-exact (rtl {fr['match']}, "
                            f"model {fm['match']})")
        rows.append({
            "name": p["name"], "class": cls, "command": p["command"],
            "rtl_cycles": fr["cycles"], "model_cycles": fm["cycles"],
            "cycle_error": err(fr["cycles"], fm["cycles"]),
            "worst_error": worst, "worst_figure": worst_name, "figures": len(fr) - 1,
            "rtl_wall_s": round(rw, 3), "model_wall_s": round(mw, 3),
        })
        print(f"{len(rows):3d} {p['name']:<62} rtl {fr['cycles']:>9} model {fm['cycles']:>9} "
              f"cycle error {100 * rows[-1]['cycle_error']:.3f} %, worst of {len(fr) - 1} "
              f"figures {100 * worst:.3f} %", flush=True)
    mean = sum(r["cycle_error"] for r in rows) / len(rows)
    peak = max(r["cycle_error"] for r in rows)
    if mean > 0.005:
        failures.append(f"mean cycle error {100 * mean:.3f} % > 0.5 %")
    print(f"{len(rows)} points: cycle error max {100 * peak:.3f} %, mean {100 * mean:.3f} %")
    if a.write_docs:
        write_docs(rows, peak, mean)
    if failures:
        print("FAILED:\n  " + "\n  ".join(failures))
        return 1
    return 0


def write_docs(rows, peak, mean):
    summary = {"points": len(rows), "max_cycle_error": peak, "mean_cycle_error": mean,
               "classes": {}, "rows": rows}
    for r in rows:
        c = summary["classes"].setdefault(r["class"], {"points": 0, "max_cycle_error": 0.0})
        c["points"] += 1
        c["max_cycle_error"] = max(c["max_cycle_error"], r["cycle_error"])
    with open(os.path.join(ROOT, "docs", "correlation.json.tmp"), "w") as f:
        json.dump(summary, f, indent=1)
        f.write("\n")
    os.replace(os.path.join(ROOT, "docs", "correlation.json.tmp"),
               os.path.join(ROOT, "docs", "correlation.json"))
    lines = [
        "# Correlation of the model engine with the RTL",
        "",
        "Generated by `python3 tests/correlation/correlate.py build/app/sasim --write-docs`",
        "(docs/model.md). Each point runs `sasim run` (or `sasim train`) with",
        "`--engine rtl` and with `--engine model`; *figures* counts what was compared",
        "(cycles, every core, bridge, interconnect, L2 and DRAM counter, or the training",
        "step's phase cycles, DRAM bytes and L2 hits/misses), *worst* is the largest",
        "relative difference among them. Wall times are of the whole `sasim` process",
        "(start-up, program generation and the golden check included).",
        "",
        f"{len(rows)} points: cycle error max {100 * peak:.3f} %, mean {100 * mean:.3f} %.",
        "",
        "| point | RTL cycles | model cycles | cycle error | figures | worst | RTL wall s | model wall s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(f"| {r['name']} | {r['rtl_cycles']} | {r['model_cycles']} | "
                     f"{100 * r['cycle_error']:.3f} % | {r['figures']} | "
                     f"{100 * r['worst_error']:.3f} % | {r['rtl_wall_s']:.2f} | "
                     f"{r['model_wall_s']:.2f} |")
    path = os.path.join(ROOT, "docs", "correlation.md")
    with open(path + ".tmp", "w") as f:
        f.write("\n".join(lines) + "\n")
    os.replace(path + ".tmp", path)


if __name__ == "__main__":
    sys.exit(main())
