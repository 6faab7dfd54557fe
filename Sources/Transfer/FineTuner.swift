import Foundation
import Zoo
import ZooData
import ZooNN
import ZooTensor

/// How to fine-tune: fastai's `fine_tune` recipe. First only what `freeze` leaves trainable
/// (normally the new head) for `headEpochs`; then, for `unfreezeEpochs`, everything, with a
/// lower base rate and per-stage rates rising geometrically from `base / discriminativeRange`
/// at the first stage to `base` at the head, under a one-cycle schedule.
public struct FineTuneConfiguration: Sendable {
  /// What trains in the first stage (normally the new head alone).
  public var freeze: FreezePolicy = .backbone
  /// Epochs of the first stage.
  public var headEpochs = 10
  /// Epochs of the second stage, with everything trainable (0: no second stage).
  public var unfreezeEpochs = 0
  /// Examples per step.
  public var batchSize = 32
  /// The first stage's rate (AdamW, constant).
  public var learningRate: Float = 1e-3
  /// The second stage's base rate is `learningRate * unfrozenRateFactor` (fastai halves it).
  public var unfrozenRateFactor: Float = 0.5
  /// Ratio of the head's rate to the first stage's rate in the second stage (fastai: 100).
  public var discriminativeRange: Float = 100
  /// Decoupled weight decay (AdamW) in both stages.
  public var weightDecay: Float = 1e-4
  /// Stop a stage when the validation loss has not improved for this many epochs.
  public var patience = 5
  /// Train the head on backbone features computed once (only with a frozen backbone).
  public var cacheFeatures = true
  /// Seeds the shuffling of each epoch.
  public var seed: UInt64 = 0

  public init() {}
}

/// One epoch of a fine-tuning run.
public struct FineTuneEpoch: Sendable {
  /// The first stage trains what the freeze leaves (`head`); the second everything (`all`).
  public enum Stage: String, Sendable { case head, all }
  /// Which stage the epoch belongs to.
  public var stage: Stage
  /// The epoch within its stage, from 1.
  public var epoch: Int
  /// Mean training loss over the epoch's steps.
  public var trainLoss: Float
  /// Training accuracy over the epoch's steps.
  public var trainAccuracy: Float
  /// Loss on the validation data after the epoch.
  public var validationLoss: Float
  /// Accuracy on the validation data after the epoch.
  public var validationAccuracy: Float
  /// Wall time of the epoch, validation included.
  public var seconds: Double
}

/// What a fine-tuning run did.
public struct FineTuneResult: Sendable {
  /// Every epoch of both stages, in order.
  public var history: [FineTuneEpoch]
  /// The epoch whose weights the model holds at the end (lowest validation loss).
  public var best: FineTuneEpoch
  /// Whether the first stage trained the head on cached backbone features.
  public var usedFeatureCache: Bool
}

/// Runs the two-stage fine-tune on a classifier whose head has already been swapped.
public final class FineTuner {
  /// The classifier being fine-tuned, in place.
  public let model: Classifier
  /// The recipe.
  public let configuration: FineTuneConfiguration
  /// The members of a data-parallel run this process is one of (nil: a single process): every
  /// stage splits its batches over them and averages the gradients; validation is shared out.
  public var replicas: ReplicaGroup?

  /// A fine-tuner for `model`, whose head should already be swapped for the target classes.
  public init(model: Classifier, configuration: FineTuneConfiguration) {
    self.model = model
    self.configuration = configuration
  }

  /// Fine-tunes on `train`, validating on `validation` after each epoch, and leaves the model
  /// with the weights of the epoch with the lowest validation loss.
  public func run(
    train: some ExampleSource, validation: some ExampleSource,
    progress: ((TrainingProgress) -> Void)? = nil, epochEnded: ((FineTuneEpoch) -> Void)? = nil
  ) throws -> FineTuneResult {
    var history: [FineTuneEpoch] = []
    var best: (epoch: FineTuneEpoch, state: [[Float]])?
    let record = { (epoch: FineTuneEpoch) in
      history.append(epoch)
      epochEnded?(epoch)
      if best == nil || epoch.validationLoss < best!.epoch.validationLoss {
        best = (epoch, self.model.stateDict().map(\.tensor.scalars))
      }
    }

    if let replicas { try model.broadcastState(over: replicas) }
    try model.freeze(configuration.freeze)
    let cached = configuration.cacheFeatures && configuration.freeze == .backbone
    if configuration.headEpochs > 0 {
      try trainHead(
        train: train, validation: validation, cached: cached, progress: progress, record: record)
    }
    if configuration.unfreezeEpochs > 0 {
      try trainAll(train: train, validation: validation, progress: progress, record: record)
    }
    guard let best else { throw FineTuneError.nothingToTrain }
    for ((_, tensor), values) in zip(model.stateDict(), best.state) { tensor.scalars = values }
    return FineTuneResult(history: history, best: best.epoch, usedFeatureCache: cached)
  }

