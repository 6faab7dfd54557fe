import Foundation
import Transfer
import Zoo
import ZooData
import ZooNN
import ZooTensor

/// One measured workload: its median and, where it multiplies matrices, the GFLOP/s achieved.
struct BenchResult {
  var key: String
  var label: String
  var value: Double
  var gflops: Double?
}

/// The workloads of the benchmark suite, the same ones Tools/bench_torch.py runs on PyTorch.
/// Synthetic inputs come from fixed seeds; Fashion-MNIST is real data.
struct BenchWorkloads {
  static let names = ["sgemm", "w1", "w2", "w3", "w4", "w5", "w6", "w7", "w8", "r20", "dw"]
  /// W7's backbones, built from the registry as torchvision defines them.
  static let mobileBackbones = ["mobilenet_v2", "efficientnet_b0", "densenet121"]

  let repeats: Int
  let data: URL

  func run(_ name: String) throws -> [BenchResult] {
    switch name {
    case "sgemm": return [sgemm()]
    case "w1": return try lenet()
    case "w2": return [try resnet18Inference()]
    case "w3": return [try resnet18Training()]
    case "w4": return [try headFineTune()]
    case "w5": return [try unetStep()]
    case "w6": return try [vgg11AlexNetInference(vgg: true), vgg11AlexNetInference(vgg: false)]
    case "w7": return try Self.mobileBackbones.map(backboneInference)
    case "w8": return [try mobileNetV2Training()]
    case "r20": return [try resnet20Training()]
    case "dw": return try [1, 2].flatMap { try depthwise(stride: $0) }
    default: preconditionFailure("unknown workload \(name)")
    }
  }

  private func median(_ measure: () throws -> Double) rethrows -> Double {
    try BenchTiming.median(repeats, measure)
  }

  /// Forward multiply-accumulates of `model` for one example of `shape` (no batch dimension).
  private func multiplyAccumulates(_ model: Module, _ shape: [Int]) throws -> Int {
    try ModuleTrace.run(model, inputShape: [1] + shape).totalMultiplyAccumulates
  }

  /// `images` per second at `macs` forward multiply-accumulates each; training costs about
  /// three forward passes (forward, input gradient, weight gradient).
  private func result(
    _ key: String, _ label: String, perSecond rate: Double, macs: Int, passes: Int = 1
  ) -> BenchResult {
    BenchResult(
      key: key, label: label, value: rate,
      gflops: 2 * Double(macs * passes) * rate / 1e9)
  }

  func sgemm(size n: Int = 2048) -> BenchResult {
    var g = SeededGenerator(seed: 1)
    let a = (0..<(n * n)).map { _ in g.nextUniform() }
    let b = (0..<(n * n)).map { _ in g.nextUniform() }
    var c = [Float](repeating: 0, count: n * n)
    let rate = median {
      let time = BenchTiming.seconds {
        c.withUnsafeMutableBufferPointer { c in
          BLAS.gemm(m: n, n: n, k: n, a: a, lda: n, b: b, ldb: n, c: c.baseAddress!, ldc: n)
        }
      }
      return 2 * Double(n * n * n) / time / 1e9
    }
    return BenchResult(key: "sgemm", label: "sgemm 2048^3 GFLOP/s", value: rate, gflops: rate)
  }

  /// W1: LeNet-5 on Fashion-MNIST, 300 SGD steps of 64 (momentum 0.9), and inference over
  /// 10,240 test images in batches of 256.
  func lenet() throws -> [BenchResult] {
    let model = LeNet5(rng: RandomStream(seed: 0))
    let macs = try multiplyAccumulates(model, [1, 28, 28])
    let train = ImageBatches(
      try FashionMNIST.load(.train, directory: data).prefix(300 * 64),
      normalization: .fashionMNIST, batchSize: 64)
    let training = try trainingRate(model, on: train)
    let test = ImageBatches(
      try FashionMNIST.load(.test, directory: data).prefix(10_240),
      normalization: .fashionMNIST, batchSize: 256)
    let order = test.order(seed: nil)
    let batches = (0..<test.batchCount).map { test.batch($0, order: order).images }
    model.setTraining(false)
    let inference = try median {
      let time = try BenchTiming.seconds {
        try withoutGradients { for x in batches { _ = try model(x) } }
      }
      return Double(test.count) / time
    }
    return [
      result(
        "w1_train", "W1 LeNet-5 training images/s (b64)", perSecond: training, macs: macs,
        passes: 3),
      result("w1_infer", "W1 LeNet-5 inference images/s (b256)", perSecond: inference, macs: macs),
    ]
  }

