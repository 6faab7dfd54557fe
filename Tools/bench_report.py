#!/usr/bin/env python3
"""Prints the benchmark table from the JSON files Tools/bench collects: per workload the median
over passes of zoo, PyTorch and onnxruntime, the ratios zoo / reference (above 1 means zoo is
faster, also for W4 where the figure is seconds), zoo's GFLOP/s and its share of zoo's sgemm
rate; then the peak resident memory of each side for W2 and W3."""
import json
import pathlib
import platform
import statistics
import sys

# key, label, whether the figure is a time (lower is better)
WORKLOADS = [
    ("sgemm", "sgemm 2048^3 (GFLOP/s)", False),
    ("w1_train", "W1 LeNet-5 training, b64 (images/s)", False),
    ("w1_infer", "W1 LeNet-5 inference, b256 (images/s)", False),
    ("w2", "W2 resnet18 inference, 224, b8 (images/s)", False),
    ("w3", "W3 resnet18 training, 64, b32 (images/s)", False),
    ("w4", "W4 resnet18 head fine-tune, 5 epochs (s)", True),
    ("w5", "W5 U-Net fwd+bwd, 128, b4 (iterations/s)", False),
    ("w6_vgg11", "W6 vgg11 inference, 224, b4 (images/s)", False),
    ("w6_alexnet", "W6 alexnet inference, 224, b4 (images/s)", False),
    ("w7_mobilenet_v2", "W7 mobilenet_v2 inference, 224, b8 (images/s)", False),
    ("w7_efficientnet_b0", "W7 efficientnet_b0 inference, 224, b8 (images/s)", False),
    ("w7_densenet121", "W7 densenet121 inference, 224, b8 (images/s)", False),
    ("w8", "W8 mobilenet_v2 training, 64, b32 (images/s)", False),
    ("r20", "resnet20 training, 28, b64 (images/s)", False),
    ("dw_s1", "depthwise 3x3/1 inference, 144x56x56, b8 (GB/s)", False),
    ("dw_s1_train", "depthwise 3x3/1 fwd+bwd, 144x56x56, b8 (GB/s)", False),
    ("dw_s2", "depthwise 3x3/2 inference, 144x56x56, b8 (GB/s)", False),
    ("dw_s2_train", "depthwise 3x3/2 fwd+bwd, 144x56x56, b8 (GB/s)", False),
]


def load(folder, pattern):
    return [json.loads(p.read_text()) for p in sorted(pathlib.Path(folder).glob(pattern))]


def median(runs, key):
    values = [r[key] for r in runs if key in r]
    return statistics.median(values) if values else None


def cell(value, digits=1):
    return "" if value is None else f"{value:,.{digits}f}"


def ratio(ours, theirs, lower_is_better):
    if ours is None or theirs is None:
        return ""
    return f"{(theirs / ours if lower_is_better else ours / theirs):.2f}x"


def main():
    folder = sys.argv[1]
    zoo, torch = load(folder, "zoo-*.json"), load(folder, "torch-*.json")
    print(f"machine: {platform.processor() or platform.machine()}, passes: {len(zoo)}, "
          f"torch {torch[0].get('torch_version', '?')}, threads 2, "
          f"OpenBLAS kernels {zoo[0].get('blas_kernels', '?')}")
    sgemm = median(zoo, "sgemm")
    print("| workload | zoo | PyTorch | zoo/PyTorch | onnxruntime | zoo/onnxruntime | zoo GFLOP/s | of sgemm |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for key, label, lower in WORKLOADS:
        ours = median(zoo, key)
        if ours is None:
            continue
        theirs, onnx = median(torch, key), median(torch, key + "_onnx")
        gflops = median(zoo, key + "_gflops")
        share = f"{100 * gflops / sgemm:.0f}%" if gflops and sgemm and key != "sgemm" else ""
        print(f"| {label} | {cell(ours)} | {cell(theirs)} | {ratio(ours, theirs, lower)} | "
              f"{cell(onnx)} | {ratio(ours, onnx, lower)} | {cell(gflops)} | {share} |")
    memory = [(w, load(folder, f"memory-zoo-{w}.json"), load(folder, f"memory-torch-{w}.json"))
              for w in ("w2", "w3")]
    if any(z and t for _, z, t in memory):
        print()
        print("| peak resident memory (MiB) | zoo | PyTorch | zoo/PyTorch |")
        print("| --- | ---: | ---: | ---: |")
        for workload, z, t in memory:
            if z and t:
                ours, theirs = z[0]["peak_rss_mib"], t[0]["peak_rss_mib"]
                print(f"| {workload.upper()} | {ours:,.0f} | {theirs:,.0f} | {ours / theirs:.2f} |")


if __name__ == "__main__":
    main()
