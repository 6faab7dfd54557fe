#!/usr/bin/env python3
"""Trains the zoo's `vae` or `autoencoder` architecture in PyTorch with the zoo's recipe, and
prints the test figures `zoo evaluate` prints, to compare with the zoo's own run.

The twin (Tools/autoencoder_torch.py) has the zoo's layers and names. The recipe is the one
zoo/README.md gives for the shipped weights: Fashion-MNIST's 60,000 training images with pixels
in [0, 1] and labels unused, Adam (torch defaults but lr), batch size, epochs and a cosine
schedule over all steps (zoo's `cosine`: lr * (1 + cos(pi * step / steps)) / 2), a fresh
shuffle every epoch from the seed, one sample of the code per image and step. PyTorch's own
initialisation and shuffles are used: the data order is seeded the same way (one permutation per
epoch), not the same permutation. Test figures: negative ELBO = per-pixel binary cross-entropy
summed over the image plus the Gaussian KL term, one sample of the code per image, averaged
over the 10,000 test images; squared error of sigmoid(logits) through the posterior mean.

Usage: python3 Tools/train_autoencoder_torch.py vae [--epochs 10] [--lr 0.001]
           [--batch-size 128] [--latent 16] [--seed 0] [--threads 2] [--data DIR]
"""

import argparse
import math
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from autoencoder_torch import ConvAutoencoder  # noqa: E402
from bench_torch import read_idx  # noqa: E402


def pixels(directory, split):
    images = read_idx(directory, f"{split}-images-idx3-ubyte")
    return torch.from_numpy(images.astype(np.float32) / 255).reshape(-1, 1, 28, 28)


def evaluate(model, x, seed):
    model.eval()
    generator = torch.Generator().manual_seed(seed)
    totals = np.zeros(4)
    with torch.no_grad():
        for start in range(0, len(x), 256):
            batch = x[start : start + 256]
            noise = torch.randn(batch.shape[0], model.encoder.latent.out_features, generator=generator)
            loss, rec, kl = model.loss(batch, noise)
            squared = (torch.sigmoid(model(batch)) - batch).pow(2).sum()
            n = batch.shape[0]
            totals += [loss.item() * n, rec.item() * n, kl.item() * n, squared.item()]
    return totals / len(x)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", choices=["vae", "autoencoder"])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--lr", type=float, default=0.001)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--latent", type=int, default=16)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    train, test = pixels(args.data, "train"), pixels(args.data, "t10k")
    model = ConvAutoencoder(variational=args.model == "vae", latent=args.latent)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    steps_per_epoch = math.ceil(len(train) / args.batch_size)
    total = args.epochs * steps_per_epoch
    step = 0
    started = time.time()
    for epoch in range(1, args.epochs + 1):
        model.train()
        order = torch.randperm(len(train), generator=torch.Generator().manual_seed(args.seed + epoch))
        running = 0.0
        for start in range(0, len(train), args.batch_size):
            for group in optimizer.param_groups:
                group["lr"] = args.lr * (1 + math.cos(math.pi * step / total)) / 2
            batch = train[order[start : start + args.batch_size]]
            loss, _, _ = model.loss(batch)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            running += loss.item() * batch.shape[0]
            step += 1
        loss, rec, kl, squared = evaluate(model, test, args.seed)
        print(
            f"epoch {epoch}: train loss {running / len(train):.4f}, test loss {loss:.4f} "
            f"(reconstruction {rec:.4f}, KL {kl:.4f}) per image, squared error {squared:.3f}, "
            f"{time.time() - started:.0f} s",
            flush=True,
        )
    print(
        f"{args.model} (PyTorch {torch.__version__}): test negative ELBO {loss:.2f} nats per image "
        f"(reconstruction {rec:.2f} + KL {kl:.2f}), squared error {squared:.3f} per image"
    )


if __name__ == "__main__":
    main()
