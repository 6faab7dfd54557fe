#!/usr/bin/env python3
"""Writes torchvision reference logits for the zoo's forward-parity tests.

For each architecture below the script builds torchvision's model with a non-default class
count, sets every parameter and buffer (except `num_batches_tracked`) from a deterministic
formula of its state-dict key and element index, runs a fixed input in eval mode and writes
one small JSON file to Tests/ZooTests/Fixtures/torchvision/<name>.json:

    {"model": "resnet18", "torch": "...", "torchvision": "...", "class_count": 10,
     "formula": {...the constants below...},
     "state": [{"key": "conv1.weight", "shape": [64, 3, 7, 7]}, ...],
     "input_shape": [2, 3, 64, 64], "logits_shape": [2, 10], "logits": [...]}

Only the logits are stored: the Swift test regenerates the weights and the input with the same
formula (Tests/ZooTests/DeterministicWeights.swift) and compares its logits with these.

The formula, computed in float64 and rounded once to float32:

    h      = FNV-1a 64-bit hash of the key's UTF-8 bytes
    base_i = the i-th output (i from 0) of splitmix64 seeded with h, top 53 bits
             mapped to [-1, 1): (z >> 11) * 2**-52 - 1

    conv / linear weight (rank >= 2)   base_i * sqrt(6 / fan_in),  fan_in = count / shape[0]
    batch-norm weight (rank 1 .weight) 1 + 0.1 * base_i
    bias (any .bias)                   0.1 * base_i
    running_mean                       0.1 * base_i
    running_var                        1 + 0.25 * (base_i + 1)     (in [1, 1.5])
    input element i                    1.5 * sin(0.011 * i)

Batch-norm tensors are told from convolution and linear ones by rank alone, so no layer names
are parsed beyond the suffix. The weights are an integer hash, not a smooth function of the
index: a sinusoid in the element index, sin(0.37 i + phase), is nearly orthogonal to smooth
activations, so every layer's output collapsed to its bias and the logits no longer depended
on the input (vgg11, vgg11_bn and vgg16 gave identical logits). With the hash, sqrt(6 / fan_in)
(He uniform) keeps activations O(1) through the plain networks; the ResNets' residual sums grow
with depth, to logits of O(100) for resnet50, which is still well inside float32's comfort.

`unet-resnet18` is zoo's ResNet-encoder U-Net (Sources/Zoo/Architectures/ResNetUNet.swift):
its encoder here is torchvision's resnet18 without `fc`, its decoder a plain transcription of
segmentation_models.pytorch's default `Unet` decoder (nearest upsampling by 2, concatenated
skip, two conv3x3-BN-ReLU per block, widths 256-128-64-32-16, a 3x3 head), so the state-dict
keys are smp's. It takes a non-square input so a height/width mix-up cannot pass, and two
classes so the stored logits (one per class and pixel) stay small.

Computed on one CPU thread; running the script twice gives identical files.

Usage: python3 Tools/make_torchvision_fixtures.py [--out DIR] [MODEL ...]
"""

import argparse
import json
import math
import os

import numpy as np
import torch
import torchvision
from autoencoder_torch import ConvAutoencoder

torch.set_num_threads(1)
torch.set_default_dtype(torch.float32)

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.join(HERE, "..", "Tests", "ZooTests", "Fixtures", "torchvision")

CLASS_COUNT = 10
BATCH = 2
# Reduced inputs keep the Swift side fast; the adaptive average pools accept any size.
MODELS = {
    "alexnet": 64,
    "vgg11": 32,
    "vgg11_bn": 32,
    "vgg16": 32,
    "resnet18": 64,
    "resnet34": 64,
    "resnet50": 64,
    "densenet121": 64,
    "densenet169": 64,
    "densenet201": 64,
    "mobilenet_v2": 64,
    "efficientnet_b0": 64,
    "mobilenet_v3_large": 64,
    "mobilenet_v3_small": 64,
    "convnext_tiny": 64,
    "unet-resnet18": (32, 64),
    # torchvision's smallest inference input is 75 px; the auxiliary classifier runs only in
    # training, so its weights are set but do not reach these logits.
    "inception_v3": 96,
    # The zoo's own autoencoders against their PyTorch twins (Tools/autoencoder_torch.py):
    # reconstruction logits through the code or posterior mean, latent size 8.
    "autoencoder": 28,
    "vae": 28,
}
UNET_CLASS_COUNT = 2
AUTOENCODER_LATENT = 8
UNET_BATCH = 1

