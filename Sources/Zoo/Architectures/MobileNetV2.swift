import ZooNN
import ZooTensor

// MobileNetV2 (Sandler et al. 2018, "MobileNetV2: Inverted Residuals and Linear
// Bottlenecks"), exactly as torchvision builds it: parameter paths are torchvision's
// state-dict keys (`features.1.conv.0.0.weight`, `classifier.1.weight`), widths scaled by the
// width multiplier and rounded to multiples of 8 by torchvision's `_make_divisible`, ReLU6
// after every convolution but the linear projection of each block.

/// Convolution, batch norm and ReLU6: torchvision's `Conv2dNormActivation` (`.0`, `.1`, `.2`).
private func convBNReLU6(
  _ input: Int, _ output: Int, kernelSize: Int = 3, stride: Int = 1, groups: Int = 1,
  rng: RandomStream
) -> Sequential {
  convNormActivation(
    input, output, kernelSize: kernelSize, stride: stride, groups: groups, activation: ReLU6(),
    rng: rng)
}

/// The inverted residual block: 1x1 expansion (when the ratio is not 1), 3x3 depthwise, linear
/// 1x1 projection, all under `conv`; the input is added where the shape is kept.
private func invertedResidual(
  _ input: Int, _ output: Int, stride: Int, expandRatio: Int, rng: RandomStream
) -> InvertedResidual {
  let hidden = input * expandRatio
  var layers: [Module] = []
  if expandRatio != 1 { layers.append(convBNReLU6(input, hidden, kernelSize: 1, rng: rng)) }
  layers += [
    convBNReLU6(hidden, hidden, stride: stride, groups: hidden, rng: rng),
    Conv2d(
      hidden, output, kernelSize: 1, bias: false, initializer: .kaimingNormal(fanOut: true),
      rng: rng),
    BatchNorm(output),
  ]
  return InvertedResidual(
    Sequential(layers), named: "conv", addsInput: stride == 1 && input == output)
}

/// A MobileNetV2 classifier: `features` (stem, 17 inverted residual blocks, 1x1 to 1280
/// channels), global average pool, `classifier` (dropout, linear).
public final class MobileNetV2: Module, SequentialHeadClassifier {
  /// Expansion ratio, output channels, blocks and first stride of each stage (the paper's
  /// table 2).
  static let stages: [(expandRatio: Int, channels: Int, blocks: Int, stride: Int)] = [
    (1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2),
    (6, 320, 1, 1),
  ]

  /// Scales every width (torchvision's `width_mult`).
  public let widthMultiplier: Double
  /// Number of classes the head predicts.
  public internal(set) var classCount: Int
  let featureLayers: Sequential
  let classifier: Sequential
  /// Channels of the last convolution: what the classifier reads.
  public let featureCount: Int

  /// A freshly initialised network (torchvision's initialisation: Kaiming-normal convolutions
  /// by fan-out, unit batch-norm scales, a N(0, 0.01) classifier).
  public init(
    widthMultiplier: Double = 1, classCount: Int = 1000, inputChannels: Int = 3,
    rng: RandomStream = .global
  ) {
    self.widthMultiplier = widthMultiplier
    self.classCount = classCount
    var channels = makeDivisible(32 * widthMultiplier)
    var layers: [Module] = [convBNReLU6(inputChannels, channels, stride: 2, rng: rng)]
    for stage in Self.stages {
      let output = makeDivisible(Double(stage.channels) * widthMultiplier)
      for block in 0..<stage.blocks {
        layers.append(
          invertedResidual(
            channels, output, stride: block == 0 ? stage.stride : 1,
            expandRatio: stage.expandRatio, rng: rng))
        channels = output
      }
    }
    featureCount = makeDivisible(1280 * max(1, widthMultiplier))
    layers.append(convBNReLU6(channels, featureCount, kernelSize: 1, rng: rng))
    featureLayers = Sequential(layers)
    classifier = Sequential([
      Dropout(0.2, rng: rng),
      outputLayer(
        featureCount: featureCount, classCount: classCount, initializer: .normal(std: 0.01),
        biasInitializer: .constant(0), rng: rng),
    ])
    super.init()
    register("features", featureLayers)
    register("classifier", classifier)
  }

  func pooledFeatures(_ x: Tensor) throws -> Tensor {
    try adaptiveAvgPool2d(featureLayers(x), outputHeight: 1, outputWidth: 1).flattened()
  }

  /// Logits: the head applied to the features.
  public override func forward(_ x: Tensor) throws -> Tensor {
    try logits(x)
  }
}
