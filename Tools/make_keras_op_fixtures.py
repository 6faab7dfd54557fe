#!/usr/bin/env python3
"""Writes Keras reference outputs and gradients for the ZooTensor parity tests of Keras's
padding semantics, in the format of Tools/make_torch_fixtures.py (tensors in the zoo's NCHW
layout, `w` a random weight of the output's shape, `grad_<input>` the gradient of
sum(out * w)):

    keras_zero_padding2d.json   layers.ZeroPadding2D(((top, bottom), (left, right)));
                                args.padding_amounts = [top, bottom, left, right]
    keras_max_pool2d_same.json  layers.MaxPooling2D(k, strides=s, padding="same")
    keras_conv2d_same.json      layers.Conv2D(k, strides=s, padding="same"), weight stored in
                                PyTorch's (O, I, kh, kw) layout
    keras_separable_conv2d.json layers.SeparableConv2D(filters, k, strides=s, padding=...,
                                depth_multiplier=m, use_bias=...); args.keras_padding is
                                "same" or "valid"; depthwise_weight stored as
                                (in, m, kh, kw), pointwise_weight as (out, in * m, 1, 1)

Gradients come from jax.grad through the Keras layer. Even sizes with stride 2 are included:
there TensorFlow's 'same' pads one pixel more at the bottom and right than at the top and left.

Needs Keras 3 with the jax backend:
    KERAS_BACKEND=jax python3 Tools/make_keras_op_fixtures.py [--out DIR]
"""

import argparse
import json
import os

os.environ["KERAS_BACKEND"] = "jax"

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402

from make_torch_fixtures import DEFAULT_OUT, dump  # noqa: E402

jax.config.update("jax_platforms", "cpu")


def encode(a, nhwc=True):
    a = np.asarray(a, dtype=np.float32)
    if nhwc and a.ndim == 4:
        a = a.transpose(0, 3, 1, 2)
    return {"shape": list(a.shape), "data": [float(v) for v in a.reshape(-1).tolist()]}


def run(name, args, layer, x, rng, params=None):
    """Calls the built `layer` on NHWC x with its trainable variables set to `params` (in the
    layer's order), and backprops sum(out * w) to x and to every parameter."""
    params = params or {}
    values = [jnp.asarray(v) for v in params.values()]

    def forward(x, *values):
        return layer.stateless_call(list(values), [], x)[0]

    out = forward(x, *values)
    w = rng.standard_normal(out.shape).astype(np.float32)
    inputs = (x, *values)
    grads = jax.grad(lambda *a: jnp.sum(forward(*a) * w), argnums=tuple(range(len(inputs))))(
        *inputs)
    tensors = {"x": encode(x)}
    tensors.update({key: encode_param(key, value) for key, value in params.items()})
    tensors["w"] = encode(w)
    tensors["out"] = encode(out)
    tensors["grad_x"] = encode(grads[0])
    for key, grad in zip(params, grads[1:]):
        tensors["grad_" + key] = encode_param(key, grad)
    return {"name": name, "args": args, "tensors": tensors}


def encode_param(key, value):
    value = np.asarray(value)
    if key in ("weight", "pointwise_weight"):  # Keras (kh, kw, in, out) -> (out, in, kh, kw)
        value = value.transpose(3, 2, 0, 1)
    elif key == "depthwise_weight":  # Keras (kh, kw, in, m) -> (in, m, kh, kw)
        value = value.transpose(2, 3, 0, 1)
    return encode(value, nhwc=False)


def zero_padding_cases(rng):
    specs = [
        # name, x shape (N, H, W, C), ((top, bottom), (left, right))
        ("asymmetric", (2, 4, 5, 3), ((1, 2), (0, 3))),
        ("symmetric_2_1", (1, 3, 3, 2), ((2, 2), (1, 1))),
    ]
    out = []
    for name, shape, ((top, bottom), (left, right)) in specs:
        layer = keras.layers.ZeroPadding2D(((top, bottom), (left, right)))
        x = rng.standard_normal(shape).astype(np.float32)
        layer.build(shape)
        args = {"padding_amounts": [top, bottom, left, right]}
        out.append(run(name, args, layer, x, rng))
    return out


