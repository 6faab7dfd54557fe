#!/usr/bin/env python3
"""Checks the raw maps `zoo explain --raw h5` writes, with h5py; exits 1 on any problem.

Every dataset must sit at STEM/METHOD/CLASS, hold float32 values of shape (H, W), all finite,
and carry the attributes image, method, class, class_index, layer and model (strings, an
integer for class_index), with `method` equal to the dataset's METHOD part; Integrated
Gradients' maps also carry convergence_delta. Prints one line per map.

Usage: python3 Tools/check_explain_h5.py maps.h5 [--expect N]
"""

import argparse
import sys

import h5py
import numpy as np

TEXT = ["image", "method", "class", "layer", "model"]


def check(path, expect):
    problems = []
    maps = []
    with h5py.File(path, "r") as f:
        f.visititems(lambda name, obj: maps.append((name, obj)) if isinstance(obj, h5py.Dataset) else None)
        for name, dataset in maps:
            parts = name.split("/")
            values = dataset[()]
            attrs = dataset.attrs
            if len(parts) != 3:
                problems.append(f"{name}: not at STEM/METHOD/CLASS")
            if dataset.dtype != np.float32 or values.ndim != 2:
                problems.append(f"{name}: {dataset.dtype} {values.shape}, not float32 (H, W)")
            if not np.all(np.isfinite(values)):
                problems.append(f"{name}: values that are not finite")
            for key in TEXT + ["class_index"]:
                if key not in attrs:
                    problems.append(f"{name}: no attribute {key}")
            if "method" in attrs and len(parts) == 3 and attrs["method"] != parts[1]:
                problems.append(f"{name}: method attribute {attrs['method']!r}")
            if parts[1:2] == ["integrated-gradients"] and "convergence_delta" not in attrs:
                problems.append(f"{name}: no convergence_delta")
            summary = ", ".join(f"{k}={attrs[k]}" for k in TEXT + ["class_index"] if k in attrs)
            print(f"{name} {values.shape} [{values.min():.3g}, {values.max():.3g}] {summary}")
    if expect is not None and len(maps) != expect:
        problems.append(f"{len(maps)} maps, expected {expect}")
    return problems


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("file")
    parser.add_argument("--expect", type=int, help="the number of maps the file must hold")
    args = parser.parse_args()
    problems = check(args.file, args.expect)
    for problem in problems:
        print(f"problem: {problem}", file=sys.stderr)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
