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

  /// SLIC superpixels (Achanta et al. 2012) of one image (C, H, W): about `count` regions of
  /// similar values that stay compact. A pixel joins the seed nearest in
  /// value^2 + (compactness * distance / step)^2, where step is the seeds' grid spacing; seeds
  /// move to their pixels' mean for `iterations` rounds. Then SLIC's connectivity step: each
  /// 4-connected piece of a seed's pixels becomes a region, and pieces smaller than
  /// `minimumSizeFactor` times the average region (scikit-image's default, 0.5) join the
  /// neighbour they share the longest border with. So every region is connected, and there
  /// may be fewer or more regions than asked.
  public static func superpixels(
    _ image: [Float], channels: Int, height: Int, width: Int, count: Int,
    compactness: Float = 1, iterations: Int = 10, minimumSizeFactor: Float = 0.5
  ) throws -> ImageRegions {
    let plane = height * width
    guard (1...plane).contains(count), image.count == channels * plane else {
      throw ExplainError.invalidSetting(
        "superpixels need 1...\(plane) regions of a \(channels)x\(height)x\(width) image, got \(count)"
      )
    }
    let step = (Float(plane) / Float(count)).squareRoot()
    let rows = min(max(Int((Float(height) / step).rounded()), 1), height)
    let columns = min(max(Int((Float(width) / step).rounded()), 1), width)
    func value(_ pixel: Int) -> [Float] { (0..<channels).map { image[$0 * plane + pixel] } }
    var seeds: [(y: Float, x: Float, value: [Float])] = []
    for r in 0..<rows {
      for c in 0..<columns {
        let y = (r * height + height / 2) / rows
        let x = (c * width + width / 2) / columns
        seeds.append((Float(y), Float(x), value(y * width + x)))
      }
    }
    var labels = [Int](repeating: 0, count: plane)
    let weight = compactness * compactness / (step * step)
    for _ in 0..<iterations {
      for pixel in 0..<plane {
        let (y, x) = (Float(pixel / width), Float(pixel % width))
        let pixelValue = value(pixel)
        var best = Float.infinity
        for (k, seed) in seeds.enumerated() {
          let spatial = (y - seed.y) * (y - seed.y) + (x - seed.x) * (x - seed.x)
          guard weight * spatial < best else { continue }
          var distance = weight * spatial
          for c in 0..<channels {
            distance += (pixelValue[c] - seed.value[c]) * (pixelValue[c] - seed.value[c])
          }
          if distance < best { (best, labels[pixel]) = (distance, k) }
        }
      }
      var sums = [(y: Float, x: Float, value: [Float], count: Float)](
        repeating: (0, 0, [Float](repeating: 0, count: channels), 0), count: seeds.count)
      for pixel in 0..<plane {
        let k = labels[pixel]
        sums[k].y += Float(pixel / width)
        sums[k].x += Float(pixel % width)
        for c in 0..<channels { sums[k].value[c] += image[c * plane + pixel] }
        sums[k].count += 1
      }
      for k in seeds.indices where sums[k].count > 0 {
        let n = sums[k].count
        seeds[k] = (sums[k].y / n, sums[k].x / n, sums[k].value.map { $0 / n })
      }
    }
    let minimumSize = Int(minimumSizeFactor * Float(plane) / Float(count))
    return connected(labels, height: height, width: width, minimumSize: minimumSize)
  }

  /// Regions that are the 4-connected pieces of `labels`, pieces smaller than `minimumSize`
  /// merged into the neighbour they share the longest border with (the smallest first),
  /// numbered 0, 1, ... in the order their first pixel comes row by row.
  public static func connected(_ labels: [Int], height: Int, width: Int, minimumSize: Int)
    -> ImageRegions
  {
    let plane = height * width
    func neighbours(_ pixel: Int) -> [Int] {
      let (y, x) = (pixel / width, pixel % width)
      var result: [Int] = []
      if x > 0 { result.append(pixel - 1) }
      if x + 1 < width { result.append(pixel + 1) }
      if y > 0 { result.append(pixel - width) }
      if y + 1 < height { result.append(pixel + width) }
      return result
    }
    // Flood fill: one piece per 4-connected run of equal labels.
    var piece = [Int](repeating: -1, count: plane)
    var pieceCount = 0
    for start in 0..<plane where piece[start] < 0 {
      piece[start] = pieceCount
      var stack = [start]
      while let pixel = stack.popLast() {
        for next in neighbours(pixel) where piece[next] < 0 && labels[next] == labels[start] {
          piece[next] = pieceCount
          stack.append(next)
        }
      }
      pieceCount += 1
    }
    var sizes = [Int](repeating: 0, count: pieceCount)
    for p in piece { sizes[p] += 1 }
    while let small = sizes.indices.filter({ sizes[$0] > 0 && sizes[$0] < minimumSize })
      .min(by: { sizes[$0] < sizes[$1] })
    {
      var border: [Int: Int] = [:]
      for pixel in 0..<plane where piece[pixel] == small {
        for next in neighbours(pixel) where piece[next] != small {
          border[piece[next], default: 0] += 1
        }
      }
      guard let target = border.max(by: { ($0.value, -$0.key) < ($1.value, -$1.key) })?.key
      else { break }  // the whole image is one small piece
      for pixel in 0..<plane where piece[pixel] == small { piece[pixel] = target }
      sizes[target] += sizes[small]
      sizes[small] = 0
    }
    var numbers: [Int: Int] = [:]
    for p in piece where numbers[p] == nil { numbers[p] = numbers.count }
    return ImageRegions(
      height: height, width: width, labels: piece.map { numbers[$0]! }, count: numbers.count)
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
