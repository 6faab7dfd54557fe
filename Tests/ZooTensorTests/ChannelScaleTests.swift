import Testing
import ZooTensor
import ZooTestSupport

@Suite struct ChannelScaleTests {
  /// Images (N, C, H, W) with a gate per channel, and a row tensor (N, 1, L) with one factor
  /// per sample, large enough to run on several threads.
  static let shapes: [[Int]] = [[2, 3, 4, 5], [3, 1, 40_000]]

  private static func operands(_ shape: [Int], seed: UInt64) -> (x: Tensor, scale: Tensor) {
    var g = SeededGenerator(seed: seed)
    let x = Tensor.normal(shape: shape, generator: &g, requiresGrad: true)
    let scaleShape = Array(shape.prefix(2)) + Array(repeating: 1, count: shape.count - 2)
    let scale = Tensor.normal(shape: scaleShape, generator: &g, requiresGrad: true)
    return (x, scale)
  }

  @Test(arguments: shapes)
  func matchesReference(_ shape: [Int]) throws {
    let (x, scale) = Self.operands(shape, seed: 1)
    var g = SeededGenerator(seed: 2)
    let dy = Tensor.normal(shape: shape, generator: &g)
    let y = try scaleChannels(x, by: scale)
    #expect(y.scalars == ChannelScaleReference.forward(x, scale: scale).scalars)
    try y.backward(seed: dy)
    let expected = ChannelScaleReference.backward(x, scale: scale, dy: dy)
    #expect(x.grad!.scalars == expected.dx.scalars)
    #expect(relativeDifference(scale.grad!.scalars, expected.dScale.scalars) < 1e-5)
  }

  @Test func gradientsMatchFiniteDifferences() throws {
    let (x, scale) = Self.operands([2, 3, 2, 3], seed: 3)
    let report = try checkGradients([x, scale]) { try scaleChannels($0[0], by: $0[1]) }
    #expect(report.passed, "\(report)")
  }

  @Test func rejectsAScaleOfAnotherShape() {
    let x = Tensor(shape: [2, 3, 4, 4])
    #expect(
      throws: TensorError.shapeMismatch(
        op: "scaleChannels", expected: [2, 3, 1, 1], actual: [2, 3, 4, 4])
    ) { try scaleChannels(x, by: x) }
    #expect(throws: TensorError.self) {
      try scaleChannels(Tensor(shape: [3]), by: Tensor(shape: [3]))
    }
  }
}
