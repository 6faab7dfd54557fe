#!/usr/bin/env python3
"""Converts a PyTorch state dict to a zoo weight file (.h5), written with h5py.

The file is Keras's legacy weights layout, exactly as the zoo writes it (ZooIO/WeightFile.swift):

    /                       layer_names, backend, keras_version, zoo_* metadata
    /<module path>          weight_names = ["<module path>/kernel:0", ...]
                            zoo_layer = "Conv2d" | "ConvTranspose2d" | "Linear" | "BatchNorm"
                                        | "LayerNorm" | "LayerScale"
                            zoo_eps (batch and layer norm only)
    /<module path>/<module path>/kernel:0    float32 in Keras's layout

Layouts: Conv2d (O, I, kh, kw) -> (kh, kw, I, O) and ConvTranspose2d (I, O, kh, kw) ->
(kh, kw, O, I), both a permute (2, 3, 1, 0); Linear (O, I) -> (I, O); BatchNorm weight, bias,
running_mean, running_var -> gamma, beta, moving_mean, moving_variance; LayerNorm weight, bias
-> gamma, beta; a layer scale (ConvNeXt's `layer_scale`, (C, 1, 1)) -> gamma (C), as Keras's
ConvNeXt `LayerScale` layer holds it, in a group named for the module that owns it.
num_batches_tracked is dropped. String lists over 64512 bytes are split into name0, name1, ... as Keras splits them.

The source is a torchvision model by name (built with weights=None after seeding torch), or a
.pth file holding a state dict or a whole pickled model. Layer kinds and batch-norm eps come
from the modules when there are modules; for a bare state dict they are inferred: a layer with
running statistics is a BatchNorm (eps --bn-eps), one with a rank-1 weight and no running
statistics a LayerNorm (eps --ln-eps), a `layer_scale` a LayerScale, a rank-4 weight a Conv2d
(unless listed in --transposed), a rank-2 weight a Linear (ConvNeXt's channels-last ones too).

The file is written under a temporary name in the same folder and renamed into place.

Examples:
    python3 Tools/convert_torch.py --torchvision resnet18 --num-classes 10 --seed 0 \\
        --architecture resnet18 --class-count 10 --input-shape 3 224 224 -o resnet18.h5
    python3 Tools/convert_torch.py --pth unet.pth --transposed up1.up up2.up -o unet.h5
"""

import argparse
import json
import os
import sys
import tempfile

import h5py
import numpy as np
import torch

BACKEND = "tensorflow"
KERAS_VERSION = "2.15.0"
ATTRIBUTE_LIMIT = 64512

# zoo tensor name -> Keras weight name, in Keras's order, per layer kind.
WEIGHTS = {
    "Conv2d": [("weight", "kernel"), ("bias", "bias")],
    "ConvTranspose2d": [("weight", "kernel"), ("bias", "bias")],
    "Linear": [("weight", "kernel"), ("bias", "bias")],
    "BatchNorm": [
        ("weight", "gamma"),
        ("bias", "beta"),
        ("running_mean", "moving_mean"),
        ("running_var", "moving_variance"),
    ],
    "LayerNorm": [("weight", "gamma"), ("bias", "beta")],
    "LayerScale": [("layer_scale", "gamma")],
}


def keras_layout(kind, keras_name, value):
    """The Keras layout of one zoo (PyTorch) tensor, as float32."""
    value = np.asarray(value, dtype=np.float32)
    if keras_name == "kernel" and kind in ("Conv2d", "ConvTranspose2d"):
        value = value.transpose(2, 3, 1, 0)
    elif keras_name == "kernel" and kind == "Linear":
        value = value.T
    elif kind == "LayerScale":
        value = value.reshape(-1)
    return np.ascontiguousarray(value)


def module_kinds(model):
    """{module path: (kind, eps)} for the layers of a torch.nn.Module that own tensors."""
    nn = torch.nn
    kinds = {}
    for path, module in model.named_modules():
        if isinstance(module, nn.ConvTranspose2d):
            kinds[path] = ("ConvTranspose2d", None)
        elif isinstance(module, nn.Conv2d):
            kinds[path] = ("Conv2d", None)
        elif isinstance(module, nn.Linear):
            kinds[path] = ("Linear", None)
        elif isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d)):
            kinds[path] = ("BatchNorm", float(module.eps))
        elif isinstance(module, nn.LayerNorm) and len(module.normalized_shape) == 1:
            kinds[path] = ("LayerNorm", float(module.eps))
        elif "layer_scale" in module._parameters:
            kinds[path] = ("LayerScale", None)
    return kinds


