#!/usr/bin/env python3
"""PyTorch's side of the transfer benchmark: zoo's head-only fine-tuning protocol, repeated.

Reads the JSON `zoo transfer-bench --json FILE` writes (source weight file, recipe, and for
each K and seed the indices of the k-shot training set and of the validation split), builds
the same architecture in PyTorch, fills it from zoo's HDF5 file with h5py (Keras layout:
Conv2D kernel (kh, kw, in, out), Dense kernel (in, out), BatchNormalization gamma, beta,
moving_mean, moving_variance), and for every draw:

  1. loads the pretrained weights, replaces the classifier by a fresh head, freezes the rest;
  2. trains the head with AdamW (zoo's lr, weight decay, batch size, epochs), shuffling each
     epoch, keeps the weights of the epoch with the lowest validation loss and stops after
     `patience` epochs without improvement;
  3. scores the whole model on every test image of the target classes.

Two loops run step 2, each timed:
  - `standard`: the usual PyTorch recipe (torchvision's "ConvNet as fixed feature extractor"):
    every training batch and every validation pass goes through the frozen backbone (eval
    mode, no gradients) and then the head;
  - `cached`: the backbone features of the training and validation images are computed once,
    as zoo caches them, and the head epochs run on those.

Each run is timed from step 1 to the end of step 3, as zoo times its runs; data loading is
timed once. Prints both sides per K (mean ± std over seeds, seconds per run) and the ratios.

Usage:
  zoo transfer-bench --arms head --json results.json
  python3 Tools/transfer_bench_torch.py results.json [--threads 2] [--loops standard,cached]
      [--seeds 0,1] [--data DIR]
"""

import argparse
import copy
import json
import os
import re
import statistics
import sys
import time

import h5py
import numpy as np
import torch
from torch import nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_torch import BasicBlock, read_idx  # noqa: E402

DEFAULT_DATA = "/usr/share/datasets/fashion-mnist"
EVAL_BATCH = 256


# --- data ---------------------------------------------------------------------------------


def classes_of(spec):
    """[5, 6, 7, 8, 9] for 'fashion-mnist:5-9' (ranges and lists, in the order written)."""
    match = re.fullmatch(r"fashion-mnist:(.+)", spec)
    if not match:
        sys.exit(f"transfer_bench_torch: only fashion-mnist:CLASSES targets are supported, got {spec}")
    classes = []
    for part in match.group(1).split(","):
        first, _, last = part.partition("-")
        classes += list(range(int(first), int(last or first) + 1))
    return classes


def load_split(directory, split, classes, mean, std):
    """The images of `classes` in file order, standardised, labels relabelled 0..<k, as zoo
    loads `fashion-mnist:CLASSES`."""
    images = read_idx(directory, f"{split}-images-idx3-ubyte")
    labels = read_idx(directory, f"{split}-labels-idx1-ubyte")
    keep = np.isin(labels, classes)
    relabel = {c: i for i, c in enumerate(classes)}
    x = (images[keep].astype(np.float32) / 255.0 - mean) / std
    y = np.array([relabel[int(v)] for v in labels[keep]], dtype=np.int64)
    return torch.from_numpy(x).unsqueeze(1).contiguous(), torch.from_numpy(y)


# --- models -------------------------------------------------------------------------------


class LeNet5(nn.Module):
    """zoo's LeNet-5 with its parameter paths: features.{0,3}, classifier.{0,2,4}."""

    def __init__(self, classes):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2))
        self.classifier = nn.Sequential(
            nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, classes))
        self.feature_count = 84

    def embed(self, x):
        return self.classifier[:4](self.features(x).flatten(1))

    def head(self, f):
        return self.classifier[4](f)

    def set_head(self, module):
        self.classifier[4] = module

    def forward(self, x):
        return self.head(self.embed(x))


