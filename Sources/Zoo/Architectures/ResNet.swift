import ZooNN
import ZooTensor

// Deep residual networks (He et al. 2016, "Deep Residual Learning for Image Recognition"),
// exactly as torchvision builds them: parameter paths are torchvision's state-dict keys, and
// the bottleneck is v1.5 (stride on the 3x3 convolution, not the first 1x1). The small-input
// variants are the paper's CIFAR networks (section 4.2: 6n+2 layers, 16/32/64 channels) with
// torchvision's projection shortcut (1x1 convolution + batch norm) wherever the shape changes.
// Keras Applications' ResNets (`keras`) are v1: the stride on the first 1x1 convolution, a
// bias on every convolution, batch-norm eps 1.001e-5. Their zero padding before the max-pool
// gives what the padding here gives, as the pool reads the ReLU's non-negative output.

/// One ResNet: block type, blocks per stage, stage widths and stem.
public struct ResNetConfiguration: Sendable, Equatable {
  /// The residual block: two 3x3 convolutions, or 1x1-3x3-1x1 with a 4x expansion.
  public enum Block: Sendable { case basic, bottleneck }
  /// How the network first reduces its input.
  public enum Stem: Sendable {
    /// 7x7 stride-2 convolution and 3x3 stride-2 max-pool, for 224 px images.
    case imageNet
    /// One 3x3 stride-1 convolution, for 28-32 px images.
    case small
  }

  /// Block type of every stage.
  public var block: Block
  /// Blocks in each stage (`layer1`, `layer2`, ...).
  public var blocksPerStage: [Int]
  /// Width of each stage (before the bottleneck's expansion).
  public var widths: [Int]
  /// The stem before the first stage.
  public var stem: Stem
  /// Whether a downsampling bottleneck strides on its 3x3 convolution (torchvision's v1.5) or,
  /// as the paper and Keras, on its first 1x1.
  public var strideOnFirst1x1 = false
  /// Whether every convolution has a bias (Keras's do, torchvision's do not).
  public var convolutionBias = false
  /// Eps of every batch norm: PyTorch's 1e-5, or Keras Applications' 1.001e-5.
  public var batchNormEps: Float = 1e-5
  /// Channels of the stem when they differ from the first stage's width (Keras's builder fixes
  /// them at 64 whatever the stages).
  public var stemWidth: Int? = nil

  /// Output channels per unit of width: 4 for bottlenecks, 1 otherwise.
  public var expansion: Int { block == .bottleneck ? 4 : 1 }

  /// torchvision's ImageNet layout with `blocks` blocks per stage and widths 64-512.
  public static func imageNet(_ block: Block, _ blocks: [Int]) -> ResNetConfiguration {
    ResNetConfiguration(
      block: block, blocksPerStage: blocks, widths: [64, 128, 256, 512], stem: .imageNet)
  }

  /// The paper's CIFAR ResNet with 6n+2 layers.
  public static func cifar(depth: Int) -> ResNetConfiguration {
    precondition((depth - 2) % 6 == 0, "CIFAR ResNets have 6n+2 layers, got \(depth)")
    let n = (depth - 2) / 6
    return ResNetConfiguration(
      block: .basic, blocksPerStage: [n, n, n], widths: [16, 32, 64], stem: .small)
  }

  /// The same network as `keras.applications.resnet` builds it (v1): stride on the first 1x1,
  /// biased convolutions, batch-norm eps 1.001e-5.
  public var keras: ResNetConfiguration {
    var configuration = self
    configuration.strideOnFirst1x1 = true
    configuration.convolutionBias = true
    configuration.batchNormEps = 1.001e-5
    return configuration
  }

  func batchNorm(_ channels: Int) -> BatchNorm { BatchNorm(channels, eps: batchNormEps) }

