import ZooNN
import ZooTensor

// Densely connected networks (Huang et al. 2017, "Densely Connected Convolutional Networks"),
// the DenseNet-BC design exactly as torchvision builds it: a 7x7 stride-2 stem and max-pool,
// dense blocks whose layers (BN-ReLU-1x1 conv to `bottleneckFactor * growthRate` channels,
// BN-ReLU-3x3 conv to `growthRate`) each read the concatenation of every earlier output, and
// transitions (BN-ReLU-1x1 conv halving the channels, 2x2 average pool) between the blocks.
// Parameter paths are torchvision's state-dict keys (`features.denseblock1.denselayer1.conv1`).
// Keras Applications' DenseNets are the same network with batch-norm eps 1.001e-5 (`keras`):
// their zero padding before the stem convolution and before the max-pool gives what the padding
// here gives, as the pool reads the ReLU's non-negative output.
// No dropout inside the blocks (torchvision's default `drop_rate=0`) and no memory-efficient
// checkpointing, which changes memory, not results.

/// One DenseNet: growth rate, layers per block, stem width and bottleneck factor, as
/// torchvision's `DenseNet(growth_rate, block_config, num_init_features, bn_size)`.
public struct DenseNetConfiguration: Sendable, Equatable {
  /// Channels each dense layer adds (`growth_rate`).
  public var growthRate: Int
  /// Dense layers in each block (`block_config`).
  public var layersPerBlock: [Int]
  /// Channels of the stem convolution (`num_init_features`).
  public var initialFeatures: Int
  /// The bottleneck 1x1 convolution has `bottleneckFactor * growthRate` channels (`bn_size`).
  public var bottleneckFactor: Int
  /// Eps of every batch norm: PyTorch's 1e-5, or Keras Applications' 1.001e-5.
  public var batchNormEps: Float

  /// A configuration from torchvision's four numbers.
  public init(
    growthRate: Int, layersPerBlock: [Int], initialFeatures: Int, bottleneckFactor: Int,
    batchNormEps: Float = 1e-5
  ) {
    self.growthRate = growthRate
    self.layersPerBlock = layersPerBlock
    self.initialFeatures = initialFeatures
    self.bottleneckFactor = bottleneckFactor
    self.batchNormEps = batchNormEps
  }

  /// The same network as `keras.applications.densenet` builds it: batch-norm eps 1.001e-5.
  public var keras: DenseNetConfiguration {
    var configuration = self
    configuration.batchNormEps = 1.001e-5
    return configuration
  }

  /// torchvision's ImageNet layout: growth 32, stem 64, bottleneck 4x, these blocks.
  static func imageNet(_ layers: [Int]) -> DenseNetConfiguration {
    DenseNetConfiguration(
      growthRate: 32, layersPerBlock: layers, initialFeatures: 64, bottleneckFactor: 4)
  }

  /// DenseNet-121: 6-12-24-16.
  public static let densenet121 = imageNet([6, 12, 24, 16])
  /// DenseNet-169: 6-12-32-32.
  public static let densenet169 = imageNet([6, 12, 32, 32])
  /// DenseNet-201: 6-12-48-32.
  public static let densenet201 = imageNet([6, 12, 48, 32])

  /// Channels entering each block, and (last) leaving the final one: transitions halve them.
  var blockInputs: [Int] {
    var channels = initialFeatures
    var result: [Int] = []
    for (index, layers) in layersPerBlock.enumerated() {
      result.append(channels)
      channels += layers * growthRate
      if index < layersPerBlock.count - 1 { channels /= 2 }
    }
    return result + [channels]
  }

  func batchNorm(_ channels: Int) -> BatchNorm { BatchNorm(channels, eps: batchNormEps) }
}

/// A convolution without bias, initialised as torchvision's DenseNet does (Kaiming normal, fan in).
private func conv(_ input: Int, _ output: Int, kernelSize: Int, stride: Int = 1, rng: RandomStream)
  -> Conv2d
{
  Conv2d(
    input, output, kernelSize: kernelSize, stride: stride, padding: kernelSize / 2, bias: false,
    initializer: .kaimingNormal(fanOut: false), rng: rng)
}

/// BN-ReLU-1x1 conv, BN-ReLU-3x3 conv: the `growthRate` new channels of one dense layer.
final class DenseLayer: Module {
  let norm1: BatchNorm, conv1: Conv2d, norm2: BatchNorm, conv2: Conv2d

