#!/usr/bin/env python3
"""Writes PyTorch reference outputs and gradients for the ZooTensor parity tests.

One JSON file per op family in Tests/ZooTensorTests/Fixtures/:

    {"cases": [{"name": "...", "args": {...},
                "tensors": {"x": {"shape": [...], "data": [...]}, ..., "out": ..., "grad_x": ...}}]}

For every op the script records the inputs, the output, a random weight tensor `w` of the
output's shape, and the gradients of L = sum(out * w) for every input that takes a gradient.
For losses (cross_entropy) the gradients are those of the scalar loss itself (seed 1) and
there is no `w`. Batch norm in training mode also records the running statistics after the
call (`running_mean_out`, `running_var_out`); its inputs `running_mean` / `running_var` are
the statistics before it.

Values are float32 computed on one CPU thread, written as the shortest decimal that reads back
to the same float64 (every float32 is exactly a float64), so the Swift side gets them bit for bit.
Everything is seeded: running the script twice gives identical files.

Usage: python3 Tools/make_torch_fixtures.py [--out DIR]
"""

import argparse
import json
import os

import torch
import torch.nn.functional as F
import torchvision

torch.set_num_threads(1)
torch.set_default_dtype(torch.float32)

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.join(HERE, "..", "Tests", "ZooTensorTests", "Fixtures")


def encode(t):
    t = t.detach().to(torch.float32).contiguous()
    return {"shape": list(t.shape), "data": [float(v) for v in t.reshape(-1).tolist()]}


def seeded(family_seed, index):
    torch.manual_seed(1000 * family_seed + index)


def randn(*shape, scale=1.0, grad=True):
    return (torch.randn(*shape) * scale).requires_grad_(grad)


def weighted_backward(out):
    """Backprops L = sum(out * w) for a fresh random w; returns w."""
    w = torch.randn(out.shape)
    out.backward(w)
    return w


def grads(**inputs):
    return {
        f"grad_{name}": t.grad for name, t in inputs.items() if t is not None and t.requires_grad
    }


def case(name, args, inputs, out, w=None, extra=None):
    tensors = {k: encode(v) for k, v in inputs.items() if v is not None}
    if w is not None:
        tensors["w"] = encode(w)
    tensors["out"] = encode(out)
    tensors.update({k: encode(v) for k, v in grads(**inputs).items()})
    for k, v in (extra or {}).items():
        tensors[k] = encode(v)
    return {"name": name, "args": args, "tensors": tensors}


# --- conv2d -------------------------------------------------------------------------------


def conv2d_cases():
    specs = [
        # name, x shape, weight shape, bias, stride, padding, dilation; stride and padding are
        # an int or a (vertical, horizontal) pair
        ("stride2_pad1_bias", (2, 3, 7, 7), (4, 3, 3, 3), True, 2, 1, 1),
        ("dilation2_nobias", (2, 2, 9, 9), (3, 2, 3, 3), False, 1, 0, 2),
        ("pointwise_1x1", (3, 4, 5, 5), (2, 4, 1, 1), True, 1, 0, 1),
        ("nonsquare_input", (2, 3, 6, 9), (2, 3, 3, 3), True, 1, 1, 1),
        ("nonsquare_stride2_k5_pad2", (2, 2, 7, 8), (3, 2, 5, 5), True, 2, 2, 1),
        ("stride3_pad2_dilation2", (2, 3, 9, 8), (4, 3, 3, 3), True, 3, 2, 2),
        # Inception v3's 1x7 and 7x1 kernels, and unequal strides and paddings
        ("inception_1x7_pad0x3", (2, 2, 5, 8), (3, 2, 1, 7), True, 1, (0, 3), 1),
        ("inception_7x1_pad3x0_nobias", (2, 2, 8, 5), (3, 2, 7, 1), False, 1, (3, 0), 1),
        ("k3x2_stride2x1_pad1x2", (2, 2, 7, 6), (3, 2, 3, 2), True, (2, 1), (1, 2), 1),
    ]
    # name, x shape, weight shape (O, C/groups, kh, kw), bias, stride, padding, groups
    grouped = [
        ("depthwise_3x3_pad1", (2, 4, 6, 6), (4, 1, 3, 3), True, 1, 1, 4),
        ("depthwise_3x3_stride2_nobias", (1, 4, 9, 8), (4, 1, 3, 3), False, 2, 1, 4),
        ("depthwise_5x5_stride2_pad2", (1, 3, 11, 10), (3, 1, 5, 5), True, 2, 2, 3),
        ("depthwise_multiplier2", (1, 3, 6, 6), (6, 1, 3, 3), True, 1, 1, 3),
        ("groups2_stride2", (1, 6, 7, 7), (4, 3, 3, 3), True, 2, 1, 2),
        ("groups4_pointwise_nobias", (1, 8, 5, 6), (8, 2, 1, 1), False, 1, 0, 4),
    ]
    specs += [(n, xs, ws, b, s, p, 1, g) for n, xs, ws, b, s, p, g in grouped]
    out = []
    for i, spec in enumerate(specs):
        name, xs, ws, has_bias, stride, padding, dilation = spec[:7]
        groups = spec[7] if len(spec) > 7 else 1
        seeded(1, i)
        x = randn(*xs)
        weight = randn(*ws, scale=0.3)
        bias = randn(ws[0], scale=0.5) if has_bias else None
        y = F.conv2d(
            x, weight, bias, stride=stride, padding=padding, dilation=dilation, groups=groups)
        w = weighted_backward(y)
        (sh, sw), (ph, pw) = pair(stride), pair(padding)
        args = {"stride": sh, "padding": ph, "dilation": dilation}
        if sw != sh:
            args["stride_width"] = sw
        if pw != ph:
            args["padding_width"] = pw
        if groups != 1:
            args["groups"] = groups
        out.append(case(name, args, {"x": x, "weight": weight, "bias": bias}, y, w))
    return out


