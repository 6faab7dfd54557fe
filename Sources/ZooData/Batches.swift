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

/// Images as normalised float tensors, served in (optionally shuffled) mini-batches, with
/// optional augmentation for training.
public struct ImageBatches: ExampleSource {
  public let images: LabeledImages
  public let normalization: Normalization
  public let batchSize: Int
  /// Applied, before normalisation, to batches assembled with an augmentation key.
  public let augmentation: Augmentation?
  /// Pixels of every image after normalisation, CHW each; kept when nothing augments.
  private let values: [Float]?

  public init(
    _ images: LabeledImages, normalization: Normalization, batchSize: Int,
    augmentation: Augmentation? = nil
  ) {
    self.augmentation = checkedBatchSettings(
      normalization, channels: images.channels, batchSize: batchSize, augmentation: augmentation)
    self.images = images
    self.normalization = normalization
    self.batchSize = batchSize
    guard self.augmentation == nil else {
      values = nil
      return
    }
    let plane = images.height * images.width
    let channels = images.channels
    var values = [Float](repeating: 0, count: images.pixels.count)
    values.withUnsafeMutableBufferPointer { out in
      images.pixels.withUnsafeBufferPointer { pixels in
        Parallel.forEach(images.count, costPerItem: images.imageSize) { n in
          for c in 0..<channels {
            let (scale, shift) = normalization.affine(channel: c)
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
  public var exampleShape: [Int] { [images.channels, images.height, images.width] }
  public func label(of index: Int) -> Int { images.labels[index] }

  /// The order of one epoch: shuffled by `seed`, or in file order when `seed` is nil.
  public func order(seed: UInt64?) -> [Int] {
    guard let seed else { return Array(0..<count) }
    var generator = SeededGenerator(seed: seed)
    return Array(0..<count).shuffled(using: &generator)
  }

  /// Batch `index` of an epoch whose image order is `order`, without augmentation.
  public func batch(_ index: Int, order: [Int]) -> (images: Tensor, labels: [Int]) {
    let batch = batch(index, order: order, augmentation: nil)
    return (batch.inputs, batch.labels)
  }

  public func write(
    example index: Int, into out: UnsafeMutableBufferPointer<Float>,
    augmentation key: AugmentationKey?
  ) {
    let size = images.imageSize
    if let values {
      values.withUnsafeBufferPointer {
        out.baseAddress!.update(from: $0.baseAddress! + index * size, count: size)
      }
      return
    }
    var image = FloatImage(
      channels: images.channels, height: images.height, width: images.width,
      values: images.pixels[(index * size)..<((index + 1) * size)].map(Float.init))
    if let augmentation, let key {
      var generator = key.generator(forExample: index)
      image = augmentation.apply(to: image, generator: &generator)
    }
    let plane = images.height * images.width
    for c in 0..<images.channels {
      let (scale, shift) = normalization.affine(channel: c)
      for i in (c * plane)..<((c + 1) * plane) { out[i] = image.values[i] * scale - shift }
    }
  }
}

extension Normalization {
  /// ImageNet statistics, as torchvision's pretrained weights expect.
  public static let imageNet = Normalization(
    mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225])

  /// Per-channel mean and (population) standard deviation of `images`' pixels scaled to
  /// [0, 1]; fit it on the training split only.
  public static func fitted(to images: LabeledImages) -> Normalization {
    fitted(pixels: images.pixels, channels: images.channels, plane: images.height * images.width)
  }

  /// The same for any planar (CHW) images: `pixels` holds whole images of `channels` planes of
  /// `plane` pixels each.
  public static func fitted(pixels: [UInt8], channels: Int, plane: Int) -> Normalization {
    let count = pixels.count / max(channels * plane, 1)
    var mean: [Float] = []
    var std: [Float] = []
    for c in 0..<channels {
      var sum = 0.0
      var squares = 0.0
      for n in 0..<count {
        let base = (n * channels + c) * plane
        for i in base..<(base + plane) {
          let v = Double(pixels[i]) / 255
          sum += v
          squares += v * v
        }
      }
      let total = Double(max(count * plane, 1))
      let m = sum / total
      mean.append(Float(m))
      std.append(Float(max(squares / total - m * m, 0).squareRoot()))
    }
    return Normalization(mean: mean, std: std.map { $0 > 0 ? $0 : 1 })
  }

  /// `(scale, shift)` with `pixel * scale - shift` the normalised value of an 8-bit pixel.
  public func affine(channel c: Int) -> (scale: Float, shift: Float) {
    (1 / (255 * std[c]), mean[c] / std[c])
  }
}

/// The checks every batch source makes of its settings, and its augmentation with an identity
/// one dropped, so batches skip it.
func checkedBatchSettings(
  _ normalization: Normalization, channels: Int, batchSize: Int, augmentation: Augmentation?
) -> Augmentation? {
  precondition(
    normalization.mean.count == channels,
    "normalisation has \(normalization.mean.count) channels, images have \(channels)")
  precondition(batchSize > 0, "batch size must be positive, got \(batchSize)")
  return augmentation.flatMap { $0.isIdentity ? nil : $0 }
}
