import ZooNN
import ZooTensor

// EfficientNet (Tan & Le 2019, "EfficientNet: Rethinking Model Scaling for Convolutional
// Neural Networks"), exactly as torchvision builds it: parameter paths are torchvision's
// state-dict keys (`features.1.0.block.0.0.weight`, `features.2.0.block.3.fc1.weight`,
// `classifier.1.weight`), widths and depths scaled as torchvision's `_efficientnet_conf`
// scales them, SiLU after every convolution but the linear projection of each block.
// Deviations: the classifier and the squeeze-and-excitation convolutions start from PyTorch's
// default initialisation, not torchvision's (which only matters before training).
//
// `.keras` builds keras.applications.EfficientNet's network, which has the same parameters:
// it starts with `Rescaling(1/255)` and a `Normalization` layer (the `normalization` child,
// whose mean, variance and count Keras counts as weights), pads strided convolutions as
// Keras's `correct_pad` does for the model's input size ('same': a `SamePadding2d` child
// before the convolution, which shifts the others by one), and its batch norms have eps 1e-3
// and Keras's momentum 0.99. Keras rounds the last convolution's width from 1280 where
// torchvision takes four times the last stage's: the same for B0 and its narrower versions.
// `KerasApplications.efficientNet` maps Keras's layer names to these paths.

/// Whose EfficientNet to build: torchvision's or Keras Applications'.
public enum EfficientNetSource: Sendable {
  case torchvision, keras
}

/// The stages of an EfficientNet and how they are scaled: torchvision's `MBConvConfig` table
/// with its width and depth multipliers.
public struct EfficientNetConfiguration: Sendable {
  /// One row of the table at width and depth 1: every block of a stage has the same
  /// expansion ratio and kernel; the first has the stage's stride and input width.
  public struct Stage: Sendable {
    public var expandRatio: Double
    public var kernelSize: Int
    public var stride: Int
    public var inputChannels: Int
    public var outputChannels: Int
    public var blocks: Int

    /// In torchvision's order: expand ratio, kernel, stride, input, output, blocks.
    public init(
      _ expandRatio: Double, _ kernelSize: Int, _ stride: Int, _ inputChannels: Int,
      _ outputChannels: Int, _ blocks: Int
    ) {
      self.expandRatio = expandRatio
      self.kernelSize = kernelSize
      self.stride = stride
      self.inputChannels = inputChannels
      self.outputChannels = outputChannels
      self.blocks = blocks
    }
  }

  /// B0's table (the paper's table 1; torchvision's `_efficientnet_conf`).
  public static let baseStages = [
    Stage(1, 3, 1, 32, 16, 1), Stage(6, 3, 2, 16, 24, 2), Stage(6, 5, 2, 24, 40, 2),
    Stage(6, 3, 2, 40, 80, 3), Stage(6, 5, 1, 80, 112, 3), Stage(6, 5, 2, 112, 192, 4),
    Stage(6, 3, 1, 192, 320, 1),
  ]

  /// Scales every width (torchvision's `width_mult`).
  public var widthMultiplier: Double
  /// Scales every stage's block count (torchvision's `depth_mult`).
  public var depthMultiplier: Double
  /// Dropout before the classifier.
  public var dropout: Float
  /// The drop probability of the last block's residual branch; block i of n drops with
  /// `stochasticDepth * i / n`.
  public var stochasticDepth: Float
  /// Batch-norm eps and momentum (torchvision's B5-B7 use 1e-3 and 0.01).
  public var batchNormEps: Float
  public var batchNormMomentum: Float
  /// Whose network (see the file's header).
  public var source: EfficientNetSource = .torchvision

  public init(
    widthMultiplier: Double, depthMultiplier: Double, dropout: Float,
    stochasticDepth: Float = 0.2, batchNormEps: Float = 1e-5, batchNormMomentum: Float = 0.1
  ) {
    self.widthMultiplier = widthMultiplier
    self.depthMultiplier = depthMultiplier
    self.dropout = dropout
    self.stochasticDepth = stochasticDepth
    self.batchNormEps = batchNormEps
    self.batchNormMomentum = batchNormMomentum
  }

  /// torchvision's `efficientnet_b0`.
  public static let b0 = EfficientNetConfiguration(
    widthMultiplier: 1, depthMultiplier: 1, dropout: 0.2)

  /// The same multipliers as keras.applications' EfficientNet builds them.
  public var keras: EfficientNetConfiguration {
    var configuration = self
    configuration.source = .keras
    configuration.batchNormEps = 1e-3
    configuration.batchNormMomentum = 0.01
    return configuration
  }

  /// The table with widths rounded by `_make_divisible(c * width, 8)` and block counts
  /// `ceil(blocks * depth)`, as `MBConvConfig` adjusts them.
  public var stages: [Stage] {
    Self.baseStages.map { stage in
      var scaled = stage
      scaled.inputChannels = makeDivisible(Double(stage.inputChannels) * widthMultiplier)
      scaled.outputChannels = makeDivisible(Double(stage.outputChannels) * widthMultiplier)
      scaled.blocks = Int((Double(stage.blocks) * depthMultiplier).rounded(.up))
      return scaled
    }
  }
}

