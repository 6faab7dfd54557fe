import Testing
import ZooTensor
import ZooTestSupport

@Suite struct LinearTests {
  @Test func matchesReferenceForwardAndBackward() throws {
    var g = SeededGenerator(seed: 1)
    let x = Tensor.normal(shape: [5, 7], generator: &g, requiresGrad: true)
    let w = Tensor.normal(shape: [3, 7], generator: &g, requiresGrad: true)
    let b = Tensor.normal(shape: [3], generator: &g, requiresGrad: true)
    let dy = Tensor.normal(shape: [5, 3], generator: &g)
    let y = try linear(x, weight: w, bias: b)
    #expect(
      relativeDifference(y.scalars, LinearReference.forward(x: x, weight: w, bias: b).scalars)
        < 1e-6)
    try y.backward(seed: dy)
    let reference = LinearReference.backward(x: x, weight: w, dy: dy)
    #expect(relativeDifference(x.grad!.scalars, reference.dx.scalars) < 1e-6)
    #expect(relativeDifference(w.grad!.scalars, reference.dWeight.scalars) < 1e-6)
    #expect(relativeDifference(b.grad!.scalars, reference.dBias.scalars) < 1e-6)
  }

  /// Classifier-sized weights at small batches take the few-rows kernel: partial groups of
  /// four rows and of eight features, output blocks that do not divide the outputs.
  @Test(arguments: [(1, true), (3, false), (4, true), (5, true), (8, false)])
  func fewRowsMatchReference(rows: Int, withBias: Bool) throws {
    var g = SeededGenerator(seed: 3)
    let x = Tensor.normal(shape: [rows, 1030], generator: &g)
    let w = Tensor.normal(shape: [1100, 1030], std: 0.03, generator: &g)
    let b = withBias ? Tensor.normal(shape: [1100], generator: &g) : nil
    let y = try linear(x, weight: w, bias: b)
    let expected = LinearReference.forward(x: x, weight: w, bias: b)
    #expect(relativeDifference(y.scalars, expected.scalars) < 1e-5)
  }

  @Test func gradientsMatchFiniteDifferences() throws {
    var g = SeededGenerator(seed: 2)
    let x = Tensor.normal(shape: [4, 6], generator: &g, requiresGrad: true)
    let w = Tensor.normal(shape: [5, 6], generator: &g, requiresGrad: true)
    let b = Tensor.normal(shape: [5], generator: &g, requiresGrad: true)
    let report = try checkGradients([x, w, b]) { try linear($0[0], weight: $0[1], bias: $0[2]) }
    #expect(report.passed, "\(report)")
  }

  @Test func rejectsMismatchedFeatures() throws {
    let x = Tensor(shape: [2, 4])
    let w = Tensor(shape: [3, 5])
    #expect(
      throws: TensorError.shapeMismatch(
        op: "linear: input features", expected: [2, 5], actual: [2, 4])
    ) {
      try linear(x, weight: w)
    }
  }

  @Test func unrecordedWhenNoInputNeedsGradient() throws {
    let x = Tensor(shape: [2, 4], repeating: 1)
    let w = Tensor(shape: [3, 4], repeating: 1)
    let y = try linear(x, weight: w)
    #expect(!y.requiresGrad)
    #expect(y.scalars == [Float](repeating: 4, count: 6))
  }
}
