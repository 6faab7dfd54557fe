import Foundation
import Testing
import Zoo
import ZooData
import ZooIO
import ZooNN
import ZooTensor

/// Every weight file in zoo/ loads strictly into its architecture and still scores what the
/// registry declares (within one point): a classifier on the first 1,000 Fashion-MNIST test
/// images of its classes, a segmentation model on the first 100 held-out scenes, an autoencoder
/// its loss per image on the whole test split (within 0.5%).
@Suite(.serialized) struct ShippedWeightsTests {
  static let shipped: [String] = ModelRegistry.entries.flatMap { entry in
    entry.weights.map { "\(entry.name)/\($0.file)" }
  }

  @Test(.enabled(if: FashionMNIST.isInstalled), arguments: shipped)
  func scoresWhatTheRegistrySays(_ id: String) throws {
    let name = String(id.split(separator: "/")[0])
    let entry = try ModelRegistry.entry(named: name)
    let weights = try #require(entry.weights.first { id.hasSuffix("/" + $0.file) })
    let url = try #require(weights.url, "zoo/\(weights.file) not found")
    let file = try WeightFile.read(contentsOf: url)
    #expect(file.metadata.architecture == entry.name)
    #expect((file.metadata.classNames ?? []) == weights.classNames)
    let card = try JSONDecoder().decode(
      ModelCard.self, from: Data(try #require(file.metadata.modelCard).utf8))
    #expect(abs(card.accuracy - weights.testAccuracy) < 5e-5, "card says \(card.accuracy)")
    let mean = try #require(file.metadata.normalizationMean)
    let std = try #require(file.metadata.normalizationStd)
    if entry.task == .generation {
      // The loss per image on the whole test split (one seeded sample of a VAE's code per image).
      let cardLoss = try #require(card.metrics?["loss"])
      let declared = try #require(weights.testLoss)
      #expect(abs(Float(cardLoss) - declared) < 5e-3, "card says \(cardLoss)")
      let model = try #require(
        entry.build(classCount: file.metadata.classCount, inputChannels: 1) as? ConvAutoencoder)
      try file.load(into: model)
      let test = ImageBatches(
        try FashionMNIST.load(.test), normalization: Normalization(mean: mean, std: std),
        batchSize: 250)
      let loss = try GenerativeEvaluation.evaluate(model, on: test, reconstruction: .bce).loss
      print("\(id): \(loss) nats per test image")
      #expect(abs(loss - declared) <= 0.005 * declared, "\(id): \(loss) nats per test image")
      return
    }
    if entry.task == .segmentation {
      let fgIoU = try #require(card.metrics?["foreground_iou"])
      #expect(abs(Float(fgIoU) - (weights.foregroundIoU ?? -1)) < 5e-5, "card says \(fgIoU)")
      let model = entry.build(classCount: weights.classNames.count, inputChannels: 1)
      try file.load(into: model)
      let scenes = try FashionScenes.make(
        .heldOut, garments: try FashionMNIST.load(.test), count: 100)
      let batches = SegmentationBatches(
        scenes, normalization: Normalization(mean: mean, std: std), batchSize: 20)
      let scores = try SegmentationTrainer.evaluate(model, on: batches).scores
      print("\(id): pixel accuracy \(scores.pixelAccuracy), fg IoU \(scores.foregroundIoU)")
      #expect(abs(Float(scores.pixelAccuracy) - weights.sliceAccuracy) <= 0.01)
      return
    }
    let model = try entry.buildClassifier(classCount: weights.classNames.count)
    try file.load(into: model)
    var testImages = try FashionMNIST.load(.test)
    if case .fashionMNIST(let classes?) = try DataSource(parsing: weights.data) {
      testImages = testImages.subset(classes: classes)
    }
    let test = ImageBatches(
      testImages.prefix(1_000), normalization: Normalization(mean: mean, std: std), batchSize: 250)
    let accuracy = try ClassifierTrainer.evaluate(model, on: test).accuracy
    print("\(id): \(accuracy) on the first 1,000 test images")
    #expect(
      abs(accuracy - weights.sliceAccuracy) <= 0.01,
      "\(id): \(accuracy) on the first 1,000 test images")
  }
}
