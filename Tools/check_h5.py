#!/usr/bin/env python3
"""Checks a zoo weight file (.h5) with h5py and prints a summary; exits 1 on any problem.

The file is read the way Keras's legacy `load_weights` reads it: `layer_names` at the root
(whole or split into layer_names0, layer_names1, ...), each group's `weight_names`, and each
dataset opened by the exact relative path listed there. Then, for every layer:

- every dataset is float32;
- the layer kind (`zoo_layer`, or inferred as Keras files have none) fits the tensors:
  Conv2d kernel (kh, kw, in, out) and ConvTranspose2d kernel (kh, kw, out, in) of rank 4 with
  kh == kw, Linear kernel (in, out), a bias as long as the kernel's output axis, BatchNorm's
  gamma, beta, moving_mean and moving_variance of one length with a positive `zoo_eps`,
  DepthwiseConv2d depthwise_kernel (kh, kw, in, multiplier) with a bias of in * multiplier;
- no dataset is left out of every `weight_names`.

With --torchvision NAME, every dataset's shape is also compared with torchvision's model of
that name (weights=None, --num-classes) after the layout permutation, and the two must hold
the same tensors.

Usage: python3 Tools/check_h5.py FILE [--torchvision NAME --num-classes N] [--quiet]
"""

import argparse
import os
import sys

import h5py
import numpy as np

KERAS_NAMES = {
    "Conv2d": {"kernel": "weight", "bias": "bias"},
    "ConvTranspose2d": {"kernel": "weight", "bias": "bias"},
    "Linear": {"kernel": "weight", "bias": "bias"},
    "DepthwiseConv2d": {"depthwise_kernel": "weight", "bias": "bias"},
    "BatchNorm": {
        "gamma": "weight",
        "beta": "bias",
        "moving_mean": "running_mean",
        "moving_variance": "running_var",
    },
}


def decode(value):
    return value.decode("utf8") if hasattr(value, "decode") else str(value)


def load_attributes(group, name):
    """Keras's load_attributes_from_hdf5_group (None when absent)."""
    if name in group.attrs:
        value = group.attrs[name]
        return [decode(n) for n in np.atleast_1d(value)]
    data, chunk = [], 0
    while f"{name}{chunk}" in group.attrs:
        data.extend(decode(n) for n in np.atleast_1d(group.attrs[f"{name}{chunk}"]))
        chunk += 1
    return data if chunk else None


def short_name(weight_name):
    """'conv1/kernel:0' (Keras 2) or 'conv1/kernel' (Keras 3) -> 'kernel'."""
    last = weight_name.split("/")[-1]
    head, _, tail = last.rpartition(":")
    return head if head and tail.isdigit() else last


def infer_kind(shapes):
    if {"gamma", "beta", "moving_mean", "moving_variance"} & set(shapes):
        return "BatchNorm"
    if "depthwise_kernel" in shapes:
        return "DepthwiseConv2d"
    kernel = shapes.get("kernel")
    if kernel is not None and len(kernel) == 4:
        return "Conv2d"
    if kernel is not None and len(kernel) == 2:
        return "Linear"
    return None


def check_layer(name, kind, shapes, eps):
    """Problems with one layer's shapes, given its kind."""
    problems = []
    kernel, bias = shapes.get("kernel"), shapes.get("bias")
    if kind in ("Conv2d", "ConvTranspose2d"):
        if kernel is None or len(kernel) != 4:
            problems.append(f"{name}: a {kind} kernel has rank 4, found {kernel}")
        else:
            if kernel[0] != kernel[1]:
                problems.append(f"{name}: kernel {kernel} is not square")
            out_axis = 3 if kind == "Conv2d" else 2
            if bias is not None and tuple(bias) != (kernel[out_axis],):
                problems.append(f"{name}: bias {bias} does not match kernel {kernel}")
    elif kind == "DepthwiseConv2d":
        depthwise = shapes.get("depthwise_kernel")
        if depthwise is None or len(depthwise) != 4:
            problems.append(f"{name}: a depthwise kernel has rank 4, found {depthwise}")
        elif bias is not None and tuple(bias) != (depthwise[2] * depthwise[3],):
            problems.append(f"{name}: bias {bias} does not match kernel {depthwise}")
    elif kind == "Linear":
        if kernel is None or len(kernel) != 2:
            problems.append(f"{name}: a Linear kernel has rank 2 (in, out), found {kernel}")
        elif bias is not None and tuple(bias) != (kernel[1],):
            problems.append(f"{name}: bias {bias} does not match kernel {kernel}")
    elif kind == "BatchNorm":
        lengths = {tuple(s) for s in shapes.values()}
        if len(lengths) != 1 or len(next(iter(lengths))) != 1:
            problems.append(f"{name}: batch norm tensors differ or are not vectors: {shapes}")
        if eps is not None and not eps > 0:
            problems.append(f"{name}: zoo_eps {eps} is not positive")
    for weight in shapes:
        if weight not in KERAS_NAMES.get(kind, {}):
            problems.append(f"{name}: a {kind} has no weight '{weight}'")
    return problems


