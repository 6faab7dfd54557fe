// The losses of autoencoders and variational autoencoders (Kingma & Welling 2014), in nats per
// image: reconstruction terms summed over an image's pixels and the Gaussian KL term summed over
// its latent units, each averaged over the batch; and the reparameterised sample.

import Foundation

/// Per-pixel binary cross-entropy on logits, summed over each image and averaged over the batch:
/// `F.binary_cross_entropy_with_logits(x, t, reduction="sum") / N` for (N, ...) tensors.
public func binaryCrossEntropyPerImage(logits: Tensor, targets: Tensor) throws -> Tensor {
  let pixels = try pixelsPerImage(logits, "binaryCrossEntropyPerImage")
  return scale(
    try binaryCrossEntropyWithLogits(logits: logits, targets: targets), by: Float(pixels))
}

/// Squared error summed over each image and averaged over the batch:
/// `F.mse_loss(p, t, reduction="sum") / N` for (N, ...) tensors.
public func squaredErrorPerImage(_ prediction: Tensor, _ target: Tensor) throws -> Tensor {
  let pixels = try pixelsPerImage(prediction, "squaredErrorPerImage")
  return scale(try meanSquaredError(prediction, target), by: Float(pixels))
}

/// `KL(N(mean, exp(logVariance)) || N(0, 1))` summed over the latent units and averaged over
/// the batch: `-0.5 * sum(1 + logVariance - mean^2 - exp(logVariance)) / N` for (N, L) inputs.
/// Gradients: `mean / N` and `(exp(logVariance) - 1) / (2N)`.
public func gaussianKLDivergence(mean: Tensor, logVariance: Tensor) throws -> Tensor {
  try expectShape(logVariance, mean.shape, "gaussianKLDivergence logVariance")
  let n = try batchSize(mean, "gaussianKLDivergence")
  let (mu, logVar) = (mean.scalars, logVariance.scalars)
  var total = 0.0
  for i in 0..<mu.count {
    total += Double(1 + logVar[i] - mu[i] * mu[i] - exp(logVar[i]))
  }
  let y = Tensor(Float(-0.5 * total / Double(n)))
  y.record("gaussianKLDivergence", inputs: [mean, logVariance]) { dy in
    let g = dy.scalars[0] / Float(n)
    if mean.requiresGrad {
      mean.accumulateGrad { d in
        for i in 0..<d.count { d[i] += g * mu[i] }
      }
    }
    if logVariance.requiresGrad {
      logVariance.accumulateGrad { d in
        for i in 0..<d.count { d[i] += 0.5 * g * (exp(logVar[i]) - 1) }
      }
    }
  }
  return y
}

/// The reparameterised sample `mean + exp(logVariance / 2) * noise`, with `noise` drawn from
/// N(0, 1) by the caller, so gradients reach the mean and the log-variance.
public func reparameterize(mean: Tensor, logVariance: Tensor, noise: Tensor) throws -> Tensor {
  try expectShape(logVariance, mean.shape, "reparameterize logVariance")
  try expectShape(noise, mean.shape, "reparameterize noise")
  let (mu, logVar, eps) = (mean.scalars, logVariance.scalars, noise.scalars)
  let std = logVar.map { exp(0.5 * $0) }
  let y = Tensor(shape: mean.shape, scalars: (0..<mu.count).map { mu[$0] + std[$0] * eps[$0] })
  y.record("reparameterize", inputs: [mean, logVariance]) { dy in
    let g = dy.scalars
    if mean.requiresGrad {
      mean.accumulateGrad { d in
        for i in 0..<d.count { d[i] += g[i] }
      }
    }
    if logVariance.requiresGrad {
      logVariance.accumulateGrad { d in
        for i in 0..<d.count { d[i] += g[i] * 0.5 * std[i] * eps[i] }
      }
    }
  }
  return y
}

/// The batch size of a tensor whose first axis is the batch; throws for a scalar or an empty one.
private func batchSize(_ x: Tensor, _ op: String) throws -> Int {
  guard x.rank >= 1, x.shape[0] > 0, x.count > 0 else {
    throw TensorError.invalidArgument(
      op: op, message: "expected a non-empty (N, ...) batch, got shape \(describe(shape: x.shape))"
    )
  }
  return x.shape[0]
}

/// Elements per batch member.
private func pixelsPerImage(_ x: Tensor, _ op: String) throws -> Int {
  x.count / (try batchSize(x, op))
}
