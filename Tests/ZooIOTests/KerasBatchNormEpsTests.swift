import Foundation
import Testing
import ZooIO
import ZooNN
import ZooTensor

/// A whole Keras model saved by Keras (`Fixtures/keras_bn_eps_full.h5`, written by
/// `Tools/make_keras_bn_eps_fixture.py`) carries its batch norms' eps in `model_config` only:
/// `bn1` 1.001e-5 (as Keras Applications' ResNet50 and DenseNets), `bn2` Keras's default 1e-3.
@Suite struct KerasBatchNormEpsTests {
  static let file = Bundle.module.url(
    forResource: "keras_bn_eps_full", withExtension: "h5", subdirectory: "Fixtures")!

  /// The fixture's layers under the same names, with batch-norm eps `bn1` and `bn2`.
  static func model(bn1: Float, bn2: Float) -> Module {
    NamedSequence([
      ("conv1", Conv2d(3, 4, kernelSize: 3, bias: false)), ("bn1", BatchNorm(4, eps: bn1)),
      ("relu1", ReLU()), ("conv2", Conv2d(4, 2, kernelSize: 1)), ("bn2", BatchNorm(2, eps: bn2)),
    ])
  }

  @Test func epsComesFromTheModelConfig() throws {
    let weights = try WeightFile.read(contentsOf: Self.file)
    #expect(weights.layout == .kerasModel)
    let eps = Dictionary(uniqueKeysWithValues: weights.layers.map { ($0.path, $0.eps) })
    #expect(eps == ["conv1": nil, "bn1": 1.001e-5, "conv2": nil, "bn2": 1e-3])
  }

  @Test func loadsIntoAModelWithKerassEpsAndRefusesAnother() throws {
    let weights = try WeightFile.read(contentsOf: Self.file)
    let report = try weights.load(into: Self.model(bn1: 1.001e-5, bn2: 1e-3))
    #expect(report.loaded.count == 11)
    // PyTorch's default eps where Keras Applications used 1.001e-5.
    #expect(throws: WeightFileError.epsMismatch(layer: "bn1", model: 1e-5, file: 1.001e-5)) {
      try weights.load(into: Self.model(bn1: 1e-5, bn2: 1e-3))
    }
  }

  @Test(arguments: [
    ("{\"class_name\": ", "one that is not JSON"),
    (
      #"{"layers": [{"class_name": "BatchNormalization", "config": {"name": "bn1", "epsilon": "small"}}]}"#,
      "one that gives BatchNormalization layer 'bn1' the epsilon small, not a positive number"
    ),
  ])
  func aBrokenModelConfigIsReported(_ config: String, _ found: String) throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    let url = folder.file("broken.h5")
    try Data(contentsOf: Self.file).write(to: url)
    let file = try HDF5File.openForUpdate(url)
    try file.root.setAttribute("model_config", strings: [config], scalar: true)
    try file.close()
    #expect(
      throws: WeightFileError.wrongAttributeType(
        object: "/", attribute: "model_config", expected: "a Keras model's JSON config",
        found: found)
    ) { try WeightFile.read(contentsOf: url) }
  }
}
