import ZooNN
import ZooTensor

// Inception v3 (Szegedy et al. 2016, "Rethinking the Inception Architecture for Computer
// Vision") exactly as torchvision builds it: parameter paths are torchvision's state-dict keys
// (`Mixed_5b.branch1x1.conv.weight`), every convolution is conv-BN(eps 0.001)-ReLU without
// bias, and the auxiliary classifier (`AuxLogits`, on the 17x17 grid) is part of the network
// as in torchvision's default (`aux_logits=True`), which its parameter count includes.
// `transform_input` (torchvision's re-normalisation for Google's pretrained weights) is left
// to the data pipeline, as with `transform_input=False`.
//
// keras.applications.InceptionV3 (`InceptionV3Source.keras`) has the same layers with the
// same widths, created in the same order, but its batch norms learn no scale (`scale=False`),
// its 'same' 3x3 average pools divide by the input under the window (TensorFlow's), and it
// has no auxiliary classifier and no dropout. A width divisor gives narrow networks of the
// same structure for tests (every width of the paper is a multiple of 16).

/// Whose Inception v3 to build.
public enum InceptionV3Source: Sendable, Equatable {
  /// torchvision's `inception_v3`.
  case torchvision
  /// keras.applications.InceptionV3 (and InceptionResNetV2's convolutions).
  case keras
}

/// What the layers of one Inception network share.
struct InceptionSettings {
  let source: InceptionV3Source
  /// Every width of the paper is divided by this.
  let widthDivisor: Int
  let rng: RandomStream

  /// `width` channels of the paper's network, divided.
  func width(_ width: Int) -> Int {
    precondition(width % widthDivisor == 0, "\(width) channels do not divide by \(widthDivisor)")
    return width / widthDivisor
  }

  /// A `BasicConv2d` from `input` to `output` channels of the paper's network, divided.
  func conv(
    _ input: Int, _ output: Int, kernel: (Int, Int), stride: Int = 1,
    padding: (Int, Int) = (0, 0), std: Float = 0.1
  ) -> BasicConv2d {
    BasicConv2d(
      width(input), width(output), kernel: kernel, stride: stride, padding: padding, std: std,
      source: source, rng: rng)
  }

  /// A square kernel.
  func conv(
    _ input: Int, _ output: Int, kernel: Int, stride: Int = 1, padding: Int = 0, std: Float = 0.1
  ) -> BasicConv2d {
    conv(
      input, output, kernel: (kernel, kernel), stride: stride, padding: (padding, padding),
      std: std)
  }
}

/// conv (no bias), batch norm with eps 0.001, ReLU: torchvision's `BasicConv2d`, or Keras's
/// `conv2d_bn` (glorot-uniform kernel, batch norm without scale, Keras's momentum 0.99).
final class BasicConv2d: Module {
  let conv: Conv2d, bn: BatchNorm

  init(
    _ input: Int, _ output: Int, kernel: (Int, Int), stride: Int = 1, padding: (Int, Int) = (0, 0),
    std: Float = 0.1, source: InceptionV3Source = .torchvision, rng: RandomStream
  ) {
    let keras = source == .keras
    conv = Conv2d(
      input, output, kernelSize: kernel, stride: (stride, stride), padding: padding, bias: false,
      initializer: keras ? .glorotUniform : .normal(std: std), rng: rng)
    bn =
      keras
      ? BatchNorm(output, momentum: 0.01, eps: 0.001, scale: false) : BatchNorm(output, eps: 0.001)
    super.init()
    register("conv", conv)
    register("bn", bn)
  }

  override func forward(_ x: Tensor) throws -> Tensor {
    try convBatchNorm(conv, bn, x, relu: true)
  }
}

/// Branches that each read the block's input and are concatenated along channels, in
/// registration order; a branch is a chain of children run in order.
class InceptionBlock: Module {
  /// The branches, each a list of steps run in order.
  private var branches: [[Step]] = []
  /// Whether the average pool divides by its whole window, padding included (PyTorch's
  /// default), or by the input under it (Keras's).
  let poolCountsPadding: Bool

  init(_ settings: InceptionSettings) {
    poolCountsPadding = settings.source == .torchvision
    super.init()
  }

  enum Step {
    /// The child of that name.
    case layer(String)
    /// 3x3 average pool, stride 1, padding 1 (see `poolCountsPadding`).
    case averagePool
    /// 3x3 max pool, stride 2.
    case maxPool
    /// The named children, each applied to the same input, concatenated (Mixed_7b's 1x3 and
    /// 3x1 pair).
    case split([String])
  }

  func branch(_ steps: [Step]) { branches.append(steps) }