  init(_ input: Int, _ configuration: DenseNetConfiguration, rng: RandomStream) {
    let width = configuration.bottleneckFactor * configuration.growthRate
    norm1 = configuration.batchNorm(input)
    conv1 = conv(input, width, kernelSize: 1, rng: rng)
    norm2 = configuration.batchNorm(width)
    conv2 = conv(width, configuration.growthRate, kernelSize: 3, rng: rng)
    super.init()
    register("norm1", norm1)
    register("conv1", conv1)
    register("norm2", norm2)
    register("conv2", conv2)
  }

  override func forward(_ x: Tensor) throws -> Tensor {
    try conv2(convBatchNorm(conv1, norm2, relu(norm1(x)), relu: true))
  }
}

/// Dense layers `denselayer1`...; each reads every channel so far and appends its own.
final class DenseBlock: Module {
  init(layers: Int, input: Int, _ configuration: DenseNetConfiguration, rng: RandomStream) {
    super.init()
    for index in 0..<layers {
      register(
        "denselayer\(index + 1)",
        DenseLayer(input + index * configuration.growthRate, configuration, rng: rng))
    }
  }

  /// The input and every layer's output, concatenated in that order (torchvision's `torch.cat`).
  override func forward(_ x: Tensor) throws -> Tensor {
    try children.reduce(x) { features, layer in
      try concatChannels([features, try layer.module(features)])
    }
  }
}

/// BN-ReLU-1x1 conv to `output` channels, then a 2x2 stride-2 average pool.
private func transition(
  _ input: Int, _ output: Int, _ configuration: DenseNetConfiguration, rng: RandomStream
) -> NamedSequential {
  NamedSequential([
    ("norm", configuration.batchNorm(input)), ("relu", ReLU()),
    ("conv", conv(input, output, kernelSize: 1, rng: rng)),
    ("pool", AvgPool2d(2, stride: 2)),
  ])
}

/// A DenseNet classifier: `features` (stem, dense blocks, transitions, `norm5`), ReLU, global
/// average pool, `classifier`.
public final class DenseNet: Module, Classifier {
  /// The shape this network was built with.
  public let configuration: DenseNetConfiguration
  /// Number of classes the head predicts.
  public private(set) var classCount: Int
  let featureLayers: NamedSequential

  /// A freshly initialised network (torchvision's initialisation: Kaiming-normal convolutions,
  /// unit batch-norm scales, zero classifier bias).
  public init(
    _ configuration: DenseNetConfiguration, classCount: Int = 1000, inputChannels: Int = 3,
    rng: RandomStream = .global
  ) {
    self.configuration = configuration
    self.classCount = classCount
    let stemWidth = configuration.initialFeatures
    var layers: [(String, Module)] = [
      ("conv0", conv(inputChannels, stemWidth, kernelSize: 7, stride: 2, rng: rng)),
      ("norm0", configuration.batchNorm(stemWidth)), ("relu0", ReLU()),
      ("pool0", MaxPool2d(3, stride: 2, padding: 1)),
    ]
    let inputs = configuration.blockInputs
    for (index, count) in configuration.layersPerBlock.enumerated() {
      let block = DenseBlock(layers: count, input: inputs[index], configuration, rng: rng)
      layers.append(("denseblock\(index + 1)", block))
      if index < configuration.layersPerBlock.count - 1 {
        let output = inputs[index] + count * configuration.growthRate
        layers.append(
          ("transition\(index + 1)", transition(output, output / 2, configuration, rng: rng)))
      }
    }
    layers.append(("norm5", configuration.batchNorm(inputs.last!)))
    featureLayers = NamedSequential(layers)
    super.init()
    register("features", featureLayers)
    register(
      "classifier",
      outputLayer(
        featureCount: inputs.last!, classCount: classCount, biasInitializer: .constant(0), rng: rng)
    )
  }

  /// The final linear layer, `classifier`.
  public var classifierPath: String { "classifier" }
  /// Channels after `norm5`, average-pooled: what `classifier` reads.
  public var featureCount: Int { configuration.blockInputs.last! }

  /// `features`, ReLU and global average pool: (N, featureCount).
  public func features(_ x: Tensor) throws -> Tensor {
    try adaptiveAvgPool2d(relu(featureLayers(x)), outputHeight: 1, outputWidth: 1).flattened()
  }

  /// The `classifier` layer: features to logits.
  public func head(_ features: Tensor) throws -> Tensor {
    try child(at: classifierPath)!(features)
  }

  /// Logits: the head applied to the features.
  public override func forward(_ x: Tensor) throws -> Tensor {
    try logits(x)
  }

  /// Registers `head` as `classifier`.
  public func replaceClassifier(with head: Module, classCount: Int) {
    register(classifierPath, head)
    self.classCount = classCount
  }
}
