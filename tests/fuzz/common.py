"""What the end-to-end hardening scripts (fuzz_cli.py, kill_train.py) share."""
import argparse
import os

# Where Debian's dataset-fashion-mnist installs the data set (./sasim installs it).
DATA = "/usr/share/datasets/fashion-mnist"


def arguments(doc, **options):
    """The command line of a script: --sasim (made absolute: the runs happen in
    their own folders) and its own options, given as name=(type, default)."""
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("--sasim", required=True)
    for name, (kind, default) in options.items():
        ap.add_argument("--" + name, type=kind, default=default)
    args = ap.parse_args()
    args.sasim = os.path.abspath(args.sasim)
    return args
