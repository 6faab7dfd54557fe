#!/usr/bin/env python3
"""Writes the PyTorch-interop fixtures of the ZooIO tests: a weight file made by
Tools/convert_torch.py from a state dict that torch.save wrote, and that model's logits.

The committed fixtures (Tests/ZooIOTests/Fixtures/) are
- resnet_basic_1111: torchvision.models.resnet.ResNet(BasicBlock, [1, 1, 1, 1], num_classes=10),
  torchvision's resnet18 with one block per stage, so it has resnet18's kinds of keys (stem,
  stages with and without downsample, fc) at 4.9M instead of 11.2M values. The zoo builds the
  same network as ResNet(.imageNet(.basic, [1, 1, 1, 1]), classCount: 10).
- densenet_small: torchvision.models.densenet.DenseNet(growth_rate=8, block_config=(2, 3, 4, 3),
  num_init_features=16, bn_size=4, num_classes=10), densenet121's kinds of keys (stem, dense
  layers, transitions, norm5, classifier) at 48K values. The zoo builds it as
  DenseNet(DenseNetConfiguration(growthRate: 8, layersPerBlock: [2, 3, 4, 3],
  initialFeatures: 16, bottleneckFactor: 4), classCount: 10).

The state dict goes through a file: torch.save writes it to a temporary .pth, and the weight
file is made from torch.load's result the way `convert_torch.py --pth` makes it (layer kinds
read from the tensors, batch-norm eps 1e-5).

The third committed fixture, mobilenet_v2_w010, is torchvision.models.mobilenet_v2(width_mult=0.1,
num_classes=10): every key of mobilenet_v2 (depthwise convolutions, blocks with and without
expansion and residual) at 106K values; the zoo builds it as
MobileNetV2(widthMultiplier: 0.1, classCount: 10). Its 262 layers make HDF5's per-dataset
overhead larger than its values, and gzip's chunking adds more than it saves, so it is written
unrounded and uncompressed (--bits 0): 0.8 MB.

The fourth, efficientnet_b0_w010_d050, is torchvision's EfficientNet built from
_efficientnet_conf("efficientnet_b0", width_mult=0.1, depth_mult=0.5) with dropout 0.2 and
num_classes=10: every kind of key of efficientnet_b0 (a block without expansion, 3x3 and 5x5
depthwise convolutions, squeeze-and-excitation, blocks with and without the residual sum) at
55K values; the zoo builds it as EfficientNet(EfficientNetConfiguration(widthMultiplier: 0.1,
depthMultiplier: 0.5, dropout: 0.2), classCount: 10). Like MobileNetV2's, it is written
unrounded and uncompressed (--bits 0): 0.5 MB (gzip of 6-bit values makes it 0.8 MB).
The fifth, mobilenet_v3_small_w025, is torchvision.models.mobilenet_v3_small(width_mult=0.25,
num_classes=10): the same keys as mobilenet_v3_small (blocks with and without expansion,
squeeze-and-excitation and residual) at 120K values, batch norm with eps 0.001 (recorded in
the file); the zoo builds it as MobileNetV3(.small, widthMultiplier: 0.25, classCount: 10).
Written like mobilenet_v2_w010 (--bits 0). With random running statistics its signal fades
through the depthwise layers (Kaiming fan-out weights of a 3x3 or 5x5 depthwise kernel are
small), so the logits of the two inputs agreed to 1e-5 relative and a wrong convolution would
have passed; its running statistics are therefore those of a training-mode pass over the
input (batch-norm weights and biases stay random), plus 0.01 on every variance: channels of
near-zero variance otherwise amplify rounding (float32 logits 1.6e-5 from float64's; 5e-7
with the floor). The two inputs' logits then differ by 34% of their size.

The sixth, convnext_8_16_32_64, is torchvision's ConvNeXt class with one block per stage and
widths 8, 16, 32, 64 (stochastic depth 0.1, num_classes=10): every kind of key of convnext_tiny
(stem convolution and layer norm, depthwise 7x7, layer norm and two channels-last linear
layers per block, layer scales, downsampling layer norms and convolutions, the classifier's
layer norm) at 37K values; the zoo builds it as ConvNeXt(ConvNeXtConfiguration([Stage(8, 1),
Stage(16, 1), Stage(32, 1), Stage(64, 1)], stochasticDepth: 0.1), classCount: 10). Its layer
norms' weights and biases and its layer scales (which start at 1 and 0, and 1e-6) are drawn at
random, so a swap shows; the file records layer-norm eps 1e-6. Written with --bits 0, like
MobileNetV2's.
The model is initialised by torch after torch.manual_seed(SEED); batch-norm weights, biases and
running statistics are then drawn at random (they start at 1 and 0), so a skipped or swapped
tensor shows in the logits. Every tensor is rounded to 6 significant bits (a power-of-two
scale per tensor), which keeps the values random but lets gzip shrink the file from 18 MB to
about 5 MB; the logits are computed from the rounded weights, so nothing is lost. Random
float32 values do not compress at all.

The input is the one the torchvision parity fixtures use: element i of a (2, 3, 64, 64) tensor
is 1.5 * sin(0.011 * i). Logits come from eval mode on one CPU thread.

    python3 Tools/make_io_fixtures.py                 # the committed ResNet fixture
    python3 Tools/make_io_fixtures.py --model densenet_small   # the committed DenseNet one
    python3 Tools/make_io_fixtures.py --model mobilenet_v2_w010 --bits 0   # and MobileNetV2
    python3 Tools/make_io_fixtures.py --model efficientnet_b0_w010_d050 --bits 0  # EfficientNet
    python3 Tools/make_io_fixtures.py --model mobilenet_v3_small_w025 --bits 0   # and V3
    python3 Tools/make_io_fixtures.py --model convnext_8_16_32_64 --bits 0   # and ConvNeXt
    python3 Tools/make_io_fixtures.py --model resnet18 --out DIR --bits 0
                                                      # full resnet18, unrounded, elsewhere

Writes <out>/<name>.h5 and <out>/<name>.json:
    {"model": ..., "torch": ..., "torchvision": ..., "seed": 0, "bits": 6, "class_count": 10,
     "input_shape": [2, 3, 64, 64], "logits_shape": [2, 10], "logits": [...]}
"""