def expected_from_torchvision(name, num_classes):
    """{zoo path: Keras shape} for torchvision's model."""
    import torch
    import torchvision

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from convert_torch import group_layers, keras_layout, module_kinds

    model = torchvision.models.get_model(name, weights=None, num_classes=num_classes)
    expected = {}
    with torch.no_grad():
        for path, kind, _, tensors in group_layers(model.state_dict(), kinds=module_kinds(model)):
            for keras, zoo in KERAS_NAMES[kind].items():
                if zoo in tensors:
                    expected[f"{path}.{zoo}"] = keras_layout(kind, keras, tensors[zoo]).shape
    return expected


def check(path, torchvision_name=None, num_classes=1000, quiet=False):
    problems, found, kinds, listed = [], {}, {}, set()
    values = 0
    with h5py.File(path, "r") as f:
        layer_names = load_attributes(f, "layer_names")
        if layer_names is None:
            return [f"{path}: no root attribute layer_names"], ""
        for name in layer_names:
            if name not in f or not isinstance(f[name], h5py.Group):
                problems.append(f"layer_names lists {name}, which is not a group")
                continue
            group = f[name]
            weight_names = load_attributes(group, "weight_names")
            if weight_names is None:
                problems.append(f"{name}: no weight_names")
                continue
            shapes = {}
            for weight_name in weight_names:
                if weight_name not in group or not isinstance(group[weight_name], h5py.Dataset):
                    problems.append(f"{name}: weight_names lists missing {weight_name}")
                    continue
                dataset = group[weight_name]
                listed.add(dataset.name)
                if dataset.dtype != np.float32:
                    problems.append(f"{dataset.name}: {dataset.dtype}, expected float32")
                shapes[short_name(weight_name)] = dataset.shape
                values += int(np.prod(dataset.shape))
            kind = decode(group.attrs["zoo_layer"]) if "zoo_layer" in group.attrs else None
            kind = kind or infer_kind(shapes)
            if kind not in KERAS_NAMES:
                problems.append(f"{name}: unknown layer kind {kind}")
                continue
            eps = float(group.attrs["zoo_eps"]) if "zoo_eps" in group.attrs else None
            problems += check_layer(name, kind, shapes, eps)
            kinds[kind] = kinds.get(kind, 0) + 1
            for weight, shape in shapes.items():
                if weight == "depthwise_kernel":
                    # torchvision's layout converts to a grouped kernel (kh, kw, 1, in * m).
                    shape = (shape[0], shape[1], 1, shape[2] * shape[3])
                if weight in KERAS_NAMES[kind]:
                    found[f"{name}.{KERAS_NAMES[kind][weight]}"] = shape
        unlisted = []
        f.visititems(
            lambda n, o: unlisted.append(o.name)
            if isinstance(o, h5py.Dataset) and o.name not in listed
            else None
        )
        problems += [f"{n}: not listed in any weight_names" for n in unlisted]
        metadata = {k: f.attrs[k] for k in sorted(f.attrs) if k.startswith("zoo_")}

    if torchvision_name:
        expected = expected_from_torchvision(torchvision_name, num_classes)
        for key, shape in expected.items():
            if key not in found:
                problems.append(f"{key}: missing (torchvision has {shape})")
            elif tuple(found[key]) != tuple(shape):
                problems.append(f"{key}: Keras layout {shape} expected, file has {found[key]}")
        extra = [key for key in found if key not in expected]
        problems += [f"{key}: not in torchvision's {torchvision_name}" for key in extra]

    kind_summary = ", ".join(f"{count} {kind}" for kind, count in sorted(kinds.items()))
    summary = (
        f"{path}: {len(layer_names)} layers ({kind_summary}), {len(found)} tensors,"
        f" {values} values"
    )
    if torchvision_name:
        summary += f"; shapes match torchvision {torchvision_name}" if not problems else ""
    if not quiet:
        for key, value in metadata.items():
            text = decode(value) if not isinstance(value, np.ndarray) else value.tolist()
            text = str(text)
            print(f"  {key}: {text[:100]}{'...' if len(text) > 100 else ''}")
    return problems, summary


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("file")
    parser.add_argument("--torchvision", metavar="NAME")
    parser.add_argument("--num-classes", type=int, default=1000)
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    problems, summary = check(args.file, args.torchvision, args.num_classes, args.quiet)
    for problem in problems:
        print(f"MISMATCH {problem}")
    if summary:
        print(summary + ("" if not problems else f"; {len(problems)} problems"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
