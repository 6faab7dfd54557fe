import Foundation
import ZooData
import ZooNN
import ZooTensor

/// A segmentation model's loss, scores and (optionally) predicted masks on a data set.
public struct SegmentationEvaluation: Sendable {
  public var loss: Float
  public var scores: SegmentationScores
  /// One class per pixel, mask after mask, when asked for.
  public var predictions: [Int]
}

/// Mini-batch training of a segmentation model (logits (N, C, H, W)) on masks.
public final class SegmentationTrainer {
  public let model: Module
  public let optimizer: Optimizer
  public let schedule: LearningRateSchedule
  public let loss: SegmentationLoss
  public let baseLearningRate: Float
  /// Steps taken so far; drives the schedule.
  public private(set) var globalStep = 0
  /// Puts the model in training mode before each epoch; a frozen encoder replaces it to keep
  /// its batch norms in inference mode.
  public var enterTrainingMode: (Module) -> Void = { $0.setTraining(true) }
  /// The members of a data-parallel run this trainer is one of (nil: a single process), as
  /// `ClassifierTrainer.replicas`: each takes its part of every batch, Dice is taken over the
  /// whole batch, and the gradients are averaged after each backward pass.
  public var replicas: ReplicaGroup? {
    didSet {
      averager = replicas.map {
        GradientAverager(
          parameters: optimizer.groups.flatMap { $0.parameters.map(\.tensor) }, group: $0)
      }
    }
  }
  private var averager: GradientAverager?

  public init(
    model: Module, optimizer: Optimizer, schedule: LearningRateSchedule = .constant,
    loss: SegmentationLoss = .crossEntropyDice
  ) {
    self.model = model
    self.optimizer = optimizer
    self.schedule = schedule
    self.loss = loss
    self.baseLearningRate = optimizer.learningRate
  }

  /// One pass over `data` shuffled and augmented by (`seed`, `epoch`); returns the epoch's mean
  /// loss and pixel accuracy.
  public func trainEpoch(
    _ data: SegmentationBatches, epoch: Int, epochs: Int, seed: UInt64,
    progress: ((TrainingProgress) -> Void)? = nil
  ) throws -> (loss: Float, pixelAccuracy: Float) {
    enterTrainingMode(model)
    let key = AugmentationKey(seed: seed, epoch: epoch)
    let order = data.trainingEpoch(epoch, seed: seed)
    var (totalLoss, correct, pixels, examples) = (0.0, 0, 0, 0)
    let part = replicas.map { EpochBatches.Shard($0.rank, of: $0.size) }
    for (step, whole) in order.enumerated() {
      let members = part.map { $0.part(of: whole[...]) } ?? whole
      let shard = part.map {
        BatchShard(offset: $0.range(inBatchOf: whole.count).lowerBound, globalBatch: whole.count)
      }
      let batch = data.batch(members, augmentation: key)
      optimizer.learningRate = schedule.learningRate(base: baseLearningRate, step: globalStep)
      var (logits, value) = try BatchShard.$current.withValue(shard) {
        let logits = try model(batch.inputs)
        return (logits, try loss(logits: logits, masks: batch.masks, replicas: replicas))
      }
      let figures = try StepFigures(
        lossSum: Double(value.item) * Double(members.count),
        correct: Double(zip(pixelClasses(logits), batch.masks).filter { $0 == $1 }.count),
        seen: Double(batch.masks.count), stopRequests: 0
      ).summed(over: replicas)
      guard figures.lossSum.isFinite else {
        throw TrainingError.nonFiniteLoss(
          epoch: epoch, step: step + 1, value: Float(figures.lossSum / Double(whole.count)))
      }
      // As in ClassifierTrainer: parts of different sizes weigh by their share of the batch.
      if let replicas, members.count * replicas.size != whole.count {
        value = scale(value, by: Float(members.count * replicas.size) / Float(whole.count))
      }
      optimizer.zeroGrad()
      try BatchShard.$current.withValue(shard) { try value.backward() }
      try averager?.average()
      optimizer.step()
      globalStep += 1
      totalLoss += figures.lossSum
      correct += Int(figures.correct)
      pixels += Int(figures.seen)
      examples += whole.count
      progress?(
        TrainingProgress(
          epoch: epoch, epochs: epochs, step: step + 1, steps: order.count,
          loss: Float(totalLoss / Double(examples)),
          accuracy: Float(correct) / Float(pixels), learningRate: optimizer.learningRate))
    }
    try TrainingError.checkParameters(of: model, epoch: epoch)
    let seen = Double(max(data.count, 1))
    return (Float(totalLoss / seen), Float(correct) / Float(max(pixels, 1)))
  }

  /// Loss and scores in inference mode without recording gradients; the predicted masks too
  /// when `keepPredictions`.
  public static func evaluate(
    _ model: Module, on data: SegmentationBatches, loss: SegmentationLoss = .crossEntropyDice,
    keepPredictions: Bool = false
  ) throws -> SegmentationEvaluation {
    model.setTraining(false)
    defer { model.setTraining(true) }
    var scores = SegmentationScores(classCount: data.examples.classCount)
    var totalLoss = 0.0
    var predictions: [Int] = []
    try withoutGradients {
      for members in data.evaluationOrder {
        let batch = data.batch(members)
        let logits = try model(batch.inputs)
        guard logits.rank == 4, logits.shape[1] == data.examples.classCount else {
          throw SegmentationMetricError.classCountMismatch(
            model: logits.rank == 4 ? logits.shape[1] : -1, data: data.examples.classCount)
        }
        totalLoss +=
          Double(try loss(logits: logits, masks: batch.masks).item) * Double(members.count)
        let predicted = pixelClasses(logits)
        try scores.add(truth: batch.masks, prediction: predicted)
        if keepPredictions { predictions += predicted }
      }
    }
    return SegmentationEvaluation(
      loss: Float(totalLoss / Double(max(data.count, 1))), scores: scores, predictions: predictions)
  }
}
