import Testing
import ZooTensor
import ZooTestSupport

/// One convolution case: x (n, c, h, w), weight (o, c, kh, kw) for conv2d and
/// (c, o, kh, kw) for convTranspose2d.
struct ConvCase: Sendable, CustomTestStringConvertible {
  var n: Int
  var c: Int
  var o: Int
  var h: Int
  var w: Int
  var kh: Int
  var kw: Int
  var stride = 1
  /// The horizontal stride and padding of conv2d when they differ from the vertical ones.
  var strideWidth: Int? = nil
  var padding = 0
  var paddingWidth: Int? = nil
  var outputPadding = 0
  var dilation = 1
  var bias = true
  /// conv2d's groups: the weight is (o, c/groups, kh, kw).
  var groups = 1

  var testDescription: String {
    "x [\(n), \(c), \(h), \(w)] k \(kh)x\(kw) -> \(o), stride \(strides) padding \(paddings) "
      + "dilation \(dilation) outputPadding \(outputPadding) bias \(bias) groups \(groups)"
  }

  /// conv2d's (vertical, horizontal) stride and padding.
  var strides: (Int, Int) { (stride, strideWidth ?? stride) }
  var paddings: (Int, Int) { (padding, paddingWidth ?? padding) }

  /// Random x, weight and bias that all require gradients.
  func inputs(transposed: Bool, seed: UInt64) -> (x: Tensor, weight: Tensor, bias: Tensor?) {
    var g = SeededGenerator(seed: seed)
    let x = Tensor.normal(shape: [n, c, h, w], generator: &g, requiresGrad: true)
    let weight = Tensor.normal(
      shape: transposed ? [c, o, kh, kw] : [o, c / groups, kh, kw], std: 0.5, generator: &g,
      requiresGrad: true)
    let bias = self.bias ? Tensor.normal(shape: [o], generator: &g, requiresGrad: true) : nil
    return (x, weight, bias)
  }
}

let conv2dCases: [ConvCase] = [
  ConvCase(n: 1, c: 2, o: 3, h: 5, w: 5, kh: 3, kw: 3),
  ConvCase(n: 3, c: 3, o: 4, h: 7, w: 6, kh: 3, kw: 3, stride: 2, padding: 1, bias: false),
  ConvCase(n: 3, c: 2, o: 3, h: 8, w: 9, kh: 3, kw: 2, padding: 2, dilation: 2),
  ConvCase(n: 1, c: 2, o: 2, h: 9, w: 7, kh: 3, kw: 3, stride: 2, padding: 2, dilation: 2),
  ConvCase(n: 3, c: 3, o: 2, h: 6, w: 5, kh: 2, kw: 3, stride: 2, padding: 1),
  ConvCase(n: 1, c: 4, o: 5, h: 6, w: 4, kh: 1, kw: 1),
  ConvCase(n: 3, c: 4, o: 2, h: 5, w: 7, kh: 1, kw: 1, bias: false),
  ConvCase(n: 3, c: 2, o: 3, h: 9, w: 7, kh: 1, kw: 1, stride: 2),
  ConvCase(n: 3, c: 2, o: 3, h: 4, w: 5, kh: 1, kw: 1, padding: 1),
  ConvCase(n: 3, c: 1, o: 2, h: 3, w: 4, kh: 3, kw: 4),
  // Inception v3's 1x7 and 7x1 kernels, and unequal strides and paddings.
  ConvCase(n: 2, c: 3, o: 4, h: 7, w: 9, kh: 1, kw: 7, paddingWidth: 3),
  ConvCase(n: 2, c: 3, o: 2, h: 8, w: 5, kh: 7, kw: 1, padding: 3, paddingWidth: 0, bias: false),
  ConvCase(
    n: 3, c: 2, o: 3, h: 9, w: 8, kh: 3, kw: 2, stride: 2, strideWidth: 1, padding: 1,
    paddingWidth: 2),
  ConvCase(n: 2, c: 2, o: 3, h: 6, w: 11, kh: 1, kw: 3, strideWidth: 3, paddingWidth: 1),
]

