import Testing
import ZooTensor
import ZooTestSupport

/// Depthwise (groups == C == O) and grouped convolutions against the plain reference.
let groupedConvCases: [ConvCase] = [
  ConvCase(n: 2, c: 4, o: 4, h: 7, w: 6, kh: 3, kw: 3, padding: 1, groups: 4),
  ConvCase(
    n: 3, c: 5, o: 5, h: 9, w: 8, kh: 3, kw: 3, stride: 2, padding: 1, bias: false, groups: 5),
  ConvCase(
    n: 2, c: 3, o: 3, h: 10, w: 9, kh: 5, kw: 3, stride: 2, strideWidth: 3, padding: 2,
    paddingWidth: 0, dilation: 2, groups: 3),
  ConvCase(n: 1, c: 6, o: 6, h: 5, w: 5, kh: 1, kw: 1, groups: 6),
  // Enough planes to run in parallel: MobileNet's 3x3 at stride 1 and 2.
  ConvCase(n: 4, c: 16, o: 16, h: 20, w: 19, kh: 3, kw: 3, padding: 1, groups: 16),
  ConvCase(n: 4, c: 16, o: 16, h: 21, w: 20, kh: 3, kw: 3, stride: 2, padding: 1, groups: 16),
  // The eight-lane forward: rows shorter than eight, a partial last group, 5x5 and 7x7
  // kernels (EfficientNet, ConvNeXt), stride 2 with dilation.
  ConvCase(n: 2, c: 5, o: 5, h: 7, w: 7, kh: 5, kw: 5, padding: 2, groups: 5),
  ConvCase(n: 2, c: 4, o: 4, h: 14, w: 17, kh: 5, kw: 5, stride: 2, padding: 2, groups: 4),
  ConvCase(n: 1, c: 3, o: 3, h: 9, w: 13, kh: 7, kw: 7, padding: 3, groups: 3),
  ConvCase(
    n: 2, c: 3, o: 3, h: 11, w: 19, kh: 3, kw: 3, stride: 2, padding: 1, dilation: 2, groups: 3),
  // A channel multiplier (two kernels per input channel), and groups of several channels.
  ConvCase(n: 2, c: 3, o: 6, h: 6, w: 5, kh: 3, kw: 3, padding: 1, groups: 3),
  ConvCase(n: 2, c: 6, o: 4, h: 7, w: 7, kh: 3, kw: 3, stride: 2, padding: 1, groups: 2),
  ConvCase(n: 3, c: 8, o: 8, h: 5, w: 6, kh: 1, kw: 1, bias: false, groups: 4),
]

@Suite struct GroupedConvolutionTests {
  /// With the AVX2/FMA kernels (`wide`, where the CPU has them) and with the portable ones.
  @Test(arguments: groupedConvCases, [true, false])
  func groupedConv2dMatchesReference(_ k: ConvCase, wide: Bool) throws {
    try WideKernels.$isEnabled.withValue(wide) { try checkAgainstReference(k) }
  }

  private func checkAgainstReference(_ k: ConvCase) throws {
    let (x, weight, bias) = k.inputs(transposed: false, seed: 81)
    #expect(weight.shape == [k.o, k.c / k.groups, k.kh, k.kw])
    let y = try conv2d(
      x, weight: weight, bias: bias, stride: k.strides, padding: k.paddings,
      dilation: k.dilation, groups: k.groups)
    let expected = Conv2DReference.forward(
      x: x, weight: weight, bias: bias, stride: k.strides, padding: k.paddings,
      dilation: k.dilation, groups: k.groups)
    #expect(y.shape == expected.shape)
    #expect(relativeDifference(y.scalars, expected.scalars) < 1e-5)
    var g = SeededGenerator(seed: 82)
    let dy = Tensor.normal(shape: y.shape, generator: &g)
    try y.backward(seed: dy)
    let reference = Conv2DReference.backward(
      x: x, weight: weight, dy: dy, stride: k.strides, padding: k.paddings,
      dilation: k.dilation, groups: k.groups)
    expectGradients(x, weight, bias, reference, k)
  }

  @Test(arguments: [
    ConvCase(n: 2, c: 3, o: 3, h: 5, w: 6, kh: 3, kw: 3, stride: 2, padding: 1, groups: 3),
    ConvCase(n: 2, c: 4, o: 2, h: 5, w: 4, kh: 3, kw: 2, padding: 1, groups: 2),
  ])
  func groupedConv2dGradientsMatchFiniteDifferences(_ k: ConvCase) throws {
    let (x, weight, bias) = k.inputs(transposed: false, seed: 83)
    let report = try checkGradients([x, weight, bias!]) {
      try conv2d(
        $0[0], weight: $0[1], bias: $0[2], stride: k.strides, padding: k.paddings,
        groups: k.groups)
    }
    #expect(report.passed, "\(report)")
  }

  /// A frozen depthwise layer (weight without gradient) still passes the input's gradient.
  @Test func depthwiseComputesOnlyRequestedGradients() throws {
    var g = SeededGenerator(seed: 84)
    let x = Tensor.normal(shape: [2, 3, 6, 6], generator: &g, requiresGrad: true)
    let weight = Tensor.normal(shape: [3, 1, 3, 3], generator: &g)
    let y = try conv2d(x, weight: weight, padding: 1, groups: 3)
    let dy = Tensor.normal(shape: y.shape, generator: &g)
    try y.backward(seed: dy)
    #expect(weight.grad == nil)
    let reference = Conv2DReference.backward(
      x: x, weight: weight, dy: dy, padding: (1, 1), groups: 3)
    #expect(relativeDifference(x.grad!.scalars, reference.dx.scalars) < 1e-5)
  }

  @Test func groupedConv2dRejectsBadGroups() throws {
    let x = Tensor(shape: [1, 6, 5, 5])
    #expect(
      throws: TensorError.invalidArgument(
        op: "conv2d",
        message: "input channels 6 and output channels 4 must be multiples of groups, got groups 4")
    ) {
      try conv2d(x, weight: Tensor(shape: [4, 1, 3, 3]), groups: 4)
    }
    #expect(
      throws: TensorError.shapeMismatch(
        op: "conv2d: input channels", expected: [1, 4, 5, 5], actual: [1, 6, 5, 5])
    ) {
      try conv2d(x, weight: Tensor(shape: [6, 2, 3, 3]), groups: 2)
    }
  }

  @Test func slicedChannelsAreConcatenationsInverse() throws {
    var g = SeededGenerator(seed: 85)
    let parts = [2, 3].map { Tensor.normal(shape: [2, $0, 3, 4], generator: &g) }
    let whole = try concatChannels(parts)
    #expect(try sliceChannels(whole, 0..<2).scalars == parts[0].scalars)
    #expect(try sliceChannels(whole, 2..<5).scalars == parts[1].scalars)
    let x = Tensor.normal(shape: [2, 5, 3, 2], generator: &g, requiresGrad: true)
    let report = try checkGradients([x]) { try sliceChannels($0[0], 1..<4) }
    #expect(report.passed, "\(report)")
    #expect(throws: TensorError.self) { try sliceChannels(x, 3..<6) }
  }
}
