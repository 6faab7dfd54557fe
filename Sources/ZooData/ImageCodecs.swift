import CJPEG
import CPNG
import Foundation

/// An 8-bit image, pixels interleaved (HWC), rows top to bottom.
public struct DecodedImage: Sendable, Equatable {
  public let width: Int
  public let height: Int
  /// 1 (grey), 3 (RGB) or 4 (RGBA).
  public let channels: Int
  public let pixels: [UInt8]

  public init(width: Int, height: Int, channels: Int, pixels: [UInt8]) {
    precondition(
      pixels.count == width * height * channels,
      "pixel count does not match \(width)x\(height)x\(channels)")
    self.width = width
    self.height = height
    self.channels = channels
    self.pixels = pixels
  }
}

public enum ImageError: Error, Equatable, LocalizedError {
  case unreadable(path: String, reason: String)
  case unknownFormat(path: String)
  case corrupt(path: String, format: String, reason: String)
  case truncated(path: String)
  case tooLarge(path: String, format: String, width: Int, height: Int)

  public var errorDescription: String? { "\(path): \(reason)" }

  /// The image the error is about.
  public var path: String {
    switch self {
    case .unreadable(let path, _), .unknownFormat(let path), .corrupt(let path, _, _),
      .truncated(let path), .tooLarge(let path, _, _, _):
      return path
    }
  }

  /// What went wrong, without the path.
  public var reason: String {
    switch self {
    case .unreadable(_, let reason): return "cannot read image: \(reason)"
    case .unknownFormat: return "not a JPEG or PNG image"
    case .corrupt(_, let format, let reason): return "corrupt \(format): \(reason)"
    case .truncated: return "image data ends early (truncated file)"
    case .tooLarge(_, let format, let width, let height):
      return
        "\(format) of \(width)x\(height) pixels is larger than the decoder accepts"
        + " (\(ImageCodec.maximumPixelCount) pixels, e.g. 8192x8192)"
    }
  }
}

/// Decodes JPEG (libjpeg) and PNG (libpng) images; every failure is a thrown `ImageError`.
public enum ImageCodec {
  /// The most pixels a decoded image may have. A header of a few bytes can declare a
  /// 65500x65500 JPEG or a 1000000x1000000 PNG, whose pixels would not fit in memory: such an
  /// image is refused before anything is allocated.
  public static let maximumPixelCount = 8192 * 8192

  public static func decode(contentsOf url: URL) throws -> DecodedImage {
    let data: Data
    do {
      data = try Data(contentsOf: url)
    } catch {
      throw ImageError.unreadable(path: url.path, reason: error.localizedDescription)
    }
    return try decode(Array(data), path: url.path)
  }