  override func forward(_ x: Tensor) throws -> Tensor {
    try concatChannels(
      branches.map { steps in
        try steps.reduce(x) { value, step in
          switch step {
          case .layer(let name): return try child(at: name)!(value)
          case .averagePool:
            return try avgPool2d(
              value, kernelSize: 3, stride: 1, padding: 1, countIncludePad: poolCountsPadding)
          case .maxPool: return try maxPool2d(value, kernelSize: 3, stride: 2)
          case .split(let names):
            return try concatChannels(names.map { try child(at: $0)!(value) })
          }
        }
      })
  }
}

extension InceptionBlock {
  /// Registers `layers` under their names.
  func add(_ layers: [(String, Module)]) {
    for (name, layer) in layers { register(name, layer) }
  }
}

/// 35x35: 1x1; 1x1-5x5; 1x1-3x3-3x3; pool-1x1 (torchvision's `InceptionA`).
final class InceptionA: InceptionBlock {
  init(_ input: Int, poolFeatures: Int, _ s: InceptionSettings) {
    super.init(s)
    add([
      ("branch1x1", s.conv(input, 64, kernel: 1)),
      ("branch5x5_1", s.conv(input, 48, kernel: 1)),
      ("branch5x5_2", s.conv(48, 64, kernel: 5, padding: 2)),
      ("branch3x3dbl_1", s.conv(input, 64, kernel: 1)),
      ("branch3x3dbl_2", s.conv(64, 96, kernel: 3, padding: 1)),
      ("branch3x3dbl_3", s.conv(96, 96, kernel: 3, padding: 1)),
      ("branch_pool", s.conv(input, poolFeatures, kernel: 1)),
    ])
    branch([.layer("branch1x1")])
    branch([.layer("branch5x5_1"), .layer("branch5x5_2")])
    branch([.layer("branch3x3dbl_1"), .layer("branch3x3dbl_2"), .layer("branch3x3dbl_3")])
    branch([.averagePool, .layer("branch_pool")])
  }
}

/// 35x35 to 17x17: 3x3 stride 2; 1x1-3x3-3x3 stride 2; max pool (`InceptionB`).
final class InceptionB: InceptionBlock {
  init(_ input: Int, _ s: InceptionSettings) {
    super.init(s)
    add([
      ("branch3x3", s.conv(input, 384, kernel: 3, stride: 2)),
      ("branch3x3dbl_1", s.conv(input, 64, kernel: 1)),
      ("branch3x3dbl_2", s.conv(64, 96, kernel: 3, padding: 1)),
      ("branch3x3dbl_3", s.conv(96, 96, kernel: 3, stride: 2)),
    ])
    branch([.layer("branch3x3")])
    branch([.layer("branch3x3dbl_1"), .layer("branch3x3dbl_2"), .layer("branch3x3dbl_3")])
    branch([.maxPool])
  }
}

/// 17x17 with factorised 7x7 convolutions (1x7 and 7x1) of `width` channels (`InceptionC`).
final class InceptionC: InceptionBlock {
  init(_ input: Int, width c7: Int, _ s: InceptionSettings) {
    super.init(s)
    let row = (kernel: (1, 7), padding: (0, 3))
    let column = (kernel: (7, 1), padding: (3, 0))
    func conv(_ i: Int, _ o: Int, _ shape: (kernel: (Int, Int), padding: (Int, Int)))
      -> BasicConv2d
    {
      s.conv(i, o, kernel: shape.kernel, padding: shape.padding)
    }
    add([
      ("branch1x1", s.conv(input, 192, kernel: 1)),
      ("branch7x7_1", s.conv(input, c7, kernel: 1)),
      ("branch7x7_2", conv(c7, c7, row)),
      ("branch7x7_3", conv(c7, 192, column)),
      ("branch7x7dbl_1", s.conv(input, c7, kernel: 1)),
      ("branch7x7dbl_2", conv(c7, c7, column)),
      ("branch7x7dbl_3", conv(c7, c7, row)),
      ("branch7x7dbl_4", conv(c7, c7, column)),
      ("branch7x7dbl_5", conv(c7, 192, row)),
      ("branch_pool", s.conv(input, 192, kernel: 1)),
    ])
    branch([.layer("branch1x1")])
    branch([.layer("branch7x7_1"), .layer("branch7x7_2"), .layer("branch7x7_3")])
    branch((1...5).map { .layer("branch7x7dbl_\($0)") })
    branch([.averagePool, .layer("branch_pool")])
  }
}

