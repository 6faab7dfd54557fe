import Foundation
import ZooTensor

// The built-in segmentation task: 96x96 grey scenes of two to four real Fashion-MNIST test
// garments on a textured background, with the garments' pixels as the mask. Every scene is a
// pure function of its split and index, so the data is the same on every machine and run.
// Docs/segmentation.md describes the recipe in words; keep the two in step.

/// Scenes built from Fashion-MNIST's test images for segmentation.
public enum FashionScenes {
  /// Scene side in pixels.
  public static let size = 96
  /// A garment pixel at or above this value (after resizing) belongs to the garment's mask.
  public static let garmentThreshold: Float = 40
  /// Class 0 is the background; class k + 1 is Fashion-MNIST class k.
  public static let classNames = ["background"] + FashionMNIST.classNames

  /// Which garments and which random stream a split uses: training scenes take test images
  /// 0..<8000, held-out scenes 8000..<10000, so no held-out garment is ever seen in training.
  public enum Split: String, Sendable, CaseIterable {
    case train
    case heldOut = "held-out"

    /// Scenes in the split.
    public var count: Int { self == .train ? 4000 : 500 }
    /// Fashion-MNIST test images the split's garments come from.
    public var garments: Range<Int> { self == .train ? 0..<8000 : 8000..<10000 }
    var seed: UInt64 { self == .train ? 1 : 2 }
  }

  /// The first `count` scenes of `split` (all of them by default), per-class masks, made from
  /// Fashion-MNIST's test set `garments` (10,000 images, as `FashionMNIST.load(.test)` gives).
  public static func make(_ split: Split, garments: LabeledImages, count: Int? = nil) throws
    -> SegmentationSet
  {
    guard garments.count >= 10_000, garments.height == 28, garments.width == 28,
      garments.channels == 1
    else {
      throw SegmentationDataError.invalid(
        "scenes need Fashion-MNIST's 10,000 28x28 test images, got \(garments.count) of "
          + "\(garments.channels)x\(garments.height)x\(garments.width)")
    }
    let n = min(count ?? split.count, split.count)
    let plane = size * size
    var pixels = [UInt8](repeating: 0, count: n * plane)
    var masks = [UInt8](repeating: 0, count: n * plane)
    for i in 0..<n {
      let (image, mask) = scene(i, of: split, garments: garments)
      pixels.replaceSubrange((i * plane)..<((i + 1) * plane), with: image)
      masks.replaceSubrange((i * plane)..<((i + 1) * plane), with: mask)
    }
    return try SegmentationSet(
      channels: 1, height: size, width: size, pixels: pixels, masks: masks,
      classNames: classNames)
  }

  /// Scene `index` of `split`: its pixels and its per-class mask, row by row.
  public static func scene(_ index: Int, of split: Split, garments: LabeledImages) -> (
    pixels: [UInt8], mask: [UInt8]
  ) {
    var generator = AugmentationKey(seed: split.seed, epoch: 0).generator(forExample: index)
    var canvas = background(&generator)
    var mask = [UInt8](repeating: 0, count: size * size)
    let garmentCount = Int.random(in: 2...4, using: &generator)
    for _ in 0..<garmentCount {
      let g = Int.random(in: split.garments, using: &generator)
      let side = Int((28 * uniform(1.25...2.0, &generator)).rounded())
      let top = Int.random(in: 0...(size - side), using: &generator)
      let left = Int.random(in: 0...(size - side), using: &generator)
      let garment = FloatImage(
        channels: 1, height: 28, width: 28,
        values: garments.pixels[(g * 784)..<((g + 1) * 784)].map(Float.init)
      ).resized(height: side, width: side)
      // Later garments lie on top of earlier ones.
      for y in 0..<side {
        for x in 0..<side {
          let value = garment.values[y * side + x]
          guard value >= garmentThreshold else { continue }
          let k = (top + y) * size + left + x
          canvas[k] = min(value.rounded(), 255)
          mask[k] = UInt8(garments.labels[g] + 1)
        }
      }
    }
    return (canvas.map { UInt8(min(max($0, 0), 255)) }, mask)
  }

  /// A grating of period 4-10 pixels at a random angle, a slow wave of period 24-48 pixels,
  /// and uniform noise of +-12 around a level of 30-70: values stay within about 0-140.
  private static func background(_ generator: inout SeededGenerator) -> [Float] {
    let level = uniform(30...70, &generator)
    let fine = Wave(
      angle: uniform(0...Double.pi, &generator), period: uniform(4...10, &generator),
      phase: uniform(0...(2 * Double.pi), &generator), amplitude: uniform(15...35, &generator))
    let slow = Wave(
      angle: uniform(0...Double.pi, &generator), period: uniform(24...48, &generator),
      phase: uniform(0...(2 * Double.pi), &generator), amplitude: uniform(0...20, &generator))
    var values = [Float](repeating: 0, count: size * size)
    for y in 0..<size {
      for x in 0..<size {
        let noise: Double = uniform(-12...12, &generator)
        let waves: Double = fine.value(x: x, y: y) + slow.value(x: x, y: y)
        values[y * size + x] = Float((level + waves + noise).rounded())
      }
    }
    return values
  }

  private struct Wave {
    let angle: Double
    let period: Double
    let phase: Double
    let amplitude: Double

    func value(x: Int, y: Int) -> Double {
      let along = Double(x) * cos(angle) + Double(y) * sin(angle)
      return amplitude * sin(2 * Double.pi * along / period + phase)
    }
  }

  private static func uniform(_ range: ClosedRange<Double>, _ generator: inout SeededGenerator)
    -> Double
  {
    range.lowerBound + (range.upperBound - range.lowerBound) * Double(generator.nextUniform())
  }
}