import argparse
import json
import math
import os
import sys
import tempfile

import numpy as np
import torch
import torchvision
from torchvision.models.convnext import CNBlockConfig, ConvNeXt
from torchvision.models.densenet import DenseNet
from torchvision.models.efficientnet import EfficientNet, _efficientnet_conf
from torchvision.models.resnet import BasicBlock, ResNet

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from convert_torch import group_layers, write_weight_file  # noqa: E402

torch.set_num_threads(1)

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.join(HERE, "..", "Tests", "ZooIOTests", "Fixtures")
SMALL = "resnet_basic_1111"
SMALL_DENSENET = "densenet_small"
DENSENET_NUMBERS = {
    "growth_rate": 8,
    "block_config": (2, 3, 4, 3),
    "num_init_features": 16,
    "bn_size": 4,
}
MOBILENET = "mobilenet_v2_w010"
EFFICIENTNET = "efficientnet_b0_w010_d050"
EFFICIENTNET_MULTIPLIERS = {"width_mult": 0.1, "depth_mult": 0.5}
MOBILENET_V3 = "mobilenet_v3_small_w025"
CONVNEXT = "convnext_8_16_32_64"
CONVNEXT_WIDTHS = (8, 16, 32, 64)
SEED = 0
CLASS_COUNT = 10
INPUT_SHAPE = (2, 3, 64, 64)


