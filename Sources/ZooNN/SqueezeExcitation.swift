import ZooTensor

/// Squeeze-and-excitation (Hu et al., 2018) as torchvision's `ops.SqueezeExcitation`: the
/// channel means go through `fc1` (1x1 conv), `activation`, `fc2` (1x1 conv) and
/// `scale_activation`, and the result gates the input's channels.
///
/// Children and parameters carry torchvision's names (`fc1.weight`, `fc2.bias`), so the block
/// loads a torchvision state dict as it is. MobileNetV3 uses ReLU and `Hardsigmoid`,
/// EfficientNet `SiLU` and `Sigmoid`.
public final class SqueezeExcitation: Module {
  public let avgpool = AdaptiveAvgPool2d(1, 1)
  public let fc1: Conv2d
  public let fc2: Conv2d
  public let activation: Module
  public let scaleActivation: Module

  public init(
    _ inputChannels: Int, squeezeChannels: Int, activation: Module = ReLU(),
    scaleActivation: Module = Sigmoid(), rng: RandomStream = .global
  ) {
    fc1 = Conv2d(inputChannels, squeezeChannels, kernelSize: 1, rng: rng)
    fc2 = Conv2d(squeezeChannels, inputChannels, kernelSize: 1, rng: rng)
    self.activation = activation
    self.scaleActivation = scaleActivation
    super.init()
    register("avgpool", avgpool)
    register("fc1", fc1)
    register("fc2", fc2)
    register("activation", activation)
    register("scale_activation", scaleActivation)
  }

  /// The per-channel gate, shape (N, C, 1, 1).
  public func scale(_ x: Tensor) throws -> Tensor {
    try scaleActivation(fc2(activation(fc1(avgpool(x)))))
  }

  public override func forward(_ x: Tensor) throws -> Tensor {
    try scaleChannels(x, by: scale(x))
  }
}
