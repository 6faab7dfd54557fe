import Testing
import Zoo
import ZooNN
import ZooTensor

@Suite struct ResNetUNetTests {
  @Test(arguments: [("unet-resnet18", 40), ("unet-resnet34", 72)])
  func logitsHaveTheInputSizeAndSmpsParameterNames(_ name: String, encoderLayers: Int) throws {
    let entry = try ModelRegistry.entry(named: name)
    let model = entry.build(classCount: 4, inputChannels: 1, rng: RandomStream(seed: 0))
    var generator = SeededGenerator(seed: 2)
    let x = Tensor.normal(shape: [2, 1, 64, 96], generator: &generator)
    #expect(try model(x).shape == [2, 4, 64, 96])
    let paths = Set(model.namedParameters().map(\.path))
    for path in [
      "encoder.conv1.weight", "encoder.layer4.1.bn2.bias", "decoder.blocks.0.conv1.0.weight",
      "decoder.blocks.4.conv2.1.weight", "segmentation_head.0.weight", "segmentation_head.0.bias",
    ] {
      #expect(paths.contains(path), "\(path)")
    }
    #expect(!paths.contains { $0.hasPrefix("encoder.fc") })
    let encoder = model.namedModules().filter {
      $0.path.hasPrefix("encoder.") && !$0.module.ownParameters.isEmpty
    }
    #expect(encoder.count == encoderLayers)
  }

  @Test func aSizeNotDivisibleBy32SaysHowToPad() throws {
    let model = ResNetUNet(encoder: .resnet18, classCount: 2, inputChannels: 1)
    #expect(
      throws: TensorError.invalidArgument(
        op: "unet",
        message:
          "input 100x64 must be divisible by 32 (a ResNet encoder halves it five times); pad it to 128x64"
      )
    ) { try model(Tensor(shape: [1, 1, 100, 64], scalars: .init(repeating: 0, count: 6400))) }
  }

  /// segmentation_models.pytorch's `Unet("resnet18", classes=1)` has 14,328,209 parameters and
  /// `Unet("resnet34", classes=1)` 24,436,369; a second class adds 16 * 9 + 1 to the head.
  @Test func parameterCountsEqualSegmentationModelsPytorch() {
    #expect(ResNetUNet(encoder: .resnet18, classCount: 1).parameterCount == 14_328_209)
    #expect(ResNetUNet(encoder: .resnet34, classCount: 1).parameterCount == 24_436_369)
  }
}
