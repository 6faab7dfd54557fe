import Foundation

/// Precision, recall and F1 of one class (or an average over classes), and how many examples
/// truly belong to it.
public struct ClassScores: Sendable, Equatable {
  public var precision: Double
  public var recall: Double
  public var f1: Double
  public var support: Int

  public init(precision: Double, recall: Double, f1: Double, support: Int) {
    self.precision = precision
    self.recall = recall
    self.f1 = f1
    self.support = support
  }
}

/// Two classes the model mixes up: `count` examples of `truth` predicted as `predicted`.
public struct ConfusedPair: Sendable, Equatable {
  public var truth: Int
  public var predicted: Int
  public var count: Int

  public init(truth: Int, predicted: Int, count: Int) {
    self.truth = truth
    self.predicted = predicted
    self.count = count
  }
}

public enum MetricsError: Error, Equatable, LocalizedError {
  case countMismatch(truth: Int, predictions: Int)
  case labelOutOfRange(index: Int, label: Int, classCount: Int)

  public var errorDescription: String? {
    switch self {
    case .countMismatch(let truth, let predictions):
      return
        "metrics need one prediction per true label, got \(truth) labels and \(predictions) predictions"
    case .labelOutOfRange(let index, let label, let classCount):
      return "metrics: example \(index) has class \(label), outside 0..<\(classCount)"
    }
  }
}

/// A classifier's results on a labelled set: the confusion matrix and what scikit-learn's
/// `confusion_matrix` and `classification_report` derive from it. A class that is never
/// predicted (or never present) gets precision (or recall) 0, as scikit-learn's default
/// `zero_division` gives.
public struct ClassificationMetrics: Sendable, Equatable {
  public let classNames: [String]
  /// `confusion[truth][predicted]`: how many examples of class `truth` were predicted as
  /// `predicted`.
  public let confusion: [[Int]]

  public init(truth: [Int], predictions: [Int], classNames: [String]) throws {
    guard truth.count == predictions.count else {
      throw MetricsError.countMismatch(truth: truth.count, predictions: predictions.count)
    }
    let n = classNames.count
    var confusion = Array(repeating: Array(repeating: 0, count: n), count: n)
    for (index, (t, p)) in zip(truth, predictions).enumerated() {
      for label in [t, p] where !(0..<n).contains(label) {
        throw MetricsError.labelOutOfRange(index: index, label: label, classCount: n)
      }
      confusion[t][p] += 1
    }
    self.classNames = classNames
    self.confusion = confusion
  }

  /// Metrics from counts already gathered, `confusion[truth][predicted]`, such as a
  /// segmentation model's pixel counts.
  public init(confusion: [[Int]], classNames: [String]) {
    precondition(
      confusion.count == classNames.count && confusion.allSatisfy { $0.count == classNames.count },
      "a confusion matrix for \(classNames.count) classes must be \(classNames.count)x\(classNames.count)"
    )
    self.classNames = classNames
    self.confusion = confusion
  }

  public var total: Int { confusion.joined().reduce(0, +) }
  public var correct: Int { confusion.indices.reduce(0) { $0 + confusion[$1][$1] } }
  /// Share of examples predicted correctly; 0 for an empty set.
  public var accuracy: Double { total == 0 ? 0 : Double(correct) / Double(total) }

  /// Scores of each class, in class order.
  public var perClass: [ClassScores] {
    confusion.indices.map { c in
      let truePositives = Double(confusion[c][c])
      let support = confusion[c].reduce(0, +)
      let predicted = confusion.reduce(0) { $0 + $1[c] }
      let precision = predicted == 0 ? 0 : truePositives / Double(predicted)
      let recall = support == 0 ? 0 : truePositives / Double(support)
      let f1 = precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall)
      return ClassScores(precision: precision, recall: recall, f1: f1, support: support)
    }
  }

  /// The unweighted mean of the per-class scores.
  public var macroAverage: ClassScores { average { _ in 1 } }

  /// The per-class scores weighted by support.
  public var weightedAverage: ClassScores { average { Double($0.support) } }

  private func average(weight: (ClassScores) -> Double) -> ClassScores {
    let scores = perClass
    let weights = scores.map(weight)
    let sum = weights.reduce(0, +)
    func mean(_ value: (ClassScores) -> Double) -> Double {
      sum == 0 ? 0 : zip(scores, weights).reduce(0) { $0 + value($1.0) * $1.1 } / sum
    }
    return ClassScores(
      precision: mean(\.precision), recall: mean(\.recall), f1: mean(\.f1), support: total)
  }

  /// The off-diagonal cells with the most examples, largest first (ties in class order).
  public func mostConfused(limit: Int = 5) -> [ConfusedPair] {
    var pairs: [ConfusedPair] = []
    for truth in confusion.indices {
      for predicted in confusion.indices where predicted != truth && confusion[truth][predicted] > 0
      {
        pairs.append(
          ConfusedPair(truth: truth, predicted: predicted, count: confusion[truth][predicted]))
      }
    }
    return Array(pairs.sorted { $0.count > $1.count }.prefix(limit))
  }

  // MARK: Text

  /// The per-class table, laid out as scikit-learn's `classification_report`.
  public var reportText: String {
    let width = max(classNames.map(\.count).max() ?? 0, "weighted avg".count)
    // The name column, then a space, as scikit-learn pads it.
    func pad(_ text: String) -> String {
      String(repeating: " ", count: width - text.count) + text + " "
    }
    func row(_ name: String, _ s: ClassScores) -> String {
      pad(name)
        + String(format: " %9.2f %9.2f %9.2f %9d", s.precision, s.recall, s.f1, s.support)
    }
    let header = pad("") + " precision    recall  f1-score   support"
    var lines = [header, ""]
    lines += zip(classNames, perClass).map(row)
    lines += [
      "",
      pad("accuracy") + String(repeating: " ", count: 20)
        + String(format: " %9.2f %9d", accuracy, total),
      row("macro avg", macroAverage), row("weighted avg", weightedAverage),
    ]
    return lines.joined(separator: "\n") + "\n"
  }

  /// The confusion matrix with a header row and column of class numbers and a key to names.
  public var confusionText: String {
    let cell = max(String(confusion.joined().max() ?? 0).count, String(classNames.count).count) + 1
    func padded(_ text: String, _ width: Int) -> String {
      String(repeating: " ", count: max(width - text.count, 0)) + text
    }
    let label = "true\\pred"
    var lines = [
      padded(label, label.count) + confusion.indices.map { padded("\($0)", cell) }.joined()
    ]
    for (truth, row) in confusion.enumerated() {
      lines.append(padded("\(truth)", label.count) + row.map { padded("\($0)", cell) }.joined())
    }
    lines.append(
      "classes: "
        + classNames.enumerated().map { "\($0.offset) \($0.element)" }.joined(separator: ", "))
    return lines.joined(separator: "\n") + "\n"
  }
}
