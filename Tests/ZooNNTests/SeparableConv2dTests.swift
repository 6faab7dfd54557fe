import Testing
import ZooNN
import ZooTensor
import ZooTestSupport

@Suite struct SeparableConv2dTests {
  @Test func namesAndShapesPairWithKerasWeights() {
    let layer = SeparableConv2d(3, 8, kernelSize: 3, depthMultiplier: 2)
    #expect(layer.stateDict().map(\.path) == ["depthwise_weight", "pointwise_weight", "bias"])
    #expect(layer.depthwiseWeight.shape == [3, 2, 3, 3])
    #expect(layer.pointwiseWeight.shape == [8, 6, 1, 1])
    #expect(layer.parameterCount == 6 * 9 + 8 * 6 + 8)
    let noBias = SeparableConv2d(4, 5, kernelSize: 3, bias: false)
    #expect(noBias.stateDict().map(\.path) == ["depthwise_weight", "pointwise_weight"])
  }

  @Test func sameKeepsCeilOfSizeOverStrideAndValidShrinks() throws {
    let x = Tensor(shape: [1, 2, 8, 7], repeating: 1)
    let same = SeparableConv2d(2, 3, kernelSize: 3, stride: 2, padding: .same)
    #expect(try same(x).shape == [1, 3, 4, 4])
    let valid = SeparableConv2d(2, 3, kernelSize: 3, stride: 1, padding: .valid)
    #expect(try valid(x).shape == [1, 3, 6, 5])
  }

  /// Depthwise taps on every output position plus the pointwise mixing.
  @Test func countsBothStepsMultiplyAccumulates() throws {
    let layer = SeparableConv2d(4, 6, kernelSize: 3, padding: .same, depthMultiplier: 2)
    let trace = try ModuleTrace.run(layer, inputShape: [1, 4, 5, 5])
    #expect(trace.totalMultiplyAccumulates == 25 * (8 * 9 + 6 * 8))
  }

  /// Input and every parameter against central differences: stride 1 'same' (Xception's),
  /// stride 2 'same' on an even size (padded by one more at the bottom and right), 'valid'
  /// with a depth multiplier of 3 (a grouped rather than depthwise convolution).
  @Test(arguments: [
    (1, SeparableConv2d.Padding.same, 1, 6), (2, .same, 2, 8), (2, .valid, 3, 7),
  ])
  func gradientsMatchFiniteDifferences(
    _ stride: Int, _ padding: SeparableConv2d.Padding, _ multiplier: Int, _ size: Int
  ) throws {
    let layer = SeparableConv2d(
      3, 4, kernelSize: 3, stride: stride, padding: padding, depthMultiplier: multiplier,
      rng: RandomStream(seed: 1))
    var g = SeededGenerator(seed: 2)
    layer.bias!.scalars = (0..<4).map { _ in g.nextNormal() }
    let x = Tensor.normal(shape: [2, 3, size, size], std: 1, generator: &g, requiresGrad: true)
    let parameters = layer.namedParameters().map(\.tensor)
    let report = try checkGradients([x] + parameters) { try layer($0[0]) }
    #expect(report.passed, "stride \(stride) \(padding) x\(multiplier): \(report)")
  }

  @Test func inputWithOtherChannelsIsRefused() {
    let layer = SeparableConv2d(3, 4, kernelSize: 3)
    #expect(throws: TensorError.self) { try layer(Tensor(shape: [1, 5, 6, 6])) }
  }
}
