import ZooTensor

/// A residual block whose branch is scaled per channel by a learned `layer_scale` (C, 1, 1)
/// before stochastic depth and the sum: `x + stochastic_depth(layer_scale * block(x))`, as
/// torchvision's ConvNeXt `CNBlock` (Touvron et al. 2021, "Going deeper with image
/// transformers", section 3). Children and the parameter carry torchvision's names (`block`,
/// `layer_scale`, `stochastic_depth`), so the block loads a torchvision state dict as it is.
public final class LayerScaledResidual: Module {
  public let block: Module
  /// One factor per channel, shared by every sample; starts small so the block starts near
  /// the identity.
  public let layerScale: Tensor
  public let stochasticDepth: StochasticDepth

  public init(
    _ block: Module, channels: Int, initialScale: Float, dropProbability: Float,
    rng: RandomStream = .global
  ) {
    self.block = block
    layerScale = Tensor(shape: [channels, 1, 1], repeating: initialScale)
    stochasticDepth = StochasticDepth(dropProbability, rng: rng)
    super.init()
    register(parameter: "layer_scale", layerScale)
    register("block", block)
    register("stochastic_depth", stochasticDepth)
  }

  public override func forward(_ x: Tensor) throws -> Tensor {
    try add(x, stochasticDepth(scaleChannels(block(x), by: layerScale)))
  }
}
