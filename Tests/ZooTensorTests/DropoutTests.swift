import Testing
import ZooTensor
import ZooTestSupport

@Suite struct DropoutTests {
  @Test func deterministicForASeedAndMatchesReference() throws {
    var g = SeededGenerator(seed: 1)
    let x = Tensor.normal(shape: [4, 3, 5, 5], generator: &g, requiresGrad: true)
    let a = try dropout(x, probability: 0.3, training: true, rng: RandomStream(seed: 42))
    let b = try dropout(x, probability: 0.3, training: true, rng: RandomStream(seed: 42))
    let c = try dropout(x, probability: 0.3, training: true, rng: RandomStream(seed: 43))
    #expect(a.scalars == b.scalars)
    #expect(a.scalars != c.scalars)
    let reference = DropoutReference.forward(x, probability: 0.3, seed: 42)
    #expect(relativeDifference(a.scalars, reference.y.scalars) < 1e-6)

    let dy = Tensor.normal(shape: x.shape, generator: &g)
    try a.backward(seed: dy)
    let dx = DropoutReference.backward(dy: dy, mask: reference.mask)
    #expect(relativeDifference(x.grad!.scalars, dx.scalars) < 1e-6)
  }

  /// A data-parallel shard (rows 3 and 4 of a global batch of 6) draws the masks one process
  /// draws for those rows.
  @Test func aShardDrawsTheMasksOfItsRowsInTheGlobalBatch() throws {
    let whole = try dropout(
      Tensor(shape: [6, 10], repeating: 1), probability: 0.5, training: true,
      rng: RandomStream(seed: 3))
    let shard = try BatchShard.$current.withValue(BatchShard(offset: 3, globalBatch: 6)) {
      try dropout(
        Tensor(shape: [2, 10], repeating: 1), probability: 0.5, training: true,
        rng: RandomStream(seed: 3))
    }
    #expect(shard.scalars == Array(whole.scalars[30..<50]))
    #expect(
      shard.scalars
        == DropoutReference.forward(
          Tensor(shape: [2, 10], repeating: 1), probability: 0.5, seed: 3, offset: 3
        ).mask)
    #expect(Array(whole.scalars[30..<40]) != Array(whole.scalars[40..<50]))
  }

  @Test func keptElementsAreScaledAndFractionIsOneMinusP() throws {
    let x = Tensor(shape: [200_000], repeating: 2)
    let p: Float = 0.25
    let y = try dropout(x, probability: p, training: true, rng: RandomStream(seed: 7))
    let kept = y.scalars.filter { $0 != 0 }
    #expect(kept.allSatisfy { abs($0 - 2 / (1 - p)) < 1e-6 })
    let fraction = Float(kept.count) / Float(x.count)
    #expect(abs(fraction - (1 - p)) < 0.005, "kept \(fraction)")
    // The mean is preserved in expectation.
    #expect(abs(y.scalars.reduce(0, +) / Float(x.count) - 2) < 0.02)
  }

  @Test func streamAdvancesBetweenCalls() throws {
    let x = Tensor(shape: [64], repeating: 1)
    let rng = RandomStream(seed: 5)
    let first = try dropout(x, probability: 0.5, training: true, rng: rng)
    let second = try dropout(x, probability: 0.5, training: true, rng: rng)
    #expect(first.scalars != second.scalars)
  }

  @Test func identityInInferenceOrWithZeroProbability() throws {
    let x = Tensor(shape: [3, 4], repeating: 1.5, requiresGrad: true)
    let rng = RandomStream(seed: 1)
    #expect(try dropout(x, probability: 0.5, training: false, rng: rng) === x)
    #expect(try dropout(x, probability: 0, training: true, rng: rng) === x)
  }

  @Test func gradientMatchesFiniteDifferences() throws {
    var g = SeededGenerator(seed: 3)
    let x = Tensor.normal(shape: [3, 4, 5], generator: &g, requiresGrad: true)
    let rng = RandomStream(seed: 9)
    // Re-seeding inside f gives every evaluation the same mask.
    let report = try checkGradients([x]) {
      rng.reseed(9)
      return try dropout($0[0], probability: 0.4, training: true, rng: rng)
    }
    #expect(report.passed, "\(report)")
  }

  @Test func probabilityOneDropsEverythingAndOutOfRangeThrows() throws {
    let x = Tensor(shape: [10], repeating: 3)
    let y = try dropout(x, probability: 1, training: true, rng: RandomStream(seed: 1))
    #expect(y.scalars.allSatisfy { $0 == 0 })
    #expect(
      throws: TensorError.invalidArgument(
        op: "dropout", message: "probability must be in [0, 1], got 1.5")
    ) { try dropout(x, probability: 1.5, training: true, rng: RandomStream(seed: 1)) }
    #expect(throws: TensorError.self) {
      try dropout(x, probability: -0.1, training: false, rng: RandomStream(seed: 1))
    }
  }
}
