import Foundation
import ZooTensor

/// What a trained autoencoder or VAE makes: samples, latent walks and, for a 2-D code, the
/// decoded latent plane. Every image comes back as pixel probabilities, `sigmoid(logits)`.
extension ConvAutoencoder {
  /// `count` images decoded from codes drawn from N(mean, std^2) per unit: the prior N(0, 1)
  /// for a VAE, the spread of the training codes for a plain autoencoder.
  public func sample(count: Int, mean: [Float]? = nil, std: [Float]? = nil, random: RandomStream)
    throws -> Tensor
  {
    let (mu, sigma) = (
      mean ?? [Float](repeating: 0, count: latentSize),
      std ?? [Float](repeating: 1, count: latentSize)
    )
    let codes = random.withGenerator { g in
      (0..<(count * latentSize)).map {
        mu[$0 % latentSize] + sigma[$0 % latentSize] * g.nextNormal()
      }
    }
    return try pixels(Tensor(shape: [count, latentSize], scalars: codes))
  }

  /// `steps` images along the straight line from the code of `a` to that of `b` (each one
  /// image, (1, C, 28, 28)), both ends included.
  public func interpolate(from a: Tensor, to b: Tensor, steps: Int) throws -> Tensor {
    let (start, end) = (try encode(a).mean.scalars, try encode(b).mean.scalars)
    var codes: [Float] = []
    for step in 0..<steps {
      let t = Float(step) / Float(max(steps - 1, 1))
      codes += zip(start, end).map { (1 - t) * $0 + t * $1 }
    }
    return try pixels(Tensor(shape: [steps, latentSize], scalars: codes))
  }

  /// For a 2-D code: `side` x `side` images decoded from a grid over [-extent, extent]^2, rows
  /// from the top (largest second coordinate) down, as Kingma & Welling's figure 4 lays it out.
  public func latentPlane(side: Int, extent: Float = 2) throws -> Tensor {
    guard latentSize == 2 else {
      throw TensorError.invalidArgument(
        op: "latentPlane", message: "needs a 2-D latent code, this model's has \(latentSize)")
    }
    let values = (0..<side).map { -extent + 2 * extent * Float($0) / Float(max(side - 1, 1)) }
    var codes: [Float] = []
    for row in 0..<side {
      for column in 0..<side { codes += [values[column], values[side - 1 - row]] }
    }
    return try pixels(Tensor(shape: [side * side, 2], scalars: codes))
  }

  /// Decoded pixel probabilities for codes (N, latentSize), without gradients.
  public func pixels(_ codes: Tensor) throws -> Tensor {
    try withoutGradients { sigmoid(try decode(codes)) }
  }

  /// Per-unit mean and standard deviation of `codes` (N, latentSize).
  public static func spread(of codes: Tensor) -> (mean: [Float], std: [Float]) {
    let (n, width) = (codes.shape[0], codes.shape[1])
    var mean = [Double](repeating: 0, count: width)
    var square = [Double](repeating: 0, count: width)
    for (k, value) in codes.scalars.enumerated() {
      mean[k % width] += Double(value)
      square[k % width] += Double(value) * Double(value)
    }
    let m = mean.map { $0 / Double(max(n, 1)) }
    let s = zip(square, m).map { (max($0 / Double(max(n, 1)) - $1 * $1, 0)).squareRoot() }
    return (m.map(Float.init), s.map(Float.init))
  }
}
