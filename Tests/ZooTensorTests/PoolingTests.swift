import Testing
import ZooTensor
import ZooTestSupport

/// One pooling case on x (n, c, h, w).
struct PoolCase: Sendable, CustomTestStringConvertible {
  var n: Int
  var c: Int
  var h: Int
  var w: Int
  var kernel: Int
  var stride: Int? = nil
  var padding = 0
  var ceilMode = false
  var countIncludePad = true

  var testDescription: String {
    "x [\(n), \(c), \(h), \(w)] kernel \(kernel) stride \(stride.map(String.init) ?? "nil") "
      + "padding \(padding) ceilMode \(ceilMode) countIncludePad \(countIncludePad)"
  }

  /// Distinct values at least 0.1 apart, so a finite-difference step never moves an argmax.
  func distinctInput(seed: UInt64) -> Tensor {
    var g = SeededGenerator(seed: seed)
    let count = n * c * h * w
    let values = (0..<count).shuffled(using: &g).map { Float($0) * 0.1 - Float(count) * 0.05 }
    return Tensor(shape: [n, c, h, w], scalars: values, requiresGrad: true)
  }
}

let maxPoolCases: [PoolCase] = [
  PoolCase(n: 1, c: 2, h: 6, w: 6, kernel: 2),
  PoolCase(n: 3, c: 2, h: 7, w: 5, kernel: 3, stride: 2, padding: 1),
  PoolCase(n: 3, c: 1, h: 5, w: 5, kernel: 2, stride: 2, padding: 1, ceilMode: true),
  PoolCase(n: 1, c: 2, h: 6, w: 7, kernel: 3, stride: 2, padding: 1, ceilMode: true),
  PoolCase(n: 3, c: 2, h: 8, w: 6, kernel: 3, stride: 1, padding: 1),
  PoolCase(n: 1, c: 3, h: 5, w: 8, kernel: 3, ceilMode: true),
  PoolCase(n: 3, c: 1, h: 4, w: 3, kernel: 4, stride: 3, padding: 2),
  PoolCase(n: 2, c: 2, h: 12, w: 19, kernel: 3, stride: 2, padding: 1),
  PoolCase(n: 2, c: 1, h: 11, w: 33, kernel: 4, stride: 3, padding: 2, ceilMode: true),
]

let avgPoolCases: [PoolCase] = [
  PoolCase(n: 1, c: 2, h: 6, w: 6, kernel: 2),
  PoolCase(n: 3, c: 2, h: 7, w: 5, kernel: 3, stride: 2, padding: 1),
  PoolCase(n: 3, c: 2, h: 7, w: 5, kernel: 3, stride: 2, padding: 1, countIncludePad: false),
  PoolCase(n: 1, c: 3, h: 6, w: 9, kernel: 4, stride: 2, padding: 2),
  PoolCase(n: 3, c: 1, h: 6, w: 9, kernel: 5, stride: 3, padding: 2, countIncludePad: false),
  PoolCase(n: 3, c: 2, h: 5, w: 4, kernel: 3, stride: 1),
]

/// (n, c, h, w, outputHeight, outputWidth)
let adaptiveCases: [[Int]] = [
  [1, 2, 7, 7, 1, 1], [3, 2, 7, 5, 3, 2], [1, 1, 5, 9, 3, 4], [3, 2, 4, 4, 6, 5],
  [1, 2, 6, 6, 6, 6], [3, 1, 10, 7, 4, 3],
  // Global pooling of planes larger than a group of sixteen lanes, with a partial group.
  [2, 3, 13, 11, 1, 1],
]

private func gradientSeed(_ shape: [Int], seed: UInt64) -> Tensor {
  var g = SeededGenerator(seed: seed)
  return Tensor.normal(shape: shape, generator: &g)
}

@Suite struct PoolingTests {
  // MARK: max pooling

