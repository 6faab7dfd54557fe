import ZooNN
import ZooTensor

// Inception-ResNet-v2 (Szegedy et al. 2017, "Inception-v4, Inception-ResNet and the Impact of
// Residual Connections on Learning") as keras.applications.InceptionResNetV2 builds it;
// torchvision has none. Inception v3's stem, `mixed_5b`, ten `block35`, `mixed_6a`, twenty
// `block17`, `mixed_7a`, ten `block8` (the last without its ReLU), `conv_7b`, a global average
// pool and `predictions`. Every convolution is Keras's `conv2d_bn` (Inception v3's
// `BasicConv2d` as Keras builds it: no bias, batch norm without scale, eps 1e-3, ReLU), 'same'
// at stride 1 and unpadded at stride 2, except each residual block's `conv`: a 1x1 with bias
// and no norm, whose output is scaled (0.17, 0.1, 0.2; 1 for the last block) and added to the
// block's input. The average pool of `mixed_5b` divides by the input under its window.
// Module paths: the stem as Inception v3's (`Conv2d_1a_3x3.conv`), then Keras's block names
// with each branch's convolutions lettered in order (`block35_3.branch_2b`, `block35_3.conv`,
// `mixed_6a.branch_0`). A width divisor and fewer repeats of each residual block give small
// networks of the same structure for tests; the last block keeps Keras's name, `block8_10`.

/// One step of a branch: a `conv2d_bn` to `width` channels of the paper's network, or a pool.
enum BranchStep {
  case conv(_ width: Int, _ kernel: (Int, Int) = (1, 1), stride: Int = 1)
  /// 3x3 average pool, stride 1, 'same'.
  case averagePool
  /// 3x3 max pool, stride 2, unpadded.
  case maxPool

  /// A square kernel.
  static func conv(_ width: Int, _ kernel: Int, stride: Int = 1) -> BranchStep {
    .conv(width, (kernel, kernel), stride: stride)
  }
}

/// Branches of `BranchStep`s concatenated along channels; with `residual`, Keras's
/// `inception_resnet_block`: a biased 1x1 `conv` back to the input's width, scaled, added to
/// the input, then (unless `activates` is false) a ReLU.
final class InceptionBranches: InceptionBlock {
  private let residual: (conv: Conv2d, scale: Float, activates: Bool)?

  /// The convolutions' names in creation order: `branch_0` for a branch's only convolution,
  /// `branch_1a`, `branch_1b`, ... for several.
  static func convolutionNames(_ branches: [[BranchStep]]) -> [String] {
    branches.enumerated().flatMap { index, steps in
      let count = steps.filter { if case .conv = $0 { true } else { false } }.count
      return (0..<count).map { position in
        count == 1
          ? "branch_\(index)" : "branch_\(index)\(Character(UnicodeScalar(97 + position)!))"
      }
    }
  }

  init(
    _ input: Int, _ branches: [[BranchStep]], residualScale: Float? = nil, activates: Bool = true,
    _ s: InceptionSettings
  ) {
    var concatenated = 0
    if let residualScale {
      let widths = branches.compactMap { steps -> Int? in
        guard case .conv(let width, _, _) = steps.last else { return nil }
        return width
      }
      concatenated = s.width(widths.reduce(0, +))
      let conv = Conv2d(
        concatenated, s.width(input), kernelSize: 1, initializer: .glorotUniform, rng: s.rng)
      residual = (conv, residualScale, activates)
    } else {
      residual = nil
    }
    super.init(s)
    var names = Self.convolutionNames(branches)[...]
    for steps in branches {
      var channels = input
      var chain: [Step] = []
      for step in steps {
        switch step {
        case .conv(let width, let kernel, let stride):
          let name = names.removeFirst()
          let padding = stride == 1 ? ((kernel.0 - 1) / 2, (kernel.1 - 1) / 2) : (0, 0)
          add([
            (name, s.conv(channels, width, kernel: kernel, stride: stride, padding: padding))
          ])
          chain.append(.layer(name))
          channels = width
        case .averagePool: chain.append(.averagePool)
        case .maxPool: chain.append(.maxPool)
        }
      }
      branch(chain)
    }
    if let residual { register("conv", residual.conv) }
  }

  override func forward(_ x: Tensor) throws -> Tensor {
    let mixed = try super.forward(x)
    guard let residual else { return mixed }
    let sum = try ZooTensor.add(x, scale(residual.conv(mixed), by: residual.scale))
    return residual.activates ? relu(sum) : sum
  }
}

