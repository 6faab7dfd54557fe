import Zoo
import ZooNN
import ZooTensor

/// Backbone features of a data set, computed once: with a frozen backbone and no augmentation
/// the head sees the same vectors every epoch, so head-only fine-tuning costs one forward pass
/// of the backbone plus cheap epochs over these.
public struct FeatureBatches: BatchSource, Sendable {
  public let featureCount: Int
  public let labels: [Int]
  public let batchSize: Int
  /// Row after row, `featureCount` values each.
  public let values: [Float]

  /// Runs `model.features` over `data` in inference mode without recording gradients.
  public init(model: Classifier, data: some BatchSource, batchSize: Int) throws {
    let wasTraining = model.isTraining
    model.setTraining(false)
    defer { model.setTraining(wasTraining) }
    let order = data.order(seed: nil)
    var values: [Float] = []
    values.reserveCapacity(data.count * model.featureCount)
    try withoutGradients {
      for index in 0..<data.batchCount {
        values += try model.features(data.batch(index, order: order).images).scalars
      }
    }
    self.featureCount = model.featureCount
    self.labels = data.labels
    self.batchSize = batchSize
    self.values = values
  }

  public var count: Int { labels.count }
  public var batchCount: Int { (count + batchSize - 1) / batchSize }

  public func order(seed: UInt64?) -> [Int] {
    guard let seed else { return Array(0..<count) }
    var generator = SeededGenerator(seed: seed)
    return Array(0..<count).shuffled(using: &generator)
  }

  public func batch(_ index: Int, order: [Int]) -> (images: Tensor, labels: [Int]) {
    let members = order[(index * batchSize)..<min((index + 1) * batchSize, order.count)]
    var rows = [Float]()
    rows.reserveCapacity(members.count * featureCount)
    for member in members {
      rows += values[(member * featureCount)..<((member + 1) * featureCount)]
    }
    return (
      Tensor(shape: [members.count, featureCount], scalars: rows), members.map { labels[$0] }
    )
  }
}
