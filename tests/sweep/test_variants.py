#!/usr/bin/env python3
"""Cores and arrays built on demand into the variant cache (issue 10).

In an empty cache ($SASIM_VARIANT_CACHE), with one build slot:
1. `sasim array` on an int8 2x3 array and `sasim run` on a bf16 2x3 core
   (neither is linked into any build) start at once, twice each: every
   variant is built exactly once (the second process of a pair waits for the
   first), the two builds run one after the other (one slot), and every run
   is bit-exact against the golden model.
2. A third run of each builds nothing, and `sasim variants` lists both.
3. A corrupt module in the cache gives a clear error naming it and how to
   rebuild it, not a crash.
4. `sasim variants --prune` removes an entry of another key and keeps the
   current ones.

Usage: test_variants.py --sasim build/app/sasim
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "fuzz"))
from common import arguments  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
DEFAULT = os.path.join(ROOT, "configs", "default.yaml")
SMALL = ["--set", "gemm.m=7", "--set", "gemm.k=9", "--set", "gemm.n=5"]
ARRAY = ["array", "--config", DEFAULT, "--set", "core.rows=2", "--set", "core.cols=3", *SMALL]
CORE = ["run", "--config", DEFAULT, "--set", "core.rows=2", "--set", "core.cols=3",
        "--set", "core.datapath=bf16", "--set", "core.spad_rows=256", "--set", "core.acc_rows=64",
        *SMALL]


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def main():
    args = arguments(__doc__)
    cache = tempfile.mkdtemp(prefix="sasim_variants_")
    work = tempfile.mkdtemp(prefix="sasim_variants_out_")
    env = dict(os.environ, SASIM_VARIANT_CACHE=cache, SASIM_BUILD_SLOTS="1")
    try:
        procs = []
        for i, cmd in enumerate([ARRAY, CORE, ARRAY, CORE]):
            procs.append(subprocess.Popen([args.sasim, *cmd, "--out", os.path.join(work, str(i))],
                                          env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                          text=True))
        outs = [p.communicate() for p in procs]
        for p, (o, e) in zip(procs, outs):
            if p.returncode != 0 or "match" not in o:
                fail("exit %d:\n%s%s" % (p.returncode, o, e))
        err = "".join(e for _, e in outs)
        built = re.findall(r"sasim: built (\w+ \S+) in (\d+) s", err)
        if sorted(b[0] for b in built) != ["array int8_2x3", "core bf16_2x3_s256_a64_b16"]:
            fail("each variant must be built exactly once, got %s:\n%s" % (built, err))
        if err.count("waiting for another process building") != 2:
            fail("the second process of each pair should wait for the first:\n" + err)
        if "waits for a free build slot" not in err:
            fail("with one build slot, one build should wait for the other:\n" + err)
        for cmd in (ARRAY, CORE):
            p = subprocess.run([args.sasim, *cmd, "--out", os.path.join(work, "again")], env=env,
                               capture_output=True, text=True)
            if p.returncode != 0 or "building" in p.stderr or "match" not in p.stdout:
                fail("a cached variant was built again or failed:\n" + p.stdout + p.stderr)
        p = subprocess.run([args.sasim, "variants"], env=env, capture_output=True, text=True)
        if "core bf16 2x3, spad 256 rows" not in p.stdout or "array int8 2x3" not in p.stdout:
            fail("sasim variants does not list the cache:\n" + p.stdout)
        # A corrupt module: a clear error, exit status 2.
        # (the entry's directory, not its .lock file beside it: listdir's order is arbitrary)
        entry = next(d for d in os.listdir(cache) if d.startswith("array_int8_2x3_")
                     and os.path.isdir(os.path.join(cache, d)))
        bad = os.path.join(cache, entry.replace("2x3", "3x2"))
        os.makedirs(bad)
        with open(os.path.join(bad, "sasim_variant.so"), "w") as f:
            f.write("not a module")
        cmd = [args.sasim, "array", "--config", DEFAULT, "--set", "core.rows=3", "--set",
               "core.cols=2", *SMALL, "--out", os.path.join(work, "bad")]
        p = subprocess.run(cmd, env=env, capture_output=True, text=True)
        if p.returncode != 2 or "cannot load " + os.path.join(bad, "sasim_variant.so") not in p.stderr \
                or "to rebuild it" not in p.stderr:
            fail("a corrupt module should be a clear error (exit 2):\n" + p.stderr)
        # --prune removes the entries of other keys, and only those.
        old = os.path.join(cache, "core_int8_9x9_s8192_a1024_b16_0123456789abcdef")
        os.makedirs(old)
        with open(os.path.join(old, "sasim_variant.so"), "wb") as f:
            f.write(b"\0" * 4096)
        p = subprocess.run([args.sasim, "variants", "--prune"], env=env, capture_output=True,
                           text=True)
        if p.returncode != 0 or os.path.exists(old) or "removed " + old not in p.stdout:
            fail("--prune did not remove the stale entry:\n" + p.stdout + p.stderr)
        p = subprocess.run([args.sasim, "variants"], env=env, capture_output=True, text=True)
        if "core bf16 2x3, spad 256 rows" not in p.stdout or "array int8 2x3" not in p.stdout:
            fail("--prune removed current entries:\n" + p.stdout)
        print("built: " + ", ".join("%s in %s s" % b for b in built))
    finally:
        shutil.rmtree(cache, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)
    print("PASS")


if __name__ == "__main__":
    main()
