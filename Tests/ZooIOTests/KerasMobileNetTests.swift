import Foundation
import Testing
import Zoo
import ZooIO
import ZooNN
import ZooTensor

/// keras.applications' mobile networks as Keras 3.15 wrote them (`Tools/make_keras_fixtures.py
/// --mobilenet`: MobileNet at alpha 0.125; `--mobilenet-v2`: MobileNetV2 at alpha 0.1; both
/// 64x64 with 10 classes, every bias and batch-norm tensor drawn at random) load strictly
/// through the declared name tables in all three formats and give Keras's logits.
@Suite struct KerasMobileNetTests {
  static let mobilenet = KerasInteropTests.fixtures.appendingPathComponent("mobilenet_a0125.json")

  static func narrowMobileNet(seed: UInt64 = 3) -> MobileNet {
    MobileNet(alpha: 0.125, classCount: 10, rng: RandomStream(seed: seed))
  }

  /// A fixture's network in the zoo and the table of its Keras names.
  static func zooModel(of fixture: String) -> (model: Module, names: KerasNames)? {
    switch fixture {
    case "mobilenet_a0125": return (narrowMobileNet(), KerasApplications.mobilenet)
    case "mobilenet_v2_a010":
      let model = MobileNetV2(
        widthMultiplier: 0.1, classCount: 10, source: .keras, rng: RandomStream(seed: 3))
      return (model, KerasApplications.mobilenetV2)
    default: return nil
    }
  }

  static let fixtureNames = ["mobilenet_a0125", "mobilenet_v2_a010"]

  @Test(arguments: fixtureNames, KerasFixture.files.map(\.suffix))
  func kerasMobileFileGivesKerasLogits(_ name: String, _ suffix: String) throws {
    let zoo = try #require(Self.zooModel(of: name))
    try KerasInteropTests.check(
      KerasInteropTests.fixtures.appendingPathComponent(name + ".json"), suffix: suffix,
      model: zoo.model, names: zoo.names)
  }

  /// Keras counts batch-norm moving statistics among a model's weights (Keras 3.15,
  /// `weights=None`); the zoo keeps them as buffers.
  @Test(arguments: [("mobilenet-keras", 4_253_864), ("mobilenet_v2-keras", 3_538_984)])
  func kerasMobileNetsHoldKerasWeightCount(_ name: String, _ kerasCount: Int) throws {
    let model = try ModelRegistry.entry(named: name).build(rng: RandomStream(seed: 0))
    #expect(model.stateDict().reduce(0) { $0 + $1.tensor.count } == kerasCount)
    let norms = model.namedModules().compactMap { $0.module as? BatchNorm }
    #expect(!norms.isEmpty && norms.allSatisfy { $0.eps == 1e-3 })
  }

  /// `conv_preds` is a 1x1 convolution on the pooled map; a head put in its place reads the
  /// pooled vectors, as every classifier's head does.
  @Test func mobileNetHeadIsReplacedByAVectorHead() throws {
    let model = Self.narrowMobileNet()
    model.setTraining(false)
    let x = sineInput([2, 3, 64, 64])
    let features = try model.features(x)
    #expect(features.shape == [2, 128])
    #expect(try model(x).shape == [2, 10])
    model.resetClassifier(classCount: 4, rng: RandomStream(seed: 5))
    #expect(model.classifierPath == "classifier")
    #expect(try model(x).shape == [2, 4])
    #expect(try model.features(x).scalars == features.scalars)
  }

  /// Writes each fixture's network with Keras's weights in both Keras formats, with the zoo's
  /// logits, for `Tools/check_keras_export.py` to load into Keras's own MobileNet and
  /// MobileNetV2.
  @Test(
    .enabled(
      if: KerasInteropTests.exportFolder != nil,
      "set ZOO_IO_KERAS_EXPORT to export files for Keras"))
  func exportForKeras() throws {
    for name in Self.fixtureNames {
      let zoo = try #require(Self.zooModel(of: name))
      let url = KerasInteropTests.fixtures.appendingPathComponent(name + ".h5")
      try WeightFile.read(contentsOf: url).renamed(by: zoo.names).load(into: zoo.model)
      try KerasInteropTests.export([(name, zoo.model, [2, 3, 64, 64])])
    }
  }
}
