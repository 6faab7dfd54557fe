import Testing
import ZooTensor
import ZooTestSupport

@Suite struct StochasticDepthTests {
  /// Whole samples are dropped at rate p, kept ones scaled by 1 / (1 - p), the mean preserved.
  @Test func dropsWholeSamplesAtTheRateAndKeepsTheMean() throws {
    let (samples, p): (Int, Float) = (20_000, 0.2)
    let x = Tensor(shape: [samples, 2, 3], repeating: 2)
    let y = try stochasticDepth(x, probability: p, training: true, rng: RandomStream(seed: 11))
    let rows = (0..<samples).map { Array(y.scalars[($0 * 6)..<($0 * 6 + 6)]) }
    let kept = 2 / (1 - p)
    #expect(rows.allSatisfy { row in row.allSatisfy { $0 == 0 } || row.allSatisfy { $0 == kept } })
    let dropped = Float(rows.filter { $0[0] == 0 }.count) / Float(samples)
    // Binomial standard deviation sqrt(p (1 - p) / N) = 0.0028: 5 of them.
    #expect(abs(dropped - p) < 0.014, "dropped \(dropped)")
    let mean = y.scalars.reduce(0, +) / Float(y.count)
    #expect(abs(mean - 2) < 0.04, "mean \(mean)")
  }

  @Test func identityInInferenceOrWithZeroProbability() throws {
    let x = Tensor(shape: [4, 3, 2, 2], repeating: 1.5, requiresGrad: true)
    let rng = RandomStream(seed: 1)
    #expect(try stochasticDepth(x, probability: 0.5, training: false, rng: rng) === x)
    #expect(try stochasticDepth(x, probability: 0, training: true, rng: rng) === x)
    #expect(rng.state == RandomStream(seed: 1).state, "inference draws nothing")
  }

  @Test func probabilityOneZeroesEverySample() throws {
    let x = Tensor(shape: [5, 3], repeating: 1)
    let y = try stochasticDepth(x, probability: 1, training: true, rng: RandomStream(seed: 2))
    #expect(y.scalars.allSatisfy { $0 == 0 })
  }

  @Test func matchesReferenceForASeed() throws {
    var g = SeededGenerator(seed: 4)
    let x = Tensor.normal(shape: [16, 3, 2, 2], generator: &g, requiresGrad: true)
    let y = try stochasticDepth(x, probability: 0.3, training: true, rng: RandomStream(seed: 42))
    let reference = StochasticDepthReference.forward(x, probability: 0.3, seed: 42)
    #expect(y.scalars == reference.y.scalars)
    #expect(reference.factors.contains(0) && reference.factors.contains { $0 > 1 })

    let dy = Tensor.normal(shape: x.shape, generator: &g)
    try y.backward(seed: dy)
    let dx = StochasticDepthReference.forward(dy, probability: 0.3, seed: 42).y
    #expect(x.grad!.scalars == dx.scalars)
  }

  @Test func gradientMatchesFiniteDifferences() throws {
    var g = SeededGenerator(seed: 5)
    let x = Tensor.normal(shape: [6, 2, 3], generator: &g, requiresGrad: true)
    let rng = RandomStream(seed: 3)
    // Re-seeding inside f gives every evaluation the same rows.
    let report = try checkGradients([x]) {
      rng.reseed(3)
      return try stochasticDepth($0[0], probability: 0.5, training: true, rng: rng)
    }
    #expect(report.passed, "\(report)")
  }

  @Test func rejectsAProbabilityOutsideZeroToOne() {
    #expect(
      throws: TensorError.invalidArgument(
        op: "stochasticDepth", message: "probability must be in [0, 1], got 1.5")
    ) {
      try stochasticDepth(Tensor(shape: [2]), probability: 1.5, training: true, rng: .global)
    }
  }
}
