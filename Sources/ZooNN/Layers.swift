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
public final class Linear: Module {
  public let inFeatures: Int
  public let outFeatures: Int
  public let weight: Tensor
  public let bias: Tensor?

  public init(
    _ inFeatures: Int, _ outFeatures: Int, bias: Bool = true,
    initializer: Initializer = .pytorchDefault, biasInitializer: Initializer = .pytorchDefault,
    rng: RandomStream = .global
  ) {
    self.inFeatures = inFeatures
    self.outFeatures = outFeatures
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
    try linear(x, weight: weight, bias: bias)
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
