#!/usr/bin/env bash
# PyTorch and h5py interop beyond the committed fixture, in both directions:
#
# 1. torchvision's full resnet18 (10 classes, seeded, batch-norm statistics randomised, float32
#    weights as they are: 45 MB, too large to commit) is converted by Tools/convert_torch.py;
#    Tools/check_h5.py checks the file against torchvision's shapes; the Swift test loads it
#    strictly into the zoo's resnet18 and compares logits with torchvision's (1e-4 relative).
# 2. The zoo writes lenet5, alexnet, vgg11_bn, resnet18, resnet50 and unet-small; h5py reads
#    each back through Tools/check_h5.py, against torchvision's shapes where torchvision has
#    the model.
#
# Needs python3 with torch, torchvision and h5py. Extra arguments go to `swift test`
# (for example --scratch-path).
set -euo pipefail
cd "$(dirname "$0")/.."
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

python3 Tools/make_io_fixtures.py --model resnet18 --bits 0 --out "$work/torch"
python3 Tools/check_h5.py "$work/torch/resnet18.h5" --torchvision resnet18 --num-classes 10 --quiet

ZOO_IO_TORCH_FIXTURES="$work/torch" ZOO_IO_EXPORT_FOLDER="$work/zoo" \
  swift test -c release "$@" --filter 'ZooIOTests.TorchInteropTests'

for name in lenet5 alexnet vgg11_bn resnet18 resnet50 unet-small; do
  case "$name" in
    alexnet | vgg11_bn | resnet18 | resnet50) reference=(--torchvision "$name") ;;
    *) reference=() ;;
  esac
  python3 Tools/check_h5.py "$work/zoo/$name.h5" "${reference[@]}" --quiet
done
echo "interop checks passed"