def pair(v):
    return (v, v) if isinstance(v, int) else v


def conv_transpose2d_cases():
    specs = [
        # name, x shape, weight shape (Cin, Cout, kh, kw), bias, stride, padding, output_padding, dilation
        ("stride2_pad1_outpad1_bias", (2, 3, 4, 4), (3, 2, 3, 3), True, 2, 1, 1, 1),
        ("unet_up_k2_stride2", (2, 4, 3, 3), (4, 2, 2, 2), True, 2, 0, 0, 1),
        ("stride1_pad1_nobias_nonsquare", (2, 2, 5, 7), (2, 3, 3, 3), False, 1, 1, 0, 1),
        ("stride2_dilation2_bias", (2, 2, 4, 5), (2, 3, 3, 3), True, 2, 1, 0, 2),
    ]
    out = []
    for i, (name, xs, ws, has_bias, stride, padding, output_padding, dilation) in enumerate(specs):
        seeded(2, i)
        x = randn(*xs)
        weight = randn(*ws, scale=0.3)
        bias = randn(ws[1], scale=0.5) if has_bias else None
        y = F.conv_transpose2d(
            x, weight, bias, stride=stride, padding=padding, output_padding=output_padding,
            dilation=dilation)
        w = weighted_backward(y)
        args = {
            "stride": stride, "padding": padding, "output_padding": output_padding,
            "dilation": dilation,
        }
        out.append(case(name, args, {"x": x, "weight": weight, "bias": bias}, y, w))
    return out


# --- batch norm ---------------------------------------------------------------------------


def batch_norm2d_cases():
    specs = [
        # name, x shape, training, affine
        ("train_affine", (3, 4, 5, 6), True, True),
        ("train_no_affine", (2, 3, 5, 5), True, False),
        ("eval_affine", (3, 4, 5, 6), False, True),
    ]
    momentum, eps = 0.1, 1e-5
    out = []
    for i, (name, xs, training, affine) in enumerate(specs):
        seeded(3, i)
        c = xs[1]
        # Shifted, scaled input so the batch statistics are far from (0, 1).
        x = (torch.randn(*xs) * 1.7 + 0.6).requires_grad_(True)
        weight = (torch.rand(c) + 0.5).requires_grad_(True) if affine else None
        bias = randn(c, scale=0.5) if affine else None
        running_mean = torch.randn(c) * 0.2
        running_var = torch.rand(c) + 0.5
        rm, rv = running_mean.clone(), running_var.clone()
        y = F.batch_norm(x, rm, rv, weight, bias, training=training, momentum=momentum, eps=eps)
        w = weighted_backward(y)
        args = {"training": training, "momentum": momentum, "eps": eps}
        inputs = {
            "x": x, "weight": weight, "bias": bias,
            "running_mean": running_mean, "running_var": running_var,
        }
        extra = {"running_mean_out": rm, "running_var_out": rv}
        out.append(case(name, args, inputs, y, w, extra))
    return out


