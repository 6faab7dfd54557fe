import Testing
import ZooData

/// Pixels from PIL 10 (`convert`, `resize(BILINEAR)`) and torchvision's Resize + CenterCrop
/// rules, printed by Tools/pil_transforms_reference.py for the pattern
/// (x * 37 + y * 91 + c * 53) % 256. Planar (CHW) where there are several channels.
enum PIL {
  static let rgbToGrey: [UInt8] = [43, 80, 117, 154, 134, 171, 179, 216]
  static let rgbaToRGB: [UInt8] = [0, 37, 74, 53, 90, 127, 106, 143, 180]
  static let shrinkGrey7x5To3x2: [UInt8] = [99, 129, 129, 106, 118, 128]
  static let enlargeGrey3x2To5x4: [UInt8] = [
    0, 15, 37, 59, 74, 23, 38, 60, 82, 97, 68, 83, 105, 127, 142, 91, 106, 128, 150, 165,
  ]
  static let resizeRGB9x6To4x5: [UInt8] = [
    50, 124, 154, 69, 136, 140, 98, 133, 105, 87, 153, 135, 106, 141, 99, 103, 170, 85, 115, 189,
    103, 165, 141, 81, 150, 151, 115, 152, 103, 131, 171, 114, 159, 126, 123, 137, 137, 101, 167,
    167, 145, 175, 109, 134, 136, 91, 157, 166, 109, 152, 134, 113, 179, 112, 118, 190, 104, 139,
    151, 93,
  ]
  static let prepareRGB10x6ToGrey4: [UInt8] = [
    143, 164, 128, 91, 110, 127, 137, 150, 137, 134, 142, 115, 112, 102, 139, 172,
  ]
  static let prepareGrey5x9ToRGB3: [UInt8] = [
    129, 88, 117, 124, 135, 102, 119, 114, 127, 129, 88, 117, 124, 135, 102, 119, 114, 127, 129,
    88, 117, 124, 135, 102, 119, 114, 127,
  ]

  /// The reference script's pattern image.
  static func pattern(width: Int, height: Int, channels: Int) -> DecodedImage {
    var pixels: [UInt8] = []
    for y in 0..<height {
      for x in 0..<width {
        for c in 0..<channels { pixels.append(UInt8((x * 37 + y * 91 + c * 53) % 256)) }
      }
    }
    return DecodedImage(width: width, height: height, channels: channels, pixels: pixels)
  }
}

/// Interleaved pixels as planes, to compare with the planar references.
func planar(_ image: DecodedImage) -> [UInt8] {
  let plane = image.width * image.height
  return (0..<image.channels).flatMap { c in
    (0..<plane).map { image.pixels[$0 * image.channels + c] }
  }
}