/// The mobile inverted bottleneck with squeeze-and-excitation, under `block`: 1x1 expansion
/// (when it widens), depthwise convolution, squeeze-and-excitation, linear 1x1 projection.
/// Where the shape is kept, the input is added to the branch after stochastic depth.
public final class MBConv: Module {
  let block: Sequential
  /// Drops the residual branch of whole samples in training.
  public let stochasticDepth: StochasticDepth
  /// Whether the input is added (stride 1, same width in and out).
  public let addsInput: Bool

  public init(
    _ input: Int, _ output: Int, expandRatio: Double, kernelSize: Int, stride: Int,
    dropProbability: Float, batchNormEps: Float = 1e-5, batchNormMomentum: Float = 0.1,
    samePadding: Bool = false, rng: RandomStream = .global
  ) {
    let expanded = makeDivisible(Double(input) * expandRatio)
    func convNorm(
      _ input: Int, _ output: Int, kernelSize: Int, stride: Int = 1, groups: Int = 1,
      activation: Module?
    ) -> Sequential {
      convNormActivation(
        input, output, kernelSize: kernelSize, stride: stride, groups: groups,
        activation: activation,
        norm: BatchNormSettings(momentum: batchNormMomentum, eps: batchNormEps),
        samePadding: samePadding, rng: rng)
    }
    var layers: [Module] = []
    if expanded != input {
      layers.append(convNorm(input, expanded, kernelSize: 1, activation: SiLU()))
    }
    layers += [
      convNorm(
        expanded, expanded, kernelSize: kernelSize, stride: stride, groups: expanded,
        activation: SiLU()),
      SqueezeExcitation(
        expanded, squeezeChannels: max(1, input / 4), activation: SiLU(),
        scaleActivation: Sigmoid(), rng: rng),
      convNorm(expanded, output, kernelSize: 1, activation: nil),
    ]
    block = Sequential(layers)
    stochasticDepth = StochasticDepth(dropProbability, rng: rng)
    addsInput = stride == 1 && input == output
    super.init()
    register("block", block)
    register("stochastic_depth", stochasticDepth)
  }

  public override func forward(_ x: Tensor) throws -> Tensor {
    let branch = try block(x)
    return addsInput ? try add(x, try stochasticDepth(branch)) : branch
  }
}

/// An EfficientNet classifier: `features` (stem, one `Sequential` of `MBConv` blocks per stage,
/// 1x1 to four times the last stage's width), `avgpool` (global), `classifier` (dropout,
/// linear).
public final class EfficientNet: Module, SequentialHeadClassifier {
  public let configuration: EfficientNetConfiguration
  /// Number of classes the head predicts.
  public internal(set) var classCount: Int
  let featureLayers: Sequential
  /// Keras's input rescaling and normalization (`.keras` only).
  let normalization: InputNormalization?
  let avgpool = AdaptiveAvgPool2d(1, 1)
  let classifier: Sequential
  /// Channels of the last convolution: what the classifier reads.
  public let featureCount: Int

  /// A freshly initialised network (torchvision's initialisation of the convolutions and
  /// batch norms).
  public init(
    _ configuration: EfficientNetConfiguration = .b0, classCount: Int = 1000,
    inputChannels: Int = 3, rng: RandomStream = .global
  ) {
    self.configuration = configuration
    self.classCount = classCount
    let stages = configuration.stages
    let eps = configuration.batchNormEps
    let momentum = configuration.batchNormMomentum
    let keras = configuration.source == .keras
    normalization = keras ? InputNormalization(inputChannels, rescale: 1 / 255) : nil
    var layers: [Module] = [
      convNormActivation(
        inputChannels, stages[0].inputChannels, stride: 2, activation: SiLU(),
        norm: BatchNormSettings(momentum: momentum, eps: eps), samePadding: keras, rng: rng)
    ]
    let totalBlocks = stages.reduce(0) { $0 + $1.blocks }
    var blockIndex = 0
    for stage in stages {
      var blocks: [Module] = []
      for index in 0..<stage.blocks {
        blocks.append(
          MBConv(
            index == 0 ? stage.inputChannels : stage.outputChannels, stage.outputChannels,
            expandRatio: stage.expandRatio, kernelSize: stage.kernelSize,
            stride: index == 0 ? stage.stride : 1,
            dropProbability: configuration.stochasticDepth * Float(blockIndex)
              / Float(totalBlocks),
            batchNormEps: eps, batchNormMomentum: momentum, samePadding: keras, rng: rng))
        blockIndex += 1
      }
      layers.append(Sequential(blocks))
    }
    featureCount = 4 * stages[stages.count - 1].outputChannels
    layers.append(
      convNormActivation(
        stages[stages.count - 1].outputChannels, featureCount, kernelSize: 1,
        activation: SiLU(), norm: BatchNormSettings(momentum: momentum, eps: eps), rng: rng))
    featureLayers = Sequential(layers)
    classifier = Sequential([
      Dropout(configuration.dropout, rng: rng),
      outputLayer(
        featureCount: featureCount, classCount: classCount, biasInitializer: .constant(0),
        rng: rng),
    ])
    super.init()
    if let normalization { register("normalization", normalization) }
    register("features", featureLayers)
    register("avgpool", avgpool)
    register("classifier", classifier)
  }

  func pooledFeatures(_ x: Tensor) throws -> Tensor {
    let input = try normalization.map { try $0(x) } ?? x
    return try avgpool(featureLayers(input)).flattened()
  }

  /// Logits: the head applied to the features.
  public override func forward(_ x: Tensor) throws -> Tensor {
    try logits(x)
  }
}
