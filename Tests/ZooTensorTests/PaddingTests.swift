import Testing
import ZooTensor
import ZooTestSupport

@Suite struct PaddingTests {
  static let paddings = [
    Padding2D(top: 1, bottom: 2, left: 0, right: 3), Padding2D(0), Padding2D(2),
    Padding2D(top: 0, bottom: 1, left: 0, right: 1),
  ]

  @Test(arguments: paddings)
  func matchesReference(_ padding: Padding2D) throws {
    // The second shape is large enough to be split across threads.
    for shape in [[2, 3, 4, 5], [2, 8, 64, 48]] {
      try Self.checkAgainstReference(padding, shape: shape)
    }
  }

  private static func checkAgainstReference(_ padding: Padding2D, shape: [Int]) throws {
    var g = SeededGenerator(seed: 1)
    let x = Tensor.normal(shape: shape, generator: &g, requiresGrad: true)
    let y = try pad2d(x, padding, value: 0.5)
    #expect(y.scalars == Pad2DReference.forward(x, padding, value: 0.5).scalars)
    let dy = Tensor.normal(shape: y.shape, generator: &g)
    try y.backward(seed: dy)
    #expect(
      x.grad!.scalars == Pad2DReference.backward(inputShape: x.shape, padding, dy: dy).scalars)
  }

  @Test func gradientsMatchFiniteDifferences() throws {
    var g = SeededGenerator(seed: 2)
    let x = Tensor.normal(shape: [2, 2, 3, 4], generator: &g, requiresGrad: true)
    let padding = Padding2D(top: 2, bottom: 1, left: 0, right: 1)
    #expect(try checkGradients([x]) { try pad2d($0[0], padding) }.passed)
    // Distinct values 0.1 apart, so no finite-difference step moves a window's maximum.
    let distinct = Tensor(
      shape: [1, 2, 6, 5], scalars: (0..<60).shuffled(using: &g).map { Float($0) * 0.1 },
      requiresGrad: true)
    let report = try checkGradients([distinct]) {
      try maxPool2dSame($0[0], kernelSize: 3, stride: 2)
    }
    #expect(report.passed, "\(report)")
  }

  /// TensorFlow's rule: total = max((ceil(n / s) - 1) * s + k - n, 0), the smaller half first.
  @Test func sameAmountsFollowTensorFlow() {
    let cases: [(size: Int, kernel: Int, stride: Int, before: Int, after: Int)] = [
      (224, 3, 2, 0, 1), (225, 3, 2, 1, 1), (224, 7, 2, 2, 3), (112, 1, 2, 0, 0),
      (7, 3, 1, 1, 1), (5, 2, 2, 0, 1), (6, 2, 2, 0, 0), (147, 3, 2, 1, 1),
    ]
    for c in cases {
      let amounts = Padding2D.sameAmounts(size: c.size, kernel: c.kernel, stride: c.stride)
      #expect(amounts.before == c.before && amounts.after == c.after, "\(c)")
    }
    #expect(Padding2D.sameAmounts(size: 10, kernel: 3, stride: 1, dilation: 2) == (2, 2))
    #expect(
      Padding2D.same(height: 8, width: 7, kernelHeight: 1, kernelWidth: 7, stride: 1)
        == Padding2D(top: 0, bottom: 0, left: 3, right: 3))
  }

  /// Padding with -inf: a window over the border takes the largest real value, even when all
  /// of them are negative (zero padding would give 0).
  @Test func maxPoolSameIgnoresThePadding() throws {
    let x = Tensor(shape: [1, 1, 2, 2], scalars: [-4, -3, -2, -1])
    let y = try maxPool2dSame(x, kernelSize: 3, stride: 2)
    #expect(y.shape == [1, 1, 1, 1])
    #expect(y.scalars == [-1])
  }

  @Test func rejectsNegativeAmountsAndOtherRanks() {
    #expect(
      throws: TensorError.invalidArgument(
        op: "pad2d",
        message: "padding amounts must not be negative, got (top 0, bottom -1, left 0, right 0)")
    ) { try pad2d(Tensor(shape: [1, 1, 2, 2]), Padding2D(top: 0, bottom: -1, left: 0, right: 0)) }
    #expect(throws: TensorError.rankMismatch(op: "pad2d", expected: 4, actual: [2, 2])) {
      try pad2d(Tensor(shape: [2, 2]), Padding2D(1))
    }
  }
}
