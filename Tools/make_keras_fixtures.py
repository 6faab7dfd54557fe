#!/usr/bin/env python3
"""Writes the Keras-interop fixtures of the ZooIO tests: weight files saved by Keras itself
from a VGG16-shaped model, in all three of Keras's formats, and that model's logits.

The committed fixture (Tests/ZooIOTests/Fixtures/) is vgg16_narrow: keras.applications.VGG16's
code with its layer names (block1_conv1 ... block5_conv3, flatten, fc1, fc2, predictions) at
widths 4, 8, 8, 8, 8 instead of 64, 128, 256, 512, 512, hidden layers of 16 instead of 4096,
10 classes and a 96x96 input, so block5_pool is 3x3x8 and fc1 reads 72 flattened values:
enough to show the HWC -> CHW permutation of fc1's rows. The zoo builds the same network as
VGG(VGGConfiguration(layers: [4, 4, M, 8, 8, M, 8, 8, 8, M, 8, 8, 8, M, 8, 8, 8, M],
pooledSize: 3, hidden: [16, 16])) and maps names with the same table as vgg16.

With --densenet the model is densenet_narrow: keras.applications.densenet's code with its
layer names (conv1_conv, conv1_bn, pool1, conv2_block1_0_bn ... conv2_block1_2_conv, pool2_bn,
pool2_conv, ..., bn, predictions), its batch-norm eps 1.001e-5 and its ZeroPadding2D before
conv1 and pool1, at growth rate 4 and a stem of 8 (Keras fixes them at 32 and 64), blocks of
1, 2, 2, 1 layers, 10 classes and a 64x64 input. Keras starts batch norms at gamma 1, beta 0,
mean 0, variance 1; all four are drawn at random, as are the biases. The zoo builds it as DenseNet(DenseNetConfiguration(growthRate: 4, layersPerBlock:
[1, 2, 2, 1], initialFeatures: 8, bottleneckFactor: 4).keras) and maps names with
KerasApplications.densenet, the table of densenet121-keras ... densenet201-keras.

With --depthwise the model is depthwise_small, Keras's DepthwiseConv2D in both of its forms:
conv (Conv2D 3x3, 4 filters), dw1 (DepthwiseConv2D 3x3, depth_multiplier 2, with bias),
dw1_bn, ReLU, dw2 (DepthwiseConv2D 3x3 without bias), global average pool, predictions
(Dense, 10), all 'same' at stride 1 on a 32x32 input, batch norms and biases drawn at random.

With --mobilenet the model is mobilenet_a0125: keras.applications.MobileNet itself at alpha
0.125 (widths 4 to 128), a 64x64 input and 10 classes; with --mobilenet-v2, mobilenet_v2_a010:
keras.applications.MobileNetV2 at alpha 0.1 (its last convolution stays 1280 wide), 64x64,
10 classes. Both smaller than the 0.25 and 0.35 of Keras's pretrained sets so that each file
stays well under 1 MB. Kernels are Keras's seeded glorot-uniform draws; biases and all four
batch-norm tensors are drawn at random.

With --separable the model is separable_small: two SeparableConv2D layers, sep1 (4 filters,
3x3, depth multiplier 2, 'same', with bias) and sep2 (5 filters, 3x3, stride 2, 'same' on an
even size, multiplier 3, no bias), then a global average pool and predictions (3 classes), on
a 12x12 input, every kernel and bias drawn at random: it shows that a depthwise kernel's
(kh, kw, in, multiplier) reaches the zoo's SeparableConv2d in the right order. The zoo's model
has the same children under the same names.

With --xception the model is xception_narrow: keras.applications.xception's structure with its
layer names (block1_conv1 ... block14_sepconv2_bn, predictions; its four unnamed residual
projections come out as conv2d ... conv2d_3 and batch_normalization ... batch_normalization_3),
valid stem convolutions, 'same' separable convolutions without bias, 'same' 3x3 stride-2
max-pools and batch-norm eps 1e-3, with all eight middle blocks, at widths stem 4-8, entry
8-16-24, exit 32, then 48 and 64 (Keras: 32-64, 128-256-728, 1024, 1536-2048), 10 classes and
a 96x96 input (its pools see 45, 23, 12 and 6 rows: odd and even). Every kernel, bias and
batch-norm statistic is drawn at random. The zoo builds it as Xception(XceptionConfiguration(
stemWidths: [4, 8], entryWidths: [8, 16, 24], middleBlocks: 8, exitWidth: 32, finalWidths:
[48, 64])) and maps names with KerasApplications.xception, the table of xception-keras.

With --layer-names it writes keras_layer_names.json: for each model of LAYER_NAME_MODELS, the
names of keras.applications' layers that hold weights, in model order, and Keras's parameter
count (count_params, moving statistics included), as keras.applications.X(weights=None) builds
them in a fresh session; the zoo's declared name tables are checked against these lists.

With --vgg19 the model is vgg19_narrow: vgg16_narrow's widths and input with VGG19's blocks
of 2, 2, 4, 4, 4 convolutions and its names (block3_conv4 ...); the zoo maps them with
KerasApplications.vgg, the function behind vgg19's table, at these widths.

With --resnet the model is resnet_keras_small: keras.applications.resnet.ResNet itself (the
builder of ResNet50: stride 2 on the first 1x1 of a downsampling block, biased convolutions,
eps 1.001e-5, its names conv1_conv ... conv5_block1_3_bn, predictions) with a small stack
function: stages conv2 ... conv5 of 1, 2, 1, 1 blocks and 8, 16, 16, 8 filters (Keras fixes
the stem at 64), 10 classes, a 64x64 input, random biases and batch norms. The zoo builds it as
ResNet(ResNetConfiguration(block: .bottleneck, blocksPerStage: [1, 2, 1, 1], widths: [8, 16,
16, 8], stem: .imageNet, stemWidth: 64).keras) and maps names with KerasApplications.resnet.

With --inception-v3 the model is inception_v3_w16: keras.applications.InceptionV3 itself (its
unnamed conv2d ... conv2d_93 and batch_normalization ... batch_normalization_93 without scale,
'same' average pools that exclude the padding, mixed0 ... mixed10, predictions) with every
conv2d_bn width divided by 16, 10 classes and a 139x139 input (grids 15, 7 and 3). Kernels,
biases and batch-norm statistics are drawn at random. The zoo builds it as InceptionV3(source:
.keras, widthDivisor: 16) and maps names with KerasApplications.inceptionV3.

With --efficientnet-b0 the model is efficientnet_b0_keras_w010: keras.applications'
EfficientNet builder itself at B0's table with width 0.1 and depth 0.5 (widths 8 to 32, 128 at
the top; blocks 1-1-1-2-2-2-1), its Rescaling(1/255) and Normalization (mean and variance
drawn at random, count 0 as int32), 'same' strided convolutions through ZeroPadding2D, 10
classes and a 70x70 input (strided 3x3 convolutions on 70 and 35 rows, 5x5 on 18 and 5). The
zoo builds it as EfficientNet(EfficientNetConfiguration(widthMultiplier: 0.1,
depthMultiplier: 0.5, dropout: 0.2).keras) and maps names with KerasApplications.efficientNet.

With --inception-resnet-v2 the model is inception_resnet_v2_w16: keras.applications.
InceptionResNetV2 itself with every conv2d_bn width divided by 16 (the residual blocks' biased
1x1 convolutions keep their input's width, as Keras sizes them) and its three loops of
residual blocks cut to two each (block35_1, block35_2, block17_1, block17_2, block8_1,
block8_2, then Keras's last block8_10), 10 classes and a 75x75 input. The zoo builds it as
InceptionResNetV2(repeats: [2, 2, 2], widthDivisor: 16) and maps names with
KerasApplications.inceptionResNetV2(repeats: [2, 2, 2]).

With --full the model is keras.applications.VGG16(weights=None) itself (224x224, 1000
classes, 138M values: about 530 MB per file), written elsewhere, for Tools/check_keras_interop.sh.

Both use keras.utils.set_random_seed(SEED) before building, classifier_activation=None (logits,
not softmax), and then draw every bias at random (Keras starts them at zero, which would hide a
skipped or swapped bias). The input is the one the torch fixtures use, in the zoo's layout:
element i of an (N, 3, H, W) tensor is 1.5 * sin(0.011 * i); Keras gets its NHWC transpose.

Each model is saved three ways, as Keras 3 writes them:
    <name>.h5          legacy weights-only layout (layer_names, weight_names; what Keras 2's
                       save_weights wrote), via keras.src.legacy.saving.legacy_h5_format
    <name>_full.h5     model.save(...): the full legacy model, weights under /model_weights
    <name>.weights.h5  model.save_weights(...): Keras 3's layers/<key>/vars/<i> layout
and <name>.json holds the logits:
    {"model": ..., "keras": ..., "backend": ..., "seed": 0, "input_shape": [N, 3, H, W],
     "logits_shape": [N, classes], "logits": [...], "files": {...: bytes}}

Needs Keras 3 with the torch backend:
    KERAS_BACKEND=torch python3 Tools/make_keras_fixtures.py              # committed fixture
    KERAS_BACKEND=torch python3 Tools/make_keras_fixtures.py --densenet   # committed DenseNet
    KERAS_BACKEND=torch python3 Tools/make_keras_fixtures.py --depthwise # committed depthwise
    KERAS_BACKEND=torch python3 Tools/make_keras_fixtures.py --mobilenet
    KERAS_BACKEND=torch python3 Tools/make_keras_fixtures.py --mobilenet-v2
    KERAS_BACKEND=torch python3 Tools/make_keras_fixtures.py --separable  # SeparableConv2D
    KERAS_BACKEND=torch python3 Tools/make_keras_fixtures.py --xception   # committed Xception
    KERAS_BACKEND=torch python3 Tools/make_keras_fixtures.py --vgg19      # committed VGG19
    KERAS_BACKEND=torch python3 Tools/make_keras_fixtures.py --resnet     # committed ResNet
    KERAS_BACKEND=torch python3 Tools/make_keras_fixtures.py --inception-v3
    KERAS_BACKEND=torch python3 Tools/make_keras_fixtures.py --efficientnet-b0
    KERAS_BACKEND=torch python3 Tools/make_keras_fixtures.py --inception-resnet-v2
    KERAS_BACKEND=torch python3 Tools/make_keras_fixtures.py --layer-names  # name lists
    KERAS_BACKEND=torch python3 Tools/make_keras_fixtures.py --full --out DIR
"""

