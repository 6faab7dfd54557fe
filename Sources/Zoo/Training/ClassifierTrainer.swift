import Foundation
import ZooData
import ZooNN
import ZooTensor

/// Where a training run is, reported after every step.
public struct TrainingProgress: Sendable {
  /// The current epoch, from 1.
  public var epoch: Int
  /// Epochs in the run.
  public var epochs: Int
  /// Steps done in this epoch, from 1.
  public var step: Int
  /// Steps in this epoch.
  public var steps: Int
  /// Mean loss over the steps of this epoch so far.
  public var loss: Float
  /// Share of this epoch's examples so far whose most probable class was the label.
  public var accuracy: Float
  /// The rate the last step used.
  public var learningRate: Float
}

/// Loss and accuracy of a model on a data set.
public struct Evaluation: Sendable {
  /// Mean cross-entropy over the examples.
  public var loss: Float
  /// Share of examples whose most probable class is the label.
  public var accuracy: Float
  /// The most probable class of each example, in the data's order.
  public var predictions: [Int]
}

/// A training run that cannot go on.
public enum TrainingError: Error, Equatable, LocalizedError {
  /// The loss became NaN or infinite at this step.
  case nonFiniteLoss(epoch: Int, step: Int, value: Float)
  /// A parameter held NaN or infinity at the end of this epoch (the last step overflowed).
  case nonFiniteParameter(epoch: Int, path: String)
  /// The held-out loss after this epoch was NaN or infinite.
  case nonFiniteEvaluation(epoch: Int, value: Float)

  public var errorDescription: String? {
    let hint = "lower the learning rate or check the data"
    switch self {
    case .nonFiniteLoss(let epoch, let step, let value):
      return "training diverged: the loss became \(value) at epoch \(epoch), step \(step); \(hint)"
    case .nonFiniteParameter(let epoch, let path):
      return
        "training diverged: \(path) held NaN or infinity at the end of epoch \(epoch); \(hint)"
    case .nonFiniteEvaluation(let epoch, let value):
      return
        "training diverged: the held-out loss became \(value) after epoch \(epoch); \(hint)"
    }
  }

  /// Throws `nonFiniteParameter` for the first trainable parameter of `model` that holds NaN
  /// or infinity, so that no checkpoint or weight file is written from a diverged model.
  public static func checkParameters(of model: Module, epoch: Int) throws {
    for (path, parameter) in model.trainableParameters() {
      guard parameter.scalars.allSatisfy(\.isFinite) else {
        throw TrainingError.nonFiniteParameter(epoch: epoch, path: path)
      }
    }
  }

  /// Throws `nonFiniteEvaluation` when the held-out `loss` is NaN or infinite.
  public static func checkEvaluation(_ loss: Float, epoch: Int) throws {
    guard loss.isFinite else { throw TrainingError.nonFiniteEvaluation(epoch: epoch, value: loss) }
  }
}

/// A training epoch stopped early on request, after `position.step` steps.
public struct TrainingInterrupted: Error, Equatable {
  public var epoch: Int
  public var position: EpochPosition
}

/// Mini-batch training of a classifier with softmax cross-entropy.
public final class ClassifierTrainer {
  /// The model being trained (a classifier, or only its head).
  public let model: Module
  /// Updates the model's trainable parameters after each step.
  public let optimizer: Optimizer
  /// The learning rate for each step, relative to `baseLearningRate`.
  public let schedule: LearningRateSchedule
  /// The optimiser's rate when the trainer was made.
  public let baseLearningRate: Float
  /// Label smoothing of the cross-entropy loss (0: none).
  public let labelSmoothing: Float
  /// Steps taken so far; drives the schedule.
  public private(set) var globalStep = 0
  /// Puts the model in training mode before each epoch. Head-only fine-tuning replaces it to
  /// keep a frozen backbone in inference mode (no dropout, running batch-norm statistics).
  public var enterTrainingMode: (Module) -> Void = { $0.setTraining(true) }
  /// The loss of one batch (a mean over its examples) and how many examples were right; nil
  /// trains a classifier with cross-entropy. A generative model sets its own objective here.
  public var batchLoss: ((Batch) throws -> (loss: Tensor, correct: Int))?
  /// The members of a data-parallel run this trainer is one of (nil: a single process). Each
  /// member takes its shard of every batch, the gradients are averaged over the members after
  /// each backward pass, and the figures reported are those of the whole batch. Every member
  /// must start from the same parameters and optimiser state (`broadcastState`).
  public var replicas: ReplicaGroup? {
    didSet { averager = replicas.map { GradientAverager(parameters: trainedTensors, group: $0) } }
  }
  private var averager: GradientAverager?
  /// Seconds the last epoch spent averaging gradients, and its steps.
  public private(set) var reduction = (seconds: 0.0, steps: 0, buckets: 0)

