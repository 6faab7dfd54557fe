import ZooTensor

/// Labelled examples that write themselves, model-ready, into mini-batches: images
/// (`ImageBatches`) or table rows (`TableBatches`). Everything built on it (epochs,
/// prefetching) is a pure function of the source, the order and the augmentation key.
public protocol ExampleSource: Sendable {
  /// Number of examples.
  var count: Int { get }
  /// Examples per batch; the last batch of an epoch may be smaller.
  var batchSize: Int { get }
  /// The shape of one example as the model takes it: `[C, H, W]` or `[F]`.
  var exampleShape: [Int] { get }
  /// The label of example `index`.
  func label(of index: Int) -> Int
  /// Writes example `index` into `out` (`exampleShape` values), augmented with randomness from
  /// `augmentation` when the source augments and a key is given.
  func write(
    example index: Int, into out: UnsafeMutableBufferPointer<Float>,
    augmentation: AugmentationKey?)
}

/// One mini-batch: inputs of shape `[N] + exampleShape` and their labels.
public struct Batch: Sendable, Equatable {
  public let shape: [Int]
  public let values: [Float]
  public let labels: [Int]
  /// The examples in the batch, as indices into the source.
  public let indices: [Int]
  /// Where the batch sits in the global batch of a data-parallel step (nil: it is the whole
  /// batch); the ops of the step run with it as `BatchShard.current`.
  public var shard: BatchShard? = nil

  /// The inputs as a tensor.
  public var inputs: Tensor { Tensor(shape: shape, scalars: values) }
}

extension ExampleSource {
  public var batchCount: Int { (count + batchSize - 1) / batchSize }

  /// The example order of one epoch: shuffled by `seed`, or in stored order when nil.
  public func order(seed: UInt64?) -> [Int] {
    guard let seed else { return Array(0..<count) }
    var generator = SeededGenerator(seed: seed)
    return Array(0..<count).shuffled(using: &generator)
  }

  /// Batch `index` of an epoch whose example order is `order`; examples are written in
  /// parallel.
  public func batch(_ index: Int, order: [Int], augmentation: AugmentationKey?) -> Batch {
    batch(
      of: Array(order[(index * batchSize)..<min((index + 1) * batchSize, order.count)]),
      augmentation: augmentation)
  }

  /// The batch of examples `members`, in that order; examples are written in parallel.
  public func batch(of members: [Int], augmentation: AugmentationKey?) -> Batch {
    let size = exampleShape.reduce(1, *)
    var values = [Float](repeating: 0, count: members.count * size)
    values.withUnsafeMutableBufferPointer { out in
      let base = out.baseAddress!
      Parallel.forEach(members.count, costPerItem: size * (augmentation == nil ? 1 : 16)) { slot in
        write(
          example: members[slot],
          into: UnsafeMutableBufferPointer(start: base + slot * size, count: size),
          augmentation: augmentation)
      }
    }
    return Batch(
      shape: [members.count] + exampleShape, values: values, labels: members.map(label(of:)),
      indices: members)
  }

  /// The batches of training epoch `epoch`: examples shuffled by `seed &+ epoch` (the order
  /// `ClassifierTrainer` uses) and augmented with key (`seed`, `epoch`).
  public func trainingEpoch(_ epoch: Int, seed: UInt64) -> EpochBatches {
    EpochBatches(
      source: self, order: order(seed: seed &+ UInt64(epoch)),
      augmentation: AugmentationKey(seed: seed, epoch: epoch))
  }

  /// All examples in stored order, without augmentation, for evaluation.
  public var evaluationBatches: EpochBatches {
    EpochBatches(source: self, order: order(seed: nil), augmentation: nil)
  }
}

/// The batches of one pass over a source, in a fixed order; iterate directly or through
/// `prefetched()` to assemble the next batch while the current one is used.
public struct EpochBatches: Sendable, RandomAccessCollection {
  public let source: any ExampleSource
  public let order: [Int]
  public let augmentation: AugmentationKey?
  /// In a data-parallel run, the part of each batch this member takes.
  public let shard: Shard?

  /// Part `index` of `count` near-equal contiguous parts of every batch: the members of a
  /// data-parallel run take disjoint parts whose union is the batch one process would take.
  public struct Shard: Sendable, Equatable {
    public let index: Int
    public let count: Int

    public init(_ index: Int, of count: Int) {
      precondition((0..<count).contains(index), "shard \(index) of \(count) does not exist")
      self.index = index
      self.count = count
    }

    /// This part of `members`.
    public func part(of members: ArraySlice<Int>) -> [Int] {
      let (start, part) = (members.startIndex, range(inBatchOf: members.count))
      return Array(members[(start + part.lowerBound)..<(start + part.upperBound)])
    }

    /// The positions of this part in a batch of `length`.
    public func range(inBatchOf length: Int) -> Range<Int> {
      (length * index / count)..<(length * (index + 1) / count)
    }
  }

  public init(
    source: any ExampleSource, order: [Int], augmentation: AugmentationKey?, shard: Shard? = nil
  ) {
    self.source = source
    self.order = order
    self.augmentation = augmentation
    self.shard = shard
  }

  /// The same batches, each cut down to `shard`.
  public func sharded(_ shard: Shard?) -> EpochBatches {
    EpochBatches(source: source, order: order, augmentation: augmentation, shard: shard)
  }

  public var startIndex: Int { 0 }
  public var endIndex: Int { (order.count + source.batchSize - 1) / source.batchSize }
  public subscript(index: Int) -> Batch {
    let members = order[
      (index * source.batchSize)..<Swift.min((index + 1) * source.batchSize, order.count)]
    guard let shard else { return source.batch(of: Array(members), augmentation: augmentation) }
    var batch = source.batch(of: shard.part(of: members), augmentation: augmentation)
    batch.shard = BatchShard(
      offset: shard.range(inBatchOf: members.count).lowerBound, globalBatch: members.count)
    return batch
  }
}

/// Table rows served in mini-batches of shape (N, F).
public struct TableBatches: ExampleSource {
  public let table: LabeledTable
  public let batchSize: Int

  public init(_ table: LabeledTable, batchSize: Int) {
    precondition(batchSize > 0, "batch size must be positive, got \(batchSize)")
    self.table = table
    self.batchSize = batchSize
  }

  public var count: Int { table.count }
  public var labels: [Int] { table.labels }
  public var exampleShape: [Int] { [table.featureCount] }
  public func label(of index: Int) -> Int { table.labels[index] }

  public func write(
    example index: Int, into out: UnsafeMutableBufferPointer<Float>,
    augmentation: AugmentationKey?
  ) {
    let f = table.featureCount
    table.features.withUnsafeBufferPointer { features in
      out.baseAddress!.update(from: features.baseAddress! + index * f, count: f)
    }
  }

  /// Batch `index` of an epoch whose row order is `order` (`images` holds the rows).
  public func batch(_ index: Int, order: [Int]) -> (images: Tensor, labels: [Int]) {
    let batch = batch(index, order: order, augmentation: nil)
    return (batch.inputs, batch.labels)
  }
}
