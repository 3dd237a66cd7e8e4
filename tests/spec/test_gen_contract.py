#!/usr/bin/env python3
"""spec/gen_contract.py refuses micro-architecture sizes the RTL and TimedCore
cannot take, naming the entry and the allowed range, and accepts the contract
as committed and the edges of each range.

  python3 tests/spec/test_gen_contract.py
"""
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GEN = os.path.join(ROOT, "spec", "gen_contract.py")
CONTRACT = os.path.join(ROOT, "spec", "contract.json")


def run(contract, tmp):
    path = os.path.join(tmp, "contract.json")
    with open(path, "w") as f:
        json.dump(contract, f)
    r = subprocess.run([sys.executable, GEN, "--contract", path, "--out", os.path.join(tmp, "out")],
                       capture_output=True, text=True)
    return r.returncode, r.stdout + r.stderr


def with_value(base, name, value):
    c = json.loads(json.dumps(base))
    for m in c["microarch"]:
        if m["name"] == name:
            m["value"] = value
            return c
    raise KeyError(name)


def main():
    with open(CONTRACT) as f:
        base = json.load(f)
    failures = []
    refused = [
        ("fetch_buf_depth", 3, "microarch.fetch_buf_depth: 3 is out of range (allowed at least 4"),
        ("max_burst_beats", 257, "microarch.max_burst_beats: 257 is out of range (allowed 1..256"),
        ("exec_gemm_table", 4, "microarch.exec_gemm_table: 4 is out of range (allowed at least 6"),
        ("exec_gemm_table", 12, "microarch.exec_gemm_table: 12 is not a power of two"),
        ("insn_queue_depth", 0, "microarch.insn_queue_depth: value 0 is not a positive integer"),
        ("insn_queue_depth", True, "microarch.insn_queue_depth: value True is not a positive integer"),
        ("load_rx_depth", 2.5, "microarch.load_rx_depth: value 2.5 is not a positive integer"),
    ]
    accepted = [("fetch_buf_depth", 4), ("max_burst_beats", 256), ("exec_cpl_depth", 32),
                ("exec_gemm_table", 64)]
    with tempfile.TemporaryDirectory() as tmp:
        rc, out = run(base, tmp)
        if rc != 0:
            failures.append(f"the committed contract is refused: {out}")
        for name, value, message in refused:
            rc, out = run(with_value(base, name, value), tmp)
            if rc == 0 or message not in out or "contract.json" not in out:
                failures.append(f"{name} = {value}: expected a refusal with '{message}', got rc {rc}: "
                                f"{out.strip()}")
        # exec_gemm_table's floor follows exec_tag_depth.
        c = with_value(with_value(base, "exec_tag_depth", 7), "exec_gemm_table", 8)
        rc, out = run(c, tmp)
        if rc == 0 or "exec_gemm_table: 8 is out of range (allowed at least 9" not in out:
            failures.append(f"tag depth 7, table 8: expected a refusal, got rc {rc}: {out.strip()}")
        for name, value in accepted:
            rc, out = run(with_value(base, name, value), tmp)
            if rc != 0:
                failures.append(f"{name} = {value}: refused: {out.strip()}")
        c = json.loads(json.dumps(base))
        c["microarch"] = [m for m in c["microarch"] if m["name"] != "r_slice_depth"]
        rc, out = run(c, tmp)
        if rc == 0 or "microarch: no entry r_slice_depth" not in out:
            failures.append(f"a missing entry: expected a refusal, got rc {rc}: {out.strip()}")
    if failures:
        print("FAILED:\n  " + "\n  ".join(failures))
        return 1
    print(f"{len(refused) + 2} contracts refused as expected, {len(accepted) + 1} accepted")
    return 0


if __name__ == "__main__":
    sys.exit(main())
