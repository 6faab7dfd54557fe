import Foundation
import Testing
import ZooData

@Suite struct ImageCodecTests {
  /// A smooth RGB gradient, large enough that most of a JPEG is scan data.
  static let gradient: DecodedImage = {
    var pixels: [UInt8] = []
    for y in 0..<48 {
      for x in 0..<64 { pixels += [UInt8(x * 4), UInt8(y * 5), UInt8((x + y) % 256)] }
    }
    return DecodedImage(width: 64, height: 48, channels: 3, pixels: pixels)
  }()

  @Test func jpegRoundTripsWithinCompressionError() throws {
    let bytes = try ImageCodec.encodeJPEG(Self.gradient, quality: 95)
    let decoded = try ImageCodec.decode(bytes, path: "gradient.jpg")
    #expect((decoded.width, decoded.height, decoded.channels) == (64, 48, 3))
    let errors = zip(decoded.pixels, Self.gradient.pixels).map { abs(Int($0) - Int($1)) }
    let meanError = Double(errors.reduce(0, +)) / Double(errors.count)
    #expect(meanError < 3, "mean absolute error \(meanError) levels")
  }

  @Test func pngRoundTripsExactly() throws {
    for channels in [1, 3, 4] {
      let image = DecodedImage(
        width: 5, height: 3, channels: channels,
        pixels: (0..<(15 * channels)).map { UInt8($0 * 3 % 256) })
      let decoded = try ImageCodec.decode(try ImageCodec.encodePNG(image), path: "x.png")
      #expect(decoded == image)
    }
  }

  @Test func corruptJPEGIsAnErrorNotAnExit() throws {
    var bytes = try ImageCodec.encodeJPEG(Self.gradient)
    // Overwrite the start-of-frame marker's contents: libjpeg's error handler would exit().
    for i in 2..<min(40, bytes.count) { bytes[i] = 0xFF }
    #expect(throws: ImageError.self) { try ImageCodec.decode(bytes, path: "bad.jpg") }
    do {
      _ = try ImageCodec.decode(bytes, path: "bad.jpg")
    } catch let ImageError.corrupt(path, format, reason) {
      #expect(path == "bad.jpg")
      #expect(format == "JPEG")
      #expect(!reason.isEmpty)
    }
  }

  @Test func truncatedJPEGAndPNGAreReportedAsTruncated() throws {
    let jpeg = try ImageCodec.encodeJPEG(Self.gradient)
    #expect(throws: ImageError.truncated(path: "cut.jpg")) {
      try ImageCodec.decode(Array(jpeg.prefix(jpeg.count * 2 / 3)), path: "cut.jpg")
    }
    let png = try ImageCodec.encodePNG(Self.gradient)
    #expect(throws: ImageError.truncated(path: "cut.png")) {
      try ImageCodec.decode(Array(png.prefix(png.count / 2)), path: "cut.png")
    }
  }

  /// A header declaring more pixels than the limit is an error before any pixel memory is
  /// taken: 1,000,000 x 1,000,000 RGB would ask for 3 TB.
  @Test func hugeDeclaredSizeIsAnError() throws {
    let png = png(try ImageCodec.encodePNG(Self.gradient), declaring: 1_000_000, 1_000_000)
    #expect(throws: ImageError.tooLarge(path: "huge.png", width: 1_000_000, height: 1_000_000)) {
      try ImageCodec.decode(png, path: "huge.png")
    }
    var jpeg = try ImageCodec.encodeJPEG(Self.gradient)
    // Start of frame: FF C0, length (2 bytes), precision (1), height (2), width (2).
    let frame = try #require(
      (0..<(jpeg.count - 1)).first { jpeg[$0] == 0xFF && jpeg[$0 + 1] == 0xC0 })
    jpeg.replaceSubrange((frame + 5)..<(frame + 9), with: [0xFF, 0xDC, 0xFF, 0xDC])
    #expect(throws: ImageError.tooLarge(path: "huge.jpg", width: 65_500, height: 65_500)) {
      try ImageCodec.decode(jpeg, path: "huge.jpg")
    }
  }

  /// A scan that is corrupt rather than cut short is reported as corrupt, with libjpeg's words.
  @Test func corruptScanIsNotCalledTruncated() throws {
    var jpeg = try ImageCodec.encodeJPEG(Self.gradient)
    let end = jpeg.count - 2  // the end-of-image marker stays
    jpeg.replaceSubrange((end * 3 / 4)..<end, with: [UInt8](repeating: 0, count: end - end * 3 / 4))
    do {
      _ = try ImageCodec.decode(jpeg, path: "zeros.jpg")
      Issue.record("a zeroed scan decoded")
    } catch let ImageError.corrupt(path, format, reason) {
      #expect(path == "zeros.jpg" && format == "JPEG")
      #expect(reason.hasPrefix("Corrupt JPEG data"), "\(reason)")
    }
  }

  @Test func unknownBytesAreNamed() {
    #expect(throws: ImageError.unknownFormat(path: "notes.txt")) {
      try ImageCodec.decode(Array("hello".utf8), path: "notes.txt")
    }
  }

  /// 16-bit samples are scaled to 8 bits (v * 255 / 65535, rounded), not treated as linear
  /// light and gamma-encoded, which is what libpng assumes for a 16-bit file without gAMA.
  @Test(arguments: [1, 3, 4]) func sixteenBitPNGIsScaledToEightBits(channels: Int) throws {
    let samples: [UInt16] = [0, 257, 32_768, 65_535, 1_000, 50_000, 12_345, 40_000]
    let values = (0..<(6 * channels)).map { samples[($0 * 5 + $0 / channels) % samples.count] }
    let bytes = sixteenBitPNG(width: 3, height: 2, channels: channels, values: values)
    let decoded = try ImageCodec.decode(bytes, path: "deep.png")
    #expect((decoded.width, decoded.height, decoded.channels) == (3, 2, channels))
    #expect(decoded.pixels == values.map { UInt8((Double($0) * 255 / 65_535).rounded()) })
  }
}