# --- pooling ------------------------------------------------------------------------------


def max_pool2d_cases():
    specs = [
        # name, x shape, kernel, stride (None = kernel), padding, ceil_mode
        ("k3_s2_p1", (2, 3, 7, 7), 3, 2, 1, False),
        ("k2_s2", (2, 3, 8, 8), 2, 2, 0, False),
        ("k2_default_stride_odd_input", (2, 2, 7, 9), 2, None, 0, False),
        ("k3_s2_ceil_mode", (2, 2, 8, 6), 3, 2, 0, True),
    ]
    out = []
    for i, (name, xs, k, s, p, ceil_mode) in enumerate(specs):
        seeded(4, i)
        x = randn(*xs)
        y = F.max_pool2d(x, k, stride=s, padding=p, ceil_mode=ceil_mode)
        w = weighted_backward(y)
        args = {"kernel_size": k, "padding": p, "ceil_mode": ceil_mode}
        if s is not None:
            args["stride"] = s
        out.append(case(name, args, {"x": x}, y, w))
    return out


def avg_pool2d_cases():
    specs = [
        # name, x shape, kernel, stride, padding, count_include_pad
        ("k3_s2_p1_include_pad", (2, 3, 7, 7), 3, 2, 1, True),
        ("k3_s2_p1_exclude_pad", (2, 3, 7, 7), 3, 2, 1, False),
        ("k2_s2", (2, 2, 6, 8), 2, 2, 0, True),
        ("k3_s1_p1_exclude_pad_nonsquare", (2, 2, 5, 8), 3, 1, 1, False),
    ]
    out = []
    for i, (name, xs, k, s, p, include) in enumerate(specs):
        seeded(5, i)
        x = randn(*xs)
        y = F.avg_pool2d(x, k, stride=s, padding=p, count_include_pad=include)
        w = weighted_backward(y)
        args = {"kernel_size": k, "stride": s, "padding": p, "count_include_pad": include}
        out.append(case(name, args, {"x": x}, y, w))
    return out


def adaptive_avg_pool2d_cases():
    specs = [
        ("7x5_to_3x2", (2, 3, 7, 5), (3, 2)),
        ("7x5_to_1x1", (2, 3, 7, 5), (1, 1)),
        ("6x6_to_4x4_overlapping", (2, 2, 6, 6), (4, 4)),
        ("5x7_to_5x7_identity", (2, 2, 5, 7), (5, 7)),
    ]
    out = []
    for i, (name, xs, size) in enumerate(specs):
        seeded(6, i)
        x = randn(*xs)
        y = F.adaptive_avg_pool2d(x, size)
        w = weighted_backward(y)
        args = {"output_size": list(size)}
        out.append(case(name, args, {"x": x}, y, w))
    return out


# --- activations --------------------------------------------------------------------------


def activation_cases():
    # Inputs over [-6, 6] cover both kinks of the hard functions at -3 and 3; two exact kink
    # values pin torch's choice of derivative there.
    specs = [
        # name, function
        ("hardswish", F.hardswish),
        ("hardsigmoid", F.hardsigmoid),
        ("silu", F.silu),
        ("gelu", lambda x: F.gelu(x, approximate="none")),
        ("gelu_tanh", lambda x: F.gelu(x, approximate="tanh")),
    ]
    out = []
    for i, (name, function) in enumerate(specs):
        seeded(9, i)
        x = torch.rand(2, 3, 4, 5) * 12 - 6
        x.view(-1)[:4] = torch.tensor([-3.0, 3.0, 0.0, -30.0])
        x.requires_grad_(True)
        y = function(x)
        w = weighted_backward(y)
        out.append(case(name, {}, {"x": x}, y, w))
    return out


# --- squeeze-and-excitation -----------------------------------------------------------------


def squeeze_excitation_cases():
    """torchvision.ops.SqueezeExcitation in its two uses; the case name fixes the activations.
    The parameters are stored under their state-dict keys, their gradients as grad_<key>."""
    specs = [
        # name, channels, squeeze channels, activation, scale activation
        ("mobilenet_v3", 16, 8, torch.nn.ReLU, torch.nn.Hardsigmoid),
        ("efficientnet", 12, 3, torch.nn.SiLU, torch.nn.Sigmoid),
    ]
    out = []
    for i, (name, channels, squeeze, activation, scale_activation) in enumerate(specs):
        seeded(10, i)
        block = torchvision.ops.SqueezeExcitation(
            channels, squeeze, activation=activation, scale_activation=scale_activation)
        for p in block.parameters():
            with torch.no_grad():
                p.copy_(torch.randn(p.shape) * 0.5)
        x = randn(2, channels, 4, 3)
        y = block(x)
        w = weighted_backward(y)
        inputs = {"x": x, **dict(block.named_parameters())}
        out.append(case(name, {}, inputs, y, w))
    return out