FORMULA = {
    "weight_gain": 6.0,
    "bias_scale": 0.1,
    "norm_weight_scale": 0.1,
    "running_mean_scale": 0.1,
    "running_var_scale": 0.25,
    "input_frequency": 0.011,
    "input_amplitude": 1.5,
}

MASK = 0xFFFFFFFFFFFFFFFF
FNV_OFFSET = 0xCBF29CE484222325
FNV_PRIME = 0x100000001B3
GOLDEN = 0x9E3779B97F4A7C15


def fnv1a64(key):
    h = FNV_OFFSET
    for byte in key.encode("utf-8"):
        h = ((h ^ byte) * FNV_PRIME) & MASK
    return h


def base(key, count, chunk=1 << 22):
    """Element i of splitmix64 seeded with the key's hash, as a float64 in [-1, 1)."""
    seed = np.uint64(fnv1a64(key))
    out = np.empty(count, dtype=np.float64)
    with np.errstate(over="ignore"):
        for start in range(0, count, chunk):
            i = np.arange(start + 1, min(start + chunk, count) + 1, dtype=np.uint64)
            z = seed + i * np.uint64(GOLDEN)
            z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
            z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
            z = z ^ (z >> np.uint64(31))
            out[start : start + len(i)] = (z >> np.uint64(11)).astype(np.float64) * 2.0**-52 - 1
    return out


def deterministic_value(key, shape):
    """The formula's float32 values for the tensor `key` of `shape`."""
    count = int(np.prod(shape))
    b = base(key, count)
    if len(shape) >= 2:
        values = b * math.sqrt(FORMULA["weight_gain"] / (count / shape[0]))
    elif key.endswith(".bias"):
        values = FORMULA["bias_scale"] * b
    elif key.endswith(".weight"):
        values = 1 + FORMULA["norm_weight_scale"] * b
    elif key.endswith(".running_mean"):
        values = FORMULA["running_mean_scale"] * b
    elif key.endswith(".running_var"):
        values = 1 + FORMULA["running_var_scale"] * (b + 1)
    else:
        raise ValueError(f"no formula for {key} {list(shape)}")
    return torch.from_numpy(values.astype(np.float32).reshape(shape))


def deterministic_input(shape):
    count = int(np.prod(shape))
    i = np.arange(count, dtype=np.float64)
    values = FORMULA["input_amplitude"] * np.sin(FORMULA["input_frequency"] * i)
    return torch.from_numpy(values.astype(np.float32).reshape(shape))


class DecoderBlock(torch.nn.Module):
    """smp's `DecoderBlock`: upsample by 2 (nearest), concatenate the skip, two
    conv3x3-BN-ReLU (`Conv2dReLU`: conv without bias, batch norm, ReLU as indices 0, 1, 2)."""

    def __init__(self, inputs, skip, outputs):
        super().__init__()

        def conv_bn_relu(i, o):
            return torch.nn.Sequential(
                torch.nn.Conv2d(i, o, 3, padding=1, bias=False),
                torch.nn.BatchNorm2d(o),
                torch.nn.ReLU(inplace=True),
            )

        self.conv1 = conv_bn_relu(inputs + skip, outputs)
        self.conv2 = conv_bn_relu(outputs, outputs)

    def forward(self, x, skip):
        x = torch.nn.functional.interpolate(x, scale_factor=2, mode="nearest")
        if skip is not None:
            x = torch.cat([x, skip], dim=1)
        return self.conv2(self.conv1(x))


