import ZooTensor

/// Per-channel normalisation applied to pixels scaled to [0, 1]: `(p - mean) / std`.
public struct Normalization: Sendable, Equatable, Codable {
  public var mean: [Float]
  public var std: [Float]

  public init(mean: [Float], std: [Float]) {
    precondition(mean.count == std.count, "mean and std need one value per channel")
    self.mean = mean
    self.std = std
  }

  /// Fashion-MNIST training-set statistics.
  public static let fashionMNIST = Normalization(mean: [0.2860], std: [0.3530])
  /// Pixels scaled to [0, 1] only.
  public static func none(channels: Int) -> Normalization {
    Normalization(
      mean: .init(repeating: 0, count: channels), std: .init(repeating: 1, count: channels))
  }
}

/// Images as normalised float tensors, served in (optionally shuffled) mini-batches.
public struct ImageBatches: Sendable {
  public let images: LabeledImages
  public let normalization: Normalization
  public let batchSize: Int
  /// Pixels of every image after normalisation, CHW each.
  private let values: [Float]

  public init(_ images: LabeledImages, normalization: Normalization, batchSize: Int) {
    precondition(
      normalization.mean.count == images.channels,
      "normalisation has \(normalization.mean.count) channels, images have \(images.channels)")
    self.images = images
    self.normalization = normalization
    self.batchSize = batchSize
    let plane = images.height * images.width
    let channels = images.channels
    var values = [Float](repeating: 0, count: images.pixels.count)
    values.withUnsafeMutableBufferPointer { out in
      images.pixels.withUnsafeBufferPointer { pixels in
        Parallel.forEach(images.count, costPerItem: images.imageSize) { n in
          for c in 0..<channels {
            let scale = 1 / (255 * normalization.std[c])
            let shift = normalization.mean[c] / normalization.std[c]
            let base = (n * channels + c) * plane
            for i in base..<(base + plane) { out[i] = Float(pixels[i]) * scale - shift }
          }
        }
      }
    }
    self.values = values
  }

  public var count: Int { images.count }
  public var batchCount: Int { (count + batchSize - 1) / batchSize }

  /// The order of one epoch: shuffled by `seed`, or in file order when `seed` is nil.
  public func order(seed: UInt64?) -> [Int] {
    guard let seed else { return Array(0..<count) }
    var generator = SeededGenerator(seed: seed)
    return Array(0..<count).shuffled(using: &generator)
  }

  /// Batch `index` of an epoch whose image order is `order`.
  public func batch(_ index: Int, order: [Int]) -> (images: Tensor, labels: [Int]) {
    let start = index * batchSize
    let members = Array(order[start..<min(start + batchSize, order.count)])
    let size = images.imageSize
    var x = [Float](repeating: 0, count: members.count * size)
    x.withUnsafeMutableBufferPointer { out in
      values.withUnsafeBufferPointer { values in
        for (slot, member) in members.enumerated() {
          out.baseAddress!.advanced(by: slot * size)
            .update(from: values.baseAddress!.advanced(by: member * size), count: size)
        }
      }
    }
    let tensor = Tensor(
      shape: [members.count, images.channels, images.height, images.width], scalars: x)
    return (tensor, members.map { images.labels[$0] })
  }
}
