import ZooIO
import ZooNN
import ZooTensor

// VGG (Simonyan & Zisserman 2015, "Very Deep Convolutional Networks for Large-Scale Image
// Recognition") as torchvision builds it: a configuration table of 3x3 convolution widths and
// max-pools, expanded by `makeFeatures`; `features` / `avgpool` / `classifier` paths and
// torchvision's initialisation. `vgg-lite` is the same design at a quarter of the width and
// three stages, with batch norm, for 28-64 px images.

/// One entry of a VGG configuration: a 3x3 convolution of some width, or a 2x2 max-pool.
public enum VGGLayer: Sendable, Equatable {
  /// A 3x3 convolution (padding 1) with this many output channels, then ReLU.
  case conv(Int)
  /// A 2x2 stride-2 max-pool.
  case pool
}

/// The shape of a VGG: its layer table, batch norm and classifier.
public struct VGGConfiguration: Sendable, Equatable {
  /// Convolutions and pools in order.
  public var layers: [VGGLayer]
  /// Whether every convolution is followed by batch norm.
  public var batchNorm: Bool
  /// Output size of the adaptive average pool before the classifier.
  public var pooledSize: Int
  /// Widths of the classifier's hidden layers.
  public var hidden: [Int]
  /// Dropout probability in the classifier.
  public var dropout: Float

  /// A configuration from its parts (`torchvision(depth:batchNorm:)` and `lite` are the
  /// registry's).
  public init(
    layers: [VGGLayer], batchNorm: Bool, pooledSize: Int, hidden: [Int], dropout: Float = 0.5
  ) {
    self.layers = layers
    self.batchNorm = batchNorm
    self.pooledSize = pooledSize
    self.hidden = hidden
    self.dropout = dropout
  }

  static func table(_ widths: [Int?]) -> [VGGLayer] {
    widths.map { $0.map(VGGLayer.conv) ?? .pool }
  }

  /// torchvision's configurations "A" (11 layers), "B" (13), "D" (16) and "E" (19).
  public static func torchvision(depth: Int, batchNorm: Bool) -> VGGConfiguration {
    let tables: [Int: [Int?]] = [
      11: [64, nil, 128, nil, 256, 256, nil, 512, 512, nil, 512, 512, nil],
      13: [64, 64, nil, 128, 128, nil, 256, 256, nil, 512, 512, nil, 512, 512, nil],
      16: [64, 64, nil, 128, 128, nil, 256, 256, 256, nil, 512, 512, 512, nil, 512, 512, 512, nil],
      19: [
        64, 64, nil, 128, 128, nil, 256, 256, 256, 256, nil, 512, 512, 512, 512, nil, 512, 512, 512,
        512, nil,
      ],
    ]
    return VGGConfiguration(
      layers: table(tables[depth]!), batchNorm: batchNorm, pooledSize: 7, hidden: [4096, 4096],
      dropout: 0.5)
  }

  /// Quarter width, three stages, batch norm: 28x28 in, 3x3 out of the features.
  public static let lite = VGGConfiguration(
    layers: table([16, 16, nil, 32, 32, nil, 64, 64, 64, nil]), batchNorm: true, pooledSize: 3,
    hidden: [256], dropout: 0.3)
}

/// A VGG classifier.
public final class VGG: Module, SequentialHeadClassifier, FlattenedInputs {
  /// The shape this network was built with.
  public let configuration: VGGConfiguration
  /// Number of classes the head predicts.
  public internal(set) var classCount: Int
  let inputChannels: Int
  let featureLayers: Sequential
  let classifier: Sequential

  /// A freshly initialised network (torchvision's initialisation).
  public init(
    _ configuration: VGGConfiguration, classCount: Int = 1000, inputChannels: Int = 3,
    rng: RandomStream = .global
  ) {
    self.configuration = configuration
    self.classCount = classCount
    self.inputChannels = inputChannels
    featureLayers = Sequential(
      Self.makeFeatures(configuration, inputChannels: inputChannels, rng: rng))
    let lastWidth = configuration.layers.reduce(inputChannels) { width, layer in
      if case .conv(let w) = layer { return w }
      return width
    }
    let sizes =
      [lastWidth * configuration.pooledSize * configuration.pooledSize] + configuration.hidden
    var layers: [Module] = []
    for (input, output) in zip(sizes, sizes.dropFirst()) {
      layers += [
        Linear(
          input, output, initializer: .normal(std: 0.01), biasInitializer: .constant(0), rng: rng),
        ReLU(), Dropout(configuration.dropout, rng: rng),
      ]
    }
    layers.append(
      outputLayer(
        featureCount: sizes.last!, classCount: classCount, initializer: .normal(std: 0.01),
        biasInitializer: .constant(0), rng: rng))
    classifier = Sequential(layers)
    super.init()
    register("features", featureLayers)
    register("avgpool", AdaptiveAvgPool2d(configuration.pooledSize, configuration.pooledSize))
    register("classifier", classifier)
  }

  /// torchvision's `make_layers`: conv3x3 (+ batch norm) + ReLU per width, max-pool per `.pool`.
  static func makeFeatures(_ configuration: VGGConfiguration, inputChannels: Int, rng: RandomStream)
    -> [Module]
  {
    var channels = inputChannels
    var layers: [Module] = []
    for layer in configuration.layers {
      switch layer {
      case .pool:
        layers.append(MaxPool2d(2, stride: 2))
      case .conv(let width):
        layers.append(
          Conv2d(
            channels, width, kernelSize: 3, padding: 1, initializer: .kaimingNormal(fanOut: true),
            biasInitializer: .constant(0), rng: rng))
        if configuration.batchNorm { layers.append(BatchNorm(width)) }
        layers.append(ReLU())
        channels = width
      }
    }
    return layers
  }

  /// Width of the feature vectors the classifier reads.
  public var featureCount: Int { configuration.hidden.last! }

  /// The first dense layer reads the pooled feature map flattened (rows permuted for Keras).
  public var flattenedInputs: [String: [Int]] {
    let pooled = configuration.pooledSize
    return ["classifier.0": [lastWidth, pooled, pooled]]
  }

  /// Channels of the last convolution.
  var lastWidth: Int {
    configuration.layers.reduce(inputChannels) { width, layer in
      if case .conv(let w) = layer { return w }
      return width
    }
  }

  func pooledFeatures(_ x: Tensor) throws -> Tensor {
    try child(at: "avgpool")!(featureLayers(x)).flattened()
  }

  /// Logits: the head applied to the features.
  public override func forward(_ x: Tensor) throws -> Tensor {
    try logits(x)
  }
}
