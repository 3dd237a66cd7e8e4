#!/usr/bin/env python3
"""The Slurm runner of `sasim sweep` against a real single-node Slurm (issue 10).

The test starts its own munged, slurmctld and slurmd (slurm_cluster.py: every
file in a temporary folder, free ports, the current user; stopped and removed
at the end), runs tests/sweep/small.yaml with --runner slurm (one job array,
at most 2 tasks at once) and with the local runner, and checks that the two
tables are the same, wall-time column aside, and that the points really ran as
Slurm array tasks (one task log per point, each naming its point). A second
Slurm run reuses every point without submitting anything.

Exit status 77 (skipped) when munge or slurm-wlm is not installed.

Usage: test_slurm.py --sasim build/app/sasim
"""
import csv
import glob
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "fuzz"))
sys.path.insert(0, HERE)
from common import arguments  # noqa: E402
from slurm_cluster import SlurmCluster, missing_programs  # noqa: E402

SMALL = os.path.join(HERE, "small.yaml")


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def table(path):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    for r in rows:
        r.pop("wall_seconds")
        r.pop("sim_cycles_per_s")  # measured on the wall clock too
    return rows


def main():
    args = arguments(__doc__)
    missing = missing_programs()
    if missing:
        print("SKIPPED: %s not installed (Debian packages slurm-wlm and munge: "
              "apt-get install slurm-wlm munge)" % ", ".join(missing))
        sys.exit(77)
    work = tempfile.mkdtemp(prefix="sasim_slurm_sweep_")
    try:
        local = os.path.join(work, "local")
        p = subprocess.run([args.sasim, "sweep", "--config", SMALL, "--out", local, "--jobs", "2"],
                           capture_output=True, text=True)
        if p.returncode != 0:
            fail("the local sweep failed:\n" + p.stdout + p.stderr)
        t0 = time.time()
        with SlurmCluster() as c:
            up = time.time() - t0
            out = os.path.join(work, "slurm")
            cmd = [args.sasim, "sweep", "--config", SMALL, "--out", out, "--runner", "slurm",
                   "--jobs", "2"]
            t1 = time.time()
            p = subprocess.run(cmd, env=c.env, capture_output=True, text=True, timeout=900)
            ran = time.time() - t1
            if p.returncode != 0 or "Slurm job" not in p.stderr:
                fail("the Slurm sweep failed:\n%s%s\n%s" % (p.stdout, p.stderr, c.logs()))
            logs = glob.glob(os.path.join(out, "small", "slurm", "task-*_*.log"))
            if len(logs) != 12:
                fail("12 Slurm task logs expected, found %d:\n%s" % (len(logs), c.logs()))
            for log in logs:
                if "sasim sweep: point " not in open(log).read():
                    fail("task log %s does not report its point" % log)
            a = table(os.path.join(local, "small", "sweep.csv"))
            b = table(os.path.join(out, "small", "sweep.csv"))
            if a != b:
                fail("the Slurm runner's table differs from the local runner's")
            p = subprocess.run(cmd, env=c.env, capture_output=True, text=True, timeout=300)
            if p.returncode != 0 or "12 reused" not in p.stdout or "Slurm job" in p.stderr:
                fail("the second Slurm run should reuse every point:\n" + p.stdout + p.stderr)
        print("slurm: cluster up in %.1f s, 12 points in %.1f s, same table as the local runner"
              % (up, ran))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("PASS")


if __name__ == "__main__":
    main()
