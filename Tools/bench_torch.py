#!/usr/bin/env python3
"""PyTorch's side of the benchmark (and onnxruntime's for inference): the same workloads as
`zoo bench`, on the CPU, with a fixed number of threads (default 2), each the median of
--repeats timed runs after a warm-up:
  - sgemm: a 2048x2048x2048 float32 matrix product through torch.mm, GFLOP/s;
  - w1: LeNet-5 on Fashion-MNIST, training images/s over 300 SGD steps of batch 64
    (lr 0.05, momentum 0.9, cross-entropy) and inference images/s at batch 256 over 10,240
    test images;
  - w2: torchvision resnet18 inference, 3x224x224, batch 8, images/s;
  - w3: resnet18 training steps (forward, backward, SGD momentum 0.9), 3x64x64, batch 32;
  - w4: head-only fine-tune: resnet18 backbone frozen (inference mode), a new 10-class head
    trained with AdamW (lr 1e-3, weight decay 1e-4) on 2,000 Fashion-MNIST training images
    (grey replicated to 3x64x64), batch 64, 5 epochs, validated on 500 test images after
    each epoch; total seconds;
  - w5: U-Net (4 down-steps, base 16, BN+ReLU, transposed-conv up) forward and backward,
    1x128x128, batch 4, iterations/s;
  - w6: torchvision vgg11 and alexnet inference, 3x224x224, batch 4, images/s;
  - w7: torchvision mobilenet_v2, efficientnet_b0 and densenet121 inference, 3x224x224,
    batch 8, images/s;
  - w8: mobilenet_v2 training steps as w3 (3x64x64, batch 32), images/s;
  - r20: resnet20 (the CIFAR ResNet) training on Fashion-MNIST at 28x28, batch 64, 20 SGD
    steps (lr 0.05, momentum 0.9), images/s;
  - dw: MobileNet's depthwise 3x3 convolution (padding 1, groups 144), 8x144x56x56, stride 1
    and 2, GB/s of the bytes it must move: x, weight and y for inference; also dy, x, the
    weight, dx and the weight's gradient for a forward and backward step.
Inference workloads (w1 inference, w2, w6, w7) are also run through onnxruntime on the same model
exported to ONNX (pip install onnxruntime onnx), with the same thread count.

With --train-epochs N it instead trains LeNet-5 with that recipe for N epochs (shuffled with
a fixed seed) and prints the test accuracy after each epoch.

Fashion-MNIST is read from the IDX files (Debian package dataset-fashion-mnist); --data
names another directory holding {train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz].

Usage:
  python3 Tools/bench_torch.py [--repeats 5] [--threads 2] [--workloads sgemm,w1,...] [--json]
  python3 Tools/bench_torch.py --train-epochs 3
"""

import argparse
import io
import gzip
import json
import os
import statistics
import sys
import time

import numpy as np
import torch
from torch import nn
import torch.nn.functional as F
import torchvision

DEFAULT_DATA = "/usr/share/datasets/fashion-mnist"
BATCH = 64
INFER_BATCH = 256
LR = 0.05
MOMENTUM = 0.9
FASHION_MNIST_MEAN = 0.2860
FASHION_MNIST_STD = 0.3530


# --- data ---------------------------------------------------------------------------------


def read_idx(directory, stem):
    """Reads one IDX file (gzipped or not) into a numpy array of its declared shape."""
    for name, opener in ((stem + ".gz", gzip.open), (stem, open)):
        path = os.path.join(directory, name)
        if os.path.exists(path):
            with opener(path, "rb") as f:
                raw = f.read()
            break
    else:
        sys.exit(f"bench_torch: no {stem}[.gz] in {directory} (see --data)")
    if raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        sys.exit(f"bench_torch: {stem} is not an unsigned-byte IDX file")
    rank = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(rank)]
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * rank)
    if data.size != int(np.prod(dims)):
        sys.exit(f"bench_torch: {stem} holds {data.size} values, header says {dims}")
    return data.reshape(dims)


