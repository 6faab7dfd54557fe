import Foundation
import ZooTensor

// Training-time augmentation on one image before normalisation, in pixel units (0-255).
// The random draws follow torchvision's `RandomResizedCrop`, `RandomCrop(padding=)` and
// `RandomHorizontalFlip`, though from our own generator, so the crops are not PyTorch's.

/// A float image, planar (CHW).
public struct FloatImage: Sendable, Equatable {
  public var channels: Int
  public var height: Int
  public var width: Int
  public var values: [Float]

  public init(channels: Int, height: Int, width: Int, values: [Float]) {
    precondition(
      values.count == channels * height * width,
      "\(values.count) values do not fill a \(channels)x\(height)x\(width) image")
    self.channels = channels
    self.height = height
    self.width = width
    self.values = values
  }

  /// The image mirrored left to right.
  public func flippedHorizontally() -> FloatImage {
    var out = values
    for row in 0..<(channels * height) {
      let base = row * width
      for x in 0..<width { out[base + x] = values[base + width - 1 - x] }
    }
    return FloatImage(channels: channels, height: height, width: width, values: out)
  }

  /// The image padded by `padding` zero pixels on every side, then cropped back to its size
  /// at (`top`, `left`) of the padded image; `top`, `left` in `0...2 * padding`.
  public func paddedCrop(padding: Int, top: Int, left: Int) -> FloatImage {
    precondition(
      (0...(2 * padding)).contains(top) && (0...(2 * padding)).contains(left),
      "crop offsets (\(top), \(left)) lie outside the padding of \(padding)")
    var out = [Float](repeating: 0, count: values.count)
    let dy = top - padding
    let dx = left - padding
    for c in 0..<channels {
      let plane = c * height * width
      for y in max(0, -dy)..<min(height, height - dy) {
        for x in max(0, -dx)..<min(width, width - dx) {
          out[plane + y * width + x] = values[plane + (y + dy) * width + x + dx]
        }
      }
    }
    return FloatImage(channels: channels, height: height, width: width, values: out)
  }

  /// The region at (`top`, `left`) of `cropHeight`x`cropWidth`.
  public func cropped(top: Int, left: Int, height cropHeight: Int, width cropWidth: Int)
    -> FloatImage
  {
    precondition(
      top >= 0 && left >= 0 && top + cropHeight <= height && left + cropWidth <= width,
      "the crop (\(top), \(left)) \(cropHeight)x\(cropWidth) leaves the \(height)x\(width) image")
    var out: [Float] = []
    out.reserveCapacity(channels * cropHeight * cropWidth)
    for c in 0..<channels {
      for y in top..<(top + cropHeight) {
        let row = (c * height + y) * width
        out += values[(row + left)..<(row + left + cropWidth)]
      }
    }
    return FloatImage(channels: channels, height: cropHeight, width: cropWidth, values: out)
  }

  /// The image resized by bilinear interpolation (PIL's filter, without rounding).
  public func resized(height outHeight: Int, width outWidth: Int) -> FloatImage {
    Resample.resize(self, outWidth: outWidth, outHeight: outHeight)
  }

  /// The image resized by taking, for each output pixel, the input pixel under its centre
  /// (PIL's `NEAREST`): what a label image needs.
  public func resizedNearest(height outHeight: Int, width outWidth: Int) -> FloatImage {
    let rows = (0..<outHeight).map { min((2 * $0 + 1) * height / (2 * outHeight), height - 1) }
    let columns = (0..<outWidth).map { min((2 * $0 + 1) * width / (2 * outWidth), width - 1) }
    var out: [Float] = []
    out.reserveCapacity(channels * outHeight * outWidth)
    for c in 0..<channels {
      for y in rows {
        let row = (c * height + y) * width
        for x in columns { out.append(values[row + x]) }
      }
    }
    return FloatImage(channels: channels, height: outHeight, width: outWidth, values: out)
  }
}