  /// MobileNet's depthwise 3x3 convolution (padding 1), 144 channels of 56x56, batch 8:
  /// GB/s of the bytes it must move. Inference reads x and the weight and writes y; a
  /// training step also reads dy, x and the weight again and writes dx and the weight's
  /// gradient.
  func depthwise(stride: Int) throws -> [BenchResult] {
    let x = BenchTiming.randomTensor([8, 144, 56, 56], seed: 2)
    let weight = BenchTiming.randomTensor([144, 1, 3, 3], seed: 3)
    let convolve = { try conv2d(x, weight: weight, stride: stride, padding: 1, groups: 144) }
    let y = try withoutGradients(convolve)
    let dy = BenchTiming.randomTensor(y.shape, seed: 4)
    let inferenceBytes = 4 * Double(x.count + weight.count + y.count)
    let trainingBytes = 4 * Double(3 * x.count + 3 * weight.count + 2 * y.count)
    let inference = try median {
      inferenceBytes / 1e9 / (try BenchTiming.seconds { _ = try withoutGradients(convolve) })
    }
    x.requiresGrad = true
    weight.requiresGrad = true
    let training = try median {
      x.zeroGrad()
      weight.zeroGrad()
      return trainingBytes / 1e9
        / (try BenchTiming.seconds { try convolve().backward(seed: dy) })
    }
    let key = "dw_s\(stride)"
    return [
      BenchResult(
        key: key, label: "depthwise 3x3/\(stride) inference GB/s", value: inference, gflops: nil),
      BenchResult(
        key: key + "_train", label: "depthwise 3x3/\(stride) fwd+bwd GB/s", value: training,
        gflops: nil),
    ]
  }

  /// resnet20 (the CIFAR ResNet, 16/32/64 channels) training on Fashion-MNIST at 28x28, batch
  /// 64, SGD with momentum: the small convnets the project trains most.
  func resnet20Training(steps: Int = 20) throws -> BenchResult {
    let model = ResNet(
      .cifar(depth: 20), classCount: 10, inputChannels: 1, rng: RandomStream(seed: 0))
    let macs = try multiplyAccumulates(model, [1, 28, 28])
    let train = ImageBatches(
      try FashionMNIST.load(.train, directory: data).prefix(steps * 64),
      normalization: .fashionMNIST, batchSize: 64)
    let rate = try trainingRate(model, on: train)
    return result(
      "r20", "resnet20 training images/s (28, b64)", perSecond: rate, macs: macs, passes: 3)
  }

  /// Median images per second of SGD epochs (lr 0.05, momentum 0.9) of `model` over `train`;
  /// the weights keep training from one timed epoch to the next.
  private func trainingRate(_ model: Module, on train: ImageBatches) throws -> Double {
    let optimizer = SGD(parameters: model.trainableParameters(), learningRate: 0.05, momentum: 0.9)
    let trainer = ClassifierTrainer(model: model, optimizer: optimizer)
    return try median {
      let time = try BenchTiming.seconds {
        _ = try trainer.trainEpoch(train, epoch: 1, epochs: 1, seed: 0)
      }
      return Double(train.count) / time
    }
  }

  /// Images per second of `model` in inference mode over `batches` batches of `shape`.
  private func inference(_ model: Module, shape: [Int], batch: Int, batches: Int) throws -> Double {
    model.setTraining(false)
    let x = BenchTiming.randomTensor([batch] + shape, seed: 2)
    return try median {
      let time = try BenchTiming.seconds {
        try withoutGradients { for _ in 0..<batches { _ = try model(x) } }
      }
      return Double(batch * batches) / time
    }
  }

  /// W2: resnet18 inference, 3x224x224, batch 8.
  func resnet18Inference() throws -> BenchResult {
    let model = ResNet(.resnet18, rng: RandomStream(seed: 0))
    let rate = try inference(model, shape: [3, 224, 224], batch: 8, batches: 4)
    return result(
      "w2", "W2 resnet18 inference images/s (224, b8)", perSecond: rate,
      macs: try multiplyAccumulates(model, [3, 224, 224]))
  }

  /// W3: resnet18 training steps (forward, backward, SGD with momentum), 3x64x64, batch 32.
  func resnet18Training() throws -> BenchResult {
    let model = ResNet(.resnet18, rng: RandomStream(seed: 0))
    return try trainingSteps(model, "w3", "W3 resnet18 training images/s (64, b32)")
  }

  /// W8: mobilenet_v2 training steps, as W3.
  func mobileNetV2Training() throws -> BenchResult {
    let model = try ModelRegistry.entry(named: "mobilenet_v2").build(rng: RandomStream(seed: 0))
    return try trainingSteps(model, "w8", "W8 mobilenet_v2 training images/s (64, b32)")
  }

