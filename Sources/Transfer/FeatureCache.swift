import Zoo
import ZooData
import ZooNN
import ZooTensor

/// Backbone features of a data set, computed once: with a frozen backbone and no augmentation
/// the head sees the same vectors every epoch, so head-only fine-tuning costs one forward pass
/// of the backbone plus cheap epochs over these.
public struct FeatureBatches: ExampleSource {
  /// Width of each feature vector.
  public let featureCount: Int
  /// The label of each row.
  public let labels: [Int]
  /// Rows per batch when the head trains on these features.
  public let batchSize: Int
  /// Row after row, `featureCount` values each.
  public let values: [Float]

  /// Runs `model.features` over `data` in inference mode without recording gradients;
  /// `progress` hears (examples done, total) after each batch.
  public init(
    model: Classifier, data: some ExampleSource, batchSize: Int,
    progress: ((Int, Int) -> Void)? = nil
  ) throws {
    let wasTraining = model.isTraining
    model.setTraining(false)
    defer { model.setTraining(wasTraining) }
    var values: [Float] = []
    var labels: [Int] = []
    values.reserveCapacity(data.count * model.featureCount)
    try withoutGradients {
      for batch in data.evaluationBatches.prefetched() {
        values += try model.features(batch.inputs).scalars
        labels += batch.labels
        progress?(labels.count, data.count)
      }
    }
    self.featureCount = model.featureCount
    self.labels = labels
    self.batchSize = batchSize
    self.values = values
  }

  /// Number of rows.
  public var count: Int { labels.count }
  /// `[featureCount]`.
  public var exampleShape: [Int] { [featureCount] }
  /// The label of row `index`.
  public func label(of index: Int) -> Int { labels[index] }

  /// Copies row `index` into `out`; features are never augmented.
  public func write(
    example index: Int, into out: UnsafeMutableBufferPointer<Float>, augmentation: AugmentationKey?
  ) {
    values.withUnsafeBufferPointer { values in
      out.baseAddress!.update(from: values.baseAddress! + index * featureCount, count: featureCount)
    }
  }
}
