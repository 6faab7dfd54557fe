#!/usr/bin/env python3
"""Writes the reference attributions for the zoo's explanation parity tests.

Builds torchvision's resnet18 with 10 classes, fills it from the deterministic formula of
Tools/make_torchvision_fixtures.py (the Swift test regenerates the same weights and input), runs
a fixed input (2, 3, 32, 32) in eval mode with one class per image, and writes
Tests/ExplainTests/Fixtures/explain_resnet18.json with:

    gradcam, gradcam_plus_plus   pytorch-grad-cam's GradCAM / GradCAMPlusPlus on `layer2`
                                 (output of __call__: scaled, resized, scaled) and the raw map
                                 (the rectified weighted sum before scaling), per image
    saliency                     Captum's Saliency(abs=True), (2, 3, 32, 32)
    integrated_gradients         Captum's IntegratedGradients, baseline 0, 50 steps,
                                 Gauss-Legendre (Captum's default), and its convergence delta
    integrated_gradients_float32_error
                                 the largest difference between Captum's float32 result and the
                                 same sum computed in float64: where a path point sits near a
                                 ReLU or max-pool kink, float32 rounding flips it, so this is
                                 how closely two float32 implementations can be asked to agree
                                 on this input
    integrated_gradients_smooth      the same on `smooth_input` (standard normal values from
                                 NumPy's generator, seed SMOOTH_SEED, stored here), an input on
                                 which Captum's float32 gradient equals the float64 one within
                                 1e-5 at each of the 50 path points (the script checks it and
                                 stops if not), with its float64 sum
                                 (`integrated_gradients_smooth_float64`) and
                                 `path_point_gradient_error`, the largest float32 vs float64
                                 gradient difference at a path point, for the sine input (some
                                 points flip at max-pool ties) and for this one
    integrated_gradients_smooth_configurations
                                 Captum's attributions and delta for the smooth input with
                                 PyTorch's other CPU convolutions: oneDNN off (im2col and GEMM,
                                 as the zoo's), each with and without every batch norm folded
                                 into its convolution by `fuse_conv_bn_eval`. That input is not
                                 clear of kinks at float32 resolution: some path points hold a
                                 ReLU input within a few 1e-6 of 0 (`smooth_kink_margin`, the
                                 smallest |ReLU input| over the path in float64, per image),
                                 below the rounding of its 576-term sum, so these equally valid
                                 float32 computations put it on either side and their
                                 attributions differ by up to 6.2e-4. Arrays are stored for the
                                 configurations that differ from the default by more than 1e-5;
                                 `configuration_differences` gives each one's largest difference

Computed on one CPU thread; running the script twice gives identical files.

Usage: python3 Tools/make_explain_fixtures.py [--out DIR]
"""

import argparse
import copy
import json
import os
import sys

import numpy as np
import torch
import torchvision
from captum.attr import IntegratedGradients, Saliency
from pytorch_grad_cam import GradCAM, GradCAMPlusPlus
from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget
from torch.nn.utils.fusion import fuse_conv_bn_eval

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_torchvision_fixtures import FORMULA, deterministic_input, deterministic_value  # noqa: E402

INPUT_SHAPE = [2, 3, 32, 32]
CLASSES = [3, 7]
LAYER = "layer2"
STEPS = 50
SMOOTH_SEED = 0


def build():
    model = torchvision.models.resnet18(num_classes=10)
    state = {
        key: deterministic_value(key, list(value.shape))
        for key, value in model.state_dict().items()
        if not key.endswith("num_batches_tracked")
    }
    model.load_state_dict(state, strict=False)
    return model.eval()


def flat(t):
    """Float32 values to 8 significant digits, far below the tests' 1e-4 tolerance."""
    return [float(f"{v:.8g}") for v in np.asarray(t, dtype=np.float32).reshape(-1)]


def cams(method, model, x):
    cam = method(model=model, target_layers=[model.get_submodule(LAYER)])
    targets = [ClassifierOutputTarget(c) for c in CLASSES]
    heatmap = cam(input_tensor=x, targets=targets)
    activations = cam.activations_and_grads.activations[0].cpu().numpy()
    gradients = cam.activations_and_grads.gradients[0].cpu().numpy()
    raw = np.maximum(cam.get_cam_image(x, LAYER, targets, activations, gradients, False), 0)
    return {"heatmap": flat(heatmap), "raw": flat(raw), "raw_shape": list(raw.shape)}


def fused(model):
    """A copy of `model` with every batch norm folded into the convolution before it."""
    model = copy.deepcopy(model)
    model.conv1, model.bn1 = fuse_conv_bn_eval(model.conv1, model.bn1), torch.nn.Identity()
    for stage in [model.layer1, model.layer2, model.layer3, model.layer4]:
        for block in stage:
            block.conv1, block.bn1 = fuse_conv_bn_eval(block.conv1, block.bn1), torch.nn.Identity()
            block.conv2, block.bn2 = fuse_conv_bn_eval(block.conv2, block.bn2), torch.nn.Identity()
            if block.downsample is not None:
                block.downsample = fuse_conv_bn_eval(*block.downsample)
    return model.eval()


def captum_configurations(model, x, target):
    """Captum's attributions and delta for `x` with each of PyTorch's CPU convolution
    configurations: oneDNN on or off, batch norms folded or not."""
    results = {}
    for onednn in [True, False]:
        for fold in [False, True]:
            with torch.backends.mkldnn.flags(enabled=onednn):
                ig, delta = IntegratedGradients(fused(model) if fold else model).attribute(
                    x, baselines=torch.zeros_like(x), target=target, n_steps=STEPS,
                    return_convergence_delta=True)
            name = ("onednn" if onednn else "onednn_off") + ("_fused" if fold else "")
            results[name] = (ig.detach(), delta.detach())
    return results


