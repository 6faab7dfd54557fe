import Testing
import ZooTensor
import ZooTestSupport

@Suite struct BatchNormTests {
  private struct Setup {
    let x, weight, bias, runningMean, runningVar, dy: Tensor

    init(shape: [Int], seed: UInt64) {
      var g = SeededGenerator(seed: seed)
      let c = shape[1]
      x = Tensor.normal(shape: shape, mean: 0.5, std: 2, generator: &g, requiresGrad: true)
      weight = Tensor.normal(shape: [c], mean: 1, std: 0.5, generator: &g, requiresGrad: true)
      bias = Tensor.normal(shape: [c], generator: &g, requiresGrad: true)
      runningMean = Tensor.normal(shape: [c], std: 0.3, generator: &g)
      runningVar = Tensor.uniform(shape: [c], low: 0.5, high: 2, generator: &g)
      dy = Tensor.normal(shape: shape, generator: &g)
    }
  }

  /// [4, 64, 4, 4] is large enough to be split across threads.
  @Test(arguments: [[3, 4, 5, 6], [7, 5], [4, 64, 4, 4]], [true, false])
  func matchesReferenceForwardAndBackward(shape: [Int], training: Bool) throws {
    for affine in [true, false] {
      let s = Setup(shape: shape, seed: 1)
      let (weight, bias) = affine ? (s.weight, s.bias) : (nil, nil)
      let (mean0, var0) = (s.runningMean.scalars, s.runningVar.scalars)
      let expected = BatchNormReference.forward(
        x: s.x, weight: weight, bias: bias, runningMean: mean0, runningVar: var0,
        training: training, momentum: 0.2, eps: 1e-3)
      let y = try batchNorm(
        s.x, weight: weight, bias: bias, runningMean: s.runningMean, runningVar: s.runningVar,
        training: training, momentum: 0.2, eps: 1e-3)
      #expect(relativeDifference(y.scalars, expected.y.scalars) < 1e-5)
      #expect(relativeDifference(s.runningMean.scalars, expected.runningMean) < 1e-6)
      #expect(relativeDifference(s.runningVar.scalars, expected.runningVar) < 1e-6)

      try y.backward(seed: s.dy)
      let reference = BatchNormReference.backward(
        x: s.x, weight: weight, runningMean: mean0, runningVar: var0, training: training,
        eps: 1e-3, dy: s.dy)
      #expect(relativeDifference(s.x.grad!.scalars, reference.dx.scalars) < 1e-5)
      if affine {
        #expect(relativeDifference(s.weight.grad!.scalars, reference.dWeight.scalars) < 1e-5)
        #expect(relativeDifference(s.bias.grad!.scalars, reference.dBias.scalars) < 1e-5)
      }
    }
  }

  @Test(arguments: [[2, 3, 4, 4], [6, 4]], [true, false])
  func gradientsMatchFiniteDifferences(shape: [Int], training: Bool) throws {
    let s = Setup(shape: shape, seed: 2)
    let report = try checkGradients([s.x, s.weight, s.bias]) {
      try batchNorm(
        $0[0], weight: $0[1], bias: $0[2], runningMean: s.runningMean, runningVar: s.runningVar,
        training: training)
    }
    #expect(report.passed, "\(report)")
  }

  @Test func onlyRequestedGradientsAreComputed() throws {
    let s = Setup(shape: [2, 3, 2, 2], seed: 3)
    s.x.requiresGrad = false
    s.bias.requiresGrad = false
    let y = try batchNorm(
      s.x, weight: s.weight, bias: s.bias, runningMean: s.runningMean, runningVar: s.runningVar,
      training: true)
    try y.backward(seed: s.dy)
    #expect(s.x.grad == nil && s.bias.grad == nil)
    #expect(s.weight.grad != nil)
  }

  @Test func runningStatisticsFollowTorchConvention() throws {
    // Channel 0 holds 1, 2, 3, 4: mean 2.5, unbiased variance 5/3. Channel 1 holds 2, 4, 6, 8.
    let x = Tensor(shape: [4, 2], scalars: [1, 2, 2, 4, 3, 6, 4, 8])
    let runningMean = Tensor(shape: [2], scalars: [0, 1])
    let runningVar = Tensor(shape: [2], scalars: [1, 2])
    let y = try batchNorm(
      x, weight: nil, bias: nil, runningMean: runningMean, runningVar: runningVar,
      training: true)
    #expect(
      relativeDifference(runningMean.scalars, [0.9 * 0 + 0.1 * 2.5, 0.9 * 1 + 0.1 * 5]) < 1e-6)
    #expect(
      relativeDifference(runningVar.scalars, [0.9 * 1 + 0.1 * 5 / 3, 0.9 * 2 + 0.1 * 20 / 3]) < 1e-6
    )
    // The output uses the biased variance: (1 - 2.5) / sqrt(1.25 + 1e-5).
    #expect(abs(y.scalars[0] - Float(-1.5 / (1.25 + 1e-5).squareRoot())) < 1e-6)

    // Inference leaves the statistics alone and normalises with them.
    let before = (runningMean.scalars, runningVar.scalars)
    let z = try batchNorm(
      x, weight: nil, bias: nil, runningMean: runningMean, runningVar: runningVar,
      training: false)
    #expect(runningMean.scalars == before.0 && runningVar.scalars == before.1)
    let expected = (1 - before.0[0]) / (before.1[0] + 1e-5).squareRoot()
    #expect(abs(z.scalars[0] - expected) < 1e-6)
  }

  @Test func rejectsBadShapes() {
    let stats = Tensor(shape: [3])
    #expect(
      throws: TensorError.shapeMismatch(op: "batchNorm running mean", expected: [3], actual: [4])
    ) {
      try batchNorm(
        Tensor(shape: [2, 3]), weight: nil, bias: nil, runningMean: Tensor(shape: [4]),
        runningVar: stats, training: true)
    }
    #expect(
      throws: TensorError.shapeMismatch(op: "batchNorm weight", expected: [3], actual: [2])
    ) {
      try batchNorm(
        Tensor(shape: [2, 3, 2, 2]), weight: Tensor(shape: [2]), bias: nil, runningMean: stats,
        runningVar: stats, training: false)
    }
    #expect(throws: TensorError.self) {
      try batchNorm(
        Tensor(shape: [2, 3, 4]), weight: nil, bias: nil, runningMean: stats, runningVar: stats,
        training: false)
    }
    // One value per channel has no batch variance to train with.
    #expect(throws: TensorError.self) {
      try batchNorm(
        Tensor(shape: [1, 3, 1, 1]), weight: nil, bias: nil, runningMean: stats,
        runningVar: stats, training: true)
    }
  }
}
