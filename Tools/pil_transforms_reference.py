"""Expected pixels for ZooDataTests/ImageTransformTests from PIL and torchvision's rules.

Each case builds an image from the formula (x * 37 + y * 91 + c * 53) % 256, runs PIL's
convert / resize(BILINEAR) and torchvision's Resize(size) + CenterCrop(size) arithmetic,
and prints the result as Swift array literals to paste into the tests.
Needs Pillow only: python3 Tools/pil_transforms_reference.py
"""

import numpy as np
from PIL import Image


def pattern(width, height, channels):
    y, x, c = np.meshgrid(np.arange(height), np.arange(width), np.arange(channels), indexing="ij")
    return ((x * 37 + y * 91 + c * 53) % 256).astype(np.uint8)


def image(width, height, channels):
    array = pattern(width, height, channels)
    mode = {1: "L", 3: "RGB", 4: "RGBA"}[channels]
    return Image.fromarray(array[:, :, 0] if channels == 1 else array, mode)


def resize_shorter_then_crop(img, size):
    # torchvision.transforms.functional.resize(img, size) + center_crop(img, size)
    w, h = img.size
    short, long = (w, h) if w <= h else (h, w)
    new_short, new_long = size, int(size * long / short)
    new_w, new_h = (new_short, new_long) if w <= h else (new_long, new_short)
    img = img.resize((new_w, new_h), Image.BILINEAR)
    top = int(round((new_h - size) / 2.0))
    left = int(round((new_w - size) / 2.0))
    return img.crop((left, top, left + size, top + size))


def show(name, img):
    values = np.asarray(img)
    if values.ndim == 3:
        values = values.transpose(2, 0, 1)  # CHW, as LabeledImages stores pixels
    print(f"  // {name}: {img.size[0]}x{img.size[1]} {img.mode}")
    print(f"  static let {name}: [UInt8] = {values.flatten().tolist()}")


show("rgbToGrey", image(4, 2, 3).convert("L"))
show("rgbaToRGB", image(3, 1, 4).convert("RGB"))
show("shrinkGrey7x5To3x2", image(7, 5, 1).resize((3, 2), Image.BILINEAR))
show("enlargeGrey3x2To5x4", image(3, 2, 1).resize((5, 4), Image.BILINEAR))
show("resizeRGB9x6To4x5", image(9, 6, 3).resize((4, 5), Image.BILINEAR))
show("prepareRGB10x6ToGrey4", resize_shorter_then_crop(image(10, 6, 3).convert("L"), 4))
show("prepareGrey5x9ToRGB3", resize_shorter_then_crop(image(5, 9, 1).convert("RGB"), 3))
