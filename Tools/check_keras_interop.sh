#!/usr/bin/env bash
# Keras interop beyond the committed fixture, in both directions, with Keras 3 on the torch
# backend (pip install keras; not needed by CI):
#
# 1. keras.applications.VGG16(weights=None), seeded, biases randomised, is saved by Keras as
#    legacy weights .h5, as a full-model .h5 and as .weights.h5 (about 530 MB each, too large to
#    commit; Tools/make_keras_fixtures.py --full). The Swift test imports each into the zoo's
#    vgg16 through the declared name table and compares logits with Keras's (1e-4 relative).
# 2. The zoo exports vgg16 (seeded, biases randomised) and the narrow fixture model in both
#    Keras layouts with its logits; Tools/check_keras_export.py loads each into the equivalent
#    Keras model with model.load_weights and compares Keras's logits with the zoo's.
#
# Needs python3 with keras, torch and h5py, and about 8 GB of memory. Extra arguments go to
# `swift test` (for example --scratch-path).
set -euo pipefail
cd "$(dirname "$0")/.."
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export KERAS_BACKEND=torch

python3 Tools/make_keras_fixtures.py --full --out "$work/keras"
ZOO_IO_KERAS_FIXTURES="$work/keras" ZOO_IO_KERAS_EXPORT="$work/zoo" \
  swift test -c release "$@" --filter 'ZooIOTests.Keras'
python3 Tools/check_keras_export.py "$work/zoo"
echo "Keras interop checks passed"
