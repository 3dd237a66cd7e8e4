#!/usr/bin/env python3
"""A training run under a power cap below its uncapped average power: the
governor lowers the core clock until every sampled window stays under the
cap, the run takes longer, and every step stays bit-exact (train.check) with
the same losses as the uncapped run; `sasim plot power` draws both."""
import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
STEPS = 24  # long enough that the steps before the clock settles do not dominate the average


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sasim", required=True)
    a = ap.parse_args()
    sasim = os.path.abspath(a.sasim)
    tmp = tempfile.mkdtemp(prefix="sasim_cap_")
    try:
        cfg = os.path.join(ROOT, "configs", "train_powercap.yaml")
        cmd = [sasim, "train", "--config", cfg, "--out", "out",
               "--set", f"train.steps={STEPS}", "--set", "train.test_images=64"]
        p = subprocess.run(cmd, cwd=tmp, capture_output=True, text=True, timeout=1200)
        if p.returncode != 0:
            sys.exit(f"FAIL: {' '.join(cmd)}: exit {p.returncode}\n{p.stdout}\n{p.stderr}")
        print(p.stdout)
        assert "golden model     match (bit-exact) after every step" in p.stdout
        r = json.load(open(os.path.join(tmp, "out/train_powercap/train_report.json")))
        assert r["checked_against_golden"] is True
        cap = r["power"]["cap_watts"]
        cmp = r["power_cap_comparison"]
        capped, free = cmp["capped"], cmp["uncapped"]
        # The premise: the cap is below the uncapped run's average power.
        assert cap < free["average_w"], (cap, free)
        # The same numbers, more time, less average power.
        assert capped["losses_equal"] is True
        u = json.load(open(os.path.join(tmp, cmp["uncapped"]["report"])))
        assert u["losses"] == r["losses"] and u["checked_against_golden"] is True
        assert u["device_test_accuracy"] == r["device_test_accuracy"]
        assert capped["training_simulated_us"] > 1.2 * free["training_simulated_us"], cmp
        assert capped["average_w"] < cap, cmp
        # After the governor settles, every window of the training steps is
        # under the cap; before, some broke it (or it would not have moved).
        settled = r["power"]["segments"]["training"]["settled_after"]
        assert 0 < settled <= STEPS // 2, settled
        rows = list(csv.DictReader(open(os.path.join(tmp, "out/train_powercap/power.csv"))))
        train_rows = [x for x in rows if int(x["step"]) < STEPS]
        after = [float(x["power_w"]) for x in train_rows if int(x["step"]) >= settled]
        before = [float(x["power_w"]) for x in train_rows if int(x["step"]) < settled]
        assert after and max(after) <= cap, (max(after), cap)
        assert max(before) > cap, max(before)
        clocks = {float(x["clock_mhz"]) for x in train_rows if int(x["step"]) >= settled}
        assert len(clocks) == 1 and clocks.pop() < 1000, clocks
        print(f"cap {cap} W (uncapped average {free['average_w']:.3f} W): settled after step "
              f"{settled}; windows after it at most {max(after):.3f} W; time x"
              f"{capped['training_simulated_us'] / free['training_simulated_us']:.2f}, "
              f"energy x{capped['training_energy_pj'] / free['training_energy_pj']:.3f}")
        if shutil.which("gnuplot"):
            q = subprocess.run([sasim, "plot", "power", "out/train_powercap/power.csv",
                                "out/train_powercap_uncapped/power.csv", "--label", "capped",
                                "--label", "uncapped", "--cap", str(cap), "--out", "fig/power"],
                               cwd=tmp, capture_output=True, text=True, timeout=120)
            assert q.returncode == 0, q.stderr
            png = os.path.join(tmp, "fig/power.png")
            assert os.path.getsize(png) > 10000 and open(png, "rb").read(4) == b"\x89PNG"
            q = subprocess.run([sasim, "plot", "power", "out/train_powercap/train_report.json",
                                "--out", "fig/bad"], cwd=tmp, capture_output=True, text=True)
            assert q.returncode == 2 and "not a sasim power.csv" in q.stderr, q.stderr
        print("PASS")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
