import ZooNN
import ZooTensor

/// Which layer of an autoencoder's or a VAE's encoder a classifier head reads.
public enum EncoderFeatures: String, CaseIterable, Sendable {
  /// The code (the posterior mean of a VAE): L values.
  case code
  /// The convolutional map the dense layers read, flattened: 32x7x7 = 1,568 values. It keeps
  /// what the bottleneck drops for reconstruction, so a linear head on it separates classes
  /// better once a few labelled images per class are available.
  case map

  /// Width of the features for a model with a code of `latentSize` values.
  public func width(latentSize: Int) -> Int {
    switch self {
    case .code: return latentSize
    case .map: return ConvAutoencoder.mapShape.reduce(1, *)
    }
  }
}

/// An autoencoder's or a VAE's encoder as a backbone under the head contract: the features are
/// the code (the posterior mean of a VAE) or the convolutional map before it, the head `fc` a
/// linear layer on them. The encoder keeps its paths (`encoder.conv1.weight`, ...), so
/// `--freeze backbone` freezes exactly it.
public final class EncoderClassifier: Module, Classifier {
  public let encoder: ConvEncoder
  public private(set) var classCount: Int
  public let featureCount: Int
  /// The layer the head reads.
  public let featureLayer: EncoderFeatures

  /// Wraps the encoder of `autoencoder` (the same tensors, not a copy) with a fresh head on
  /// `features`.
  public init(
    _ autoencoder: ConvAutoencoder, classCount: Int, features: EncoderFeatures = .code,
    rng: RandomStream = .global
  ) {
    encoder = autoencoder.encoder
    featureLayer = features
    featureCount = features.width(latentSize: autoencoder.latentSize)
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
    switch featureLayer {
    case .code: return try encoder(x)
    case .map: return try encoder.convolutionalMap(x)
    }
  }

  public func replaceClassifier(with head: Module, classCount: Int) {
    register("fc", head)
    self.classCount = classCount
  }

  public override func forward(_ x: Tensor) throws -> Tensor {
    try logits(x)
  }
}
