import Foundation
import Testing
import Zoo
import ZooIO
import ZooNN
import ZooTensor

/// Keras's EfficientNetB0: `efficientnet_b0-keras` holds Keras's weight count and names every
/// layer of it, and Keras's own EfficientNet builder at width 0.1 and depth 0.5
/// (`efficientnet_b0_keras_w010`, by `Tools/make_keras_fixtures.py --efficientnet-b0`: its
/// input normalization, 'same' strided convolutions on even and odd sizes, every weight and
/// statistic random) loads strictly from each of Keras's three layouts, the normalization's
/// int32 count included, and gives Keras's logits.
@Suite struct KerasEfficientNetTests {
  static let json = KerasInteropTests.fixtures.appendingPathComponent(
    "efficientnet_b0_keras_w010.json")
  static let narrow = EfficientNetConfiguration(
    widthMultiplier: 0.1, depthMultiplier: 0.5, dropout: 0.2
  ).keras

  @Test(arguments: KerasFixture.files.map(\.suffix))
  func kerasEfficientNetFileGivesKerasLogits(_ suffix: String) throws {
    let model = EfficientNet(Self.narrow, classCount: 10, rng: RandomStream(seed: 3))
    try KerasInteropTests.check(
      Self.json, suffix: suffix, model: model, names: KerasApplications.efficientNet(Self.narrow))
    let normalization = try #require(model.child(at: "normalization") as? InputNormalization)
    #expect(normalization.count.scalars == [0] && normalization.mean.scalars != [0, 0, 0])
  }

  /// Keras 3.15's `EfficientNetB0(weights=None)`: its count (moving statistics and the
  /// normalization's mean, variance and count included), its layer names in its order, eps
  /// 1e-3.
  @Test func kerasEfficientNetB0HoldsKerasWeightsAndNames() throws {
    let keras = try #require(KerasLayerNames.models["EfficientNetB0"])
    let entry = try ModelRegistry.entry(named: "efficientnet_b0-keras")
    let model = entry.build(rng: RandomStream(seed: 0))
    #expect(model.kerasWeightCount == 5_330_571 && keras.count == 5_330_571)
    let table = try #require(entry.kerasNames)
    #expect(table.renames.map(\.keras) == keras.layers)
    let holders = model.namedModules().filter { !$0.module.ownBuffers.isEmpty }.map(\.path)
    #expect(Set(table.renames.map(\.zoo)) == model.pathsOwningParameters.union(holders))
    let norms = model.namedModules().compactMap { $0.module as? BatchNorm }
    #expect(norms.count == 49 && norms.allSatisfy { $0.eps == 1e-3 })
  }

  /// Writes the fixture's network with Keras's weights in both Keras formats, with the zoo's
  /// logits, for `Tools/check_keras_export.py` to load into Keras's own EfficientNet (whose
  /// model order is the zoo's).
  @Test(
    .enabled(
      if: KerasInteropTests.exportFolder != nil,
      "set ZOO_IO_KERAS_EXPORT to export files for Keras"))
  func exportForKeras() throws {
    let model = EfficientNet(Self.narrow, classCount: 10, rng: RandomStream(seed: 3))
    let url = KerasInteropTests.fixtures.appendingPathComponent("efficientnet_b0_keras_w010.h5")
    try WeightFile.read(contentsOf: url).renamed(by: KerasApplications.efficientNet(Self.narrow))
      .load(into: model)
    try KerasInteropTests.export([("efficientnet_b0_keras_w010", model, [2, 3, 70, 70])])
  }

  /// The zoo writes the count as Keras does, an int32 scalar, and reads it back.
  @Test(arguments: WeightFileFormat.allCases)
  func normalizationCountIsAnInt32Scalar(_ format: WeightFileFormat) throws {
    let model = EfficientNet(Self.narrow, classCount: 10, rng: RandomStream(seed: 3))
    let normalization = try #require(model.child(at: "normalization") as? InputNormalization)
    normalization.count.scalars = [1_281_167]
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    let url = folder.file("efficientnet.h5")
    try WeightFile.write(model, format: format, to: url)
    let file = try HDF5File.open(url)
    let path =
      format == .keras ? "normalization/normalization/count:0" : "layers/normalization/vars/2"
    let info = try file.root.datasetInfo(path)
    try file.close()
    #expect(info.shape == [] && info.elementType == .integer(bits: 32, signed: true))
    let copy = EfficientNet(Self.narrow, classCount: 10, rng: RandomStream(seed: 4))
    try WeightFile.load(contentsOf: url, into: copy)
    #expect((copy.child(at: "normalization") as? InputNormalization)?.count.scalars == [1_281_167])
  }
}
