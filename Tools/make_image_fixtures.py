#!/usr/bin/env python3
"""Writes the odd but valid images of the ZooData tests (Tests/ZooDataTests/Fixtures/images/)
and the pixels Pillow decodes from each (pillow.json), which ImageCodecTests compares with the
zoo's decoder.

Needs Pillow and NumPy (`pip install pillow numpy`):

    python3 Tools/make_image_fixtures.py [--out Tests/ZooDataTests/Fixtures/images]

Each image is 15x11 pixels (odd sizes, so chroma subsampling and Adam7 passes have partial
blocks) of a smooth pattern with noise; each file is under 2 KB.

The zoo's decoder gives 8-bit samples: grey (1 channel), RGB (3) or, when the file has alpha
or a tRNS chunk, RGBA (4; grey+alpha becomes RGBA with the grey repeated). Alpha is kept at
decoding and dropped or composited later (ImageTransforms). The reference is Pillow's image
converted to that mode, so like is compared with like:
- JPEG: Pillow's L or RGB. CMYK: Pillow's convert("RGB"), which is
  (255 - k) - round(c * (255 - k) / 255) per channel, as the zoo computes it. Pillow takes
  every CMYK JPEG as Adobe's inverted kind; the zoo (as browsers do) inverts only when the
  file has Adobe's APP14 marker, so for the file without it the reference applies the same
  formula to Pillow's values inverted back.
- PNG: Pillow's L, RGB or RGBA (LA and P with tRNS converted to RGBA, P to RGB, 1-bit to L).
  16-bit samples become round(v * 255 / 65535) in the zoo (libpng's scaling); Pillow keeps
  16-bit grey as I;16, which is scaled the same way here, but takes only the high byte of
  16-bit RGB and RGBA (v >> 8), so for those the reference is the samples written, scaled.

Every reference must be met exactly (`tolerance` 0), JPEG too: both sides decode with
libjpeg-turbo's default IDCT and upsampling, and Pillow's build (3.2.0 in Pillow 13.0) and
Debian's (2.1.5) give the same samples. Should another libjpeg round differently, a JPEG's
tolerance is the place to say by how much.
"""

import argparse
import base64
import io
import json
import os
import struct
import zlib

import numpy as np
import PIL
from PIL import Image, features

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WIDTH, HEIGHT = 15, 11


def pattern(channels, seed=0, width=WIDTH, height=HEIGHT):
    """A smooth picture with noise, so JPEG has edges and detail to code."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    planes = [
        128 + 100 * np.sin(x / 3.0 + c) * np.cos(y / 4.0 - c) + rng.normal(0, 15, (height, width))
        for c in range(channels)
    ]
    return np.clip(np.stack(planes, axis=-1), 0, 255).astype(np.uint8)


def saved(image, fmt, **options):
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def chunk(kind, body):
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2),
         (0, 1, 1, 2)]


def raw_png(samples, depth, color, interlace=False):
    """A PNG written sample by sample, filter 0 (Pillow writes neither 16-bit RGB, grey+alpha
    nor interlaced files). `samples` is (height, width) or (height, width, channels)."""
    height, width = samples.shape[:2]
    samples = samples.astype(">u2" if depth == 16 else "u1")

    def rows(pixels):
        return b"".join(b"\0" + row.tobytes() for row in pixels.reshape(pixels.shape[0], -1))

    if interlace:
        passes = [samples[y0::dy, x0::dx] for x0, y0, dx, dy in ADAM7]
        raw = b"".join(rows(p) for p in passes if p.size)
    else:
        raw = rows(samples)
    header = struct.pack(">IIBBBBB", width, height, depth, color, 0, 0, 1 if interlace else 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9))
            + chunk(b"IEND", b""))


def without_adobe_marker(jpeg):
    """The JPEG with its APP14 (Adobe) segment taken out."""
    at = 2
    while jpeg[at] == 0xFF and jpeg[at + 1] != 0xDA:
        (length,) = struct.unpack(">H", jpeg[at + 2 : at + 4])
        if jpeg[at + 1] == 0xEE:
            return jpeg[:at] + jpeg[at + 2 + length :]
        at += 2 + length
    raise ValueError("no APP14 segment")


def scaled16(values):
    return np.floor(values.astype(np.float64) * 255 / 65535 + 0.5).astype(np.uint8)


def cmyk_to_rgb(cmyk):
    """Pillow's cmyk2rgb: (255 - k) - round(c * (255 - k) / 255), rounding as MULDIV255."""
    cmyk = cmyk.astype(np.int64)
    nk = 255 - cmyk[..., 3:4]
    product = cmyk[..., :3] * nk + 128
    return np.clip(nk - (((product >> 8) + product) >> 8), 0, 255).astype(np.uint8)


def pillow(data, mode):
    return np.asarray(Image.open(io.BytesIO(data)).convert(mode))