# --- ConvNeXt's layer norm, channels-last linear and layer scale ------------------------------


def layer_norm2d_cases():
    """torchvision's LayerNorm2d (F.layer_norm over C of the channels-last tensor) on NCHW,
    with random affine parameters; the last case is the classifier's pooled (N, C, 1, 1)."""
    specs = [
        # name, x shape, eps
        ("nchw", (2, 5, 3, 4), 1e-6),
        ("nchw_eps_1e-5", (3, 8, 2, 5), 1e-5),
        ("pooled", (2, 16, 1, 1), 1e-6),
    ]
    out = []
    for i, (name, xs, eps) in enumerate(specs):
        seeded(11, i)
        x = randn(*xs, scale=2.0)
        with torch.no_grad():
            x += torch.randn(1, 1, *xs[2:]) * 3  # an offset per position, which the norm removes
        norm = torchvision.models.convnext.LayerNorm2d(xs[1], eps=eps)
        with torch.no_grad():
            norm.weight.copy_(torch.randn(xs[1]))
            norm.bias.copy_(torch.randn(xs[1]))
        y = norm(x)
        w = weighted_backward(y)
        out.append(
            case(name, {"eps": eps}, {"x": x, "weight": norm.weight, "bias": norm.bias}, y, w))
    return out


def convnext_block_cases():
    """torchvision's CNBlock (depthwise 7x7, LayerNorm and two Linear layers channels last,
    GELU, layer scale, residual) in inference, every parameter random; stored under the
    state-dict keys, gradients as grad_<key>."""
    specs = [
        # name, channels, x shape
        ("c8_7x7", 8, (2, 8, 7, 7)),
        ("c4_3x5", 4, (1, 4, 3, 5)),
    ]
    out = []
    for i, (name, channels, xs) in enumerate(specs):
        seeded(12, i)
        block = torchvision.models.convnext.CNBlock(channels, 1e-6, 0.0).eval()
        for p in block.parameters():
            with torch.no_grad():
                p.copy_(torch.randn(p.shape) * 0.5)
        x = randn(*xs)
        y = block(x)
        w = weighted_backward(y)
        inputs = {"x": x, **dict(block.named_parameters())}
        out.append(case(name, {}, inputs, y, w))
    return out


# --- softmax ------------------------------------------------------------------------------


def softmax_cases():
    specs = [
        # name, x shape, log, axis
        ("softmax_rank2_axis1", (3, 5), False, 1),
        ("log_softmax_rank2_axis1", (3, 5), True, 1),
        ("softmax_rank4_axis1", (2, 4, 3, 3), False, 1),
        ("log_softmax_rank4_axis1", (2, 4, 3, 3), True, 1),
        ("log_softmax_rank4_last_axis", (2, 3, 2, 5), True, 3),
    ]
    out = []
    for i, (name, xs, log, axis) in enumerate(specs):
        seeded(7, i)
        x = randn(*xs, scale=2.0)
        y = F.log_softmax(x, dim=axis) if log else F.softmax(x, dim=axis)
        w = weighted_backward(y)
        args = {"log": log, "axis": axis}
        out.append(case(name, args, {"x": x}, y, w))
    return out


# --- cross entropy ------------------------------------------------------------------------


