import Foundation
import Testing
import Zoo
import ZooData
import ZooNN
import ZooTensor
import ZooTestSupport

@Suite struct SegmentationMetricsTests {
  /// Six pixels, three classes, worked by hand:
  /// class 0: TP 1 (pixel 0), FP 1 (pixel 5), FN 1 (pixel 1): IoU 1/3, Dice 2/4.
  /// class 1: TP 2 (pixels 2, 3), FP 1 (pixel 1), FN 0: IoU 2/3, Dice 4/5.
  /// class 2: TP 1 (pixel 4), FP 0, FN 1 (pixel 5): IoU 1/2, Dice 2/3.
  /// Foreground (1 or 2): TP pixels 2, 3, 4; FP pixel 1; FN pixel 5: IoU 3/5.
  @Test func scoresMatchAHandWorkedExample() throws {
    var scores = SegmentationScores(classCount: 3)
    try scores.add(truth: [0, 0, 1, 1, 2, 2], prediction: [0, 1, 1, 1, 2, 0])
    let iou = scores.perClassIoU.map { $0! }
    let dice = scores.perClassDice.map { $0! }
    for (value, expected) in zip(iou + dice, [1.0 / 3, 2.0 / 3, 0.5, 0.5, 0.8, 2.0 / 3]) {
      #expect(abs(value - expected) < 1e-12)
    }
    #expect(abs(scores.meanIoU - 0.5) < 1e-12)
    #expect(abs(scores.meanDice - (0.5 + 0.8 + 2.0 / 3) / 3) < 1e-12)
    #expect(abs(scores.pixelAccuracy - 4.0 / 6) < 1e-12)
    #expect(abs(scores.foregroundIoU - 0.6) < 1e-12)
  }

  @Test func classesAbsentFromBothSidesDoNotCount() throws {
    var scores = SegmentationScores(classCount: 4)
    try scores.add(truth: [0, 0, 3, 3], prediction: [0, 0, 3, 0])
    #expect(scores.perClassIoU[1] == nil && scores.perClassIoU[2] == nil)
    // class 0: 2 / 3, class 3: 1 / 2.
    #expect(abs(scores.meanIoU - (2.0 / 3 + 0.5) / 2) < 1e-12)
    // Accumulating is the same as scoring everything at once.
    var split = SegmentationScores(classCount: 4)
    try split.add(truth: [0, 0], prediction: [0, 0])
    try split.add(truth: [3, 3], prediction: [3, 0])
    #expect(split == scores)
  }

  @Test func mismatchedMasksAreRejectedWithBothSizes() {
    var scores = SegmentationScores(classCount: 2)
    #expect(throws: SegmentationMetricError.sizeMismatch(truth: 4, prediction: 3)) {
      try scores.add(truth: [0, 1, 1, 0], prediction: [0, 1, 1])
    }
    #expect(
      SegmentationMetricError.sizeMismatch(truth: 4, prediction: 3).errorDescription!
        .contains("4 pixels but the prediction has 3"))
    #expect(throws: SegmentationMetricError.classOutOfRange(value: 2, classCount: 2)) {
      try scores.add(truth: [0], prediction: [2])
    }
    let logits = Tensor(shape: [1, 2, 2, 3], scalars: [Float](repeating: 0, count: 12))
    #expect(throws: TensorError.self) { try oneHot([0, 1, 0, 1], like: logits) }
  }

  @Test func pixelClassesTakeTheLargestChannel() {
    // (1, 3, 1, 2): pixel 0 has logits (0, 5, 1), pixel 1 (2, -1, 3).
    let logits = Tensor(shape: [1, 3, 1, 2], scalars: [0, 2, 5, -1, 1, 3])
    #expect(pixelClasses(logits) == [1, 2])
  }

  @Test(arguments: SegmentationLoss.allCases)
  func lossesAreTheirPartsAndDifferentiate(_ loss: SegmentationLoss) throws {
    var generator = SeededGenerator(seed: 11)
    let logits = Tensor.uniform(shape: [2, 3, 2, 2], low: -2, high: 2, generator: &generator)
    logits.requiresGrad = true
    let masks = [0, 1, 2, 1, 2, 2, 0, 0]
    let targets = try oneHot(masks, like: logits)
    let ce = try crossEntropy(logits: logits, labels: masks).item
    let bce = try binaryCrossEntropyWithLogits(logits: logits, targets: targets).item
    let softDice = try diceLoss(probabilities: softmax(logits, axis: 1), targets: targets).item
    let sigmoidDice = try diceLoss(probabilities: sigmoid(logits), targets: targets).item
    let expected: Float =
      switch loss {
      case .crossEntropy: ce
      case .binaryCrossEntropy: bce
      case .dice: softDice
      case .crossEntropyDice: ce + softDice
      case .binaryCrossEntropyDice: bce + sigmoidDice
      }
    #expect(abs(try loss(logits: logits, masks: masks).item - expected) < 1e-5)
    let report = try checkGradients([logits]) { try loss(logits: $0[0], masks: masks) }
    #expect(report.passed, "\(report)")
  }

  @Test func aTinyUNetLearnsToFindBrightSquares() throws {
    // 8 images of 16x16: a bright 6x6 square at a random place on dim noise; the mask is the square.
    var generator = SeededGenerator(seed: 3)
    var pixels: [UInt8] = []
    var masks: [UInt8] = []
    for _ in 0..<8 {
      let (top, left) = (
        Int.random(in: 0...10, using: &generator), Int.random(in: 0...10, using: &generator)
      )
      for y in 0..<16 {
        for x in 0..<16 {
          let inside = (top..<(top + 6)).contains(y) && (left..<(left + 6)).contains(x)
          pixels.append(inside ? 200 : UInt8.random(in: 0...80, using: &generator))
          masks.append(inside ? 1 : 0)
        }
      }
    }
    let set = try SegmentationSet(
      channels: 1, height: 16, width: 16, pixels: pixels, masks: masks,
      classNames: ["background", "square"])
    let data = SegmentationBatches(set, normalization: .none(channels: 1), batchSize: 4)
    let model = UNet(depth: 2, baseWidth: 4, classCount: 2, rng: RandomStream(seed: 1))
    let trainer = SegmentationTrainer(
      model: model,
      optimizer: Adam.adam(parameters: model.trainableParameters(), learningRate: 0.01))
    let before = try SegmentationTrainer.evaluate(model, on: data).scores.foregroundIoU
    for epoch in 0..<40 { _ = try trainer.trainEpoch(data, epoch: epoch, epochs: 40, seed: 0) }
    let after = try SegmentationTrainer.evaluate(model, on: data, keepPredictions: true)
    #expect(after.predictions.count == 8 * 256)
    #expect(
      after.scores.foregroundIoU > 0.9,
      "foreground IoU \(before) before, \(after.scores.foregroundIoU) after")
  }
}
