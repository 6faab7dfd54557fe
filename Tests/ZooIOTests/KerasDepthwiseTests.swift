import Foundation
import Testing
import ZooIO
import ZooNN
import ZooTensor

/// Keras's DepthwiseConv2D: the files Keras wrote of depthwise_small
/// (`Tools/make_keras_fixtures.py --depthwise`: a multiplier of 2 with a bias, then a
/// multiplier of 1 without) load into the zoo's depthwise convolutions in all three layouts and
/// give Keras's logits; the zoo writes them back as Keras writes them.
@Suite struct KerasDepthwiseTests {
  static let json = KerasInteropTests.fixtures.appendingPathComponent("depthwise_small.json")

  static let names = KerasNames(
    source: "depthwise_small",
    [
      .init("conv", "conv"), .init("dw1", "depthwise1"), .init("dw1_bn", "norm"),
      .init("dw2", "depthwise2"), .init("predictions", "fc"),
    ])

  /// The fixture's network with `channels` after the first convolution (the fixture has 4;
  /// its first depthwise convolution makes 8 of them either way).
  static func model(channels: Int = 4, seed: UInt64 = 3) -> NamedSequence {
    let rng = RandomStream(seed: seed)
    return NamedSequence([
      ("conv", Conv2d(3, channels, kernelSize: 3, padding: 1, rng: rng)),
      ("depthwise1", Conv2d(channels, 8, kernelSize: 3, padding: 1, groups: channels, rng: rng)),
      ("norm", BatchNorm(8, eps: 1e-3)),
      ("relu", ReLU()),
      ("depthwise2", Conv2d(8, 8, kernelSize: 3, padding: 1, groups: 8, bias: false, rng: rng)),
      ("pool", AdaptiveAvgPool2d(1, 1)),
      ("flatten", Flatten()),
      ("fc", Linear(8, 10, rng: rng)),
    ])
  }

  static func url(_ suffix: String) -> URL {
    KerasInteropTests.fixtures.appendingPathComponent("depthwise_small" + suffix)
  }

  @Test(arguments: KerasFixture.files.map(\.suffix))
  func kerasDepthwiseFileGivesKerasLogits(_ suffix: String) throws {
    try KerasInteropTests.check(Self.json, suffix: suffix, model: Self.model(), names: Self.names)
    // Keras 3 names the depthwise kernel `kernel`: only its class key tells the layer apart.
    let read = try WeightFile.read(contentsOf: Self.url(suffix))
    let dw1 = try #require(read.layers.first { $0.fileName == "dw1" })
    #expect(dw1.kind == (suffix == ".weights.h5" ? .depthwiseConv2d : .conv2d))
    #expect(dw1.kernelShape == [3, 3, 4, 2])
  }

  /// 8 input channels with a multiplier of 1 hold as many values as the file's 4 with a
  /// multiplier of 2, in the zoo's (8, 1, 3, 3) as well: only Keras's shape tells them apart.
  @Test(arguments: KerasFixture.files.map(\.suffix))
  func depthwiseKernelOfOtherChannelsNamesTheLayerAndBothShapes(_ suffix: String) throws {
    let weights = try WeightFile.read(contentsOf: Self.url(suffix)).renamed(by: Self.names)
    let model = Self.model(channels: 8)
    let before = snapshot(model)
    #expect(
      throws: WeightFileError.depthwiseKernelMismatch(
        layer: "depthwise1 (layer 'dw1' in the file)", expected: [3, 3, 8, 1],
        found: [3, 3, 4, 2])
    ) { try weights.load(into: model) }
    #expect(unchanged(model, since: before))
  }

  static func withKerasWeights() throws -> NamedSequence {
    let model = Self.model(seed: 8)
    try WeightFile.read(contentsOf: url(".h5")).renamed(by: names).load(into: model)
    return model
  }

  /// The zoo writes a depthwise layer as Keras does: (kh, kw, in, multiplier) under
  /// `depthwise_conv2d` keys in Keras 3's layout, with Keras's values bit for bit.
  @Test func keras3ExportHoldsWhatKerasWrote() throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    let paths = try KerasInteropTests.expectKeras3Export(
      of: try Self.withKerasWeights(), to: folder.file("depthwise.weights.h5"),
      as: "depthwise_small.weights.h5")
    #expect(paths.contains("layers/depthwise_conv2d_1/vars/0"))
  }

  /// The legacy export names the kernel `depthwise_kernel`, as Keras 2 did, records the kind,
  /// and reads back bit for bit.
  @Test(arguments: WeightFileFormat.allCases)
  func depthwiseWeightsRoundTrip(_ format: WeightFileFormat) throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    let original = try Self.withKerasWeights()
    let url = folder.file(format == .keras ? "depthwise.h5" : "depthwise.weights.h5")
    try WeightFile.write(original, format: format, to: url)
    let read = try WeightFile.read(contentsOf: url)
    let depthwise = read.layers.filter { $0.kind == .depthwiseConv2d }.map(\.path)
    #expect(depthwise == ["depthwise1", "depthwise2"])
    #expect(read.layers.allSatisfy { $0.kindIsRecorded })
    if format == .keras {
      let kernel = try HDF5File.open(url).root.readFloats(
        "depthwise1/depthwise1/depthwise_kernel:0")
      #expect(kernel.info.shape == [3, 3, 4, 2])
    }
    let copy = Self.model(seed: 9)
    try read.load(into: copy)
    #expect(firstDifference(original, copy) == nil)
  }

  /// Writes depthwise_small with Keras's weights in both Keras formats, with the zoo's logits,
  /// for `Tools/check_keras_export.py` to load into Keras.
  @Test(
    .enabled(
      if: KerasInteropTests.exportFolder != nil,
      "set ZOO_IO_KERAS_EXPORT to export files for Keras"))
  func exportForKeras() throws {
    try KerasInteropTests.export([("depthwise_small", try Self.withKerasWeights(), [2, 3, 32, 32])])
  }
}
