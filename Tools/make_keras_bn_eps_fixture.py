#!/usr/bin/env python3
"""Writes Tests/ZooIOTests/Fixtures/keras_bn_eps_full.h5: a tiny whole Keras model saved by
Keras (`model.save("....h5")`, the legacy full-model layout with its `model_config` JSON),
whose two BatchNormalization layers have different eps: `bn1` Keras Applications' 1.001e-5
(ResNet50, DenseNet), `bn2` Keras's default 1e-3. A weights file does not carry eps; the
model config does, and the zoo reads it from there.

    conv1  Conv2D(4, 3, use_bias=False)     (3, 3, 3, 4)
    bn1    BatchNormalization(epsilon=1.001e-5)
    relu1  ReLU
    conv2  Conv2D(2, 1)                     (1, 1, 4, 2) + bias
    bn2    BatchNormalization()             eps 1e-3

Needs Keras 3 (any backend):
    KERAS_BACKEND=jax python3 Tools/make_keras_bn_eps_fixture.py
"""

import os

os.environ.setdefault("KERAS_BACKEND", "jax")

import keras  # noqa: E402
from keras import layers  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "Tests", "ZooIOTests", "Fixtures", "keras_bn_eps_full.h5")


def main():
    keras.utils.set_random_seed(0)
    inputs = keras.Input((6, 6, 3))
    x = layers.Conv2D(4, 3, use_bias=False, name="conv1")(inputs)
    x = layers.BatchNormalization(epsilon=1.001e-5, name="bn1")(x)
    x = layers.ReLU(name="relu1")(x)
    x = layers.Conv2D(2, 1, name="conv2")(x)
    outputs = layers.BatchNormalization(name="bn2")(x)
    model = keras.Model(inputs, outputs, name="bn_eps")
    model.save(OUT)
    print(f"{os.path.basename(OUT)}: {os.path.getsize(OUT)} bytes, keras {keras.__version__}")


if __name__ == "__main__":
    main()
