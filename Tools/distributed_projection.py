#!/usr/bin/env python3
"""Projects data-parallel scaling from a measured compute time per step and the ring
allreduce cost 2 (N - 1) / N x bytes / bandwidth (bandwidth term only: latency, overlap of
communication with the backward pass and stragglers are left out).

Usage: Tools/distributed_projection.py COMPUTE_SECONDS_PER_STEP GRADIENT_BYTES IMAGES_PER_STEP
prints a Markdown table for 4, 16 and 64 machines on 10 and 25 Gbit/s links; every machine
keeps its own batch (weak scaling), so N machines take N times the images per step.
"""
import sys


def main():
    compute, size, images = float(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
    print("| machines | link | allreduce per step | step | images/s | efficiency |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: |")
    for machines in (4, 16, 64):
        for gbits in (10, 25):
            allreduce = 2 * (machines - 1) / machines * size * 8 / (gbits * 1e9)
            step = compute + allreduce
            print(
                f"| {machines} | {gbits} Gbit/s | {1000 * allreduce:.2f} ms | {1000 * step:.1f} ms "
                f"| {machines * images / step:,.0f} | {100 * compute / step:.1f}% |"
            )


if __name__ == "__main__":
    main()
