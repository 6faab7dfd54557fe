import Foundation
import Testing
import Zoo
import ZooIO
import ZooNN
import ZooTensor

/// Keras's InceptionResNetV2: `inception_resnet_v2-keras` holds Keras's weight count and names
/// every layer of it, and Keras's own builder at a sixteenth of its widths with two residual
/// blocks of each kind (`inception_resnet_v2_w16`, by `Tools/make_keras_fixtures.py
/// --inception-resnet-v2`: every weight and statistic random) loads strictly from each of
/// Keras's three layouts and gives Keras's logits.
@Suite struct KerasInceptionResNetTests {
  static let json = KerasInteropTests.fixtures.appendingPathComponent(
    "inception_resnet_v2_w16.json")
  static let repeats = [2, 2, 2]

  @Test(arguments: KerasFixture.files.map(\.suffix))
  func kerasInceptionResNetFileGivesKerasLogits(_ suffix: String) throws {
    let model = InceptionResNetV2(
      classCount: 10, repeats: Self.repeats, widthDivisor: 16, rng: RandomStream(seed: 3))
    try KerasInteropTests.check(
      Self.json, suffix: suffix, model: model,
      names: KerasApplications.inceptionResNetV2(repeats: Self.repeats), tableInModelOrder: false)
  }

  /// Keras 3.15's `InceptionResNetV2(weights=None)`: its count (moving statistics included, no
  /// batch-norm scales), its 449 layers with weights, eps 1e-3.
  @Test func kerasInceptionResNetV2HoldsKerasWeightsAndNames() throws {
    let keras = try #require(KerasLayerNames.models["InceptionResNetV2"])
    let entry = try ModelRegistry.entry(named: "inception_resnet_v2-keras")
    let model = entry.build(rng: RandomStream(seed: 0))
    #expect(model.kerasWeightCount == 55_873_736 && keras.count == 55_873_736)
    let table = try #require(entry.kerasNames).renames
    #expect(table.count == keras.layers.count && Set(table.map(\.keras)) == Set(keras.layers))
    #expect(Set(table.map(\.zoo)) == model.pathsOwningParameters)
    let norms = model.namedModules().compactMap { $0.module as? BatchNorm }
    #expect(norms.count == 204 && norms.allSatisfy { $0.eps == 1e-3 && !$0.hasScale })
  }
}
