#!/usr/bin/env python3
"""Exports registry models to ONNX with the built `zoo`, checks each file with
onnx.checker.check_model (full_check: shapes inferred) and compares onnxruntime's output on a
fixed batch with the zoo's own output on the same batch.

Needs `pip install onnx onnxruntime numpy` and a built `zoo`:

    swift build -c release --product zoo
    python3 Tools/check_onnx.py [ZOO] [--models 'resnet*'] [--exclude 'vgg*'] [--size 64]
        [--weight-files zoo/*.h5]

ZOO defaults to .build/release/zoo. For each model, `zoo export NAME --format onnx --input CxSxS
--test-data DIR` writes the graph, a batch of 2 normal random images (seed 0) and the zoo's
output on it (ONNX test data: input_0.pb, output_0.pb); onnxruntime then runs the graph on that
batch. The difference is max|onnxruntime - zoo| / max|zoo| over the whole output, and must be
at most 1e-5. Images are S x S (default 64; the architecture's own size when that is smaller,
75 for the Inceptions, whose stems need it); a model of table rows (mlp) takes its own features.
Weight files (--weight-files, such as the shipped ones in zoo/) are exported at the input size
they record and must carry their class names into the ONNX metadata.
"""

import argparse
import fnmatch
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import onnx
import onnxruntime as ort
from onnx import numpy_helper

TOLERANCE = 1e-5
# Smallest square input at which a model runs in inference, where the default size is smaller.
MINIMUM_SIZE = {"inception_v3": 75, "inception_v3-keras": 75, "inception_resnet_v2-keras": 75,
                "xception-keras": 71}


def input_shape(model, size):
    shape = model["inputShape"]
    if len(shape) != 3:
        return None
    side = min(shape[1], max(size, MINIMUM_SIZE.get(model["name"], 0)))
    return [shape[0], side, side]


def check(zoo, model, size, folder):
    name = model["name"]
    source = model.get("file", name)
    path = os.path.join(folder, os.path.basename(name) + ".onnx")
    data = os.path.join(folder, os.path.basename(name))
    command = [zoo, "export", source, "--format", "onnx", "--out", path, "--test-data", data]
    shape = input_shape(model, size) if "file" not in model else None
    if shape:
        command += ["--input", "x".join(map(str, shape))]
    started = time.monotonic()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    exported = time.monotonic() - started
    onnx.checker.check_model(path, full_check=True)
    x = numpy_helper.to_array(onnx.load_tensor(os.path.join(data, "input_0.pb")))
    expected = numpy_helper.to_array(onnx.load_tensor(os.path.join(data, "output_0.pb")))
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    (actual,) = session.run(None, {"input": x})
    meta = session.get_modelmeta().custom_metadata_map
    assert meta.get("architecture") == model.get("architecture", name), meta
    if "file" in model and model.get("task") != "generation":
        # An autoencoder's file has no classes: its class count is the latent size.
        assert "class_names" in meta, f"the weight file's class names are missing: {meta}"
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    difference = float(np.abs(actual - expected).max() / np.abs(expected).max())
    megabytes = os.path.getsize(path) / 2**20
    for file in (path, os.path.join(data, "input_0.pb"), os.path.join(data, "output_0.pb")):
        os.remove(file)
    return shape or model["inputShape"], difference, megabytes, exported, time.monotonic() - started


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("zoo", nargs="?", default=".build/release/zoo")
    parser.add_argument("--models", default="*", help="glob of registry names to check")
    parser.add_argument("--exclude", default="", help="glob of registry names to leave out")
    parser.add_argument("--size", type=int, default=64, help="image height and width")
    parser.add_argument("--weight-files", nargs="*", default=[],
                        help="also export these weight files (at the size they record)")
    args = parser.parse_args()
    listing = subprocess.run(
        [args.zoo, "list", "--json"], check=True, capture_output=True, text=True).stdout
    models = [m for m in json.loads(listing)["models"]
              if fnmatch.fnmatch(m["name"], args.models)
              and not (args.exclude and fnmatch.fnmatch(m["name"], args.exclude))]
    tasks = {m["name"]: m["task"] for m in json.loads(listing)["models"]}
    for file in args.weight_files:
        info = subprocess.run([args.zoo, "info", file], check=True, capture_output=True,
                              text=True).stdout
        architecture = next(line.split(": ", 1)[1] for line in info.splitlines()
                            if line.startswith("Architecture: "))
        models.append({"name": file, "file": file, "architecture": architecture,
                       "task": tasks.get(architecture), "inputShape": []})
    failures = 0
    worst = 0.0
    print(f"{'model':<34} {'input':<12} {'max rel diff':>12} {'MB':>7} {'export s':>9} {'total s':>8}")
    with tempfile.TemporaryDirectory() as folder:
        for model in models:
            try:
                shape, difference, megabytes, exported, total = check(
                    args.zoo, model, args.size, folder)
            except Exception as error:  # one line per failing model, then go on
                failures += 1
                print(f"{model['name']:<34} FAIL {str(error).splitlines()[-1] if str(error) else error!r}")
                continue
            worst = max(worst, difference)
            verdict = "" if difference <= TOLERANCE else "  FAIL (over 1e-5)"
            failures += difference > TOLERANCE
            print(f"{model['name']:<34} {'x'.join(map(str, shape)) or 'recorded':<12} {difference:>12.2e} "
                  f"{megabytes:>7.1f} {exported:>9.1f} {total:>8.1f}{verdict}", flush=True)
    print(f"{len(models) - failures} of {len(models)} models pass; "
          f"largest relative difference {worst:.2e} (tolerance {TOLERANCE:.0e})")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
