#!/usr/bin/env python3
"""Writes the seed corpus of Tools/fuzz: small valid and near-valid inputs for each fuzz target
(Sources/ZooFuzzTargets), one folder per target under Tools/fuzz-corpus/.

    python3 Tools/make_fuzz_corpus.py          # rewrites Tools/fuzz-corpus (needs h5py, Pillow)

Weight files cover the three layouts the reader tells apart (Keras legacy weights at the root,
a full Keras model under /model_weights, Keras 3's /layers/<key>/vars), both string kinds,
split attributes (layer_names0, ...), compressed datasets, the zoo's own attributes and HDF5's
old and new object formats. Images are 8x8 to 16x16 in each colour mode and coding the readers
accept. Inputs are deterministic; the tensors are tiny so every file stays a few KiB.
"""

import gzip
import io
import os
import shutil
import struct
import zlib

import h5py
import numpy as np
from PIL import Image

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fuzz-corpus")


def values(*shape):
    count = int(np.prod(shape))
    return (np.arange(count, dtype=np.float32) / 8 - 1).reshape(shape)


def strings(names, variable):
    if variable:
        return np.array(names, dtype=h5py.string_dtype())
    return np.array([n.encode() for n in names])


def legacy_layers(group, variable=False, split=False, keras3_names=False):
    """A conv, a batch norm and a dense layer in Keras's legacy layout below `group`."""
    layers = {
        "conv1": [("kernel", values(3, 3, 1, 2)), ("bias", values(2))],
        "bn1": [(n, values(2) + 1) for n in ("gamma", "beta", "moving_mean", "moving_variance")],
        "fc": [("kernel", values(8, 2)), ("bias", values(2))],
        "flatten": [],
    }
    names = list(layers)
    if split:
        group.attrs["layer_names0"] = strings(names[:2], variable)
        group.attrs["layer_names1"] = strings(names[2:], variable)
    else:
        group.attrs["layer_names"] = strings(names, variable)
    group.attrs["backend"] = "tensorflow"
    group.attrs["keras_version"] = "2.15.0"
    for layer, weights in layers.items():
        g = group.create_group(layer)
        suffix = "" if keras3_names else ":0"
        weight_names = [f"{layer}/{name}{suffix}" for name, _ in weights]
        g.attrs["weight_names"] = strings(weight_names, variable)
        for (name, array), path in zip(weights, weight_names):
            g.create_dataset(path, data=array)


def zoo_metadata(root, layers):
    root.attrs["zoo_architecture"] = "lenet5"
    root.attrs["zoo_class_count"] = np.int64(2)
    root.attrs["zoo_input_shape"] = np.array([1, 4, 4], dtype=np.int64)
    root.attrs["zoo_class_names"] = strings(["a", "b"], True)
    root.attrs["zoo_normalization_mean"] = np.array([0.5], dtype=np.float32)
    root.attrs["zoo_normalization_std"] = np.array([0.25], dtype=np.float32)
    root.attrs["zoo_model_card"] = '{"data": "seed"}'
    layers["conv1"].attrs["zoo_layer"] = "Conv2d"
    layers["bn1"].attrs["zoo_layer"] = "BatchNorm"
    layers["bn1"].attrs["zoo_eps"] = np.float32(1e-5)
    layers["fc"].attrs["zoo_layer"] = "Linear"
    layers["fc"].attrs["zoo_flattened_input"] = np.array([2, 2, 2], dtype=np.int64)


def weight_files(folder):
    with h5py.File(os.path.join(folder, "legacy-fixed.h5"), "w") as f:
        legacy_layers(f)
    with h5py.File(os.path.join(folder, "legacy-variable-latest.h5"), "w", libver="latest") as f:
        legacy_layers(f, variable=True, keras3_names=True)
    with h5py.File(os.path.join(folder, "legacy-split.h5"), "w") as f:
        legacy_layers(f, split=True)
    with h5py.File(os.path.join(folder, "zoo-native.h5"), "w") as f:
        legacy_layers(f)
        zoo_metadata(f, f)
    with h5py.File(os.path.join(folder, "full-model.h5"), "w") as f:
        legacy_layers(f.create_group("model_weights"))
        f.attrs["model_config"] = '{"class_name": "Sequential"}'
    with h5py.File(os.path.join(folder, "compressed.h5"), "w") as f:
        g = f.create_group("fc")
        f.attrs["layer_names"] = strings(["fc"], False)
        g.attrs["weight_names"] = strings(["fc/kernel:0", "fc/bias:0"], False)
        g.create_dataset("fc/kernel:0", data=values(8, 2), chunks=(4, 2), compression="gzip")
        g.create_dataset("fc/bias:0", data=values(2), compression="gzip", shuffle=True)
    for latest in (False, True):
        name = "keras3-latest.weights.h5" if latest else "keras3.weights.h5"
        with h5py.File(os.path.join(folder, name), "w", libver="latest" if latest else "earliest") as f:
            f.create_group("vars").attrs["name"] = "sequential"
            for key, arrays in [
                ("conv2d", [values(3, 3, 1, 2), values(2)]),
                ("batch_normalization", [values(2) + 1 for _ in range(4)]),
                ("dense", [values(8, 2), values(2)]),
                ("flatten", []),
            ]:
                vars = f.create_group(f"layers/{key}/vars")
                vars.attrs["name"] = key
                for index, array in enumerate(arrays):
                    vars.create_dataset(str(index), data=array)