def load_split(directory, split, normalize=False):
    """Images as float32 (N, 1, 28, 28) in [0, 1] (or standardised with Fashion-MNIST's mean
    and std, as zoo trains), labels as int64 (N,)."""
    images = read_idx(directory, f"{split}-images-idx3-ubyte")
    labels = read_idx(directory, f"{split}-labels-idx1-ubyte")
    pixels = images.astype(np.float32) / 255.0
    if normalize:
        pixels = (pixels - FASHION_MNIST_MEAN) / FASHION_MNIST_STD
    x = torch.from_numpy(pixels.astype(np.float32)).unsqueeze(1).contiguous()
    y = torch.from_numpy(labels.astype(np.int64))
    return x, y


# --- model --------------------------------------------------------------------------------


def lenet5():
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(400, 120), nn.ReLU(),
        nn.Linear(120, 84), nn.ReLU(),
        nn.Linear(84, 10),
    )


def sgd(model):
    return torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)


def train_step(model, optimizer, x, y):
    optimizer.zero_grad(set_to_none=True)
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    optimizer.step()
    return loss


def accuracy(model, x, y):
    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(x), INFER_BATCH):
            correct += (model(x[i : i + INFER_BATCH]).argmax(1) == y[i : i + INFER_BATCH]).sum().item()
    model.train()
    return correct / len(x)


# --- measurements -------------------------------------------------------------------------


def median_of(repeats, run):
    """Median of `repeats` values of run() after one warm-up call."""
    run()
    return statistics.median(run() for _ in range(repeats))


def timed(body):
    start = time.perf_counter()
    body()
    return time.perf_counter() - start


def random_input(shape, seed=2):
    return torch.rand(shape, generator=torch.Generator().manual_seed(seed)) * 2 - 1


def bench_sgemm(repeats, n=2048):
    a = torch.randn(n, n)
    b = torch.randn(n, n)
    return median_of(repeats, lambda: 2 * n**3 / timed(lambda: torch.mm(a, b)) / 1e9)


def bench_train(x, y, steps, repeats):
    torch.manual_seed(0)
    model = lenet5()
    optimizer = sgd(model)
    order = torch.randperm(len(x), generator=torch.Generator().manual_seed(0))
    xs, ys = x[order], y[order]
    batches = len(xs) // BATCH
    first = [0]

    def run():
        def steps_():
            for s in range(steps):
                i = (first[0] + s) % batches * BATCH
                train_step(model, optimizer, xs[i : i + BATCH], ys[i : i + BATCH])
        seconds = timed(steps_)
        first[0] += steps
        return steps * BATCH / seconds

    return median_of(repeats, run)


def infer_rate(forward, x, batch, repeats):
    """Images/s of forward(batch) over x in batches of `batch`, without gradients."""
    chunks = [x[i : i + batch] for i in range(0, len(x), batch)]

    def run():
        with torch.no_grad():
            return len(x) / timed(lambda: [forward(c) for c in chunks])

    return median_of(repeats, run)


def onnx_forward(model, example, threads):
    """onnxruntime's session for `model` exported to ONNX, as a function of a tensor."""
    import warnings
    import onnxruntime as ort

    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, example, buffer, dynamo=False, input_names=["x"],
                          dynamic_axes={"x": {0: "n"}})
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    session = ort.InferenceSession(buffer.getvalue(), options, providers=["CPUExecutionProvider"])
    return lambda x: session.run(None, {"x": x.numpy()})


def bench_inference(name, model, x, batch, repeats, threads, onnx):
    """{name: torch images/s, name_onnx: onnxruntime images/s} for `model` in eval mode."""
    model.eval()
    result = {name: infer_rate(model, x, batch, repeats)}
    if onnx:
        forward = onnx_forward(model, x[:batch], threads)
        result[name + "_onnx"] = infer_rate(forward, x, batch, repeats)
    return result


