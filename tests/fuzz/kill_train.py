#!/usr/bin/env python3
"""SIGKILL `sasim train` at random moments and resume it (issue: hardening).

A small training run (784-16-10, checkpoint every step) is first run once
without interruption. Then the same run is started with --resume in another
output folder and killed with SIGKILL at a random moment, again and again,
until it has been killed --kills times (a start that finished before its kill
does not count). After every kill each file of the output folder must be whole:
the checkpoint passes its own checks (magic, version, size, CRC-32), the JSON
reports parse, and no temporary file is left that a later run would trust.
Finally the run is resumed to its end, and its checkpoint must be byte for
byte the uninterrupted run's, its test accuracy the same.

Usage: kill_train.py --sasim build/app/sasim --kills 20 --seed 1
"""
import json
import os
import re
import random
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import zlib

from common import DATA, arguments

CONFIG = """core: {rows: 16, cols: 16, datapath: bf16, spad_rows: 8192, acc_rows: 1024}
train:
  layers: [784, 16, 10]
  lr: 0.1
  momentum: 0.9
  batch: 32
  steps: %d
  train_images: 2048
  test_images: 64
  seed: 3
  check: false
  checkpoint_every: 1
"""


def checkpoint_version():
    """The format version sasim writes (kVersion in host/src/checkpoint.cpp)."""
    src = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "host", "src",
                       "checkpoint.cpp")
    m = re.search(r"constexpr std::uint64_t kVersion = (\d+);", open(src).read())
    if not m:
        raise SystemExit(f"kill_train: no kVersion in {src}")
    return int(m.group(1))


VERSION = checkpoint_version()


def check_checkpoint(path):
    """None when the file is a whole checkpoint, else what is wrong."""
    b = open(path, "rb").read()
    if len(b) < 36 or b[:8] != b"SASIMCKP":
        return f"{len(b)} bytes, no SASIMCKP header"
    if struct.unpack("<Q", b[8:16])[0] != VERSION:
        return f"format version is not {VERSION}"
    if zlib.crc32(b[:-4]) != struct.unpack("<I", b[-4:])[0]:
        return "CRC-32 mismatch"
    return None


def check_folder(d):
    problems = []
    for name in sorted(os.listdir(d)) if os.path.isdir(d) else []:
        p = os.path.join(d, name)
        if name == "checkpoint.bin":
            why = check_checkpoint(p)
            if why:
                problems.append(f"{name}: {why}")
        elif name.endswith(".json"):
            try:
                json.load(open(p))
            except ValueError as e:
                problems.append(f"{name}: not JSON ({e})")
        elif ".tmp." in name:
            pass  # a killed write's temporary: never read; the next run removes it
    return problems


def accuracy(stdout):
    for line in stdout.splitlines():
        if line.strip().startswith("test accuracy"):
            return line.split("%")[0].split()[-1]
    return None


def main():
    args = arguments(__doc__, kills=(int, 20), steps=(int, 40), seed=(int, 1))
    if not os.path.isdir(DATA):
        print("kill_train: skipped: dataset-fashion-mnist is not installed (./sasim installs it)")
        return 77
    rng = random.Random(args.seed)
    work = tempfile.mkdtemp(prefix="sasim_kill_")
    env = dict(os.environ, SYSTEMC_DISABLE_COPYRIGHT_MESSAGE="1")
    try:
        cfg = os.path.join(work, "kill.yaml")
        with open(cfg, "w") as f:
            f.write(CONFIG % args.steps)
        t0 = time.time()
        ref = subprocess.run([args.sasim, "train", cfg, "--out", os.path.join(work, "ref")],
                             capture_output=True, text=True, env=env, timeout=1200)
        if ref.returncode != 0:
            print("the uninterrupted run failed:\n" + ref.stderr[-2000:])
            return 1
        full = time.time() - t0
        ref_ck = open(os.path.join(work, "ref", "kill", "checkpoint.bin"), "rb").read()
        out = os.path.join(work, "killed")
        folder = os.path.join(out, "kill")
        kills, starts, failures, steps_at_kill = 0, 0, [], []
        argv = [args.sasim, "train", cfg, "--out", out, "--resume"]
        while kills < args.kills and starts < 10 * args.kills:
            starts += 1
            p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                 env=env)
            time.sleep(rng.uniform(0.05, full * 0.6))
            if p.poll() is None:
                p.kill()
                kills += 1
            p.wait()
            for problem in check_folder(folder):
                failures.append(f"after start {starts} (killed: {p.returncode < 0}): {problem}")
            ck = os.path.join(folder, "checkpoint.bin")
            if p.returncode < 0 and os.path.exists(ck) and not check_checkpoint(ck):
                steps_at_kill.append(struct.unpack("<Q", open(ck, "rb").read()[16:24])[0])
            if p.returncode not in (0, -9):
                failures.append(f"start {starts} exited {p.returncode}: "
                                f"{p.stderr.read().decode(errors='replace')[-500:]}")
            p.stderr.close()
            if p.returncode == 0:  # finished before its kill: start over
                shutil.rmtree(out)
        last = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=1200)
        if last.returncode != 0:
            failures.append("the final resumed run failed: " + last.stderr[-1000:])
        else:
            got = open(os.path.join(folder, "checkpoint.bin"), "rb").read()
            if got != ref_ck:
                failures.append("the resumed run's final checkpoint differs from the "
                                "uninterrupted run's")
            if accuracy(last.stdout) != accuracy(ref.stdout):
                failures.append(f"test accuracy {accuracy(last.stdout)} % after the kills, "
                                f"{accuracy(ref.stdout)} % uninterrupted")
        # Most kills must land while the run trains (its checkpoint moving on),
        # not all during start-up.
        advancing = sum(1 for a, b in zip([0] + steps_at_kill, steps_at_kill) if b > a)
        if advancing < args.kills // 4:
            failures.append(f"only {advancing} kills after a step was done: checkpoint steps at "
                            f"the kills {steps_at_kill}")
        for f in failures:
            print("FAIL " + f)
        print(f"kill_train: checkpoint step at each kill: {steps_at_kill}")
        print(f"kill_train: {kills} SIGKILLs over {starts} starts, {len(failures)} failures; "
              f"final checkpoint {'identical' if not failures else 'checked'} "
              f"({len(ref_ck)} bytes), {time.time() - t0:.0f} s")
        return 1 if failures or kills < args.kills else 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
