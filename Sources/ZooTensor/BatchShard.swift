/// Where the batch an op sees sits in the batch it is part of. In a data-parallel run every
/// member computes on a shard of each global batch; the choices an op makes from its batch
/// (the convolution algorithm, one random mask per sample) are made from the global batch
/// instead, so that the members together compute what one process computes on the whole
/// batch. Set with `BatchShard.$current.withValue` around a step's forward and backward passes.
public struct BatchShard: Sendable, Equatable {
  /// The position in the global batch of the shard's first sample.
  public var offset: Int
  /// Samples in the global batch.
  public var globalBatch: Int

  public init(offset: Int, globalBatch: Int) {
    self.offset = offset
    self.globalBatch = globalBatch
  }

  /// The shard the ops of this task compute on; nil: the whole batch.
  @TaskLocal public static var current: BatchShard?

  /// The batch to choose by for an op that sees `batch` samples.
  static func planningBatch(_ batch: Int) -> Int {
    current?.globalBatch ?? batch
  }

  /// The position in the global batch of sample `index` of the op's batch.
  static func globalPosition(_ index: Int) -> Int {
    (current?.offset ?? 0) + index
  }
}
