import ZooNN
import ZooTensor

// A U-Net whose encoder is a zoo ResNet, as segmentation_models.pytorch builds its `Unet`
// (Iakubovskii, github.com/qubvel/segmentation_models.pytorch) with its default decoder:
// the stem's ReLU output (1/2 size) and layer1..layer4 (1/4 ... 1/32) are the encoder's
// features; five decoder blocks each upsample by 2 (nearest), concatenate the skip feature of
// that size (none for the last), and apply conv3x3-BN-ReLU twice, with 256, 128, 64, 32, 16
// channels; a 3x3 convolution gives the class logits at the input size. Parameter paths are
// smp's (`encoder.layer1.0.conv1.weight`, `decoder.blocks.0.conv1.0.weight`,
// `segmentation_head.0.weight`), and the encoder's are torchvision's under `encoder.`, so a
// zoo or torchvision ResNet's weights load into it (without `fc`).

/// One smp decoder block: upsample, concatenate the skip, two conv3x3-BN-ReLU.
final class UNetDecoderBlock: Module {
  let conv1: Sequential
  let conv2: Sequential

  init(_ input: Int, skip: Int, _ output: Int, rng: RandomStream) {
    func convBNReLU(_ i: Int, _ o: Int) -> Sequential {
      Sequential {
        Conv2d(
          i, o, kernelSize: 3, padding: 1, bias: false,
          initializer: .kaimingNormal(fanOut: true), rng: rng)
        BatchNorm(o)
        ReLU()
      }
    }
    conv1 = convBNReLU(input + skip, output)
    conv2 = convBNReLU(output, output)
    super.init()
    register("conv1", conv1)
    register("conv2", conv2)
  }

  func callAsFunction(_ x: Tensor, skip: Tensor?) throws -> Tensor {
    var out = try upsampleNearest(x, scale: 2)
    if let skip { out = try concatChannels([out, skip]) }
    return try conv2(conv1(out))
  }
}

public final class ResNetUNet: Module {
  /// The ResNet without its classifier (`fc` is an identity).
  public let encoder: ResNet
  let blocks: Sequential
  let head: Sequential
  public let classCount: Int

  /// smp's default decoder widths.
  public static let decoderWidths = [256, 128, 64, 32, 16]

  /// `configuration` must have the ImageNet stem (a stride-2 convolution and a max-pool) and
  /// four stages, as resnet18 ... resnet152 do.
  public init(
    encoder configuration: ResNetConfiguration, classCount: Int = 2, inputChannels: Int = 3,
    rng: RandomStream = .global
  ) {
    precondition(
      configuration.stem == .imageNet && configuration.widths.count == 4,
      "a ResNet encoder needs the ImageNet stem and four stages")
    encoder = ResNet(configuration, classCount: 0, inputChannels: inputChannels, rng: rng)
    self.classCount = classCount
    // Feature widths at 1/2 (stem), 1/4, 1/8, 1/16, 1/32.
    let features =
      [configuration.widths[0]] + configuration.widths.map { $0 * configuration.expansion }
    let skips = [features[3], features[2], features[1], features[0], 0]
    var input = features[4]
    var blocks: [Module] = []
    for (width, skip) in zip(Self.decoderWidths, skips) {
      blocks.append(UNetDecoderBlock(input, skip: skip, width, rng: rng))
      input = width
    }
    self.blocks = Sequential(blocks)
    head = Sequential([Conv2d(input, classCount, kernelSize: 3, padding: 1, rng: rng)])
    super.init()
    register("encoder", encoder)
    let decoder = Module()
    decoder.register("blocks", self.blocks)
    register("decoder", decoder)
    register("segmentation_head", head)
  }

  /// Inputs must be divisible by 32 in both dimensions.
  public var sizeMultiple: Int { 32 }

  public override func forward(_ x: Tensor) throws -> Tensor {
    guard x.rank == 4 else {
      throw TensorError.rankMismatch(op: "unet", expected: 4, actual: x.shape)
    }
    let (h, w) = (x.shape[2], x.shape[3])
    guard h > 0, w > 0, h % 32 == 0, w % 32 == 0 else {
      throw TensorError.invalidArgument(
        op: "unet",
        message:
          "input \(h)x\(w) must be divisible by 32 (a ResNet encoder halves it five times); pad it to \((h + 31) / 32 * 32)x\((w + 31) / 32 * 32)"
      )
    }
    // The stem's output before the max-pool is the first skip.
    let pool = encoder.stem.firstIndex { $0.0 == "maxpool" } ?? encoder.stem.count
    let stem = encoder.stem.map(\.1)
    var out = try runFoldingBatchNorm(Array(stem[..<pool]), x)
    var skips = [out]
    out = try runFoldingBatchNorm(Array(stem[pool...]), out)
    for stage in encoder.stages {
      out = try stage(out)
      skips.append(out)
    }
    skips.removeLast()  // layer4 is the decoder's input, not a skip
    for case let block as UNetDecoderBlock in blocks.layers {
      out = try block(out, skip: skips.popLast())
    }
    return try head(out)
  }
}