def adam7_png(rgb):
    """An interlaced (Adam7) RGB PNG, which Pillow does not write."""
    height, width, _ = rgb.shape
    passes = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2),
              (0, 1, 1, 2)]
    raw = b""
    for x0, y0, dx, dy in passes:
        for y in range(y0, height, dy):
            row = rgb[y, x0::dx]
            if row.size:
                raw += b"\0" + row.tobytes()

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 1)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9))
            + chunk(b"IEND", b""))


def images(folder):
    gradient = np.add.outer(np.arange(16) * 16, np.arange(16) * 8).astype(np.uint8)
    rgb = np.stack([gradient, gradient.T, 255 - gradient], axis=-1)
    grey = Image.fromarray(gradient[:8, :8], "L")
    colour = Image.fromarray(rgb, "RGB")
    rgba = Image.fromarray(np.dstack([rgb, gradient]), "RGBA")

    jpeg = os.path.join(folder, "jpeg")
    grey.save(os.path.join(jpeg, "grey.jpg"), quality=80)
    colour.save(os.path.join(jpeg, "rgb-420.jpg"), quality=75, subsampling=2)
    colour.save(os.path.join(jpeg, "rgb-444.jpg"), quality=90, subsampling=0)
    colour.save(os.path.join(jpeg, "progressive.jpg"), quality=75, progressive=True)
    colour.save(os.path.join(jpeg, "optimized.jpg"), quality=50, optimize=True)
    colour.convert("CMYK").save(os.path.join(jpeg, "cmyk.jpg"), quality=75)
    with open(os.path.join(jpeg, "rgb-420.jpg"), "rb") as f:
        data = f.read()
    with open(os.path.join(jpeg, "truncated.jpg"), "wb") as f:
        f.write(data[: len(data) * 3 // 4])

    png = os.path.join(folder, "png")
    grey.save(os.path.join(png, "grey.png"))
    Image.fromarray(gradient.astype(np.uint16) * 257).convert("I;16").save(os.path.join(png, "grey16.png"))
    grey.convert("LA").save(os.path.join(png, "grey-alpha.png"))
    grey.convert("1").save(os.path.join(png, "bilevel.png"))
    colour.save(os.path.join(png, "rgb.png"))
    rgba.save(os.path.join(png, "rgba.png"))
    colour.convert("P", palette=Image.ADAPTIVE, colors=8).save(os.path.join(png, "palette.png"))
    paletted = colour.convert("P", palette=Image.ADAPTIVE, colors=4)
    paletted.save(os.path.join(png, "palette-transparent.png"), transparency=0)
    with open(os.path.join(png, "interlaced.png"), "wb") as f:
        f.write(adam7_png(rgb))
    with open(os.path.join(png, "rgb.png"), "rb") as f:
        data = f.read()
    with open(os.path.join(png, "truncated.png"), "wb") as f:
        f.write(data[: len(data) * 3 // 4])


def idx_files(folder):
    def idx(dims, payload):
        header = bytes([0, 0, 8, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims)
        return header + bytes(payload)

    labels = idx([6], [0, 1, 2, 3, 4, 5])
    images3 = idx([2, 3, 3], range(18))
    files = {
        "labels.idx": labels,
        "images.idx": images3,
        "images.idx.gz": gzip.compress(images3, mtime=0),
        "truncated.idx": images3[:-4],
        "signed.idx": bytes([0, 0, 9, 1, 0, 0, 0, 1, 7]),
        "empty-dimension.idx": idx([0, 4], []),
    }
    for name, data in files.items():
        with open(os.path.join(folder, name), "wb") as f:
            f.write(data)


def csv_files(folder):
    files = {
        "integer-labels.csv": "a,b,label\n1,2,0\n3.5,-4e2,1\n0,0,007\n",
        "string-labels.csv": "x,y,species\n1,2,setosa\n3,4,virginica\n",
        "quoted.csv": '"a, b","c""d",label\r\n"1","2",yes\r\n3,"4\n",no\r\n',
        "bom-blank-lines.csv": "\ufeffa,label\n\n1,x\n\n2,y\n",
        "ragged.csv": "a,b,label\n1,2\n",
        "not-a-number.csv": "a,label\nnan,1\ninf,2\n",
    }
    for name, text in files.items():
        with open(os.path.join(folder, name), "wb") as f:
            f.write(text.encode())


def main():
    shutil.rmtree(ROOT, ignore_errors=True)
    for target in ("weights", "jpeg", "png", "idx", "csv"):
        os.makedirs(os.path.join(ROOT, target))
    weight_files(os.path.join(ROOT, "weights"))
    images(ROOT)
    idx_files(os.path.join(ROOT, "idx"))
    csv_files(os.path.join(ROOT, "csv"))


if __name__ == "__main__":
    main()
