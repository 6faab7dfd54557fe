import Foundation
import Zoo
import ZooData

extension Evaluate {
  /// `zoo evaluate` for a segmentation model: every pixel of the split counted in one
  /// confusion matrix, the scores derived from it, the matrix as text and PNG, and with
  /// --out-dir the first --strips images as image | truth | prediction strips.
  func evaluateSegmentation(_ source: PretrainedSource) throws {
    let segmenter = try namingWeightFile(source.url.path) {
      try TrainedSegmenter(weights: source.weights, source: source.url.path)
    }
    let seed = self.seed ?? source.weights.metadata.card?.seed ?? 0
    let data = try SegmentationSource(parsing: dataOptions.data).load(
      channels: segmenter.channels, validationFraction: dataOptions.valSplit, seed: seed,
      classNames: segmenter.classNames)
    let set = split == .train ? data.train : data.heldOut
    let splitName = split == .train ? "train" : data.heldOutName
    try checkClasses(data: set.classNames, model: segmenter.classNames)
    let evaluation = try segmenter.evaluate(set)
    let scores = evaluation.scores
    print(
      "\(source.url.lastPathComponent) (\(segmenter.entry.name)) on \(dataOptions.data), \(splitName) split: \(set.count) images of \(set.width)x\(set.height), \(scores.pixelCount) pixels"
    )
    print(scoreLine(scores) + String(format: ", loss %.4f", evaluation.loss))
    print("")
    for line in perClassLines(scores, classNames: segmenter.classNames) { print(line) }
    print("")
    let metrics = ClassificationMetrics(
      confusion: scores.confusionRows, classNames: segmenter.classNames)
    print("confusion matrix in pixels (rows: true class, columns: predicted class)")
    print(metrics.confusionText)
    let png = try drawConfusion(
      metrics, title: "\(segmenter.entry.name) on \(splitName), pixels", model: source.url)
    guard outDir != nil else { return }
    let stem = png.deletingLastPathComponent().appendingPathComponent(
      source.url.deletingPathExtension().lastPathComponent)
    let count = min(max(strips, 0), set.count)
    for i in 0..<count {
      try segmentationStrip(set, index: i, prediction: evaluation.prediction(i, plane: set.plane))
        .write(to: stem.appendingPathExtension(String(format: "strip-%04d.png", i)))
    }
    if count > 0 {
      print("wrote \(count) image | truth | prediction strips as \(stem.path).strip-NNNN.png")
    }
  }
}