def kink_margins(float64, x):
    """Per image, the smallest |input| of any ReLU at any of the path points, in float64."""
    alphas = 0.5 * (np.polynomial.legendre.leggauss(STEPS)[0] + 1)
    smallest = []

    def record(_, inputs):
        smallest.append(inputs[0].abs().flatten(1).min(1)[0])

    hooks = [
        m.register_forward_pre_hook(record)
        for m in float64.modules() if isinstance(m, torch.nn.ReLU)]
    with torch.no_grad():
        float64(torch.cat([alpha * x.double() for alpha in alphas]))
    for hook in hooks:
        hook.remove()
    return torch.stack(smallest).min(0)[0].view(STEPS, -1).min(0)[0].tolist()


def float64_integrated_gradients(model, float64, x, target):
    """The Gauss-Legendre sum of the float64 model's gradients along the path from 0 to x (to
    be multiplied by x), and the largest difference between the float32 and float64 gradients
    at a path point: about 1e-7 unless rounding puts a point on the other side of a kink."""
    alphas, weights = np.polynomial.legendre.leggauss(STEPS)
    total = torch.zeros_like(x, dtype=torch.float64)
    worst = 0.0
    for alpha, weight in zip(0.5 * (alphas + 1), 0.5 * weights):
        gradients = []
        for net, dtype in [(float64, torch.float64), (model, torch.float32)]:
            point = (torch.tensor(alpha, dtype=dtype) * x.to(dtype)).requires_grad_()
            out = net(point)
            (gradient,) = torch.autograd.grad(out[torch.arange(len(CLASSES)), target].sum(), point)
            gradients.append(gradient.double())
        total += weight * gradients[0]
        worst = max(worst, (gradients[0] - gradients[1]).abs().max().item())
    return total, worst


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--out", default=os.path.join(os.path.dirname(__file__), "..", "Tests", "ExplainTests", "Fixtures"))
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    model = build()
    x = deterministic_input(INPUT_SHAPE)
    target = torch.tensor(CLASSES)
    saliency = Saliency(model).attribute(x.clone().requires_grad_(), target=target, abs=True)
    ig, delta = IntegratedGradients(model).attribute(
        x, baselines=torch.zeros_like(x), target=target, n_steps=STEPS,
        return_convergence_delta=True)
    float64 = build().double()
    total, point_error = float64_integrated_gradients(model, float64, x, target)
    float32_error = (ig.detach().double() - total * x.double()).abs().max().item()
    smooth = torch.tensor(
        np.random.default_rng(SMOOTH_SEED).standard_normal(INPUT_SHAPE).astype(np.float32))
    smooth_ig, smooth_delta = IntegratedGradients(model).attribute(
        smooth, baselines=torch.zeros_like(smooth), target=target, n_steps=STEPS,
        return_convergence_delta=True)
    smooth_total, smooth_point_error = float64_integrated_gradients(model, float64, smooth, target)
    if smooth_point_error > 1e-5:
        sys.exit(f"Captum's float32 gradient at a path point of the smooth input differs from "
                 f"the float64 one by {smooth_point_error:.3g}")
    configurations = captum_configurations(model, smooth, target)
    default = configurations.pop("onednn")[0]
    differences = {
        name: (ig - default).abs().max().item() for name, (ig, _) in configurations.items()}
    fixture = {
        "model": "resnet18",
        "torch": torch.__version__,
        "captum": __import__("captum").__version__,
        "pytorch_grad_cam": getattr(__import__("pytorch_grad_cam"), "__version__", "unknown"),
        "formula": FORMULA,
        "class_count": 10,
        "input_shape": INPUT_SHAPE,
        "classes": CLASSES,
        "layer": LAYER,
        "steps": STEPS,
        "gradcam": cams(GradCAM, model, x),
        "gradcam_plus_plus": cams(GradCAMPlusPlus, model, x),
        "saliency": flat(saliency.detach()),
        "integrated_gradients": flat(ig.detach()),
        "integrated_gradients_delta": flat(delta.detach()),
        "integrated_gradients_float32_error": float(f"{float32_error:.8g}"),
        "smooth_seed": SMOOTH_SEED,
        "smooth_input": flat(smooth),
        "integrated_gradients_smooth": flat(smooth_ig.detach()),
        "integrated_gradients_smooth_delta": flat(smooth_delta.detach()),
        "integrated_gradients_smooth_float64": [
            float(f"{v:.10g}") for v in (smooth_total * smooth.double()).reshape(-1).tolist()],
        "integrated_gradients_smooth_configurations": {
            name: {"attributions": flat(ig), "delta": flat(delta)}
            for name, (ig, delta) in configurations.items() if differences[name] > 1e-5},
        "configuration_differences": {
            name: float(f"{d:.8g}") for name, d in differences.items()},
        "smooth_kink_margin": [float(f"{m:.8g}") for m in kink_margins(float64, smooth)],
        "path_point_gradient_error": {
            "sine": float(f"{point_error:.8g}"), "smooth": float(f"{smooth_point_error:.8g}")},
    }
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, "explain_resnet18.json")
    with open(path, "w") as f:
        json.dump(fixture, f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
