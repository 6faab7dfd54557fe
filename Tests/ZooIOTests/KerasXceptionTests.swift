import Foundation
import Testing
import Zoo
import ZooIO
import ZooNN
import ZooTensor

/// Keras's Xception: the registry's `xception-keras` holds Keras's weight count, and a narrow
/// Xception written by Keras itself (`xception_narrow`, by `Tools/make_keras_fixtures.py
/// --xception`: Keras's structure and layer names at small widths, every weight and batch-norm
/// statistic random) loads strictly through the declared name table from each of Keras's
/// three layouts and gives Keras's logits.
@Suite struct KerasXceptionTests {
  static let json = KerasInteropTests.fixtures.appendingPathComponent("xception_narrow.json")
  /// The fixture's widths; all eight middle blocks, so every name of the table is used.
  static let narrow = XceptionConfiguration(
    stemWidths: [4, 8], entryWidths: [8, 16, 24], middleBlocks: 8, exitWidth: 32,
    finalWidths: [48, 64])

  @Test(arguments: KerasFixture.files.map(\.suffix))
  func kerasFileGivesKerasLogits(_ suffix: String) throws {
    let model = Xception(Self.narrow, classCount: 10, rng: RandomStream(seed: 3))
    try KerasInteropTests.check(
      Self.json, suffix: suffix, model: model, names: KerasApplications.xception(Self.narrow))
  }

  /// Keras 3.15's `Xception(weights=None)` count, moving statistics included; Keras's
  /// batch-norm eps everywhere.
  @Test func holdsKerasWeightCount() throws {
    let entry = try ModelRegistry.entry(named: "xception-keras")
    let model = entry.build(rng: RandomStream(seed: 0))
    let buffers = model.namedBuffers().reduce(0) { $0 + $1.tensor.count }
    #expect(model.parameterCount + buffers == 22_910_480)
    let norms = model.namedModules().compactMap { $0.module as? BatchNorm }
    #expect(norms.count == 40 && norms.allSatisfy { $0.eps == 1e-3 })
    // The table names every layer that holds weights, each once.
    let layers = model.namedModules().filter { !$0.module.stateDict().isEmpty }
    let owners = layers.filter { !$0.module.ownParameters.isEmpty }.map(\.path)
    #expect(Set(entry.kerasNames!.renames.map(\.zoo)) == Set(owners))
  }

  @Test func smallestInputKerasAcceptsRuns() throws {
    let model = Xception(Self.narrow, classCount: 3, rng: RandomStream(seed: 1))
    model.setTraining(false)
    #expect(try model(Tensor(shape: [1, 3, 71, 71], repeating: 0.5)).shape == [1, 3])
  }
}