  /// Images per second of training steps (forward, backward, SGD with momentum) of a
  /// 1000-class `model` on 3x64x64 inputs, 4 steps of batch 32.
  private func trainingSteps(_ model: Module, _ key: String, _ label: String) throws
    -> BenchResult
  {
    let optimizer = SGD(parameters: model.trainableParameters(), learningRate: 0.01, momentum: 0.9)
    let (batch, steps) = (32, 4)
    let x = BenchTiming.randomTensor([batch, 3, 64, 64], seed: 2)
    var generator = SeededGenerator(seed: 3)
    let labels = (0..<batch).map { _ in Int(generator.next() % 1000) }
    model.setTraining(true)
    let rate = try median {
      let time = try BenchTiming.seconds {
        for _ in 0..<steps {
          let loss = try crossEntropy(logits: try model(x), labels: labels)
          optimizer.zeroGrad()
          try loss.backward()
          optimizer.step()
        }
      }
      return Double(batch * steps) / time
    }
    return result(
      key, label, perSecond: rate, macs: try multiplyAccumulates(model, [3, 64, 64]), passes: 3)
  }

  /// W4: head-only fine-tune of a frozen resnet18 on 2,000 Fashion-MNIST training images
  /// (grey replicated to 3x64x64), batch 64, 5 epochs, validated on 500 test images after each
  /// epoch; total seconds. The head trains on backbone features computed once.
  func headFineTune() throws -> BenchResult {
    let shape = ImageShape(channels: 3, height: 64, width: 64)
    let train = ImageBatches(
      try FashionMNIST.load(.train, directory: data).prefix(2_000).prepared(for: shape),
      normalization: .imageNet, batchSize: 64)
    let validation = ImageBatches(
      try FashionMNIST.load(.test, directory: data).prefix(500).prepared(for: shape),
      normalization: .imageNet, batchSize: 256)
    var configuration = FineTuneConfiguration()
    configuration.headEpochs = 5
    configuration.batchSize = 64
    let model = ResNet(.resnet18, rng: RandomStream(seed: 0))
    let macs = try multiplyAccumulates(model, [3, 64, 64])
    let seconds = try median {
      let model = ResNet(.resnet18, rng: RandomStream(seed: 0))
      _ = model.replaceHead(classCount: 10, rng: RandomStream(seed: 1))
      return try BenchTiming.seconds {
        _ = try FineTuner(model: model, configuration: configuration).run(
          train: train, validation: validation)
      }
    }
    let images = train.count + validation.count
    return BenchResult(
      key: "w4", label: "W4 resnet18 head fine-tune seconds (5 epochs)", value: seconds,
      gflops: 2 * Double(macs * images) / seconds / 1e9)
  }

  /// W5: U-Net (4 down-steps, base 16) forward and backward, 1x128x128, batch 4.
  func unetStep() throws -> BenchResult {
    let model = UNet(depth: 4, baseWidth: 16, classCount: 2, inputChannels: 1)
    let (batch, steps) = (4, 3)
    let x = BenchTiming.randomTensor([batch, 1, 128, 128], seed: 2)
    let seed = BenchTiming.randomTensor([batch, 2, 128, 128], seed: 3)
    model.setTraining(true)
    let rate = try median {
      let time = try BenchTiming.seconds {
        for _ in 0..<steps {
          model.zeroGrad()
          try model(x).backward(seed: seed)
        }
      }
      return Double(steps) / time
    }
    return result(
      "w5", "W5 U-Net forward+backward iterations/s (b4)", perSecond: rate,
      macs: batch * (try multiplyAccumulates(model, [1, 128, 128])), passes: 3)
  }

  /// W6: vgg11 or alexnet inference, 3x224x224, batch 4.
  func vgg11AlexNetInference(vgg: Bool) throws -> BenchResult {
    let model: Module =
      vgg
      ? VGG(.torchvision(depth: 11, batchNorm: false), rng: RandomStream(seed: 0))
      : AlexNet(.torchvision, rng: RandomStream(seed: 0))
    let rate = try inference(model, shape: [3, 224, 224], batch: 4, batches: vgg ? 2 : 8)
    let name = vgg ? "vgg11" : "alexnet"
    return result(
      "w6_\(name)", "W6 \(name) inference images/s (224, b4)", perSecond: rate,
      macs: try multiplyAccumulates(model, [3, 224, 224]))
  }

  /// W7: a registry backbone's inference, 3x224x224, batch 8 (`w7_<name>`).
  func backboneInference(_ name: String) throws -> BenchResult {
    let model = try ModelRegistry.entry(named: name).build(rng: RandomStream(seed: 0))
    let rate = try inference(model, shape: [3, 224, 224], batch: 8, batches: 2)
    return result(
      "w7_\(name)", "W7 \(name) inference images/s (224, b8)", perSecond: rate,
      macs: try multiplyAccumulates(model, [3, 224, 224]))
  }
}
