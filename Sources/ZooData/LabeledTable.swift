import ZooTensor

/// Rows of numeric features with integer labels, as a CSV table gives them; the tabular
/// counterpart of `LabeledImages`.
public struct LabeledTable: Sendable, Equatable, LabeledExamples {
  /// The name of each feature column, in order.
  public let featureNames: [String]
  /// Feature values, row after row: `count * featureCount` values.
  public let features: [Float]
  public let labels: [Int]
  /// The name of each class, indexed by label.
  public let classNames: [String]

  public init(featureNames: [String], features: [Float], labels: [Int], classNames: [String]) {
    precondition(
      features.count == labels.count * featureNames.count,
      "\(features.count) feature values do not fill \(labels.count) rows of \(featureNames.count)")
    self.featureNames = featureNames
    self.features = features
    self.labels = labels
    self.classNames = classNames
  }

  public var count: Int { labels.count }
  public var featureCount: Int { featureNames.count }

  /// The features of row `index`.
  public func row(_ index: Int) -> ArraySlice<Float> {
    features[(index * featureCount)..<((index + 1) * featureCount)]
  }

  /// All rows as an (N, F) tensor.
  public var tensor: Tensor { Tensor(shape: [count, featureCount], scalars: features) }

  public func selecting(_ indices: [Int]) -> LabeledTable {
    var selected: [Float] = []
    selected.reserveCapacity(indices.count * featureCount)
    for i in indices { selected.append(contentsOf: row(i)) }
    return LabeledTable(
      featureNames: featureNames, features: selected, labels: indices.map { labels[$0] },
      classNames: classNames)
  }

  /// The same rows with new feature values (after scaling).
  func replacingFeatures(_ values: [Float]) -> LabeledTable {
    LabeledTable(
      featureNames: featureNames, features: values, labels: labels, classNames: classNames)
  }
}

/// How features are scaled before training.
public enum FeatureScaling: String, Sendable, CaseIterable, Codable {
  /// Zero mean and unit variance per feature (population variance, as scikit-learn's
  /// `StandardScaler`).
  case standard
  /// Each feature mapped onto [0, 1] by its minimum and maximum (`MinMaxScaler`).
  case minmax
}

/// Per-feature scaling `(x - center) / spread` fitted on a training split. It is saved with a
/// model so inputs at inference are scaled by the training statistics.
public struct FeatureScaler: Sendable, Equatable, Codable {
  public let kind: FeatureScaling
  public let featureNames: [String]
  public let center: [Float]
  public let spread: [Float]

  public init(kind: FeatureScaling, featureNames: [String], center: [Float], spread: [Float]) {
    precondition(
      center.count == featureNames.count && spread.count == featureNames.count,
      "a scaler needs one center and one spread per feature")
    self.kind = kind
    self.featureNames = featureNames
    self.center = center
    self.spread = spread
  }

  /// Statistics of `table`'s features. A constant feature gets spread 1, as scikit-learn does,
  /// so it maps to 0 instead of dividing by zero.
  public static func fit(_ kind: FeatureScaling, to table: LabeledTable) -> FeatureScaler {
    precondition(table.count > 0, "cannot fit feature scaling on an empty table")
    let n = table.count
    let f = table.featureCount
    var center = [Float](repeating: 0, count: f)
    var spread = [Float](repeating: 1, count: f)
    for j in 0..<f {
      let column = (0..<n).map { Double(table.features[$0 * f + j]) }
      let width: Double
      switch kind {
      case .standard:
        let mean = column.reduce(0, +) / Double(n)
        center[j] = Float(mean)
        width = (column.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(n)).squareRoot()
      case .minmax:
        let low = column.min()!
        center[j] = Float(low)
        width = column.max()! - low
      }
      spread[j] = width > 0 ? Float(width) : 1
    }
    return FeatureScaler(
      kind: kind, featureNames: table.featureNames, center: center, spread: spread)
  }

  /// One row scaled.
  public func apply<Row: Collection<Float>>(to row: Row) -> [Float] {
    precondition(
      row.count == center.count, "a row of \(row.count) features, scaler has \(center.count)")
    return zip(row, zip(center, spread)).map { value, stats in (value - stats.0) / stats.1 }
  }

  /// Every row of `table` scaled.
  public func apply(to table: LabeledTable) -> LabeledTable {
    precondition(
      table.featureCount == center.count,
      "the table has \(table.featureCount) features, the scaler was fitted on \(center.count)")
    var values = table.features
    for i in values.indices {
      let j = i % center.count
      values[i] = (values[i] - center[j]) / spread[j]
    }
    return table.replacingFeatures(values)
  }
}
