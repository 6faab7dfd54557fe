import Foundation

/// Same-sized 8-bit images, each with a label image of one class per pixel, as the built-in
/// scenes and mask folders give them.
public struct SegmentationSet: Sendable {
  public let channels: Int
  public let height: Int
  public let width: Int
  /// Pixels, image after image, each CHW.
  public let pixels: [UInt8]
  /// Classes, mask after mask, each `height * width` entries row by row.
  public let masks: [UInt8]
  /// The name of each class, indexed by class; class 0 is the background.
  public let classNames: [String]

  /// Checks that the masks fill as many `height`x`width` planes as there are images and that
  /// every class has a name.
  public init(
    channels: Int, height: Int, width: Int, pixels: [UInt8], masks: [UInt8], classNames: [String]
  ) throws {
    let plane = height * width
    guard plane > 0, channels > 0, pixels.count % (channels * plane) == 0 else {
      throw SegmentationDataError.invalid(
        "\(pixels.count) pixels do not fill whole \(channels)x\(height)x\(width) images")
    }
    let count = pixels.count / (channels * plane)
    guard masks.count == count * plane else {
      throw SegmentationDataError.invalid(
        "\(count) images of \(width)x\(height) need \(count * plane) mask pixels, got \(masks.count)"
      )
    }
    if let top = masks.max(), Int(top) >= classNames.count {
      throw SegmentationDataError.invalid(
        "a mask holds class \(top) but only \(classNames.count) classes are named")
    }
    self.channels = channels
    self.height = height
    self.width = width
    self.pixels = pixels
    self.masks = masks
    self.classNames = classNames
  }

  public var count: Int { pixels.count / max(imageSize, 1) }
  public var imageSize: Int { channels * height * width }
  public var plane: Int { height * width }
  public var classCount: Int { classNames.count }

  /// Example `index`'s mask, one class per pixel.
  public func mask(_ index: Int) -> [Int] {
    masks[(index * plane)..<((index + 1) * plane)].map(Int.init)
  }

  /// Example `index`'s pixels, CHW.
  public func image(_ index: Int) -> ArraySlice<UInt8> {
    pixels[(index * imageSize)..<((index + 1) * imageSize)]
  }

  /// The examples at `indices`, in that order.
  public func subset(_ indices: some Sequence<Int>) -> SegmentationSet {
    var pixels: [UInt8] = []
    var masks: [UInt8] = []
    for i in indices {
      pixels += image(i)
      masks += self.masks[(i * plane)..<((i + 1) * plane)]
    }
    // Cannot throw: every part comes from a valid set.
    return try! SegmentationSet(
      channels: channels, height: height, width: width, pixels: pixels, masks: masks,
      classNames: classNames)
  }

  /// The same images with every non-background class merged into class 1 ("foreground").
  public func binary() -> SegmentationSet {
    try! SegmentationSet(
      channels: channels, height: height, width: width, pixels: pixels,
      masks: masks.map { $0 == 0 ? 0 : 1 }, classNames: ["background", "foreground"])
  }

  /// Share of pixels of each class over the whole set.
  public func classFrequencies() -> [Double] {
    var counts = [Int](repeating: 0, count: classCount)
    for m in masks { counts[Int(m)] += 1 }
    return counts.map { Double($0) / Double(max(masks.count, 1)) }
  }
}

public enum SegmentationDataError: Error, Equatable, LocalizedError {
  /// An image and its mask differ in size.
  case maskSizeMismatch(image: String, mask: String, imageSize: String, maskSize: String)
  /// An image with no mask of the same name, or a mask with no image.
  case unpaired(path: String, expected: String)
  /// A mask that is not a single-channel label image.
  case invalidMask(path: String, reason: String)
  case invalid(String)

  public var errorDescription: String? {
    switch self {
    case .maskSizeMismatch(let image, let mask, let imageSize, let maskSize):
      return
        "\(mask): the mask is \(maskSize) but its image \(image) is \(imageSize); a mask must have its image's size"
    case .unpaired(let path, let expected):
      return "\(path): no matching \(expected)"
    case .invalidMask(let path, let reason):
      return "\(path): \(reason)"
    case .invalid(let message):
      return message
    }
  }
}