  private func trainHead(
    train: some ExampleSource, validation: some ExampleSource, cached: Bool,
    progress: ((TrainingProgress) -> Void)?, record: (FineTuneEpoch) -> Void
  ) throws {
    let optimizer = Adam.adamW(
      parameters: model.trainableParameters(), learningRate: configuration.learningRate,
      weightDecay: configuration.weightDecay)
    if cached {
      let trainFeatures = try FeatureBatches(
        model: model, data: train, batchSize: configuration.batchSize)
      let validationFeatures = try FeatureBatches(model: model, data: validation, batchSize: 256)
      let head = model.child(at: model.classifierPath)!
      let trainer = ClassifierTrainer(model: head, optimizer: optimizer)
      try runStage(
        .head, trainer, trainFeatures, validationFeatures, evaluate: head,
        epochs: configuration.headEpochs, progress, record)
    } else {
      let trainer = ClassifierTrainer(model: model, optimizer: optimizer)
      if configuration.freeze == .backbone {
        trainer.enterTrainingMode = { [model] _ in model.enterHeadOnlyTrainingMode() }
      }
      try runStage(
        .head, trainer, train, validation, evaluate: model, epochs: configuration.headEpochs,
        progress, record)
    }
  }

  private func trainAll(
    train: some ExampleSource, validation: some ExampleSource,
    progress: ((TrainingProgress) -> Void)?, record: (FineTuneEpoch) -> Void
  ) throws {
    try model.freeze(.none)
    let stages = model.children.filter { !$0.module.namedParameters().isEmpty }
    let groups = stages.enumerated().map { index, stage in
      let position = stages.count > 1 ? Float(index) / Float(stages.count - 1) : 1
      let scale = pow(configuration.discriminativeRange, position - 1)
      return ParameterGroup(
        stage.module.namedParameters().map { ("\(stage.name).\($0.path)", $0.tensor) },
        learningRateScale: scale)
    }
    let optimizer = Adam(
      groups: groups, learningRate: configuration.learningRate * configuration.unfrozenRateFactor,
      weightDecay: configuration.weightDecay, decoupledWeightDecay: true)
    let steps = configuration.unfreezeEpochs * max(train.batchCount, 1)
    let trainer = ClassifierTrainer(
      model: model, optimizer: optimizer, schedule: .oneCycle(totalSteps: steps))
    try runStage(
      .all, trainer, train, validation, evaluate: model, epochs: configuration.unfreezeEpochs,
      progress, record)
  }

  private func runStage(
    _ stage: FineTuneEpoch.Stage, _ trainer: ClassifierTrainer, _ train: some ExampleSource,
    _ validation: some ExampleSource, evaluate evaluated: Module, epochs: Int,
    _ progress: ((TrainingProgress) -> Void)?, _ record: (FineTuneEpoch) -> Void
  ) throws {
    var bestLoss = Float.infinity
    var sinceBest = 0
    trainer.replicas = replicas
    for epoch in 1...epochs {
      let start = Date()
      let (loss, accuracy) = try trainer.trainEpoch(
        train, epoch: epoch, epochs: epochs, seed: configuration.seed, progress: progress)
      let evaluation = try ClassifierTrainer.evaluate(
        evaluated, on: validation, replicas: replicas)
      try TrainingError.checkEvaluation(evaluation.loss, epoch: epoch)
      record(
        FineTuneEpoch(
          stage: stage, epoch: epoch, trainLoss: loss, trainAccuracy: accuracy,
          validationLoss: evaluation.loss,
          validationAccuracy: evaluation.accuracy, seconds: Date().timeIntervalSince(start)))
      if evaluation.loss < bestLoss {
        bestLoss = evaluation.loss
        sinceBest = 0
      } else {
        sinceBest += 1
        if sinceBest >= configuration.patience { break }
      }
    }
  }
}

/// A fine-tuning run that cannot start.
public enum FineTuneError: Error, Equatable, LocalizedError {
  case nothingToTrain

  public var errorDescription: String? {
    "nothing to fine-tune: both the head epochs and the unfreeze epochs are 0"
  }
}