def max_pool_same_cases(rng):
    specs = [
        # name, x shape (N, H, W, C), kernel, stride
        ("k3_s2_even_8x8", (2, 8, 8, 3), 3, 2),  # Xception's pools: 1 row/column bottom/right
        ("k3_s2_odd_7x9", (2, 7, 9, 2), 3, 2),
        ("k2_s2_5x6", (1, 5, 6, 2), 2, 2),
        ("k3_s1_5x5", (1, 5, 5, 2), 3, 1),
    ]
    out = []
    for name, shape, k, s in specs:
        layer = keras.layers.MaxPooling2D(k, strides=s, padding="same")
        x = rng.standard_normal(shape).astype(np.float32)
        layer.build(shape)
        out.append(run(name, {"kernel_size": k, "stride": s}, layer, x, rng))
    return out


def conv_same_cases(rng):
    specs = [
        # name, x shape (N, H, W, C), filters, kernel, stride
        ("k3_s2_even_8x8", (2, 8, 8, 3), 4, 3, 2),
        ("k5_s2_7x6", (2, 7, 6, 2), 3, 5, 2),
        ("k3_s1_5x7", (1, 5, 7, 2), 3, 3, 1),
        ("k1_s2_6x6", (1, 6, 6, 3), 2, 1, 2),
    ]
    out = []
    for name, shape, filters, k, s in specs:
        layer = keras.layers.Conv2D(filters, k, strides=s, padding="same")
        x = rng.standard_normal(shape).astype(np.float32)
        layer.build(shape)
        kernel = (rng.standard_normal(layer.kernel.shape) * 0.3).astype(np.float32)
        bias = (rng.standard_normal(layer.bias.shape) * 0.5).astype(np.float32)
        params = {"weight": kernel, "bias": bias}
        out.append(run(name, {"kernel_size": k, "stride": s}, layer, x, rng, params))
    return out


def separable_conv_cases(rng):
    specs = [
        # name, x shape (N, H, W, C), filters, kernel, stride, padding, multiplier, bias
        ("k3_s1_same_m1_nobias", (2, 6, 7, 3), 4, 3, 1, "same", 1, False),  # Xception's
        ("k3_s2_same_even_m2", (2, 8, 8, 3), 5, 3, 2, "same", 2, True),
        ("k5_s2_valid_m3", (1, 9, 7, 2), 3, 5, 2, "valid", 3, True),
        ("k3_s1_valid_m1", (1, 5, 6, 4), 2, 3, 1, "valid", 1, True),
    ]
    out = []
    for name, shape, filters, k, s, padding, multiplier, use_bias in specs:
        layer = keras.layers.SeparableConv2D(
            filters, k, strides=s, padding=padding, depth_multiplier=multiplier,
            use_bias=use_bias)
        x = rng.standard_normal(shape).astype(np.float32)
        layer.build(shape)
        params = {
            "depthwise_weight": (rng.standard_normal(layer.depthwise_kernel.shape) * 0.4),
            "pointwise_weight": (rng.standard_normal(layer.pointwise_kernel.shape) * 0.4),
        }
        if use_bias:
            params["bias"] = rng.standard_normal(layer.bias.shape) * 0.5
        params = {key: value.astype(np.float32) for key, value in params.items()}
        args = {
            "kernel_size": k, "stride": s, "keras_padding": padding,
            "depth_multiplier": multiplier,
        }
        out.append(run(name, args, layer, x, rng, params))
    return out


FAMILIES = {
    "keras_zero_padding2d": zero_padding_cases,
    "keras_max_pool2d_same": max_pool_same_cases,
    "keras_conv2d_same": conv_same_cases,
    "keras_separable_conv2d": separable_conv_cases,
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=DEFAULT_OUT, help="fixture directory")
    opts = parser.parse_args()
    for index, (family, make) in enumerate(FAMILIES.items()):
        cases = make(np.random.default_rng(100 + index))
        text = dump(cases)
        json.loads(text)
        with open(os.path.join(opts.out, f"{family}.json"), "w") as f:
            f.write(text)
        print(f"{family}.json: {len(cases)} cases, {len(text)} bytes")
    print(f"keras {keras.__version__}, jax {jax.__version__}")


if __name__ == "__main__":
    main()