/// 17x17 to 8x8: 1x1-3x3 stride 2; 1x1-1x7-7x1-3x3 stride 2; max pool (`InceptionD`).
final class InceptionD: InceptionBlock {
  init(_ input: Int, _ s: InceptionSettings) {
    super.init(s)
    add([
      ("branch3x3_1", s.conv(input, 192, kernel: 1)),
      ("branch3x3_2", s.conv(192, 320, kernel: 3, stride: 2)),
      ("branch7x7x3_1", s.conv(input, 192, kernel: 1)),
      ("branch7x7x3_2", s.conv(192, 192, kernel: (1, 7), padding: (0, 3))),
      ("branch7x7x3_3", s.conv(192, 192, kernel: (7, 1), padding: (3, 0))),
      ("branch7x7x3_4", s.conv(192, 192, kernel: 3, stride: 2)),
    ])
    branch([.layer("branch3x3_1"), .layer("branch3x3_2")])
    branch((1...4).map { .layer("branch7x7x3_\($0)") })
    branch([.maxPool])
  }
}

/// 8x8 with 1x3 and 3x1 convolutions side by side (`InceptionE`).
final class InceptionE: InceptionBlock {
  init(_ input: Int, _ s: InceptionSettings) {
    super.init(s)
    add([
      ("branch1x1", s.conv(input, 320, kernel: 1)),
      ("branch3x3_1", s.conv(input, 384, kernel: 1)),
      ("branch3x3_2a", s.conv(384, 384, kernel: (1, 3), padding: (0, 1))),
      ("branch3x3_2b", s.conv(384, 384, kernel: (3, 1), padding: (1, 0))),
      ("branch3x3dbl_1", s.conv(input, 448, kernel: 1)),
      ("branch3x3dbl_2", s.conv(448, 384, kernel: 3, padding: 1)),
      ("branch3x3dbl_3a", s.conv(384, 384, kernel: (1, 3), padding: (0, 1))),
      ("branch3x3dbl_3b", s.conv(384, 384, kernel: (3, 1), padding: (1, 0))),
      ("branch_pool", s.conv(input, 192, kernel: 1)),
    ])
    branch([.layer("branch1x1")])
    branch([.layer("branch3x3_1"), .split(["branch3x3_2a", "branch3x3_2b"])])
    branch([
      .layer("branch3x3dbl_1"), .layer("branch3x3dbl_2"),
      .split(["branch3x3dbl_3a", "branch3x3dbl_3b"]),
    ])
    branch([.averagePool, .layer("branch_pool")])
  }
}

/// The stem of Inception v3 and Inception-ResNet-v2: three 3x3 convolutions (stride 2, then
/// two at stride 1, the second padded), a 3x3 stride-2 max pool, a 1x1 and a 3x3 convolution,
/// another max pool; 192 channels of the paper's network.
func inceptionStem(_ inputChannels: Int, _ s: InceptionSettings) -> [(String, Module)] {
  [
    (
      "Conv2d_1a_3x3",
      BasicConv2d(
        inputChannels, s.width(32), kernel: (3, 3), stride: 2, source: s.source, rng: s.rng)
    ),
    ("Conv2d_2a_3x3", s.conv(32, 32, kernel: 3)),
    ("Conv2d_2b_3x3", s.conv(32, 64, kernel: 3, padding: 1)),
    ("maxpool1", MaxPool2d(3, stride: 2)),
    ("Conv2d_3b_1x1", s.conv(64, 80, kernel: 1)),
    ("Conv2d_4a_3x3", s.conv(80, 192, kernel: 3)),
    ("maxpool2", MaxPool2d(3, stride: 2)),
  ]
}

/// The auxiliary classifier on the 17x17 grid: 5x5 average pool stride 3, 1x1 to 128, 5x5 to
/// 768, global average pool, `fc` (`InceptionAux`).
final class InceptionAux: Module {
  let conv0: BasicConv2d, conv1: BasicConv2d
  let featureCount: Int

  init(_ input: Int, classCount: Int, _ s: InceptionSettings) {
    conv0 = s.conv(input, 128, kernel: 1)
    conv1 = s.conv(128, 768, kernel: 5, std: 0.01)
    featureCount = s.width(768)
    super.init()
    register("conv0", conv0)
    register("conv1", conv1)
    replaceClassifier(classCount: classCount, rng: s.rng)
  }

  /// A fresh `fc` for `classCount` classes, as torchvision's fine-tuning recipe replaces it.
  func replaceClassifier(classCount: Int, rng: RandomStream) {
    register(
      "fc",
      outputLayer(
        featureCount: featureCount, classCount: classCount, initializer: .normal(std: 0.001),
        rng: rng))
  }

  override func forward(_ x: Tensor) throws -> Tensor {
    let pooled = try avgPool2d(x, kernelSize: 5, stride: 3)
    let out = try conv1(conv0(pooled))
    return try child(at: "fc")!(
      adaptiveAvgPool2d(out, outputHeight: 1, outputWidth: 1).flattened())
  }
}

