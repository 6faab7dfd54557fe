import ZooIO
import ZooNN
import ZooTensor

// A convolutional autoencoder and a variational autoencoder (Kingma & Welling 2014,
// "Auto-Encoding Variational Bayes") for 28x28 images, as the course draws them: two stride-2
// 4x4 convolutions down to a 32x7x7 map, dense layers to the latent code (the VAE: its mean and
// log-variance), and the mirror image back up through two stride-2 transposed convolutions to
// per-pixel logits. Pixels are in [0, 1] (no normalisation): the logits are Bernoulli
// parameters, so the per-pixel binary cross-entropy is the reconstruction term in nats.

/// Whether the code is a point (an autoencoder) or a Gaussian (a VAE).
public enum AutoencoderKind: String, Sendable {
  /// Deterministic code; trained on reconstruction alone (from noisy inputs when denoising).
  case plain
  /// Mean and log-variance of a Gaussian posterior; trained on the negative ELBO.
  case variational
}

/// Images to the latent code: `conv1`, `conv2`, then `latent` (the code, or the posterior's
/// mean) and, for a VAE, `log_var`.
public final class ConvEncoder: Module {
  let conv1: Conv2d
  let conv2: Conv2d
  let latent: Linear
  let logVariance: Linear?

  init(kind: AutoencoderKind, latentSize: Int, inputChannels: Int, rng: RandomStream) {
    conv1 = Conv2d(inputChannels, 16, kernelSize: 4, stride: 2, padding: 1, rng: rng)
    conv2 = Conv2d(16, 32, kernelSize: 4, stride: 2, padding: 1, rng: rng)
    latent = Linear(ConvAutoencoder.mapShape.reduce(1, *), latentSize, rng: rng)
    logVariance =
      kind == .variational
      ? Linear(ConvAutoencoder.mapShape.reduce(1, *), latentSize, rng: rng) : nil
    super.init()
    register("conv1", conv1)
    register("conv2", conv2)
    register("latent", latent)
    if let logVariance { register("log_var", logVariance) }
  }

  /// The code or posterior mean (N, L), and the log-variance (N, L) of a VAE.
  func encode(_ x: Tensor) throws -> (mean: Tensor, logVariance: Tensor?) {
    let map = try convolutionalMap(x)
    return (try latent(map), try logVariance?(map))
  }

  /// The 32x7x7 map the dense layers read, flattened (N, 1,568) in CHW order.
  func convolutionalMap(_ x: Tensor) throws -> Tensor {
    try relu(conv2(relu(conv1(x)))).flattened()
  }

  /// The code or posterior mean, which a classifier head reads.
  public override func forward(_ x: Tensor) throws -> Tensor {
    try encode(x).mean
  }
}

/// Latent codes to per-pixel logits: `fc` to a 32x7x7 map, `deconv1`, `deconv2`.
public final class ConvDecoder: Module {
  let fc: Linear
  let deconv1: ConvTranspose2d
  let deconv2: ConvTranspose2d

  init(latentSize: Int, outputChannels: Int, rng: RandomStream) {
    fc = Linear(latentSize, ConvAutoencoder.mapShape.reduce(1, *), rng: rng)
    deconv1 = ConvTranspose2d(16 * 2, 16, kernelSize: 4, stride: 2, padding: 1, rng: rng)
    deconv2 = ConvTranspose2d(16, outputChannels, kernelSize: 4, stride: 2, padding: 1, rng: rng)
    super.init()
    register("fc", fc)
    register("deconv1", deconv1)
    register("deconv2", deconv2)
  }

  /// Logits (N, C, 28, 28) for codes (N, L).
  public override func forward(_ z: Tensor) throws -> Tensor {
    let map = try relu(fc(z)).reshaped([z.shape[0]] + ConvAutoencoder.mapShape)
    return try deconv2(relu(deconv1(map)))
  }
}

/// An autoencoder or a VAE with parts `encoder` and `decoder`. `forward` reconstructs through
/// the code or the posterior mean (no sampling) and returns logits.
public final class ConvAutoencoder: Module, FlattenedInputs {
  /// The map between the convolutions and the dense layers, (channels, height, width).
  static let mapShape = [32, 7, 7]
  /// Height and width of the images it takes.
  public static let imageSize = 28

  public let kind: AutoencoderKind
  /// Width of the latent code.
  public let latentSize: Int
  public let encoder: ConvEncoder
  public let decoder: ConvDecoder

  public init(
    _ kind: AutoencoderKind, latentSize: Int = 16, inputChannels: Int = 1,
    rng: RandomStream = .global
  ) {
    self.kind = kind
    self.latentSize = latentSize
    encoder = ConvEncoder(
      kind: kind, latentSize: latentSize, inputChannels: inputChannels, rng: rng)
    decoder = ConvDecoder(latentSize: latentSize, outputChannels: inputChannels, rng: rng)
    super.init()
    register("encoder", encoder)
    register("decoder", decoder)
  }

  /// The code or posterior mean, and the log-variance of a VAE; throws for an image that is not
  /// 28x28.
  public func encode(_ x: Tensor) throws -> (mean: Tensor, logVariance: Tensor?) {
    guard x.rank == 4, x.shape[2] == Self.imageSize, x.shape[3] == Self.imageSize else {
      throw TensorError.invalidArgument(
        op: kind == .variational ? "vae" : "autoencoder",
        message: "expected (N, C, 28, 28) images, got \(describe(shape: x.shape))")
    }
    return try encoder.encode(x)
  }

  /// Per-pixel logits for latent codes (N, latentSize).
  public func decode(_ z: Tensor) throws -> Tensor {
    guard z.rank == 2, z.shape[1] == latentSize else {
      throw TensorError.invalidArgument(
        op: "decoder", message: "expected (N, \(latentSize)) codes, got \(describe(shape: z.shape))"
      )
    }
    return try decoder(z)
  }

  /// Reconstruction logits through the code or the posterior mean.
  public override func forward(_ x: Tensor) throws -> Tensor {
    try decode(try encode(x).mean)
  }

  public var flattenedInputs: [String: [Int]] {
    var inputs = ["encoder.latent": Self.mapShape]
    if kind == .variational { inputs["encoder.log_var"] = Self.mapShape }
    return inputs
  }
}