def fixtures():
    """(file name, bytes, reference pixels HxWxC, tolerance, how the reference was made)."""
    rgb = Image.fromarray(pattern(3))
    grey = Image.fromarray(pattern(1)[..., 0])
    out = []

    def jpeg(name, data, mode="RGB", how=None):
        out.append((name, data, pillow(data, mode), 0, how or f"Pillow, convert('{mode}')"))

    jpeg("baseline-420.jpg", saved(rgb, "JPEG", quality=90))
    jpeg("progressive.jpg", saved(rgb, "JPEG", quality=90, progressive=True))
    jpeg("baseline-444.jpg", saved(rgb, "JPEG", quality=90, subsampling=0))
    jpeg("grey.jpg", saved(grey, "JPEG", quality=90), "L")
    jpeg("restart-markers.jpg", saved(rgb, "JPEG", quality=90, subsampling=0, restart_marker_blocks=1))
    exif = Image.Exif()
    exif[0x0112] = 6
    jpeg("exif-orientation.jpg", saved(rgb, "JPEG", quality=90, exif=exif.tobytes()),
         how="Pillow, convert('RGB'); EXIF orientation not applied by either")
    # Pillow's RGB to CMYK leaves K at 0; ink in all four plates exercises the rounding.
    cmyk = saved(Image.fromarray(pattern(4, seed=5), "CMYK"), "JPEG", quality=90)
    jpeg("cmyk-adobe.jpg", cmyk, how="Pillow, convert('RGB') (Adobe inverted CMYK)")
    plain = without_adobe_marker(cmyk)
    stored = 255 - np.asarray(Image.open(io.BytesIO(plain)))
    out.append(("cmyk-no-adobe-marker.jpg", plain, cmyk_to_rgb(stored), 0,
                "Pillow's CMYK values inverted back (no APP14 marker), then Pillow's cmyk2rgb"))

    def png(name, data, mode, how=None):
        out.append((name, data, pillow(data, mode), 0, how or f"Pillow, convert('{mode}')"))

    rng = np.random.default_rng(7)
    alpha = rng.integers(0, 256, (HEIGHT, WIDTH), dtype=np.uint8)
    png("rgb.png", saved(rgb, "PNG"), "RGB")
    png("rgba.png", saved(Image.fromarray(np.dstack([pattern(3), alpha])), "PNG"), "RGBA")
    png("grey-alpha.png", saved(Image.fromarray(np.dstack([pattern(1), alpha]), "LA"), "PNG"),
        "RGBA", "Pillow, LA converted to RGBA (grey repeated)")
    palette = rgb.quantize(16)
    png("palette.png", saved(palette, "PNG"), "RGB")
    png("palette-trns.png", saved(palette, "PNG", transparency=bytes(range(0, 256, 16))), "RGBA")
    png("grey-trns.png", saved(grey, "PNG", transparency=int(np.asarray(grey)[0, 0])), "RGBA",
        "Pillow, L with tRNS converted to RGBA")
    png("one-bit.png", saved(grey.convert("1"), "PNG"), "L")
    png("interlaced.png", raw_png(pattern(3), 8, 2, interlace=True), "RGB",
        "Pillow, convert('RGB') (Adam7)")
    grey16 = rng.integers(0, 65536, (HEIGHT, WIDTH), dtype=np.int64)
    data = raw_png(grey16, 16, 0)
    decoded = np.asarray(Image.open(io.BytesIO(data)))
    out.append(("grey16.png", data, scaled16(decoded)[..., None], 0,
                f"Pillow's {Image.open(io.BytesIO(data)).mode} values scaled: round(v * 255 / 65535)"))
    for name, color, channels in [("rgb16.png", 2, 3), ("rgba16.png", 6, 4), ("grey-alpha16.png", 4, 2)]:
        samples = rng.integers(0, 65536, (HEIGHT, WIDTH, channels), dtype=np.int64)
        reference = scaled16(samples)
        if channels == 2:
            reference = np.dstack([reference[..., :1]] * 3 + [reference[..., 1:]])
        out.append((name, raw_png(samples, 16, color), reference, 0,
                    "the samples written, scaled: round(v * 255 / 65535) (Pillow keeps v >> 8)"))
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=os.path.join(ROOT, "Tests", "ZooDataTests", "Fixtures", "images"))
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    manifest = {
        "pillow": PIL.__version__,
        "libjpeg_turbo": features.version("libjpeg_turbo"),
        "images": [],
    }
    for name, data, reference, tolerance, how in fixtures():
        with open(os.path.join(args.out, name), "wb") as f:
            f.write(data)
        if reference.ndim == 2:
            reference = reference[..., None]
        height, width, channels = reference.shape
        assert (width, height) == (WIDTH, HEIGHT), name
        manifest["images"].append({
            "file": name, "width": width, "height": height, "channels": channels,
            "tolerance": tolerance, "reference": how,
            "pixels": base64.b64encode(reference.astype(np.uint8).tobytes()).decode(),
        })
        print(f"{name:26} {len(data):5} bytes  {channels} channels  {how}")
    with open(os.path.join(args.out, "pillow.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
