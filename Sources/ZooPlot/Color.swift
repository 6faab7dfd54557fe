/// An 8-bit RGB colour.
public struct RGBColor: Sendable, Hashable {
  public var red: UInt8
  public var green: UInt8
  public var blue: UInt8

  public init(red: UInt8, green: UInt8, blue: UInt8) {
    self.red = red
    self.green = green
    self.blue = blue
  }

  /// A colour written as 0xRRGGBB.
  public init(hex: UInt32) {
    self.init(
      red: UInt8(truncatingIfNeeded: hex >> 16), green: UInt8(truncatingIfNeeded: hex >> 8),
      blue: UInt8(truncatingIfNeeded: hex))
  }

  public init(grey: UInt8) { self.init(red: grey, green: grey, blue: grey) }

  public static let white = RGBColor(grey: 255)
  public static let black = RGBColor(grey: 0)
  /// Text and axes: a near-black that is softer than pure black.
  public static let ink = RGBColor(hex: 0x222222)
  /// Secondary text such as tick labels.
  public static let mutedInk = RGBColor(hex: 0x555555)
  /// Text that should recede, such as zero counts.
  public static let faintInk = RGBColor(hex: 0xAAAAAA)
  /// Grid lines.
  public static let grid = RGBColor(hex: 0xE4E4E4)
  /// Captions of correct predictions.
  public static let correct = RGBColor(hex: 0x1B7F2A)
  /// Captions of wrong predictions.
  public static let wrong = RGBColor(hex: 0xC62828)

  /// This colour moved towards `other` by `amount` (0 keeps this colour, 1 gives `other`).
  public func mixed(with other: RGBColor, amount: Double) -> RGBColor {
    let t = min(max(amount, 0), 1)
    func mix(_ a: UInt8, _ b: UInt8) -> UInt8 {
      UInt8((Double(a) * (1 - t) + Double(b) * t).rounded())
    }
    return RGBColor(
      red: mix(red, other.red), green: mix(green, other.green), blue: mix(blue, other.blue))
  }

  /// Relative luminance in 0...1 (Rec. 709 weights on the encoded values).
  public var luminance: Double {
    (0.2126 * Double(red) + 0.7152 * Double(green) + 0.0722 * Double(blue)) / 255
  }
}

/// The fixed colours every chart uses, so that a class or a series keeps its colour everywhere.
public enum Palette {
  /// Ten distinct colours (Tableau 10) for series and classes; indices wrap around.
  public static let categorical: [RGBColor] = [
    0x4E79A7, 0xF28E2B, 0xE15759, 0x76B7B2, 0x59A14F,
    0xEDC948, 0xB07AA1, 0xFF9DA7, 0x9C755F, 0xBAB0AC,
  ].map { RGBColor(hex: $0) }

  public static func categorical(_ index: Int) -> RGBColor {
    categorical[((index % categorical.count) + categorical.count) % categorical.count]
  }

  /// Mask colours: class 0 (background) has none, class c uses `categorical(c - 1)`.
  public static func maskColor(_ classIndex: Int) -> RGBColor? {
    classIndex == 0 ? nil : categorical(classIndex - 1)
  }

  /// ColorBrewer "Blues": white through to dark blue, for heat maps of values in 0...1.
  static let bluesStops: [RGBColor] = [
    0xF7FBFF, 0xDEEBF7, 0xC6DBEF, 0x9ECAE1, 0x6BAED6, 0x4292C6, 0x2171B5, 0x08519C, 0x08306B,
  ].map { RGBColor(hex: $0) }

  /// The heat-map colour of `value` in 0...1 (clamped); darker means larger.
  public static func heat(_ value: Double) -> RGBColor { interpolate(bluesStops, value) }
}
