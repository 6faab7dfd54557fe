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

  @OptionGroup var parallelOptions: DataParallelArguments

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

  @Option(
    help:
      "What the model learns: classify or segment; the architecture's own task when not given.")
  var task: TaskChoice?

  @Option(
    help:
      "Segmentation loss: \(LossChoice.allValueStrings.joined(separator: ", ")).")
  var loss: LossChoice = .ceDice

  @Option(
    help:
      "Segmentation: parameters that stay fixed (none, encoder, upto:STAGE, prefix:PATH[,PATH...])."
  )
  var freeze = "none"

  @OptionGroup var generativeOptions: GenerativeArguments

  @Option(
    help: ArgumentHelp(
      "Segmentation: load a ResNet's weights (a zoo weight file, fc left out) into the encoder first.",
      valueName: "file.h5"))
  var encoderWeights: String?

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

  @Flag(
    help:
      "Continue from the checkpoint beside --out (written after every epoch and on Ctrl-C); the options must be the ones the run started with."
  )
  var resume = false

  func run() throws {
    try DataParallelRun.running(parallelOptions) { try train(parallel: $0) }
  }

  /// Trains in this process, or as one rank of `parallel`.
  private func train(parallel: DataParallelRun?) throws {
    try reportingErrors {
      let entry = try ModelRegistry.entry(named: architecture)
      if let task, task.modelTask != entry.task {
        throw ValidationErrorLine(
          message:
            "\(entry.name) is a \(entry.task.rawValue) model; --task \(task.rawValue) needs a \(task.modelTask.rawValue) one"
        )
      }
      if entry.task == .segmentation { return try trainSegmentation(entry, parallel: parallel) }
      let started = Date()
      // Rank 0 alone writes files; the others read the checkpoint from it.
      let output =
        parallel?.isRoot == false
        ? nil : out.map { TrainingOutput(modelURL: URL(fileURLWithPath: $0)) }
      let checkpoint =
        try resume
        ? parallel.map { try $0.shared { try readCheckpoint(output) } } ?? readCheckpoint(output)
        : nil
      let data = try dataOptions.load(inputShape: entry.inputShape, seed: seed)
      for line in data.report.lines { print(line) }
      let inputShape = try self.inputShape(of: entry, for: data)
      let generative = entry.task == .generation
      // A generative model reconstructs pixels in [0, 1]: they are not normalised.
      let normalization =
        generative ? .none(channels: inputShape[0]) : dataOptions.normalization(for: data)
      let train = data.train.batches(
        batchSize: batchSize, normalization: normalization,
        augmentation: dataOptions.augment.augmentation)
      let held = data.validation.batches(batchSize: 256, normalization: normalization)
      // Initial weights and dropout draw from one stream, which checkpoints save.
      let random = RandomStream(seed: seed)
      let model =
        generative
        ? entry.build(
          classCount: generativeOptions.latent, inputChannels: inputShape[0], rng: random)
        : try entry.buildClassifier(
          classCount: data.classNames.count, inputChannels: inputShape[0], rng: random)
      print(
        "\(entry.name): \(Summary.grouped(model.parameterCount)) parameters, "
          + (generative
            ? generativeOptions.describe(model) : "\(data.classNames.count) classes"))
      print(
        "data: \(dataOptions.data), \(train.count) training and \(held.count) \(data.validationName) examples"
      )
      let trainer = ClassifierTrainer(
        model: model,
        optimizer: optimizer.make(
          model.trainableParameters(), lr: lr, momentum: momentum, weightDecay: weightDecay),
        schedule: schedule.schedule(totalSteps: epochs * train.batchCount),
        labelSmoothing: labelSmoothing)
      let autoencoder = model as? ConvAutoencoder
      if let autoencoder {
        trainer.batchLoss = generativeOptions.objective(autoencoder, random: random)
      }
      var history: [EpochFigures] = []
      var firstEpoch = 1
      var position = EpochPosition()
      var earlierSeconds = 0.0
      if let checkpoint {
        try checkpoint.restore(into: trainer, random: random)
        (history, firstEpoch, position) = (
          checkpoint.history, checkpoint.completedEpochs + 1, checkpoint.position
        )
        earlierSeconds = checkpoint.elapsedSeconds
        print("resuming at epoch \(firstEpoch), step \(position.step) of \(train.batchCount)")
      }
      if let parallel { try parallel.join(trainer, batches: train) }
      func save(completedEpochs: Int, position: EpochPosition) throws {
        try output.map {
          try TrainingCheckpoint(
            trainer: trainer, architecture: entry.name, settings: settings, seed: seed,
            completedEpochs: completedEpochs, position: position, random: random,
            history: history, elapsedSeconds: earlierSeconds + Date().timeIntervalSince(started)
          ).write(to: $0.checkpointURL)
        }
      }
      func stop(epoch: Int, position: EpochPosition) throws -> Never {
        try save(completedEpochs: epoch - 1, position: position)
        if let output {
          print(
            "interrupted at epoch \(epoch), step \(position.step) of \(train.batchCount); saved \(output.checkpointURL.path)"
          )
          print("resume with: \(resumeCommand)")
        } else {
          print("interrupted at epoch \(epoch), step \(position.step); nothing saved (no --out)")
        }
        throw ExitCode(Interrupt.exitStatus)
      }
      Interrupt.install()
      let progress = ProgressBar()
      progress.showsAccuracy = !generative
      for epoch in firstEpoch..<(epochs + 1) {
        let epochStart = Date()
        let (loss, accuracy): (Float, Float)
        let evaluation: (loss: Float, accuracy: Float)
        var generated: GenerativeEvaluation?
        do {
          (loss, accuracy) = try trainer.trainEpoch(
            train, epoch: epoch, epochs: epochs, seed: seed,
            from: epoch == firstEpoch ? position : EpochPosition(),
            shouldStop: { Interrupt.isRequested }, progress: progress.update)
          parallel?.reportReduction(
            of: trainer, images: train.count - (epoch == firstEpoch ? position.seen : 0),
            seconds: Date().timeIntervalSince(epochStart))
          if let autoencoder {
            generated = try GenerativeEvaluation.evaluate(
              autoencoder, on: held, reconstruction: generativeOptions.reconstruction.loss)
            evaluation = (generated!.loss, 0)
          } else {
            let scores = try ClassifierTrainer.evaluate(model, on: held, replicas: parallel?.group)
            evaluation = (scores.loss, scores.accuracy)
          }
          try TrainingError.checkEvaluation(evaluation.loss, epoch: epoch)
        } catch let interrupted as TrainingInterrupted {
          try stop(epoch: epoch, position: interrupted.position)
        } catch let diverged as TrainingError {
          guard let output else { throw diverged }
          throw output.diverged(diverged)
        }
        history.append(
          EpochFigures(
            epoch: epoch, trainLoss: loss, trainAccuracy: accuracy, validationLoss: evaluation.loss,
            validationAccuracy: evaluation.accuracy, learningRate: trainer.optimizer.learningRate,
            seconds: Date().timeIntervalSince(epochStart),
            validationReconstruction: generated?.reconstruction, validationKL: generated?.kl))
        if let generated {
          print(
            String(
              format:
                "epoch %d: train loss %.4f, %@ loss %.4f (reconstruction %.4f, KL %.4f) per image",
              epoch, loss, data.validationName, generated.loss, generated.reconstruction,
              generated.kl))
        } else {
          print(
            String(
              format:
                "epoch %d: train loss %.4f, train accuracy %.2f%%, %@ loss %.4f, %@ accuracy %.2f%%",
              epoch, loss, 100 * accuracy, data.validationName, evaluation.loss,
              data.validationName, 100 * evaluation.accuracy))
        }
        try output?.writeLog(
          history, title: "\(entry.name) on \(dataOptions.data)", generative: generative)
        try save(completedEpochs: epoch, position: EpochPosition())
        if Interrupt.isRequested && epoch < epochs {
          try stop(epoch: epoch + 1, position: EpochPosition())
        }
      }
      let wall = earlierSeconds + Date().timeIntervalSince(started)
      if let output {
        let card = ModelCard(
          architecture: entry.name, data: dataOptions.data, classes: data.classNames,
          recipe: recipe, seed: seed, epochs: epochs, evaluatedOn: data.validationName,
          accuracy: history.last!.validationAccuracy, wallSeconds: wall,
          command: (["zoo"] + CommandLine.arguments.dropFirst().filter { $0 != "--resume" })
            .joined(separator: " "),
          metrics: generative ? history.last!.generativeMetrics : nil)
        try output.writeModel(
          model, entry: entry, inputShape: inputShape,
          classNames: generative ? [] : data.classNames,
          classCount: generative ? generativeOptions.latent : nil,
          normalization: normalization
            ?? data.scaler.map {
              Normalization(mean: $0.center, std: $0.spread)
            }, card: card)
        print("wrote \(output.modelURL.path), its log and its curves")
      }
      print(String(format: "done in %.1f s", wall))
    }
  }

  /// The model's input for this data: the architecture's image shape, or the table's feature
  /// count for a model that takes vectors.
  private func inputShape(of entry: ModelEntry, for data: LoadedData) throws -> [Int] {
    switch data.train {
    case .images:
      guard entry.inputShape.count == 3 else {
        throw ValidationErrorLine(
          message: "\(entry.name) takes feature vectors; \(dataOptions.data) holds images")
      }
      return entry.inputShape
    case .table(let table):
      guard entry.inputShape.count == 1 else {
        throw ValidationErrorLine(
          message:
            "\(entry.name) takes images; \(dataOptions.data) holds table rows (train mlp on tables)"
        )
      }
      return [table.featureCount]
    }
  }

  private func readCheckpoint(_ output: TrainingOutput?) throws -> TrainingCheckpoint {
    guard let output else {
      throw ValidationErrorLine(
        message: "--resume needs --out: the checkpoint is read from beside it")
    }
    guard FileManager.default.fileExists(atPath: output.checkpointURL.path) else {
      throw ValidationErrorLine(
        message:
          "no checkpoint to resume from at \(output.checkpointURL.path); start without --resume")
    }
    let checkpoint = try TrainingCheckpoint.read(contentsOf: output.checkpointURL)
    let differences = settings.keys.sorted().compactMap { key -> String? in
      let saved = checkpoint.settings[key] ?? "unset"
      return saved == settings[key] ? nil : "\(key) \(saved) there, \(settings[key]!) now"
    }
    guard differences.isEmpty else {
      throw CheckpointError.settingsDiffer(
        file: output.checkpointURL.path, differences: differences)
    }
    return checkpoint
  }

  /// Everything that shapes the run's numbers; a resumed run must match the checkpoint's.
  private var settings: [String: String] {
    recipe.merging(
      [
        "architecture": architecture, "data": dataOptions.data, "epochs": "\(epochs)",
        "seed": "\(seed)", "val_split": "\(dataOptions.valSplit)",
        "scaling": dataOptions.scaling.rawValue, "skip_corrupt": "\(dataOptions.skipCorrupt)",
      ], uniquingKeysWith: { a, _ in a }
    ).merging(
      (try? ModelRegistry.entry(named: architecture).task) == .generation
        ? generativeOptions.settings : [:], uniquingKeysWith: { a, _ in a })
  }

  /// This command line with `--resume` added.
  private var resumeCommand: String {
    let arguments = CommandLine.arguments.dropFirst().filter { $0 != "--resume" }
    return (["zoo"] + arguments + ["--resume"]).map(shellQuoted).joined(separator: " ")
  }

  /// The settings a model card records.
  var recipe: [String: String] {
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

/// `text` as a shell reads it back: bare when it is plain, in single quotes otherwise.
func shellQuoted(_ text: String) -> String {
  let plain = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-_./:=,+@%"))
  guard !text.isEmpty, text.unicodeScalars.allSatisfy(plain.contains) else {
    return "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
  }
  return text
}