  /// Each case on normal values and on small integers with some -infinity, whose many ties
  /// must go to the first value in row-major order, as in PyTorch.
  @Test(arguments: maxPoolCases)
  func maxPool2dMatchesReference(_ k: PoolCase) throws {
    var g = SeededGenerator(seed: 1)
    let shape = [k.n, k.c, k.h, k.w]
    let ties = (0..<shape.reduce(1, *)).map { _ in
      let draw = Int(g.nextUniform() * 5)
      return draw == 4 ? -Float.infinity : Float(draw) - 1
    }
    for x in [
      Tensor.normal(shape: shape, generator: &g, requiresGrad: true),
      Tensor(shape: shape, scalars: ties, requiresGrad: true),
    ] {
      let y = try maxPool2d(
        x, kernelSize: k.kernel, stride: k.stride, padding: k.padding, ceilMode: k.ceilMode)
      let expected = MaxPool2DReference.forward(
        x: x, kernelSize: k.kernel, stride: k.stride, padding: k.padding, ceilMode: k.ceilMode)
      #expect(y.shape == expected.shape)
      #expect(y.scalars == expected.scalars)
      // Without a tape no indices are kept: the row-maxima path (the 2x2 one for kernel 2).
      let inference = try withoutGradients {
        try maxPool2d(
          x, kernelSize: k.kernel, stride: k.stride, padding: k.padding, ceilMode: k.ceilMode)
      }
      #expect(inference.scalars == expected.scalars)
      let dy = gradientSeed(y.shape, seed: 2)
      try y.backward(seed: dy)
      let dx = MaxPool2DReference.backward(
        x: x, dy: dy, kernelSize: k.kernel, stride: k.stride, padding: k.padding,
        ceilMode: k.ceilMode)
      #expect(relativeDifference(x.grad!.scalars, dx.scalars) < 1e-6)
    }
  }

  @Test(arguments: maxPoolCases.prefix(4))
  func maxPool2dGradientsMatchFiniteDifferences(_ k: PoolCase) throws {
    let x = k.distinctInput(seed: 3)
    let report = try checkGradients([x]) {
      try maxPool2d(
        $0[0], kernelSize: k.kernel, stride: k.stride, padding: k.padding, ceilMode: k.ceilMode)
    }
    #expect(report.passed, "\(report)")
  }

  /// The 2x2, stride-2 fast path against the reference: many ties (small integers), widths
  /// below, at and beyond one four-output group, odd sizes, with and without a tape.
  @Test(arguments: [[2, 2], [4, 6], [5, 7], [8, 8], [6, 10], [9, 11], [28, 28], [3, 18]])
  func maxPool2dHalvingMatchesReferenceWithTies(_ size: [Int]) throws {
    var g = SeededGenerator(seed: 5)
    let count = 3 * 2 * size[0] * size[1]
    let values = (0..<count).map { _ in Float(Int(g.nextUniform() * 4)) - 1 }
    let x = Tensor(shape: [3, 2, size[0], size[1]], scalars: values, requiresGrad: true)
    let y = try maxPool2d(x, kernelSize: 2)
    #expect(y.scalars == MaxPool2DReference.forward(x: x, kernelSize: 2).scalars)
    #expect(try withoutGradients { try maxPool2d(x, kernelSize: 2) }.scalars == y.scalars)
    let dy = gradientSeed(y.shape, seed: 6)
    try y.backward(seed: dy)
    let dx = MaxPool2DReference.backward(x: x, dy: dy, kernelSize: 2)
    #expect(x.grad!.scalars == dx.scalars)
  }

  /// NaNs (and infinities, whose sum is NaN) anywhere in a 2x2-pooled plane: such planes
  /// leave the fast path and must still match the reference.
  @Test(arguments: [0, 5, 13, 22, 47])
  func maxPool2dHalvingHandlesNaNAndInfinity(_ position: Int) throws {
    var values = (0..<48).map { Float(($0 * 7) % 11) }
    values[position] = .nan
    values[(position + 9) % 48] = .infinity
    values[(position + 10) % 48] = -.infinity
    let x = Tensor(shape: [1, 1, 4, 12], scalars: values, requiresGrad: true)
    let y = try maxPool2d(x, kernelSize: 2)
    let expected = MaxPool2DReference.forward(x: x, kernelSize: 2)
    #expect(y.scalars.map(\.bitPattern) == expected.scalars.map(\.bitPattern))
    let dy = gradientSeed(y.shape, seed: 7)
    try y.backward(seed: dy)
    #expect(x.grad!.scalars == MaxPool2DReference.backward(x: x, dy: dy, kernelSize: 2).scalars)
  }

  /// A NaN in a 3x3/2-pooled plane without a tape: the plane leaves the row-maxima path
  /// and the NaN wins its windows, as in PyTorch.
  @Test func maxPool2dInferencePropagatesNaN() throws {
    var values = (0..<49).map { Float(($0 * 5) % 13) }
    values[24] = .nan
    let x = Tensor(shape: [1, 1, 7, 7], scalars: values)
    let y = try withoutGradients {
      try maxPool2d(x, kernelSize: 3, stride: 2, padding: 1)
    }
    let expected = MaxPool2DReference.forward(x: x, kernelSize: 3, stride: 2, padding: 1)
    #expect(y.scalars.map(\.bitPattern) == expected.scalars.map(\.bitPattern))
    #expect(y.scalars.contains { $0.isNaN })
  }

