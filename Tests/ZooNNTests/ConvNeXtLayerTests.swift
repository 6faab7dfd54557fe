import Testing
import ZooNN
import ZooTensor
import ZooTestSupport

/// ConvNeXt's layers: the linear layer over channels, the layer-scaled residual block.
@Suite struct ConvNeXtLayerTests {
  /// (N, C, H, W) to channels last (N*H*W, C), and back with `inverse`.
  static func channelsLast(_ x: Tensor, inverse: Bool = false) -> Tensor {
    let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    var out = [Float](repeating: 0, count: x.count)
    for s in 0..<n {
      for k in 0..<c {
        for p in 0..<(h * w) {
          let (nchw, nhwc) = ((s * c + k) * h * w + p, (s * h * w + p) * c + k)
          if inverse { out[nchw] = x.scalars[nhwc] } else { out[nhwc] = x.scalars[nchw] }
        }
      }
    }
    return Tensor(shape: inverse ? x.shape : [n * h * w, c], scalars: out)
  }

  /// A linear layer over the channels of NCHW equals the plain linear reference on the channels-last rows, in
  /// the output and in the gradients of the input, weight and bias.
  @Test func channelLinearIsALinearLayerOnChannelsLastRows() throws {
    let layer = Linear(6, 10, overChannels: true, rng: RandomStream(seed: 1))
    var g = SeededGenerator(seed: 2)
    let x = Tensor.normal(shape: [2, 6, 5, 7], generator: &g, requiresGrad: true)
    let dy = Tensor.normal(shape: [2, 10, 5, 7], generator: &g)
    let y = try layer(x)
    #expect(y.shape == [2, 10, 5, 7])
    let rows = Self.channelsLast(x)
    let expected = LinearReference.forward(x: rows, weight: layer.weight, bias: layer.bias)
    let expectedImage = Self.channelsLast(
      Tensor(shape: [2, 10, 5, 7], scalars: expected.scalars), inverse: true)
    #expect(relativeDifference(y.scalars, expectedImage.scalars) < 1e-6)

    try y.backward(seed: dy)
    let grads = LinearReference.backward(
      x: rows, weight: layer.weight, dy: Self.channelsLast(dy))
    let dx = Self.channelsLast(Tensor(shape: x.shape, scalars: grads.dx.scalars), inverse: true)
    #expect(relativeDifference(x.grad!.scalars, dx.scalars) < 1e-5)
    #expect(relativeDifference(layer.weight.grad!.scalars, grads.dWeight.scalars) < 1e-5)
    #expect(relativeDifference(layer.bias!.grad!.scalars, grads.dBias.scalars) < 1e-5)
    #expect(layer.weight.grad!.shape == [10, 6])
  }

  @Test func channelLinearGradientsMatchFiniteDifferences() throws {
    let layer = Linear(4, 3, overChannels: true, rng: RandomStream(seed: 3))
    var g = SeededGenerator(seed: 4)
    let x = Tensor.normal(shape: [2, 4, 2, 3], generator: &g, requiresGrad: true)
    let report = try checkGradients([x, layer.weight, layer.bias!]) { _ in try layer(x) }
    print("Linear(overChannels:) gradient check: worst ratio \(report.worstRatio), \(report)")
    #expect(report.passed, "\(report)")
  }

  @Test func channelLinearTakesRowsAndRejectsOtherRanks() throws {
    let layer = Linear(4, 3, overChannels: true, rng: RandomStream(seed: 5))
    let rows = Tensor(shape: [2, 4], scalars: (0..<8).map { Float($0) })
    let expected = LinearReference.forward(x: rows, weight: layer.weight, bias: layer.bias)
    #expect(relativeDifference(try layer(rows).scalars, expected.scalars) < 1e-6)
    #expect(throws: TensorError.rankMismatch(op: "linear", expected: 2, actual: [2, 4, 3])) {
      try layer(Tensor(shape: [2, 4, 3]))
    }
  }

  /// `x + layer_scale * block(x)` in inference, with torchvision's names, and the gradient
  /// of every parameter (the layer scale included) against central differences.
  @Test func layerScaledResidualScalesTheBranchPerChannel() throws {
    let rng = RandomStream(seed: 6)
    let block = LayerScaledResidual(
      Sequential([Linear(3, 3, overChannels: true, rng: rng), GELU()]), channels: 3,
      initialScale: 1e-6,
      dropProbability: 0.1, rng: rng)
    #expect(
      block.stateDict().map(\.path) == ["layer_scale", "block.0.weight", "block.0.bias"])
    #expect(block.layerScale.shape == [3, 1, 1])
    #expect(block.layerScale.scalars == [1e-6, 1e-6, 1e-6])
    block.layerScale.scalars = [0.5, -2, 3]
    block.setTraining(false)
    var g = SeededGenerator(seed: 7)
    let x = Tensor.normal(shape: [2, 3, 2, 2], generator: &g, requiresGrad: true)
    let branch = try block.block(x)
    let y = try block(x)
    for i in 0..<x.count {
      let scale = block.layerScale.scalars[(i / 4) % 3]
      #expect(abs(y.scalars[i] - (x.scalars[i] + scale * branch.scalars[i])) < 1e-6)
    }
    let parameters = block.namedParameters().map(\.tensor)
    let report = try checkGradients([x] + parameters) { try block($0[0]) }
    print("LayerScaledResidual gradient check: worst ratio \(report.worstRatio), \(report)")
    #expect(report.passed, "\(report)")
  }
}
