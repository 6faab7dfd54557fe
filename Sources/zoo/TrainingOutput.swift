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

  /// Rewrites the log and the curves after an epoch, so a stopped run keeps them.
  func writeLog(_ history: [EpochFigures], title: String) throws {
    try writeAtomically(
      ([EpochFigures.csvHeader] + history.map(\.csvRow)).joined(separator: "\n") + "\n", to: logURL)
    let chart = LineChart.trainingCurves(
      title: title, trainLoss: history.map { Double($0.trainLoss) },
      validationLoss: history.map { Double($0.validationLoss) },
      trainAccuracy: history.map { Double($0.trainAccuracy) },
      validationAccuracy: history.map { Double($0.validationAccuracy) })
    try chart.render().write(to: curvesURL)
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
    normalization: Normalization?, card: ModelCard
  ) throws {
    let metadata = WeightFileMetadata(
      architecture: entry.name, classCount: classNames.count, inputShape: inputShape,
      classNames: classNames, normalizationMean: normalization?.mean,
      normalizationStd: normalization?.std,
      modelCard: try card.json())
    try WeightFile.write(model, metadata: metadata, to: modelURL)
  }
}
