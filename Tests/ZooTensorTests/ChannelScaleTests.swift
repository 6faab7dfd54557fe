import Testing
import ZooTensor
import ZooTestSupport

@Suite struct ChannelScaleTests {
  /// Images (N, C, H, W) with a gate per channel, a row tensor (N, 1, L) with one factor per
  /// sample, large enough to run on several threads, and images with one factor per channel
  /// shared by the samples (a layer scale, (C, 1, 1)), small and large.
  static let cases: [(shape: [Int], shared: Bool)] = [
    ([2, 3, 4, 5], false), ([3, 1, 40_000], false), ([2, 3, 4, 5], true),
    ([4, 8, 40, 40], true),
  ]

  private static func operands(_ shape: [Int], shared: Bool = false, seed: UInt64) -> (
    x: Tensor, scale: Tensor
  ) {
    var g = SeededGenerator(seed: seed)
    let x = Tensor.normal(shape: shape, generator: &g, requiresGrad: true)
    let channels = Array(shape.prefix(2).dropFirst(shared ? 1 : 0))
    let scaleShape = channels + Array(repeating: 1, count: shape.count - 2)
    let scale = Tensor.normal(shape: scaleShape, generator: &g, requiresGrad: true)
    return (x, scale)
  }

  @Test(arguments: cases.indices)
  func matchesReference(_ index: Int) throws {
    let (shape, shared) = Self.cases[index]
    let (x, scale) = Self.operands(shape, shared: shared, seed: 1)
    var g = SeededGenerator(seed: 2)
    let dy = Tensor.normal(shape: shape, generator: &g)
    let y = try scaleChannels(x, by: scale)
    #expect(y.scalars == ChannelScaleReference.forward(x, scale: scale).scalars)
    try y.backward(seed: dy)
    let expected = ChannelScaleReference.backward(x, scale: scale, dy: dy)
    #expect(x.grad!.scalars == expected.dx.scalars)
    #expect(relativeDifference(scale.grad!.scalars, expected.dScale.scalars) < 1e-5)
  }

  @Test(arguments: [false, true])
  func gradientsMatchFiniteDifferences(shared: Bool) throws {
    let (x, scale) = Self.operands([2, 3, 2, 3], shared: shared, seed: 3)
    let report = try checkGradients([x, scale]) { try scaleChannels($0[0], by: $0[1]) }
    print("scaleChannels (shared: \(shared)) gradient check: worst ratio \(report.worstRatio)")
    #expect(report.passed, "\(report)")
  }

  @Test func rejectsAScaleOfAnotherShape() {
    let x = Tensor(shape: [2, 3, 4, 4])
    #expect(
      throws: TensorError.shapeMismatch(
        op: "scaleChannels", expected: [2, 3, 1, 1], actual: [2, 3, 4, 4])
    ) { try scaleChannels(x, by: x) }
    #expect(
      throws: TensorError.shapeMismatch(
        op: "scaleChannels", expected: [3, 1, 1], actual: [2, 1, 1])
    ) { try scaleChannels(x, by: Tensor(shape: [2, 1, 1])) }
    #expect(throws: TensorError.self) {
      try scaleChannels(Tensor(shape: [3]), by: Tensor(shape: [3]))
    }
  }
}
