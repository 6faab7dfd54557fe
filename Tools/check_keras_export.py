#!/usr/bin/env python3
"""Loads weight files the zoo exported in Keras's layouts into the equivalent Keras models with
Keras's own `model.load_weights`, and checks that Keras then gives the zoo's logits.

The folder holds, per model, <name>.h5 (`zoo export --format keras`), <name>.weights.h5
(`--format keras3`) and <name>.json with the zoo's logits on the fixtures' input (element i of
the NCHW tensor is 1.5 * sin(0.011 * i)), as the ZooIO test `exportForKeras` writes them:

    vgg16          keras.applications.VGG16(weights=None, classifier_activation=None)
    vgg16_narrow   the same graph and names at narrow widths (Tools/make_keras_fixtures.py)
    depthwise_small  DepthwiseConv2D with and without multiplier and bias (the same script)
    mobilenet_a0125  keras.applications.MobileNet(alpha=0.125, input_shape=(64, 64, 3))
    mobilenet_v2_a010  keras.applications.MobileNetV2(alpha=0.1, input_shape=(64, 64, 3))
    efficientnet_b0_keras_w010  keras.applications' EfficientNet builder at width 0.1, depth 0.5

Legacy .h5 files load by layer order and Keras 3 files by class key and position, so the zoo's
layer names play no part; the logits agree only if every kernel is in Keras's layout and fc1's
rows are in Keras's (height, width, channels) order. Exits 1 when any file differs by more
than 1e-4 relative (largest difference over the largest logit).

    KERAS_BACKEND=torch python3 Tools/check_keras_export.py FOLDER
"""

import argparse
import json
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_keras_fixtures import (  # noqa: E402
    DEPTHWISE,
    MOBILENET,
    MOBILENET_V2,
    NARROW,
    application_model,
    depthwise_small,
    deterministic_input,
    efficientnet_b0_model,
    logits,
    vgg16_shaped,
)

TOLERANCE = 1e-4


def keras_model(name, classes):
    if name == "vgg16":
        return keras.applications.VGG16(
            weights=None, classes=classes, classifier_activation=None
        )
    if name == "vgg16_narrow":
        return vgg16_shaped(NARROW["widths"], NARROW["hidden"], classes, NARROW["size"])
    if name == "depthwise_small":
        return depthwise_small(classes, DEPTHWISE["size"])
    if name == "efficientnet_b0_keras_w010":
        return efficientnet_b0_model(classes)
    applications = {
        "mobilenet_a0125": (keras.applications.MobileNet, MOBILENET),
        "mobilenet_v2_a010": (keras.applications.MobileNetV2, MOBILENET_V2),
    }
    if name in applications:
        return application_model(*applications[name], classes)
    raise SystemExit(f"{name}: no equivalent Keras model is defined here")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folder")
    args = parser.parse_args(argv)
    names = sorted(f[:-5] for f in os.listdir(args.folder) if f.endswith(".json"))
    if not names:
        raise SystemExit(f"no <name>.json in {args.folder}")
    failures = 0
    for name in names:
        with open(os.path.join(args.folder, f"{name}.json")) as f:
            fixture = json.load(f)
        expected = np.asarray(fixture["logits"], dtype=np.float32)
        nchw = deterministic_input(tuple(fixture["input_shape"]))
        for suffix in (".h5", ".weights.h5"):
            path = os.path.join(args.folder, name + suffix)
            model = keras_model(name, fixture["logits_shape"][1])
            model.load_weights(path)
            found = logits(model, nchw).reshape(-1)
            difference = float(np.abs(found - expected).max() / np.abs(expected).max())
            ok = difference < TOLERANCE
            failures += not ok
            size = os.path.getsize(path) / 1e6
            print(
                f"{'ok' if ok else 'MISMATCH'} {name}{suffix} ({size:.1f} MB): Keras"
                f" {keras.__version__} load_weights, logits differ from the zoo's by"
                f" {difference:.3g} relative"
            )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