let convTranspose2dCases: [ConvCase] = [
  ConvCase(n: 1, c: 2, o: 3, h: 4, w: 4, kh: 3, kw: 3),
  ConvCase(n: 3, c: 3, o: 2, h: 4, w: 5, kh: 3, kw: 3, stride: 2, padding: 1, outputPadding: 1),
  ConvCase(n: 3, c: 2, o: 3, h: 5, w: 3, kh: 2, kw: 2, stride: 2, bias: false),
  ConvCase(n: 1, c: 2, o: 2, h: 3, w: 4, kh: 3, kw: 2, stride: 2, padding: 2, dilation: 2),
  ConvCase(n: 3, c: 2, o: 3, h: 4, w: 3, kh: 3, kw: 3, padding: 1, outputPadding: 1, dilation: 2),
  ConvCase(n: 3, c: 4, o: 3, h: 3, w: 5, kh: 1, kw: 1),
  ConvCase(n: 1, c: 3, o: 2, h: 4, w: 4, kh: 1, kw: 1, stride: 2, outputPadding: 1, bias: false),
  ConvCase(n: 3, c: 2, o: 2, h: 4, w: 4, kh: 4, kw: 4, stride: 2, padding: 1),
]

/// Checks every gradient a backward pass produced against the reference's.
func expectGradients(
  _ x: Tensor, _ weight: Tensor, _ bias: Tensor?,
  _ reference: (dx: Tensor, dWeight: Tensor, dBias: Tensor), _ label: ConvCase
) {
  #expect(relativeDifference(x.grad!.scalars, reference.dx.scalars) < 1e-5, "dx: \(label)")
  #expect(
    relativeDifference(weight.grad!.scalars, reference.dWeight.scalars) < 1e-5, "dW: \(label)")
  if let bias {
    #expect(relativeDifference(bias.grad!.scalars, reference.dBias.scalars) < 1e-5, "db: \(label)")
  }
}

private func dot(_ a: Tensor, _ b: Tensor) -> Double {
  zip(a.scalars, b.scalars).reduce(0) { $0 + Double($1.0) * Double($1.1) }
}

@Suite struct ConvolutionTests {
  // MARK: conv2d

  @Test(arguments: conv2dCases)
  func conv2dMatchesReference(_ k: ConvCase) throws {
    let (x, weight, bias) = k.inputs(transposed: false, seed: 11)
    let y = try conv2d(
      x, weight: weight, bias: bias, stride: k.strides, padding: k.paddings, dilation: k.dilation)
    let expected = Conv2DReference.forward(
      x: x, weight: weight, bias: bias, stride: k.strides, padding: k.paddings,
      dilation: k.dilation)
    #expect(y.shape == expected.shape)
    #expect(relativeDifference(y.scalars, expected.scalars) < 1e-5)
    var g = SeededGenerator(seed: 12)
    let dy = Tensor.normal(shape: y.shape, generator: &g)
    try y.backward(seed: dy)
    let reference = Conv2DReference.backward(
      x: x, weight: weight, dy: dy, stride: k.strides, padding: k.paddings, dilation: k.dilation)
    expectGradients(x, weight, bias, reference, k)
  }

  /// Batches split into groups of 1, and of 2 + 1, give the same results as one group.
  @Test(arguments: [1, 2])
  func convolutionsMatchReferenceInSampleGroups(_ samplesPerGroup: Int) throws {
    let k = ConvCase(n: 3, c: 2, o: 3, h: 5, w: 6, kh: 3, kw: 3, stride: 2, padding: 1)
    // conv2d keeps (c*kh*kw + o) floats per output pixel of a sample (3x3 pixels here).
    try Im2Col.$columnBudget.withValue(samplesPerGroup * (18 + 3) * 9) {
      let (x, weight, bias) = k.inputs(transposed: false, seed: 21)
      let y = try conv2d(x, weight: weight, bias: bias, stride: 2, padding: 1)
      let expected = Conv2DReference.forward(
        x: x, weight: weight, bias: bias, stride: (2, 2), padding: (1, 1))
      #expect(relativeDifference(y.scalars, expected.scalars) < 1e-5)
      let dy = Tensor(shape: y.shape, scalars: (0..<y.count).map { Float($0 % 7) - 3 })
      try y.backward(seed: dy)
      expectGradients(
        x, weight, bias,
        Conv2DReference.backward(
          x: x, weight: weight, dy: dy, stride: (2, 2), padding: (1, 1)), k)
    }
    // convTranspose2d keeps (o*kh*kw + c) floats per input pixel of a sample (5x6 here).
    try Im2Col.$columnBudget.withValue(samplesPerGroup * (27 + 2) * 30) {
      let (x, weight, bias) = k.inputs(transposed: true, seed: 22)
      let y = try convTranspose2d(x, weight: weight, bias: bias, stride: 2, padding: 1)
      let expected = ConvTranspose2DReference.forward(
        x: x, weight: weight, bias: bias, stride: 2, padding: 1)
      #expect(relativeDifference(y.scalars, expected.scalars) < 1e-5)
      let dy = Tensor(shape: y.shape, scalars: (0..<y.count).map { Float($0 % 5) - 2 })
      try y.backward(seed: dy)
      expectGradients(
        x, weight, bias,
        ConvTranspose2DReference.backward(x: x, weight: weight, dy: dy, stride: 2, padding: 1), k)
    }
  }