import argparse
import json
import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import h5py  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras import layers  # noqa: E402
from keras.src.legacy.saving import legacy_h5_format  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.join(HERE, "..", "Tests", "ZooIOTests", "Fixtures")
SEED = 0
NARROW = {"widths": (4, 8, 8, 8, 8), "hidden": 16, "classes": 10, "size": 96, "batch": 2}
FULL = {"classes": 1000, "size": 224, "batch": 1}
BLOCK_DEPTHS = (2, 2, 3, 3, 3)
VGG19_BLOCK_DEPTHS = (2, 2, 4, 4, 4)
DENSENET = {
    "blocks": (1, 2, 2, 1),
    "growth_rate": 4,
    "stem": 8,
    "classes": 10,
    "size": 64,
    "batch": 2,
}
KERAS_BN_EPS = 1.001e-5
SEPARABLE = {"classes": 3, "size": 12, "batch": 2}
XCEPTION = {
    "stem": (4, 8),
    "entry": (8, 16, 24),
    "middle_blocks": 8,
    "exit": 32,
    "final": (48, 64),
    "classes": 10,
    "size": 96,
    "batch": 2,
}
RESNET = {"classes": 10, "size": 64, "batch": 2}
INCEPTION_V3 = {"divisor": 16, "classes": 10, "size": 139, "batch": 2}
INCEPTION_RESNET_V2 = {"divisor": 16, "repeats": 2, "classes": 10, "size": 75, "batch": 2}
EFFICIENTNET_B0 = {"width": 0.1, "depth": 0.5, "classes": 10, "size": 70, "batch": 2}
LAYER_NAME_MODELS = ("VGG19", "ResNet50", "InceptionV3", "EfficientNetB0", "InceptionResNetV2")


