import Foundation
import ZooData
import ZooTensor

#if canImport(Glibc)
  import Glibc
#endif

public enum PlotError: Error, Equatable, LocalizedError {
  case cannotWrite(path: String, reason: String)

  public var errorDescription: String? {
    switch self {
    case .cannotWrite(let path, let reason): return "\(path): cannot write image: \(reason)"
    }
  }
}

/// An RGB raster that charts draw into. Drawing is clipped to the canvas; shapes are
/// anti-aliased, text and images are placed on whole pixels. The same calls always give the
/// same pixels.
public struct Canvas: Sendable, Equatable {
  public let width: Int
  public let height: Int
  /// `height * width * 3` bytes, RGB interleaved, rows top to bottom.
  public private(set) var pixels: [UInt8]

  public init(width: Int, height: Int, background: RGBColor = .white) {
    precondition(width > 0 && height > 0, "a canvas needs a positive size, got \(width)x\(height)")
    self.width = width
    self.height = height
    pixels = [UInt8](repeating: 0, count: width * height * 3)
    fill(background)
  }

  public var bounds: Rect { Rect(x: 0, y: 0, width: width, height: height) }

  public subscript(x: Int, y: Int) -> RGBColor {
    get {
      precondition(bounds.contains(x: x, y: y), "pixel (\(x), \(y)) is outside \(width)x\(height)")
      let offset = (y * width + x) * 3
      return RGBColor(red: pixels[offset], green: pixels[offset + 1], blue: pixels[offset + 2])
    }
    set {
      precondition(bounds.contains(x: x, y: y), "pixel (\(x), \(y)) is outside \(width)x\(height)")
      let offset = (y * width + x) * 3
      pixels[offset] = newValue.red
      pixels[offset + 1] = newValue.green
      pixels[offset + 2] = newValue.blue
    }
  }

  // MARK: Filling

  public mutating func fill(_ color: RGBColor) { fill(bounds, with: color) }

  public mutating func fill(_ rect: Rect, with color: RGBColor) {
    let area = rect.intersection(bounds)
    for y in area.y..<area.maxY {
      for x in area.x..<area.maxX { self[x, y] = color }
    }
  }

  /// An outline `lineWidth` pixels wide, drawn inside `rect`.
  public mutating func stroke(_ rect: Rect, with color: RGBColor, lineWidth: Int = 1) {
    let w = min(lineWidth, rect.width, rect.height)
    fill(Rect(x: rect.x, y: rect.y, width: rect.width, height: w), with: color)
    fill(Rect(x: rect.x, y: rect.maxY - w, width: rect.width, height: w), with: color)
    fill(Rect(x: rect.x, y: rect.y, width: w, height: rect.height), with: color)
    fill(Rect(x: rect.maxX - w, y: rect.y, width: w, height: rect.height), with: color)
  }

  /// Mixes `color` into one pixel; `opacity` 0 leaves it, 1 replaces it. Outside pixels are
  /// ignored.
  public mutating func blend(x: Int, y: Int, color: RGBColor, opacity: Double) {
    guard opacity > 0, bounds.contains(x: x, y: y) else { return }
    self[x, y] = opacity >= 1 ? color : self[x, y].mixed(with: color, amount: opacity)
  }

  // MARK: Lines and circles

  /// A straight line with round ends. A 1-pixel line between integer points on a row or a
  /// column sets exactly the pixels between them, both ends included.
  public mutating func drawLine(
    from start: Point, to end: Point, color: RGBColor, width: Double = 1
  ) {
    drawPolyline([start, end], color: color, width: width)
  }

  /// Connected line segments, blended once so joints do not darken where segments overlap.
  public mutating func drawPolyline(_ points: [Point], color: RGBColor, width: Double = 1) {
    guard let first = points.first else { return }
    let segments = points.count == 1 ? [(first, first)] : Array(zip(points, points.dropFirst()))
    let reach = width / 2 + 0.5
    let area = boundingRect(of: points, reach: reach).intersection(bounds)
    var coverage = [Double](repeating: 0, count: area.width * area.height)
    for (a, b) in segments {
      let near = boundingRect(of: [a, b], reach: reach).intersection(area)
      for y in near.y..<near.maxY {
        for x in near.x..<near.maxX {
          let index = (y - area.y) * area.width + (x - area.x)
          coverage[index] = max(
            coverage[index], reach - Self.distance(Double(x), Double(y), from: a, to: b))
        }
      }
    }
    paint(area: area, color: color) { x, y in coverage[(y - area.y) * area.width + (x - area.x)] }
  }

  public mutating func fillCircle(center: Point, radius: Double, color: RGBColor) {
    let reach = radius + 0.5
    paint(area: boundingRect(of: [center], reach: reach), color: color) { x, y in
      let (dx, dy) = (Double(x) - center.x, Double(y) - center.y)
      return reach - (dx * dx + dy * dy).squareRoot()
    }
  }

