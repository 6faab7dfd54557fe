import ArgumentParser
import Foundation
import Zoo
import ZooData
import ZooNN
import ZooTensor

struct Train: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Train an architecture from scratch.",
    discussion:
      "Defaults: LeNet-5 on Fashion-MNIST, 3 epochs, SGD 0.05 with momentum 0.9, cosine schedule.")

  @Argument(help: "Architecture name (see `zoo list`).")
  var architecture = "lenet5"

  @OptionGroup var dataOptions: DataArguments

  @Option(help: "Passes over the training set.")
  var epochs = 3

  @Option(help: "Examples per step.")
  var batchSize = 64

  @Option(help: "Base learning rate.")
  var lr: Float = 0.05

  @Option(help: "Optimiser: \(OptimizerChoice.allValueStrings.joined(separator: ", ")).")
  var optimizer: OptimizerChoice = .sgd

  @Option(help: "SGD momentum.")
  var momentum: Float = 0.9

  @Option(
    help:
      "Learning-rate schedule over the whole run: \(ScheduleChoice.allValueStrings.joined(separator: ", "))."
  )
  var schedule: ScheduleChoice = .cosine

  @Option(help: "Weight decay (L2 for SGD and Adam, decoupled for AdamW).")
  var weightDecay: Float = 0

  @Option(help: "Label smoothing for the cross-entropy loss.")
  var labelSmoothing: Float = 0

  @Option(help: "Seed for initial weights, splits, shuffling and augmentation.")
  var seed: UInt64 = 0

  @Option(
    help: ArgumentHelp(
      "Write the trained weights here (HDF5), with a CSV log and a PNG of the curves beside it.",
      valueName: "model.h5"))
  var out: String?

  func validate() throws {
    guard epochs > 0 else { throw ValidationError("--epochs must be at least 1, got \(epochs)") }
    guard batchSize > 0 else {
      throw ValidationError("--batch-size must be at least 1, got \(batchSize)")
    }
    guard lr > 0 else { throw ValidationError("--lr must be positive, got \(lr)") }
    guard (0..<1).contains(labelSmoothing) else {
      throw ValidationError("--label-smoothing must be in [0, 1), got \(labelSmoothing)")
    }
  }

  func run() throws {
    try reportingErrors {
      let entry = try ModelRegistry.entry(named: architecture)
      let started = Date()
      let data = try dataOptions.load(inputShape: entry.inputShape, seed: seed)
      for line in data.report.lines { print(line) }
      guard case .images = data.train else {
        throw ValidationErrorLine(
          message: "\(entry.name) takes images; \(dataOptions.data) holds table rows")
      }
      let normalization = dataOptions.normalization(for: data)
      let train = data.train.batches(
        batchSize: batchSize, normalization: normalization,
        augmentation: dataOptions.augment.augmentation)
      let held = data.validation.batches(batchSize: 256, normalization: normalization)
      let model = try entry.buildClassifier(
        classCount: data.classNames.count, rng: RandomStream(seed: seed))
      print(
        "\(entry.name): \(Summary.grouped(model.parameterCount)) parameters, \(data.classNames.count) classes"
      )
      print(
        "data: \(dataOptions.data), \(train.count) training and \(held.count) \(data.validationName) examples"
      )
      let trainer = ClassifierTrainer(
        model: model,
        optimizer: optimizer.make(
          model.trainableParameters(), lr: lr, momentum: momentum, weightDecay: weightDecay),
        schedule: schedule.schedule(totalSteps: epochs * train.batchCount),
        labelSmoothing: labelSmoothing)
      let progress = ProgressBar()
      let output = out.map { TrainingOutput(modelURL: URL(fileURLWithPath: $0)) }
      var history: [EpochFigures] = []
      for epoch in 1...epochs {
        let epochStart = Date()
        let (loss, accuracy) = try trainer.trainEpoch(
          train, epoch: epoch, epochs: epochs, seed: seed, progress: progress.update)
        let evaluation = try ClassifierTrainer.evaluate(model, on: held)
        history.append(
          EpochFigures(
            epoch: epoch, trainLoss: loss, trainAccuracy: accuracy, validationLoss: evaluation.loss,
            validationAccuracy: evaluation.accuracy, learningRate: trainer.optimizer.learningRate,
            seconds: Date().timeIntervalSince(epochStart)))
        print(
          String(
            format:
              "epoch %d: train loss %.4f, train accuracy %.2f%%, %@ loss %.4f, %@ accuracy %.2f%%",
            epoch, loss, 100 * accuracy, data.validationName, evaluation.loss, data.validationName,
            100 * evaluation.accuracy))
        try output?.writeLog(history, title: "\(entry.name) on \(dataOptions.data)")
      }
      let wall = Date().timeIntervalSince(started)
      if let output {
        let card = ModelCard(
          architecture: entry.name, data: dataOptions.data, classes: data.classNames,
          recipe: recipe, seed: seed, epochs: epochs, evaluatedOn: data.validationName,
          accuracy: history.last!.validationAccuracy, wallSeconds: wall,
          command: (["zoo"] + CommandLine.arguments.dropFirst()).joined(separator: " "))
        try output.writeModel(
          model, entry: entry, classNames: data.classNames, normalization: normalization, card: card
        )
        print("wrote \(output.modelURL.path), its log and its curves")
      }
      print(String(format: "done in %.1f s", wall))
    }
  }

  /// The settings a model card records.
  private var recipe: [String: String] {
    [
      "optimizer": optimizer.rawValue, "lr": "\(lr)", "momentum": "\(momentum)",
      "schedule": schedule.rawValue, "batch_size": "\(batchSize)", "weight_decay": "\(weightDecay)",
      "label_smoothing": "\(labelSmoothing)", "augment": dataOptions.augment.rawValue,
      "shots": dataOptions.shots.map(String.init) ?? "all",
    ]
  }
}

/// The optimisers a command line can ask for.
enum OptimizerChoice: String, ExpressibleByArgument, CaseIterable {
  case sgd, adam, adamw

  func make(
    _ parameters: [(path: String, tensor: Tensor)], lr: Float, momentum: Float, weightDecay: Float
  ) -> Optimizer {
    switch self {
    case .sgd:
      return SGD(
        parameters: parameters, learningRate: lr, momentum: momentum, weightDecay: weightDecay)
    case .adam: return Adam.adam(parameters: parameters, learningRate: lr, weightDecay: weightDecay)
    case .adamw:
      return Adam.adamW(parameters: parameters, learningRate: lr, weightDecay: weightDecay)
    }
  }
}

/// The learning-rate schedules a command line can ask for.
enum ScheduleChoice: String, ExpressibleByArgument, CaseIterable {
  case constant, cosine, onecycle, step

  /// The schedule for a run of `totalSteps` steps; `step` divides the rate by 10 after each third.
  func schedule(totalSteps: Int) -> LearningRateSchedule {
    switch self {
    case .constant: return .constant
    case .cosine: return .cosine(totalSteps: totalSteps)
    case .onecycle: return .oneCycle(totalSteps: totalSteps)
    case .step: return .step(stepSize: max(totalSteps / 3, 1), gamma: 0.1)
    }
  }
}
