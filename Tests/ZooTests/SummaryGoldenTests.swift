import Foundation
import Testing
import Zoo
import ZooNN
import ZooTensor

/// `zoo list` and `zoo info resnet18` print exactly these texts (Golden/). After an intended
/// change, regenerate them with `zoo list > Tests/ZooTests/Golden/list.txt` and
/// `zoo info resnet18 > Tests/ZooTests/Golden/info-resnet18.txt`.
@Suite struct SummaryGoldenTests {
  static func golden(_ name: String) throws -> String {
    let url = try #require(
      Bundle.module.url(forResource: name, withExtension: "txt", subdirectory: "Golden"))
    return try String(contentsOf: url, encoding: .utf8)
  }

  @Test func registryTable() throws {
    #expect(
      Summary.registryTable(ModelRegistry.entries(matching: "*")) == (try Self.golden("list")))
  }

  @Test func resnet18Summary() throws {
    let entry = try ModelRegistry.entry(named: "resnet18")
    let text = try Summary.modelSummary(
      entry.build(rng: RandomStream(seed: 0)), name: "resnet18", inputShape: entry.inputShape)
    #expect(text == (try Self.golden("info-resnet18")))
  }

  /// Keras's `model.summary()` of `MobileNetV2(weights=None)` reports these three totals.
  @Test func kerasEntriesCountMovingStatisticsAsKerasDoes() throws {
    let entry = try ModelRegistry.entry(named: "mobilenet_v2-keras")
    let text = try Summary.modelSummary(
      entry.build(rng: RandomStream(seed: 0)), name: entry.name, inputShape: entry.inputShape,
      countingState: true)
    #expect(text.contains("Total params: 3,538,984\n"))
    #expect(text.contains("Trainable params: 3,504,872\n"))
    #expect(text.contains("Non-trainable params: 34,112\n"))
    let firstNorm = text.split(separator: "\n").first { $0.hasPrefix("features.0.2 ") }
    #expect(firstNorm?.hasSuffix(" 128  yes") == true, "Keras counts 4 x 32 for it")
  }

  @Test func summaryReportsFrozenParameters() throws {
    let model = LeNet5(rng: RandomStream(seed: 0))
    model.setTrainable(false, prefix: "features")
    let text = try Summary.modelSummary(model, name: "lenet5", inputShape: [1, 28, 28])
    #expect(text.contains("Trainable params: 59,134\n"))
    #expect(text.contains("Non-trainable params: 2,572\n"))
    #expect(text.contains("features.0    Conv2d     [1, 6, 28, 28]      156  no\n"))
  }
}
