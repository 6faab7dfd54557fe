import Foundation
import Testing
import ZooIO
import ZooNN
import ZooTensor

/// Keras's SeparableConv2D in weight files: a file Keras wrote (`separable_small`, by
/// `Tools/make_keras_fixtures.py --separable`: depth multipliers 2 and 3, with and without
/// bias) gives Keras's logits from each of the three layouts, the zoo writes Keras's datasets,
/// and kernels that do not fit each other are refused naming the layer and both shapes.
@Suite struct KerasSeparableConvTests {
  static let json = KerasInteropTests.fixtures.appendingPathComponent("separable_small.json")
  static let names = KerasNames(
    source: "separable_small",
    [.init("sep1", "sep1"), .init("sep2", "sep2"), .init("predictions", "predictions")])

  /// The fixture's network: Keras's layer names as module paths.
  static func model(seed: UInt64 = 3) -> NamedSequence {
    let rng = RandomStream(seed: seed)
    return NamedSequence([
      ("sep1", SeparableConv2d(3, 4, kernelSize: 3, padding: .same, depthMultiplier: 2, rng: rng)),
      (
        "sep2",
        SeparableConv2d(
          4, 5, kernelSize: 3, stride: 2, padding: .same, depthMultiplier: 3, bias: false,
          rng: rng)
      ),
      ("avg_pool", AdaptiveAvgPool2d(1, 1)), ("flatten", Flatten()),
      ("predictions", Linear(5, 3, rng: rng)),
    ])
  }

  @Test(arguments: KerasFixture.files.map(\.suffix))
  func kerasFileGivesKerasLogits(_ suffix: String) throws {
    try KerasInteropTests.check(Self.json, suffix: suffix, model: Self.model(), names: Self.names)
  }

  /// The zoo's two layouts hold the datasets Keras wrote, under Keras's shapes and keys.
  @Test func zooExportHoldsWhatKerasWrote() throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    let model = Self.model()
    let fixtures = KerasInteropTests.fixtures
    let keras3 = fixtures.appendingPathComponent("separable_small.weights.h5")
    try WeightFile.read(contentsOf: keras3).renamed(by: Self.names).load(into: model)
    try WeightFile.write(model, format: .keras3, to: folder.file("zoo.weights.h5"))
    try WeightFile.write(model, format: .keras, to: folder.file("zoo.h5"))
    let zoo3 = try HDF5File.open(folder.file("zoo.weights.h5"))
    let keras = try HDF5File.open(keras3)
    let paths = try keras.root.datasetPaths().sorted()
    #expect(paths.count == 7)
    #expect(try zoo3.root.datasetPaths().sorted() == paths)
    for path in paths {
      #expect(
        try zoo3.root.readFloats(path).values == keras.root.readFloats(path).values, "\(path)")
    }
    let zoo = try HDF5File.open(folder.file("zoo.h5"))
    let legacy = try HDF5File.open(fixtures.appendingPathComponent("separable_small.h5"))
    for weight in ["depthwise_kernel", "pointwise_kernel", "bias"] {
      let expected = try legacy.root.readFloats("sep1/sep1/\(weight)")
      let written = try zoo.root.readFloats("sep1/sep1/\(weight):0")
      #expect(written.info.shape == expected.info.shape, "\(weight)")
      #expect(written.values == expected.values, "\(weight)")
    }
    let copy = Self.model(seed: 9)
    try WeightFile.load(contentsOf: folder.file("zoo.h5"), into: copy)
    #expect(firstDifference(model, copy) == nil)
  }

  @Test func pointwiseKernelThatDoesNotReadTheDepthwiseOutputsIsRefused() throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    let url = folder.file("mixed.weights.h5")
    let file = try HDF5File.create(url)
    let vars = "layers/separable_conv2d/vars"
    try file.root.createDataset(
      "\(vars)/0", shape: [3, 3, 4, 2], floats: .init(repeating: 1, count: 72))
    try file.root.createDataset(
      "\(vars)/1", shape: [1, 1, 6, 5], floats: .init(repeating: 1, count: 30))
    try file.root.group(vars).setAttribute(
      "name", strings: ["block2_sepconv1"], scalar: true, variableLength: true)
    try file.close()
    #expect(
      throws: WeightFileError.separableKernelMismatch(
        layer: "block2_sepconv1", depthwise: [3, 3, 4, 2], pointwise: [1, 1, 6, 5])
    ) { try WeightFile.read(contentsOf: url) }
  }

  @Test func otherMultiplierNamesTheLayerAndBothShapes() throws {
    let url = KerasInteropTests.fixtures.appendingPathComponent("separable_small.h5")
    let weights = try WeightFile.read(contentsOf: url).renamed(by: Self.names)
    let model = NamedSequence([
      ("sep1", SeparableConv2d(3, 4, kernelSize: 3, padding: .same, depthMultiplier: 1)),
      ("sep2", SeparableConv2d(4, 5, kernelSize: 3, depthMultiplier: 3, bias: false)),
      ("predictions", Linear(5, 3)),
    ])
    #expect(
      throws: WeightFileError.shapeMismatch(
        path: "sep1.depthwise_weight", expected: [3, 1, 3, 3], found: [3, 2, 3, 3])
    ) { try weights.load(into: model) }
  }
}
