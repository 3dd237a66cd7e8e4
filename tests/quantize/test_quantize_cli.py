#!/usr/bin/env python3
"""Quantized int8 inference end to end on the RTL: `sasim train` with
quantize.after_training trains a few checked steps on the bf16 core, then runs
the int8 inference of its checkpoint on the verilated int8 twin of the core,
every batch compared bit for bit with the golden int8 model; `sasim quantize`
gives the same figures from the same checkpoint again; a missing, damaged or
foreign checkpoint and a bad calibration count are clear errors naming the
key. On the default 16 x 16 core and a 4 x 4 core with small SRAMs (several
accumulator chunks)."""
import argparse
import gzip
import json
import struct
import os
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATA = "/usr/share/datasets/fashion-mnist"

CORES = {
    "16x16": ["--set", "train.layers=[784, 128, 10]"],
    "4x4": ["--set", "core.rows=4", "--set", "core.cols=4", "--set", "core.spad_rows=512",
            "--set", "core.acc_rows=256", "--set", "train.layers=[784, 24, 10]"],
}


def run(cmd, cwd, expect_rc=0):
    p = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=1200)
    if p.returncode != expect_rc:
        sys.exit(f"FAIL: {' '.join(cmd)}: exit {p.returncode}, expected {expect_rc}\n"
                 f"{p.stdout}\n{p.stderr}")
    return p


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sasim", required=True)
    a = ap.parse_args()
    if not os.path.isdir(DATA):
        print(f"SKIP: dataset-fashion-mnist is not installed ({DATA}); ./sasim installs it")
        sys.exit(77)
    sasim = os.path.abspath(a.sasim)
    cfg = os.path.join(ROOT, "configs", "train.yaml")
    tmp = tempfile.mkdtemp(prefix="sasim_quant_")
    try:
        for name, core in CORES.items():
            out = os.path.join(tmp, name)
            base = [sasim, "train", "--config", cfg, "--out", out, "--set", "train.steps=6",
                    "--set", "train.test_images=100", "--set", "quantize.calibration_images=200",
                    *core]
            p = run(base, tmp)
            assert "int8 inference " in p.stdout and "golden int8 model match" in p.stdout, p.stdout
            r = json.load(open(os.path.join(out, "train", "train_report.json")))
            q = r["int8_inference"]
            assert q["checked_against_golden"] is True and q["engine"] == "rtl", q
            assert q["core"].startswith("int8 "), q["core"]
            assert q["test_images"] == 100 and q["calibration_images"] == 200, q
            assert q["checkpoint_step"] == 6, q
            # The device's and the golden int8 model's predictions are the same.
            assert q["golden_int8_test_accuracy"] == q["int8_test_accuracy"], q
            # Six steps already beat chance by far; int8 stays near the bf16 device.
            assert 0.3 < q["int8_test_accuracy"] <= 1, q
            assert abs(q["int8_test_accuracy"] - r["device_test_accuracy"]) <= 0.1, (q, r)
            assert q["cycles"] > 0 and 0 < q["utilization"] <= 1, q
            assert len(q["layers"]) == 2 and 0 <= q["layers"][0]["shift"] <= 31, q["layers"]
            # sasim quantize on the same checkpoint (the default path): the same figures.
            p = run([sasim, "quantize", "--config", cfg, "--out", out, "--set", "train.steps=6",
                     "--set", "train.test_images=100", "--set",
                     "quantize.calibration_images=200", *core], tmp)
            assert "golden model     match (bit-exact) for every batch" in p.stdout, p.stdout
            q2 = json.load(open(os.path.join(out, "train", "quantize_report.json")))
            for k in ("int8_test_accuracy", "cycles", "layers", "fp32_test_accuracy"):
                assert q2[k] == q[k], (k, q2[k], q[k])
            print(f"{name}: int8 {q['int8_test_accuracy']:.2%}, bf16 device "
                  f"{r['device_test_accuracy']:.2%}, fp32 {q['fp32_test_accuracy']:.2%}, "
                  f"shift {q['layers'][0]['shift']}, {q['cycles']} cycles")

        # Errors name the key (and the file).
        out = os.path.join(tmp, "16x16")
        ck = os.path.join(out, "train", "checkpoint.bin")
        common = [sasim, "quantize", "--config", cfg, "--out", out, "--set", "train.steps=6",
                  *CORES["16x16"]]
        p = run(common + ["--checkpoint", os.path.join(tmp, "nope.bin")], tmp, 2)
        assert "quantize.checkpoint" in p.stderr and "nope.bin" in p.stderr, p.stderr
        p = run(common + ["--set", "train.lr=0.2"], tmp, 2)  # another run's checkpoint
        assert "quantize.checkpoint" in p.stderr and "lr" in p.stderr, p.stderr
        p = run(common + ["--set", "quantize.calibration_images=0"], tmp, 2)
        assert "quantize.calibration_images: 0 is out of range (allowed 1..60000)" in p.stderr, \
            p.stderr
        bad = os.path.join(tmp, "damaged.bin")
        data = bytearray(open(ck, "rb").read())
        data[len(data) // 2] ^= 0xFF
        open(bad, "wb").write(bytes(data))
        p = run(common + ["--checkpoint", bad], tmp, 2)
        assert "quantize.checkpoint" in p.stderr and "damaged.bin" in p.stderr, p.stderr
        # A failed int8 inference keeps the training's report and checkpoint
        # and fails the command (exit 3): a data folder with 40 training
        # images and 50 calibration images asked.
        data = os.path.join(tmp, "few")
        os.makedirs(data)
        for name, magic, dims in (("train-images-idx3-ubyte.gz", 0x803, (40, 28, 28)),
                                  ("train-labels-idx1-ubyte.gz", 0x801, (40,)),
                                  ("t10k-images-idx3-ubyte.gz", 0x803, (8, 28, 28)),
                                  ("t10k-labels-idx1-ubyte.gz", 0x801, (8,))):
            n = 1
            for d in dims:
                n *= d
            with gzip.open(os.path.join(data, name), "wb") as f:
                f.write(struct.pack(">I", magic) + b"".join(struct.pack(">I", d) for d in dims) +
                        bytes(i % 7 for i in range(n)))
        out = os.path.join(tmp, "few_out")
        p = run([sasim, "train", "--config", cfg, "--out", out, "--set", f"train.data_dir={data}",
                 "--set", "train.train_images=40", "--set", "train.batch=8", "--set",
                 "train.steps=2", "--set", "train.test_images=8", "--set",
                 "quantize.calibration_images=50"], tmp, 3)
        assert "int8 inference   FAILED" in p.stdout, p.stdout
        r = json.load(open(os.path.join(out, "train", "train_report.json")))
        assert r["checked_against_golden"] is True and len(r["losses"]) == 2, r
        log = r["int8_inference"]["log"]
        assert "quantize.calibration_images: 50 images asked" in open(log).read(), log
        assert os.path.exists(os.path.join(out, "train", "checkpoint.bin"))
        print("PASS")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
