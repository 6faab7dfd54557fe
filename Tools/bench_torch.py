#!/usr/bin/env python3
"""PyTorch's side of the benchmark: the same measurements as zoo's, on the CPU.

Measures, with a fixed number of threads (default 2):
  - sgemm: a 2048x2048x2048 float32 matrix product through torch.mm, GFLOP/s
    (median of --gemm-runs after warm-up);
  - LeNet-5 training on Fashion-MNIST: images/s over --train-steps SGD steps of batch 64
    (lr 0.05, momentum 0.9, cross-entropy), median of --repeats runs;
  - LeNet-5 inference: images/s at batch 256 under torch.no_grad over the first
    --infer-images test images, median of --repeats passes.

With --train-epochs N it instead trains LeNet-5 with that recipe for N epochs (shuffled with
a fixed seed) and prints the test accuracy after each epoch.

Fashion-MNIST is read from the IDX files (Debian package dataset-fashion-mnist); --data
names another directory holding {train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz].

Usage:
  python3 Tools/bench_torch.py [--repeats 5] [--threads 2] [--json]
  python3 Tools/bench_torch.py --train-epochs 3
"""

import argparse
import gzip
import json
import os
import statistics
import sys
import time

import numpy as np
import torch
from torch import nn
import torch.nn.functional as F

DEFAULT_DATA = "/usr/share/datasets/fashion-mnist"
BATCH = 64
INFER_BATCH = 256
LR = 0.05
MOMENTUM = 0.9
FASHION_MNIST_MEAN = 0.2860
FASHION_MNIST_STD = 0.3530


# --- data ---------------------------------------------------------------------------------


def read_idx(directory, stem):
    """Reads one IDX file (gzipped or not) into a numpy array of its declared shape."""
    for name, opener in ((stem + ".gz", gzip.open), (stem, open)):
        path = os.path.join(directory, name)
        if os.path.exists(path):
            with opener(path, "rb") as f:
                raw = f.read()
            break
    else:
        sys.exit(f"bench_torch: no {stem}[.gz] in {directory} (see --data)")
    if raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        sys.exit(f"bench_torch: {stem} is not an unsigned-byte IDX file")
    rank = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(rank)]
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * rank)
    if data.size != int(np.prod(dims)):
        sys.exit(f"bench_torch: {stem} holds {data.size} values, header says {dims}")
    return data.reshape(dims)


def load_split(directory, split, normalize=False):
    """Images as float32 (N, 1, 28, 28) in [0, 1] (or standardised with Fashion-MNIST's mean
    and std, as zoo trains), labels as int64 (N,)."""
    images = read_idx(directory, f"{split}-images-idx3-ubyte")
    labels = read_idx(directory, f"{split}-labels-idx1-ubyte")
    pixels = images.astype(np.float32) / 255.0
    if normalize:
        pixels = (pixels - FASHION_MNIST_MEAN) / FASHION_MNIST_STD
    x = torch.from_numpy(pixels.astype(np.float32)).unsqueeze(1).contiguous()
    y = torch.from_numpy(labels.astype(np.int64))
    return x, y


# --- model --------------------------------------------------------------------------------


def lenet5():
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(400, 120), nn.ReLU(),
        nn.Linear(120, 84), nn.ReLU(),
        nn.Linear(84, 10),
    )


def sgd(model):
    return torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)


def train_step(model, optimizer, x, y):
    optimizer.zero_grad(set_to_none=True)
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    optimizer.step()
    return loss


def accuracy(model, x, y):
    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(x), INFER_BATCH):
            correct += (model(x[i : i + INFER_BATCH]).argmax(1) == y[i : i + INFER_BATCH]).sum().item()
    model.train()
    return correct / len(x)


# --- measurements -------------------------------------------------------------------------


def bench_sgemm(runs, n=2048):
    a = torch.randn(n, n)
    b = torch.randn(n, n)
    for _ in range(2):
        torch.mm(a, b)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        torch.mm(a, b)
        times.append(time.perf_counter() - start)
    return 2 * n**3 / statistics.median(times) / 1e9


def bench_train(x, y, steps, repeats):
    torch.manual_seed(0)
    model = lenet5()
    optimizer = sgd(model)
    order = torch.randperm(len(x), generator=torch.Generator().manual_seed(0))
    xs, ys = x[order], y[order]
    batches = len(xs) // BATCH

    def run(first_batch):
        for s in range(steps):
            i = (first_batch + s) % batches * BATCH
            train_step(model, optimizer, xs[i : i + BATCH], ys[i : i + BATCH])

    run(0)  # warm-up
    rates = []
    for r in range(repeats):
        start = time.perf_counter()
        run((r + 1) * steps)
        rates.append(steps * BATCH / (time.perf_counter() - start))
    return statistics.median(rates)


