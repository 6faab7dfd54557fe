import Foundation
import ZooData
import ZooNN
import ZooTensor

/// How an autoencoder's reconstruction is scored against the clean image, per image.
public enum ReconstructionLoss: String, Sendable, CaseIterable {
  /// Per-pixel binary cross-entropy of the logits against pixels in [0, 1], in nats.
  case bce
  /// Squared error of `sigmoid(logits)` against the pixels.
  case mse
}

/// The terms of one batch's loss, each averaged over the images.
public struct GenerativeLossTerms {
  /// Reconstruction plus KL (the negative ELBO of a VAE with `bce`).
  public var total: Tensor
  public var reconstruction: Tensor
  /// The KL term of a VAE; nil for a plain autoencoder.
  public var kl: Tensor?
}

/// The training objective of `model` on `inputs` (noisy ones when denoising) reconstructing
/// `targets`: a VAE draws its code by the reparameterisation with noise from `random`; a plain
/// autoencoder decodes its code.
public func generativeLoss(
  of model: ConvAutoencoder, inputs: Tensor, targets: Tensor,
  reconstruction: ReconstructionLoss = .bce, random: RandomStream
) throws -> GenerativeLossTerms {
  let (mean, logVariance) = try model.encode(inputs)
  var z = mean
  if let logVariance {
    let noise = random.withGenerator { Tensor.normal(shape: mean.shape, generator: &$0) }
    z = try reparameterize(mean: mean, logVariance: logVariance, noise: noise)
  }
  let logits = try model.decode(z)
  let error =
    reconstruction == .bce
    ? try binaryCrossEntropyPerImage(logits: logits, targets: targets)
    : try squaredErrorPerImage(sigmoid(logits), targets)
  guard let logVariance else { return GenerativeLossTerms(total: error, reconstruction: error) }
  let kl = try gaussianKLDivergence(mean: mean, logVariance: logVariance)
  return GenerativeLossTerms(total: try add(error, kl), reconstruction: error, kl: kl)
}

/// Gaussian pixel noise for a denoising autoencoder: `clamp(x + std * e, 0, 1)`, drawn from
/// `random`.
public func corrupted(_ x: Tensor, std: Float, random: RandomStream) -> Tensor {
  random.withGenerator { g in
    Tensor(shape: x.shape, scalars: x.scalars.map { min(max($0 + std * g.nextNormal(), 0), 1) })
  }
}

/// The squared reconstruction error of each image, `sum((sigmoid(logits) - x)^2)` over its
/// pixels: the anomaly score.
public func perImageSquaredError(logits: Tensor, images: Tensor) -> [Float] {
  let n = images.shape[0]
  let pixels = images.count / max(n, 1)
  return (0..<n).map { i in
    var total: Float = 0
    for k in (i * pixels)..<((i + 1) * pixels) {
      let p = 1 / (1 + exp(-logits.scalars[k]))
      total += (p - images.scalars[k]) * (p - images.scalars[k])
    }
    return total
  }
}

/// A generative model's figures on a data set, per image.
public struct GenerativeEvaluation: Sendable {
  /// Reconstruction plus KL: the negative ELBO in nats for a VAE trained with `bce`.
  public var loss: Float
  /// The reconstruction term (one sample of the code for a VAE).
  public var reconstruction: Float
  /// The KL term; 0 for a plain autoencoder.
  public var kl: Float
  /// Squared error of each image's reconstruction through the code or posterior mean, in the
  /// data's order.
  public var squaredErrors: [Float]

  /// Mean of `squaredErrors`.
  public var meanSquaredError: Float {
    squaredErrors.reduce(0, +) / Float(max(squaredErrors.count, 1))
  }

  /// Evaluates `model` in inference mode without gradients; the VAE's code samples come from
  /// `seed`, so the figures are the same every time.
  public static func evaluate(
    _ model: ConvAutoencoder, on data: some ExampleSource, reconstruction: ReconstructionLoss,
    seed: UInt64 = 0
  ) throws -> GenerativeEvaluation {
    model.setTraining(false)
    defer { model.setTraining(true) }
    let random = RandomStream(seed: seed)
    var (loss, error, kl) = (0.0, 0.0, 0.0)
    var squaredErrors: [Float] = []
    try withoutGradients {
      for batch in data.evaluationBatches.prefetched() where !batch.indices.isEmpty {
        let x = batch.inputs
        let terms = try generativeLoss(
          of: model, inputs: x, targets: x, reconstruction: reconstruction, random: random)
        let n = Double(batch.indices.count)
        loss += Double(terms.total.item) * n
        error += Double(terms.reconstruction.item) * n
        kl += Double(terms.kl?.item ?? 0) * n
        squaredErrors += perImageSquaredError(logits: try model(x), images: x)
      }
    }
    let count = Double(max(squaredErrors.count, 1))
    return GenerativeEvaluation(
      loss: Float(loss / count), reconstruction: Float(error / count), kl: Float(kl / count),
      squaredErrors: squaredErrors)
  }
}
