import ZooTensor

/// A parameter-free layer that applies a function. Activations, pooling and resampling are
/// layers (not bare functions) so that `Sequential` numbers its children as PyTorch does.
public class FunctionLayer: Module {
  private let name: String
  private let body: (Tensor) throws -> Tensor

  /// `typeName` is what summaries print (`ReLU`, `MaxPool2d`).
  public init(_ typeName: String, _ body: @escaping (Tensor) throws -> Tensor) {
    self.name = typeName
    self.body = body
    super.init()
  }

  public override var typeName: String { name }

  public override func forward(_ x: Tensor) throws -> Tensor { try body(x) }
}

public final class ReLU: FunctionLayer {
  public init() { super.init("ReLU") { relu($0) } }
}

public final class LeakyReLU: FunctionLayer {
  public init(negativeSlope: Float = 0.01) {
    super.init("LeakyReLU") { leakyRelu($0, negativeSlope: negativeSlope) }
  }
}

public final class Sigmoid: FunctionLayer {
  public init() { super.init("Sigmoid") { sigmoid($0) } }
}

public final class Tanh: FunctionLayer {
  public init() { super.init("Tanh") { tanh($0) } }
}

public final class GELU: FunctionLayer {
  public init(approximate: GELUApproximation = .exact) {
    super.init("GELU") { gelu($0, approximate: approximate) }
  }
}

/// Also called swish.
public final class SiLU: FunctionLayer {
  public init() { super.init("SiLU") { silu($0) } }
}

public final class Hardsigmoid: FunctionLayer {
  public init() { super.init("Hardsigmoid") { hardSigmoid($0) } }
}

public final class Hardswish: FunctionLayer {
  public init() { super.init("Hardswish") { hardSwish($0) } }
}

public final class Softplus: FunctionLayer {
  public init(beta: Float = 1) { super.init("Softplus") { softplus($0, beta: beta) } }
}

public final class MaxPool2d: FunctionLayer {
  public init(_ kernelSize: Int, stride: Int? = nil, padding: Int = 0, ceilMode: Bool = false) {
    super.init("MaxPool2d") {
      try maxPool2d(
        $0, kernelSize: kernelSize, stride: stride, padding: padding, ceilMode: ceilMode)
    }
  }
}

public final class AvgPool2d: FunctionLayer {
  public init(_ kernelSize: Int, stride: Int? = nil, padding: Int = 0) {
    super.init("AvgPool2d") {
      try avgPool2d($0, kernelSize: kernelSize, stride: stride, padding: padding)
    }
  }
}

public final class AdaptiveAvgPool2d: FunctionLayer {
  public init(_ height: Int, _ width: Int) {
    super.init("AdaptiveAvgPool2d") {
      try adaptiveAvgPool2d($0, outputHeight: height, outputWidth: width)
    }
  }
}

public final class Upsample: FunctionLayer {
  public init(scale: Int) { super.init("Upsample") { try upsampleNearest($0, scale: scale) } }
}

public final class Flatten: FunctionLayer {
  public init() { super.init("Flatten") { try $0.flattened() } }
}

/// Inverted dropout, active only in training mode.
public final class Dropout: Module {
  public let probability: Float
  private let rng: RandomStream

  public init(_ probability: Float = 0.5, rng: RandomStream = .global) {
    self.probability = probability
    self.rng = rng
    super.init()
  }

  public override func forward(_ x: Tensor) throws -> Tensor {
    try dropout(x, probability: probability, training: isTraining, rng: rng)
  }
}

/// `min(max(x, 0), 6)`, as `nn.ReLU6`.
public final class ReLU6: FunctionLayer {
  public init() { super.init("ReLU6") { relu6($0) } }
}
