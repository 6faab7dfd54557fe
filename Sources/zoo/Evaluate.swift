import ArgumentParser
import Foundation
import Zoo
import ZooData
import ZooPlot

struct Evaluate: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract:
      "Measure a trained model on labelled data: a classifier's accuracy, per-class precision, recall and F1, or a segmentation model's pixel accuracy, IoU and Dice; the confusion matrix.",
    discussion: """
      The held-out split is used: the test split when the source has one (Fashion-MNIST, a \
      test/ folder), otherwise the validation split drawn by --seed (default: the seed in the \
      model card, so it is the split the model was validated on). The confusion matrix is also \
      drawn as MODEL.confusion.png beside the model or in --out-dir. A segmentation model \
      takes --data scenes, scenes:binary or folder:PATH (images/ and masks/) and counts \
      pixels; with --out-dir it also draws image | truth | prediction strips of the first \
      --strips images. An autoencoder or a VAE reports its reconstruction error and negative \
      ELBO per image, and with --anomaly CLASS the AUROC of the reconstruction error for that \
      class, which it must have been trained without.
      """)

  @Argument(help: "A weight file written by `zoo train`, or a shipped weight file's name.")
  var model: String

  @OptionGroup var dataOptions: DataArguments

  @Option(help: "Which split to measure: \(SplitChoice.allValueStrings.joined(separator: ", ")).")
  var split: SplitChoice = .heldout

  @Option(help: "Seed of the validation split (default: the model card's seed, else 0).")
  var seed: UInt64?

  @Option(help: "How many of the most-confused class pairs to list.")
  var pairs = 5

  @Option(help: "Folder for the confusion-matrix PNG (default: beside the model).")
  var outDir: String?

  @Option(help: "Segmentation: how many image | truth | prediction strips to draw in --out-dir.")
  var strips = 4

  @Option(
    help: ArgumentHelp(
      "Autoencoder or VAE trained without this Fashion-MNIST class: AUROC of the reconstruction error for telling it from the others.",
      valueName: "CLASS"))
  var anomaly: Int?

  func run() throws {
    try reportingErrors {
      let source = try PretrainedSource(model)
      if source.entry.task == .segmentation { return try evaluateSegmentation(source) }
      if source.entry.task == .generation { return try evaluateGenerative(source) }
      let trained = try TrainedModel(source)
      guard trained.entry.task == .classification else {
        throw ValidationErrorLine(
          message:
            "\(trained.entry.name) is a \(trained.entry.task.rawValue) model; evaluate measures classifiers"
        )
      }
      let seed = self.seed ?? trained.card?.seed ?? 0
      let data = try dataOptions.load(inputShape: trained.inputShape, seed: seed, scaled: false)
      for line in data.report.lines { print(line) }
      try checkClasses(data: data.classNames, model: trained.classNames)
      let examples = split == .train ? data.train : data.validation
      let splitName = split == .train ? "train" : data.validationName
      let evaluation = try ClassifierTrainer.evaluate(trained.model, on: trained.batches(examples))
      let metrics = try ClassificationMetrics(
        truth: examples.labels, predictions: evaluation.predictions,
        classNames: trained.classNames)
      print(
        "\(trained.url.lastPathComponent) (\(trained.entry.name)) on \(dataOptions.data), \(splitName) split: \(metrics.total) examples"
      )
      print(
        String(
          format: "accuracy %.2f%% (%d/%d), loss %.4f", 100 * metrics.accuracy, metrics.correct,
          metrics.total, evaluation.loss))
      print("")
      print(metrics.reportText)
      print("confusion matrix (rows: true class, columns: predicted class)")
      print(metrics.confusionText)
      let confused = metrics.mostConfused(limit: pairs)
      if !confused.isEmpty {
        print("most confused:")
        for pair in confused {
          let share = Double(pair.count) / Double(max(metrics.perClass[pair.truth].support, 1))
          print(
            String(
              format: "  %@ taken for %@: %d (%.1f%% of %@)", metrics.classNames[pair.truth],
              metrics.classNames[pair.predicted], pair.count, 100 * share,
              metrics.classNames[pair.truth]))
        }
      }
      try drawConfusion(metrics, title: "\(trained.entry.name) on \(splitName)", model: trained.url)
    }
  }

  /// Stops when the data has another number of classes than the model predicts; notes
  /// differing names.
  func checkClasses(data: [String], model: [String]) throws {
    guard data.count == model.count else {
      throw ValidationErrorLine(
        message:
          "\(dataOptions.data) has \(data.count) classes (\(data.joined(separator: ", "))), the model predicts \(model.count) (\(model.joined(separator: ", ")))"
      )
    }
    if data != model {
      print(
        "note: the data names its classes \(data.joined(separator: ", ")); the model's names are used"
      )
    }
  }

  /// Draws the confusion matrix as MODEL.confusion.png beside the model or in --out-dir.
  @discardableResult
  func drawConfusion(_ metrics: ClassificationMetrics, title: String, model: URL) throws -> URL {
    let chart = ConfusionMatrixChart(
      counts: metrics.confusion, classNames: metrics.classNames, title: title)
    let png = try pngURL(for: model)
    try chart.render().write(to: png)
    print("wrote \(png.path)")
    return png
  }

  private func pngURL(for model: URL) throws -> URL {
    let name = model.deletingPathExtension().lastPathComponent + ".confusion.png"
    guard let outDir else { return model.deletingLastPathComponent().appendingPathComponent(name) }
    let folder = URL(fileURLWithPath: outDir)
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    return folder.appendingPathComponent(name)
  }
}

/// The split a command measures.
enum SplitChoice: String, ExpressibleByArgument, CaseIterable {
  /// The test split when the source has one, else the validation split.
  case heldout
  case train
}
