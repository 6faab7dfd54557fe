import ZooNN
import ZooTensor

// Xception (Chollet 2017, "Xception: Deep learning with depthwise separable convolutions"),
// exactly as keras.applications.Xception builds it: a stem of two unpadded 3x3 convolutions
// (the first with stride 2), three entry blocks, eight middle blocks and an exit block of
// separable convolutions with residual connections, then two more separable convolutions, a
// global average pool and the classifier. Every batch norm has Keras's eps 1e-3 and momentum
// 0.99 (0.01 in the zoo's convention); separable convolutions pad 'same', entry and exit
// blocks end in Keras's 'same' 3x3 stride-2 max-pool, and their residual is a 1x1 stride-2
// convolution without bias plus a batch norm, read from the block's input before its ReLU.
// Module paths follow Keras's layer names (`block4_sepconv2_bn` is `block4.sepconv2_bn`).
// Keras's inputs are 299x299 by default and at least 71x71.

/// The widths of an Xception; `keras` is keras.applications.Xception's.
public struct XceptionConfiguration: Sendable, Equatable {
  /// Output channels of block1_conv1 and block1_conv2.
  public var stemWidths: [Int]
  /// Output channels of entry blocks 2, 3 and 4 (the last is also the middle blocks' width).
  public var entryWidths: [Int]
  /// Middle blocks of three separable convolutions each.
  public var middleBlocks: Int
  /// Output channels of the exit block (Keras's `block13`).
  public var exitWidth: Int
  /// Output channels of the two separable convolutions after the exit block (`block14`).
  public var finalWidths: [Int]

  public init(
    stemWidths: [Int], entryWidths: [Int], middleBlocks: Int, exitWidth: Int, finalWidths: [Int]
  ) {
    self.stemWidths = stemWidths
    self.entryWidths = entryWidths
    self.middleBlocks = middleBlocks
    self.exitWidth = exitWidth
    self.finalWidths = finalWidths
  }

  /// keras.applications.Xception: 32-64 stem, entry 128-256-728, eight middle blocks, exit
  /// 1024, then 1536 and 2048.
  public static let keras = XceptionConfiguration(
    stemWidths: [32, 64], entryWidths: [128, 256, 728], middleBlocks: 8, exitWidth: 1024,
    finalWidths: [1536, 2048])

  /// Keras's number of the exit block: after the stem (1), the entry blocks and the middle ones.
  public var exitBlock: Int { 2 + entryWidths.count + middleBlocks }

  /// Width of the model's features, what the classifier reads.
  public var featureCount: Int { finalWidths.last! }
}

/// Keras's BatchNormalization defaults: eps 1e-3, momentum 0.99.
private func kerasBatchNorm(_ channels: Int) -> BatchNorm {
  BatchNorm(channels, momentum: 0.01, eps: 1e-3)
}

/// A separable convolution of an Xception block: 3x3, 'same', no bias.
private func separable(_ input: Int, _ output: Int, rng: RandomStream) -> SeparableConv2d {
  SeparableConv2d(input, output, kernelSize: 3, padding: .same, bias: false, rng: rng)
}

/// One residual block: [ReLU,] separable conv, BN for each width, then (entry and exit blocks)
/// a 'same' max-pool, added to the block's input or to its 1x1 stride-2 projection.
final class XceptionBlock: Module {
  private let main: [Module]
  private let residual: (conv: Conv2d, norm: BatchNorm)?

  /// `widths` are the separable convolutions' outputs; `downsample` adds the pool and the
  /// projection; `reluFirst` is false only in block 2, which follows the stem's ReLU.
  init(
    input: Int, widths: [Int], downsample: Bool, reluFirst: Bool = true, rng: RandomStream
  ) {
    var layers: [(String, Module)] = []
    var channels = input
    for (index, width) in widths.enumerated() {
      let name = "sepconv\(index + 1)"
      if index > 0 || reluFirst { layers.append(("\(name)_act", ReLU())) }
      layers += [
        (name, separable(channels, width, rng: rng)), ("\(name)_bn", kerasBatchNorm(width)),
      ]
      channels = width
    }
    if downsample {
      let conv = Conv2d(
        input, channels, kernelSize: 1, stride: 2, bias: false, initializer: .glorotUniform,
        rng: rng)
      residual = (conv, kerasBatchNorm(channels))
      layers.append(("pool", MaxPool2dSame(3, stride: 2)))
    } else {
      residual = nil
    }
    main = layers.map(\.1)
    super.init()
    // Keras's layer order: the projection follows the block's own layers.
    for (name, layer) in layers { register(name, layer) }
    if let residual {
      register("residual", residual.conv)
      register("residual_bn", residual.norm)
    }
  }

