import Testing
import ZooTensor
import ZooTestSupport

@Suite struct ConcatUpsampleTests {
  @Test func concatMatchesReferenceForwardAndBackward() throws {
    var g = SeededGenerator(seed: 1)
    let parts = [2, 3, 1].map {
      Tensor.normal(shape: [2, $0, 3, 4], generator: &g, requiresGrad: true)
    }
    let y = try concatChannels(parts)
    #expect(y.shape == [2, 6, 3, 4])
    #expect(y.scalars == ConcatReference.forward(parts).scalars)
    let dy = Tensor.normal(shape: y.shape, generator: &g)
    try y.backward(seed: dy)
    let expected = ConcatReference.backward(shapes: parts.map(\.shape), dy: dy)
    for (part, dx) in zip(parts, expected) { #expect(part.grad!.scalars == dx.scalars) }
  }

  @Test func largeConcatAndUpsampleMatchReference() throws {
    var g = SeededGenerator(seed: 5)
    let parts = [32, 16].map {
      Tensor.normal(shape: [4, $0, 16, 16], generator: &g, requiresGrad: true)
    }
    let y = try concatChannels(parts)
    #expect(y.scalars == ConcatReference.forward(parts).scalars)
    let dy = Tensor.normal(shape: y.shape, generator: &g)
    try y.backward(seed: dy)
    let expected = ConcatReference.backward(shapes: parts.map(\.shape), dy: dy)
    for (part, dx) in zip(parts, expected) { #expect(part.grad!.scalars == dx.scalars) }

    let x = parts[0].detached()
    x.requiresGrad = true
    let z = try upsampleNearest(x, scale: 2)
    #expect(z.scalars == UpsampleReference.forward(x, scale: 2).scalars)
    let dz = Tensor.normal(shape: z.shape, generator: &g)
    try z.backward(seed: dz)
    let dx = UpsampleReference.backward(inputShape: x.shape, dy: dz, scale: 2)
    #expect(relativeDifference(x.grad!.scalars, dx.scalars) < 1e-6)
  }

  @Test func concatGradientsMatchFiniteDifferences() throws {
    var g = SeededGenerator(seed: 2)
    let a = Tensor.normal(shape: [2, 2, 2, 3], generator: &g, requiresGrad: true)
    let b = Tensor.normal(shape: [2, 1, 2, 3], generator: &g, requiresGrad: true)
    let frozen = Tensor.normal(shape: [2, 2, 2, 3], generator: &g)
    let report = try checkGradients([a, frozen, b]) { try concatChannels($0) }
    #expect(report.passed, "\(report)")
    #expect(frozen.grad == nil)
  }

  @Test func concatRejectsMismatchedShapes() {
    let a = Tensor(shape: [2, 3, 4, 4])
    #expect(
      throws: TensorError.shapeMismatch(
        op: "concatChannels: tensor 1 must match tensor 0 [2, 3, 4, 4] in N, H, W",
        expected: [2, 5, 4, 4], actual: [2, 5, 3, 4])
    ) { try concatChannels([a, Tensor(shape: [2, 5, 3, 4])]) }
    #expect(
      throws: TensorError.rankMismatch(op: "concatChannels: tensor 1", expected: 4, actual: [2, 3])
    ) {
      try concatChannels([a, Tensor(shape: [2, 3])])
    }
    #expect(throws: TensorError.self) { try concatChannels([]) }
  }

  @Test(arguments: [1, 2, 3])
  func upsampleMatchesReferenceForwardAndBackward(scale: Int) throws {
    var g = SeededGenerator(seed: 3)
    let x = Tensor.normal(shape: [2, 3, 4, 5], generator: &g, requiresGrad: true)
    let y = try upsampleNearest(x, scale: scale)
    #expect(y.shape == [2, 3, 4 * scale, 5 * scale])
    #expect(y.scalars == UpsampleReference.forward(x, scale: scale).scalars)
    let dy = Tensor.normal(shape: y.shape, generator: &g)
    try y.backward(seed: dy)
    let dx = UpsampleReference.backward(inputShape: x.shape, dy: dy, scale: scale)
    #expect(relativeDifference(x.grad!.scalars, dx.scalars) < 1e-6)
  }

  @Test func upsampleSmallExampleAndGradientCheck() throws {
    let x = Tensor(shape: [1, 1, 2, 2], scalars: [1, 2, 3, 4])
    #expect(
      try upsampleNearest(x, scale: 2).scalars == [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4])
    var g = SeededGenerator(seed: 4)
    let z = Tensor.normal(shape: [2, 2, 3, 2], generator: &g, requiresGrad: true)
    let report = try checkGradients([z]) { try upsampleNearest($0[0], scale: 2) }
    #expect(report.passed, "\(report)")
  }

  @Test func upsampleRejectsBadArguments() {
    #expect(throws: TensorError.rankMismatch(op: "upsampleNearest", expected: 4, actual: [2, 3])) {
      try upsampleNearest(Tensor(shape: [2, 3]), scale: 2)
    }
    #expect(
      throws: TensorError.invalidArgument(
        op: "upsampleNearest", message: "scale must be at least 1, got 0")
    ) { try upsampleNearest(Tensor(shape: [1, 1, 2, 2]), scale: 0) }
  }
}
