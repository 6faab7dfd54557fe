import ArgumentParser
import Foundation
import Transfer
import Zoo
import ZooData
import ZooIO
import ZooNN
import ZooTensor

struct Finetune: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract:
      "Fine-tune a pretrained model on a small labelled set: swap the head, freeze the rest, train.",
    discussion: """
      Defaults: the shipped LeNet-5 trained on Fashion-MNIST classes 0-4, fine-tuned on classes 5-9 \
      with 20 labelled images per class, backbone frozen. Early stopping and the best epoch are \
      chosen on a validation split held out from the training images; the final figure is on \
      the test split.
      """)

  @Argument(help: "A shipped weight file's name (see `zoo list`) or a weight file path.")
  var source = "lenet5-fashion-mnist-0-4"

  @Option(help: "What to freeze: backbone, none, upto:STAGE or prefix:PATH[,PATH...].")
  var freeze = "backbone"

  @OptionGroup var dataOptions: DataArguments

  @Option(help: "Epochs for the new head (first stage).")
  var epochs = 50

  @Option(help: "Epochs with everything unfrozen and per-stage rates (second stage).")
  var unfreezeEpochs = 0

  @Option(help: "Base learning rate (AdamW).")
  var lr: Float = 0.03

  @Option(help: "Examples per step.")
  var batchSize = 16

  @Option(help: "Hidden units in the new head (none: a single linear layer).")
  var hidden: Int?

  @Option(help: "Seed for the new head, sampling and shuffling.")
  var seed: UInt64 = 0

  @Option(help: ArgumentHelp("Write the fine-tuned model here.", valueName: "model.h5"))
  var out = "runs/finetuned.h5"

  mutating func validate() throws {
    if dataOptions.data == "fashion-mnist" { dataOptions.data = "fashion-mnist:5-9" }
    if dataOptions.shots == nil { dataOptions.shots = 20 }
    guard epochs >= 0, unfreezeEpochs >= 0, epochs + unfreezeEpochs > 0 else {
      throw ValidationError("--epochs and --unfreeze-epochs must not be negative, and not both 0")
    }
  }

  func run() throws {
    try reportingErrors {
      let started = Date()
      let (entry, weights, url) = try resolveSource()
      let model = try entry.buildClassifier(classCount: weights.metadata.classCount)
      try weights.load(into: model)
      let normalization = weights.metadata.normalizationMean.flatMap { mean in
        weights.metadata.normalizationStd.map { Normalization(mean: mean, std: $0) }
      }
      print(
        "source: \(url.lastPathComponent) (\(entry.name), \(weights.metadata.classNames?.joined(separator: ", ") ?? "?"))"
      )

      let splits = try loadSplits(inputShape: weights.metadata.inputShape ?? entry.inputShape)
      let swap = model.replaceHead(
        classCount: splits.classNames.count, hidden: hidden, rng: RandomStream(seed: seed))
      print(swap)
      var configuration = FineTuneConfiguration()
      configuration.freeze = try FreezePolicy(parsing: freeze)
      configuration.headEpochs = epochs
      configuration.unfreezeEpochs = unfreezeEpochs
      configuration.learningRate = lr
      configuration.batchSize = batchSize
      configuration.seed = seed
      print(try model.freeze(configuration.freeze))
      print(
        "data: \(dataOptions.data), \(splits.train.count) training, \(splits.validation.count) validation, \(splits.test.count) test examples"
      )

      let batches = { (examples: Examples, size: Int) in
        examples.batches(batchSize: size, normalization: normalization)
      }
      let result = try FineTuner(model: model, configuration: configuration).run(
        train: splits.train.batches(
          batchSize: batchSize, normalization: normalization,
          augmentation: dataOptions.augment.augmentation),
        validation: batches(splits.validation, 256),
        epochEnded: { (epoch: FineTuneEpoch) in
          guard epoch.epoch % 5 == 0 || epoch.epoch == 1 else { return }
          print(
            String(
              format:
                "%@ epoch %d: train loss %.4f, validation loss %.4f, validation accuracy %.2f%%",
              epoch.stage.rawValue, epoch.epoch, epoch.trainLoss, epoch.validationLoss,
              100 * epoch.validationAccuracy))
        })
      let test = try ClassifierTrainer.evaluate(model, on: batches(splits.test, 256))
      print(
        String(
          format:
            "best: %@ epoch %d (validation accuracy %.2f%%)%@; test accuracy %.2f%% on %d images",
          result.best.stage.rawValue, result.best.epoch, 100 * result.best.validationAccuracy,
          result.usedFeatureCache ? ", head trained on cached features" : "", 100 * test.accuracy,
          splits.test.count))
      try write(
        model, entry: entry, classNames: splits.classNames, normalization: normalization,
        accuracy: test.accuracy, wall: Date().timeIntervalSince(started))
      print(String(format: "done in %.1f s", Date().timeIntervalSince(started)))
    }
  }

  /// A shipped file by name, or a path.
  private func resolveSource() throws -> (ModelEntry, LoadedWeights, URL) {
    let shipped = ModelRegistry.entries.flatMap { entry in entry.weights.map { (entry, $0) } }
    let url: URL
    if let (_, file) = shipped.first(where: { $0.1.file == source || $0.1.file == source + ".h5" })
    {
      guard let found = file.url else {
        throw ValidationErrorLine(message: "zoo/\(file.file) is not in this checkout")
      }
      url = found
    } else if FileManager.default.fileExists(atPath: source) {
      url = URL(fileURLWithPath: source)
    } else {
      let names = shipped.map { $0.1.file.replacingOccurrences(of: ".h5", with: "") }
      throw ValidationErrorLine(
        message:
          "no shipped weights or file named '\(source)'; shipped: \(names.joined(separator: ", "))")
    }
    let weights = try WeightFile.read(contentsOf: url)
    guard let name = weights.metadata.architecture else {
      throw ValidationErrorLine(
        message: "\(url.path) does not record its architecture; import it with zoo import --arch")
    }
    return (try ModelRegistry.entry(named: name), weights, url)
  }

  /// Training shots, a validation split held out from the other training images, and the test split.
  private func loadSplits(inputShape: [Int]) throws -> (
    train: Examples, validation: Examples, test: Examples, classNames: [String]
  ) {
    var options = dataOptions
    options.shots = nil
    let data = try options.load(inputShape: inputShape, seed: seed)
    guard data.validationName == "test" else {
      let train = try dataOptions.shots.map { try data.train.kShot($0, seed: seed) } ?? data.train
      return (train, data.validation, data.validation, data.classNames)
    }
    let (pool, validation) = try data.train.stratifiedSplit(validationFraction: 0.05, seed: seed)
    let train = try dataOptions.shots.map { try pool.kShot($0, seed: seed) } ?? pool
    return (train, validation, data.validation, data.classNames)
  }

  private func write(
    _ model: Classifier, entry: ModelEntry, classNames: [String], normalization: Normalization?,
    accuracy: Float, wall: Double
  ) throws {
    let url = URL(fileURLWithPath: out)
    try FileManager.default.createDirectory(
      at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
    let card = ModelCard(
      architecture: entry.name, data: dataOptions.data, classes: classNames,
      recipe: [
        "source": source, "freeze": freeze, "shots": dataOptions.shots.map(String.init) ?? "all",
        "lr": "\(lr)", "optimizer": "adamw", "unfreeze_epochs": "\(unfreezeEpochs)",
      ],
      seed: seed, epochs: epochs, evaluatedOn: "test", accuracy: accuracy, wallSeconds: wall,
      command: (["zoo"] + CommandLine.arguments.dropFirst()).joined(separator: " "))
    let metadata = WeightFileMetadata(
      architecture: entry.name, classCount: classNames.count, inputShape: entry.inputShape,
      classNames: classNames,
      normalizationMean: normalization?.mean, normalizationStd: normalization?.std,
      modelCard: try card.json())
    try WeightFile.write(model, metadata: metadata, to: url)
    print("wrote \(out)")
  }
}
