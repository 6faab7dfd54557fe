import Foundation

/// The standard segmentation metrics from one confusion matrix accumulated over all pixels of a
/// data set (not averaged per image): per-class IoU `TP / (TP + FP + FN)`, per-class Dice
/// `2 TP / (2 TP + FP + FN)`, their means over the classes that occur in truth or prediction,
/// pixel accuracy, and the foreground IoU with every non-zero class merged.
public struct SegmentationScores: Sendable, Equatable {
  public let classCount: Int
  /// `confusion[truth * classCount + predicted]` pixel counts.
  public private(set) var confusion: [Int]

  public init(classCount: Int) {
    precondition(classCount > 0, "needs at least one class")
    self.classCount = classCount
    confusion = [Int](repeating: 0, count: classCount * classCount)
  }

  /// Adds one or more masks' worth of pixels; both arrays hold one class per pixel.
  public mutating func add(truth: [Int], prediction: [Int]) throws {
    guard truth.count == prediction.count else {
      throw SegmentationMetricError.sizeMismatch(truth: truth.count, prediction: prediction.count)
    }
    for (t, p) in zip(truth, prediction) {
      guard (0..<classCount).contains(t), (0..<classCount).contains(p) else {
        throw SegmentationMetricError.classOutOfRange(
          value: (0..<classCount).contains(t) ? p : t, classCount: classCount)
      }
      confusion[t * classCount + p] += 1
    }
  }

  public var pixelCount: Int { confusion.reduce(0, +) }

  /// The confusion matrix as rows, `[truth][predicted]`.
  public var confusionRows: [[Int]] {
    (0..<classCount).map { Array(confusion[($0 * classCount)..<(($0 + 1) * classCount)]) }
  }

  /// (true positives, false positives, false negatives) of class `c`.
  public func counts(_ c: Int) -> (tp: Int, fp: Int, fn: Int) {
    let tp = confusion[c * classCount + c]
    let column = (0..<classCount).reduce(0) { $0 + confusion[$1 * classCount + c] }
    let row = (0..<classCount).reduce(0) { $0 + confusion[c * classCount + $1] }
    return (tp, column - tp, row - tp)
  }

  /// IoU of each class; nil for a class absent from both truth and prediction.
  public var perClassIoU: [Double?] {
    (0..<classCount).map { c in
      let (tp, fp, fn) = counts(c)
      return tp + fp + fn == 0 ? nil : Double(tp) / Double(tp + fp + fn)
    }
  }

  /// Dice (F1) of each class; nil for a class absent from both truth and prediction.
  public var perClassDice: [Double?] {
    (0..<classCount).map { c in
      let (tp, fp, fn) = counts(c)
      return tp + fp + fn == 0 ? nil : Double(2 * tp) / Double(2 * tp + fp + fn)
    }
  }

  /// Mean IoU over the classes that occur, background included.
  public var meanIoU: Double { Self.mean(perClassIoU) }
  /// Mean Dice over the classes that occur, background included.
  public var meanDice: Double { Self.mean(perClassDice) }

  public var pixelAccuracy: Double {
    let total = pixelCount
    return total == 0
      ? 0
      : Double((0..<classCount).reduce(0) { $0 + confusion[$1 * classCount + $1] }) / Double(total)
  }

  /// IoU of "any non-background class" against background: the binary score of a per-class
  /// model; equals class 1's IoU for a two-class one.
  public var foregroundIoU: Double {
    var (tp, fp, fn) = (0, 0, 0)
    for t in 0..<classCount {
      for p in 0..<classCount {
        let n = confusion[t * classCount + p]
        switch (t != 0, p != 0) {
        case (true, true): tp += n
        case (false, true): fp += n
        case (true, false): fn += n
        default: break
        }
      }
    }
    return tp + fp + fn == 0 ? 1 : Double(tp) / Double(tp + fp + fn)
  }

  private static func mean(_ values: [Double?]) -> Double {
    let present = values.compactMap { $0 }
    return present.isEmpty ? 0 : present.reduce(0, +) / Double(present.count)
  }
}

public enum SegmentationMetricError: Error, Equatable, LocalizedError {
  case sizeMismatch(truth: Int, prediction: Int)
  case classOutOfRange(value: Int, classCount: Int)
  case classCountMismatch(model: Int, data: Int)

  public var errorDescription: String? {
    switch self {
    case .sizeMismatch(let truth, let prediction):
      return
        "the true mask has \(truth) pixels but the prediction has \(prediction); they must have one size"
    case .classOutOfRange(let value, let classCount):
      return "class \(value) is out of range for \(classCount) classes"
    case .classCountMismatch(let model, let data):
      return "the model predicts \(model) classes but the masks have \(data)"
    }
  }
}