def vgg16_shaped(widths, hidden, classes, size, depths=BLOCK_DEPTHS, name="vgg16"):
    """keras.applications.vgg16.VGG16's graph and names (vgg19.VGG19's with depths
    VGG19_BLOCK_DEPTHS), at other widths."""
    inputs = keras.Input((size, size, 3))
    x = inputs
    for block, (width, depth) in enumerate(zip(widths, depths), start=1):
        for conv in range(1, depth + 1):
            x = layers.Conv2D(
                width, 3, activation="relu", padding="same", name=f"block{block}_conv{conv}"
            )(x)
        x = layers.MaxPooling2D(2, strides=2, name=f"block{block}_pool")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(hidden, activation="relu", name="fc1")(x)
    x = layers.Dense(hidden, activation="relu", name="fc2")(x)
    outputs = layers.Dense(classes, name="predictions")(x)
    return keras.Model(inputs, outputs, name=name)


def densenet_shaped(blocks, growth_rate, stem, classes, size):
    """keras.applications.densenet.DenseNet's graph and names, at other widths."""

    def norm_relu(x, name):
        x = layers.BatchNormalization(axis=3, epsilon=KERAS_BN_EPS, name=f"{name}_bn")(x)
        return layers.Activation("relu", name=f"{name}_relu")(x)

    def conv_block(x, name):
        y = norm_relu(x, f"{name}_0")
        y = layers.Conv2D(4 * growth_rate, 1, use_bias=False, name=f"{name}_1_conv")(y)
        y = norm_relu(y, f"{name}_1")
        y = layers.Conv2D(
            growth_rate, 3, padding="same", use_bias=False, name=f"{name}_2_conv"
        )(y)
        return layers.Concatenate(axis=3, name=f"{name}_concat")([x, y])

    def transition_block(x, name):
        x = norm_relu(x, name)
        x = layers.Conv2D(int(x.shape[3] * 0.5), 1, use_bias=False, name=f"{name}_conv")(x)
        return layers.AveragePooling2D(2, strides=2, name=f"{name}_pool")(x)

    inputs = keras.Input((size, size, 3))
    x = layers.ZeroPadding2D(padding=((3, 3), (3, 3)))(inputs)
    x = layers.Conv2D(stem, 7, strides=2, use_bias=False, name="conv1_conv")(x)
    x = norm_relu(x, "conv1")
    x = layers.ZeroPadding2D(padding=((1, 1), (1, 1)))(x)
    x = layers.MaxPooling2D(3, strides=2, name="pool1")(x)
    for index, count in enumerate(blocks):
        for layer in range(count):
            x = conv_block(x, f"conv{index + 2}_block{layer + 1}")
        if index < len(blocks) - 1:
            x = transition_block(x, f"pool{index + 2}")
    x = layers.BatchNormalization(axis=3, epsilon=KERAS_BN_EPS, name="bn")(x)
    x = layers.Activation("relu", name="relu")(x)
    x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    outputs = layers.Dense(classes, name="predictions")(x)
    return keras.Model(inputs, outputs, name="densenet")


