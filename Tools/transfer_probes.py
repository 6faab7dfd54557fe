#!/usr/bin/env python3
"""Linear probes on the transfer benchmark's k-shot draws: what a head on frozen features can reach.

Reads the JSON `zoo transfer-bench --json FILE` writes and, for every K and seed, fits
scikit-learn's logistic regression (features standardised on the shots, C=1) on the same
training shots and scores it on every test image of the target classes, for these inputs:

  - pixels: the raw standardised pixels (784 numbers), no network at all;
  - source, last stage: the source backbone's pooled final features (what zoo's new head sees);
  - source, every stage: the pooled output of the stem and of each stage, concatenated;
  - ceiling (saw the targets): the same probe on a backbone trained on all ten classes, which
    has seen the target classes: an upper bound no honest source reaches, shown for scale.

A probe that does not beat the pixels says the source's features carry little the target needs.
Only the CIFAR-style ResNets are probed (their stages are layer1-layer3).

Usage:
  zoo transfer-bench --arms head --json results.json
  python3 Tools/transfer_probes.py results.json [--ceiling zoo/resnet20.h5] [--data DIR]
"""

import argparse
import json
import os
import re
import statistics
import sys

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from transfer_bench_torch import DEFAULT_DATA, EVAL_BATCH, build, classes_of, load_split, read_zoo_weights  # noqa: E402


def backbone(path, architecture):
    """The architecture filled from a zoo weight file, its classifier left out, in eval mode."""
    state, eps, attrs = read_zoo_weights(path)
    state = {k: v for k, v in state.items() if not k.startswith("fc.")}
    model = build(architecture, 1)
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [k for k in missing if not k.startswith("fc.") and not k.endswith("num_batches_tracked")]
    if missing or unexpected:
        sys.exit(f"transfer_probes: {path} does not fit {architecture}: {missing} {unexpected}")
    for name, module in model.named_modules():
        if name in eps:
            module.eps = eps[name]
    model.eval()
    return model, attrs


def stage_features(model, x):
    """[stem, layer1, layer2, layer3] outputs, each averaged over the image."""
    parts = []
    with torch.no_grad():
        for i in range(0, len(x), EVAL_BATCH):
            h = F.relu(model.bn1(model.conv1(x[i : i + EVAL_BATCH])))
            outputs = [h]
            for stage in (model.layer1, model.layer2, model.layer3):
                h = stage(h)
                outputs.append(h)
            parts.append([o.mean((2, 3)) for o in outputs])
    return [torch.cat([p[j] for p in parts]).numpy() for j in range(4)]


def probe(train_x, train_y, test_x, test_y):
    scaler = StandardScaler().fit(train_x)
    classifier = LogisticRegression(C=1.0, max_iter=5000).fit(scaler.transform(train_x), train_y)
    return float((classifier.predict(scaler.transform(test_x)) == test_y).mean())


def normalised(path, directory, classes):
    attrs = read_zoo_weights(path)[2]
    mean = float(np.asarray(attrs["zoo_normalization_mean"]).ravel()[0])
    std = float(np.asarray(attrs["zoo_normalization_std"]).ravel()[0])
    return load_split(directory, "train", classes, mean, std), load_split(directory, "t10k", classes, mean, std)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("results", help="the JSON zoo transfer-bench --json wrote")
    parser.add_argument("--ceiling", help="a weight file of the same architecture trained on all classes")
    parser.add_argument("--data", default=DEFAULT_DATA)
    args = parser.parse_args(argv)
    torch.set_num_threads(2)

    with open(args.results) as f:
        results = json.load(f)
    architecture = results["architecture"]
    if not re.fullmatch(r"resnet\d+", architecture):
        sys.exit(f"transfer_probes: only the CIFAR-style ResNets are probed, not {architecture}")
    classes = classes_of(results["data"])

    # Only the drawn shots are needed; row r of the training arrays is training image used[r].
    used = sorted({i for d in results["draws"] for i in d["train"]})
    row = {index: r for r, index in enumerate(used)}
    inputs = {}  # name -> (training features, test features)
    (train_x, train_y), (test_x, test_y) = normalised(results["source"], args.data, classes)
    train_x, train_y = train_x[used], train_y[used]
    inputs["pixels"] = (train_x.flatten(1).numpy(), test_x.flatten(1).numpy())
    source, _ = backbone(results["source"], architecture)
    train_stages, test_stages = stage_features(source, train_x), stage_features(source, test_x)
    inputs["source, last stage"] = (train_stages[3], test_stages[3])
    inputs["source, every stage"] = (np.concatenate(train_stages, 1), np.concatenate(test_stages, 1))
    if args.ceiling:
        (c_train_x, _), (c_test_x, _) = normalised(args.ceiling, args.data, classes)
        c_train_x = c_train_x[used]
        ceiling, _ = backbone(args.ceiling, architecture)
        inputs["ceiling (saw the targets)"] = (
            stage_features(ceiling, c_train_x)[3], stage_features(ceiling, c_test_x)[3])

    labels, test_labels = train_y.numpy(), test_y.numpy()
    scores = {}  # (name, K) -> [accuracy per seed]
    for draw in results["draws"]:
        shots = np.array([row[i] for i in draw["train"]])
        for name, (train_f, test_f) in inputs.items():
            accuracy = probe(train_f[shots], labels[shots], test_f, test_labels)
            scores.setdefault((name, draw["shots"]), []).append(100 * accuracy)
            print(f"K={draw['shots']} seed {draw['seed']} {name}: {100 * accuracy:.2f}%", flush=True)

    ks = sorted({d["shots"] for d in results["draws"]})
    print()
    print("| probe | " + " | ".join(f"K = {k}" for k in ks) + " |")
    print("| --- |" + " ---: |" * len(ks))
    for name in inputs:
        cells = []
        for k in ks:
            values = scores[(name, k)]
            spread = statistics.stdev(values) if len(values) > 1 else 0.0
            cells.append(f"{statistics.mean(values):.1f} ± {spread:.1f}%")
        print(f"| {name} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
