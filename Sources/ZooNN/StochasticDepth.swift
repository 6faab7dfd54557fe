import ZooTensor

/// torchvision's `ops.StochasticDepth(p, mode="row")`: in training, drops whole samples of a
/// residual branch with probability `probability` and rescales the rest; the identity in
/// inference. EfficientNet and ConvNeXt put it before the residual sum.
public final class StochasticDepth: Module {
  public let probability: Float
  private let rng: RandomStream

  public init(_ probability: Float, rng: RandomStream = .global) {
    self.probability = probability
    self.rng = rng
    super.init()
  }

  public override func forward(_ x: Tensor) throws -> Tensor {
    try stochasticDepth(x, probability: probability, training: isTraining, rng: rng)
  }
}