def bench_infer(x, images, repeats):
    torch.manual_seed(0)
    model = lenet5().eval()
    x = x[:images]

    def run():
        with torch.no_grad():
            for i in range(0, len(x), INFER_BATCH):
                model(x[i : i + INFER_BATCH])

    run()  # warm-up
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        rates.append(len(x) / (time.perf_counter() - start))
    return statistics.median(rates)


def train_epochs(data, epochs, seed, schedule, normalize):
    x, y = load_split(data, "train", normalize)
    tx, ty = load_split(data, "t10k", normalize)
    torch.manual_seed(seed)
    model = lenet5()
    optimizer = sgd(model)
    steps_per_epoch = (len(x) + BATCH - 1) // BATCH
    scheduler = (torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs * steps_per_epoch)
                 if schedule == "cosine" else None)
    shuffle = torch.Generator().manual_seed(seed)
    print(
        f"LeNet-5 on Fashion-MNIST: batch {BATCH}, SGD lr {LR} momentum {MOMENTUM}, {schedule} schedule, "
        f"{'standardised' if normalize else '[0, 1]'} inputs, cross-entropy, seed {seed}, "
        f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    for epoch in range(1, epochs + 1):
        start = time.perf_counter()
        order = torch.randperm(len(x), generator=shuffle)
        total, steps = 0.0, 0
        for i in range(0, len(x), BATCH):
            idx = order[i : i + BATCH]
            total += train_step(model, optimizer, x[idx], y[idx]).item()
            steps += 1
            if scheduler:
                scheduler.step()
        seconds = time.perf_counter() - start
        acc = accuracy(model, tx, ty)
        print(
            f"epoch {epoch}: train loss {total / steps:.4f}, test accuracy {100 * acc:.2f}% "
            f"({seconds:.1f} s)")


def main():
    parser = argparse.ArgumentParser(
        description="PyTorch CPU benchmark: sgemm, LeNet-5 training and inference.")
    parser.add_argument("--data", default=DEFAULT_DATA, help="directory with the Fashion-MNIST IDX files")
    parser.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (default 2)")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per measurement (median)")
    parser.add_argument("--gemm-runs", type=int, default=10, help="timed sgemm runs (median)")
    parser.add_argument("--train-steps", type=int, default=300, help="SGD steps per timed training run")
    parser.add_argument("--infer-images", type=int, default=10240, help="test images per inference pass")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    parser.add_argument(
        "--train-epochs", type=int, metavar="N",
        help="instead of benchmarking, train for N epochs and print test accuracy per epoch")
    parser.add_argument("--seed", type=int, default=0, help="seed for --train-epochs")
    parser.add_argument("--schedule", choices=["constant", "cosine"], default="constant",
                        help="learning-rate schedule for --train-epochs (zoo train uses cosine)")
    parser.add_argument("--normalize", action="store_true",
                        help="standardise inputs with Fashion-MNIST's mean and std, as zoo train does")
    opts = parser.parse_args()

    torch.set_num_threads(opts.threads)
    if opts.train_epochs:
        train_epochs(opts.data, opts.train_epochs, opts.seed, opts.schedule, opts.normalize)
        return

    x, y = load_split(opts.data, "train")
    tx, _ = load_split(opts.data, "t10k")
    result = {
        "sgemm_gflops": bench_sgemm(opts.gemm_runs),
        "lenet_train_images_per_s": bench_train(x, y, opts.train_steps, opts.repeats),
        "lenet_infer_images_per_s": bench_infer(tx, opts.infer_images, opts.repeats),
        "torch_version": torch.__version__,
        "threads": torch.get_num_threads(),
    }
    if opts.json:
        print(json.dumps(result))
    else:
        print(f"torch {result['torch_version']}, {result['threads']} threads")
        print(f"sgemm 2048^3:          {result['sgemm_gflops']:.1f} GFLOP/s")
        print(f"LeNet-5 train (b{BATCH}):  {result['lenet_train_images_per_s']:.0f} images/s")
        print(f"LeNet-5 infer (b{INFER_BATCH}): {result['lenet_infer_images_per_s']:.0f} images/s")


if __name__ == "__main__":
    main()