/// One part of Inception-ResNet-v2 after the stem: its name, input width and branches, and for
/// a residual block its scale and whether a ReLU follows.
struct InceptionResNetPart {
  let name: String
  let input: Int
  let branches: [[BranchStep]]
  var residualScale: Float? = nil
  var activates = true
}

/// An Inception-ResNet-v2 classifier: the stem, the blocks of `InceptionResNetV2.parts`,
/// `conv_7b`, global average pool, `predictions`.
public final class InceptionResNetV2: Module, Classifier {
  public private(set) var classCount: Int
  public let featureCount: Int
  private let layers: [Module]

  /// Keras's residual blocks: ten block35, twenty block17 and nine block8 with a ReLU (then
  /// the last block8, `block8_10`, without).
  public static let kerasRepeats = [10, 20, 9]

  /// The blocks after the stem, in Keras's order, with `repeats` residual blocks of each kind.
  static func parts(repeats: [Int] = kerasRepeats) -> [InceptionResNetPart] {
    precondition(repeats.count == 3 && repeats.allSatisfy { $0 > 0 }, "three positive repeats")
    let block35: [[BranchStep]] = [
      [.conv(32)], [.conv(32), .conv(32, 3)], [.conv(32), .conv(48, 3), .conv(64, 3)],
    ]
    let block17: [[BranchStep]] = [
      [.conv(192)], [.conv(128), .conv(160, (1, 7)), .conv(192, (7, 1))],
    ]
    let block8: [[BranchStep]] = [
      [.conv(192)], [.conv(192), .conv(224, (1, 3)), .conv(256, (3, 1))],
    ]
    // Each kind of residual block: name, width, branches, scale, then the part after them.
    let stages: [(String, Int, [[BranchStep]], Float, InceptionResNetPart?)] = [
      (
        "block35", 320, block35, 0.17,
        InceptionResNetPart(
          name: "mixed_6a", input: 320,
          branches: [
            [.conv(384, 3, stride: 2)], [.conv(256), .conv(256, 3), .conv(384, 3, stride: 2)],
            [.maxPool],
          ])
      ),
      (
        "block17", 1088, block17, 0.1,
        InceptionResNetPart(
          name: "mixed_7a", input: 1088,
          branches: [
            [.conv(256), .conv(384, 3, stride: 2)], [.conv(256), .conv(288, 3, stride: 2)],
            [.conv(256), .conv(288, 3), .conv(320, 3, stride: 2)], [.maxPool],
          ])
      ),
      (
        "block8", 2080, block8, 0.2,
        InceptionResNetPart(
          name: "block8_10", input: 2080, branches: block8, residualScale: 1, activates: false)
      ),
    ]
    var parts = [
      InceptionResNetPart(
        name: "mixed_5b", input: 192,
        branches: [
          [.conv(96)], [.conv(48), .conv(64, 5)], [.conv(64), .conv(96, 3), .conv(96, 3)],
          [.averagePool, .conv(64)],
        ])
    ]
    for ((name, input, branches, scale, next), count) in zip(stages, repeats) {
      parts += (1...count).map {
        InceptionResNetPart(
          name: "\(name)_\($0)", input: input, branches: branches, residualScale: scale)
      }
      if let next { parts.append(next) }
    }
    return parts
  }

  /// Keras's initialisation (glorot-uniform kernels, zero biases); `repeats` counts the
  /// block35, block17 and ReLU'd block8 blocks; `widthDivisor` divides every width (16 at most).
  public init(
    classCount: Int = 1000, inputChannels: Int = 3, repeats: [Int] = kerasRepeats,
    widthDivisor: Int = 1, rng: RandomStream = .global
  ) {
    self.classCount = classCount
    let s = InceptionSettings(source: .keras, widthDivisor: widthDivisor, rng: rng)
    var layers = inceptionStem(inputChannels, s)
    for part in Self.parts(repeats: repeats) {
      let block = InceptionBranches(
        part.input, part.branches, residualScale: part.residualScale, activates: part.activates, s)
      layers.append((part.name, block))
    }
    layers.append(("conv_7b", s.conv(2080, 1536, kernel: 1)))
    featureCount = s.width(1536)
    self.layers = layers.map(\.1)
    super.init()
    for (name, layer) in layers { register(name, layer) }
    register(
      classifierPath,
      outputLayer(
        featureCount: featureCount, classCount: classCount, initializer: .glorotUniform,
        biasInitializer: .constant(0), rng: rng))
  }

  /// The final linear layer, Keras's `predictions`.
  public var classifierPath: String { "predictions" }

  /// The stem, every block, `conv_7b`, the global average pool: (N, featureCount).
  public func features(_ x: Tensor) throws -> Tensor {
    let map = try layers.reduce(x) { try $1($0) }
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
