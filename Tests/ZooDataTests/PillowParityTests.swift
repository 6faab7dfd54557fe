import Foundation
import Testing
import ZooData

/// Odd but valid images (progressive and CMYK JPEG, 16-bit, palette, grey+alpha and interlaced
/// PNG, ...) decode to the pixels Pillow gives, converted to the zoo's 8-bit grey, RGB or RGBA
/// (Tools/make_image_fixtures.py writes the images and Pillow's pixels, and says how each
/// reference is made).
@Suite struct PillowParityTests {
  struct Reference: Decodable, Sendable, CustomTestStringConvertible {
    let file: String
    let width: Int
    let height: Int
    let channels: Int
    /// The largest difference allowed in a sample (0: libjpeg-turbo's builds agree).
    let tolerance: Int
    let reference: String
    let pixels: String

    var testDescription: String { file }
  }

  struct Manifest: Decodable {
    let images: [Reference]
  }

  static let folder = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!
    .appendingPathComponent("images")

  static let references: [Reference] = {
    let data = try! Data(contentsOf: folder.appendingPathComponent("pillow.json"))
    return try! JSONDecoder().decode(Manifest.self, from: data).images
  }()

  @Test(arguments: references)
  func decodesAsPillow(_ expected: Reference) throws {
    let image = try ImageCodec.decode(
      contentsOf: Self.folder.appendingPathComponent(expected.file))
    #expect(
      (image.width, image.height, image.channels)
        == (expected.width, expected.height, expected.channels))
    let reference = try #require(Data(base64Encoded: expected.pixels))
    try #require(image.pixels.count == reference.count)
    let difference = zip(image.pixels, reference).map { abs(Int($0) - Int($1)) }.max() ?? 0
    #expect(difference <= expected.tolerance, "\(expected.file) (\(expected.reference))")
    print("\(expected.file): largest difference from Pillow \(difference)")
  }
}
