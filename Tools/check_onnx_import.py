#!/usr/bin/env python3
"""Round trip from PyTorch through ONNX into the zoo: torchvision's resnet18, exported by
torch.onnx.export, imports with `zoo import model.onnx --arch resnet18` and gives torchvision's
logits.

    python3 Tools/check_onnx_import.py [ZOO]                  # needs onnx, numpy
    python3 Tools/check_onnx_import.py [ZOO] --make-fixture   # needs torch, torchvision too

ZOO defaults to .build/release/zoo. The fixture (Tests/ZooONNXTests/Fixtures/resnet18-torch)
holds the ONNX file torch.onnx.export wrote for torchvision's resnet18(weights=None), xz
compressed (45 MB -> about 50 kB), a batch of one 3x32x32 image (input_0.pb) and torchvision's
logits on it (output_0.pb). Its weights follow a formula that compresses: every tensor is a
window, at its own offset, of one of two fixed random sequences (4,099 normal values x 0.05
for weights and biases, 4,111 uniform values in [0.5, 1.5] for batch-norm scales and running
variances); the offsets differ, so no two tensors are equal and a tensor read under another
name or in another layout changes the logits. It is exported at opset 17 by the TorchScript
exporter (dynamo=False: the dynamo exporter needs onnxscript) with
training=TrainingMode.PRESERVE and do_constant_folding=False, so batch norms stay
BatchNormalization nodes whose initializers keep their state-dict names (in eval mode the
exporter folds them into the convolutions).

Checks: the zoo's logits on the batch (from `zoo export imported.h5 --format onnx --test-input
input_0.pb --test-data DIR`) are within 1e-4 of torchvision's, as max|zoo - torch| /
max|torch|; the zoo's re-export holds every initializer of the file bit for bit.
"""

import argparse
import lzma
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import numpy_helper

TOLERANCE = 1e-4
FIXTURE = "Tests/ZooONNXTests/Fixtures/resnet18-torch"


def make_fixture(folder):
    import torch
    import torchvision

    torch.manual_seed(0)
    model = torchvision.models.resnet18(weights=None)
    rng = np.random.default_rng(0)
    signed = rng.standard_normal(4099).astype(np.float32) * 0.05
    positive = rng.uniform(0.5, 1.5, 4111).astype(np.float32)
    with torch.no_grad():
        for index, (name, tensor) in enumerate(model.state_dict().items()):
            if name.endswith("num_batches_tracked"):
                continue
            scale = name.endswith("running_var") or (name.endswith(".weight") and tensor.ndim == 1)
            pattern = np.roll(positive if scale else signed, 997 * index)
            tensor.copy_(torch.from_numpy(np.resize(pattern, tensor.numel()).reshape(tensor.shape)))
    model.eval()
    x = torch.randn(1, 3, 32, 32)
    with torch.no_grad():
        logits = model(x).numpy()
    os.makedirs(folder, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        path = os.path.join(scratch, "model.onnx")
        torch.onnx.export(
            model, (x,), path, dynamo=False, opset_version=17,
            training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False,
            input_names=["input"], output_names=["logits"],
            dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}})
        with open(path, "rb") as source, open(os.path.join(folder, "model.onnx.xz"), "wb") as out:
            out.write(lzma.compress(source.read(), preset=9))
    for name, array in (("input", x.numpy()), ("logits", logits)):
        file = "input_0.pb" if name == "input" else "output_0.pb"
        with open(os.path.join(folder, file), "wb") as f:
            f.write(numpy_helper.from_array(array, name).SerializeToString())


def check(zoo, fixture):
    expected = numpy_helper.to_array(onnx.load_tensor(os.path.join(fixture, "output_0.pb")))
    batch = os.path.join(fixture, "input_0.pb")
    with tempfile.TemporaryDirectory() as folder:
        exported = os.path.join(folder, "resnet18.onnx")
        with lzma.open(os.path.join(fixture, "model.onnx.xz")) as source, \
                open(exported, "wb") as out:
            out.write(source.read())
        original = {t.name: numpy_helper.to_array(t)
                    for t in onnx.load(exported).graph.initializer}
        imported = os.path.join(folder, "resnet18.h5")
        subprocess.run([zoo, "import", exported, "--arch", "resnet18", "--out", imported],
                       check=True)
        again = os.path.join(folder, "again.onnx")
        data = os.path.join(folder, "zoo")
        subprocess.run([zoo, "export", imported, "--format", "onnx", "--out", again,
                        "--test-input", batch, "--test-data", data],
                       check=True, stdout=subprocess.DEVNULL)
        logits = numpy_helper.to_array(onnx.load_tensor(os.path.join(data, "output_0.pb")))
        initializers = {t.name: numpy_helper.to_array(t)
                        for t in onnx.load(again).graph.initializer}
    assert sorted(initializers) == sorted(original), set(initializers) ^ set(original)
    changed = [k for k in original if not np.array_equal(initializers[k], original[k])]
    assert not changed, f"tensors that changed on the way: {changed[:5]}"
    difference = float(np.abs(logits - expected).max() / np.abs(expected).max())
    print(f"resnet18 from torch.onnx.export: {len(original)} tensors bit for bit, logits within "
          f"{difference:.2e} of torchvision's (tolerance {TOLERANCE:.0e})")
    return 0 if difference <= TOLERANCE else 1


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("zoo", nargs="?", default=".build/release/zoo")
    parser.add_argument("--fixture", default=FIXTURE)
    parser.add_argument("--make-fixture", action="store_true",
                        help="write the fixture with torch first, then check it")
    args = parser.parse_args()
    if args.make_fixture:
        make_fixture(args.fixture)
    return check(args.zoo, args.fixture)


if __name__ == "__main__":
    sys.exit(main())
