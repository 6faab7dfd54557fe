import ZooNN
import ZooTensor

/// An autoencoder's or a VAE's encoder as a backbone under the head contract: the features are
/// the code (the posterior mean of a VAE), the head `fc` a linear layer on them. The encoder
/// keeps its paths (`encoder.conv1.weight`, ...), so `--freeze backbone` freezes exactly it.
public final class EncoderClassifier: Module, Classifier {
  public let encoder: ConvEncoder
  public private(set) var classCount: Int
  public let featureCount: Int

  /// Wraps the encoder of `autoencoder` (the same tensors, not a copy) with a fresh head.
  public init(_ autoencoder: ConvAutoencoder, classCount: Int, rng: RandomStream = .global) {
    encoder = autoencoder.encoder
    featureCount = autoencoder.latentSize
    self.classCount = classCount
    super.init()
    register("encoder", encoder)
    register(
      "fc", outputLayer(featureCount: featureCount, classCount: classCount, rng: rng))
  }

  public var classifierPath: String { "fc" }

  public func features(_ x: Tensor) throws -> Tensor {
    guard x.rank == 4, x.shape[2] == ConvAutoencoder.imageSize,
      x.shape[3] == ConvAutoencoder.imageSize
    else {
      throw TensorError.invalidArgument(
        op: "encoder", message: "expected (N, C, 28, 28) images, got \(describe(shape: x.shape))")
    }
    return try encoder(x)
  }

  public func replaceClassifier(with head: Module, classCount: Int) {
    register("fc", head)
    self.classCount = classCount
  }

  public override func forward(_ x: Tensor) throws -> Tensor {
    try logits(x)
  }
}
