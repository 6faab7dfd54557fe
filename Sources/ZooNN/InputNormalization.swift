import ZooTensor

/// Keras's `Normalization` layer over the channels of (N, C, H, W), after an optional
/// `Rescaling`: (x · rescale − mean) / max(√variance, 1e-7), as Keras Applications'
/// EfficientNet starts (`Rescaling(1/255)`, then `Normalization`). The mean and variance are
/// statistics of the data (Keras's `adapt`), kept as buffers and never trained; `count` is the
/// number of samples they came from, which Keras keeps for older saved models and the forward
/// pass ignores.
public final class InputNormalization: Module {
  public let mean: Tensor
  public let variance: Tensor
  public let count: Tensor
  /// What multiplies the input first (Keras's `Rescaling` before the layer).
  public let rescale: Float
  /// Keras's `backend.epsilon()`, the smallest divisor.
  public static let minimumDeviation: Float = 1e-7

  /// Keras's starting state: mean 0, variance 1, count 0.
  public init(_ channels: Int, rescale: Float = 1) {
    mean = Tensor(shape: [channels])
    variance = Tensor(shape: [channels], repeating: 1)
    count = Tensor(shape: [1])
    self.rescale = rescale
    super.init()
    register(buffer: "mean", mean)
    register(buffer: "variance", variance)
    register(buffer: "count", count)
  }

  /// Rescaling, then the batch-norm kernel in inference with the data's mean and variance as
  /// its statistics, so that an exported graph reads the layer's own buffers and the input's
  /// gradient flows back as through any layer. Keras divides by max(√variance, 1e-7); this
  /// divides by √(variance + 1e-14), the same at zero variance and within 1e-14 / variance
  /// (relative) elsewhere.
  public override func forward(_ x: Tensor) throws -> Tensor {
    let floor = Self.minimumDeviation * Self.minimumDeviation
    return try batchNorm(
      rescale == 1 ? x : scale(x, by: rescale), weight: nil, bias: nil, runningMean: mean,
      runningVar: variance, training: false, eps: floor)
  }
}
