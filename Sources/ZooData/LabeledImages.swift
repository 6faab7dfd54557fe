import Foundation

/// A set of same-sized 8-bit images with integer labels, as IDX files and image folders give them.
public struct LabeledImages: Sendable {
  public let channels: Int
  public let height: Int
  public let width: Int
  /// Pixels, image after image, each CHW.
  public let pixels: [UInt8]
  public let labels: [Int]
  /// The name of each class, indexed by label.
  public let classNames: [String]

  public init(
    channels: Int, height: Int, width: Int, pixels: [UInt8], labels: [Int], classNames: [String]
  ) {
    precondition(
      pixels.count == labels.count * channels * height * width,
      "pixel count does not match the labels")
    self.channels = channels
    self.height = height
    self.width = width
    self.pixels = pixels
    self.labels = labels
    self.classNames = classNames
  }

  public var count: Int { labels.count }
  public var imageSize: Int { channels * height * width }

  /// Reads an MNIST-format pair: images (N, rows, cols) and labels (N).
  public static func readIDX(images: URL, labels: URL, classNames: [String]? = nil) throws
    -> LabeledImages
  {
    let imageArray = try IDX.read(contentsOf: images)
    let labelArray = try IDX.read(contentsOf: labels)
    guard imageArray.dimensions.count == 3 else {
      throw IDXError.unexpectedRank(
        path: images.path, expected: 3, actual: imageArray.dimensions.count)
    }
    guard labelArray.dimensions.count == 1 else {
      throw IDXError.unexpectedRank(
        path: labels.path, expected: 1, actual: labelArray.dimensions.count)
    }
    guard imageArray.dimensions[0] == labelArray.dimensions[0] else {
      throw IDXError.countMismatch(
        images: images.path, imageCount: imageArray.dimensions[0],
        labels: labels.path, labelCount: labelArray.dimensions[0])
    }
    let (count, rows, columns) = (
      imageArray.dimensions[0], imageArray.dimensions[1], imageArray.dimensions[2]
    )
    guard count > 0, rows > 0, columns > 0 else {
      throw IDXError.noPixels(path: images.path, count: count, rows: rows, columns: columns)
    }
    // Without class names the classes are 0 to the largest label, as a cross-entropy over the
    // labels would take them.
    let labelValues = labelArray.bytes.map(Int.init)
    let largest = labelValues.max()!
    if let classNames, largest >= classNames.count {
      throw IDXError.labelOutOfRange(
        path: labels.path, label: largest, classCount: classNames.count)
    }
    if classNames == nil, labelValues.allSatisfy({ $0 == largest }) {
      throw IDXError.oneClass(path: labels.path, label: largest)
    }
    let names = classNames ?? (0...largest).map(String.init)
    return LabeledImages(
      channels: 1, height: imageArray.dimensions[1], width: imageArray.dimensions[2],
      pixels: imageArray.bytes, labels: labelValues, classNames: names)
  }

  /// The images whose label is in `classes`, relabelled 0..<classes.count in that order.
  public func subset(classes: [Int]) -> LabeledImages {
    var pixels: [UInt8] = []
    var labels: [Int] = []
    for i in 0..<count {
      guard let newLabel = classes.firstIndex(of: self.labels[i]) else { continue }
      pixels.append(contentsOf: self.pixels[(i * imageSize)..<((i + 1) * imageSize)])
      labels.append(newLabel)
    }
    return LabeledImages(
      channels: channels, height: height, width: width, pixels: pixels, labels: labels,
      classNames: classes.map { classNames[$0] })
  }

  /// The first `n` images.
  public func prefix(_ n: Int) -> LabeledImages {
    let n = min(n, count)
    return LabeledImages(
      channels: channels, height: height, width: width, pixels: Array(pixels[0..<(n * imageSize)]),
      labels: Array(labels[0..<n]), classNames: classNames)
  }
}
