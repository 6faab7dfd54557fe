#!/usr/bin/env python3
"""Feeds the `zoo` command line malformed and unusual input files and writes what it did with
each as a Markdown table (Docs/BadInputs.md).

Needs Python 3 with Pillow, h5py and NumPy (`pip install pillow h5py numpy`) and a built `zoo`:

    swift build -c release --product zoo
    python3 Tools/bad_inputs.py [ZOO] [--out Docs/BadInputs.md] [--timeout 60] [--keep]
    python3 Tools/bad_inputs.py [ZOO] --check          # runs the cases, leaves the table (CI)

Debian's python3-pil, python3-h5py and python3-numpy (Pillow 9.4, h5py 3.7) give the same
verdicts as Pillow 13 and h5py 3.16 from PyPI.

ZOO defaults to .build/release/zoo. The files are made in a temporary folder (removed unless
--keep) from valid ones that `zoo export` and Pillow write, and each is given to the command
that reads it: weight files to `zoo import FILE --arch lenet5` (a strict load of every
tensor) or `zoo info FILE`, images to `zoo predict zoo/lenet5.h5 IMAGE`, IDX pairs and image
folders to `zoo train lenet5 --data ...`, CSV tables to `zoo train mlp --data csv:...`.

Verdicts:
- clean error: exit status 1 and exactly one line on standard error, naming the file.
- loaded: exit status 0 for a file that is valid (an odd but valid image, a CSV with a BOM).
- harmless: exit status 0 for a damaged file whose load gave the same weights as the file it
  was made from (a flipped bit in bytes nothing reads).
- undetected: exit status 0 with different weights from a file without checksums; nothing in
  such a file can tell a flipped bit of data from a real value.
- FAIL: a signal (crash), no exit within the timeout (hang), more than one line or a
  traceback on standard error, an error line that does not name the file, exit status 0 on a
  file that is not valid, or different weights loaded from a file whose datasets carry
  checksums (fletcher32).

The script exits with status 1 if any case FAILs.
"""

import argparse
import io
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import zlib

import h5py
import numpy as np
from PIL import Image

from make_image_fixtures import chunk, pattern, raw_png, saved

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODEL = os.path.join(ROOT, "zoo", "lenet5.h5")
FIXTURES = os.path.join(ROOT, "Tests", "ZooDataTests", "Fixtures", "images")
BEGIN = "<!-- table: written by Tools/bad_inputs.py -->"
END = "<!-- end of table -->"


class Case:
    """One input: how it was made, the command run on it and what is expected of it."""

    def __init__(self, name, fmt, how, command, files, valid=False, weights_from=None,
                 values_only=False):
        self.name, self.fmt, self.how = name, fmt, how
        self.command, self.files, self.valid = command, files, valid
        # Only values are damaged: nothing but a checksum can tell.
        self.values_only = values_only
        # (original, output) weight files to compare when the load succeeds.
        self.weights_from = weights_from


# ----------------------------------------------------------------------------------------
# Helpers


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)
    return path


def read(path):
    with open(path, "rb") as f:
        return f.read()


def flip(data, offset, bit=0):
    out = bytearray(data)
    out[offset] ^= 1 << bit
    return bytes(out)


def png_chunks(data):
    """(offset, kind, body) of each chunk after the signature."""
    chunks, at = [], 8
    while at + 8 <= len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        chunks.append((at, data[at + 4 : at + 8], data[at + 8 : at + 8 + length]))
        at += 12 + length
    return chunks


def png_with_ihdr(data, width=None, height=None, depth=None, color=None, interlace=None):
    """The PNG with IHDR fields replaced and its CRC made right again."""
    offset, _, body = png_chunks(data)[0]
    w, h, d, c, comp, filt, lace = struct.unpack(">IIBBBBB", body)
    body = struct.pack(
        ">IIBBBBB",
        w if width is None else width,
        h if height is None else height,
        d if depth is None else depth,
        c if color is None else color,
        comp,
        filt,
        lace if interlace is None else interlace,
    )
    return data[:offset] + chunk(b"IHDR", body) + data[offset + 25 :]


def jpeg_segments(data):
    """(offset, marker) of each marker up to the start of the scan."""
    out, at = [], 2
    while at + 4 <= len(data) and data[at] == 0xFF:
        marker = data[at + 1]
        out.append((at, marker))
        if marker == 0xDA:
            break
        (length,) = struct.unpack(">H", data[at + 2 : at + 4])
        at += 2 + length
    return out


def segment(data, marker):
    return next(offset for offset, m in jpeg_segments(data) if m == marker)


def saved_jpeg(image, **options):
    return saved(image, "JPEG", **options)


def saved_png(image, **options):
    return saved(image, "PNG", **options)


def idx(magic_type, dims, payload, rank=None):
    header = bytes([0, 0, magic_type, len(dims) if rank is None else rank])
    return header + b"".join(struct.pack(">I", d) for d in dims) + payload


# ----------------------------------------------------------------------------------------
# Cases


