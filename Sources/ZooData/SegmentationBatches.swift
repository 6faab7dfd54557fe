import ZooTensor

/// One mini-batch of segmentation examples: images (N, C, H, W) and their masks, N * H * W
/// classes in (n, y, x) order, as pixel-wise cross-entropy takes them.
public struct SegmentationBatch {
  public let inputs: Tensor
  public let masks: [Int]
  /// The examples in the batch, as indices into the set.
  public let indices: [Int]
}

/// A segmentation set as normalised float batches; for training, each image and its mask go
/// through one augmentation draw, so the mask follows every crop and flip of its image.
public struct SegmentationBatches: Sendable {
  public let examples: SegmentationSet
  public let normalization: Normalization
  public let batchSize: Int
  public let augmentation: Augmentation?

  public init(
    _ set: SegmentationSet, normalization: Normalization, batchSize: Int,
    augmentation: Augmentation? = nil
  ) {
    self.augmentation = checkedBatchSettings(
      normalization, channels: set.channels, batchSize: batchSize, augmentation: augmentation)
    self.examples = set
    self.normalization = normalization
    self.batchSize = batchSize
  }

  public var count: Int { examples.count }
  public var batchCount: Int { (count + batchSize - 1) / batchSize }

  /// The batches of training epoch `epoch`: shuffled by `seed &+ epoch` and augmented with
  /// key (`seed`, `epoch`), as classifier training does it.
  public func trainingEpoch(_ epoch: Int, seed: UInt64) -> [[Int]] {
    var generator = SeededGenerator(seed: seed &+ UInt64(epoch))
    return chunks(Array(0..<count).shuffled(using: &generator))
  }

  /// All examples in stored order.
  public var evaluationOrder: [[Int]] { chunks(Array(0..<count)) }

  private func chunks(_ order: [Int]) -> [[Int]] {
    stride(from: 0, to: order.count, by: batchSize).map {
      Array(order[$0..<min($0 + batchSize, order.count)])
    }
  }

  /// The examples `members` as one batch, augmented when `key` is given.
  public func batch(_ members: [Int], augmentation key: AugmentationKey? = nil)
    -> SegmentationBatch
  {
    let (channels, plane) = (examples.channels, examples.plane)
    let size = channels * plane
    var values = [Float](repeating: 0, count: members.count * size)
    var masks = [Int](repeating: 0, count: members.count * plane)
    values.withUnsafeMutableBufferPointer { values in
      masks.withUnsafeMutableBufferPointer { masks in
        Parallel.forEach(members.count, costPerItem: size * 16) { slot in
          let (image, mask) = example(members[slot], key: key)
          for c in 0..<channels {
            let (scale, shift) = normalization.affine(channel: c)
            for i in (c * plane)..<((c + 1) * plane) {
              values[slot * size + i] = image.values[i] * scale - shift
            }
          }
          for i in 0..<plane { masks[slot * plane + i] = Int(mask.values[i]) }
        }
      }
    }
    return SegmentationBatch(
      inputs: Tensor(
        shape: [members.count, channels, examples.height, examples.width], scalars: values),
      masks: masks, indices: members)
  }

  /// Example `index` in pixel units (0-255) and its mask as a one-channel image of classes,
  /// both through the same augmentation draw when a key is given.
  public func example(_ index: Int, key: AugmentationKey?) -> (
    image: FloatImage, mask: FloatImage
  ) {
    let image = FloatImage(
      channels: examples.channels, height: examples.height, width: examples.width,
      values: examples.image(index).map(Float.init))
    let mask = FloatImage(
      channels: 1, height: examples.height, width: examples.width,
      values: examples.masks[(index * examples.plane)..<((index + 1) * examples.plane)].map(
        Float.init))
    guard let augmentation, let key else { return (image, mask) }
    var generator = key.generator(forExample: index)
    let draw = augmentation.draw(
      height: examples.height, width: examples.width, generator: &generator)
    return (draw.apply(to: image), draw.apply(toMask: mask))
  }
}
