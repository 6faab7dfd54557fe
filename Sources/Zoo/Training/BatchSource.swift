import ZooData
import ZooTensor

/// Labelled examples served in mini-batches: images, cached feature vectors, table rows.
public protocol BatchSource {
  /// Number of examples.
  var count: Int { get }
  var batchCount: Int { get }
  /// The true labels, in example order.
  var labels: [Int] { get }
  /// The example order of one epoch: shuffled by `seed`, or in stored order when nil.
  func order(seed: UInt64?) -> [Int]
  /// Batch `index` of an epoch whose example order is `order`.
  func batch(_ index: Int, order: [Int]) -> (images: Tensor, labels: [Int])
}

extension ImageBatches: BatchSource {
  public var labels: [Int] { images.labels }
}
