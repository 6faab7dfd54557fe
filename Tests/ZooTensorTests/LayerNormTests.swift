import Testing
import ZooTensor
import ZooTestSupport

@Suite struct LayerNormTests {
  /// Images, a pooled (N, C, 1, 1) map, an (N, C) matrix, and a map large enough for several
  /// tiles and threads.
  static let shapes: [[Int]] = [[2, 5, 3, 4], [3, 16, 1, 1], [4, 6], [2, 7, 20, 30]]

  private static func operands(_ shape: [Int], seed: UInt64) -> (Tensor, Tensor, Tensor) {
    var g = SeededGenerator(seed: seed)
    let x = Tensor.normal(shape: shape, std: 2, generator: &g, requiresGrad: true)
    let weight = Tensor.normal(shape: [shape[1]], generator: &g, requiresGrad: true)
    let bias = Tensor.normal(shape: [shape[1]], generator: &g, requiresGrad: true)
    return (x, weight, bias)
  }

  @Test(arguments: shapes)
  func matchesReference(_ shape: [Int]) throws {
    let (x, weight, bias) = Self.operands(shape, seed: 1)
    var g = SeededGenerator(seed: 2)
    let dy = Tensor.normal(shape: shape, generator: &g)
    let y = try channelLayerNorm(x, weight: weight, bias: bias, eps: 1e-6)
    let expected = ChannelLayerNormReference.forward(x: x, weight: weight, bias: bias, eps: 1e-6)
    #expect(relativeDifference(y.scalars, expected.scalars) < 1e-6)
    try y.backward(seed: dy)
    let grads = ChannelLayerNormReference.backward(x: x, weight: weight, eps: 1e-6, dy: dy)
    #expect(relativeDifference(x.grad!.scalars, grads.dx.scalars) < 1e-5)
    #expect(relativeDifference(weight.grad!.scalars, grads.dWeight.scalars) < 1e-5)
    #expect(relativeDifference(bias.grad!.scalars, grads.dBias.scalars) < 1e-5)
  }

  @Test func withoutAffineParametersNormalisesEachPosition() throws {
    let x = Tensor(shape: [1, 2, 1, 2], scalars: [1, 10, 3, 20])
    let y = try channelLayerNorm(x, weight: nil, bias: nil, eps: 0)
    #expect(relativeDifference(y.scalars, [-1, -1, 1, 1]) < 1e-6)
  }

  @Test func gradientsMatchFiniteDifferences() throws {
    let (x, weight, bias) = Self.operands([2, 4, 2, 3], seed: 3)
    let report = try checkGradients([x, weight, bias]) {
      try channelLayerNorm($0[0], weight: $0[1], bias: $0[2], eps: 1e-6)
    }
    print("channelLayerNorm gradient check: worst ratio \(report.worstRatio), \(report)")
    #expect(report.passed, "\(report)")
  }

  @Test(arguments: try TorchFixture.caseNames("layer_norm2d"))
  func matchesTorchvisionLayerNorm2d(_ name: String) throws {
    let c = try TorchFixture.case(name, in: "layer_norm2d")
    let x = try c.tensor("x", requiresGrad: true)
    let weight = try c.tensor("weight", requiresGrad: true)
    let bias = try c.tensor("bias", requiresGrad: true)
    let out = try channelLayerNorm(
      x, weight: weight, bias: bias, eps: Float(try #require(c.args.eps)))
    try TorchParityTests.backward(out, c)
    try TorchParityTests.compare(
      c, "layer_norm2d",
      ["out": out, "grad_x": x.grad, "grad_weight": weight.grad, "grad_bias": bias.grad])
  }

  @Test func rejectsParametersOfAnotherWidth() {
    let x = Tensor(shape: [2, 3, 4, 4])
    #expect(
      throws: TensorError.shapeMismatch(
        op: "channelLayerNorm weight", expected: [3], actual: [4])
    ) { try channelLayerNorm(x, weight: Tensor(shape: [4]), bias: nil) }
    #expect(throws: TensorError.self) {
      try channelLayerNorm(Tensor(shape: [3]), weight: nil, bias: nil)
    }
  }
}
