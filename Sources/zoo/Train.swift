import ArgumentParser
import Foundation
import Zoo
import ZooData
import ZooNN
import ZooTensor

struct Train: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Train an architecture from scratch on Fashion-MNIST.")

  @Argument(help: "Architecture name (see the registry).")
  var architecture = "lenet5"

  @Option(help: "Folder holding the Fashion-MNIST IDX files.")
  var data = FashionMNIST.defaultDirectory.path

  @Option(help: "Passes over the training set.")
  var epochs = 3

  @Option(help: "Images per step.")
  var batchSize = 64

  @Option(help: "Learning rate.")
  var lr: Float = 0.05

  @Option(help: "SGD momentum.")
  var momentum: Float = 0.9

  @Option(help: "Learning-rate schedule over the whole run.")
  var schedule: ScheduleChoice = .cosine

  @Option(help: "L2 weight decay.")
  var weightDecay: Float = 0

  @Option(help: "Seed for initial weights and shuffling.")
  var seed: UInt64 = 0

  func validate() throws {
    guard epochs > 0 else { throw ValidationError("--epochs must be at least 1, got \(epochs)") }
    guard batchSize > 0 else {
      throw ValidationError("--batch-size must be at least 1, got \(batchSize)")
    }
    guard lr > 0 else { throw ValidationError("--lr must be positive, got \(lr)") }
  }

  func run() throws {
    try reportingErrors {
      let entry = try ModelRegistry.entry(named: architecture)
      let directory = URL(fileURLWithPath: data)
      let started = Date()
      let train = ImageBatches(
        try FashionMNIST.load(.train, directory: directory), normalization: .fashionMNIST,
        batchSize: batchSize)
      let test = ImageBatches(
        try FashionMNIST.load(.test, directory: directory), normalization: .fashionMNIST,
        batchSize: 256)
      let model = entry.build(classCount: 10, rng: RandomStream(seed: seed))
      print(
        "\(entry.name): \(model.parameterCount) parameters, \(model.trainableParameterCount) trainable"
      )
      print("data: Fashion-MNIST, \(train.count) training and \(test.count) test images")
      let optimizer = SGD(
        parameters: model.trainableParameters(), learningRate: lr, momentum: momentum,
        weightDecay: weightDecay)
      let trainer = ClassifierTrainer(
        model: model, optimizer: optimizer,
        schedule: schedule.schedule(totalSteps: epochs * train.batchCount))
      let progress = ProgressBar()
      for epoch in 1...epochs {
        let (loss, accuracy) = try trainer.trainEpoch(
          train, epoch: epoch, epochs: epochs, seed: seed, progress: progress.update)
        let evaluation = try ClassifierTrainer.evaluate(model, on: test)
        print(
          String(
            format:
              "epoch %d: train loss %.4f, train accuracy %.2f%%, test loss %.4f, test accuracy %.2f%%",
            epoch, loss, 100 * accuracy, evaluation.loss, 100 * evaluation.accuracy))
      }
      print(String(format: "done in %.1f s", Date().timeIntervalSince(started)))
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
