import Testing
import ZooTensor
import ZooTestSupport

@Suite struct SoftmaxTests {
  /// The last layout is large enough to be split across threads.
  static let layouts: [([Int], Int)] = [
    ([5, 7], 1), ([2, 3, 4, 5], 1), ([3, 4, 6], -1), ([4, 3], 0), ([4, 10, 16, 16], 1),
  ]

  @Test(arguments: [false, true])
  func matchesReferenceForwardAndBackward(log: Bool) throws {
    for (shape, axis) in Self.layouts {
      var g = SeededGenerator(seed: 1)
      let x = Tensor.normal(shape: shape, std: 3, generator: &g, requiresGrad: true)
      let dy = Tensor.normal(shape: shape, generator: &g)
      let y = log ? try logSoftmax(x, axis: axis) : try softmax(x, axis: axis)
      let expected = try SoftmaxReference.forward(x, axis: axis, log: log)
      #expect(relativeDifference(y.scalars, expected.scalars) < 1e-5, "\(shape) axis \(axis)")
      try y.backward(seed: dy)
      let dx = try SoftmaxReference.backward(x, axis: axis, log: log, dy: dy)
      #expect(relativeDifference(x.grad!.scalars, dx.scalars) < 1e-5, "\(shape) axis \(axis)")
    }
  }

  @Test(arguments: [false, true])
  func gradientsMatchFiniteDifferences(log: Bool) throws {
    for (shape, axis) in Self.layouts.dropLast() {
      var g = SeededGenerator(seed: 2)
      let x = Tensor.normal(shape: shape, generator: &g, requiresGrad: true)
      let report = try checkGradients([x]) {
        log ? try logSoftmax($0[0], axis: axis) : try softmax($0[0], axis: axis)
      }
      #expect(report.passed, "\(shape) axis \(axis): \(report)")
    }
  }

  @Test func rowsSumToOneAndLargeLogitsStayFinite() throws {
    let x = Tensor(shape: [2, 3], scalars: [1000, 1001, 1002, -1000, 0, 1000])
    let y = try softmax(x)
    #expect(abs(y.scalars[0..<3].reduce(0, +) - 1) < 1e-6)
    #expect(y.scalars[5] == 1 && y.scalars[3] == 0)
    let logY = try logSoftmax(x)
    #expect(logY.scalars.allSatisfy { $0.isFinite })
    #expect(abs(logY.scalars[3] - -2000) < 1e-3)
  }

  @Test func rejectsAxisOutOfRange() {
    let x = Tensor(shape: [2, 3])
    #expect(
      throws: TensorError.invalidArgument(
        op: "softmax", message: "axis 2 is out of range for shape [2, 3]")
    ) { try softmax(x, axis: 2) }
    #expect(throws: TensorError.self) { try logSoftmax(x, axis: -3) }
  }
}
