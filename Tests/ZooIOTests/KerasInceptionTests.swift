import Foundation
import Testing
import Zoo
import ZooIO
import ZooNN
import ZooTensor

/// Keras's InceptionV3: `inception_v3-keras` holds Keras's weight count, and Keras's own
/// builder at a sixteenth of its widths (`inception_v3_w16`, by `Tools/make_keras_fixtures.py
/// --inception-v3`: its numbered layer names, batch norms without scale, every weight and
/// statistic random) loads strictly through the declared name table from each of Keras's three
/// layouts and gives Keras's logits.
@Suite struct KerasInceptionTests {
  static let inceptionV3 = KerasInteropTests.fixtures.appendingPathComponent(
    "inception_v3_w16.json")

  @Test(arguments: KerasFixture.files.map(\.suffix))
  func kerasInceptionV3FileGivesKerasLogits(_ suffix: String) throws {
    let model = InceptionV3(
      classCount: 10, source: .keras, widthDivisor: 16, rng: RandomStream(seed: 3))
    try KerasInteropTests.check(
      Self.inceptionV3, suffix: suffix, model: model, names: KerasApplications.inceptionV3,
      tableInModelOrder: false)
  }

  /// Keras 3.15's `InceptionV3(weights=None)`: its count (moving statistics included, no
  /// batch-norm scales), eps 1e-3, no auxiliary classifier, and every name of the table in
  /// the model.
  @Test func kerasInceptionV3HoldsKerasWeightCount() throws {
    let entry = try ModelRegistry.entry(named: "inception_v3-keras")
    let model = entry.build(rng: RandomStream(seed: 0))
    #expect(model.kerasWeightCount == 23_851_784)
    #expect(Set(entry.kerasNames!.renames.map(\.zoo)) == model.pathsOwningParameters)
    let norms = model.namedModules().compactMap { $0.module as? BatchNorm }
    #expect(norms.count == 94 && norms.allSatisfy { $0.eps == 1e-3 && !$0.hasScale })
    #expect(model.child(at: "AuxLogits") == nil && model.child(at: "dropout") == nil)
  }

  /// The table names exactly the layers Keras 3.15's InceptionV3 has (the table in Keras's
  /// creation order, which the model's order interleaves branch by branch).
  @Test func tableNamesEveryKerasInceptionV3Layer() throws {
    let keras = try #require(KerasLayerNames.models["InceptionV3"])
    let table = KerasApplications.inceptionV3.renames.map(\.keras)
    #expect(table.count == keras.layers.count && Set(table) == Set(keras.layers))
    #expect(keras.count == 23_851_784)
  }

  /// A zoo-written file of a batch norm without scale holds what Keras's does: beta and the
  /// moving statistics (three variables in Keras 3's layout), and reads back bit for bit.
  @Test(arguments: WeightFileFormat.allCases)
  func batchNormWithoutScaleRoundTrips(_ format: WeightFileFormat) throws {
    let model = InceptionV3(
      classCount: 10, source: .keras, widthDivisor: 16, rng: RandomStream(seed: 3))
    let url = KerasInteropTests.fixtures.appendingPathComponent("inception_v3_w16.h5")
    try WeightFile.read(contentsOf: url).renamed(by: KerasApplications.inceptionV3).load(
      into: model)
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    let file = folder.file("inception.h5")
    try WeightFile.write(model, format: format, to: file)
    let read = try WeightFile.read(contentsOf: file)
    let norm = try #require(read.layers.first { $0.path == "Conv2d_1a_3x3.bn" })
    #expect(
      norm.tensorPaths.map { $0.split(separator: ".").last! } == [
        "bias", "running_mean", "running_var",
      ])
    let copy = InceptionV3(
      classCount: 10, source: .keras, widthDivisor: 16, rng: RandomStream(seed: 9))
    try read.load(into: copy)
    for (original, loaded) in zip(model.stateDict(), copy.stateDict()) {
      #expect(original.path == loaded.path && original.tensor.scalars == loaded.tensor.scalars)
    }
  }
}

extension Module {
  /// What Keras's `count_params` counts: parameters and batch-norm moving statistics.
  var kerasWeightCount: Int {
    parameterCount + namedBuffers().reduce(0) { $0 + $1.tensor.count }
  }

  /// The modules that own parameters: the layers a Keras name table must name.
  var pathsOwningParameters: Set<String> {
    Set(namedModules().filter { !$0.module.ownParameters.isEmpty }.map(\.path))
  }
}
