import ArgumentParser
import Foundation
import Zoo
import ZooData
import ZooNN
import ZooTensor

/// The options of `zoo train` for an autoencoder or a VAE.
struct GenerativeArguments: ParsableArguments {
  @Option(help: "Autoencoder and VAE: width of the latent code (2 for a manifold plot).")
  var latent = 16

  @Option(
    help:
      "Autoencoder and VAE: reconstruction loss per image: \(ReconstructionChoice.allValueStrings.joined(separator: ", "))."
  )
  var reconstruction: ReconstructionChoice = .bce

  @Flag(
    help:
      "Autoencoder: train to reconstruct clean images from noisy ones (Gaussian noise of std \(GenerativeArguments.noiseStd), clamped to [0, 1])."
  )
  var denoise = false

  static let noiseStd: Float = 0.3

  func validate() throws {
    guard latent >= 1 else { throw ValidationError("--latent must be at least 1, got \(latent)") }
  }

  /// The settings a resumed generative run must share with its checkpoint.
  var settings: [String: String] {
    ["latent": "\(latent)", "reconstruction": reconstruction.rawValue, "denoise": "\(denoise)"]
  }

  /// `16-unit latent code, loss bce` for the first line of a run.
  func describe(_ model: Module) -> String {
    "\(latent)-unit latent code, reconstruction \(reconstruction.rawValue)"
      + (denoise ? ", denoising (noise std \(Self.noiseStd))" : "")
  }

  /// The loss of one batch: the negative ELBO of a VAE, the reconstruction error of an
  /// autoencoder (from corrupted inputs when denoising); noise is drawn from `random`, which
  /// checkpoints save, so a resumed run draws the same noise.
  func objective(_ model: ConvAutoencoder, random: RandomStream) -> (Batch) throws -> (
    loss: Tensor, correct: Int
  ) {
    let (loss, noisy) = (reconstruction.loss, denoise)
    return { batch in
      let clean = batch.inputs
      let inputs = noisy ? corrupted(clean, std: Self.noiseStd, random: random) : clean
      let terms = try generativeLoss(
        of: model, inputs: inputs, targets: clean, reconstruction: loss, random: random)
      return (terms.total, 0)
    }
  }
}

enum ReconstructionChoice: String, ExpressibleByArgument, CaseIterable {
  case bce, mse

  var loss: ReconstructionLoss { ReconstructionLoss(rawValue: rawValue)! }
}

extension EpochFigures {
  /// A generative model's held-out figures, as its model card records them.
  var generativeMetrics: [String: Double] {
    [
      "loss": Double(validationLoss), "reconstruction": Double(validationReconstruction ?? 0),
      "kl": Double(validationKL ?? 0),
    ]
  }
}