  /// Blends `color` into each pixel of `area` by its coverage, clamped to 0...1.
  private mutating func paint(area: Rect, color: RGBColor, coverage: (Int, Int) -> Double) {
    let area = area.intersection(bounds)
    for y in area.y..<area.maxY {
      for x in area.x..<area.maxX {
        blend(x: x, y: y, color: color, opacity: min(coverage(x, y), 1))
      }
    }
  }

  /// The pixels within `reach` of the points, limited to a band around the canvas so that far
  /// away coordinates stay representable.
  private func boundingRect(of points: [Point], reach: Double) -> Rect {
    precondition(
      points.allSatisfy { $0.x.isFinite && $0.y.isFinite } && reach.isFinite,
      "shapes need finite coordinates, got \(points.map { ($0.x, $0.y) })")
    let limit = Double(max(width, height)) + reach + 1
    func pixel(_ value: Double, _ rule: FloatingPointRoundingRule) -> Int {
      Int(min(max(value, -limit), 2 * limit).rounded(rule))
    }
    let xs = points.map(\.x)
    let ys = points.map(\.y)
    let left = pixel(xs.min()! - reach, .down)
    let top = pixel(ys.min()! - reach, .down)
    let right = pixel(xs.max()! + reach, .up)
    let bottom = pixel(ys.max()! + reach, .up)
    return Rect(x: left, y: top, width: right - left + 1, height: bottom - top + 1)
  }

  private static func distance(_ x: Double, _ y: Double, from a: Point, to b: Point) -> Double {
    let (dx, dy) = (b.x - a.x, b.y - a.y)
    let lengthSquared = dx * dx + dy * dy
    let t =
      lengthSquared == 0 ? 0 : min(max(((x - a.x) * dx + (y - a.y) * dy) / lengthSquared, 0), 1)
    let (px, py) = (a.x + t * dx - x, a.y + t * dy - y)
    return (px * px + py * py).squareRoot()
  }

  // MARK: Text

  /// The size of the box `drawText` fills: glyphs, the blank columns between them and the rows
  /// for descenders. Vertical text swaps width and height.
  public static func textSize(_ text: String, scale: Int = 1, vertical: Bool = false) -> (
    width: Int, height: Int
  ) {
    let length = text.isEmpty ? 0 : (text.count * BitmapFont.advance - 1) * scale
    let lineHeight = (BitmapFont.ascent + BitmapFont.descent) * scale
    return vertical ? (lineHeight, length) : (length, lineHeight)
  }

  /// Draws one line of text in the built-in 5x7 font with its box's top-left corner at (x, y),
  /// each font pixel a `scale` x `scale` square. Vertical text reads from bottom to top.
  /// Characters outside printable ASCII draw as '?'.
  public mutating func drawText(
    _ text: String, x: Int, y: Int, color: RGBColor, scale: Int = 1, vertical: Bool = false
  ) {
    let length = Self.textSize(text, scale: scale).width
    for (index, character) in text.enumerated() {
      for (row, bits) in BitmapFont.rows(of: character).enumerated() where bits != 0 {
        for column in 0..<BitmapFont.glyphWidth where bits & (0x10 >> column) != 0 {
          let u = (index * BitmapFont.advance + column) * scale
          let v = row * scale
          let origin = vertical ? (x: x + v, y: y + length - u - scale) : (x: x + u, y: y + v)
          fill(Rect(x: origin.x, y: origin.y, width: scale, height: scale), with: color)
        }
      }
    }
  }

  // MARK: Images

  /// Draws `image` with its top-left corner at (x, y), each image pixel a `scale` x `scale`
  /// square.
  public mutating func draw(_ image: PlotImage, x: Int, y: Int, scale: Int = 1) {
    for row in 0..<image.height {
      for column in 0..<image.width {
        fill(
          Rect(x: x + column * scale, y: y + row * scale, width: scale, height: scale),
          with: image.color(x: column, y: row))
      }
    }
  }

  /// Copies another canvas with its top-left corner at (x, y).
  public mutating func draw(_ canvas: Canvas, x: Int, y: Int) {
    let area = Rect(x: x, y: y, width: canvas.width, height: canvas.height).intersection(bounds)
    for row in area.y..<area.maxY {
      for column in area.x..<area.maxX { self[column, row] = canvas[column - x, row - y] }
    }
  }

  // MARK: Output

  public var decodedImage: DecodedImage {
    DecodedImage(width: width, height: height, channels: 3, pixels: pixels)
  }

  /// The canvas as PNG bytes.
  public func png() throws -> [UInt8] { try ImageCodec.encodePNG(decodedImage) }

  /// Writes the canvas as a PNG file, atomically (`writeAtomically`), so readers never see a
  /// half-written image.
  public func write(to url: URL) throws {
    do {
      try writeAtomically(try png(), to: url)
    } catch let error as FileWriteError {
      throw PlotError.cannotWrite(path: url.path, reason: error.reason)
    }
  }
}
