import ZooNN
import ZooTensor

// MobileNetV2 (Sandler et al. 2018, "MobileNetV2: Inverted Residuals and Linear
// Bottlenecks"), exactly as torchvision builds it: parameter paths are torchvision's
// state-dict keys (`features.1.conv.0.0.weight`, `classifier.1.weight`), widths scaled by the
// width multiplier and rounded to multiples of 8 by torchvision's `_make_divisible`, ReLU6
// after every convolution but the linear projection of each block.
//
// `.keras` builds `keras.applications.MobileNetV2` with the same parameters: batch norm eps
// 1e-3 and momentum 0.999, 'same' padding (Keras's `correct_pad`: one more row and column at
// the bottom and right of an even input at stride 2, a `SamePadding2d` child before each
// strided convolution), widths `int(c * alpha)` before rounding, and no dropout before the
// classifier. `KerasApplications.mobilenetV2` maps Keras's layer names to its paths.

/// Whose MobileNetV2 to build: torchvision's or Keras Applications'.
public enum MobileNetV2Source: Sendable {
  case torchvision, keras

  var norm: BatchNormSettings { self == .keras ? .kerasMobile : .pytorch }
}

/// Convolution, batch norm and ReLU6: torchvision's `Conv2dNormActivation` (`.0`, `.1`, `.2`).
private func convBNReLU6(
  _ input: Int, _ output: Int, kernelSize: Int = 3, stride: Int = 1, groups: Int = 1,
  source: MobileNetV2Source, rng: RandomStream
) -> Sequential {
  convNormActivation(
    input, output, kernelSize: kernelSize, stride: stride, groups: groups, activation: ReLU6(),
    norm: source.norm, samePadding: source == .keras, rng: rng)
}

/// The inverted residual block: 1x1 expansion (when the ratio is not 1), 3x3 depthwise, linear
/// 1x1 projection, all under `conv`; the input is added where the shape is kept.
private func invertedResidual(
  _ input: Int, _ output: Int, stride: Int, expandRatio: Int, source: MobileNetV2Source,
  rng: RandomStream
) -> InvertedResidual {
  let hidden = input * expandRatio
  var layers: [Module] = []
  if expandRatio != 1 {
    layers.append(convBNReLU6(input, hidden, kernelSize: 1, source: source, rng: rng))
  }
  layers += [
    convBNReLU6(hidden, hidden, stride: stride, groups: hidden, source: source, rng: rng),
    Conv2d(
      hidden, output, kernelSize: 1, bias: false, initializer: .kaimingNormal(fanOut: true),
      rng: rng),
    BatchNorm(output, momentum: source.norm.momentum, eps: source.norm.eps),
  ]
  return InvertedResidual(
    Sequential(layers), named: "conv", addsInput: stride == 1 && input == output)
}

/// A MobileNetV2 classifier: `features` (stem, 17 inverted residual blocks, 1x1 to 1280
/// channels), global average pool, `classifier` (dropout, linear; Keras's has no dropout).
public final class MobileNetV2: Module, SequentialHeadClassifier {
  /// Expansion ratio, output channels, blocks and first stride of each stage (the paper's
  /// table 2).
  static let stages: [(expandRatio: Int, channels: Int, blocks: Int, stride: Int)] = [
    (1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2),
    (6, 320, 1, 1),
  ]

  /// Scales every width (torchvision's `width_mult`, Keras's `alpha`).
  public let widthMultiplier: Double
  /// Whose definition the network follows.
  public let source: MobileNetV2Source
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
    source: MobileNetV2Source = .torchvision, rng: RandomStream = .global
  ) {
    self.widthMultiplier = widthMultiplier
    self.source = source
    self.classCount = classCount
    var channels = makeDivisible(32 * widthMultiplier)
    var layers: [Module] = [
      convBNReLU6(inputChannels, channels, stride: 2, source: source, rng: rng)
    ]
    for stage in Self.stages {
      let scaled = Double(stage.channels) * widthMultiplier
      let output = makeDivisible(source == .keras ? Double(Int(scaled)) : scaled)
      for block in 0..<stage.blocks {
        layers.append(
          invertedResidual(
            channels, output, stride: block == 0 ? stage.stride : 1,
            expandRatio: stage.expandRatio, source: source, rng: rng))
        channels = output
      }
    }
    featureCount = makeDivisible(1280 * max(1, widthMultiplier))
    layers.append(convBNReLU6(channels, featureCount, kernelSize: 1, source: source, rng: rng))
    featureLayers = Sequential(layers)
    let dropout: [Module] = source == .keras ? [] : [Dropout(0.2, rng: rng)]
    classifier = Sequential(
      dropout + [
        outputLayer(
          featureCount: featureCount, classCount: classCount, initializer: .normal(std: 0.01),
          biasInitializer: .constant(0), rng: rng)
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