def randomize_batch_norms(model, rng):
    for layer in model.layers:
        if isinstance(layer, layers.BatchNormalization):
            n = layer.beta.shape[0]
            if layer.gamma is not None:  # Inception's batch norms have none (scale=False)
                layer.gamma.assign((0.5 + rng.random(n)).astype(np.float32))
            layer.beta.assign((0.2 * rng.standard_normal(n)).astype(np.float32))
            layer.moving_mean.assign((0.2 * rng.standard_normal(n)).astype(np.float32))
            layer.moving_variance.assign((0.5 + rng.random(n)).astype(np.float32))


def build_densenet():
    """The seeded DenseNet-shaped model with random biases and batch norms."""
    keras.utils.set_random_seed(SEED)
    spec = DENSENET
    model = densenet_shaped(
        spec["blocks"], spec["growth_rate"], spec["stem"], spec["classes"], spec["size"]
    )
    rng = np.random.default_rng(SEED + 1)
    model.get_layer("predictions").bias.assign(
        0.1 * rng.standard_normal(spec["classes"]).astype(np.float32)
    )
    randomize_batch_norms(model, rng)
    return model


DEPTHWISE = {"classes": 10, "size": 32, "batch": 2}


def depthwise_small(classes, size):
    """Keras's DepthwiseConv2D with a multiplier and a bias, then without either."""
    inputs = keras.Input((size, size, 3))
    x = layers.Conv2D(4, 3, padding="same", name="conv")(inputs)
    x = layers.DepthwiseConv2D(3, depth_multiplier=2, padding="same", name="dw1")(x)
    x = layers.BatchNormalization(name="dw1_bn")(x)
    x = layers.ReLU(name="dw1_relu")(x)
    x = layers.DepthwiseConv2D(3, padding="same", use_bias=False, name="dw2")(x)
    x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    outputs = layers.Dense(classes, name="predictions")(x)
    return keras.Model(inputs, outputs, name="depthwise_small")


