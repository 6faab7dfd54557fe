import Foundation

/// A map of one value per image pixel, drawn in a colour map with a legend of its range: on
/// its own, or blended over the image (stronger where the magnitude is larger, so the image
/// shows through where the map is near zero). Signed maps use a diverging map centred on 0
/// (blue negative, red positive); non-negative maps a sequential one.
public struct Heatmap: Sendable {
  public let width: Int
  public let height: Int
  /// Row-major, `width * height` values.
  public let values: [Float]
  /// Whether values have a sign that matters (a diverging map symmetric about 0).
  public var isSigned: Bool
  /// The image under the map, same size; nil draws the map alone.
  public var image: PlotImage?
  /// How strongly the largest magnitude covers the image, 0...1.
  public var opacity = 0.75
  /// Each value becomes a `scale` x `scale` square.
  public var scale: Int
  public var title: String
  public var textScale = 1

  public init(
    width: Int, height: Int, values: [Float], isSigned: Bool, image: PlotImage? = nil,
    scale: Int = 4, title: String = ""
  ) {
    precondition(
      values.count == width * height,
      "a \(width)x\(height) heatmap needs \(width * height) values, got \(values.count)")
    precondition(
      image.map { $0.width == width && $0.height == height } ?? true,
      "the image under a heatmap must be \(width)x\(height)")
    self.width = width
    self.height = height
    self.values = values
    self.isSigned = isSigned
    self.image = image
    self.scale = scale
    self.title = title
  }

  /// The values' range as the legend shows it: symmetric about 0 when signed.
  public var range: ClosedRange<Float> {
    let finite = values.filter(\.isFinite)
    let high = finite.max() ?? 0
    let low = finite.min() ?? 0
    if isSigned {
      let bound = max(abs(low), abs(high), .leastNormalMagnitude)
      return -bound...bound
    }
    return low...(high > low ? high : low + 1)
  }

  /// The position of `value` in the colour map, 0...1.
  func position(_ value: Float) -> Double {
    let range = range
    guard value.isFinite else { return 0 }
    return Double(
      min(max((value - range.lowerBound) / (range.upperBound - range.lowerBound), 0), 1))
  }

  /// The colour of a position; for an overlay also how much of it covers the image.
  func color(at position: Double) -> (color: RGBColor, strength: Double) {
    if isSigned {
      return (Palette.diverging(position), abs(position - 0.5) * 2)
    }
    return (Palette.sequential(position), position)
  }

  public func render() -> Canvas {
    let textHeight = Canvas.textSize("0", scale: textScale).height
    let margin = 4 * textScale
    let top = title.isEmpty ? margin : textHeight + 2 * margin
    let labels = [
      range.upperBound, isSigned ? 0 : (range.lowerBound + range.upperBound) / 2, range.lowerBound,
    ]
    .map { String(format: "%.3g", Double($0)) }
    let labelWidth = labels.map { Canvas.textSize($0, scale: textScale).width }.max() ?? 0
    let barWidth = 6 * textScale
    let mapWidth = width * scale
    let mapHeight = height * scale
    var canvas = Canvas(
      width: margin + mapWidth + 2 * margin + barWidth + margin + labelWidth + margin,
      height: top + mapHeight + margin + textHeight / 2)
    if !title.isEmpty {
      canvas.drawText(title, x: margin, y: margin, color: .ink, scale: textScale)
    }
    for y in 0..<height {
      for x in 0..<width {
        let (mapColor, strength) = color(at: position(values[y * width + x]))
        let pixel =
          image.map { $0.color(x: x, y: y).mixed(with: mapColor, amount: opacity * strength) }
          ?? mapColor
        canvas.fill(
          Rect(x: margin + x * scale, y: top + y * scale, width: scale, height: scale), with: pixel)
      }
    }
    // The legend: the colour bar from the top of the range down, labelled at both ends and the
    // middle.
    let barX = margin + mapWidth + 2 * margin
    for row in 0..<mapHeight {
      let position = 1 - Double(row) / Double(max(mapHeight - 1, 1))
      canvas.fill(
        Rect(x: barX, y: top + row, width: barWidth, height: 1), with: color(at: position).color)
    }
    canvas.stroke(Rect(x: barX, y: top, width: barWidth, height: mapHeight), with: .mutedInk)
    for (index, label) in labels.enumerated() {
      let y = top + index * (mapHeight - 1) / 2 - textHeight / 2
      canvas.drawText(
        label, x: barX + barWidth + margin, y: max(y, 0), color: .ink, scale: textScale)
    }
    return canvas
  }
}

extension Palette {
  /// ColorBrewer "RdBu" reversed: blue (0) through white (0.5) to red (1).
  static let divergingStops: [RGBColor] = [
    0x2166AC, 0x4393C3, 0x92C5DE, 0xD1E5F0, 0xF7F7F7, 0xFDDBC7, 0xF4A582, 0xD6604D, 0xB2182B,
  ].map { RGBColor(hex: $0) }

  /// Matplotlib's "inferno" at nine stops: black through purple and orange to pale yellow.
  static let sequentialStops: [RGBColor] = [
    0x000004, 0x1F0C48, 0x550F6D, 0x88226A, 0xBA3655, 0xE35933, 0xF98E09, 0xF9C932, 0xFCFFA4,
  ].map { RGBColor(hex: $0) }

  /// The diverging colour of `value` in 0...1 (clamped), white at 0.5.
  public static func diverging(_ value: Double) -> RGBColor { interpolate(divergingStops, value) }

  /// The sequential colour of `value` in 0...1 (clamped), brighter means larger.
  public static func sequential(_ value: Double) -> RGBColor { interpolate(sequentialStops, value) }

  static func interpolate(_ stops: [RGBColor], _ value: Double) -> RGBColor {
    let position = min(max(value, 0), 1) * Double(stops.count - 1)
    let lower = min(Int(position), stops.count - 2)
    return stops[lower].mixed(with: stops[lower + 1], amount: position - Double(lower))
  }
}
