#!/usr/bin/env python3
"""Config and command-line fuzzing of the sasim executable (issue: hardening).

Each case is one run of `sasim <command>` on a mutant of a small, valid base
configuration (or a misuse of the command line), in a fresh output folder, with
a time limit. A case passes when sasim
  - ends by itself within the limit (no hang) and not by a signal;
  - on input that is bad by construction (a wrong type, a value outside every
    documented range, an unknown key, two YAML documents, a leading zero, a
    missing / folder / device config path, an unknown option, an extra
    argument, an unwritable output folder, a damaged checkpoint or data
    file): exits with
    status 1 or 2 and a message on stderr that names the file or the key;
  - on input that may be legal (a key deleted, an in-range value changed):
    either does the above, or exits 0 having done its work (the golden-model
    line of the command and a statistics file that parses as JSON). A legal
    core that this build does not link runs on the model engine and an array
    case keeps its linked shape: building variants on demand takes minutes and
    is the variants_on_demand test's.

Usage: fuzz_cli.py --sasim build/app/sasim --cases 300 --seed 1 [--work DIR]
Prints one line per failing case and a summary; exit status 1 on any failure.
Every case is reproducible from (seed, case number).
"""
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

from common import DATA, arguments

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(os.path.dirname(HERE))

# Small, valid base configurations, one per command (a run takes well under a
# second, training a few seconds). Nested dicts; scalars are emitted as YAML.
BASE = {
    "run": {
        "core": {"rows": 16, "cols": 16, "datapath": "int8", "dataflow": "ws",
                 "spad_rows": 8192, "acc_rows": 1024, "bus_bytes": 16, "clock_mhz": 1000,
                 "count": 1},
        "gemm": {"m": 24, "k": 20, "n": 18, "seed": 3, "operands": "uniform", "split": "m"},
        "run": {"watchdog_cycles": 100000},
        "interconnect": {"clock_mhz": 1000, "width_bytes": 32, "latency_cycles": 2,
                         "arbitration": "round_robin"},
        "l2": {"size_bytes": 65536, "line_bytes": 64, "ways": 4, "hit_latency_cycles": 10,
               "mshrs": 8, "replacement": "lru", "write_policy": "wb_wa", "bypass": False},
        "memory": {"model": "dram", "size": 67108864,
                   "dram": {"tCL": 22, "tRCD": 22, "tRP": 22, "page_policy": "open"},
                   "fixed": {"latency_ns": 50, "bandwidth_gbps": 25.6}},
    },
    "array": {
        "core": {"rows": 16, "cols": 16, "datapath": "int8", "dataflow": "os"},
        "gemm": {"m": 20, "k": 17, "n": 19, "seed": 5, "operands": "edge"},
    },
    "mem": {
        "interconnect": {"clock_mhz": 1000, "width_bytes": 32, "latency_cycles": 2},
        "l2": {"size_bytes": 65536, "line_bytes": 64, "ways": 4},
        "memory": {"model": "dram", "size": 67108864},
        "traffic": {"pattern": "random", "requests": 200, "request_bytes": 64,
                    "write_fraction": 0.3, "outstanding": 8, "footprint_bytes": 65536,
                    "seed": 2},
    },
    "train": {
        "core": {"rows": 16, "cols": 16, "datapath": "bf16", "spad_rows": 8192,
                 "acc_rows": 1024, "count": 1},
        "train": {"layers": [784, 8, 10], "lr": 0.1, "momentum": 0.5, "batch": 32,
                  "steps": 1, "train_images": 64, "test_images": 32, "seed": 1,
                  "check": True, "checkpoint_every": 1, "parallel": "data",
                  "grad_reduce": "fused"},
        "quantize": {"after_training": True, "calibration_images": 50},
    },
}

# What a successful run prints (the golden-model check of each command).
SUCCESS = {"run": "golden model     match", "array": "golden model     match", "mem": "bandwidth",
           "train": "test accuracy"}