/// Inception v3: stem, Mixed_5b-5d (35x35), Mixed_6a-6e (17x17), the auxiliary classifier,
/// Mixed_7a-7c (8x8), global average pool, dropout, `fc` (Keras's: no auxiliary classifier,
/// no dropout, `fc` is its `predictions`).
///
/// In training mode the forward pass also computes the auxiliary logits, which trainers add
/// to the loss with weight 0.4 (`auxiliaryLogits`, torchvision's `InceptionOutputs.aux_logits`);
/// in inference the auxiliary classifier is not run.
public final class InceptionV3: Module, Classifier, AuxiliaryClassifier {
  /// Number of classes the head predicts.
  public private(set) var classCount: Int
  /// The auxiliary classifier's logits from the last forward pass in training mode.
  public private(set) var auxiliaryLogits: Tensor?
  let stem: [Module]
  let grid35: [Module], grid17: [Module], grid8: [Module]
  let aux: InceptionAux?
  /// Channels of Mixed_7c, average-pooled: what `fc` reads.
  public let featureCount: Int

  /// A freshly initialised network (torchvision's initialisation: normal convolutions and
  /// linear layers, std 0.1, unit batch-norm scales; torchvision truncates the normal at +-2;
  /// Keras's: glorot-uniform). `auxiliaryClassifier` defaults to torchvision's only;
  /// `widthDivisor` divides every width (16 at most).
  public init(
    classCount: Int = 1000, inputChannels: Int = 3, auxiliaryClassifier: Bool? = nil,
    source: InceptionV3Source = .torchvision, widthDivisor: Int = 1, rng: RandomStream = .global
  ) {
    self.classCount = classCount
    let s = InceptionSettings(source: source, widthDivisor: widthDivisor, rng: rng)
    let stem = inceptionStem(inputChannels, s)
    let grid35: [(String, Module)] = [
      ("Mixed_5b", InceptionA(192, poolFeatures: 32, s)),
      ("Mixed_5c", InceptionA(256, poolFeatures: 64, s)),
      ("Mixed_5d", InceptionA(288, poolFeatures: 64, s)),
    ]
    let grid17: [(String, Module)] = [
      ("Mixed_6a", InceptionB(288, s)),
      ("Mixed_6b", InceptionC(768, width: 128, s)),
      ("Mixed_6c", InceptionC(768, width: 160, s)),
      ("Mixed_6d", InceptionC(768, width: 160, s)),
      ("Mixed_6e", InceptionC(768, width: 192, s)),
    ]
    let hasAux = auxiliaryClassifier ?? (source == .torchvision)
    aux = hasAux ? InceptionAux(768, classCount: classCount, s) : nil
    let grid8: [(String, Module)] = [
      ("Mixed_7a", InceptionD(768, s)),
      ("Mixed_7b", InceptionE(1280, s)),
      ("Mixed_7c", InceptionE(2048, s)),
    ]
    featureCount = s.width(2048)
    self.stem = stem.map(\.1)
    self.grid35 = grid35.map(\.1)
    self.grid17 = grid17.map(\.1)
    self.grid8 = grid8.map(\.1)
    super.init()
    for (name, layer) in stem + grid35 + grid17 { register(name, layer) }
    if let aux { register("AuxLogits", aux) }
    for (name, layer) in grid8 { register(name, layer) }
    register("avgpool", AdaptiveAvgPool2d(1, 1))
    if source == .torchvision { register("dropout", Dropout(0.5)) }
    register(
      "fc",
      outputLayer(
        featureCount: featureCount, classCount: classCount, initializer: .normal(std: 0.1),
        rng: rng))
  }

  /// The final linear layer, `fc`.
  public var classifierPath: String { "fc" }

  /// Stem and Inception blocks and global average pool: (N, featureCount). In training mode it also
  /// leaves the auxiliary classifier's logits in `auxiliaryLogits`.
  public func features(_ x: Tensor) throws -> Tensor {
    var out = try runFoldingBatchNorm(stem, x)
    for block in grid35 + grid17 { out = try block(out) }
    auxiliaryLogits = isTraining && classCount > 0 ? try aux?(out) : nil
    for block in grid8 { out = try block(out) }
    return try child(at: "avgpool")!(out).flattened()
  }

  /// Dropout (p 0.5, in training; torchvision's only) and the `fc` layer: features to logits.
  public func head(_ features: Tensor) throws -> Tensor {
    let dropped = try child(at: "dropout").map { try $0(features) } ?? features
    return try child(at: classifierPath)!(dropped)
  }

  /// Logits: the head applied to the features.
  public override func forward(_ x: Tensor) throws -> Tensor {
    try logits(x)
  }

  /// Registers `head` as `fc`, and gives the auxiliary classifier a fresh `fc` for the same
  /// classes (torchvision's fine-tuning recipe replaces both).
  public func replaceClassifier(with head: Module, classCount: Int) {
    register(classifierPath, head)
    aux?.replaceClassifier(classCount: classCount, rng: .global)
    self.classCount = classCount
  }
}
