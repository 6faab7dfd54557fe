import ZooNN
import ZooTensor

// MobileNetV3 (Howard et al. 2019, "Searching for MobileNetV3"), large and small, exactly as
// torchvision builds them: parameter paths are torchvision's state-dict keys
// (`features.1.block.0.0.weight`, squeeze-and-excitation at `features.1.block.1.fc1.weight`,
// `classifier.3.weight`), widths scaled by the width multiplier and rounded by
// `_make_divisible`, batch norm with eps 0.001 and momentum 0.01 throughout.

/// One row of torchvision's `InvertedResidualConfig` tables (the paper's tables 1 and 2):
/// kernel size, expanded and output channels, squeeze-and-excitation, ReLU ("RE") or
/// hard-swish ("HS"), stride. The input channels are the previous row's output.
struct MobileNetV3Block {
  let kernel: Int
  let expanded: Int
  let output: Int
  let squeezeExcitation: Bool
  let hardswish: Bool
  let stride: Int

  init(
    _ kernel: Int, _ expanded: Int, _ output: Int, _ se: Bool, _ activation: String, _ stride: Int
  ) {
    self.kernel = kernel
    self.expanded = expanded
    self.output = output
    self.squeezeExcitation = se
    self.hardswish = activation == "HS"
    self.stride = stride
  }

  func activation() -> Module { hardswish ? Hardswish() : ReLU() }
}

/// The two published MobileNetV3 networks.
public enum MobileNetV3Variant: String, Sendable, CaseIterable {
  case large, small

  /// torchvision's `_mobilenet_v3_conf`, after the 16-channel stem.
  var blocks: [MobileNetV3Block] {
    switch self {
    case .large:
      return [
        .init(3, 16, 16, false, "RE", 1), .init(3, 64, 24, false, "RE", 2),
        .init(3, 72, 24, false, "RE", 1), .init(5, 72, 40, true, "RE", 2),
        .init(5, 120, 40, true, "RE", 1), .init(5, 120, 40, true, "RE", 1),
        .init(3, 240, 80, false, "HS", 2), .init(3, 200, 80, false, "HS", 1),
        .init(3, 184, 80, false, "HS", 1), .init(3, 184, 80, false, "HS", 1),
        .init(3, 480, 112, true, "HS", 1), .init(3, 672, 112, true, "HS", 1),
        .init(5, 672, 160, true, "HS", 2), .init(5, 960, 160, true, "HS", 1),
        .init(5, 960, 160, true, "HS", 1),
      ]
    case .small:
      return [
        .init(3, 16, 16, true, "RE", 2), .init(3, 72, 24, false, "RE", 2),
        .init(3, 88, 24, false, "RE", 1), .init(5, 96, 40, true, "HS", 2),
        .init(5, 240, 40, true, "HS", 1), .init(5, 240, 40, true, "HS", 1),
        .init(5, 120, 48, true, "HS", 1), .init(5, 144, 48, true, "HS", 1),
        .init(5, 288, 96, true, "HS", 2), .init(5, 576, 96, true, "HS", 1),
        .init(5, 576, 96, true, "HS", 1),
      ]
    }
  }

  /// Width of the classifier's hidden layer before the width multiplier.
  var lastChannel: Int { self == .large ? 1280 : 1024 }
}

/// A MobileNetV3 classifier: `features` (hard-swish stem, inverted residual blocks, 1x1 to six
/// times the last block's width), global average pool, `classifier` (linear, hard-swish,
/// dropout, linear).
public final class MobileNetV3: Module, SequentialHeadClassifier {
  static let norm = BatchNormSettings(momentum: 0.01, eps: 0.001)

  public let variant: MobileNetV3Variant
  /// Scales every width (torchvision's `width_mult`).
  public let widthMultiplier: Double
  /// Number of classes the head predicts.
  public internal(set) var classCount: Int
  let featureLayers: Sequential
  let classifier: Sequential
  /// Width of the classifier's hidden layer: what the last layer reads.
  public let featureCount: Int

  /// A freshly initialised network (torchvision's initialisation: Kaiming-normal convolutions
  /// by fan-out, unit batch-norm scales, N(0, 0.01) linear layers), except that the
  /// squeeze-and-excitation convolutions keep PyTorch's default, which torchvision re-draws as
  /// Kaiming-normal with zero biases.
  public init(
    _ variant: MobileNetV3Variant, widthMultiplier: Double = 1, classCount: Int = 1000,
    inputChannels: Int = 3, rng: RandomStream = .global
  ) {
    self.variant = variant
    self.widthMultiplier = widthMultiplier
    self.classCount = classCount
    let width = { (channels: Int) in makeDivisible(Double(channels) * widthMultiplier) }
    var channels = width(16)
    var layers: [Module] = [
      convNormActivation(
        inputChannels, channels, stride: 2, activation: Hardswish(), norm: Self.norm, rng: rng)
    ]
    for block in variant.blocks {
      let output = width(block.output)
      layers.append(
        Self.invertedResidual(
          block, input: channels, expanded: width(block.expanded), output: output, rng: rng))
      channels = output
    }
    let lastConv = 6 * channels
    layers.append(
      convNormActivation(
        channels, lastConv, kernelSize: 1, activation: Hardswish(), norm: Self.norm, rng: rng))
    featureLayers = Sequential(layers)
    featureCount = width(variant.lastChannel)
    classifier = Sequential([
      Linear(
        lastConv, featureCount, initializer: .normal(std: 0.01), biasInitializer: .constant(0),
        rng: rng),
      Hardswish(),
      Dropout(0.2, rng: rng),
      outputLayer(
        featureCount: featureCount, classCount: classCount, initializer: .normal(std: 0.01),
        biasInitializer: .constant(0), rng: rng),
    ])
    super.init()
    register("features", featureLayers)
    register("classifier", classifier)
  }

  /// Expansion (when it widens), depthwise convolution, squeeze-and-excitation (ReLU, then a
  /// hard-sigmoid gate on `_make_divisible(expanded / 4)` channels), linear projection.
  static func invertedResidual(
    _ block: MobileNetV3Block, input: Int, expanded: Int, output: Int, rng: RandomStream
  ) -> InvertedResidual {
    var layers: [Module] = []
    if expanded != input {
      layers.append(
        convNormActivation(
          input, expanded, kernelSize: 1, activation: block.activation(), norm: norm, rng: rng))
    }
    layers.append(
      convNormActivation(
        expanded, expanded, kernelSize: block.kernel, stride: block.stride, groups: expanded,
        activation: block.activation(), norm: norm, rng: rng))
    if block.squeezeExcitation {
      layers.append(
        SqueezeExcitation(
          expanded, squeezeChannels: makeDivisible(Double(expanded / 4)),
          scaleActivation: Hardsigmoid(), rng: rng))
    }
    layers.append(
      convNormActivation(expanded, output, kernelSize: 1, activation: nil, norm: norm, rng: rng))
    return InvertedResidual(
      Sequential(layers), named: "block", addsInput: block.stride == 1 && input == output)
  }

  func pooledFeatures(_ x: Tensor) throws -> Tensor {
    try adaptiveAvgPool2d(featureLayers(x), outputHeight: 1, outputWidth: 1).flattened()
  }

  /// Logits: the head applied to the features.
  public override func forward(_ x: Tensor) throws -> Tensor {
    try logits(x)
  }
}
