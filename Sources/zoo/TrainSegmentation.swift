import ArgumentParser
import Foundation
import Transfer
import Zoo
import ZooData
import ZooIO
import ZooNN
import ZooPlot
import ZooTensor

/// What a training command is asked to teach.
enum TaskChoice: String, ExpressibleByArgument, CaseIterable {
  case classify, segment

  var modelTask: ModelTask { self == .classify ? .classification : .segmentation }
}

/// The segmentation losses a command line can ask for, named as `SegmentationLoss` names them.
enum LossChoice: String, ExpressibleByArgument, CaseIterable {
  case ce, bce, dice
  case ceDice = "ce+dice"
  case bceDice = "bce+dice"

  var loss: SegmentationLoss { SegmentationLoss(rawValue: rawValue)! }
}

extension Train {
  /// `zoo train` for a segmentation architecture: masks from `--data` (scenes or a mask
  /// folder), the loss from `--loss`, held-out mean IoU after every epoch. As one rank of
  /// `parallel`, it trains on its part of every batch; every rank scores the whole held-out
  /// set, and rank 0 alone writes files.
  func trainSegmentation(_ entry: ModelEntry, parallel: DataParallelRun?) throws {
    guard dataOptions.shots == nil else {
      throw ValidationErrorLine(message: "--shots applies to classification, not to \(entry.name)")
    }
    let started = Date()
    let source = try SegmentationSource(parsing: dataOptions.data)
    let data = try source.load(
      channels: entry.inputShape[0], validationFraction: dataOptions.valSplit, seed: seed)
    let normalization = Normalization.fitted(
      pixels: data.train.pixels, channels: data.train.channels, plane: data.train.plane)
    let train = SegmentationBatches(
      data.train, normalization: normalization, batchSize: batchSize,
      augmentation: dataOptions.augment.augmentation)
    let held = SegmentationBatches(data.heldOut, normalization: normalization, batchSize: 32)
    let model = entry.build(
      classCount: data.train.classCount, inputChannels: data.train.channels,
      rng: RandomStream(seed: seed))
    guard let model = model as? SegmentationModel else {
      throw ValidationErrorLine(message: "\(entry.name) is not a segmentation model")
    }
    if let encoderWeights {
      guard let encoder = model.child(at: model.encoderPath) else {
        throw ValidationErrorLine(message: "\(entry.name) has no \(model.encoderPath)")
      }
      let weights = try readWeightFile(encoderWeights)
      let report = try namingWeightFile(encoderWeights) {
        try weights.load(into: encoder, skipping: "fc")
      }
      print("encoder: loaded \(encoderWeights) (\(report))")
    }
    let freezeReport = try model.freeze(try FreezePolicy(parsing: freeze))
    print(
      "\(entry.name): \(Summary.grouped(model.parameterCount)) parameters, \(data.train.classCount) classes, loss \(loss.rawValue)"
    )
    print(freezeReport.description)
    print(
      "data: \(source), \(train.count) training and \(held.count) \(data.heldOutName) images of \(data.train.width)x\(data.train.height)"
    )
    let trainer = SegmentationTrainer(
      model: model,
      optimizer: optimizer.make(
        model.trainableParameters(), lr: lr, momentum: momentum, weightDecay: weightDecay),
      schedule: schedule.schedule(totalSteps: epochs * train.batchCount), loss: loss.loss)
    trainer.enterTrainingMode = { _ in model.enterFrozenEncoderTrainingMode() }
    if let parallel {
      try parallel.join(
        model: model, optimizer: trainer.optimizer, examples: train.count,
        batchSize: train.batchSize)
      trainer.replicas = parallel.group
    }
    let progress = ProgressBar()
    let output =
      parallel?.isRoot == false
      ? nil : out.map { SegmentationOutput(modelURL: URL(fileURLWithPath: $0)) }
    var history: [SegmentationEpoch] = []
    var last: SegmentationEvaluation?
    for epoch in 1...epochs {
      let epochStart = Date()
      let (trainLoss, trainAccuracy) = try trainer.trainEpoch(
        train, epoch: epoch, epochs: epochs, seed: seed, progress: progress.update)
      let evaluation = try SegmentationTrainer.evaluate(model, on: held, loss: loss.loss)
      try TrainingError.checkEvaluation(evaluation.loss, epoch: epoch)
      last = evaluation
      let scores = evaluation.scores
      history.append(
        SegmentationEpoch(
          epoch: epoch, trainLoss: trainLoss, trainPixelAccuracy: trainAccuracy,
          validationLoss: evaluation.loss, scores: scores,
          learningRate: trainer.optimizer.learningRate,
          seconds: Date().timeIntervalSince(epochStart)))
      print(
        String(
          format:
            "epoch %d: train loss %.4f, pixel accuracy %.2f%%; %@ loss %.4f, pixel accuracy %.2f%%, mean IoU %.4f, foreground IoU %.4f, Dice %.4f",
          epoch, trainLoss, 100 * trainAccuracy, data.heldOutName, evaluation.loss,
          100 * scores.pixelAccuracy, scores.meanIoU, scores.foregroundIoU, scores.meanDice))
      try output?.writeLog(history, title: "\(entry.name) on \(source)")
    }
    let scores = last!.scores
    for line in perClassLines(scores, classNames: data.train.classNames) { print(line) }
    let wall = Date().timeIntervalSince(started)
    if let output {
      let card = ModelCard(
        architecture: entry.name, data: source.description, classes: data.train.classNames,
        recipe: recipe.merging(["loss": loss.rawValue, "freeze": freeze]) { $1 }, seed: seed,
        epochs: epochs,
        evaluatedOn: data.heldOutName, accuracy: Float(scores.pixelAccuracy), wallSeconds: wall,
        command: (["zoo"] + CommandLine.arguments.dropFirst()).joined(separator: " "),
        metrics: scores.cardMetrics(classNames: data.train.classNames))
      let metadata = WeightFileMetadata(
        architecture: entry.name, classCount: data.train.classCount,
        inputShape: [data.train.channels, data.train.height, data.train.width],
        classNames: data.train.classNames, normalizationMean: normalization.mean,
        normalizationStd: normalization.std, modelCard: try card.json())
      try WeightFile.write(model, metadata: metadata, to: output.modelURL)
      print("wrote \(output.modelURL.path), its log and its curves")
    }
    print(String(format: "done in %.1f s", wall))
  }
}