def bench_training(model_name, repeats, batch=32, steps=4):
    """Images/s of SGD training steps of torchvision's `model_name` on 3x64x64 inputs."""
    torch.manual_seed(0)
    model = getattr(torchvision.models, model_name)().train()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x = random_input((batch, 3, 64, 64))
    y = torch.randint(0, 1000, (batch,), generator=torch.Generator().manual_seed(3))

    def run():
        return batch * steps / timed(lambda: [train_step(model, optimizer, x, y) for _ in range(steps)])

    return median_of(repeats, run)


def fashion_mnist_64(x):
    """(N, 1, 28, 28) in [0, 1] -> (N, 3, 64, 64), bilinear, ImageNet-normalised."""
    x = F.interpolate(x, size=(64, 64), mode="bilinear", align_corners=False).clamp(0, 1)
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    return ((x.repeat(1, 3, 1, 1) - mean) / std).contiguous()


def bench_head_finetune(data, repeats, epochs=5, batch=64):
    """Seconds for the whole head-only fine-tune: the usual PyTorch recipe, where the frozen
    backbone runs on every batch of every epoch."""
    x, y = load_split(data, "train")
    tx, ty = load_split(data, "t10k")
    x, y = fashion_mnist_64(x[:2000]), y[:2000]
    tx, ty = fashion_mnist_64(tx[:500]), ty[:500]

    def run():
        torch.manual_seed(0)
        model = torchvision.models.resnet18()
        model.fc = nn.Linear(512, 10)
        for name, p in model.named_parameters():
            p.requires_grad = name.startswith("fc.")
        optimizer = torch.optim.AdamW(model.fc.parameters(), lr=1e-3, weight_decay=1e-4)
        shuffle = torch.Generator().manual_seed(0)

        def fine_tune():
            model.eval()  # frozen backbone: running batch-norm statistics
            for _ in range(epochs):
                order = torch.randperm(len(x), generator=shuffle)
                for i in range(0, len(x), batch):
                    idx = order[i : i + batch]
                    optimizer.zero_grad(set_to_none=True)
                    F.cross_entropy(model(x[idx]), y[idx]).backward()
                    optimizer.step()
                with torch.no_grad():
                    for i in range(0, len(tx), 256):
                        F.cross_entropy(model(tx[i : i + 256]), ty[i : i + 256])

        return timed(fine_tune)

    return median_of(repeats, run)