/// Randomness for one epoch of augmentation. Example `index` draws from its own generator
/// seeded by (seed, epoch, index), so its augmentation depends neither on the batch it lands
/// in nor on thread timing: a resumed run sees identical batches.
public struct AugmentationKey: Sendable, Hashable {
  public var seed: UInt64
  public var epoch: Int

  public init(seed: UInt64, epoch: Int) {
    self.seed = seed
    self.epoch = epoch
  }

  public func generator(forExample index: Int) -> SeededGenerator {
    var mixer = SeededGenerator(seed: seed)
    mixer = SeededGenerator(seed: mixer.next() ^ UInt64(bitPattern: Int64(epoch)))
    mixer = SeededGenerator(seed: mixer.next() ^ UInt64(bitPattern: Int64(index)))
    return SeededGenerator(seed: mixer.next())
  }
}

/// Random transforms applied to each training image, in this order: resized crop, padded
/// crop, horizontal flip.
public struct Augmentation: Sendable, Equatable, Codable {
  /// torchvision's `RandomResizedCrop`: a region of random area and aspect ratio, resized
  /// back to the image size.
  public struct ResizedCrop: Sendable, Equatable, Codable {
    /// Fraction of the image area to keep.
    public var scale: ClosedRange<Double>
    /// Width over height of the region.
    public var ratio: ClosedRange<Double>

    public init(scale: ClosedRange<Double> = 0.8...1.0, ratio: ClosedRange<Double> = 0.75...(4 / 3))
    {
      precondition(scale.lowerBound > 0 && scale.upperBound <= 1, "scale must lie in (0, 1]")
      precondition(ratio.lowerBound > 0, "ratio must be positive")
      self.scale = scale
      self.ratio = ratio
    }

    /// The region (top, left, height, width) for an image of `height`x`width`: ten tries at
    /// a random area and log-uniform ratio, then the central crop of the nearest allowed ratio.
    public func sampleRegion(height: Int, width: Int, generator: inout SeededGenerator) -> (
      top: Int, left: Int, height: Int, width: Int
    ) {
      let area = Double(height * width)
      let logRatio = (log(ratio.lowerBound), log(ratio.upperBound))
      for _ in 0..<10 {
        let targetArea = area * uniform(scale, &generator)
        let aspect = exp(uniform(logRatio.0...logRatio.1, &generator))
        let w = Int((targetArea * aspect).squareRoot().rounded())
        let h = Int((targetArea / aspect).squareRoot().rounded())
        if w > 0 && w <= width && h > 0 && h <= height {
          let top = Int.random(in: 0...(height - h), using: &generator)
          let left = Int.random(in: 0...(width - w), using: &generator)
          return (top, left, h, w)
        }
      }
      let inRatio = Double(width) / Double(height)
      var (h, w) = (height, width)
      if inRatio < ratio.lowerBound {
        h = Int((Double(w) / ratio.lowerBound).rounded())
      } else if inRatio > ratio.upperBound {
        w = Int((Double(h) * ratio.upperBound).rounded())
      }
      return ((height - h) / 2, (width - w) / 2, h, w)
    }

    private func uniform(_ range: ClosedRange<Double>, _ generator: inout SeededGenerator)
      -> Double
    {
      range.lowerBound + (range.upperBound - range.lowerBound) * Double(generator.nextUniform())
    }
  }

  public var resizedCrop: ResizedCrop?
  /// Zero padding for a random crop back to the original size; 0 turns the crop off.
  public var cropPadding: Int
  /// Mirror left to right with probability 1/2.
  public var horizontalFlip: Bool

  public init(resizedCrop: ResizedCrop? = nil, cropPadding: Int = 0, horizontalFlip: Bool = false) {
    precondition(cropPadding >= 0, "crop padding cannot be negative, got \(cropPadding)")
    self.resizedCrop = resizedCrop
    self.cropPadding = cropPadding
    self.horizontalFlip = horizontalFlip
  }

