import ZooIO
import ZooNN
import ZooTensor

// AlexNet (Krizhevsky et al. 2012) as torchvision builds it (the "one weird trick" variant:
// 64-192-384-256-256 channels, no local response normalisation), with `features` / `avgpool` /
// `classifier` paths. `alexnet-small` keeps the design (five convolutions, three max-pools, a
// dropout classifier) with 3x3 and 5x5 kernels and stride 1, for 28-64 px images.

/// The shape of an AlexNet: its convolutions, pooling and classifier widths.
public struct AlexNetConfiguration: Sendable, Equatable {
  /// One convolution of the feature extractor, followed by ReLU.
  public struct Convolution: Sendable, Equatable {
    /// Output channels.
    public var width: Int
    /// Square kernel size.
    public var kernelSize: Int
    /// Stride in both dimensions.
    public var stride: Int
    /// Zero padding on each side.
    public var padding: Int
    /// Whether a max-pool follows (after the ReLU).
    public var poolAfter: Bool
  }

  /// The convolutions in order.
  public var convolutions: [Convolution]
  /// Kernel (and stride 2) of the max-pools between convolutions.
  public var poolKernel: Int
  /// Output size of the adaptive average pool before the classifier.
  public var pooledSize: Int
  /// Widths of the classifier's hidden layers (each with dropout and ReLU).
  public var hidden: [Int]

  private static func conv(
    _ width: Int, _ kernel: Int, stride: Int = 1, padding: Int, pool: Bool = false
  ) -> Convolution {
    Convolution(width: width, kernelSize: kernel, stride: stride, padding: padding, poolAfter: pool)
  }

  /// torchvision's `alexnet`: 224 px input, 11x11 stride-4 first convolution.
  public static let torchvision = AlexNetConfiguration(
    convolutions: [
      conv(64, 11, stride: 4, padding: 2, pool: true), conv(192, 5, padding: 2, pool: true),
      conv(384, 3, padding: 1), conv(256, 3, padding: 1), conv(256, 3, padding: 1, pool: true),
    ],
    poolKernel: 3, pooledSize: 6, hidden: [4096, 4096])

  /// `alexnet-small`: the same design with small kernels and stride 1, for 28-64 px images.
  public static let small = AlexNetConfiguration(
    convolutions: [
      conv(64, 5, padding: 2, pool: true), conv(192, 5, padding: 2, pool: true),
      conv(384, 3, padding: 1), conv(256, 3, padding: 1), conv(256, 3, padding: 1, pool: true),
    ],
    poolKernel: 2, pooledSize: 2, hidden: [512, 512])
}

/// An AlexNet classifier with torchvision's parameter paths (`features.0.weight`,
/// `classifier.6.bias`).
public final class AlexNet: Module, SequentialHeadClassifier, FlattenedInputs {
  /// The shape this network was built with.
  public let configuration: AlexNetConfiguration
  /// Number of classes the head predicts.
  public internal(set) var classCount: Int
  let featureLayers: Sequential
  let classifier: Sequential

  /// A freshly initialised network (torchvision's initialisation) for `classCount` classes and
  /// `inputChannels`-channel images.
  public init(
    _ configuration: AlexNetConfiguration = .torchvision, classCount: Int = 1000,
    inputChannels: Int = 3,
    rng: RandomStream = .global
  ) {
    self.configuration = configuration
    self.classCount = classCount
    var layers: [Module] = []
    var channels = inputChannels
    for conv in configuration.convolutions {
      layers += [
        Conv2d(
          channels, conv.width, kernelSize: conv.kernelSize, stride: conv.stride,
          padding: conv.padding, rng: rng),
        ReLU(),
      ]
      if conv.poolAfter { layers.append(MaxPool2d(configuration.poolKernel, stride: 2)) }
      channels = conv.width
    }
    featureLayers = Sequential(layers)
    // torchvision's order: Dropout, Linear, ReLU per hidden layer, then the output Linear.
    let sizes =
      [channels * configuration.pooledSize * configuration.pooledSize] + configuration.hidden
    var head: [Module] = []
    for (input, output) in zip(sizes, sizes.dropFirst()) {
      head += [Dropout(0.5, rng: rng), Linear(input, output, rng: rng), ReLU()]
    }
    head.append(outputLayer(featureCount: sizes.last!, classCount: classCount, rng: rng))
    classifier = Sequential(head)
    super.init()
    register("features", featureLayers)
    register("avgpool", AdaptiveAvgPool2d(configuration.pooledSize, configuration.pooledSize))
    register("classifier", classifier)
  }

  /// Width of the feature vectors the classifier reads.
  public var featureCount: Int { configuration.hidden.last! }

  /// The first dense layer reads the pooled feature map flattened (rows permuted for Keras).
  public var flattenedInputs: [String: [Int]] {
    let pooled = configuration.pooledSize
    return ["classifier.1": [configuration.convolutions.last!.width, pooled, pooled]]
  }

  func pooledFeatures(_ x: Tensor) throws -> Tensor {
    try child(at: "avgpool")!(featureLayers(x)).flattened()
  }

  /// Logits: the head applied to the features.
  public override func forward(_ x: Tensor) throws -> Tensor {
    try logits(x)
  }
}
