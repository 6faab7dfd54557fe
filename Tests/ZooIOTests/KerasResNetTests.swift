import Testing
import Zoo
import ZooNN
import ZooTensor

extension KerasFixture {
  /// keras.applications.resnet.ResNet's stem of 64 with stages of 1, 2, 1, 1 bottlenecks of
  /// 8, 16, 16, 8 filters.
  static let smallKerasResNet: ResNetConfiguration = {
    var configuration = ResNetConfiguration.imageNet(.bottleneck, [1, 2, 1, 1])
    configuration.widths = [8, 16, 16, 8]
    configuration.stemWidth = 64
    return configuration.keras
  }()
}

/// Files Keras's own ResNet builder wrote load through the ResNet table and give Keras's logits.
@Suite struct KerasResNetTests {
  @Test(arguments: KerasFixture.files.map(\.suffix))
  func committedKerasResNetFileGivesKerasLogits(_ suffix: String) throws {
    try KerasInteropTests.check(
      KerasInteropTests.fixtures.appendingPathComponent("resnet_keras_small.json"), suffix: suffix)
  }

  /// Keras's v1 bottleneck: the stride on the first 1x1, a bias on every convolution.
  @Test func kerasResNet50StridesTheFirst1x1AndBiasesEveryConvolution() throws {
    let model = try ModelRegistry.entry(named: "resnet50-keras").build(rng: RandomStream(seed: 0))
    let conv1 = try #require(model.child(at: "layer2.0.conv1") as? Conv2d)
    let conv2 = try #require(model.child(at: "layer2.0.conv2") as? Conv2d)
    #expect(conv1.stride == (2, 2) && conv2.stride == (1, 1))
    let convolutions = model.namedModules().compactMap { $0.module as? Conv2d }
    #expect(convolutions.count == 53 && convolutions.allSatisfy { $0.bias != nil })
    let norms = model.namedModules().compactMap { $0.module as? BatchNorm }
    #expect(norms.allSatisfy { $0.eps == 1.001e-5 })
  }
}