  /// The CIFAR recipe: pad 4, random crop, horizontal flip.
  public static let padCropFlip = Augmentation(cropPadding: 4, horizontalFlip: true)
  /// A mild `RandomResizedCrop` (scale 0.8-1, ratio 3/4-4/3) and horizontal flip.
  public static let resizedCropFlip = Augmentation(
    resizedCrop: ResizedCrop(), horizontalFlip: true)

  /// Whether every image passes through unchanged.
  public var isIdentity: Bool { resizedCrop == nil && cropPadding == 0 && !horizontalFlip }

  /// One augmented copy of `image`.
  public func apply(to image: FloatImage, generator: inout SeededGenerator) -> FloatImage {
    draw(height: image.height, width: image.width, generator: &generator).apply(to: image)
  }

  /// The random choices for one image of `height`x`width`, drawn in the order the transforms
  /// run; applying one draw to an image and its mask keeps them aligned.
  public func draw(height: Int, width: Int, generator: inout SeededGenerator) -> AugmentationDraw {
    var result = AugmentationDraw(height: height, width: width)
    if let resizedCrop {
      let region = resizedCrop.sampleRegion(height: height, width: width, generator: &generator)
      if region != (0, 0, height, width) {
        result.region = AugmentationDraw.Region(
          top: region.top, left: region.left, height: region.height, width: region.width)
      }
    }
    if cropPadding > 0 {
      let top = Int.random(in: 0...(2 * cropPadding), using: &generator)
      let left = Int.random(in: 0...(2 * cropPadding), using: &generator)
      result.paddedCrop = AugmentationDraw.PaddedCrop(padding: cropPadding, top: top, left: left)
    }
    result.flip = horizontalFlip && generator.nextUniform() < 0.5
    return result
  }
}

/// The outcome of `Augmentation.draw` for one image: which region to crop and resize, where
/// to crop after padding, whether to mirror.
public struct AugmentationDraw: Sendable, Equatable {
  public struct Region: Sendable, Equatable {
    public var top, left, height, width: Int
  }
  public struct PaddedCrop: Sendable, Equatable {
    public var padding, top, left: Int
  }
  /// Size of the image the draw was made for.
  public let height: Int
  public let width: Int
  public var region: Region?
  public var paddedCrop: PaddedCrop?
  public var flip = false

  public init(
    height: Int, width: Int, region: Region? = nil, paddedCrop: PaddedCrop? = nil,
    flip: Bool = false
  ) {
    self.height = height
    self.width = width
    self.region = region
    self.paddedCrop = paddedCrop
    self.flip = flip
  }

  /// The transforms applied to `image`, resizing bilinearly.
  public func apply(to image: FloatImage) -> FloatImage {
    transform(image) { $0.resized(height: $1, width: $2) }
  }

  /// The same geometry applied to a label image (one class per pixel): resizing takes the
  /// nearest pixel so no new classes appear between two, and padding is class 0.
  public func apply(toMask mask: FloatImage) -> FloatImage {
    transform(mask) { $0.resizedNearest(height: $1, width: $2) }
  }

  private func transform(
    _ image: FloatImage, resize: (FloatImage, Int, Int) -> FloatImage
  ) -> FloatImage {
    precondition(
      image.height == height && image.width == width,
      "an augmentation drawn for \(height)x\(width) applied to a \(image.height)x\(image.width) image"
    )
    var image = image
    if let region {
      // Crop, then resize, as torchvision's `resized_crop`: the crop's edge pixels are
      // clamped, not blended with their neighbours outside it.
      image = resize(
        image.cropped(
          top: region.top, left: region.left, height: region.height, width: region.width),
        height, width)
    }
    if let paddedCrop {
      image = image.paddedCrop(
        padding: paddedCrop.padding, top: paddedCrop.top, left: paddedCrop.left)
    }
    if flip { image = image.flippedHorizontally() }
    return image
  }
}
