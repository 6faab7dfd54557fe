import ZooData

/// How the channels of a flat pixel array are ordered.
public enum PixelLayout: Sendable {
  /// Channels interleaved per pixel, as image files store them.
  case hwc
  /// One plane per channel, as tensors and `LabeledImages` store them.
  case chw
}

/// A small grey or RGB image to draw: 8-bit, channels interleaved, rows top to bottom.
public struct PlotImage: Sendable, Equatable {
  public let width: Int
  public let height: Int
  /// 1 (grey) or 3 (RGB).
  public let channels: Int
  /// `height * width * channels` bytes, interleaved (HWC).
  public let pixels: [UInt8]

  /// An image from bytes in either layout.
  public init(width: Int, height: Int, channels: Int, pixels: [UInt8], layout: PixelLayout) {
    precondition(
      channels == 1 || channels == 3,
      "a plot image has 1 (grey) or 3 (RGB) channels, got \(channels)")
    precondition(
      pixels.count == width * height * channels,
      "a \(width)x\(height)x\(channels) image needs \(width * height * channels) values, got \(pixels.count)"
    )
    self.width = width
    self.height = height
    self.channels = channels
    self.pixels = layout == .hwc ? pixels : Self.interleave(pixels, channels: channels)
  }

  /// An image from floating-point values, such as a model input. Values are mapped linearly
  /// from `range` to 0...255 and clamped; with `range` nil each image is stretched from its own
  /// minimum to its maximum. NaN draws as the bottom of the range.
  public init(
    width: Int, height: Int, channels: Int, values: [Float], layout: PixelLayout,
    range: ClosedRange<Float>? = 0...1
  ) {
    let finite = values.filter { $0.isFinite }
    let lower = range?.lowerBound ?? finite.min() ?? 0
    let upper = range?.upperBound ?? finite.max() ?? 1
    let span = upper > lower ? upper - lower : 1
    let bytes = values.map { value -> UInt8 in
      guard !value.isNaN else { return 0 }
      return UInt8((min(max((value - lower) / span, 0), 1) * 255).rounded())
    }
    self.init(width: width, height: height, channels: channels, pixels: bytes, layout: layout)
  }

  /// A decoded image file; an alpha channel is dropped.
  public init(_ image: DecodedImage) {
    if image.channels == 4 {
      var rgb: [UInt8] = []
      rgb.reserveCapacity(image.width * image.height * 3)
      for pixel in 0..<(image.width * image.height) {
        rgb.append(contentsOf: image.pixels[(pixel * 4)..<(pixel * 4 + 3)])
      }
      self.init(width: image.width, height: image.height, channels: 3, pixels: rgb, layout: .hwc)
    } else {
      self.init(
        width: image.width, height: image.height, channels: image.channels, pixels: image.pixels,
        layout: .hwc)
    }
  }

  /// Image `index` of a labelled set.
  public init(_ images: LabeledImages, index: Int) {
    let start = index * images.imageSize
    self.init(
      width: images.width, height: images.height, channels: images.channels,
      pixels: Array(images.pixels[start..<(start + images.imageSize)]), layout: .chw)
  }

  public func color(x: Int, y: Int) -> RGBColor {
    let offset = (y * width + x) * channels
    if channels == 1 { return RGBColor(grey: pixels[offset]) }
    return RGBColor(red: pixels[offset], green: pixels[offset + 1], blue: pixels[offset + 2])
  }

  private static func interleave(_ planes: [UInt8], channels: Int) -> [UInt8] {
    guard channels > 1 else { return planes }
    let plane = planes.count / channels
    var pixels = [UInt8](repeating: 0, count: planes.count)
    for channel in 0..<channels {
      for index in 0..<plane {
        pixels[index * channels + channel] = planes[channel * plane + index]
      }
    }
    return pixels
  }
}
