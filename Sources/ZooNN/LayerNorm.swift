import ZooTensor

/// Layer normalisation over the channels of an (N, C, H, W) or (N, C) tensor, weight and bias
/// (C): torchvision's `LayerNorm2d`, and `nn.LayerNorm(C)` applied to the channels-last tensor
/// (ConvNeXt's blocks), both computed on NCHW. Has no training mode: each position is
/// normalised by its own statistics.
public final class LayerNorm2d: Module {
  public let weight: Tensor
  public let bias: Tensor
  /// Carried per layer: PyTorch's default is 1e-5, ConvNeXt's 1e-6, Keras's 1e-3.
  public let eps: Float

  public init(_ channels: Int, eps: Float = 1e-5) {
    weight = Tensor(shape: [channels], repeating: 1)
    bias = Tensor(shape: [channels])
    self.eps = eps
    super.init()
    register(parameter: "weight", weight)
    register(parameter: "bias", bias)
  }

  public override func forward(_ x: Tensor) throws -> Tensor {
    try channelLayerNorm(x, weight: weight, bias: bias, eps: eps)
  }
}