def randomize_biases(model, rng):
    for layer in model.layers:
        if getattr(layer, "bias", None) is not None:
            bias = layer.bias
            layer.bias.assign(0.1 * rng.standard_normal(bias.shape).astype(np.float32))


def build_depthwise():
    """The seeded depthwise model with random biases and batch norms."""
    keras.utils.set_random_seed(SEED)
    model = depthwise_small(DEPTHWISE["classes"], DEPTHWISE["size"])
    rng = np.random.default_rng(SEED + 1)
    randomize_biases(model, rng)
    randomize_batch_norms(model, rng)
    return model


def build_resnet():
    """keras.applications.resnet.ResNet itself (v1, biased convolutions) on a small stack."""
    from keras.src.applications import resnet

    def stack_fn(x):
        x = resnet.stack_residual_blocks_v1(x, 8, 1, stride1=1, name="conv2")
        x = resnet.stack_residual_blocks_v1(x, 16, 2, name="conv3")
        x = resnet.stack_residual_blocks_v1(x, 16, 1, name="conv4")
        return resnet.stack_residual_blocks_v1(x, 8, 1, name="conv5")

    keras.utils.set_random_seed(SEED)
    spec = RESNET
    model = resnet.ResNet(
        stack_fn, preact=False, use_bias=True, weights=None,
        input_shape=(spec["size"], spec["size"], 3), classes=spec["classes"],
        classifier_activation=None, name="resnet_small",
    )
    rng = np.random.default_rng(SEED + 1)
    randomize_biases(model, rng)
    randomize_batch_norms(model, rng)
    return model


MOBILENET = {"alpha": 0.125, "classes": 10, "size": 64, "batch": 2}
MOBILENET_V2 = {"alpha": 0.1, "classes": 10, "size": 64, "batch": 2}


def application_model(application, spec, classes):
    """A keras.applications builder's model at the fixture's alpha and size, giving logits."""
    return application(
        alpha=spec["alpha"],
        weights=None,
        input_shape=(spec["size"], spec["size"], 3),
        classes=classes,
        classifier_activation=None,
    )


def build_application(application, spec):
    """A keras.applications builder's seeded model with random biases and batch norms."""
    keras.utils.set_random_seed(SEED)
    model = application_model(application, spec, spec["classes"])
    rng = np.random.default_rng(SEED + 1)
    randomize_biases(model, rng)
    randomize_batch_norms(model, rng)
    return model


def build_separable():
    """Two SeparableConv2D layers, multipliers 2 and 3, every weight drawn at random."""
    keras.utils.set_random_seed(SEED)
    spec = SEPARABLE
    inputs = keras.Input((spec["size"], spec["size"], 3))
    x = layers.SeparableConv2D(4, 3, padding="same", depth_multiplier=2, name="sep1")(inputs)
    x = layers.SeparableConv2D(
        5, 3, strides=2, padding="same", depth_multiplier=3, use_bias=False, name="sep2"
    )(x)
    x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    outputs = layers.Dense(spec["classes"], name="predictions")(x)
    model = keras.Model(inputs, outputs, name="separable_small")
    rng = np.random.default_rng(SEED + 1)
    for layer in model.layers:
        for variable in layer.weights:
            variable.assign((0.5 * rng.standard_normal(variable.shape)).astype(np.float32))
    return model