def build(name):
    torch.manual_seed(SEED)
    if name == SMALL:
        return ResNet(BasicBlock, [1, 1, 1, 1], num_classes=CLASS_COUNT)
    if name == SMALL_DENSENET:
        return DenseNet(**DENSENET_NUMBERS, num_classes=CLASS_COUNT)
    if name == MOBILENET:
        return torchvision.models.mobilenet_v2(width_mult=0.1, num_classes=CLASS_COUNT)
    if name == EFFICIENTNET:
        stages, _ = _efficientnet_conf("efficientnet_b0", **EFFICIENTNET_MULTIPLIERS)
        return EfficientNet(stages, dropout=0.2, num_classes=CLASS_COUNT)
    if name == MOBILENET_V3:
        return torchvision.models.mobilenet_v3_small(width_mult=0.25, num_classes=CLASS_COUNT)
    if name == CONVNEXT:
        widths = CONVNEXT_WIDTHS
        stages = [CNBlockConfig(c, n, 1) for c, n in zip(widths, widths[1:] + (None,))]
        return ConvNeXt(stages, stochastic_depth_prob=0.1, num_classes=CLASS_COUNT)
    return torchvision.models.get_model(name, weights=None, num_classes=CLASS_COUNT)


def randomize_batch_norms(model):
    generator = torch.Generator().manual_seed(SEED + 1)
    for module in model.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            n = module.num_features
            module.weight.copy_(0.5 + torch.rand(n, generator=generator))
            module.bias.copy_(0.2 * torch.randn(n, generator=generator))
            module.running_mean.copy_(0.2 * torch.randn(n, generator=generator))
            module.running_var.copy_(0.5 + torch.rand(n, generator=generator))


def randomize_layer_norms_and_scales(model):
    """Layer-norm weights and biases (1 and 0 at first) and layer scales (1e-6) drawn at random,
    so a missing, swapped or mis-shaped one changes the logits."""
    generator = torch.Generator().manual_seed(SEED + 2)
    for module in model.modules():
        if isinstance(module, torch.nn.LayerNorm):
            n = module.normalized_shape[0]
            module.weight.copy_(0.5 + torch.rand(n, generator=generator))
            module.bias.copy_(0.2 * torch.randn(n, generator=generator))
        if "layer_scale" in module._parameters:
            scale = module.layer_scale
            scale.copy_(0.2 + 0.8 * torch.rand(scale.shape, generator=generator))


def calibrate_running_statistics(model, x, variance_floor=0.01):
    """Running statistics of one training-mode pass over x, so every layer passes the input on;
    `variance_floor` is added to each variance."""
    batch_norms = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    momenta = [m.momentum for m in batch_norms]
    for module in batch_norms:
        module.reset_running_stats()
        module.momentum = None
    model.train()
    model(x)
    for module, momentum in zip(batch_norms, momenta):
        module.momentum = momentum
        module.running_var.add_(variance_floor)


def round_to_bits(model, bits):
    """Each float tensor to `bits` significant bits, with one power-of-two scale per tensor."""
    for key, tensor in model.state_dict().items():
        if not tensor.is_floating_point():
            continue
        largest = tensor.abs().max().item()
        if largest > 0:
            scale = 2.0 ** (math.floor(math.log2(largest)) - (bits - 1))
            tensor.copy_(torch.round(tensor / scale) * scale)


def deterministic_input(shape):
    i = np.arange(int(np.prod(shape)), dtype=np.float64)
    return torch.from_numpy((1.5 * np.sin(0.011 * i)).astype(np.float32).reshape(shape))


def saved_and_loaded(state):
    """The state dict as PyTorch writes it to a file and reads it back."""
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "state.pth")
        torch.save(state, path)
        return torch.load(path, map_location="cpu", weights_only=True)


