#!/usr/bin/env python3
"""Round trip from PyTorch through ONNX into the zoo: torchvision's resnet18, exported by
torch.onnx.export, imports with `zoo import model.onnx --arch resnet18` and gives torchvision's
logits.

Needs torch, torchvision, onnx and numpy, and a built `zoo`:

    python3 Tools/check_onnx_import.py [ZOO]

ZOO defaults to .build/release/zoo. The model is resnet18(weights=None) after
torch.manual_seed(0), with its batch norms given random affine parameters and running
statistics (as trained weights have; fresh ones are all ones and zeros, which the exporter
would store once and name by Identity nodes). It is exported at opset 17 by the TorchScript
exporter (dynamo=False: the dynamo exporter needs onnxscript) with
training=TrainingMode.PRESERVE and do_constant_folding=False, so that batch norms stay
BatchNormalization nodes whose initializers keep their state-dict names (in eval mode the
exporter folds them into the convolutions). The 45 MB file is made here, in a temporary
folder, not committed.

Checks: the zoo's logits on the same batch of 2 images of 3x64x64 (from
`zoo export imported.h5 --format onnx --test-input input_0.pb --test-data DIR`) are within
1e-4 of torchvision's, as max|zoo - torch| / max|torch|; the zoo's re-export holds every
state-dict tensor bit for bit.
"""

import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
import torch
import torchvision
from onnx import numpy_helper

TOLERANCE = 1e-4


def torchvision_resnet18():
    torch.manual_seed(0)
    model = torchvision.models.resnet18(weights=None)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.weight.uniform_(0.5, 1.5)
                module.bias.normal_(0, 0.1)
                module.running_mean.normal_(0, 0.1)
                module.running_var.uniform_(0.5, 1.5)
    return model.eval()


def main():
    zoo = sys.argv[1] if len(sys.argv) > 1 else ".build/release/zoo"
    model = torchvision_resnet18()
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        expected = model(x).numpy()
    with tempfile.TemporaryDirectory() as folder:
        exported = os.path.join(folder, "resnet18.onnx")
        torch.onnx.export(
            model, (x,), exported, dynamo=False, opset_version=17,
            training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False,
            input_names=["input"], output_names=["logits"],
            dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}})
        batch = os.path.join(folder, "input_0.pb")
        with open(batch, "wb") as f:
            f.write(numpy_helper.from_array(x.numpy(), "input").SerializeToString())
        imported = os.path.join(folder, "resnet18.h5")
        subprocess.run([zoo, "import", exported, "--arch", "resnet18", "--out", imported],
                       check=True)
        again = os.path.join(folder, "again.onnx")
        data = os.path.join(folder, "zoo")
        subprocess.run([zoo, "export", imported, "--format", "onnx", "--out", again,
                        "--input", "3x64x64", "--test-input", batch, "--test-data", data],
                       check=True, stdout=subprocess.DEVNULL)
        logits = numpy_helper.to_array(onnx.load_tensor(os.path.join(data, "output_0.pb")))
        initializers = {t.name: numpy_helper.to_array(t)
                        for t in onnx.load(again).graph.initializer}
    state = {k: v.numpy() for k, v in model.state_dict().items()
             if not k.endswith("num_batches_tracked")}
    assert sorted(initializers) == sorted(state), set(initializers) ^ set(state)
    changed = [k for k in state if not np.array_equal(initializers[k], state[k])]
    assert not changed, f"tensors that changed on the way: {changed[:5]}"
    difference = float(np.abs(logits - expected).max() / np.abs(expected).max())
    print(f"resnet18 from torch.onnx.export: {len(state)} tensors bit for bit, logits within "
          f"{difference:.2e} of torchvision's (tolerance {TOLERANCE:.0e})")
    return 0 if difference <= TOLERANCE else 1


if __name__ == "__main__":
    sys.exit(main())
