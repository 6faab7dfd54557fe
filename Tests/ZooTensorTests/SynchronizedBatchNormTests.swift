import Testing
import ZooTensor
import ZooTestSupport

/// Synchronised batch norm: members holding parts of a batch compute what one process
/// computes on the whole batch.
@Suite struct SynchronizedBatchNormTests {
  /// Rows `range` of an (N, ...) tensor.
  private static func rows(_ t: Tensor, _ range: Range<Int>, requiresGrad: Bool = false) -> Tensor {
    let size = t.count / t.shape[0]
    return Tensor(
      shape: [range.count] + t.shape.dropFirst(),
      scalars: Array(t.scalars[(range.lowerBound * size)..<(range.upperBound * size)]),
      requiresGrad: requiresGrad)
  }

  @Test(arguments: [([6, 4, 3, 3], [0..<2, 2..<6]), ([8, 5], [0..<3, 3..<5, 5..<8])])
  func partsEqualTheWholeBatch(shape: [Int], parts: [Range<Int>]) throws {
    var g = SeededGenerator(seed: 3)
    let channels = shape[1]
    let x = Tensor.normal(shape: shape, mean: 0.5, std: 2, generator: &g, requiresGrad: true)
    let dy = Tensor.normal(shape: shape, generator: &g)
    let gamma = Tensor.normal(shape: [channels], mean: 1, std: 0.5, generator: &g).scalars
    let beta = Tensor.normal(shape: [channels], generator: &g).scalars
    func layer() -> (weight: Tensor, bias: Tensor, mean: Tensor, variance: Tensor) {
      (
        Tensor(shape: [channels], scalars: gamma, requiresGrad: true),
        Tensor(shape: [channels], scalars: beta, requiresGrad: true),
        Tensor(shape: [channels]), Tensor(shape: [channels], repeating: 1)
      )
    }
    let whole = layer()
    let y = try batchNorm(
      x, weight: whole.weight, bias: whole.bias, runningMean: whole.mean,
      runningVar: whole.variance, training: true)
    try y.backward(seed: dy)

    let results = try ThreadReplicas.run(size: parts.count) { replicas in
      let part = parts[replicas.rank]
      let mine = layer()
      let xPart = Self.rows(x, part, requiresGrad: true)
      let yPart = try batchNorm(
        xPart, weight: mine.weight, bias: mine.bias, runningMean: mine.mean,
        runningVar: mine.variance, training: true, replicas: replicas)
      try yPart.backward(seed: Self.rows(dy, part))
      return (
        y: yPart.scalars, dx: xPart.grad!.scalars, dWeight: mine.weight.grad!.scalars,
        dBias: mine.bias.grad!.scalars, mean: mine.mean.scalars, variance: mine.variance.scalars
      )
    }
    #expect(relativeDifference(results.flatMap(\.y), y.scalars) < 1e-6)
    #expect(relativeDifference(results.flatMap(\.dx), x.grad!.scalars) < 1e-5)
    let dWeight = (0..<channels).map { c in results.map { $0.dWeight[c] }.reduce(0, +) }
    let dBias = (0..<channels).map { c in results.map { $0.dBias[c] }.reduce(0, +) }
    #expect(relativeDifference(dWeight, whole.weight.grad!.scalars) < 1e-5)
    #expect(relativeDifference(dBias, whole.bias.grad!.scalars) < 1e-5)
    for member in results {
      #expect(member.mean == whole.mean.scalars)
      #expect(relativeDifference(member.variance, whole.variance.scalars) < 1e-6)
    }
  }
}
