// Stochastic depth (Huang et al., 2016) as torchvision's `ops.stochastic_depth` in "row" mode:
// x (N, ...) -> y of x's shape, each sample kept whole or zeroed.

/// Zeroes each sample (row along the first dimension) with probability `probability` and
/// scales the kept ones by `1 / (1 - probability)`, so inference needs no rescaling. Returns `x`
/// itself when not training or when `probability` is 0. Each sample draws one uniform value
/// from its own stream, as `dropout` draws its elements, so a seed fixes which rows survive and
/// a data-parallel shard keeps the rows one process keeps.
public func stochasticDepth(
  _ x: Tensor, probability: Float, training: Bool, rng: RandomStream
) throws -> Tensor {
  try OpTrace.traced(
    training && probability > 0 ? .other("stochasticDepth in training mode") : .identity, [x]
  ) {
    guard probability >= 0, probability <= 1 else {
      throw TensorError.invalidArgument(
        op: "stochasticDepth", message: "probability must be in [0, 1], got \(probability)")
    }
    guard x.rank >= 1 else {
      throw TensorError.invalidArgument(
        op: "stochasticDepth", message: "needs a batch dimension, got a scalar")
    }
    let samples = x.shape[0]
    guard training, probability > 0, samples > 0 else { return x }
    let factors = DropoutKernels.mask(
      count: samples, samples: samples, probability, rng: rng)
    let rows = try x.reshaped([samples, 1, x.count / samples])
    let y = try scaleChannels(rows, by: Tensor(shape: [samples, 1, 1], scalars: factors))
    return try y.reshaped(x.shape)
  }
}

/// The factors and output `stochasticDepth` must produce for a stream seeded with `seed`.
public enum StochasticDepthReference {
  public static func forward(_ x: Tensor, probability: Float, seed: UInt64) -> (
    y: Tensor, factors: [Float]
  ) {
    let samples = x.shape[0]
    // One draw per sample, kept when it is at least `probability`, as dropout's elements.
    let factors = DropoutReference.forward(
      Tensor(shape: [samples], repeating: 1), probability: probability, seed: seed
    ).mask
    let row = x.count / max(samples, 1)
    let y = x.scalars.indices.map { x.scalars[$0] * factors[$0 / row] }
    return (Tensor(shape: x.shape, scalars: y), factors)
  }
}
