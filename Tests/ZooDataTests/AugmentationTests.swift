import Testing
import ZooData
import ZooTensor

@Suite struct AugmentationTests {
  /// One channel, 3x3, values 1...9 row by row.
  let nine = FloatImage(channels: 1, height: 3, width: 3, values: (1...9).map(Float.init))

  @Test func flipMirrorsEachRowOfEachChannel() {
    let image = FloatImage(channels: 2, height: 1, width: 3, values: [0, 1, 2, 3, 4, 5])
    #expect(image.flippedHorizontally().values == [2, 1, 0, 5, 4, 3])
  }

  @Test func paddedCropShiftsInZeros() {
    // Pad 1, crop at (0, 0) of the padded image: the picture moves down and right by one.
    #expect(nine.paddedCrop(padding: 1, top: 0, left: 0).values == [0, 0, 0, 0, 1, 2, 0, 4, 5])
    // Crop at (2, 1): up by one, no horizontal shift.
    #expect(nine.paddedCrop(padding: 1, top: 2, left: 1).values == [4, 5, 6, 7, 8, 9, 0, 0, 0])
    #expect(nine.paddedCrop(padding: 1, top: 1, left: 1) == nine)
  }

  @Test func resizedCropCropsThenInterpolates() {
    let rows = FloatImage(channels: 1, height: 2, width: 4, values: [0, 10, 20, 30, 0, 10, 20, 30])
    let crop = rows.cropped(top: 0, left: 1, height: 2, width: 2)
    #expect(crop.values == [10, 20, 10, 20])
    // Half-pixel centres 0.25, 0.75, 1.25, 1.75 over [10, 20], edges clamped to the crop.
    #expect(crop.resized(height: 2, width: 4).values == [10, 12.5, 17.5, 20, 10, 12.5, 17.5, 20])
    #expect(nine.resized(height: 3, width: 3) == nine)
  }

  @Test func resizedCropRegionsStayInsideAndWithinScale() {
    let crop = Augmentation.ResizedCrop(scale: 0.8...1.0, ratio: 0.75...(4 / 3))
    var generator = SeededGenerator(seed: 3)
    for _ in 0..<200 {
      let r = crop.sampleRegion(height: 32, width: 40, generator: &generator)
      #expect(r.top >= 0 && r.left >= 0 && r.top + r.height <= 32 && r.left + r.width <= 40)
      let area = Double(r.height * r.width) / Double(32 * 40)
      #expect(area > 0.75 && area <= 1.0, "area fraction \(area)")
    }
  }

  @Test func augmentationIsDeterministicPerSeedEpochAndExample() {
    let images = LabeledImages(
      channels: 1, height: 6, width: 6, pixels: (0..<(4 * 36)).map { UInt8($0 % 251) },
      labels: [0, 1, 0, 1], classNames: ["a", "b"])
    let source = ImageBatches(
      images, normalization: .none(channels: 1), batchSize: 2,
      augmentation: Augmentation(resizedCrop: .init(), cropPadding: 2, horizontalFlip: true))
    let key = AugmentationKey(seed: 7, epoch: 3)
    let first = source.batch(0, order: [0, 1, 2, 3], augmentation: key)
    #expect(first == source.batch(0, order: [0, 1, 2, 3], augmentation: key))
    // Example 1 is augmented the same way wherever it sits in a batch.
    let moved = source.batch(0, order: [1, 3], augmentation: key)
    #expect(moved.values[0..<36] == first.values[36..<72])
    let otherEpoch = source.batch(
      0, order: [0, 1, 2, 3], augmentation: AugmentationKey(seed: 7, epoch: 4))
    #expect(otherEpoch.values != first.values)
    // Without a key (evaluation) the images pass through unchanged.
    let plain = source.batch(0, order: [0, 1], augmentation: nil)
    #expect(plain.values == images.pixels[0..<72].map { Float($0) * (1 / Float(255)) })
  }

  @Test func flipAloneFlipsAboutHalfTheImagesAndNothingElse() {
    let count = 200
    let images = LabeledImages(
      channels: 1, height: 1, width: 3,
      pixels: Array(repeating: [10, 20, 30], count: count).flatMap { $0 },
      labels: Array(repeating: 0, count: count), classNames: ["a"])
    let source = ImageBatches(
      images, normalization: .none(channels: 1), batchSize: count,
      augmentation: Augmentation(horizontalFlip: true))
    let batch = source.batch(
      0, order: Array(0..<count), augmentation: AugmentationKey(seed: 1, epoch: 1))
    var flipped = 0
    for n in 0..<count {
      let row = Array(batch.values[(3 * n)..<(3 * n + 3)]).map { ($0 * 255).rounded() }
      #expect(row == [10, 20, 30] || row == [30, 20, 10])
      if row == [30, 20, 10] { flipped += 1 }
    }
    #expect((70...130).contains(flipped), "\(flipped) of \(count) flipped")
  }

  @Test func normalisationFollowsAugmentation() {
    // Zero padding is a black pixel, so after normalisation it is -mean/std.
    let images = LabeledImages(
      channels: 1, height: 2, width: 2, pixels: [255, 255, 255, 255], labels: [0],
      classNames: ["a"])
    let source = ImageBatches(
      images, normalization: Normalization(mean: [0.5], std: [0.25]), batchSize: 1,
      augmentation: Augmentation(cropPadding: 2))
    var sawPadding = false
    for epoch in 0..<20 {
      let values = source.batch(0, order: [0], augmentation: AugmentationKey(seed: 0, epoch: epoch))
        .values
      #expect(values.allSatisfy { abs($0 - 2) < 1e-6 || abs($0 + 2) < 1e-6 })
      sawPadding = sawPadding || values.contains { abs($0 + 2) < 1e-6 }
    }
    #expect(sawPadding)
  }
}