def xception_shaped(stem, entry, middle_blocks, exit_width, final, classes, size):
    """keras.applications.xception.Xception's graph and names, at other widths."""

    def separable_bn(x, width, name):
        x = layers.SeparableConv2D(width, 3, padding="same", use_bias=False, name=name)(x)
        return layers.BatchNormalization(axis=-1, name=f"{name}_bn")(x)

    def block(x, number, widths, relu_first=True, downsample=True):
        # Unnamed, as in Keras: they are numbered conv2d, conv2d_1, ... in build order.
        if downsample:
            shortcut = layers.Conv2D(
                widths[-1], 1, strides=2, padding="same", use_bias=False
            )(x)
            shortcut = layers.BatchNormalization(axis=-1)(shortcut)
        else:
            shortcut = x
        for index, width in enumerate(widths, start=1):
            name = f"block{number}_sepconv{index}"
            if index > 1 or relu_first:
                x = layers.Activation("relu", name=f"{name}_act")(x)
            x = separable_bn(x, width, name)
        if downsample:
            x = layers.MaxPooling2D(3, strides=2, padding="same", name=f"block{number}_pool")(x)
        return layers.add([x, shortcut])

    inputs = keras.Input((size, size, 3))
    x = inputs
    for index, (width, stride) in enumerate(zip(stem, (2, 1)), start=1):
        x = layers.Conv2D(width, 3, strides=stride, use_bias=False, name=f"block1_conv{index}")(x)
        x = layers.BatchNormalization(axis=-1, name=f"block1_conv{index}_bn")(x)
        x = layers.Activation("relu", name=f"block1_conv{index}_act")(x)
    number = 2
    for index, width in enumerate(entry):
        x = block(x, number, (width, width), relu_first=index > 0)
        number += 1
    for _ in range(middle_blocks):
        x = block(x, number, (entry[-1],) * 3, downsample=False)
        number += 1
    x = block(x, number, (entry[-1], exit_width))
    number += 1
    for index, width in enumerate(final, start=1):
        x = separable_bn(x, width, f"block{number}_sepconv{index}")
        x = layers.Activation("relu", name=f"block{number}_sepconv{index}_act")(x)
    x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    outputs = layers.Dense(classes, name="predictions")(x)
    return keras.Model(inputs, outputs, name="xception")


def build_xception():
    """The seeded Xception-shaped model with random kernels, biases and batch norms."""
    keras.utils.set_random_seed(SEED)
    spec = XCEPTION
    model = xception_shaped(
        spec["stem"], spec["entry"], spec["middle_blocks"], spec["exit"], spec["final"],
        spec["classes"], spec["size"],
    )
    rng = np.random.default_rng(SEED + 1)
    randomize_kernels(model, rng)
    randomize_batch_norms(model, rng)
    return model


def randomize_kernels(model, rng):
    """Kernels at 1/sqrt(size of all axes but the last), biases at 0.1: none keeps Keras's
    starting values (glorot-uniform kernels, zero biases)."""
    for layer in model.layers:
        if isinstance(layer, (layers.Conv2D, layers.SeparableConv2D, layers.Dense)):
            for variable in layer.weights:
                fan_in = int(np.prod(variable.shape[:-1])) if len(variable.shape) > 1 else 1
                scale = 1 / np.sqrt(fan_in) if len(variable.shape) > 1 else 0.1
                value = scale * rng.standard_normal(variable.shape)
                variable.assign(value.astype(np.float32))


def narrow_application(module, application, divisor, spec, repeats=None):
    """keras.applications' own builder with every conv2d_bn width divided by `divisor`; the
    one convolution that keeps its input's width (Inception-ResNet's residual `_conv`, the
    only one with a bias) is left as Keras sizes it. With `repeats`, each of the builder's
    `for block_idx in range(1, n)` loops runs that many times at most."""
    original = module.conv2d_bn
    if repeats is not None:
        module.range = lambda start, stop: range(start, min(stop, start + repeats))

    def narrow_conv2d_bn(x, filters, *args, **kwargs):
        if not kwargs.get("use_bias", False):
            filters //= divisor
        return original(x, filters, *args, **kwargs)

    keras.backend.clear_session()  # unnamed layers are numbered from conv2d, as in the table
    keras.utils.set_random_seed(SEED)
    module.conv2d_bn = narrow_conv2d_bn
    try:
        model = application(
            weights=None,
            input_shape=(spec["size"], spec["size"], 3),
            classes=spec["classes"],
            classifier_activation=None,
        )
    finally:
        module.conv2d_bn = original
        if repeats is not None:
            del module.range
    rng = np.random.default_rng(SEED + 1)
    randomize_kernels(model, rng)
    randomize_batch_norms(model, rng)
    return model