  /// A trainer for `model` with `optimizer`; the schedule scales the optimiser's rate step by
  /// step.
  public init(
    model: Module, optimizer: Optimizer, schedule: LearningRateSchedule = .constant,
    labelSmoothing: Float = 0
  ) {
    self.model = model
    self.optimizer = optimizer
    self.schedule = schedule
    self.baseLearningRate = optimizer.learningRate
    self.labelSmoothing = labelSmoothing
  }

  /// One pass over `data` in an order shuffled by `seed` and `epoch`, augmented when the source
  /// augments, with the next batch prepared in the background. The order and augmentation
  /// depend only on (`seed`, `epoch`), so a resumed run sees the same batches. Returns the
  /// epoch's mean loss and accuracy.
  ///
  /// `position` continues an epoch interrupted after some steps. `shouldStop` is asked after
  /// each step; when it says yes the epoch ends early by throwing `TrainingInterrupted` with
  /// the position reached.
  public func trainEpoch(
    _ data: some ExampleSource, epoch: Int, epochs: Int, seed: UInt64,
    from position: EpochPosition = EpochPosition(), shouldStop: (() -> Bool)? = nil,
    progress: ((TrainingProgress) -> Void)? = nil
  ) throws -> (loss: Float, accuracy: Float) {
    enterTrainingMode(model)
    let epochBatches = data.trainingEpoch(epoch, seed: seed)
    // Augmentation is keyed by example, so dropping the batches already taken leaves the rest
    // exactly as they were.
    let batches = EpochBatches(
      source: epochBatches.source,
      order: Array(epochBatches.order.dropFirst(position.step * data.batchSize)),
      augmentation: epochBatches.augmentation,
      shard: replicas.map { EpochBatches.Shard($0.rank, of: $0.size) })
    var reached = position
    reduction = (0, 0, averager?.buckets.count ?? 0)
    for batch in batches.prefetched() {
      optimizer.learningRate = schedule.learningRate(base: baseLearningRate, step: globalStep)
      // A shard's ops choose as the whole batch would (BatchShard).
      var (loss, correct) = try BatchShard.$current.withValue(batch.shard) {
        try (batchLoss ?? classificationStep)(batch)
      }
      let seen = batch.labels.count
      let figures = try StepFigures(
        lossSum: Double(loss.item) * Double(seen), correct: Double(correct),
        seen: Double(seen), stopRequests: shouldStop?() == true ? 1 : 0
      ).summed(over: replicas)
      guard figures.lossSum.isFinite else {
        throw TrainingError.nonFiniteLoss(
          epoch: epoch, step: reached.step + 1, value: Float(figures.lossSum / figures.seen))
      }
      // Each member's loss is the mean over its shard; weighting it by the shard's share makes
      // the averaged gradient that of the whole batch's mean loss when shards differ in size.
      if let replicas, Double(seen * replicas.size) != figures.seen {
        loss = scale(loss, by: Float(Double(seen * replicas.size) / figures.seen))
      }
      optimizer.zeroGrad()
      try BatchShard.$current.withValue(batch.shard) { try loss.backward() }
      if let averager {
        try averager.average()
        reduction.seconds += averager.lastReductionSeconds.reduce(0, +)
        reduction.steps += 1
      }
      optimizer.step()
      globalStep += 1
      reached.step += 1
      reached.lossSum += figures.lossSum
      reached.correct += Int(figures.correct)
      reached.seen += Int(figures.seen)
      progress?(
        TrainingProgress(
          epoch: epoch, epochs: epochs, step: reached.step, steps: epochBatches.count,
          loss: Float(reached.lossSum / Double(reached.seen)),
          accuracy: Float(reached.correct) / Float(reached.seen),
          learningRate: optimizer.learningRate))
      if reached.step < epochBatches.count, figures.stopRequests > 0 {
        try TrainingError.checkParameters(of: model, epoch: epoch)
        throw TrainingInterrupted(epoch: epoch, position: reached)
      }
    }
    try TrainingError.checkParameters(of: model, epoch: epoch)
    return (
      Float(reached.lossSum / Double(max(reached.seen, 1))),
      Float(reached.correct) / Float(max(reached.seen, 1))
    )
  }