def group_layers(state, kinds=None, transposed=(), bn_eps=1e-5, ln_eps=1e-5):
    """Groups a state dict into layers in state-dict order: [(path, kind, eps, {name: array})]."""
    layers = {}
    for key, value in state.items():
        if key.endswith("num_batches_tracked"):
            continue
        path, _, name = key.rpartition(".")
        if not path:
            raise SystemExit(f"{key}: a tensor must belong to a layer (no module path)")
        layers.setdefault(path, {})[name] = value.detach().cpu().numpy()
    result = []
    for path, tensors in layers.items():
        if kinds is not None:
            if path not in kinds:
                raise SystemExit(f"{path}: not a layer kind weight files store ({', '.join(WEIGHTS)})")
            kind, eps = kinds[path]
        elif "running_mean" in tensors:
            kind, eps = "BatchNorm", bn_eps
        elif "layer_scale" in tensors:
            kind, eps = "LayerScale", None
        elif tensors.get("weight") is not None and tensors["weight"].ndim == 1:
            kind, eps = "LayerNorm", ln_eps
        elif tensors.get("weight") is not None and tensors["weight"].ndim == 4:
            kind, eps = ("ConvTranspose2d" if path in transposed else "Conv2d"), None
        elif tensors.get("weight") is not None and tensors["weight"].ndim == 2:
            kind, eps = "Linear", None
        else:
            raise SystemExit(f"{path}: cannot tell the layer kind of {sorted(tensors)}")
        known = {zoo for zoo, _ in WEIGHTS[kind]}
        stray = sorted(set(tensors) - known)
        if stray:
            raise SystemExit(f"{path}: a {kind} has no tensor named {', '.join(stray)}")
        result.append((path, kind, eps, tensors))
    return result


def save_string_list(group, name, strings):
    """Keras's save_attributes_to_hdf5_group: one 'S' array, or chunks name0, name1, ..."""
    data = np.asarray([s.encode("utf8") for s in strings], dtype=bytes)
    if data.size == 0:
        data = np.asarray([], dtype="S1")
    if data.itemsize > ATTRIBUTE_LIMIT:
        raise SystemExit(f"{name}: an entry is longer than {ATTRIBUTE_LIMIT} bytes")
    chunks = 1
    split = np.array_split(data, chunks)
    while any(x.nbytes > ATTRIBUTE_LIMIT for x in split):
        chunks += 1
        split = np.array_split(data, chunks)
    if chunks == 1:
        group.attrs[name] = data
    else:
        for index, chunk in enumerate(split):
            group.attrs[f"{name}{index}"] = chunk