@Suite struct ImageTransformTests {
  @Test func channelConversionByHand() {
    // ITU-R 601 luma, PIL's rounding: (19595 R + 38470 G + 7471 B + 32768) >> 16.
    let rgb = DecodedImage(
      width: 3, height: 1, channels: 3, pixels: [255, 0, 0, 0, 255, 0, 10, 20, 30])
    #expect(ImageTransforms.convert(rgb, toChannels: 1).pixels == [76, 150, 18])
    let grey = DecodedImage(width: 2, height: 1, channels: 1, pixels: [7, 200])
    #expect(ImageTransforms.convert(grey, toChannels: 3).pixels == [7, 7, 7, 200, 200, 200])
    // Half-transparent red, and a fully transparent black pixel.
    let rgba = DecodedImage(
      width: 2, height: 1, channels: 4, pixels: [255, 0, 0, 128, 0, 0, 0, 0])
    #expect(ImageTransforms.convert(rgba, toChannels: 3).pixels == [255, 0, 0, 0, 0, 0])
    #expect(
      ImageTransforms.convert(rgba, toChannels: 3, alpha: .compositeOnWhite).pixels
        == [255, 127, 127, 255, 255, 255])
    #expect(
      ImageTransforms.convert(rgba, toChannels: 1, alpha: .compositeOnWhite).pixels == [165, 255])
  }

  @Test func channelConversionMatchesPIL() {
    let rgb = PIL.pattern(width: 4, height: 2, channels: 3)
    #expect(ImageTransforms.convert(rgb, toChannels: 1).pixels == PIL.rgbToGrey)
    let rgba = PIL.pattern(width: 3, height: 1, channels: 4)
    #expect(planar(ImageTransforms.convert(rgba, toChannels: 3)) == PIL.rgbaToRGB)
  }

  @Test func bilinearByHand() {
    // Enlarging: half-pixel centres at 0.25, 0.75, 1.25, 1.75 of a 2-pixel row, edges clamped.
    let row = DecodedImage(width: 2, height: 1, channels: 1, pixels: [0, 100])
    #expect(ImageTransforms.resize(row, width: 4, height: 1).pixels == [0, 25, 75, 100])
    // Shrinking by 2: the triangle filter widens to 2 pixels; output 0 weighs inputs 0, 1, 2
    // by 3/4, 3/4, 1/4 (sum 7/4): (0 + 75 + 50) / 1.75 = 71.4; output 1 weighs 1, 2, 3 by
    // 1/4, 3/4, 3/4: (25 + 150 + 30) / 1.75 = 117.1.
    let wide = DecodedImage(width: 4, height: 1, channels: 1, pixels: [0, 100, 200, 40])
    #expect(ImageTransforms.resize(wide, width: 2, height: 1).pixels == [71, 117])
  }

  @Test func bilinearMatchesPIL() {
    let shrink = ImageTransforms.resize(
      PIL.pattern(width: 7, height: 5, channels: 1), width: 3, height: 2)
    #expect(shrink.pixels == PIL.shrinkGrey7x5To3x2)
    let enlarge = ImageTransforms.resize(
      PIL.pattern(width: 3, height: 2, channels: 1), width: 5, height: 4)
    #expect(enlarge.pixels == PIL.enlargeGrey3x2To5x4)
    let mixed = ImageTransforms.resize(
      PIL.pattern(width: 9, height: 6, channels: 3), width: 4, height: 5)
    #expect(planar(mixed) == PIL.resizeRGB9x6To4x5)
  }

  @Test func coverSizeAndCentreCrop() {
    let square = ImageShape(channels: 1, height: 4, width: 4)
    // Shorter side to 4, longer side Int(4 * 10 / 6) = 6, as torchvision's Resize(4).
    #expect(ImageTransforms.coverSize(width: 10, height: 6, for: square) == (6, 4))
    #expect(ImageTransforms.coverSize(width: 5, height: 9, for: square) == (4, 7))
    let wideCrop = ImageShape(channels: 1, height: 2, width: 6)
    #expect(ImageTransforms.coverSize(width: 4, height: 4, for: wideCrop) == (6, 6))
    // Offsets (7 - 2) / 2 = 2.5 and (4 - 1) / 2 = 1.5 both round to 2 (half to even).
    let image = greyImage(width: 7, height: 4) { x, y in 10 * y + x }
    let cropped = ImageTransforms.centerCrop(image, width: 2, height: 1)
    #expect(cropped.pixels == [22, 23])
  }

  @Test func prepareMatchesTorchvision() {
    let grey = ImageTransforms.prepare(
      PIL.pattern(width: 10, height: 6, channels: 3),
      for: ImageShape(channels: 1, height: 4, width: 4))
    #expect(grey == PIL.prepareRGB10x6ToGrey4)
    let rgb = ImageTransforms.prepare(
      PIL.pattern(width: 5, height: 9, channels: 1),
      for: ImageShape(channels: 3, height: 3, width: 3))
    #expect(rgb == PIL.prepareGrey5x9ToRGB3)
  }

  @Test func labeledImagesArePreparedForAModel() {
    let images = LabeledImages(
      channels: 1, height: 2, width: 2, pixels: [0, 100, 100, 0, 10, 10, 10, 10], labels: [0, 1],
      classNames: ["a", "b"])
    let shape = ImageShape(channels: 3, height: 4, width: 4)
    let prepared = images.prepared(for: shape)
    #expect((prepared.channels, prepared.height, prepared.width) == (3, 4, 4))
    #expect(prepared.labels == [0, 1])
    #expect(Array(prepared.pixels[0..<4]) == [0, 25, 75, 100])
    #expect(prepared.pixels[48..<96].allSatisfy { $0 == 10 })
    #expect(images.prepared(for: nil).pixels == images.pixels)
  }
}