def cross_entropy_cases():
    specs = [
        # name, logits shape, class weights, label smoothing
        ("plain", (6, 5), False, 0.0),
        ("class_weights", (6, 5), True, 0.0),
        ("label_smoothing", (6, 5), False, 0.1),
        ("class_weights_and_label_smoothing", (6, 5), True, 0.1),
        ("rank4_nchw", (2, 4, 3, 3), False, 0.0),
        ("rank4_nchw_weights_smoothing", (2, 3, 2, 3), True, 0.1),
    ]
    out = []
    for i, (name, shape, weighted, smoothing) in enumerate(specs):
        seeded(8, i)
        logits = randn(*shape, scale=2.0)
        c = shape[1]
        target_shape = (shape[0],) + tuple(shape[2:])
        labels = torch.randint(0, c, target_shape)
        class_weights = (torch.rand(c) * 1.5 + 0.25) if weighted else None
        loss = F.cross_entropy(logits, labels, weight=class_weights, label_smoothing=smoothing)
        loss.backward()
        args = {
            "labels": [int(v) for v in labels.reshape(-1).tolist()],
            "label_smoothing": smoothing,
        }
        if weighted:
            args["class_weights"] = [float(v) for v in class_weights.tolist()]
        out.append(case(name, args, {"logits": logits}, loss))
    return out


# --- autoencoder and VAE losses -----------------------------------------------------------


def vae_loss_cases():
    """Reconstruction terms summed per image and averaged over the batch, the Gaussian KL term,
    and the reparameterised sample (whose gradients are those of sum(out * w))."""
    out = []
    seeded(9, 0)
    logits = randn(4, 1, 6, 6, scale=2.0)
    targets = torch.rand(4, 1, 6, 6)
    loss = F.binary_cross_entropy_with_logits(logits, targets, reduction="sum") / 4
    loss.backward()
    out.append(case("bce_per_image", {}, {"logits": logits, "targets": targets}, loss))
    seeded(9, 1)
    prediction = randn(3, 1, 5, 5)
    target = torch.rand(3, 1, 5, 5)
    loss = F.mse_loss(prediction, target, reduction="sum") / 3
    loss.backward()
    out.append(
        case("squared_error_per_image", {}, {"prediction": prediction, "target": target}, loss))
    seeded(9, 2)
    mean = randn(5, 3)
    log_var = randn(5, 3, scale=0.7)
    loss = -0.5 * torch.sum(1 + log_var - mean.pow(2) - log_var.exp()) / 5
    loss.backward()
    out.append(case("gaussian_kl", {}, {"mean": mean, "log_var": log_var}, loss))
    seeded(9, 3)
    mean = randn(5, 3)
    log_var = randn(5, 3, scale=0.7)
    noise = torch.randn(5, 3)
    z = mean + torch.exp(0.5 * log_var) * noise
    w = weighted_backward(z)
    out.append(
        case("reparameterize", {}, {"mean": mean, "log_var": log_var, "noise": noise}, z, w))
    return out


FAMILIES = {
    "conv2d": conv2d_cases,
    "conv_transpose2d": conv_transpose2d_cases,
    "batch_norm2d": batch_norm2d_cases,
    "max_pool2d": max_pool2d_cases,
    "avg_pool2d": avg_pool2d_cases,
    "adaptive_avg_pool2d": adaptive_avg_pool2d_cases,
    "activations": activation_cases,
    "squeeze_excitation": squeeze_excitation_cases,
    "layer_norm2d": layer_norm2d_cases,
    "convnext_block": convnext_block_cases,
    "softmax": softmax_cases,
    "cross_entropy": cross_entropy_cases,
    "vae_losses": vae_loss_cases,
}


def dump(cases):
    """One case per line block, one tensor per line: readable diffs, compact numbers."""
    lines = ['{"cases": [']
    for ci, c in enumerate(cases):
        lines.append("  {")
        lines.append(f'    "name": {json.dumps(c["name"])},')
        lines.append(f'    "args": {json.dumps(c["args"], sort_keys=True)},')
        lines.append('    "tensors": {')
        items = list(c["tensors"].items())
        for ti, (k, v) in enumerate(items):
            comma = "," if ti + 1 < len(items) else ""
            lines.append(f"      {json.dumps(k)}: {json.dumps(v, separators=(',', ':'))}{comma}")
        lines.append("    }")
        lines.append("  }" + ("," if ci + 1 < len(cases) else ""))
    lines.append("]}")
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=DEFAULT_OUT, help="fixture directory")
    opts = parser.parse_args()
    os.makedirs(opts.out, exist_ok=True)
    total = 0
    for family, make in FAMILIES.items():
        cases = make()
        text = dump(cases)
        json.loads(text)  # well-formed
        path = os.path.join(opts.out, f"{family}.json")
        with open(path, "w") as f:
            f.write(text)
        total += len(text)
        print(f"{family}.json: {len(cases)} cases, {len(text)} bytes")
    print(f"total {total} bytes, torch {torch.__version__}")


if __name__ == "__main__":
    main()
