import ZooTensor

/// Children run in order, named "0", "1", ... as in `torch.nn.Sequential`, so parameter
/// paths (`features.3.weight`) match torchvision's.
public final class Sequential: Module {
  public init(_ layers: [Module]) {
    super.init()
    for (index, layer) in layers.enumerated() { register(String(index), layer) }
  }

  public convenience init(@SequentialBuilder _ layers: () -> [Module]) {
    self.init(layers())
  }

  public var layers: [Module] { children.map(\.module) }

  /// The layers in order; a Conv2d-BatchNorm(-ReLU) run folds in inference (`convBatchNorm`).
  public override func forward(_ x: Tensor) throws -> Tensor {
    try runFoldingBatchNorm(layers, x)
  }
}

/// Children with given names, run in order: an `nn.Sequential` built from an `OrderedDict`
/// (DenseNet's `conv0`, `norm0`), or one whose numbering skips layers the zoo does not need
/// (ConvNeXt's permutes); a conv-BN-ReLU run folds in inference as in `Sequential`.
public final class NamedSequential: Module {
  public init(_ layers: [(String, Module)]) {
    super.init()
    for (name, layer) in layers { register(name, layer) }
  }

  public override func forward(_ x: Tensor) throws -> Tensor {
    try runFoldingBatchNorm(children.map(\.module), x)
  }
}

@resultBuilder
public enum SequentialBuilder {
  public static func buildExpression(_ layer: Module) -> [Module] { [layer] }
  public static func buildExpression(_ layers: [Module]) -> [Module] { layers }
  public static func buildBlock(_ parts: [Module]...) -> [Module] { parts.flatMap { $0 } }
  public static func buildArray(_ parts: [[Module]]) -> [Module] { parts.flatMap { $0 } }
  public static func buildOptional(_ part: [Module]?) -> [Module] { part ?? [] }
  public static func buildEither(first part: [Module]) -> [Module] { part }
  public static func buildEither(second part: [Module]) -> [Module] { part }
}

/// Fully connected layer, weight (out, in) as PyTorch's `nn.Linear`.
///
/// With `overChannels` it maps the channels of an (N, C, H, W) tensor at every position: what
/// torchvision's ConvNeXt computes as permute to channels last, `Linear`, permute back. It runs
/// as a 1x1 convolution on the same weights, which reads and writes NCHW directly (one GEMM per
/// sample, W (out, in) x x[n] (in, H*W)), so neither transpose is made.
public final class Linear: Module {
  public let inFeatures: Int
  public let outFeatures: Int
  public let weight: Tensor
  public let bias: Tensor?
  /// Whether a rank-4 input is mapped along its channels.
  public let overChannels: Bool

  public init(
    _ inFeatures: Int, _ outFeatures: Int, bias: Bool = true, overChannels: Bool = false,
    initializer: Initializer = .pytorchDefault, biasInitializer: Initializer = .pytorchDefault,
    rng: RandomStream = .global
  ) {
    self.inFeatures = inFeatures
    self.outFeatures = outFeatures
    self.overChannels = overChannels
    weight = Tensor(shape: [outFeatures, inFeatures])
    self.bias = bias ? Tensor(shape: [outFeatures]) : nil
    super.init()
    initializer.fill(weight, fanIn: inFeatures, fanOut: outFeatures, rng: rng)
    if let b = self.bias {
      biasInitializer.fill(b, fanIn: inFeatures, fanOut: outFeatures, rng: rng)
    }
    register(parameter: "weight", weight)
    if let b = self.bias { register(parameter: "bias", b) }
  }

  public override func forward(_ x: Tensor) throws -> Tensor {
    guard overChannels, x.rank == 4 else { return try linear(x, weight: weight, bias: bias) }
    let kernel = try weight.reshaped([outFeatures, inFeatures, 1, 1])
    return try conv2d(x, weight: kernel, bias: bias)
  }

  public override func multiplyAccumulates(input: [Int], output: [Int]) -> Int {
    output.reduce(1, *) * inFeatures
  }
}

/// Passes its input through; stands in for a removed head.
public final class Identity: Module {
  public override init() { super.init() }
  public override func forward(_ x: Tensor) throws -> Tensor { x }
}