def values_in_file(dataset):
    """(offset, bytes) of a dataset's values in the file: contiguous, or its first chunk
    without the 4-byte fletcher32 checksum at the chunk's end."""
    offset = dataset.id.get_offset()
    if offset is not None:
        return offset, dataset.id.get_storage_size()
    info = dataset.id.get_chunk_info(0)
    return info.byte_offset, info.size - (4 if dataset.fletcher32 else 0)


class Maker:
    def __init__(self, zoo, folder):
        self.zoo, self.folder = zoo, folder
        self.cases = []
        self.count = 0

    def path(self, name):
        return os.path.join(self.folder, name)

    def run_zoo(self, *arguments):
        subprocess.run([self.zoo, *arguments], check=True, capture_output=True, cwd=self.folder)

    # Weight files ---------------------------------------------------------------------

    def import_case(self, name, how, data_or_edit, base="lenet5.h5", arch="lenet5", info=False,
                    valid=False):
        """A weight file made from `base` by bytes or an h5py edit, loaded by `zoo import`."""
        path = self.path(name + (".weights.h5" if base.endswith(".weights.h5") else ".h5"))
        if callable(data_or_edit):
            shutil.copy(self.path(base), path)
            with h5py.File(path, "r+") as f:
                data_or_edit(f)
        else:
            write(path, data_or_edit)
        out = self.path(name + ".out.h5")
        if info:
            command = ["info", path]
        else:
            command = ["import", path, "--arch", arch, "--out", out]
        # A valid file must load as it is; a damaged one is compared with the file it came from.
        source = path if valid else self.path(base)
        self.cases.append(Case(name, "HDF5", how, command, [path], valid=valid,
                               weights_from=None if info else (source, out),
                               values_only=info and "data" in name))

    def weight_files(self):
        self.run_zoo("export", "lenet5", "--out", "lenet5.h5")
        self.run_zoo("export", "lenet5", "--out", "lenet5.weights.h5", "--format", "keras3")
        self.run_zoo("export", "resnet20", "--out", "resnet20.h5")
        valid = read(self.path("lenet5.h5"))
        size = len(valid)
        with h5py.File(self.path("lenet5.h5"), "r") as f:
            kernel = f["features.0/features.0/kernel:0"]
            data_offset, data_size = values_in_file(kernel)
            header = h5py.h5o.get_info(kernel.id).addr
            fc_offset, _ = values_in_file(f["classifier.4/classifier.4/kernel:0"])
            layer_names = [n.decode() if isinstance(n, bytes) else n for n in f.attrs["layer_names"]]

        add = self.import_case
        add("valid-lenet5", "as `zoo export lenet5` writes it (control)", valid, valid=True)
        for offset in [0, 4, 8, 40, 96, 512, size // 4, size // 2, size - 1024, size - 1]:
            add(f"truncated-{offset}", f"the first {offset} of {size} bytes", valid[:offset])
        add("wrong-magic", "byte 1 of the signature changed ('H' to 'X')",
            valid[:1] + b"X" + valid[2:])
        add("png-renamed", "a PNG file named .h5", saved_png(Image.new("L", (4, 4))))
        add("text-file", "a JSON text named .h5", b'{"layer_names": ["conv1"]}\n')
        for offset, bit, where in [
            (8, 0, "superblock version"), (13, 1, "size of addresses"), (14, 0, "size of lengths"),
            (16, 3, "group leaf node K"), (24, 0, "base address"), (40, 2, "end-of-file address"),
            (64, 4, "root symbol table entry"), (header, 0, "dataset object header (version)"),
            (header + 2, 0, "dataset object header (message count)"),
            (header + 20, 5, "dataset object header (first message)"),
        ]:
            add(f"flip-{where.split(' (')[-1].strip(')').replace(' ', '-')}",
                f"bit {bit} of byte {offset} flipped ({where})", flip(valid, offset, bit))
        for marker in [b"TREE", b"HEAP", b"SNOD"]:
            at = valid.find(marker)
            add(f"flip-{marker.decode().lower()}", f"the first {marker.decode()} signature broken at byte {at}",
                flip(valid, at, 1))
        at = valid.find(b"features.0/kernel:0")
        add("flip-weight-name", f"a bit of the weight name in features.0's attribute (byte {at})",
            flip(valid, at + 2, 0))
        at = valid.find(layer_names[-1].encode())
        add("flip-layer-name", f"a bit of a layer name string (byte {at})", flip(valid, at, 0))
        add("flip-data-features0", f"bit 6 of features.0's kernel data (byte {data_offset + 5})",
            flip(valid, data_offset + 5, 6))
        add("flip-data-sign", "the sign bit of classifier.4's first weight", flip(valid, fc_offset + 3, 7))
        add("flip-data-exponent", "an exponent bit of features.0's last weight",
            flip(valid, data_offset + data_size - 1, 6))

        def replace(name, array):
            def edit(f):
                del f[name]
                f.create_dataset(name, data=array)
            return edit

        with h5py.File(self.path("lenet5.h5"), "r") as f:
            conv = f["features.0/features.0/kernel:0"][()]
            dense = f["classifier.4/classifier.4/kernel:0"][()]
        add("float64-data", "features.0's kernel rewritten as float64",
            replace("features.0/features.0/kernel:0", conv.astype(np.float64)))
        add("float16-data", "features.0's kernel rewritten as float16",
            replace("features.0/features.0/kernel:0", conv.astype(np.float16)))
        add("int32-data", "features.0's kernel rewritten as int32",
            replace("features.0/features.0/kernel:0", conv.astype(np.int32)))
        add("string-data", "classifier.4's kernel replaced by a string", replace("classifier.4/classifier.4/kernel:0", "hello"))
        add("transposed-kernel", "classifier.4's (in, out) kernel stored as (out, in)",
            replace("classifier.4/classifier.4/kernel:0", dense.T.copy()))
        add("wrong-rank", "features.0's 4-d kernel stored flattened to 1-d",
            replace("features.0/features.0/kernel:0", conv.reshape(-1)))
        add("scalar-data", "features.0's kernel replaced by a scalar",
            replace("features.0/features.0/kernel:0", np.float32(1)))
        add("extra-channel", "features.0's kernel with one input channel too many",
            replace("features.0/features.0/kernel:0", np.concatenate([conv, conv], axis=2)))

        def huge(f):
            del f["classifier.4/classifier.4/kernel:0"]
            f.create_dataset("classifier.4/classifier.4/kernel:0", shape=(1 << 20, 1 << 20, 3), dtype="f4")
        add("huge-shape", "classifier.4's kernel declared (2^20, 2^20, 3), never written", huge)

        def huge_chunked(f):
            del f["classifier.4/classifier.4/kernel:0"]
            f.create_dataset("classifier.4/classifier.4/kernel:0", shape=(84, 10), maxshape=(None, None),
                             chunks=(1, 1), dtype="f4")
            f["classifier.4/classifier.4/kernel:0"].resize((1 << 31, 1 << 31))
        add("huge-chunked", "classifier.4's kernel chunked and resized to (2^31, 2^31), never written",
            huge_chunked)

        def empty_dataset(f):
            del f["classifier.4/classifier.4/bias:0"]
            f.create_dataset("classifier.4/classifier.4/bias:0", shape=(0,), dtype="f4")
        add("empty-dataset", "classifier.4's bias with shape (0,)", empty_dataset)

        def no_layer_names(f):
            del f.attrs["layer_names"]
        add("no-layer-names", "the root attribute layer_names deleted", no_layer_names)

        def no_weight_names(f):
            del f["features.3"].attrs["weight_names"]
        add("no-weight-names", "features.3's weight_names attribute deleted", no_weight_names)

        def int_layer_names(f):
            f.attrs["layer_names"] = np.arange(len(layer_names))
        add("int-layer-names", "layer_names rewritten as integers", int_layer_names)

        def missing_group(f):
            del f["classifier.2"]
        add("missing-group", "the group of layer classifier.2 deleted (still listed)", missing_group)

        def missing_bias(f):
            del f["classifier.0/classifier.0/bias:0"]
        add("missing-dataset", "classifier.0's bias deleted (still listed)", missing_bias)

        def nan_weights(f):
            f["features.0/features.0/kernel:0"][0, 0, 0, 0] = np.nan
        add("nan-weight", "one weight of features.0 set to NaN by h5py", nan_weights)

        add("other-architecture", "resnet20's weights imported as lenet5",
            lambda f: None, base="resnet20.h5")
        add("lenet5-as-resnet20", "lenet5's weights imported as resnet20",
            lambda f: None, arch="resnet20")
        add("truncated-info", "the first half of lenet5.h5, given to `zoo info`",
            valid[: size // 2], info=True)
        add("flip-data-info", "features.0's data bit-flipped, given to `zoo info`",
            flip(valid, data_offset + 5, 6), info=True)

        # Keras 3 layout
        keras3 = "lenet5.weights.h5"
        with h5py.File(self.path(keras3), "r") as f:
            keys = list(f["layers"].keys())
        first = keys[0]
        add("keras3-valid", "as `zoo export --format keras3` writes it (control)",
            lambda f: None, base=keras3, valid=True)

        def drop_var(f):
            del f[f"layers/{first}/vars/1"]
        add("keras3-missing-var", f"layers/{first}/vars/1 deleted", drop_var, base=keras3)

        def extra_var(f):
            f[f"layers/{first}/vars"].create_dataset("2", data=np.zeros(3, np.float32))
        add("keras3-extra-var", f"a third variable in layers/{first}/vars", extra_var, base=keras3)

        def renamed_key(f):
            f.move(f"layers/{first}", "layers/conv3d_9")
        add("keras3-unknown-key", f"layers/{first} renamed layers/conv3d_9", renamed_key, base=keras3)

        def swapped_vars(f):
            vars = f[f"layers/{first}/vars"]
            vars.move("0", "tmp")
            vars.move("1", "0")
            vars.move("tmp", "1")
        add("keras3-swapped-vars", f"kernel and bias of layers/{first} swapped", swapped_vars,
            base=keras3)

        def no_layers(f):
            del f["layers"]
        add("keras3-no-layers", "the layers group deleted", no_layers, base=keras3)

        def vars_not_group(f):
            del f[f"layers/{first}/vars"]
            f[f"layers/{first}"].create_dataset("vars", data=np.zeros(2, np.float32))
        add("keras3-vars-dataset", f"layers/{first}/vars a dataset, not a group", vars_not_group,
            base=keras3)

        k3 = read(self.path(keras3))
        add("keras3-truncated", "the first half of the .weights.h5 file", k3[: len(k3) // 2],
            base=keras3)

        # The weight file given to predict
        path = self.path("model-truncated.h5")
        write(path, valid[: size // 3])
        image = write(self.path("ok.png"), saved_png(Image.new("L", (28, 28), 128)))
        self.cases.append(Case("predict-truncated-model", "HDF5", "a third of a weight file as "
                               "predict's model", ["predict", path, image], [path]))

    def libhdf5_crashers(self):
        """The fuzzer's inputs on which libhdf5 1.10.8 itself crashes, hangs or asks for
        gigabytes (Tools/fuzz-known): `zoo` reads them in a child process first."""
        known = os.path.join(ROOT, "Tools", "fuzz-known", "weights")
        for file in sorted(os.listdir(known)):
            if not file.endswith(".h5"):
                continue
            name = file[: -len(".h5")]
            how = ("found by the fuzzer, hurts libhdf5 1.10.8 itself: "
                   + name.replace("libhdf5-", "").replace("-", " "))
            path = os.path.join(known, file)
            self.cases.append(Case(name, "HDF5", how, ["info", path], [path], values_only=True))

    # JPEG -----------------------------------------------------------------------------

    def image_case(self, name, fmt, how, data, valid=False, values_only=False):
        path = self.path(name + (".jpg" if fmt == "JPEG" else ".png"))
        write(path, data)
        self.cases.append(Case(name, fmt, how, ["predict", MODEL, path], [path], valid=valid,
                               values_only=values_only))
        return path

    def jpegs(self):
        rgb = Image.fromarray(pattern(3, width=48, height=32))
        base = saved_jpeg(rgb, quality=90)
        add = lambda name, how, data, valid=False: self.image_case(name, "JPEG", how, data, valid)
        add("jpeg-baseline", "Pillow, baseline 4:2:0, quality 90 (control)", base, True)
        add("jpeg-progressive", "Pillow, progressive", saved_jpeg(rgb, progressive=True), True)
        add("jpeg-444", "Pillow, 4:4:4 subsampling", saved_jpeg(rgb, subsampling=0), True)
        add("jpeg-422", "Pillow, 4:2:2 subsampling", saved_jpeg(rgb, subsampling=1), True)
        add("jpeg-grey", "Pillow, greyscale", saved_jpeg(rgb.convert("L")), True)
        add("jpeg-cmyk-adobe", "Pillow, CMYK (Adobe inverted, APP14 marker)",
            saved_jpeg(rgb.convert("CMYK")), True)
        add("jpeg-restart", "Pillow, a restart marker every 2 MCU rows",
            saved_jpeg(rgb, restart_marker_rows=2), True)
        exif = Image.Exif()
        exif[0x0112] = 6  # orientation: rotate 90
        exif[0x010F] = "zoo"
        add("jpeg-exif", "Pillow, EXIF with orientation 6", saved_jpeg(rgb, exif=exif.tobytes()), True)
        add("jpeg-odd-size", "Pillow, 1x1 pixel", saved_jpeg(Image.new("RGB", (1, 1), (9, 99, 199))),
            True)
        for fraction in [0.01, 0.1, 0.3, 0.6, 0.95]:
            cut = int(len(base) * fraction)
            where = "header" if cut < segment(base, 0xDA) else "scan"
            add(f"jpeg-truncated-{int(fraction * 100)}", f"first {cut} of {len(base)} bytes (in the {where})",
                base[:cut])
        add("jpeg-no-eoi", "the final EOI marker removed", base[:-2])
        add("jpeg-empty", "zero bytes", b"")
        add("jpeg-soi-only", "only the SOI marker FF D8", base[:2])
        add("jpeg-wrong-magic", "first byte FF changed to 00", b"\x00" + base[1:])
        add("jpeg-text", "plain text named .jpg", b"this is not an image\n")
        sof = segment(base, 0xC0)
        add("jpeg-huge-dims", "SOF declares 65535x65535",
            base[: sof + 5] + struct.pack(">HH", 65535, 65535) + base[sof + 9 :])
        add("jpeg-65500", "SOF declares 65500x65500 (libjpeg's largest)",
            base[: sof + 5] + struct.pack(">HH", 65500, 65500) + base[sof + 9 :])
        add("jpeg-zero-height", "SOF declares height 0",
            base[: sof + 5] + struct.pack(">H", 0) + base[sof + 7 :])
        add("jpeg-12-bit", "SOF precision byte 8 changed to 12", base[: sof + 4] + b"\x0c" + base[sof + 5 :])
        add("jpeg-lossless-sof3", "SOF0 marker changed to SOF3 (lossless)",
            base[: sof + 1] + b"\xc3" + base[sof + 2 :])
        dqt = segment(base, 0xDB)
        add("jpeg-flip-dqt-length", "a bit of the DQT length flipped", flip(base, dqt + 3, 5))
        dht = segment(base, 0xC4)
        add("jpeg-flip-dht", "a bit of the first Huffman table's counts flipped", flip(base, dht + 6, 3))
        sos = segment(base, 0xDA)
        add("jpeg-flip-sos", "component count in SOS flipped", flip(base, sos + 4, 2))
        self.image_case("jpeg-flip-scan", "JPEG", "a bit in the middle of the entropy-coded scan "
                        "flipped (JPEG has no checksum)", flip(base, (sos + len(base)) // 2, 4),
                        values_only=True)
        add("jpeg-zero-scan", "the scan's second half zeroed",
            base[: (sos + len(base)) // 2] + bytes(len(base) - (sos + len(base)) // 2 - 2) + base[-2:])
        add("jpeg-garbage-after", "4 KiB of random bytes after EOI",
            base + np.random.default_rng(1).integers(0, 256, 4096, dtype=np.uint8).tobytes(), True)

    def fixtures(self):
        """The odd but valid images whose pixels PillowParityTests compares with Pillow's."""
        for reference in json.load(open(os.path.join(FIXTURES, "pillow.json")))["images"]:
            path = os.path.join(FIXTURES, reference["file"])
            fmt = "JPEG" if path.endswith(".jpg") else "PNG"
            self.cases.append(Case("fixture-" + reference["file"], fmt,
                                   "Tools/make_image_fixtures.py (pixels as Pillow's)",
                                   ["predict", MODEL, path], [path], valid=True))

    # PNG ------------------------------------------------------------------------------

    def pngs(self):
        rgb = pattern(3, width=20, height=12)
        base = saved_png(Image.fromarray(rgb))
        add = lambda name, how, data, valid=False: self.image_case(name, "PNG", how, data, valid)
        rng = np.random.default_rng(3)
        add("png-rgb", "Pillow, 8-bit RGB (control)", base, True)
        add("png-rgba", "Pillow, 8-bit RGBA",
            saved_png(Image.fromarray(np.dstack([rgb, rng.integers(0, 256, (12, 20), np.uint8)]))), True)
        add("png-grey-alpha", "8-bit grey+alpha",
            raw_png(rng.integers(0, 256, (12, 20, 2), np.uint8), 8, 4), True)
        add("png-grey16", "16-bit grey", raw_png(rng.integers(0, 65536, (12, 20)), 16, 0), True)
        add("png-rgb16", "16-bit RGB", raw_png(rng.integers(0, 65536, (12, 20, 3)), 16, 2), True)
        add("png-rgba16", "16-bit RGBA", raw_png(rng.integers(0, 65536, (12, 20, 4)), 16, 6), True)
        palette = Image.fromarray(rgb).quantize(16)
        add("png-palette", "Pillow, 16-colour palette", saved_png(palette), True)
        add("png-palette-trns", "Pillow, palette with tRNS",
            saved_png(palette, transparency=bytes(range(0, 256, 16))), True)
        add("png-1-bit", "Pillow, 1-bit", saved_png(Image.fromarray(rgb).convert("1")), True)
        add("png-interlaced", "8-bit RGB, Adam7 interlaced", raw_png(rgb, 8, 2, interlace=True), True)
        add("png-ancillary-crc", "a tEXt chunk with a wrong CRC",
            base[:33] + chunk(b"tEXt", b"Comment\0hi")[:-1] + b"\0" + base[33:], True)
        add("png-after-iend", "bytes after IEND", base + b"trailing garbage", True)
        for fraction in [0.02, 0.1, 0.5, 0.9]:
            cut = int(len(base) * fraction)
            add(f"png-truncated-{int(fraction * 100)}", f"first {cut} of {len(base)} bytes", base[:cut])
        add("png-no-iend", "IEND chunk removed (every pixel still there)", base[:-12], True)
        add("png-signature-only", "only the 8-byte signature", base[:8])
        add("png-wrong-magic", "signature byte 'P' changed to 'Q'", base[:1] + b"Q" + base[2:])
        add("png-ihdr-crc", "a bit of IHDR's width flipped, CRC left", flip(base, 18, 0))
        idat = next(o for o, kind, _ in png_chunks(base) if kind == b"IDAT")
        add("png-idat-crc", "a bit of IDAT's data flipped, CRC left", flip(base, idat + 20, 3))
        chunks = png_chunks(base)
        _, _, body = chunks[[k for _, k, _ in chunks].index(b"IDAT")]
        bad = bytearray(body)
        bad[len(bad) // 2] ^= 0xFF
        add("png-zlib-corrupt", "IDAT's zlib data corrupted, CRC made right",
            base[:idat] + chunk(b"IDAT", bytes(bad)) + base[idat + 12 + len(body) :])
        add("png-huge-dims", "IHDR declares 1000000x1000000 (libpng's limit), CRC made right",
            png_with_ihdr(base, 1000000, 1000000))
        add("png-huge-width", "IHDR declares width 2^31-1", png_with_ihdr(base, width=2**31 - 1))
        add("png-zero-width", "IHDR declares width 0", png_with_ihdr(base, width=0))
        add("png-bad-depth", "IHDR bit depth 3", png_with_ihdr(base, depth=3))
        add("png-bad-color", "IHDR colour type 5", png_with_ihdr(base, color=5))
        add("png-bad-interlace", "IHDR interlace method 2", png_with_ihdr(base, interlace=2))
        add("png-more-rows", "IHDR declares 100 rows, data has 12", png_with_ihdr(base, height=100))
        big = Image.new("L", (20000, 20000))
        add("png-bomb", "20000x20000 grey, all zero (valid, but 400 million pixels)", saved_png(big, optimize=True))

    # IDX ------------------------------------------------------------------------------

    def idx_case(self, name, how, images, labels, valid=False):
        ipath = write(self.path(name + "-images.idx"), images)
        lpath = write(self.path(name + "-labels.idx"), labels)
        command = ["train", "lenet5", "--data", f"idx:{ipath},{lpath}", "--epochs", "1"]
        self.cases.append(Case(name, "IDX", how, command, [ipath, lpath], valid=valid))

    def idx_files(self):
        n = 20
        rng = np.random.default_rng(4)
        pixels = rng.integers(0, 256, n * 28 * 28, dtype=np.uint8).tobytes()
        images = idx(8, [n, 28, 28], pixels)
        labels = idx(8, [n], bytes(i % 2 for i in range(n)))
        add = self.idx_case
        add("idx-valid", "20 random 28x28 images, labels 0 and 1 (control)", images, labels, True)
        add("idx-gzip", "both files gzip-compressed", gzip_bytes(images), gzip_bytes(labels), True)
        add("idx-wrong-magic", "images start 'PK' (a zip file)", b"PK\x03\x04" + images[4:], labels)
        add("idx-float-type", "element type 0x0D (float32)", idx(0x0D, [n, 28, 28], pixels), labels)
        add("idx-too-few-bytes", "header declares 20 images, file holds 10",
            images[: 16 + 10 * 784], labels)
        add("idx-header-only", "just a 16-byte header", images[:16], labels)
        add("idx-magic-only", "just the 4 magic bytes", images[:4], labels)
        add("idx-empty", "zero bytes", b"", labels)
        add("idx-count-mismatch", "20 images, 19 labels", images, idx(8, [n - 1], bytes(n - 1)))
        add("idx-labels-out-of-range", "labels 0, 1 and one 200: trains 201 classes, as a "
            "cross-entropy over the labels takes them, and says so",
            images, idx(8, [n], bytes([i % 2 for i in range(n - 1)] + [200])), True)
        add("idx-one-class", "every label 0", images, idx(8, [n], bytes(n)))
        add("idx-huge-dims", "images declared 4294967295 x 65536 x 65536", idx(8, [2**32 - 1, 65536, 65536], pixels),
            labels)
        add("idx-zero-size", "20 images of 0x0 pixels", idx(8, [n, 0, 0], b""), labels)
        add("idx-zero-images", "0 images, 0 labels", idx(8, [0, 28, 28], b""), idx(8, [0], b""))
        add("idx-rank-2-images", "images of rank 2 (560 x 28)", idx(8, [n * 28, 28], pixels), labels)
        add("idx-rank-255", "rank byte 255, header cut short", idx(8, [n], b"", rank=255), labels)
        add("idx-labels-rank-2", "labels of rank 2", images, idx(8, [n, 1], bytes(n)))
        add("idx-gzip-truncated", "gzip file cut in half", gzip_bytes(images)[: len(gzip_bytes(images)) // 2],
            labels)
        add("idx-gzip-corrupt", "gzip data with a flipped bit", flip(gzip_bytes(images), 40, 2), labels)
        add("idx-tiny-images", "20 images of 1x1 pixel", idx(8, [n, 1, 1], bytes(n)), labels, True)

    # CSV ------------------------------------------------------------------------------

    def csv_case(self, name, how, text, label=None, valid=False):
        path = write(self.path(name + ".csv"), text if isinstance(text, bytes) else text.encode())
        spec = f"csv:{path}" + (f",label={label}" if label else "")
        command = ["train", "mlp", "--data", spec, "--epochs", "1"]
        self.cases.append(Case(name, "CSV", how, command, [path], valid=valid))

    def csv_files(self):
        rows = "".join(f"{i * 0.5},{(i * 7) % 5},{'ab'[i % 2]}\n" for i in range(20))
        good = "x,y,kind\n" + rows
        add = self.csv_case
        add("csv-valid", "20 rows, 2 features, label kind (control)", good, "kind", True)
        add("csv-bom", "UTF-8 byte-order mark first", "\ufeff" + good, "kind", True)
        add("csv-crlf", "CRLF line ends", good.replace("\n", "\r\n"), "kind", True)
        add("csv-quoted", "quoted fields, a comma and a doubled quote inside a label",
            "x,y,kind\n" + "".join(f'"{i}",{i % 3},"a,""{i % 2}"""\n' for i in range(20)), "kind", True)
        add("csv-last-column", "no label= (the last column is the label)", good, None, True)
        add("csv-blank-lines", "blank lines between rows", good.replace("\n", "\n\n"), "kind", True)
        add("csv-empty", "zero bytes", "", "kind")
        add("csv-header-only", "a header and no rows", "x,y,kind\n", "kind")
        add("csv-ragged", "row 5 with one field too few", good.replace("2.0,3,a\n", "2.0,a\n"), "kind")
        add("csv-extra-field", "row 3 with one field too many", good.replace("0.5,2,b\n", "0.5,2,9,b\n"),
            "kind")
        add("csv-text-cell", "a feature cell 'n/a'", good.replace("1.5,1,b", "n/a,1,b"), "kind")
        add("csv-nan", "a feature cell NaN", good.replace("1.5,1,b", "NaN,1,b"), "kind")
        add("csv-inf", "a feature cell inf", good.replace("1.5,1,b", "inf,1,b"), "kind")
        add("csv-huge-number", "a feature cell 1e999", good.replace("1.5,1,b", "1e999,1,b"), "kind")
        add("csv-no-label-column", "label=species, which the header lacks", good, "species")
        add("csv-one-class", "every label the same", good.replace(",b\n", ",a\n"), "kind")
        add("csv-empty-label", "an empty label cell", good.replace("1.5,1,b", "1.5,1,"), "kind")
        add("csv-label-only", "only the label column", "kind\n" + "a\nb\n" * 10, "kind")
        add("csv-unclosed-quote", "a quote never closed", good.replace("1.5,1,b", '1.5,"1,b'), "kind")
        add("csv-binary", "a PNG file named .csv", saved_png(Image.new("RGB", (8, 8))), "kind")
        add("csv-latin1", "a Latin-1 byte in a label", good.encode().replace(b",b\n", b",\xe9\n"), "kind", True)
        add("csv-one-row-per-class", "one row per class", "x,kind\n1,a\n2,b\n", "kind")

    # Image folders --------------------------------------------------------------------

    def folders(self):
        def folder(name, files):
            root = self.path(name)
            for rel, data in files.items():
                os.makedirs(os.path.dirname(os.path.join(root, rel)), exist_ok=True)
                write(os.path.join(root, rel), data)
            return root

        good = {f"{c}/{i}.png": saved_png(Image.new("L", (28, 28), 40 * i + 100 * j))
                for j, c in enumerate(["cat", "dog"]) for i in range(3)}
        for name, how, extra, bad in [
            ("folder-truncated-jpeg", "a JPEG cut in its header among PNGs",
             {"dog/bad.jpg": saved_jpeg(Image.new("RGB", (28, 28)))[:50]}, "dog/bad.jpg"),
            ("folder-text-as-png", "a text file named .png", {"cat/bad.png": b"hello"}, "cat/bad.png"),
            ("folder-huge-png", "a PNG declaring 1000000x1000000",
             {"cat/huge.png": png_with_ihdr(saved_png(Image.new("L", (8, 8))), 1000000, 1000000)},
             "cat/huge.png"),
        ]:
            root = folder(name, {**good, **extra})
            command = ["train", "lenet5", "--data", f"folder:{root}", "--epochs", "1"]
            self.cases.append(Case(name, "folder", how, command, [os.path.join(root, bad)]))


def gzip_bytes(data):
    import gzip

    return gzip.compress(data, mtime=0)


# ----------------------------------------------------------------------------------------
# Running and judging


def same_weights(original, loaded):
    """Whether the file `zoo import` wrote holds the original's values (names may differ)."""
    def values(path):
        out = []
        with h5py.File(path, "r") as f:
            f.visititems(lambda n, o: out.append(o[()].tobytes()) if isinstance(o, h5py.Dataset) else None)
        return sorted(out)
    return values(original) == values(loaded)


def has_checksums(path):
    found = []
    try:
        with h5py.File(path, "r") as f:
            f.visititems(lambda n, o: found.append(o.fletcher32) if isinstance(o, h5py.Dataset) else None)
    except Exception:
        return False
    return bool(found) and all(found)


def judge(case, zoo, timeout, folder):
    started = time.time()
    try:
        result = subprocess.run([zoo, *case.command], capture_output=True, text=True, errors="replace",
                                timeout=timeout, cwd=folder)
    except subprocess.TimeoutExpired:
        return None, [], f"FAIL: hang (no exit in {timeout} s)", time.time() - started
    seconds = time.time() - started
    status = result.returncode
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    if status < 0:
        return status, lines, f"FAIL: signal {-status} (crash)", seconds
    if status == 0:
        if case.valid and case.weights_from and not same_weights(*case.weights_from):
            return status, lines, "FAIL: a valid file loaded other weights", seconds
        if case.valid:
            return status, lines, "loaded", seconds
        if case.weights_from:
            original, out = case.weights_from
            if same_weights(original, out):
                return status, lines, "harmless: same weights loaded", seconds
            if has_checksums(case.files[0]):
                return status, lines, "FAIL: different weights loaded from a checksummed file", seconds
            return status, lines, "undetected: different weights, file has no checksums", seconds
        if case.values_only:
            if has_checksums(case.files[0]):
                return status, lines, "FAIL: exit 0 on a checksummed file with a damaged value", seconds
            return status, lines, "undetected: file has no checksums", seconds
        return status, lines, "FAIL: exit 0 on a bad file", seconds
    if status != 1:
        return status, lines, f"FAIL: exit status {status}", seconds
    if any("Traceback" in l or "HDF5-DIAG" in l or "Fatal error" in l for l in lines):
        return status, lines, "FAIL: traceback or library dump", seconds
    if len(lines) != 1:
        return status, lines, f"FAIL: {len(lines)} lines on stderr", seconds
    if not any(path in lines[0] for path in case.files):
        return status, lines, "FAIL: the error does not name the file", seconds
    if case.valid:
        return status, lines, "FAIL: a valid file rejected", seconds
    return status, lines, "clean error", seconds


def markdown(rows, zoo_args):
    def cell(text):
        return text.replace("|", "\\|").replace("\n", " ")

    out = [BEGIN, "",
           "| # | case | format | how it was made | command | exit | lines | first line of stderr | verdict |",
           "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for i, (case, status, lines, verdict, _) in enumerate(rows, 1):
        first = lines[0] if lines else ""
        if len(first) > 160:
            first = first[:157] + "..."
        out.append(
            f"| {i} | {case.name} | {case.fmt} | {cell(case.how)} | `{cell(zoo_args(case))}` | "
            f"{'-' if status is None else status} | {len(lines)} | {cell(first)} | {cell(verdict)} |"
        )
    counts = {}
    for *_, verdict, _ in rows:
        key = verdict.split(":")[0]
        counts[key] = counts.get(key, 0) + 1
    out += ["", "Totals: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
            + f"; {len(rows)} cases.", ""]
    manifest = json.load(open(os.path.join(FIXTURES, "pillow.json")))
    out += [f"Odd but valid images against Pillow {manifest['pillow']} (libjpeg-turbo "
            f"{manifest['libjpeg_turbo']}): the zoo's decoded samples against the reference, "
            "exactly as `PillowParityTests` checks them (the fixtures are the `fixture-` rows "
            "above).", "",
            "| image | channels decoded | reference | largest difference the test allows (0: exact) |",
            "| --- | --- | --- | --- |"]
    for image in manifest["images"]:
        out.append(f"| {image['file']} | {image['channels']} | {cell(image['reference'])} | "
                   f"{image['tolerance']} |")
    out += ["", END]
    return "\n".join(out)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("zoo", nargs="?", default=os.path.join(ROOT, ".build", "release", "zoo"))
    parser.add_argument("--out", default=os.path.join(ROOT, "Docs", "BadInputs.md"))
    parser.add_argument("--timeout", type=float, default=60)
    parser.add_argument("--keep", action="store_true", help="keep the folder of generated files")
    parser.add_argument("--only", help="run only cases whose name contains this")
    parser.add_argument("--check", action="store_true",
                        help="run every case and report, without rewriting the table (CI)")
    args = parser.parse_args()
    zoo = os.path.abspath(args.zoo)
    folder = tempfile.mkdtemp(prefix="zoo-bad-inputs-")
    try:
        maker = Maker(zoo, folder)
        for make in [maker.weight_files, maker.libhdf5_crashers, maker.jpegs, maker.fixtures, maker.pngs, maker.idx_files,
                     maker.csv_files, maker.folders]:
            make()
        cases = [c for c in maker.cases if not args.only or args.only in c.name]
        rows = []
        for case in cases:
            status, lines, verdict, seconds = judge(case, zoo, args.timeout, folder)
            rows.append((case, status, lines, verdict, seconds))
            print(f"{case.name:28} {verdict:48} {seconds:5.1f} s  {lines[0][:90] if lines else ''}",
                  flush=True)

        # Paths in the table are relative to the temporary folder, which is different each run.
        def shown(case):
            words = ["zoo"] + [w.replace(folder + os.sep, "").replace(ROOT + os.sep, "") for w in case.command]
            return " ".join(words)
        for case, status, lines, verdict, seconds in rows:
            lines[:] = [l.replace(folder + os.sep, "").replace(ROOT + os.sep, "") for l in lines]
        table = markdown(rows, shown)
        if not (args.only or args.check):
            text = read(args.out).decode() if os.path.exists(args.out) else BEGIN + "\n" + END + "\n"
            head, _, rest = text.partition(BEGIN)
            _, _, tail = rest.partition(END)
            with open(args.out, "w") as f:
                f.write(head + table + tail)
            print(f"wrote {args.out}")
        failures = [r for r in rows if r[3].startswith("FAIL")]
        print(f"{len(rows)} cases, {len(failures)} FAIL")
        return 1 if failures else 0
    finally:
        if args.keep:
            print(f"files kept in {folder}")
        else:
            shutil.rmtree(folder)


if __name__ == "__main__":
    sys.exit(main())
