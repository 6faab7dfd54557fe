import Zoo
import ZooNN
import ZooTensor

/// What a head swap removed and put in, for the report a command prints.
public struct HeadSwapReport: Sendable, CustomStringConvertible {
  /// Where the old classifier was and the new head is.
  public var classifierPath: String
  /// The old classifier's tensors as `path [shape]`.
  public var dropped: [String]
  /// Classes of the new head.
  public var classCount: Int
  /// Hidden units of the new head, when it has a hidden layer.
  public var hidden: Int?

  /// One line for the command line's report.
  public var description: String {
    let new =
      hidden.map { "\($0)-unit hidden layer, then \(classCount) classes" }
      ?? "\(classCount) classes"
    return
      "dropped classifier \(classifierPath) (\(dropped.joined(separator: ", "))); new head: \(new)"
  }
}

extension Classifier {
  /// Replaces the classifier by a freshly initialised head for `classCount` classes: one linear
  /// layer, or with `hidden` units a linear-ReLU-dropout-linear stack. Every backbone tensor is
  /// kept as it is.
  @discardableResult
  public func replaceHead(
    classCount: Int, hidden: Int? = nil, dropout: Float = 0.5, rng: RandomStream = .global
  ) -> HeadSwapReport {
    let dropped = stateDict().filter { Module.path($0.path, isUnder: classifierPath) }
      .map { "\($0.path) \(describe(shape: $0.tensor.shape))" }
    let head: Module
    if let hidden {
      head = Sequential([
        Linear(featureCount, hidden, rng: rng), ReLU(), Dropout(dropout, rng: rng),
        Linear(hidden, classCount, rng: rng),
      ])
    } else {
      head = Linear(featureCount, classCount, rng: rng)
    }
    replaceClassifier(with: head, classCount: classCount)
    return HeadSwapReport(
      classifierPath: classifierPath, dropped: dropped, classCount: classCount, hidden: hidden)
  }
}