class ResNetUNet(torch.nn.Module):
    """segmentation_models.pytorch's `Unet("resnet18")` with torchvision's resnet18 as the
    encoder: features after the stem's ReLU (1/2) and after layer1..layer4 (1/4 ... 1/32)."""

    def __init__(self, classes):
        super().__init__()
        self.encoder = torchvision.models.resnet18(weights=None)
        del self.encoder.fc
        self.decoder = torch.nn.Module()
        widths = [256, 128, 64, 32, 16]
        skips = [256, 128, 64, 64, 0]
        inputs = [512] + widths[:-1]
        self.decoder.blocks = torch.nn.ModuleList(
            DecoderBlock(i, s, o) for i, s, o in zip(inputs, skips, widths)
        )
        self.segmentation_head = torch.nn.Sequential(torch.nn.Conv2d(16, classes, 3, padding=1))

    def forward(self, x):
        e = self.encoder
        stem = e.relu(e.bn1(e.conv1(x)))
        f1 = e.layer1(e.maxpool(stem))
        f2 = e.layer2(f1)
        f3 = e.layer3(f2)
        out = e.layer4(f3)
        for block, skip in zip(self.decoder.blocks, [f3, f2, f1, stem, None]):
            out = block(out, skip)
        return self.segmentation_head(out)


def build(name):
    """The reference model and its input shape."""
    if name == "unet-resnet18":
        height, width = MODELS[name]
        return ResNetUNet(UNET_CLASS_COUNT), UNET_CLASS_COUNT, (UNET_BATCH, 3, height, width)
    size = MODELS[name]
    if name in ("autoencoder", "vae"):
        model = ConvAutoencoder(variational=name == "vae", latent=AUTOENCODER_LATENT)
        return model, AUTOENCODER_LATENT, (BATCH, 1, size, size)
    model = torchvision.models.get_model(name, weights=None, num_classes=CLASS_COUNT)
    return model, CLASS_COUNT, (BATCH, 3, size, size)


def fixture(name):
    model, class_count, input_shape = build(name)
    state = []
    with torch.no_grad():
        for key, tensor in model.state_dict().items():
            if key.endswith("num_batches_tracked"):
                continue
            tensor.copy_(deterministic_value(key, tuple(tensor.shape)))
            state.append({"key": key, "shape": list(tensor.shape)})
        model.eval()
        x = deterministic_input(input_shape)
        logits = model(x)
    values = [float(v) for v in logits.reshape(-1).tolist()]
    spread = max(values) - min(values)
    largest = max(abs(v) for v in values)
    if not (largest < 1e4 and spread > 1e-3 * largest):
        raise SystemExit(f"{name}: logits are extreme or degenerate: {values}")
    return {
        "model": name,
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "class_count": class_count,
        "formula": FORMULA,
        "state": state,
        "input_shape": list(x.shape),
        "logits_shape": list(logits.shape),
        "logits": values,
    }


def render(f):
    """JSON with one state entry per line, so diffs stay readable."""
    lines = ["{"]
    for k in ("model", "torch", "torchvision", "class_count"):
        lines.append(f"  {json.dumps(k)}: {json.dumps(f[k])},")
    lines.append(f'  "formula": {json.dumps(f["formula"], sort_keys=True)},')
    lines.append('  "state": [')
    for i, entry in enumerate(f["state"]):
        comma = "," if i + 1 < len(f["state"]) else ""
        lines.append(f"    {json.dumps(entry)}{comma}")
    lines.append("  ],")
    for k in ("input_shape", "logits_shape"):
        lines.append(f"  {json.dumps(k)}: {json.dumps(f[k])},")
    lines.append(f'  "logits": {json.dumps(f["logits"])}')
    lines.append("}")
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=DEFAULT_OUT)
    parser.add_argument("models", nargs="*", default=list(MODELS))
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    for name in args.models:
        f = fixture(name)
        path = os.path.join(args.out, f"{name}.json")
        with open(path, "w") as out:
            out.write(render(f))
        logits = f["logits"]
        print(
            f"{name}: logits {f['logits_shape']} in [{min(logits):.4g}, {max(logits):.4g}]"
            f" -> {os.path.relpath(path)}"
        )


if __name__ == "__main__":
    main()