  /// ResNet-18: basic blocks, 2-2-2-2.
  public static let resnet18 = imageNet(.basic, [2, 2, 2, 2])
  /// ResNet-34: basic blocks, 3-4-6-3.
  public static let resnet34 = imageNet(.basic, [3, 4, 6, 3])
  /// ResNet-50: bottlenecks, 3-4-6-3.
  public static let resnet50 = imageNet(.bottleneck, [3, 4, 6, 3])
  /// ResNet-101: bottlenecks, 3-4-23-3.
  public static let resnet101 = imageNet(.bottleneck, [3, 4, 23, 3])
  /// ResNet-152: bottlenecks, 3-8-36-3.
  public static let resnet152 = imageNet(.bottleneck, [3, 8, 36, 3])
}

private func conv3x3(
  _ input: Int, _ output: Int, stride: Int = 1, bias: Bool = false, rng: RandomStream
) -> Conv2d {
  Conv2d(
    input, output, kernelSize: 3, stride: stride, padding: 1, bias: bias,
    initializer: .kaimingNormal(fanOut: true), biasInitializer: .constant(0), rng: rng)
}

private func conv1x1(
  _ input: Int, _ output: Int, stride: Int = 1, bias: Bool = false, rng: RandomStream
) -> Conv2d {
  Conv2d(
    input, output, kernelSize: 1, stride: stride, bias: bias,
    initializer: .kaimingNormal(fanOut: true), biasInitializer: .constant(0), rng: rng)
}

/// conv-bn-relu-conv-bn plus the shortcut, then ReLU.
final class BasicBlock: Module {
  let conv1: Conv2d, bn1: BatchNorm, conv2: Conv2d, bn2: BatchNorm
  let downsample: Sequential?

  init(
    _ input: Int, _ width: Int, stride: Int, _ configuration: ResNetConfiguration,
    rng: RandomStream
  ) {
    let bias = configuration.convolutionBias
    conv1 = conv3x3(input, width, stride: stride, bias: bias, rng: rng)
    bn1 = configuration.batchNorm(width)
    conv2 = conv3x3(width, width, bias: bias, rng: rng)
    bn2 = configuration.batchNorm(width)
    downsample = shortcut(input, width, stride: stride, configuration, rng: rng)
    super.init()
    register("conv1", conv1)
    register("bn1", bn1)
    register("conv2", conv2)
    register("bn2", bn2)
    if let downsample { register("downsample", downsample) }
  }

  override func forward(_ x: Tensor) throws -> Tensor {
    let out = try convBatchNorm(conv2, bn2, convBatchNorm(conv1, bn1, x, relu: true))
    return relu(try add(out, try downsample?(x) ?? x))
  }
}

/// 1x1 reduce, 3x3, 1x1 expand by 4, plus the shortcut, then ReLU; the stride on the 3x3 (v1.5)
/// or on the first 1x1 (v1).
final class Bottleneck: Module {
  let conv1: Conv2d, bn1: BatchNorm, conv2: Conv2d, bn2: BatchNorm, conv3: Conv2d, bn3: BatchNorm
  let downsample: Sequential?

  init(
    _ input: Int, _ width: Int, stride: Int, _ configuration: ResNetConfiguration,
    rng: RandomStream
  ) {
    let bias = configuration.convolutionBias
    let first = configuration.strideOnFirst1x1
    conv1 = conv1x1(input, width, stride: first ? stride : 1, bias: bias, rng: rng)
    bn1 = configuration.batchNorm(width)
    conv2 = conv3x3(width, width, stride: first ? 1 : stride, bias: bias, rng: rng)
    bn2 = configuration.batchNorm(width)
    conv3 = conv1x1(width, width * 4, bias: bias, rng: rng)
    bn3 = configuration.batchNorm(width * 4)
    downsample = shortcut(input, width * 4, stride: stride, configuration, rng: rng)
    super.init()
    for (name, layer) in [
      ("conv1", conv1), ("bn1", bn1), ("conv2", conv2), ("bn2", bn2), ("conv3", conv3),
      ("bn3", bn3),
    ] as [(String, Module)] {
      register(name, layer)
    }
    if let downsample { register("downsample", downsample) }
  }

  override func forward(_ x: Tensor) throws -> Tensor {
    var out = try convBatchNorm(conv1, bn1, x, relu: true)
    out = try convBatchNorm(conv2, bn2, out, relu: true)
    out = try convBatchNorm(conv3, bn3, out)
    return relu(try add(out, try downsample?(x) ?? x))
  }
}