extension SegmentationScores {
  /// The figures a model card records beside pixel accuracy.
  func cardMetrics(classNames: [String]) -> [String: Double] {
    var metrics = [
      "mean_iou": meanIoU, "foreground_iou": foregroundIoU, "dice": meanDice,
      "pixel_accuracy": pixelAccuracy,
    ]
    for (c, iou) in perClassIoU.enumerated() {
      if let iou { metrics["iou/\(c < classNames.count ? classNames[c] : "class \(c)")"] = iou }
    }
    return metrics
  }
}

/// One epoch of a segmentation run, as its CSV log and curves show it.
struct SegmentationEpoch {
  var epoch: Int
  var trainLoss: Float
  var trainPixelAccuracy: Float
  var validationLoss: Float
  var scores: SegmentationScores
  var learningRate: Float
  var seconds: Double

  static let csvHeader =
    "epoch,train_loss,train_pixel_accuracy,validation_loss,validation_pixel_accuracy,validation_mean_iou,validation_foreground_iou,validation_dice,learning_rate,seconds"

  var csvRow: String {
    String(
      format: "%d,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,%.6g,%.2f", epoch, trainLoss,
      trainPixelAccuracy, validationLoss, scores.pixelAccuracy, scores.meanIoU,
      scores.foregroundIoU, scores.meanDice, learningRate, seconds)
  }
}

/// The files a segmentation run leaves beside `NAME.h5`: `NAME.log.csv` and
/// `NAME.curves.png` (loss; pixel accuracy and held-out mean IoU), each written atomically.
struct SegmentationOutput {
  let modelURL: URL

  private var stem: URL { modelURL.deletingPathExtension() }
  var logURL: URL { stem.appendingPathExtension("log.csv") }
  var curvesURL: URL { stem.appendingPathExtension("curves.png") }

  func writeLog(_ history: [SegmentationEpoch], title: String) throws {
    try writeAtomically(
      ([SegmentationEpoch.csvHeader] + history.map(\.csvRow)).joined(separator: "\n") + "\n",
      to: logURL)
    let chart = LineChart(
      title: title,
      panels: [
        .init(
          title: "Loss", yLabel: "loss",
          series: [
            .init("train", values: history.map { Double($0.trainLoss) }),
            .init("held out", values: history.map { Double($0.validationLoss) }),
          ]),
        .init(
          title: "Held-out scores", yLabel: "%",
          series: [
            .init(
              "train pixel accuracy", values: history.map { 100 * Double($0.trainPixelAccuracy) }),
            .init("pixel accuracy", values: history.map { 100 * $0.scores.pixelAccuracy }),
            .init("mean IoU", values: history.map { 100 * $0.scores.meanIoU }),
            .init("foreground IoU", values: history.map { 100 * $0.scores.foregroundIoU }),
          ], yRange: 0...100),
      ])
    try chart.render().write(to: curvesURL)
  }
}
