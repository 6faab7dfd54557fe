#!/usr/bin/env python3
"""The anomaly AUROC a reconstruction that learned nothing would get, for each left-out class.

`zoo evaluate --anomaly CLASS` scores each Fashion-MNIST test image by its squared
reconstruction error. A model that drew every image blank would score each by its sum of
squared pixels (its ink), and classes with more or less ink than the rest would look anomalous
or normal for that reason alone. This prints, per class, the AUROC of that blank
reconstruction's score (1,000 test images of the class against the other 9,000), to read
beside the autoencoders' figures in Docs/Generative.md.

Usage: python3 Tools/anomaly_baseline.py [--data DIR]
"""

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_torch import read_idx  # noqa: E402

CLASS_NAMES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
               "Sneaker", "Bag", "Ankle boot"]


def auroc(scores, positives):
    """Probability that a positive scores above a negative, ties counting half (Mann-Whitney)."""
    negatives = np.sort(scores[~positives])
    below = np.searchsorted(negatives, scores[positives], side="left")
    not_above = np.searchsorted(negatives, scores[positives], side="right")
    return (below + not_above).sum() / 2 / (len(negatives) * positives.sum())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="/usr/share/datasets/fashion-mnist",
                        help="folder with Fashion-MNIST's t10k IDX files (Debian's package)")
    args = parser.parse_args()
    images = read_idx(args.data, "t10k-images-idx3-ubyte").reshape(-1, 784) / 255.0
    labels = read_idx(args.data, "t10k-labels-idx1-ubyte")
    ink = (images.astype(np.float64) ** 2).sum(axis=1)
    print("| left-out class | AUROC of a blank reconstruction's squared error |")
    print("| --- | ---: |")
    aurocs = []
    for c, name in enumerate(CLASS_NAMES):
        aurocs.append(auroc(ink, labels == c))
        print(f"| {c} {name} | {aurocs[-1]:.4f} |")
    print(f"| mean | {np.mean(aurocs):.4f} |")


if __name__ == "__main__":
    main()