def source_name(model):
    if model == SMALL:
        return "torchvision.models.resnet.ResNet(BasicBlock, [1, 1, 1, 1])"
    if model == SMALL_DENSENET:
        numbers = ", ".join(f"{key}={value}" for key, value in DENSENET_NUMBERS.items())
        return f"torchvision.models.densenet.DenseNet({numbers})"
    if model == MOBILENET:
        return "torchvision.models.mobilenet_v2(width_mult=0.1)"
    if model == EFFICIENTNET:
        numbers = ", ".join(f"{key}={value}" for key, value in EFFICIENTNET_MULTIPLIERS.items())
        stages = f'_efficientnet_conf("efficientnet_b0", {numbers})'
        return f"torchvision.models.efficientnet.EfficientNet({stages})"
    if model == MOBILENET_V3:
        return "torchvision.models.mobilenet_v3_small(width_mult=0.25)"
    if model == CONVNEXT:
        widths = ", ".join(map(str, CONVNEXT_WIDTHS))
        return f"torchvision.models.convnext.ConvNeXt(widths {widths}, one block each)"
    return f"torchvision.models.{model}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--model",
        default=SMALL,
        help=f"{SMALL}, {SMALL_DENSENET}, {MOBILENET}, {EFFICIENTNET}, {MOBILENET_V3}, "
        f"{CONVNEXT} or a torchvision model name",
    )
    parser.add_argument("--out", default=DEFAULT_OUT)
    parser.add_argument("--bits", type=int, default=6, help="significant bits; 0 keeps float32")
    args = parser.parse_args()

    model = build(args.model)
    with torch.no_grad():
        randomize_batch_norms(model)
        randomize_layer_norms_and_scales(model)
        if args.model == MOBILENET_V3:
            calibrate_running_statistics(model, deterministic_input(INPUT_SHAPE))
        if args.bits:
            round_to_bits(model, args.bits)
        model.eval()
        logits = model(deterministic_input(INPUT_SHAPE))

    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, f"{args.model}.h5")
    card = {
        "source": source_name(args.model),
        "torchvision": torchvision.__version__,
        "seed": SEED,
        "significant_bits": args.bits or 24,
        "note": "test fixture: random weights, not trained",
    }
    metadata = {
        "architecture": args.model,
        "class_count": CLASS_COUNT,
        "input_shape": list(INPUT_SHAPE[1:]),
        "class_names": [f"class {i}" for i in range(CLASS_COUNT)],
        "normalization_mean": [0.485, 0.456, 0.406],
        "normalization_std": [0.229, 0.224, 0.225],
        "model_card": json.dumps(card, sort_keys=True),
    }
    # A bare state dict does not say its batch norms' eps; torchvision's MobileNetV3 uses 0.001.
    bn_eps = 0.001 if args.model == MOBILENET_V3 else 1e-5
    # Likewise its layer norms' eps: ConvNeXt's are 1e-6.
    ln_eps = 1e-6 if args.model == CONVNEXT else 1e-5
    layers = group_layers(saved_and_loaded(model.state_dict()), bn_eps=bn_eps, ln_eps=ln_eps)
    # gzip's chunk overhead outweighs its gain on DenseNet's many small tensors (densenet_small:
    # 0.70 MB compressed, 0.38 MB plain).
    compress = bool(args.bits) and args.model != SMALL_DENSENET
    write_weight_file(path, layers, metadata, compress=compress)

    values = [float(v) for v in logits.reshape(-1).tolist()]
    fixture = {
        "model": args.model,
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "seed": SEED,
        "bits": args.bits,
        "class_count": CLASS_COUNT,
        "input_shape": list(INPUT_SHAPE),
        "logits_shape": list(logits.shape),
        "logits": values,
    }
    with open(os.path.join(args.out, f"{args.model}.json"), "w") as f:
        lines = [f"  {json.dumps(key)}: {json.dumps(value)}" for key, value in fixture.items()]
        f.write("{\n" + ",\n".join(lines) + "\n}\n")
    size = os.path.getsize(path) / 1e6
    shown = os.path.relpath(path)
    shown = path if shown.startswith("..") else shown
    print(
        f"{args.model}: {size:.1f} MB, logits {list(logits.shape)} in"
        f" [{min(values):.4g}, {max(values):.4g}] -> {shown}"
    )


if __name__ == "__main__":
    main()
