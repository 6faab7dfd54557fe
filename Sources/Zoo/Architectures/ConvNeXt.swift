import ZooNN
import ZooTensor

// ConvNeXt (Liu et al. 2022, "A ConvNet for the 2020s"), exactly as torchvision builds it:
// parameter paths are torchvision's state-dict keys (`features.0.0.weight` for the 4x4 stem,
// `features.1.0.block.0.weight` for a depthwise 7x7, `features.1.0.block.3.weight` for the
// first linear layer, `features.1.0.layer_scale`, `features.2.1.weight` for a downsampling
// convolution, `classifier.2.weight`), layer norms with eps 1e-6, exact GELU, stochastic depth
// rising linearly over the blocks.
// Deviations: a block keeps NCHW. torchvision permutes to channels last around its layer norm
// and linear layers (`block.1` and `block.6` are `Permute`s); here the layer norm normalises the
// channel axis in place and the linear layers map the channels (`Linear(overChannels:)`, a 1x1
// convolution), so the
// two permutes are no layers and their indices are skipped, which keeps the other names.
// torchvision's `trunc_normal_(std=0.02)` truncates at +-2, a hundred standard deviations: a
// plain N(0, 0.02^2) here.

/// The stages of a ConvNeXt: torchvision's `CNBlockConfig` list.
public struct ConvNeXtConfiguration: Sendable {
  public struct Stage: Sendable {
    public var channels: Int
    public var blocks: Int

    public init(_ channels: Int, _ blocks: Int) {
      self.channels = channels
      self.blocks = blocks
    }
  }

  /// Each stage's width and block count; a 2x2 stride-2 convolution leads from one to the next.
  public var stages: [Stage]
  /// The drop probability of the last block's residual branch; block i of n drops with
  /// `stochasticDepth * i / (n - 1)`.
  public var stochasticDepth: Float
  /// Every layer scale's initial value.
  public var layerScale: Float

  public init(_ stages: [Stage], stochasticDepth: Float, layerScale: Float = 1e-6) {
    self.stages = stages
    self.stochasticDepth = stochasticDepth
    self.layerScale = layerScale
  }

  /// torchvision's `convnext_tiny`.
  public static let tiny = ConvNeXtConfiguration(
    [Stage(96, 3), Stage(192, 3), Stage(384, 9), Stage(768, 3)], stochasticDepth: 0.1)
}

/// The layer norms' eps in every ConvNeXt.
private let layerNormEps: Float = 1e-6

/// torchvision's initialisation of ConvNeXt's convolutions and linear layers.
private let weightInit = Initializer.normal(std: 0.02)

/// Depthwise 7x7, layer norm, 4x linear, GELU, linear (`block.0`, `.2`, `.3`, `.4`, `.5`),
/// scaled per channel and added to the input.
private func convNeXtBlock(
  _ channels: Int, dropProbability: Float, layerScale: Float, rng: RandomStream
) -> LayerScaledResidual {
  let block = NamedSequential([
    (
      "0",
      Conv2d(
        channels, channels, kernelSize: 7, padding: 3, groups: channels,
        initializer: weightInit, biasInitializer: .constant(0), rng: rng)
    ),
    ("2", LayerNorm2d(channels, eps: layerNormEps)),
    (
      "3",
      Linear(
        channels, 4 * channels, overChannels: true, initializer: weightInit,
        biasInitializer: .constant(0), rng: rng)
    ),
    ("4", GELU()),
    (
      "5",
      Linear(
        4 * channels, channels, overChannels: true, initializer: weightInit,
        biasInitializer: .constant(0), rng: rng)
    ),
  ])
  return LayerScaledResidual(
    block, channels: channels, initialScale: layerScale, dropProbability: dropProbability,
    rng: rng)
}

/// A ConvNeXt classifier: `features` (4x4 stride-4 stem with layer norm, then each stage's
/// blocks, with layer norm and a 2x2 stride-2 convolution between stages), `avgpool` (global),
/// `classifier` (layer norm, flatten, linear).
public final class ConvNeXt: Module, SequentialHeadClassifier {
  public let configuration: ConvNeXtConfiguration
  /// Number of classes the head predicts.
  public internal(set) var classCount: Int
  let featureLayers: Sequential
  let avgpool = AdaptiveAvgPool2d(1, 1)
  let classifier: Sequential
  /// Channels of the last stage: what the classifier reads.
  public let featureCount: Int

  /// A freshly initialised network (torchvision's initialisation).
  public init(
    _ configuration: ConvNeXtConfiguration = .tiny, classCount: Int = 1000,
    inputChannels: Int = 3, rng: RandomStream = .global
  ) {
    self.configuration = configuration
    self.classCount = classCount
    let stages = configuration.stages
    func conv(_ input: Int, _ output: Int, size: Int) -> Conv2d {
      Conv2d(
        input, output, kernelSize: size, stride: size, initializer: weightInit,
        biasInitializer: .constant(0), rng: rng)
    }
    var layers: [Module] = [
      Sequential([
        conv(inputChannels, stages[0].channels, size: 4),
        LayerNorm2d(stages[0].channels, eps: layerNormEps),
      ])
    ]
    let totalBlocks = stages.reduce(0) { $0 + $1.blocks }
    var blockIndex = 0
    for (index, stage) in stages.enumerated() {
      layers.append(
        Sequential(
          (0..<stage.blocks).map { _ in
            defer { blockIndex += 1 }
            return convNeXtBlock(
              stage.channels,
              dropProbability: configuration.stochasticDepth * Float(blockIndex)
                / Float(max(totalBlocks - 1, 1)),
              layerScale: configuration.layerScale, rng: rng)
          }))
      if index + 1 < stages.count {
        layers.append(
          Sequential([
            LayerNorm2d(stage.channels, eps: layerNormEps),
            conv(stage.channels, stages[index + 1].channels, size: 2),
          ]))
      }
    }
    featureLayers = Sequential(layers)
    featureCount = stages[stages.count - 1].channels
    classifier = Sequential([
      LayerNorm2d(featureCount, eps: layerNormEps),
      Flatten(),
      outputLayer(
        featureCount: featureCount, classCount: classCount, initializer: weightInit,
        biasInitializer: .constant(0), rng: rng),
    ])
    super.init()
    register("features", featureLayers)
    register("avgpool", avgpool)
    register("classifier", classifier)
  }

  /// The pooled (N, C, 1, 1) map: the classifier normalises it before flattening.
  func pooledFeatures(_ x: Tensor) throws -> Tensor {
    try avgpool(featureLayers(x))
  }

  /// Logits: the head applied to the features.
  public override func forward(_ x: Tensor) throws -> Tensor {
    try logits(x)
  }
}
