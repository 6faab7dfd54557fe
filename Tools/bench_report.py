#!/usr/bin/env python3
"""Prints the benchmark table from the JSON files Tools/bench collects: per workload the median
over passes of zoo and of PyTorch, and their ratio (above 1 means zoo is faster)."""
import json
import pathlib
import platform
import statistics
import sys

WORKLOADS = [
    ("sgemm_gflops", "sgemm 2048^3 (GFLOP/s)"),
    ("lenet_train_images_per_s", "LeNet-5 training, batch 64 (images/s)"),
    ("lenet_infer_images_per_s", "LeNet-5 inference, batch 256 (images/s)"),
]


def load(folder, side):
    return [json.loads(p.read_text()) for p in sorted(pathlib.Path(folder).glob(f"{side}-*.json"))]


def main():
    folder = sys.argv[1]
    zoo, torch = load(folder, "zoo"), load(folder, "torch")
    print(f"machine: {platform.processor() or platform.machine()}, passes: {len(zoo)}, "
          f"torch {torch[0].get('torch_version', '?')}, threads 2")
    print(f"| {'workload':42} | {'zoo':>10} | {'PyTorch':>10} | {'zoo/PyTorch':>11} |")
    print(f"|{'-' * 44}|{'-' * 12}|{'-' * 12}|{'-' * 13}|")
    for key, label in WORKLOADS:
        ours = statistics.median(r[key] for r in zoo)
        theirs = statistics.median(r[key] for r in torch)
        print(f"| {label:42} | {ours:10.1f} | {theirs:10.1f} | {ours / theirs:10.2f}x |")


if __name__ == "__main__":
    main()