class CifarResNet(nn.Module):
    """zoo's small-input ResNet (6n+2 layers, widths 16/32/64, torchvision's names)."""

    def __init__(self, depth, classes):
        super().__init__()
        n = (depth - 2) // 6
        self.conv1 = nn.Conv2d(1, 16, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        inputs = 16
        for index, width in enumerate((16, 32, 64)):
            blocks = []
            for block in range(n):
                blocks.append(BasicBlock(inputs, width, 2 if index > 0 and block == 0 else 1))
                inputs = width
            setattr(self, f"layer{index + 1}", nn.Sequential(*blocks))
        self.fc = nn.Linear(64, classes)
        self.feature_count = 64

    def embed(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return x.mean((2, 3))

    def head(self, f):
        return self.fc(f)

    def set_head(self, module):
        self.fc = module

    def forward(self, x):
        return self.head(self.embed(x))


def build(architecture, classes):
    if architecture == "lenet5":
        return LeNet5(classes)
    match = re.fullmatch(r"resnet(\d+)", architecture)
    if match and (int(match.group(1)) - 2) % 6 == 0 and int(match.group(1)) < 100:
        return CifarResNet(int(match.group(1)), classes)
    sys.exit(f"transfer_bench_torch: no PyTorch twin for {architecture}")


def decode(value):
    return value.decode() if isinstance(value, bytes) else str(value)


def read_zoo_weights(path):
    """{torch state-dict key: tensor} and the file's attributes, from zoo's Keras layout."""
    torch_name = {
        "kernel": "weight", "bias": "bias", "gamma": "weight", "beta": "bias",
        "moving_mean": "running_mean", "moving_variance": "running_var",
    }
    state, eps = {}, {}
    with h5py.File(path, "r") as f:
        for layer in (decode(n) for n in f.attrs["layer_names"]):
            group = f[layer]
            if "zoo_eps" in group.attrs:
                eps[layer] = float(group.attrs["zoo_eps"])
            for weight in (decode(n) for n in group.attrs["weight_names"]):
                value = np.array(group[weight])
                short = weight.split("/")[-1].split(":")[0]
                if short == "kernel" and value.ndim == 4:
                    value = value.transpose(3, 2, 0, 1)  # (kh, kw, in, out) -> (out, in, kh, kw)
                elif short == "kernel" and value.ndim == 2:
                    value = value.T  # (in, out) -> (out, in)
                state[f"{layer}.{torch_name[short]}"] = torch.from_numpy(np.ascontiguousarray(value))
        attrs = {k: f.attrs[k] for k in f.attrs}
    return state, eps, attrs


def pretrained(architecture, state, eps, classes):
    model = build(architecture, classes)
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [k for k in missing if not k.endswith("num_batches_tracked")]
    if missing or unexpected:
        sys.exit(f"transfer_bench_torch: weights do not fit: missing {missing}, unexpected {unexpected}")
    for name, module in model.named_modules():
        if isinstance(module, nn.BatchNorm2d) and name in eps:
            module.eps = eps[name]
    return model


# --- the head-only protocol ---------------------------------------------------------------


def features(model, x):
    with torch.no_grad():
        return torch.cat([model.embed(x[i : i + EVAL_BATCH]) for i in range(0, len(x), EVAL_BATCH)])


def evaluate(module, x, y):
    """Mean cross-entropy and accuracy, in eval mode without gradients."""
    module.eval()
    loss, correct = 0.0, 0
    with torch.no_grad():
        for i in range(0, len(x), EVAL_BATCH):
            logits = module(x[i : i + EVAL_BATCH])
            loss += F.cross_entropy(logits, y[i : i + EVAL_BATCH], reduction="sum").item()
            correct += (logits.argmax(1) == y[i : i + EVAL_BATCH]).sum().item()
    return loss / len(x), correct / len(x)


def head_only(source, recipe, draw, train, test, classes, loop):
    architecture, state, eps = source
    x_train, y_train = train
    torch.manual_seed(draw["seed"])
    model = pretrained(architecture, state, eps, len(classes))
    in_features = model.feature_count
    hidden = recipe["hidden"]
    if hidden == "none":
        head = nn.Linear(in_features, len(classes))
    else:
        head = nn.Sequential(
            nn.Linear(in_features, int(hidden)), nn.ReLU(), nn.Dropout(0.5),
            nn.Linear(int(hidden), len(classes)))
    model.set_head(head)
    for p in model.parameters():
        p.requires_grad_(False)
    for p in head.parameters():
        p.requires_grad_(True)
    model.eval()

    train_index = torch.tensor(draw["train"])
    validation_index = torch.tensor(draw["validation"])
    y_shots = y_train[train_index]
    y_validation = y_train[validation_index]
    if loop == "cached":
        inputs = features(model, x_train[train_index])
        validation_inputs = features(model, x_train[validation_index])
        trained, scored = head, head
    else:
        inputs, validation_inputs = x_train[train_index], x_train[validation_index]
        trained, scored = (lambda x: head(features(model, x))), model  # backbone on every batch

    optimizer = torch.optim.AdamW(
        head.parameters(), lr=float(recipe["lr"]), weight_decay=float(recipe["weight_decay"]))
    batch = int(recipe["batch_size"])
    generator = torch.Generator().manual_seed(draw["seed"])
    best, best_state, since_best = float("inf"), None, 0
    for epoch in range(int(recipe["epochs"])):
        head.train()
        order = torch.randperm(len(inputs), generator=generator)
        for i in range(0, len(order), batch):
            chosen = order[i : i + batch]
            loss = F.cross_entropy(trained(inputs[chosen]), y_shots[chosen])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        validation_loss, _ = evaluate(scored, validation_inputs, y_validation)
        if validation_loss < best:
            best, best_state, since_best = validation_loss, copy.deepcopy(head.state_dict()), 0
        else:
            since_best += 1
            if since_best >= int(recipe["patience"]):
                break
    head.load_state_dict(best_state)
    return evaluate(model, *test)[1]


# --- report -------------------------------------------------------------------------------


def summary(values):
    mean = statistics.mean(values)
    std = statistics.stdev(values) if len(values) > 1 else 0.0
    return mean, std


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("results", help="the JSON zoo transfer-bench --json wrote")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--loops", default="standard,cached",
                        help="head-training loops to run, comma-separated: standard, cached")
    parser.add_argument("--seeds", help="only these seeds (comma-separated), on both sides")
    parser.add_argument("--data", default=DEFAULT_DATA)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    loops = args.loops.split(",")
    if not loops or any(loop not in ("standard", "cached") for loop in loops):
        sys.exit(f"transfer_bench_torch: --loops takes standard and/or cached, got {args.loops}")

    with open(args.results) as f:
        results = json.load(f)
    if args.seeds:
        keep = {int(seed) for seed in args.seeds.split(",")}
        results["draws"] = [d for d in results["draws"] if d["seed"] in keep]
        results["runs"] = [r for r in results["runs"] if r["seed"] in keep]
    recipe = results["recipe"]
    if recipe["freeze"] != "backbone":
        sys.exit("transfer_bench_torch: only the head-only protocol (freeze backbone) is repeated")
    classes = classes_of(results["data"])

    started = time.perf_counter()
    state, eps, attrs = read_zoo_weights(results["source"])
    mean = float(np.asarray(attrs["zoo_normalization_mean"]).ravel()[0])
    std = float(np.asarray(attrs["zoo_normalization_std"]).ravel()[0])
    train = load_split(args.data, "train", classes, mean, std)
    test = load_split(args.data, "t10k", classes, mean, std)
    load_seconds = time.perf_counter() - started
    print(f"PyTorch {torch.__version__}, {args.threads} threads; data and weights loaded in"
          f" {load_seconds:.1f} s ({len(train[1])} training, {len(test[1])} test images)")

    source = (results["architecture"], state, eps)
    torch_runs = []
    for draw in results["draws"]:
        for loop in loops:
            start = time.perf_counter()
            accuracy = head_only(source, recipe, draw, train, test, classes, loop)
            seconds = time.perf_counter() - start
            torch_runs.append({"shots": draw["shots"], "seed": draw["seed"], "loop": loop,
                               "test_accuracy": accuracy, "seconds": seconds})
            print(f"K={draw['shots']} seed {draw['seed']} head only (PyTorch, {loop} loop):"
                  f" test accuracy {100 * accuracy:.2f}%, {seconds:.2f} s", flush=True)

    zoo_runs = [r for r in results["runs"] if r["arm"] == "head"]
    zoo_total = sum(r["seconds"] for r in zoo_runs)
    for loop in loops:
        runs = [r for r in torch_runs if r["loop"] == loop]
        print(f"\nPyTorch {loop} loop against zoo (cached features):\n")
        print("| K | zoo head only | PyTorch head only | zoo s/run | PyTorch s/run | zoo / PyTorch time |")
        print("| ---: | ---: | ---: | ---: | ---: | ---: |")
        for k in sorted({d["shots"] for d in results["draws"]}):
            ours = [r for r in zoo_runs if r["shots"] == k]
            theirs = [r for r in runs if r["shots"] == k]
            zoo_acc = summary([100 * r["test_accuracy"] for r in ours]) if ours else (float("nan"),) * 2
            torch_acc = summary([100 * r["test_accuracy"] for r in theirs])
            zoo_s = statistics.mean([r["seconds"] for r in ours]) if ours else float("nan")
            torch_s = statistics.mean([r["seconds"] for r in theirs])
            print(f"| {k} | {zoo_acc[0]:.1f} ± {zoo_acc[1]:.1f}% | {torch_acc[0]:.1f} ± {torch_acc[1]:.1f}%"
                  f" | {zoo_s:.2f} | {torch_s:.2f} | {zoo_s / torch_s:.2f} |")
        torch_total = sum(r["seconds"] for r in runs)
        print(f"\nall head-only runs: zoo {zoo_total:.1f} s, PyTorch ({loop}) {torch_total:.1f} s"
              f" (zoo / PyTorch time {zoo_total / torch_total:.2f})")
    print(f"data loading: zoo {results['load_seconds']:.1f} s, PyTorch {load_seconds:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