  /// Batches large enough to run one pipeline per core (runs of groups, per-run gradient
  /// sums): LeNet-like shapes, several samples per group, strides, and more runs than cores.
  @Test(arguments: [
    ConvCase(n: 9, c: 1, o: 3, h: 12, w: 12, kh: 5, kw: 5, padding: 2),
    ConvCase(n: 14, c: 3, o: 5, h: 7, w: 7, kh: 5, kw: 5),
    ConvCase(n: 40, c: 2, o: 3, h: 5, w: 6, kh: 3, kw: 3, stride: 2, padding: 1),
    ConvCase(n: 5, c: 2, o: 4, h: 9, w: 8, kh: 3, kw: 2, padding: 1, dilation: 2, bias: false),
    ConvCase(n: 9, c: 2, o: 3, h: 7, w: 8, kh: 1, kw: 7, paddingWidth: 3),
  ])
  func conv2dPerCorePipelinesMatchReference(_ k: ConvCase) throws {
    let (x, weight, bias) = k.inputs(transposed: false, seed: 51)
    let y = try conv2d(
      x, weight: weight, bias: bias, stride: k.strides, padding: k.paddings, dilation: k.dilation)
    let expected = Conv2DReference.forward(
      x: x, weight: weight, bias: bias, stride: k.strides, padding: k.paddings,
      dilation: k.dilation)
    #expect(relativeDifference(y.scalars, expected.scalars) < 1e-5)
    var g = SeededGenerator(seed: 52)
    let dy = Tensor.normal(shape: y.shape, generator: &g)
    try y.backward(seed: dy)
    let reference = Conv2DReference.backward(
      x: x, weight: weight, dy: dy, stride: k.strides, padding: k.paddings, dilation: k.dilation)
    expectGradients(x, weight, bias, reference, k)

    // Only the bias learns (a frozen layer with a new bias): its sums take another path.
    let frozen = weight.detached()
    bias?.zeroGrad()
    try conv2d(
      x.detached(), weight: frozen, bias: bias, stride: k.strides, padding: k.paddings,
      dilation: k.dilation
    ).backward(seed: dy)
    if let bias {
      #expect(relativeDifference(bias.grad!.scalars, reference.dBias.scalars) < 1e-5)
    }
  }