def efficientnet_b0_model(classes):
    """The fixture's EfficientNet as keras.applications' builder makes it."""
    from keras.src.applications import efficientnet

    spec = EFFICIENTNET_B0
    return efficientnet.EfficientNet(
        spec["width"],
        spec["depth"],
        224,
        name="efficientnet_b0",
        weights=None,
        input_shape=(spec["size"], spec["size"], 3),
        classes=classes,
        classifier_activation=None,
    )


def build_efficientnet_b0():
    """keras.applications.efficientnet's EfficientNet builder at B0's table, scaled down, with
    its input normalization's mean and variance drawn at random too."""
    from keras.src.applications import efficientnet

    keras.backend.clear_session()
    keras.utils.set_random_seed(SEED)
    model = efficientnet_b0_model(EFFICIENTNET_B0["classes"])
    rng = np.random.default_rng(SEED + 1)
    randomize_kernels(model, rng)
    randomize_batch_norms(model, rng)
    norm = model.get_layer("normalization")
    norm.adapt_mean.assign((0.01 * rng.standard_normal(3)).astype(np.float32))
    norm.adapt_variance.assign((0.0002 + 0.0002 * rng.random(3)).astype(np.float32))
    norm.finalize_state()
    return model


def build_inception_resnet_v2():
    from keras.src.applications import inception_resnet_v2

    spec = INCEPTION_RESNET_V2
    return narrow_application(
        inception_resnet_v2, inception_resnet_v2.InceptionResNetV2, spec["divisor"], spec,
        repeats=spec["repeats"],
    )


def build_inception_v3():
    from keras.src.applications import inception_v3

    spec = INCEPTION_V3
    return narrow_application(inception_v3, inception_v3.InceptionV3, spec["divisor"], spec)


def build(full, vgg19=False):
    """The seeded model of the fixture, with random biases."""
    keras.utils.set_random_seed(SEED)
    if full:
        model = keras.applications.VGG16(
            weights=None, classes=FULL["classes"], classifier_activation=None
        )
    elif vgg19:
        model = vgg16_shaped(
            NARROW["widths"], NARROW["hidden"], NARROW["classes"], NARROW["size"],
            depths=VGG19_BLOCK_DEPTHS, name="vgg19",
        )
    else:
        model = vgg16_shaped(
            NARROW["widths"], NARROW["hidden"], NARROW["classes"], NARROW["size"]
        )
    randomize_biases(model, np.random.default_rng(SEED + 1))
    return model


def deterministic_input(shape):
    """(N, C, H, W) in the zoo's layout."""
    i = np.arange(int(np.prod(shape)), dtype=np.float64)
    return (1.5 * np.sin(0.011 * i)).astype(np.float32).reshape(shape)


def logits(model, nchw):
    nhwc = np.ascontiguousarray(nchw.transpose(0, 2, 3, 1))
    return keras.ops.convert_to_numpy(model(nhwc, training=False))