def write_weight_file(path, layers, metadata=None, compress=False):
    """Writes `layers` (from group_layers) and zoo_* metadata to `path`, atomically."""
    metadata = metadata or {}
    folder = os.path.dirname(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(
        prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=folder
    )
    os.close(handle)
    try:
        with h5py.File(temporary, "w") as f:
            for layer_path, kind, eps, tensors in layers:
                group = f.create_group(layer_path)
                present = [(zoo, keras) for zoo, keras in WEIGHTS[kind] if zoo in tensors]
                names = [f"{layer_path}/{keras}:0" for _, keras in present]
                save_string_list(group, "weight_names", names)
                group.attrs["zoo_layer"] = np.bytes_(kind)
                if eps is not None:
                    group.attrs["zoo_eps"] = np.float32(eps)
                for name, (zoo, keras) in zip(names, present):
                    value = keras_layout(kind, keras, tensors[zoo])
                    options = {"compression": "gzip", "compression_opts": 9, "shuffle": True}
                    group.create_dataset(name, data=value, **(options if compress else {}))
            save_string_list(f, "layer_names", [layer[0] for layer in layers])
            f.attrs["backend"] = np.bytes_(BACKEND)
            f.attrs["keras_version"] = np.bytes_(KERAS_VERSION)
            write_metadata(f, metadata)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def write_metadata(f, metadata):
    if metadata.get("architecture") is not None:
        f.attrs["zoo_architecture"] = str(metadata["architecture"])
    if metadata.get("class_count") is not None:
        f.attrs["zoo_class_count"] = np.int64(metadata["class_count"])
    if metadata.get("input_shape") is not None:
        f.attrs["zoo_input_shape"] = np.asarray(metadata["input_shape"], dtype=np.int64)
    if metadata.get("class_names") is not None:
        save_string_list(f, "zoo_class_names", metadata["class_names"])
    for key in ("normalization_mean", "normalization_std"):
        if metadata.get(key) is not None:
            f.attrs[f"zoo_{key}"] = np.asarray(metadata[key], dtype=np.float32)
    if metadata.get("model_card") is not None:
        card = metadata["model_card"]
        json.loads(card)  # must be a JSON document
        f.attrs["zoo_model_card"] = card


def torchvision_model(name, num_classes, seed):
    import torchvision

    torch.manual_seed(seed)
    return torchvision.models.get_model(name, weights=None, num_classes=num_classes)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--torchvision", metavar="NAME", help="a torchvision model, weights=None")
    source.add_argument("--pth", metavar="FILE", help="a state dict or pickled model")
    parser.add_argument("--num-classes", type=int, default=1000, help="for --torchvision")
    parser.add_argument("--seed", type=int, default=0, help="torch seed for --torchvision")
    parser.add_argument("--transposed", nargs="*", default=[], metavar="PATH",
                        help="layers of a bare state dict that are ConvTranspose2d")
    parser.add_argument("--bn-eps", type=float, default=1e-5,
                        help="eps of a bare state dict's batch norms")
    parser.add_argument("--ln-eps", type=float, default=1e-5,
                        help="eps of a bare state dict's layer norms (ConvNeXt's: 1e-6)")
    parser.add_argument("--architecture")
    parser.add_argument("--class-count", type=int)
    parser.add_argument("--input-shape", type=int, nargs=3, metavar=("C", "H", "W"))
    parser.add_argument("--class-names", metavar="FILE", help="one class name per line")
    parser.add_argument("--mean", type=float, nargs="+")
    parser.add_argument("--std", type=float, nargs="+")
    parser.add_argument("--model-card", metavar="FILE", help="a JSON document")
    parser.add_argument("--compress", action="store_true", help="gzip and shuffle datasets")
    parser.add_argument("-o", "--output", required=True, help="the .h5 file to write")
    args = parser.parse_args(argv)

    if args.torchvision:
        model = torchvision_model(args.torchvision, args.num_classes, args.seed)
        layers = group_layers(model.state_dict(), kinds=module_kinds(model))
    else:
        loaded = torch.load(args.pth, map_location="cpu", weights_only=False)
        if isinstance(loaded, torch.nn.Module):
            layers = group_layers(loaded.state_dict(), kinds=module_kinds(loaded))
        else:
            layers = group_layers(
                loaded, transposed=set(args.transposed), bn_eps=args.bn_eps, ln_eps=args.ln_eps)

    class_names = None
    if args.class_names:
        with open(args.class_names, encoding="utf8") as f:
            class_names = [line.rstrip("\n") for line in f if line.strip()]
    card = None
    if args.model_card:
        with open(args.model_card, encoding="utf8") as f:
            card = f.read()
    if (args.mean is None) != (args.std is None) or (args.mean and len(args.mean) != len(args.std)):
        parser.error("--mean and --std need one value per channel each")
    metadata = {
        "architecture": args.architecture,
        "class_count": args.class_count,
        "input_shape": args.input_shape,
        "class_names": class_names,
        "normalization_mean": args.mean,
        "normalization_std": args.std,
        "model_card": card,
    }
    write_weight_file(args.output, layers, metadata, compress=args.compress)
    count = sum(int(np.prod(t.shape)) for _, _, _, ts in layers for t in ts.values())
    tensors = sum(len(ts) for _, _, _, ts in layers)
    print(f"{args.output}: {len(layers)} layers, {tensors} tensors, {count} values")


if __name__ == "__main__":
    sys.exit(main())
