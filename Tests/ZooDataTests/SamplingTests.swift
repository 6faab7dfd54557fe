import Testing
import ZooData

@Suite struct SamplingTests {
  /// 3 classes of 20, 12 and 4 examples; each example's feature is its index.
  static let table: LabeledTable = {
    let labels =
      Array(repeating: 0, count: 20) + Array(repeating: 1, count: 12)
      + Array(repeating: 2, count: 4)
    return LabeledTable(
      featureNames: ["index"], features: labels.indices.map(Float.init), labels: labels,
      classNames: ["cat", "dog", "owl"])
  }()

  @Test func kShotIsSeededAndBalanced() throws {
    let a = try Self.table.kShot(3, seed: 1)
    #expect(a.classCounts == [3, 3, 3])
    #expect(try Self.table.kShot(3, seed: 1) == a)
    #expect(try Self.table.kShot(3, seed: 2) != a)
    // Original order kept: indices ascending.
    #expect(a.features == a.features.sorted())
    // Each chosen row comes from its class.
    for i in 0..<a.count {
      #expect(Self.table.labels[Int(a.features[i])] == a.labels[i])
    }
  }

  @Test func kShotNamesAClassWithTooFewExamples() {
    #expect(throws: SamplingError.tooFewExamples(className: "owl", count: 4, shots: 5)) {
      try Self.table.kShot(5, seed: 0)
    }
    #expect(
      SamplingError.tooFewExamples(className: "owl", count: 4, shots: 5).localizedDescription
        == "class 'owl' has 4 examples, fewer than the 5 shots asked for; lower the shots or add examples"
    )
    #expect(throws: SamplingError.invalidShots(0)) { try Self.table.kShot(0, seed: 0) }
  }

  @Test func stratifiedSplitKeepsEachClassShare() throws {
    let (train, validation) = try Self.table.stratifiedSplit(validationFraction: 0.25, seed: 4)
    #expect(validation.classCounts == [5, 3, 1])
    #expect(train.classCounts == [15, 9, 3])
    #expect(Set(train.features).isDisjoint(with: validation.features))
    #expect(train.count + validation.count == Self.table.count)
    let again = try Self.table.stratifiedSplit(validationFraction: 0.25, seed: 4)
    #expect(again.validation == validation)
    let other = try Self.table.stratifiedSplit(validationFraction: 0.25, seed: 5)
    #expect(other.validation != validation)
  }

  @Test func stratifiedSplitRejectsBadFractions() {
    #expect(throws: SamplingError.invalidFraction(1)) {
      try Self.table.stratifiedSplit(validationFraction: 1, seed: 0)
    }
    let tiny = Self.table.selecting([0, 20])
    #expect(throws: SamplingError.emptyValidationSplit(fraction: 0.1, count: 2)) {
      try tiny.stratifiedSplit(validationFraction: 0.1, seed: 0)
    }
  }

  @Test func imagesAndExamplesSampleTheSameWay() throws {
    let images = LabeledImages(
      channels: 1, height: 1, width: 1, pixels: Self.table.labels.indices.map { UInt8($0) },
      labels: Self.table.labels, classNames: Self.table.classNames)
    let shots = try images.kShot(2, seed: 8)
    #expect(shots.pixels.map(Float.init) == (try Self.table.kShot(2, seed: 8)).features)
    let examples = try Examples.images(images).kShot(2, seed: 8)
    #expect(examples.labels == shots.labels)
  }
}
