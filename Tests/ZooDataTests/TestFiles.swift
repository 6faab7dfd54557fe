import Foundation
import ZooData

/// A fresh temporary folder for one test, with helpers to fill it.
struct TestFolder {
  let url = FileManager.default.temporaryDirectory.appendingPathComponent(
    "zoo-data-\(UUID().uuidString)")

  init() throws {
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
  }

  /// Writes `bytes` at `relativePath`, creating folders on the way.
  @discardableResult
  func write(_ relativePath: String, _ bytes: [UInt8]) throws -> URL {
    let file = url.appendingPathComponent(relativePath)
    try FileManager.default.createDirectory(
      at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
    try Data(bytes).write(to: file)
    return file
  }

  @discardableResult
  func write(_ relativePath: String, text: String) throws -> URL {
    try write(relativePath, Array(text.utf8))
  }

  func makeFolder(_ relativePath: String) throws {
    try FileManager.default.createDirectory(
      at: url.appendingPathComponent(relativePath), withIntermediateDirectories: true)
  }

  func path(_ relativePath: String) -> String { url.appendingPathComponent(relativePath).path }
}

/// An image whose every pixel has the same value per channel.
func solidImage(width: Int, height: Int, _ pixel: [UInt8]) -> DecodedImage {
  DecodedImage(
    width: width, height: height, channels: pixel.count,
    pixels: Array((0..<(width * height)).map { _ in pixel }.joined()))
}

/// A grey image with pixel (x, y) = `value(x, y)`.
func greyImage(width: Int, height: Int, _ value: (Int, Int) -> Int) -> DecodedImage {
  var pixels: [UInt8] = []
  for y in 0..<height {
    for x in 0..<width { pixels.append(UInt8(value(x, y))) }
  }
  return DecodedImage(width: width, height: height, channels: 1, pixels: pixels)
}

/// A 16-bit grey, RGB or RGBA PNG (`channels` 1, 3, 4; samples interleaved), written by
/// hand with stored deflate blocks since the encoder writes 8-bit files only.
func sixteenBitPNG(width: Int, height: Int, channels: Int, values: [UInt16]) -> [UInt8] {
  var raw: [UInt8] = []
  let row = width * channels
  for y in 0..<height {
    raw.append(0)  // filter: none
    for v in values[(y * row)..<((y + 1) * row)] { raw += [UInt8(v >> 8), UInt8(v & 0xFF)] }
  }
  var zlib: [UInt8] = [0x78, 0x01]
  var offset = 0
  repeat {
    let length = min(65_535, raw.count - offset)
    let final: UInt8 = offset + length == raw.count ? 1 : 0
    zlib += [final, UInt8(length & 0xFF), UInt8(length >> 8)]
    zlib += [UInt8(~length & 0xFF), UInt8((~length >> 8) & 0xFF)]
    zlib += raw[offset..<(offset + length)]
    offset += length
  } while offset < raw.count
  var a: UInt32 = 1
  var b: UInt32 = 0
  for byte in raw {
    a = (a + UInt32(byte)) % 65_521
    b = (b + a) % 65_521
  }
  zlib += bigEndian((b << 16) | a)

  func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
    let body = Array(type.utf8) + data
    return bigEndian(UInt32(data.count)) + body + bigEndian(crc32(body))
  }
  let colorType: UInt8 = [1: 0, 3: 2, 4: 6][channels]!
  let header = bigEndian(UInt32(width)) + bigEndian(UInt32(height)) + [16, colorType, 0, 0, 0]
  return [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + chunk("IHDR", header)
    + chunk("IDAT", zlib) + chunk("IEND", [])
}

/// `png` with the width and height in its header replaced (and the header's CRC made right).
func png(_ png: [UInt8], declaring width: Int, _ height: Int) -> [UInt8] {
  // Signature (8), IHDR length (4) and type (4), then width, height; the CRC follows the 13
  // bytes of IHDR data.
  let header =
    Array(png[12..<16]) + bigEndian(UInt32(width)) + bigEndian(UInt32(height))
    + png[24..<29]
  return Array(png[0..<12]) + header + bigEndian(crc32(header)) + png[33...]
}

private func bigEndian(_ value: UInt32) -> [UInt8] {
  [
    UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF),
    UInt8(value & 0xFF),
  ]
}

private func crc32(_ bytes: [UInt8]) -> UInt32 {
  var crc: UInt32 = 0xFFFF_FFFF
  for byte in bytes {
    crc ^= UInt32(byte)
    for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
  }
  return ~crc
}