def save_all(model, out, name):
    """The three Keras formats; returns {file name: bytes}."""
    paths = {
        "legacy": os.path.join(out, f"{name}.h5"),
        "full": os.path.join(out, f"{name}_full.h5"),
        "keras3": os.path.join(out, f"{name}.weights.h5"),
    }
    with h5py.File(paths["legacy"], "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, model)
    model.save(paths["full"])
    model.save_weights(paths["keras3"])
    return {os.path.basename(p): os.path.getsize(p) for p in paths.values()}


def write_layer_names(out):
    """keras_layer_names.json: weighted layer names and parameter count of each model."""
    entries = []
    for name in LAYER_NAME_MODELS:
        keras.backend.clear_session()  # layers Keras names by count start from zero
        model = getattr(keras.applications, name)(weights=None)
        names = [layer.name for layer in model.layers if layer.weights]
        entries.append(
            f"  {json.dumps(name)}: {{\"count\": {model.count_params()}, \"layers\": "
            + json.dumps(names) + "}"
        )
        print(f"{name}: {len(names)} layers with weights, {model.count_params()} parameters")
    header = f'  "keras": {json.dumps(keras.__version__)}'
    with open(os.path.join(out, "keras_layer_names.json"), "w") as f:
        f.write("{\n" + ",\n".join([header] + entries) + "\n}\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--full", action="store_true", help="keras.applications.VGG16 itself")
    parser.add_argument("--densenet", action="store_true", help="the DenseNet-shaped fixture")
    parser.add_argument("--depthwise", action="store_true", help="the DepthwiseConv2D fixture")
    parser.add_argument("--mobilenet", action="store_true", help="Keras's MobileNet, alpha 0.125")
    parser.add_argument("--mobilenet-v2", action="store_true", help="Keras's MobileNetV2, alpha 0.1")
    parser.add_argument("--separable", action="store_true", help="the SeparableConv2D fixture")
    parser.add_argument("--xception", action="store_true", help="the Xception-shaped fixture")
    parser.add_argument("--vgg19", action="store_true", help="the VGG19-shaped fixture")
    parser.add_argument("--resnet", action="store_true", help="Keras's ResNet, small stack")
    parser.add_argument(
        "--inception-v3", action="store_true", help="Keras's InceptionV3, widths / 16"
    )
    parser.add_argument(
        "--inception-resnet-v2", action="store_true", help="Keras's InceptionResNetV2, / 16"
    )
    parser.add_argument(
        "--efficientnet-b0", action="store_true", help="Keras's EfficientNet, width 0.1"
    )
    parser.add_argument(
        "--layer-names", action="store_true", help="keras_layer_names.json: names to check"
    )
    parser.add_argument("--out", default=DEFAULT_OUT)
    args = parser.parse_args()
    if args.layer_names:
        write_layer_names(args.out)
        return
    if args.full and os.path.abspath(args.out) == os.path.abspath(DEFAULT_OUT):
        parser.error("--full writes about 1.6 GB: give --out a folder outside the repository")

    if args.densenet:
        name, spec, model = "densenet_narrow", DENSENET, build_densenet()
    elif args.depthwise:
        name, spec, model = "depthwise_small", DEPTHWISE, build_depthwise()
    elif args.mobilenet:
        spec = MOBILENET
        name, model = "mobilenet_a0125", build_application(keras.applications.MobileNet, spec)
    elif args.mobilenet_v2:
        spec = MOBILENET_V2
        model = build_application(keras.applications.MobileNetV2, spec)
        name = "mobilenet_v2_a010"
    elif args.separable:
        name, spec, model = "separable_small", SEPARABLE, build_separable()
    elif args.xception:
        name, spec, model = "xception_narrow", XCEPTION, build_xception()
    elif args.resnet:
        name, spec, model = "resnet_keras_small", RESNET, build_resnet()
    elif args.inception_v3:
        name, spec, model = "inception_v3_w16", INCEPTION_V3, build_inception_v3()
    elif args.inception_resnet_v2:
        spec, model = INCEPTION_RESNET_V2, build_inception_resnet_v2()
        name = "inception_resnet_v2_w16"
    elif args.efficientnet_b0:
        name, spec, model = "efficientnet_b0_keras_w010", EFFICIENTNET_B0, build_efficientnet_b0()
    elif args.vgg19:
        name, spec, model = "vgg19_narrow", NARROW, build(False, vgg19=True)
    else:
        name = "vgg16" if args.full else "vgg16_narrow"
        spec = FULL if args.full else NARROW
        model = build(args.full)
    nchw = deterministic_input((spec["batch"], 3, spec["size"], spec["size"]))
    values = logits(model, nchw)

    os.makedirs(args.out, exist_ok=True)
    files = save_all(model, args.out, name)
    fixture = {
        "model": name,
        "keras": keras.__version__,
        "backend": keras.backend.backend(),
        "seed": SEED,
        "input_shape": list(nchw.shape),
        "logits_shape": list(values.shape),
        "logits": [float(v) for v in values.reshape(-1)],
        "files": files,
    }
    with open(os.path.join(args.out, f"{name}.json"), "w") as f:
        lines = [f"  {json.dumps(key)}: {json.dumps(value)}" for key, value in fixture.items()]
        f.write("{\n" + ",\n".join(lines) + "\n}\n")
    sizes = ", ".join(f"{file} {size / 1e3:.0f} kB" for file, size in files.items())
    print(f"{name}: logits {list(values.shape)} in [{values.min():.4g}, {values.max():.4g}]; {sizes}")


if __name__ == "__main__":
    main()