  /// The cross-entropy of a batch's logits and how many of them put the label first.
  private func classificationStep(_ batch: Batch) throws -> (loss: Tensor, correct: Int) {
    let logits = try model(batch.inputs)
    let loss = try classificationLoss(
      of: model, logits: logits, labels: batch.labels, labelSmoothing: labelSmoothing)
    return (loss, zip(argmax(logits), batch.labels).filter { $0 == $1 }.count)
  }

  /// Sets the step count a checkpoint recorded, so the schedule continues from there.
  public func restorePosition(globalStep: Int) {
    self.globalStep = globalStep
  }

  /// Loss, accuracy and predicted classes in inference mode, without recording gradients.
  ///
  /// With `replicas`, each member evaluates its shard of every batch and the loss and accuracy
  /// are summed over the members; `predictions` then holds this member's shard only.
  public static func evaluate(
    _ model: Module, on data: some ExampleSource, replicas: ReplicaGroup? = nil
  ) throws -> Evaluation {
    model.setTraining(false)
    defer { model.setTraining(true) }
    var totalLoss = 0.0
    var predictions: [Int] = []
    var correct = 0
    let batches = data.evaluationBatches.sharded(
      replicas.map { EpochBatches.Shard($0.rank, of: $0.size) })
    try withoutGradients {
      for batch in batches.prefetched() where !batch.labels.isEmpty {
        let logits = try BatchShard.$current.withValue(batch.shard) { try model(batch.inputs) }
        totalLoss +=
          Double(try crossEntropy(logits: logits, labels: batch.labels).item)
          * Double(batch.labels.count)
        let predicted = argmax(logits)
        correct += zip(predicted, batch.labels).filter { $0 == $1 }.count
        predictions += predicted
      }
    }
    if let replicas {
      let sums = try replicas.sum([totalLoss, Double(correct)])
      (totalLoss, correct) = (sums[0], Int(sums[1]))
    }
    return Evaluation(
      loss: Float(totalLoss / Double(max(data.count, 1))),
      accuracy: Float(correct) / Float(max(data.count, 1)), predictions: predictions)
  }

  /// The tensors the optimiser updates, in its order (which every member shares).
  private var trainedTensors: [Tensor] {
    optimizer.groups.flatMap { $0.parameters.map(\.tensor) }
  }
}

/// The index of the largest value in each row of (N, C) logits.
public func argmax(_ logits: Tensor) -> [Int] {
  let classes = logits.shape[1]
  return (0..<logits.shape[0]).map { row in
    let values = logits.scalars[(row * classes)..<((row + 1) * classes)]
    return values.indices.max { values[$0] < values[$1] }! - row * classes
  }
}

/// What one training step adds to the epoch's figures, summed over the members of a
/// data-parallel run in one small reduction: the loss (a member's NaN reaches them all), the
/// counts, and whether any member was asked to stop (so that all stop after the same step).
struct StepFigures {
  var lossSum: Double
  var correct: Double
  var seen: Double
  var stopRequests: Double

  func summed(over replicas: ReplicaGroup?) throws -> StepFigures {
    guard let replicas else { return self }
    let sums = try replicas.sum([lossSum, correct, seen, stopRequests])
    return StepFigures(lossSum: sums[0], correct: sums[1], seen: sums[2], stopRequests: sums[3])
  }
}
