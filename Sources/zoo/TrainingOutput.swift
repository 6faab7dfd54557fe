import Foundation
import Zoo
import ZooData
import ZooIO
import ZooNN
import ZooPlot
import ZooTensor

/// The files a training run leaves: `NAME.h5` (weights, metadata, model card), `NAME.log.csv`
/// and `NAME.curves.png`, each written atomically.
struct TrainingOutput {
  let modelURL: URL

  private var stem: URL { modelURL.deletingPathExtension() }
  var logURL: URL { stem.appendingPathExtension("log.csv") }
  var curvesURL: URL { stem.appendingPathExtension("curves.png") }
  /// The state to resume from, rewritten after every epoch and on Ctrl-C.
  var checkpointURL: URL { stem.appendingPathExtension("checkpoint.json") }

  /// Rewrites the log and the curves after an epoch, so a stopped run keeps them. A generative
  /// run's log has its held-out reconstruction and KL terms where a classifier's has accuracy.
  func writeLog(_ history: [EpochFigures], title: String, generative: Bool = false) throws {
    let rows =
      generative
      ? [EpochFigures.generativeCSVHeader] + history.map(\.generativeCSVRow)
      : [EpochFigures.csvHeader] + history.map(\.csvRow)
    try writeAtomically(rows.joined(separator: "\n") + "\n", to: logURL)
    if generative {
      try generativeCurves(history, title: title).render().write(to: curvesURL)
      return
    }
    let chart = LineChart.trainingCurves(
      title: title, trainLoss: history.map { Double($0.trainLoss) },
      validationLoss: history.map { Double($0.validationLoss) },
      trainAccuracy: history.map { Double($0.trainAccuracy) },
      validationAccuracy: history.map { Double($0.validationAccuracy) })
    try chart.render().write(to: curvesURL)
  }

  /// Loss per image (train and held out), and the held-out reconstruction and KL terms.
  private func generativeCurves(_ history: [EpochFigures], title: String) -> LineChart {
    LineChart(
      title: title,
      panels: [
        .init(
          title: "Loss per image", yLabel: "nats",
          series: [
            .init("train", values: history.map { Double($0.trainLoss) }),
            .init("held out", values: history.map { Double($0.validationLoss) }),
          ]),
        .init(
          title: "Held-out terms", yLabel: "nats",
          series: [
            .init(
              "reconstruction", values: history.map { Double($0.validationReconstruction ?? 0) }),
            .init("KL", values: history.map { Double($0.validationKL ?? 0) }),
          ]),
      ])
  }

  /// The error line for a diverged run: what went wrong, then which checkpoint is left (the
  /// diverged state is never saved).
  func diverged(_ error: TrainingError) -> ValidationErrorLine {
    let kept =
      FileManager.default.fileExists(atPath: checkpointURL.path)
      ? "the last good checkpoint stays at \(checkpointURL.path)" : "no checkpoint was written"
    return ValidationErrorLine(message: "\(error.errorDescription ?? "\(error)"); \(kept)")
  }

  /// Writes the weights with their metadata; for a table model `normalization` holds the
  /// feature scaling (centre and spread per feature).
  func writeModel(
    _ model: Module, entry: ModelEntry, inputShape: [Int], classNames: [String],
    classCount: Int? = nil, normalization: Normalization?, card: ModelCard
  ) throws {
    let metadata = WeightFileMetadata(
      architecture: entry.name, classCount: classCount ?? classNames.count, inputShape: inputShape,
      classNames: classNames.isEmpty ? nil : classNames, normalizationMean: normalization?.mean,
      normalizationStd: normalization?.std,
      modelCard: try card.json())
    try WeightFile.write(model, metadata: metadata, to: modelURL)
  }
}