  /// `path` names the image in errors.
  public static func decode(_ bytes: [UInt8], path: String) throws -> DecodedImage {
    if bytes.starts(with: [0xFF, 0xD8]) { return try decodeJPEG(bytes, path: path) }
    if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47]) { return try decodePNG(bytes, path: path) }
    throw ImageError.unknownFormat(path: path)
  }

  /// A JPEG truncated inside the scan decodes with a warning ("Premature end of JPEG file");
  /// we treat any warning as a truncated file rather than return half an image.
  static func decodeJPEG(_ bytes: [UInt8], path: String) throws -> DecodedImage {
    var image = zoo_jpeg_image()
    var message = [CChar](repeating: 0, count: 256)
    let status = bytes.withUnsafeBufferPointer { buffer in
      zoo_jpeg_decode(
        buffer.baseAddress, buffer.count, UInt64(maximumPixelCount), &image, &message,
        message.count)
    }
    if status == 3 {
      throw ImageError.tooLarge(
        path: path, format: "JPEG", width: Int(image.width), height: Int(image.height))
    }
    guard status == 0 else {
      let reason = String(
        decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
      throw ImageError.corrupt(path: path, format: "JPEG", reason: reason)
    }
    defer { zoo_jpeg_free(image.pixels) }
    guard image.warnings == 0 else { throw ImageError.truncated(path: path) }
    let count = Int(image.width) * Int(image.height) * Int(image.channels)
    return DecodedImage(
      width: Int(image.width), height: Int(image.height), channels: Int(image.channels),
      pixels: Array(UnsafeBufferPointer(start: image.pixels, count: count)))
  }

  static func decodePNG(_ bytes: [UInt8], path: String) throws -> DecodedImage {
    var image = png_image()
    image.version = UInt32(PNG_IMAGE_VERSION)
    guard
      bytes.withUnsafeBufferPointer({
        png_image_begin_read_from_memory(&image, $0.baseAddress, $0.count)
      }) != 0
    else { throw pngError(&image, path: path) }
    guard Int(image.width) * Int(image.height) <= maximumPixelCount else {
      png_image_free(&image)
      throw ImageError.tooLarge(
        path: path, format: "PNG", width: Int(image.width), height: Int(image.height))
    }
    // Decode to 8-bit grey, grey+alpha -> RGBA, colour -> RGB or RGBA; 16-bit is reduced to 8.
    let hasAlpha = image.format & UInt32(PNG_FORMAT_FLAG_ALPHA) != 0
    let isColor = image.format & UInt32(PNG_FORMAT_FLAG_COLOR) != 0
    let channels = hasAlpha ? 4 : (isColor ? 3 : 1)
    // libpng takes 16-bit samples without a gAMA chunk for linear light and would
    // gamma-encode them (32768 -> 186); this flag makes them plain sRGB values, scaled to 8
    // bits as v * 255 / 65535.
    image.flags |= UInt32(PNG_IMAGE_FLAG_16BIT_sRGB)
    image.format = pngFormat(channels: channels)
    let (width, height) = (Int(image.width), Int(image.height))
    var pixels = [UInt8](repeating: 0, count: width * height * channels)
    let ok = pixels.withUnsafeMutableBytes {
      png_image_finish_read(&image, nil, $0.baseAddress, Int32(width * channels), nil)
    }
    guard ok != 0 else { throw pngError(&image, path: path) }
    return DecodedImage(width: width, height: height, channels: channels, pixels: pixels)
  }

  /// libpng's format code for 8-bit grey, RGB or RGBA (its PNG_FORMAT_* macros do not import).
  private static func pngFormat(channels: Int) -> UInt32 {
    let color = channels >= 3 ? UInt32(PNG_FORMAT_FLAG_COLOR) : 0
    let alpha = channels == 4 || channels == 2 ? UInt32(PNG_FORMAT_FLAG_ALPHA) : 0
    return color | alpha
  }

  private static func pngError(_ image: inout png_image, path: String) -> ImageError {
    let reason = withUnsafeBytes(of: &image.message) { raw in
      String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
    }
    png_image_free(&image)
    if reason.contains("EOF") || reason.contains("truncated") || reason.contains("Read Error") {
      return .truncated(path: path)
    }
    return .corrupt(path: path, format: "PNG", reason: reason)
  }

  /// Encodes grey or RGB pixels as JPEG.
  public static func encodeJPEG(_ image: DecodedImage, quality: Int = 90) throws -> [UInt8] {
    var output: UnsafeMutablePointer<UInt8>?
    var size = 0
    var message = [CChar](repeating: 0, count: 256)
    let status = image.pixels.withUnsafeBufferPointer {
      zoo_jpeg_encode(
        $0.baseAddress, Int32(image.width), Int32(image.height), Int32(image.channels),
        Int32(quality), &output, &size, &message, message.count)
    }
    guard status == 0, let output else {
      let reason = String(
        decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
      throw ImageError.corrupt(path: "<encoder>", format: "JPEG", reason: reason)
    }
    defer { zoo_jpeg_free(output) }
    return Array(UnsafeBufferPointer(start: output, count: size))
  }

  /// Encodes grey, RGB or RGBA pixels as PNG.
  public static func encodePNG(_ image: DecodedImage) throws -> [UInt8] {
    var info = png_image()
    info.version = UInt32(PNG_IMAGE_VERSION)
    info.width = UInt32(image.width)
    info.height = UInt32(image.height)
    info.format = pngFormat(channels: image.channels)
    var size = 0
    let stride = Int32(image.width * image.channels)
    guard
      image.pixels.withUnsafeBytes({
        png_image_write_to_memory(&info, nil, &size, 0, $0.baseAddress, stride, nil)
      }) != 0
    else { throw pngError(&info, path: "<encoder>") }
    var bytes = [UInt8](repeating: 0, count: size)
    let ok = bytes.withUnsafeMutableBytes { out in
      image.pixels.withUnsafeBytes {
        png_image_write_to_memory(&info, out.baseAddress, &size, 0, $0.baseAddress, stride, nil)
      }
    }
    guard ok != 0 else { throw pngError(&info, path: "<encoder>") }
    return Array(bytes.prefix(size))
  }
}
