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
      Defaults: the shipped ResNet-20 trained on Fashion-MNIST classes 0-4, fine-tuned on classes 5-9 \
      with 20 labelled images per class, backbone frozen. Early stopping and the best epoch are \
      chosen on a validation split held out from the training images; the final figure is on \
      the test split.
      """)

  @Argument(help: "A shipped weight file's name (see `zoo list`) or a weight file path.")
  var source = Finetune.defaultSource

  static let defaultSource = "resnet20-fashion-mnist-0-4"

  @Option(help: "What to freeze: backbone, none, upto:STAGE or prefix:PATH[,PATH...].")
  var freeze = "backbone"

  @OptionGroup var dataOptions: DataArguments

  @OptionGroup var recipe: FineTuneArguments

  @OptionGroup var parallelOptions: DataParallelArguments

  @Option(help: "Seed for the new head, sampling and shuffling.")
  var seed: UInt64 = 0

  @Option(help: ArgumentHelp("Write the fine-tuned model here.", valueName: "model.h5"))
  var out = "runs/finetuned.h5"

  mutating func validate() throws {
    if dataOptions.data == "fashion-mnist" { dataOptions.data = "fashion-mnist:5-9" }
    if dataOptions.shots == nil { dataOptions.shots = 20 }
    guard recipe.epochs + (recipe.unfreezeEpochs ?? 0) > 0 else {
      throw ValidationError("--epochs and --unfreeze-epochs must not both be 0")
    }
  }

  func run() throws {
    try DataParallelRun.running(parallelOptions) { try fineTune(parallel: $0) }
  }

  /// Fine-tunes in this process, or as one rank of `parallel` (rank 0 writes the file).
  private func fineTune(parallel: DataParallelRun?) throws {
    try reportingErrors {
      let started = Date()
      let source = try PretrainedSource(source)
      let model = try source.classifier()
      print("source: \(source.summary)")
      var options = dataOptions
      options.shots = nil
      let data = try options.load(inputShape: source.inputShape, seed: seed)
      let splits = try FewShotSplits(data, shots: dataOptions.shots, seed: seed)
      print(
        model.replaceHead(
          classCount: data.classNames.count, hidden: recipe.hidden, rng: RandomStream(seed: seed)))
      let policy = try FreezePolicy(parsing: freeze)
      var configuration = recipe.configuration(freeze: policy, seed: seed)
      // Augmented images give new features every epoch: nothing to cache.
      configuration.cacheFeatures = dataOptions.augment == .none
      print(try model.freeze(policy))
      print(
        "data: \(dataOptions.data), \(splits.train.count) training, \(splits.validation.count) validation, \(splits.test.count) test examples"
      )

      let normalization = source.normalization
      let progress = ProgressBar()
      let headOnly = policy == .backbone && configuration.unfreezeEpochs == 0
      let tuner = FineTuner(model: model, configuration: configuration)
      if let parallel {
        try parallel.checkBatches(splits.train.count, batchSize: recipe.batchSize)
        model.synchronizeBatchNorm(over: parallel.syncBatchNorm ? parallel.group : nil)
        tuner.replicas = parallel.group
      }
      let result = try tuner.run(
        train: splits.train.batches(
          batchSize: recipe.batchSize, normalization: normalization,
          augmentation: dataOptions.augment.augmentation),
        validation: splits.validation.batches(batchSize: 256, normalization: normalization),
        // Cached head epochs take milliseconds: a bar for each would only be noise.
        progress: headOnly ? nil : progress.update,
        epochEnded: { (epoch: FineTuneEpoch) in
          guard epoch.epoch % 5 == 0 || epoch.epoch == 1 else { return }
          print(
            String(
              format:
                "%@ epoch %d: train loss %.4f, validation loss %.4f, validation accuracy %.2f%%",
              epoch.stage.rawValue, epoch.epoch, epoch.trainLoss, epoch.validationLoss,
              100 * epoch.validationAccuracy))
        })
      let test = try ClassifierTrainer.evaluate(
        model, on: splits.test.batches(batchSize: 256, normalization: normalization),
        replicas: parallel?.group)
      print(
        String(
          format:
            "best: %@ epoch %d (validation accuracy %.2f%%)%@; test accuracy %.2f%% on %d images",
          result.best.stage.rawValue, result.best.epoch, 100 * result.best.validationAccuracy,
          result.usedFeatureCache ? ", head trained on cached features" : "", 100 * test.accuracy,
          splits.test.count))
      guard parallel?.isRoot != false else { return }
      try write(
        model, entry: source.entry, classNames: data.classNames, normalization: normalization,
        policy: policy, accuracy: test.accuracy, wall: Date().timeIntervalSince(started))
      print(String(format: "done in %.1f s", Date().timeIntervalSince(started)))
    }
  }

  private func write(
    _ model: Classifier, entry: ModelEntry, classNames: [String], normalization: Normalization?,
    policy: FreezePolicy, accuracy: Float, wall: Double
  ) throws {
    let url = URL(fileURLWithPath: out)
    try FileManager.default.createDirectory(
      at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
    let card = ModelCard(
      architecture: entry.name, data: dataOptions.data, classes: classNames,
      recipe: recipe.recipe(freeze: policy).merging([
        "source": source, "shots": dataOptions.shots.map(String.init) ?? "all",
      ]) { $1 },
      seed: seed, epochs: recipe.epochs + (recipe.unfreezeEpochs ?? 0), evaluatedOn: "test",
      accuracy: accuracy, wallSeconds: wall,
      command: (["zoo"] + CommandLine.arguments.dropFirst()).joined(separator: " "))
    // An autoencoder's encoder with a head is no registry architecture: the file records none.
    let metadata = WeightFileMetadata(
      architecture: model is EncoderClassifier ? nil : entry.name, classCount: classNames.count,
      inputShape: entry.inputShape,
      classNames: classNames,
      normalizationMean: normalization?.mean, normalizationStd: normalization?.std,
      modelCard: try card.json())
    try WeightFile.write(model, metadata: metadata, to: url)
    print(
      "wrote \(out)"
        + (model is EncoderClassifier
          ? " (an encoder and its head, recorded without an architecture: read it as weights)" : "")
    )
  }
}