  override func forward(_ x: Tensor) throws -> Tensor {
    let shortcut = try residual.map { try convBatchNorm($0.conv, $0.norm, x) } ?? x
    return try add(runFoldingBatchNorm(main, x), shortcut)
  }
}

/// An Xception classifier: `block1` (stem), `block2` ... `block13` (entry, middle and exit
/// blocks), `block14`, global average pool, `predictions`.
public final class Xception: Module, Classifier {
  public let configuration: XceptionConfiguration
  public private(set) var classCount: Int
  private let blocks: [Module]

  /// Keras's initialisation: glorot-uniform kernels, zero biases, unit batch-norm scales.
  public init(
    _ configuration: XceptionConfiguration = .keras, classCount: Int = 1000,
    inputChannels: Int = 3, rng: RandomStream = .global
  ) {
    self.configuration = configuration
    self.classCount = classCount
    func conv(_ input: Int, _ output: Int, stride: Int) -> Conv2d {
      Conv2d(
        input, output, kernelSize: 3, stride: stride, bias: false, initializer: .glorotUniform,
        rng: rng)
    }
    let stem = configuration.stemWidths
    var blocks: [(String, Module)] = [
      (
        "block1",
        NamedSequential([
          ("conv1", conv(inputChannels, stem[0], stride: 2)), ("conv1_bn", kerasBatchNorm(stem[0])),
          ("conv1_act", ReLU()), ("conv2", conv(stem[0], stem[1], stride: 1)),
          ("conv2_bn", kerasBatchNorm(stem[1])), ("conv2_act", ReLU()),
        ])
      )
    ]
    var channels = stem[1]
    for (index, width) in configuration.entryWidths.enumerated() {
      let block = XceptionBlock(
        input: channels, widths: [width, width], downsample: true, reluFirst: index > 0, rng: rng)
      blocks.append(("block\(index + 2)", block))
      channels = width
    }
    for index in 0..<configuration.middleBlocks {
      let block = XceptionBlock(
        input: channels, widths: [channels, channels, channels], downsample: false, rng: rng)
      blocks.append(("block\(index + 2 + configuration.entryWidths.count)", block))
    }
    let exit = configuration.exitWidth
    blocks.append(
      (
        "block\(configuration.exitBlock)",
        XceptionBlock(input: channels, widths: [channels, exit], downsample: true, rng: rng)
      ))
    let final = configuration.finalWidths
    blocks.append(
      (
        "block\(configuration.exitBlock + 1)",
        NamedSequential([
          ("sepconv1", separable(exit, final[0], rng: rng)),
          ("sepconv1_bn", kerasBatchNorm(final[0])), ("sepconv1_act", ReLU()),
          ("sepconv2", separable(final[0], final[1], rng: rng)),
          ("sepconv2_bn", kerasBatchNorm(final[1])), ("sepconv2_act", ReLU()),
        ])
      ))
    self.blocks = blocks.map(\.1)
    super.init()
    for (name, block) in blocks { register(name, block) }
    register(
      classifierPath,
      outputLayer(
        featureCount: configuration.featureCount, classCount: classCount,
        initializer: .glorotUniform, biasInitializer: .constant(0), rng: rng))
  }

  /// The final linear layer, Keras's `predictions`.
  public var classifierPath: String { "predictions" }
  public var featureCount: Int { configuration.featureCount }

  /// Every block, then the global average pool: (N, featureCount).
  public func features(_ x: Tensor) throws -> Tensor {
    let map = try blocks.reduce(x) { try $1($0) }
    return try adaptiveAvgPool2d(map, outputHeight: 1, outputWidth: 1).flattened()
  }

  public override func forward(_ x: Tensor) throws -> Tensor {
    try logits(x)
  }

  public func replaceClassifier(with head: Module, classCount: Int) {
    register(classifierPath, head)
    self.classCount = classCount
  }
}