  /// Large convolutions run in bands of output rows: forward one task per (sample, band),
  /// backward one task per sample with its bands in order. A small cache budget forces bands
  /// of one and of two rows (the last one shorter), with and without padding, with strides
  /// and dilation. Outputs of at least 256 positions (smaller ones are too thin for bands),
  /// batches of 8 and at least 4 bands per sample make enough tasks for bands on up to 4 cores.
  @Test(arguments: [
    ConvCase(n: 8, c: 2, o: 3, h: 18, w: 16, kh: 3, kw: 3, padding: 1),
    ConvCase(n: 8, c: 3, o: 4, h: 33, w: 31, kh: 3, kw: 3, stride: 2, padding: 1, bias: false),
    ConvCase(n: 8, c: 2, o: 3, h: 18, w: 17, kh: 3, kw: 2, padding: 2, dilation: 2),
    ConvCase(n: 8, c: 2, o: 2, h: 17, w: 17, kh: 2, kw: 2),
    ConvCase(n: 8, c: 3, o: 4, h: 40, w: 38, kh: 7, kw: 7, stride: 2, padding: 3),
    ConvCase(n: 8, c: 2, o: 3, h: 52, w: 53, kh: 5, kw: 3, stride: 3, padding: 2, dilation: 2),
    ConvCase(n: 8, c: 3, o: 4, h: 20, w: 17, kh: 1, kw: 7, paddingWidth: 3),
    ConvCase(
      n: 8, c: 2, o: 3, h: 40, w: 18, kh: 7, kw: 1, stride: 2, strideWidth: 1, padding: 3,
      paddingWidth: 0),
  ])
  func conv2dBandsMatchReference(_ k: ConvCase) throws {
    let (x, weight, bias) = k.inputs(transposed: false, seed: 71)
    let expected = Conv2DReference.forward(
      x: x, weight: weight, bias: bias, stride: k.strides, padding: k.paddings,
      dilation: k.dilation)
    var g = SeededGenerator(seed: 72)
    let dy = Tensor.normal(shape: expected.shape, generator: &g)
    let reference = Conv2DReference.backward(
      x: x, weight: weight, dy: dy, stride: k.strides, padding: k.paddings, dilation: k.dilation)
    let (outHeight, outWidth) = (expected.shape[2], expected.shape[3])
    #expect(outHeight >= 7 && outHeight * outWidth >= 256)
    for bandRows in [1, 2] {
      // Columns of `bandRows` output rows; a whole sample needs more, so no per-core groups.
      try Im2Col.$cacheFloats.withValue(k.c * k.kh * k.kw * outWidth * bandRows) {
        let (x, weight, bias) = k.inputs(transposed: false, seed: 71)
        let y = try conv2d(
          x, weight: weight, bias: bias, stride: k.strides, padding: k.paddings,
          dilation: k.dilation)
        #expect(
          relativeDifference(y.scalars, expected.scalars) < 1e-5, "\(bandRows) rows: \(k)")
        try y.backward(seed: dy)
        expectGradients(x, weight, bias, reference, k)
      }
    }
  }

  @Test(arguments: [
    ConvCase(n: 2, c: 2, o: 3, h: 5, w: 4, kh: 3, kw: 3, stride: 2, padding: 1),
    ConvCase(n: 1, c: 2, o: 2, h: 6, w: 5, kh: 2, kw: 2, padding: 2, dilation: 2),
    ConvCase(n: 2, c: 3, o: 2, h: 3, w: 4, kh: 1, kw: 1),
    ConvCase(n: 2, c: 2, o: 2, h: 5, w: 6, kh: 1, kw: 3, strideWidth: 2, paddingWidth: 1),
  ])
  func conv2dGradientsMatchFiniteDifferences(_ k: ConvCase) throws {
    let (x, weight, bias) = k.inputs(transposed: false, seed: 31)
    let report = try checkGradients([x, weight, bias!]) {
      try conv2d(
        $0[0], weight: $0[1], bias: $0[2], stride: k.strides, padding: k.paddings,
        dilation: k.dilation)
    }
    #expect(report.passed, "\(report)")
  }

  @Test func conv2dComputesKnownValues() throws {
    // 3x3 image 0...8, 2x2 kernel of ones: each output sums a 2x2 window.
    let x = Tensor(shape: [1, 1, 3, 3], scalars: (0..<9).map(Float.init))
    let weight = Tensor(shape: [1, 1, 2, 2], repeating: 1)
    let y = try conv2d(x, weight: weight, bias: Tensor(shape: [1], scalars: [0.5]))
    #expect(y.shape == [1, 1, 2, 2])
    #expect(y.scalars == [8.5, 12.5, 20.5, 24.5])
    // Padding 1, stride 2: corners of the zero-padded image.
    let strided = try conv2d(x, weight: weight, stride: 2, padding: 1)
    #expect(strided.scalars == [0, 3, 9, 24])
  }

  @Test func conv2dComputesOnlyRequestedGradients() throws {
    var g = SeededGenerator(seed: 41)
    let x = Tensor.normal(shape: [2, 2, 5, 5], generator: &g)
    let weight = Tensor.normal(shape: [3, 2, 3, 3], generator: &g, requiresGrad: true)
    let bias = Tensor.normal(shape: [3], generator: &g)
    let y = try conv2d(x, weight: weight, bias: bias, padding: 1)
    let dy = Tensor.normal(shape: y.shape, generator: &g)
    try y.backward(seed: dy)
    #expect(x.grad == nil)
    #expect(bias.grad == nil)
    let reference = Conv2DReference.backward(x: x, weight: weight, dy: dy, padding: (1, 1))
    #expect(relativeDifference(weight.grad!.scalars, reference.dWeight.scalars) < 1e-5)

    let frozen = try conv2d(x, weight: weight.detached(), bias: bias)
    #expect(!frozen.requiresGrad)
  }

  @Test func conv2dRejectsBadArguments() throws {
    let x = Tensor(shape: [2, 3, 5, 5])
    let weight = Tensor(shape: [4, 3, 3, 3])
    #expect(throws: TensorError.rankMismatch(op: "conv2d", expected: 4, actual: [3, 5, 5])) {
      try conv2d(Tensor(shape: [3, 5, 5]), weight: weight)
    }
    #expect(
      throws: TensorError.rankMismatch(op: "conv2d weight", expected: 4, actual: [4, 27])
    ) {
      try conv2d(x, weight: Tensor(shape: [4, 27]))
    }
    #expect(
      throws: TensorError.shapeMismatch(
        op: "conv2d: input channels", expected: [2, 2, 5, 5], actual: [2, 3, 5, 5])
    ) {
      try conv2d(x, weight: Tensor(shape: [4, 2, 3, 3]))
    }
    #expect(throws: TensorError.shapeMismatch(op: "conv2d bias", expected: [4], actual: [3])) {
      try conv2d(x, weight: weight, bias: Tensor(shape: [3]))
    }
    #expect(
      throws: TensorError.invalidArgument(op: "conv2d", message: "stride must be positive, got 0")
    ) {
      try conv2d(x, weight: weight, stride: 0)
    }
    #expect(
      throws: TensorError.invalidArgument(
        op: "conv2d", message: "padding must not be negative, got -1")
    ) {
      try conv2d(x, weight: weight, padding: -1)
    }
    #expect(
      throws: TensorError.invalidArgument(
        op: "conv2d", message: "dilation must be positive, got 0")
    ) {
      try conv2d(x, weight: weight, dilation: 0)
    }
    #expect(
      throws: TensorError.invalidArgument(
        op: "conv2d",
        message: "kernel 3x3 with dilation 3 spans 7x7, larger than the padded input 5x5 "
          + "(input [2, 3, 5, 5], padding 0x0)")
    ) {
      try conv2d(x, weight: weight, dilation: 3)
    }
  }

  // MARK: convTranspose2d

  @Test(arguments: convTranspose2dCases)
  func convTranspose2dMatchesReference(_ k: ConvCase) throws {
    let (x, weight, bias) = k.inputs(transposed: true, seed: 51)
    let y = try convTranspose2d(
      x, weight: weight, bias: bias, stride: k.stride, padding: k.padding,
      outputPadding: k.outputPadding, dilation: k.dilation)
    let expected = ConvTranspose2DReference.forward(
      x: x, weight: weight, bias: bias, stride: k.stride, padding: k.padding,
      outputPadding: k.outputPadding, dilation: k.dilation)
    let size = { (input: Int, kernel: Int) in
      (input - 1) * k.stride - 2 * k.padding + k.dilation * (kernel - 1) + k.outputPadding + 1
    }
    #expect(y.shape == [k.n, k.o, size(k.h, k.kh), size(k.w, k.kw)])
    #expect(expected.shape == y.shape)
    #expect(relativeDifference(y.scalars, expected.scalars) < 1e-5)
    var g = SeededGenerator(seed: 52)
    let dy = Tensor.normal(shape: y.shape, generator: &g)
    try y.backward(seed: dy)
    let reference = ConvTranspose2DReference.backward(
      x: x, weight: weight, dy: dy, stride: k.stride, padding: k.padding,
      outputPadding: k.outputPadding, dilation: k.dilation)
    expectGradients(x, weight, bias, reference, k)
  }

  /// `<conv2d(u, W), v> == <u, convTranspose2d(v, W)>`: the two ops are adjoint.
  @Test(arguments: [
    ConvCase(n: 2, c: 2, o: 3, h: 7, w: 5, kh: 3, kw: 3, stride: 2, padding: 1),
    ConvCase(n: 1, c: 3, o: 2, h: 8, w: 9, kh: 3, kw: 2, stride: 3, padding: 2, dilation: 2),
    ConvCase(n: 2, c: 2, o: 2, h: 4, w: 5, kh: 1, kw: 1),
  ])
  func convTranspose2dIsAdjointOfConv2d(_ k: ConvCase) throws {
    let (u, weight, _) = k.inputs(transposed: false, seed: 61)
    let cu = try conv2d(
      u, weight: weight, stride: k.strides, padding: k.paddings, dilation: k.dilation)
    var g = SeededGenerator(seed: 62)
    let v = Tensor.normal(shape: cu.shape, generator: &g)
    // The output padding that brings the transposed output back to u's size.
    let outputPadding = (k.h + 2 * k.padding - k.dilation * (k.kh - 1) - 1) % k.stride
    let tv = try convTranspose2d(
      v, weight: weight, stride: k.stride, padding: k.padding, outputPadding: outputPadding,
      dilation: k.dilation)
    #expect(tv.shape == u.shape)
    let (lhs, rhs) = (dot(cu, v), dot(u, tv))
    #expect(abs(lhs - rhs) <= 1e-5 * max(abs(lhs), 1), "\(lhs) vs \(rhs)")
  }

  @Test(arguments: [
    ConvCase(n: 2, c: 2, o: 3, h: 3, w: 4, kh: 3, kw: 3, stride: 2, padding: 1, outputPadding: 1),
    ConvCase(n: 1, c: 2, o: 2, h: 3, w: 3, kh: 2, kw: 3, padding: 1, dilation: 2),
    ConvCase(n: 2, c: 3, o: 2, h: 3, w: 2, kh: 1, kw: 1),
  ])
  func convTranspose2dGradientsMatchFiniteDifferences(_ k: ConvCase) throws {
    let (x, weight, bias) = k.inputs(transposed: true, seed: 71)
    let report = try checkGradients([x, weight, bias!]) {
      try convTranspose2d(
        $0[0], weight: $0[1], bias: $0[2], stride: k.stride, padding: k.padding,
        outputPadding: k.outputPadding, dilation: k.dilation)
    }
    #expect(report.passed, "\(report)")
  }

  @Test func convTranspose2dComputesKnownValues() throws {
    // Stride 2 with a 2x2 kernel of ones copies each pixel into a 2x2 block.
    let x = Tensor(shape: [1, 1, 2, 2], scalars: [1, 2, 3, 4])
    let y = try convTranspose2d(
      x, weight: Tensor(shape: [1, 1, 2, 2], repeating: 1), bias: Tensor(shape: [1]), stride: 2)
    #expect(y.shape == [1, 1, 4, 4])
    #expect(y.scalars == [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4])
    // PyTorch: ConvTranspose2d(k=3, stride=2, padding=1, output_padding=1) doubles 4x5.
    let doubled = try convTranspose2d(
      Tensor(shape: [2, 3, 4, 5]), weight: Tensor(shape: [3, 6, 3, 3]), stride: 2, padding: 1,
      outputPadding: 1)
    #expect(doubled.shape == [2, 6, 8, 10])
  }

  @Test func convTranspose2dRejectsBadArguments() throws {
    let x = Tensor(shape: [2, 3, 4, 4])
    let weight = Tensor(shape: [3, 5, 3, 3])
    #expect(
      throws: TensorError.rankMismatch(op: "convTranspose2d", expected: 4, actual: [3, 4, 4])
    ) {
      try convTranspose2d(Tensor(shape: [3, 4, 4]), weight: weight)
    }
    #expect(
      throws: TensorError.shapeMismatch(
        op: "convTranspose2d: input channels", expected: [2, 5, 4, 4], actual: [2, 3, 4, 4])
    ) {
      try convTranspose2d(x, weight: Tensor(shape: [5, 3, 3, 3]))
    }
    #expect(
      throws: TensorError.shapeMismatch(op: "convTranspose2d bias", expected: [5], actual: [3])
    ) {
      try convTranspose2d(x, weight: weight, bias: Tensor(shape: [3]))
    }
    #expect(
      throws: TensorError.invalidArgument(
        op: "convTranspose2d", message: "stride must be positive, got -2")
    ) {
      try convTranspose2d(x, weight: weight, stride: -2)
    }
    #expect(
      throws: TensorError.invalidArgument(
        op: "convTranspose2d",
        message: "output padding 2 must be non-negative and smaller than stride 2 or dilation 1")
    ) {
      try convTranspose2d(x, weight: weight, stride: 2, outputPadding: 2)
    }
    #expect(
      throws: TensorError.invalidArgument(
        op: "convTranspose2d",
        message: "output size -2x-2 is not positive (input [2, 3, 4, 4], kernel 3x3, "
          + "stride 1, padding 4, dilation 1)")
    ) {
      try convTranspose2d(x, weight: weight, padding: 4)
    }
  }
}