  @Test func maxPool2dComputesKnownValues() throws {
    let x = Tensor(shape: [1, 1, 4, 4], scalars: (0..<16).map(Float.init))
    #expect(try maxPool2d(x, kernelSize: 2).scalars == [5, 7, 13, 15])
    // Padding is -inf, not zero: negative inputs stay negative.
    let negative = Tensor(shape: [1, 1, 2, 2], scalars: [-4, -3, -2, -1])
    let padded = try maxPool2d(negative, kernelSize: 2, stride: 1, padding: 1)
    #expect(padded.scalars == [-4, -3, -3, -2, -1, -1, -2, -1, -1])
    // PyTorch: 5 wide, kernel 2, stride 2, padding 1 gives 3 with ceil mode (a 4th window
    // would start in the right padding) and 3 without.
    let five = Tensor(shape: [1, 1, 5, 5])
    #expect(
      try maxPool2d(five, kernelSize: 2, stride: 2, padding: 1, ceilMode: true).shape
        == [1, 1, 3, 3])
    #expect(try maxPool2d(five, kernelSize: 2, stride: 2, ceilMode: true).shape == [1, 1, 3, 3])
    #expect(try maxPool2d(five, kernelSize: 2, stride: 2).shape == [1, 1, 2, 2])
    // ResNet's stem pool: 112 -> 56.
    let stem = try maxPool2d(
      Tensor(shape: [1, 1, 112, 112]), kernelSize: 3, stride: 2, padding: 1)
    #expect(stem.shape == [1, 1, 56, 56])
  }

  @Test func maxPool2dRoutesGradientToTheArgmax() throws {
    let x = Tensor(shape: [1, 1, 2, 3], scalars: [1, 9, 2, 3, 4, 8], requiresGrad: true)
    let y = try maxPool2d(x, kernelSize: 2, stride: 1)
    #expect(y.scalars == [9, 9])
    try y.backward(seed: Tensor(shape: [1, 1, 1, 2], scalars: [1, 10]))
    #expect(x.grad!.scalars == [0, 11, 0, 0, 0, 0])
  }

  @Test func maxPool2dPropagatesNaN() throws {
    let x = Tensor(shape: [1, 1, 2, 4], scalars: [1, .nan, 2, 3, 4, 5, 7, 6], requiresGrad: true)
    let y = try maxPool2d(x, kernelSize: 2)
    #expect(y.scalars[0].isNaN)
    #expect(y.scalars[1] == 7)
    try y.backward(seed: Tensor(shape: [1, 1, 1, 2], scalars: [1, 2]))
    #expect(x.grad!.scalars == [0, 1, 0, 0, 0, 0, 2, 0])
  }

  // MARK: average pooling

  @Test(arguments: avgPoolCases)
  func avgPool2dMatchesReference(_ k: PoolCase) throws {
    var g = SeededGenerator(seed: 4)
    let x = Tensor.normal(shape: [k.n, k.c, k.h, k.w], generator: &g, requiresGrad: true)
    let y = try avgPool2d(
      x, kernelSize: k.kernel, stride: k.stride, padding: k.padding,
      countIncludePad: k.countIncludePad)
    let expected = AvgPool2DReference.forward(
      x: x, kernelSize: k.kernel, stride: k.stride, padding: k.padding,
      countIncludePad: k.countIncludePad)
    #expect(y.shape == expected.shape)
    #expect(relativeDifference(y.scalars, expected.scalars) < 1e-5)
    let dy = gradientSeed(y.shape, seed: 5)
    try y.backward(seed: dy)
    let dx = AvgPool2DReference.backward(
      x: x, dy: dy, kernelSize: k.kernel, stride: k.stride, padding: k.padding,
      countIncludePad: k.countIncludePad)
    #expect(relativeDifference(x.grad!.scalars, dx.scalars) < 1e-5)
  }

  @Test(arguments: avgPoolCases.prefix(4))
  func avgPool2dGradientsMatchFiniteDifferences(_ k: PoolCase) throws {
    var g = SeededGenerator(seed: 6)
    let x = Tensor.normal(shape: [k.n, k.c, k.h, k.w], generator: &g, requiresGrad: true)
    let report = try checkGradients([x]) {
      try avgPool2d(
        $0[0], kernelSize: k.kernel, stride: k.stride, padding: k.padding,
        countIncludePad: k.countIncludePad)
    }
    #expect(report.passed, "\(report)")
  }

  @Test func avgPool2dComputesKnownValues() throws {
    let ones = Tensor(shape: [1, 1, 3, 3], repeating: 1)
    let included = try avgPool2d(ones, kernelSize: 3, stride: 1, padding: 1)
    let expected: [Float] = [4, 6, 4, 6, 9, 6, 4, 6, 4].map { $0 / 9 }
    #expect(relativeDifference(included.scalars, expected) < 1e-6)
    let excluded = try avgPool2d(
      ones, kernelSize: 3, stride: 1, padding: 1, countIncludePad: false)
    #expect(excluded.scalars == [Float](repeating: 1, count: 9))
    let x = Tensor(shape: [1, 1, 4, 4], scalars: (0..<16).map(Float.init))
    #expect(try avgPool2d(x, kernelSize: 2).scalars == [2.5, 4.5, 10.5, 12.5])
  }

  // MARK: adaptive average pooling

  @Test(arguments: adaptiveCases)
  func adaptiveAvgPool2dMatchesReference(_ k: [Int]) throws {
    var g = SeededGenerator(seed: 7)
    let x = Tensor.normal(shape: Array(k[0..<4]), generator: &g, requiresGrad: true)
    let y = try adaptiveAvgPool2d(x, outputHeight: k[4], outputWidth: k[5])
    let expected = AdaptiveAvgPool2DReference.forward(x: x, outputHeight: k[4], outputWidth: k[5])
    #expect(y.shape == [k[0], k[1], k[4], k[5]])
    #expect(relativeDifference(y.scalars, expected.scalars) < 1e-5)
    let dy = gradientSeed(y.shape, seed: 8)
    try y.backward(seed: dy)
    let dx = AdaptiveAvgPool2DReference.backward(
      x: x, dy: dy, outputHeight: k[4], outputWidth: k[5])
    #expect(relativeDifference(x.grad!.scalars, dx.scalars) < 1e-5)
  }

  @Test(arguments: adaptiveCases.prefix(4))
  func adaptiveAvgPool2dGradientsMatchFiniteDifferences(_ k: [Int]) throws {
    var g = SeededGenerator(seed: 9)
    let x = Tensor.normal(shape: Array(k[0..<4]), generator: &g, requiresGrad: true)
    let report = try checkGradients([x]) {
      try adaptiveAvgPool2d($0[0], outputHeight: k[4], outputWidth: k[5])
    }
    #expect(report.passed, "\(report)")
  }

  @Test func adaptiveAvgPool2dComputesKnownValues() throws {
    // 5 columns into 3 bins: [0, 2), [1, 4), [3, 5).
    let x = Tensor(shape: [1, 1, 1, 5], scalars: [0, 1, 2, 3, 4])
    let bins = try adaptiveAvgPool2d(x, outputHeight: 1, outputWidth: 3)
    #expect(relativeDifference(bins.scalars, [0.5, 2, 3.5]) < 1e-6)
    let global = try adaptiveAvgPool2d(
      Tensor(shape: [2, 1, 2, 2], scalars: [1, 2, 3, 4, 5, 6, 7, 8]), outputHeight: 1,
      outputWidth: 1)
    #expect(global.scalars == [2.5, 6.5])
  }

  // MARK: errors

  @Test func poolingRejectsBadArguments() throws {
    let x = Tensor(shape: [1, 2, 4, 4])
    #expect(throws: TensorError.rankMismatch(op: "maxPool2d", expected: 4, actual: [2, 4, 4])) {
      try maxPool2d(Tensor(shape: [2, 4, 4]), kernelSize: 2)
    }
    #expect(
      throws: TensorError.invalidArgument(
        op: "maxPool2d", message: "kernel size must be positive, got 0")
    ) {
      try maxPool2d(x, kernelSize: 0)
    }
    #expect(
      throws: TensorError.invalidArgument(
        op: "avgPool2d", message: "stride must be positive, got 0")
    ) {
      try avgPool2d(x, kernelSize: 2, stride: 0)
    }
    #expect(
      throws: TensorError.invalidArgument(
        op: "maxPool2d", message: "padding 2 must be between 0 and half the kernel size 3")
    ) {
      try maxPool2d(x, kernelSize: 3, padding: 2)
    }
    #expect(
      throws: TensorError.invalidArgument(
        op: "avgPool2d",
        message: "kernel 5x5 is larger than the padded input 4x4 (input [1, 2, 4, 4], padding 0)")
    ) {
      try avgPool2d(x, kernelSize: 5)
    }
    #expect(
      throws: TensorError.rankMismatch(op: "adaptiveAvgPool2d", expected: 4, actual: [4, 4])
    ) {
      try adaptiveAvgPool2d(Tensor(shape: [4, 4]), outputHeight: 1, outputWidth: 1)
    }
    #expect(
      throws: TensorError.invalidArgument(
        op: "adaptiveAvgPool2d", message: "output size must be positive, got 0x2")
    ) {
      try adaptiveAvgPool2d(x, outputHeight: 0, outputWidth: 2)
    }
  }
}