/// The projection shortcut where the block changes shape; nil (identity) elsewhere.
private func shortcut(
  _ input: Int, _ output: Int, stride: Int, _ configuration: ResNetConfiguration,
  rng: RandomStream
) -> Sequential? {
  guard stride != 1 || input != output else { return nil }
  return Sequential([
    conv1x1(input, output, stride: stride, bias: configuration.convolutionBias, rng: rng),
    configuration.batchNorm(output),
  ])
}

/// A ResNet classifier: stem, stages `layer1`...`layerN`, global average pool, `fc`.
public final class ResNet: Module, Classifier {
  /// The shape this network was built with.
  public let configuration: ResNetConfiguration
  /// Number of classes the head predicts.
  public private(set) var classCount: Int
  let stem: [(String, Module)]
  let stages: [Sequential]

  /// A freshly initialised network (torchvision's initialisation: Kaiming-normal convolutions,
  /// unit batch-norm scales).
  public init(
    _ configuration: ResNetConfiguration, classCount: Int = 1000, inputChannels: Int = 3,
    rng: RandomStream = .global
  ) {
    self.configuration = configuration
    self.classCount = classCount
    let stemWidth = configuration.stemWidth ?? configuration.widths[0]
    switch configuration.stem {
    case .imageNet:
      stem = [
        (
          "conv1",
          Conv2d(
            inputChannels, stemWidth, kernelSize: 7, stride: 2, padding: 3,
            bias: configuration.convolutionBias, initializer: .kaimingNormal(fanOut: true),
            biasInitializer: .constant(0), rng: rng)
        ),
        ("bn1", configuration.batchNorm(stemWidth)), ("relu", ReLU()),
        ("maxpool", MaxPool2d(3, stride: 2, padding: 1)),
      ]
    case .small:
      stem = [
        (
          "conv1",
          conv3x3(inputChannels, stemWidth, bias: configuration.convolutionBias, rng: rng)
        ),
        ("bn1", configuration.batchNorm(stemWidth)), ("relu", ReLU()),
      ]
    }
    var channels = stemWidth
    var stages: [Sequential] = []
    for (index, (blocks, width)) in zip(configuration.blocksPerStage, configuration.widths)
      .enumerated()
    {
      let stride = index == 0 ? 1 : 2
      var layers: [Module] = []
      for block in 0..<blocks {
        let blockStride = block == 0 ? stride : 1
        switch configuration.block {
        case .basic:
          layers.append(BasicBlock(channels, width, stride: blockStride, configuration, rng: rng))
        case .bottleneck:
          layers.append(Bottleneck(channels, width, stride: blockStride, configuration, rng: rng))
        }
        channels = width * configuration.expansion
      }
      stages.append(Sequential(layers))
    }
    self.stages = stages
    super.init()
    for (name, layer) in stem { register(name, layer) }
    for (index, stage) in stages.enumerated() { register("layer\(index + 1)", stage) }
    register("avgpool", AdaptiveAvgPool2d(1, 1))
    register("fc", outputLayer(featureCount: featureCount, classCount: classCount, rng: rng))
  }

  /// The final linear layer, `fc`.
  public var classifierPath: String { "fc" }
  /// Channels of the last stage, average-pooled: what `fc` reads.
  public var featureCount: Int { configuration.widths.last! * configuration.expansion }

  /// Stem, stages and global average pool: (N, featureCount).
  public func features(_ x: Tensor) throws -> Tensor {
    var out = try runFoldingBatchNorm(stem.map(\.1), x)
    for stage in stages { out = try stage(out) }
    return try child(at: "avgpool")!(out).flattened()
  }

  /// The `fc` layer: features to logits.
  public func head(_ features: Tensor) throws -> Tensor {
    try child(at: "fc")!(features)
  }

  /// Logits: the head applied to the features.
  public override func forward(_ x: Tensor) throws -> Tensor {
    try logits(x)
  }

  /// Registers `head` as `fc`.
  public func replaceClassifier(with head: Module, classCount: Int) {
    register("fc", head)
    self.classCount = classCount
  }
}