class BasicBlock(nn.Module):
    """torchvision's basic block, with its projection shortcut where the shape changes."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        out = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        return F.relu(out + (self.downsample(x) if self.downsample is not None else x))


def resnet20(classes=10, channels=1):
    """zoo's resnet20: the paper's CIFAR ResNet (3 stages of 3 basic blocks, 16/32/64 wide)."""
    layers = [nn.Conv2d(channels, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU()]
    cin = 16
    for stage, width in enumerate((16, 32, 64)):
        for block in range(3):
            layers.append(BasicBlock(cin, width, 2 if stage > 0 and block == 0 else 1))
            cin = width
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, classes)]
    return nn.Sequential(*layers)


def bench_resnet20(x, y, repeats, steps=20):
    torch.manual_seed(0)
    model = resnet20().train()
    optimizer = sgd(model)
    xs, ys = x[: steps * BATCH], y[: steps * BATCH]

    def run():
        return len(xs) / timed(lambda: [
            train_step(model, optimizer, xs[i : i + BATCH], ys[i : i + BATCH])
            for i in range(0, len(xs), BATCH)])

    return median_of(repeats, run)


def bench_depthwise(repeats, stride):
    x = random_input((8, 144, 56, 56))
    weight = random_input((144, 1, 3, 3), seed=3)

    def convolve():
        return F.conv2d(x, weight, stride=stride, padding=1, groups=144)

    with torch.no_grad():
        y = convolve()
    dy = random_input(y.shape, seed=4)
    inference_bytes = 4 * (x.numel() + weight.numel() + y.numel())
    training_bytes = 4 * (3 * x.numel() + 3 * weight.numel() + 2 * y.numel())

    def infer():
        with torch.no_grad():
            return inference_bytes / 1e9 / timed(convolve)

    x.requires_grad_(True)
    weight.requires_grad_(True)

    def step():
        x.grad, weight.grad = None, None
        return training_bytes / 1e9 / timed(lambda: convolve().backward(dy))

    key = f"dw_s{stride}"
    return {key: median_of(repeats, infer), key + "_train": median_of(repeats, step)}


def double_conv(cin, cout):
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
        nn.Conv2d(cout, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class UNet(nn.Module):
    """zoo's U-Net: same-padded double convolutions with batch norm, 2x2 max-pool down,
    2x2 stride-2 transposed convolution up, [skip, upsampled] concatenation, 1x1 head."""

    def __init__(self, depth=4, base=16, classes=2, channels=1):
        super().__init__()
        widths = [base << i for i in range(depth + 1)]
        self.encoder = nn.ModuleList(
            double_conv(channels if i == 0 else widths[i - 1], widths[i]) for i in range(depth + 1))
        self.ups = nn.ModuleList(nn.ConvTranspose2d(widths[i + 1], widths[i], 2, stride=2)
                                 for i in reversed(range(depth)))
        self.convs = nn.ModuleList(double_conv(2 * widths[i], widths[i]) for i in reversed(range(depth)))
        self.head = nn.Conv2d(base, classes, 1)

    def forward(self, x):
        skips = []
        out = self.encoder[0](x)
        for level in self.encoder[1:]:
            skips.append(out)
            out = level(F.max_pool2d(out, 2))
        for up, conv in zip(self.ups, self.convs):
            out = conv(torch.cat([skips.pop(), up(out)], 1))
        return self.head(out)


def bench_unet(repeats, batch=4, steps=3):
    torch.manual_seed(0)
    model = UNet().train()
    x = random_input((batch, 1, 128, 128))
    seed = random_input((batch, 2, 128, 128), seed=3)

    def step():
        model.zero_grad(set_to_none=True)
        model(x).backward(seed)

    return median_of(repeats, lambda: steps / timed(lambda: [step() for _ in range(steps)]))


def train_epochs(data, epochs, seed, schedule, normalize):
    x, y = load_split(data, "train", normalize)
    tx, ty = load_split(data, "t10k", normalize)
    torch.manual_seed(seed)
    model = lenet5()
    optimizer = sgd(model)
    steps_per_epoch = (len(x) + BATCH - 1) // BATCH
    scheduler = (torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs * steps_per_epoch)
                 if schedule == "cosine" else None)
    shuffle = torch.Generator().manual_seed(seed)
    print(
        f"LeNet-5 on Fashion-MNIST: batch {BATCH}, SGD lr {LR} momentum {MOMENTUM}, {schedule} schedule, "
        f"{'standardised' if normalize else '[0, 1]'} inputs, cross-entropy, seed {seed}, "
        f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    for epoch in range(1, epochs + 1):
        start = time.perf_counter()
        order = torch.randperm(len(x), generator=shuffle)
        total, steps = 0.0, 0
        for i in range(0, len(x), BATCH):
            idx = order[i : i + BATCH]
            total += train_step(model, optimizer, x[idx], y[idx]).item()
            steps += 1
            if scheduler:
                scheduler.step()
        seconds = time.perf_counter() - start
        acc = accuracy(model, tx, ty)
        print(
            f"epoch {epoch}: train loss {total / steps:.4f}, test accuracy {100 * acc:.2f}% "
            f"({seconds:.1f} s)")


WORKLOADS = ["sgemm", "w1", "w2", "w3", "w4", "w5", "w6", "w7", "w8", "r20", "dw"]
# w7's backbones, the zoo's registry names of these torchvision models.
MOBILE_BACKBONES = ["mobilenet_v2", "efficientnet_b0", "densenet121"]


def peak_rss_mib():
    """This process's peak resident memory (Linux's VmHWM) in MiB."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def main():
    parser = argparse.ArgumentParser(
        description="PyTorch (and onnxruntime) CPU side of zoo's benchmark workloads.")
    parser.add_argument("--data", default=DEFAULT_DATA, help="directory with the Fashion-MNIST IDX files")
    parser.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (default 2)")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per measurement (median)")
    parser.add_argument("--workloads", default=",".join(WORKLOADS),
                        help="comma-separated workloads: " + ",".join(WORKLOADS))
    parser.add_argument("--no-onnx", action="store_true", help="skip the onnxruntime measurements")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    parser.add_argument(
        "--train-epochs", type=int, metavar="N",
        help="instead of benchmarking, train for N epochs and print test accuracy per epoch")
    parser.add_argument("--seed", type=int, default=0, help="seed for --train-epochs")
    parser.add_argument("--schedule", choices=["constant", "cosine"], default="constant",
                        help="learning-rate schedule for --train-epochs (zoo train uses cosine)")
    parser.add_argument("--normalize", action="store_true",
                        help="standardise inputs with Fashion-MNIST's mean and std, as zoo train does")
    opts = parser.parse_args()

    torch.set_num_threads(opts.threads)
    if opts.train_epochs:
        train_epochs(opts.data, opts.train_epochs, opts.seed, opts.schedule, opts.normalize)
        return
    selected = [w.strip().lower() for w in opts.workloads.split(",") if w.strip()]
    unknown = [w for w in selected if w not in WORKLOADS]
    if unknown:
        sys.exit(f"bench_torch: unknown workload {', '.join(unknown)}; choose from {', '.join(WORKLOADS)}")
    onnx = not opts.no_onnx
    r, t = opts.repeats, opts.threads
    result = {}
    for workload in selected:
        if workload == "sgemm":
            result["sgemm"] = bench_sgemm(max(r, 5))
        elif workload == "w1":
            x, y = load_split(opts.data, "train", normalize=True)
            tx, _ = load_split(opts.data, "t10k", normalize=True)
            result["w1_train"] = bench_train(x, y, 300, r)
            torch.manual_seed(0)
            result.update(bench_inference("w1_infer", lenet5(), tx[:10240], INFER_BATCH, r, t, onnx))
        elif workload == "w2":
            torch.manual_seed(0)
            model = torchvision.models.resnet18()
            result.update(bench_inference("w2", model, random_input((32, 3, 224, 224)), 8, r, t, onnx))
        elif workload == "w3":
            result["w3"] = bench_training("resnet18", r)
        elif workload == "w4":
            result["w4"] = bench_head_finetune(opts.data, r)
        elif workload == "w5":
            result["w5"] = bench_unet(r)
        elif workload == "w7":
            torch.manual_seed(0)
            for name in MOBILE_BACKBONES:
                model = getattr(torchvision.models, name)()
                result.update(bench_inference(
                    "w7_" + name, model, random_input((16, 3, 224, 224)), 8, r, t, onnx))
        elif workload == "w8":
            result["w8"] = bench_training("mobilenet_v2", r)
        elif workload == "r20":
            x, y = load_split(opts.data, "train", normalize=True)
            result["r20"] = bench_resnet20(x, y, r)
        elif workload == "dw":
            for stride in (1, 2):
                result.update(bench_depthwise(r, stride))
        elif workload == "w6":
            torch.manual_seed(0)
            for name, model, images in (("vgg11", torchvision.models.vgg11(), 8),
                                        ("alexnet", torchvision.models.alexnet(), 32)):
                result.update(bench_inference(
                    "w6_" + name, model, random_input((images, 3, 224, 224)), 4, r, t, onnx))
    result["torch_version"] = torch.__version__
    result["threads"] = torch.get_num_threads()
    peak = peak_rss_mib()
    if peak is not None:
        result["peak_rss_mib"] = peak
    if opts.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:24} {value:.1f}" if isinstance(value, float) else f"{key:24} {value}")


if __name__ == "__main__":
    main()
