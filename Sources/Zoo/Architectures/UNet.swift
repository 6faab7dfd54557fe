import ZooNN
import ZooTensor

// U-Net (Ronneberger et al. 2015, "U-Net: Convolutional Networks for Biomedical Image
// Segmentation") in its common modern form: same-padded 3x3 convolutions with batch norm (so the
// output has the input's size, where the paper's valid convolutions shrink it), 2x2 max-pool
// down, 2x2 stride-2 transposed convolution up, skip concatenation, and a 1x1 output convolution.
// Three named parts, as segmentation_models.pytorch has them: `encoder`, `decoder`, `head`.

/// conv3x3-BN-ReLU twice: one level of the U.
private func doubleConv(_ input: Int, _ output: Int, rng: RandomStream) -> Sequential {
  Sequential {
    Conv2d(
      input, output, kernelSize: 3, padding: 1, bias: false,
      initializer: .kaimingNormal(fanOut: true), rng: rng)
    BatchNorm(output)
    ReLU()
    Conv2d(
      output, output, kernelSize: 3, padding: 1, bias: false,
      initializer: .kaimingNormal(fanOut: true), rng: rng)
    BatchNorm(output)
    ReLU()
  }
}

/// One step up: transposed convolution to twice the size and half the channels, then the
/// double convolution over [skip, upsampled].
final class UpStep: Module {
  let up: ConvTranspose2d
  let conv: Sequential

  init(_ input: Int, _ output: Int, rng: RandomStream) {
    up = ConvTranspose2d(input, output, kernelSize: 2, stride: 2, rng: rng)
    conv = doubleConv(2 * output, output, rng: rng)
    super.init()
    register("up", up)
    register("conv", conv)
  }

  func callAsFunction(_ x: Tensor, skip: Tensor) throws -> Tensor {
    try conv(concatChannels([skip, try up(x)]))
  }
}

/// A U-Net for segmentation: per-pixel logits of the input's height and width, with parts
/// `encoder`, `decoder` and `head`.
public final class UNet: Module {
  /// Number of down-steps.
  public let depth: Int
  /// Channels of the first level; each level down doubles them.
  public let baseWidth: Int
  /// Classes per pixel.
  public let classCount: Int
  let encoder: Sequential
  let decoder: Sequential
  let head: Conv2d

  /// `depth` down-steps; level i has `baseWidth * 2^i` channels.
  public init(
    depth: Int = 4, baseWidth: Int = 64, classCount: Int = 2, inputChannels: Int = 1,
    rng: RandomStream = .global
  ) {
    precondition(depth >= 1, "a U-Net needs at least one down-step")
    self.depth = depth
    self.baseWidth = baseWidth
    self.classCount = classCount
    let widths = (0...depth).map { baseWidth << $0 }
    encoder = Sequential(
      widths.indices.map {
        doubleConv($0 == 0 ? inputChannels : widths[$0 - 1], widths[$0], rng: rng)
      })
    decoder = Sequential(
      (0..<depth).reversed().map { UpStep(widths[$0 + 1], widths[$0], rng: rng) })
    head = Conv2d(baseWidth, classCount, kernelSize: 1, rng: rng)
    super.init()
    register("encoder", encoder)
    register("decoder", decoder)
    register("head", head)
  }

  /// Inputs must be divisible by 2^depth in both dimensions.
  public var sizeMultiple: Int { 1 << depth }

  /// Per-pixel logits (N, classCount, H, W) for images (N, C, H, W) whose sides are multiples
  /// of `sizeMultiple`.
  public override func forward(_ x: Tensor) throws -> Tensor {
    try expectImageSize(x)
    var skips: [Tensor] = []
    var out = try encoder.layers[0](x)
    for level in encoder.layers.dropFirst() {
      skips.append(out)
      out = try level(maxPool2d(out, kernelSize: 2))
    }
    for case let step as UpStep in decoder.layers {
      out = try step(out, skip: skips.removeLast())
    }
    return try head(out)
  }

  private func expectImageSize(_ x: Tensor) throws {
    guard x.rank == 4 else {
      throw TensorError.rankMismatch(op: "unet", expected: 4, actual: x.shape)
    }
    let (h, w) = (x.shape[2], x.shape[3])
    let m = sizeMultiple
    guard h % m == 0, w % m == 0, h > 0, w > 0 else {
      let padded = "\((h + m - 1) / m * m)x\((w + m - 1) / m * m)"
      throw TensorError.invalidArgument(
        op: "unet",
        message:
          "input \(h)x\(w) must be divisible by \(m) (2^\(depth) for \(depth) down-steps); pad it to \(padded)"
      )
    }
  }
}