STATS = {"run": "stats.json", "array": "array_stats.json", "mem": "mem_stats.json",
         "train": "train_report.json"}

# Values that no key of sasim accepts in place of a number, a name or a flag.
WRONG_TYPES = [[1, 2], {"a": 1}, [], {}, "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]"]
# Numbers outside every documented range of the key's kind.
OUT_OF_RANGE_INT = [-1, 10 ** 30, "1e308", "-0.5e400", 2 ** 64, -(2 ** 63)]
OUT_OF_RANGE_REAL = ["1e308", "-1e308", ".nan", ".inf", "-.inf", "1e-300"]


def emit(v, indent=0):
    """YAML text of v (block mappings, flow lists, plain or quoted scalars)."""
    pad = "  " * indent
    if isinstance(v, dict):
        if not v:
            return "{}"
        out = []
        for k, x in v.items():
            if isinstance(x, dict) and x:
                out.append(f"{pad}{k}:\n{emit(x, indent + 1)}")
            else:
                out.append(f"{pad}{k}: {scalar(x)}")
        return "\n".join(out)
    return pad + scalar(v)


def scalar(x):
    if isinstance(x, bool):
        return "true" if x else "false"
    if isinstance(x, (int, float)):
        return repr(x)
    if isinstance(x, list):
        return "[" + ", ".join(scalar(e) for e in x) + "]"
    if isinstance(x, dict):
        return "{" + ", ".join(f"{k}: {scalar(e)}" for k, e in x.items()) + "}"
    return str(x)


def leaves(d, path=()):
    """(path, value) of every scalar or list leaf of a nested dict."""
    for k, v in d.items():
        if isinstance(v, dict):
            yield from leaves(v, path + (k,))
        else:
            yield path + (k,), v


def set_path(d, path, value):
    for k in path[:-1]:
        d = d.setdefault(k, {})
    d[path[-1]] = value


def del_path(d, path):
    for k in path[:-1]:
        d = d[k]
    del d[path[-1]]


class Case:
    def __init__(self, cmd, kind, what, text=None, args=None, path=None, key=None, names=None):
        self.cmd, self.kind, self.what = cmd, kind, what  # kind: "bad" | "maybe"
        self.text, self.args, self.path, self.key = text, args or [], path, key
        # What an error message must name (one of): by default the config file
        # or the key; set for command-line and path cases.
        self.names = names


# The cores and arrays this build links in (`sasim variants`, read in main()).
# A legal case whose core is not among them would spend minutes building it
# on demand (variants_on_demand tests that), so run and train cases take the
# model engine then, and an array case keeps its linked shape.
LINKED = {"cores": set(), "arrays": set()}
# The core's defaults (a deleted key) from the device contract.
CORE_DEFAULTS = {p["name"]: p["default"]
                 for p in json.load(open(os.path.join(SOURCE, "spec", "contract.json")))["core_params"]
                 if p["name"] in ("datapath", "rows", "cols", "spad_rows", "acc_rows", "bus_bytes")}


def read_linked(sasim):
    out = subprocess.run([sasim, "variants"], capture_output=True, text=True,
                         timeout=120).stdout
    section = None
    for line in out.splitlines():
        if line.startswith("cores linked"):
            section = LINKED["cores"]
        elif line.startswith("arrays linked"):
            section = LINKED["arrays"]
        elif not line.startswith("  "):
            section = None
        elif section is not None:
            section.add(line.strip())


def variant_names(cfg):
    c = dict(CORE_DEFAULTS)
    c.update({k: v for k, v in cfg.get("core", {}).items() if k in CORE_DEFAULTS})
    shape = f"{c['datapath']} {c['rows']}x{c['cols']}"
    core = f"{shape}, spad {c['spad_rows']} rows, acc {c['acc_rows']} rows, {c['bus_bytes']}-byte bus"
    return core, shape


