import Foundation
import Zoo
import ZooData

extension Predict {
  /// `zoo predict` for a segmentation model: each image's class shares, and with --out or
  /// --out-dir its mask PNG and overlay. Unreadable images and sizes the model cannot take
  /// are reported; the others are still segmented.
  func predictSegmentation(_ source: PretrainedSource) throws {
    let segmenter = try namingWeightFile(source.url.path) {
      try TrainedSegmenter(weights: source.weights, source: source.url.path)
    }
    if let outDir {
      try FileManager.default.createDirectory(
        at: URL(fileURLWithPath: outDir), withIntermediateDirectories: true)
    }
    var failures = 0
    for path in images {
      let image: DecodedImage
      let result: (pixels: [UInt8], mask: [Int])
      do {
        image = try ImageCodec.decode(contentsOf: URL(fileURLWithPath: path))
        result = try segmenter.segment(image, name: path)
      } catch let error as ImageError {
        report(error)
        failures += 1
        continue
      } catch let error as SegmenterError {
        report(error)
        failures += 1
        continue
      }
      print("\(path) (\(image.width)x\(image.height))")
      var counts = [Int](repeating: 0, count: segmenter.classNames.count)
      for c in result.mask { counts[c] += 1 }
      for (c, count) in counts.enumerated() where count > 0 {
        let name = segmenter.classNames[c]
        print(
          "  "
            + String(format: "%6.2f%%  ", 100 * Double(count) / Double(result.mask.count)) + name)
      }
      guard let maskURL = maskURL(for: path) else { continue }
      let overlayURL = maskURL.deletingPathExtension().appendingPathExtension("overlay.png")
      try Data(
        MaskFolder.encodePNG(
          result.mask, width: image.width, height: image.height,
          classCount: segmenter.classNames.count)
      ).write(to: maskURL)
      try overlay(
        pixels: result.pixels, channels: segmenter.channels, width: image.width,
        height: image.height, mask: result.mask, scale: overlayScale
      ).write(to: overlayURL)
      print("  wrote \(maskURL.path) and \(overlayURL.lastPathComponent)")
    }
    try endRun(failures: failures, couldNotBe: "segmented")
  }

  private func maskURL(for image: String) -> URL? {
    if let out { return URL(fileURLWithPath: out) }
    guard let outDir else { return nil }
    let stem = URL(fileURLWithPath: image).deletingPathExtension().lastPathComponent
    return URL(fileURLWithPath: outDir).appendingPathComponent(stem + ".png")
  }
}
