import ZooTensor

/// A partition of an image's pixels into regions, the players of KernelSHAP's game.
public struct ImageRegions: Sendable, Equatable {
  public let height: Int
  public let width: Int
  /// The region of each pixel, row-major, numbered from 0.
  public let labels: [Int]
  public let count: Int

  /// A grid of `rows` x `columns` patches, as even as the sides allow.
  public static func grid(height: Int, width: Int, rows: Int, columns: Int) throws -> ImageRegions {
    guard (1...height).contains(rows), (1...width).contains(columns) else {
      throw ExplainError.invalidSetting(
        "a grid of patches needs 1...\(height) rows and 1...\(width) columns, got \(rows)x\(columns)"
      )
    }
    var labels: [Int] = []
    labels.reserveCapacity(height * width)
    for y in 0..<height {
      for x in 0..<width { labels.append((y * rows / height) * columns + x * columns / width) }
    }
    return ImageRegions(height: height, width: width, labels: labels, count: rows * columns)
  }

  /// One value per region painted onto its pixels.
  public func paint(_ values: [Float]) -> [Float] {
    labels.map { values[$0] }
  }
}

/// What a region that is left out of a coalition shows instead of the image.
public enum RegionMasking: Sendable, Equatable {
  /// Every value set to this (0 is the data's mean after normalisation).
  case value(Float)
  /// The image blurred by three box filters of this radius (close to a Gaussian).
  case blur(radius: Int)

  /// The background of one image (C, H, W), as a flat array.
  func background(_ image: [Float], channels: Int, height: Int, width: Int) -> [Float] {
    switch self {
    case .value(let value):
      return [Float](repeating: value, count: image.count)
    case .blur(let radius):
      var out = image
      for _ in 0..<3 {
        out = boxBlur(out, planes: channels, height: height, width: width, radius: radius)
      }
      return out
    }
  }
}

/// A separable box blur of each plane, the window clipped at the edges.
private func boxBlur(_ values: [Float], planes: Int, height: Int, width: Int, radius: Int)
  -> [Float]
{
  func pass(_ input: [Float], along horizontal: Bool) -> [Float] {
    var out = input
    let (lines, length) = horizontal ? (planes * height, width) : (planes * width, height)
    for line in 0..<lines {
      let (plane, index) = (
        line / (horizontal ? height : width), line % (horizontal ? height : width)
      )
      func offset(_ i: Int) -> Int {
        horizontal
          ? (plane * height + index) * width + i : (plane * height + i) * width + index
      }
      for i in 0..<length {
        let range = max(i - radius, 0)...min(i + radius, length - 1)
        out[offset(i)] = range.reduce(0) { $0 + input[offset($1)] } / Float(range.count)
      }
    }
    return out
  }
  return pass(pass(values, along: true), along: false)
}