def legal_case(cmd, what, cfg, key, base):
    """A possibly legal case; its core kept off the on-demand builds."""
    core, shape = variant_names(cfg)
    if cmd == "array" and shape not in LINKED["arrays"]:
        return Case(cmd, "maybe", f"{what} (kept: array {shape} is not linked)", emit(base),
                    key=key)
    twin = core.replace("bf16", "int8", 1)  # the int8 inference after training
    if cmd in ("run", "train") and not {core, twin} <= LINKED["cores"]:
        return Case(cmd, "maybe", f"{what} (model engine: core {core} is not linked)", emit(cfg),
                    args=["--set", "run.engine=model"], key=key)
    return Case(cmd, "maybe", what, emit(cfg), key=key)


def make_case(rng, n):
    cmds = ["run", "run", "array", "mem", "mem"]
    if os.path.isdir(DATA):  # the train cases need the data set (./sasim installs it)
        cmds.append("train")
    cmd = rng.choice(cmds)
    cfg = json.loads(json.dumps(BASE[cmd]))  # deep copy
    if cmd == "train" and rng.random() < 0.4:  # the Adam keys instead of SGD's momentum
        del cfg["train"]["momentum"]
        cfg["train"].update({"optimizer": rng.choice(["adam", "adamw"]), "beta1": 0.9,
                             "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.01})
    paths = [p for p, _ in leaves(cfg)]
    path = rng.choice(paths)
    key = ".".join(path)
    value = dict(leaves(cfg))[path]
    r = rng.randrange(100)
    if r < 18:
        bad = rng.choice(WRONG_TYPES)
        if isinstance(value, list) and isinstance(bad, list):
            bad = {"a": 1}
        set_path(cfg, path, bad)
        return Case(cmd, "bad", f"{key}: wrong type {scalar(bad)[:30]}", emit(cfg), key=key)
    if r < 32 and isinstance(value, (int, float)) and not isinstance(value, bool):
        pool = OUT_OF_RANGE_INT if isinstance(value, int) else OUT_OF_RANGE_REAL
        v = rng.choice(pool)
        if v == "1e-300" and key.endswith(("write_fraction", "momentum", "latency_ns", ".lr",
                                           "beta1", "beta2", "weight_decay")):
            v = "-1e-300"  # 1e-300 is legal for these (0 is)
        if rng.random() < 0.3:  # the same value through --set: the same checks
            return Case(cmd, "bad", f"--set {key}={v}", emit(cfg), args=["--set", f"{key}={v}"],
                        key=key)
        set_path(cfg, path, v)
        return Case(cmd, "bad", f"{key}: {v}", emit(cfg), key=key)
    if r < 38 and isinstance(value, str):
        v = rng.choice(["nope", "x" * 100000, "", "LRU ", "\"\\u0000\""])
        set_path(cfg, path, v if v else '""')
        if key in ("train.data_dir", "run.wave_file", "run.out_dir", "memory.dram.address_mapping"):
            return Case(cmd, "maybe", f"{key}: string {v[:20]!r}", emit(cfg), key=key)
        return Case(cmd, "bad", f"{key}: string {v[:20]!r}", emit(cfg), key=key)
    if r < 44:
        parent = path[:-1]
        set_path(cfg, parent + ("no_such_key",), 1)
        return Case(cmd, "bad", f"unknown key under {'.'.join(parent) or 'top'}", emit(cfg),
                    key="no_such_key")
    if r < 48:
        text = emit(cfg)
        line = f"{path[0]}:"
        return Case(cmd, "bad", f"duplicate section {path[0]}",
                    text + "\n" + line + " {}\n", key=path[0])
    if r < 52:
        return Case(cmd, "bad", "two YAML documents", emit(cfg) + "\n---\n" + emit(cfg))
    if r < 56 and isinstance(value, int) and not isinstance(value, bool) and value > 0:
        text = emit(cfg).replace(f"{path[-1]}: {value}", f"{path[-1]}: 0{value}", 1)
        return Case(cmd, "bad", f"{key}: leading zero 0{value}", text, key=key)
    if r < 60:
        garbage = "".join(chr(rng.randrange(1, 256)) for _ in range(rng.randrange(1, 200)))
        text = emit(cfg)
        at = rng.randrange(len(text) + 1)
        return Case(cmd, "maybe", "garbage inserted", text[:at] + garbage + text[at:])
    if r < 63:
        depth = rng.choice([50, 500, 5000])
        set_path(cfg, path, "[" * depth + "]" * depth)
        return Case(cmd, "bad", f"{key}: nested {depth} deep", emit(cfg), key=key)
    if r < 66:
        which = rng.choice(["missing", "folder", "device", "fifo-like"])
        p = {"missing": "/nonexistent/sasim.yaml", "folder": "/tmp",
             "device": "/dev/zero", "fifo-like": "/dev/null"}[which]
        return Case(cmd, "bad", f"config path {which}", path=p, names=[p])
    if r < 70:
        extra = rng.choice([["--no-such-option"], ["extra.yaml", "more.yaml"], ["-x"],
                            ["--out"], ["--config"]])
        return Case(cmd, "bad", f"arguments {extra}", emit(cfg), args=extra,
                    names=[f"sasim {cmd}"])
    if r < 73:
        out = rng.choice(["/proc/sasim_out", "/dev/null/out"])
        return Case(cmd, "bad", "unwritable output folder", emit(cfg), args=["--out", out],
                    names=[out])
    if r < 76 and cmd == "train":
        return Case(cmd, "bad", "damaged checkpoint", emit(cfg), key="train.resume",
                    args=["@damaged"])
    if r < 79 and cmd == "train":
        return Case(cmd, "bad", "damaged data set", emit(cfg), key="train.data_dir",
                    args=["@data"], names=["-ubyte.gz"])
    # Deleting these would turn the tiny run into a long one (their defaults
    # are a whole epoch and the whole test split).
    heavy = key in ("train.train_images", "train.steps", "train.test_images")
    base = json.loads(json.dumps(cfg))
    if r < 88 and not heavy:
        del_path(cfg, path)
        return legal_case(cmd, f"{key} deleted", cfg, key, base)
    # An in-range change: halve or double a number, flip a flag.
    if isinstance(value, bool):
        set_path(cfg, path, not value)
    elif isinstance(value, int):
        set_path(cfg, path, max(1, value // 2) if rng.random() < 0.5 else value * 2)
    elif isinstance(value, float):
        set_path(cfg, path, value / 2)
    return legal_case(cmd, f"{key} changed", cfg, key, base)


def run_case(args, case, n, work):
    d = os.path.join(work, f"case{n}")
    os.makedirs(d)
    cfg_name = f"fuzz{n}.yaml"
    cfg_path = case.path or os.path.join(d, cfg_name)
    if case.text is not None and case.path is None:
        with open(cfg_path, "w", encoding="utf-8", errors="surrogateescape") as f:
            f.write(case.text)
    extra = list(case.args)
    if extra == ["@damaged"]:
        ck = os.path.join(d, "damaged.bin")
        with open(ck, "wb") as f:
            f.write(b"SASIMCKP" + bytes(rng_bytes(n)))
        text = open(cfg_path, encoding="utf-8").read().replace(
            "train:\n", f"train:\n  resume: {ck}\n", 1)
        with open(cfg_path, "w", encoding="utf-8") as f:
            f.write(text)
        extra = []
    if extra == ["@data"]:
        # The four files of the data set, one of them damaged (truncated, bit
        # flips, not gzip, or empty), the others as installed.
        data = os.path.join(d, "data")
        os.makedirs(data)
        r = random.Random(n)
        names = ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                 "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]
        bad = r.choice(names)
        for name in names:
            src = os.path.join(DATA, name)
            if name != bad:
                os.symlink(src, os.path.join(data, name))
                continue
            b = bytearray(open(src, "rb").read())
            how = r.choice(["truncate", "flip", "plain", "empty"])
            if how == "truncate":
                b = b[:r.randrange(len(b))]
            elif how == "flip":
                for _ in range(8):
                    b[r.randrange(len(b))] ^= 1 << r.randrange(8)
            elif how == "plain":
                b = bytearray(b"\x00\x00\x08\x03" + bytes(64))
            else:
                b = bytearray()
            open(os.path.join(data, name), "wb").write(b)
        text = open(cfg_path, encoding="utf-8").read().replace(
            "train:\n", f"train:\n  data_dir: {data}\n", 1)
        with open(cfg_path, "w", encoding="utf-8") as f:
            f.write(text)
        extra = []
    out = os.path.join(d, "out")
    argv = [args.sasim, case.cmd, "--config", cfg_path]
    if not any(a == "--out" for a in extra):
        argv += ["--out", out]
    argv += extra
    t0 = time.time()
    try:
        p = subprocess.run(argv, cwd=d, capture_output=True, timeout=args.timeout,
                           env=dict(os.environ, SYSTEMC_DISABLE_COPYRIGHT_MESSAGE="1"))
    except subprocess.TimeoutExpired:
        return f"hang (no exit within {args.timeout} s)"
    dt = time.time() - t0
    err = p.stderr.decode(errors="replace")
    so = p.stdout.decode(errors="replace")
    if p.returncode < 0:
        return f"killed by signal {-p.returncode}: {err[-300:]}"
    if p.returncode == 0:
        if case.kind == "bad":
            return "exit 0 on bad input (silent acceptance)"
        if SUCCESS[case.cmd] not in so:
            return f"exit 0 without the success line '{SUCCESS[case.cmd]}': {so[-300:]}"
        stats = os.path.join(out, os.path.splitext(cfg_name)[0], STATS[case.cmd])
        try:
            json.load(open(stats))
        except (OSError, ValueError) as e:
            return f"exit 0 but {stats} is not a JSON file: {e}"
        return None
    if p.returncode not in (1, 2):
        return f"exit status {p.returncode}: {err[-300:]}"
    named = case.names or [cfg_name] + ([case.key.split(".")[-1]] if case.key else [])
    if not any(x and x in err for x in named):
        return f"exit {p.returncode}, message names neither file nor key: {err[-300:]!r}"
    if len(err) > 4000:
        return f"message of {len(err)} characters (a value echoed whole?)"
    return None


def rng_bytes(n):
    r = random.Random(n)
    return [r.randrange(256) for _ in range(r.randrange(0, 5000))]


def main():
    args = arguments(__doc__, cases=(int, 300), seed=(int, 1), timeout=(float, 120),
                     work=(str, None))
    work = args.work or tempfile.mkdtemp(prefix="sasim_fuzz_")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    read_linked(args.sasim)
    if not LINKED["cores"] or not LINKED["arrays"]:
        sys.exit(f"fuzz_cli: `{args.sasim} variants` lists no linked cores or arrays")
    rng = random.Random(args.seed)
    failures, kinds = [], {"bad": 0, "maybe": 0}
    t0 = time.time()
    for n in range(args.cases):
        case = make_case(rng, n)
        kinds[case.kind] += 1
        why = run_case(args, case, n, work)
        if why:
            failures.append(n)
            print(f"FAIL case {n} (seed {args.seed}) sasim {case.cmd}, {case.what}: {why}",
                  flush=True)
        shutil.rmtree(os.path.join(work, f"case{n}"), ignore_errors=True)
        if (n + 1) % 50 == 0:
            print(f"{n + 1}/{args.cases} cases, {len(failures)} failures, "
                  f"{time.time() - t0:.0f} s", flush=True)
    if not args.work:
        shutil.rmtree(work, ignore_errors=True)
    print(f"fuzz_cli: {args.cases} cases (seed {args.seed}: {kinds['bad']} bad by construction, "
          f"{kinds['maybe']} possibly legal), {len(failures)} failures, 0 signals allowed, "
          f"{time.time() - t0:.0f} s")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
