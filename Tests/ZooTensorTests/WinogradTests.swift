import Testing
import ZooTensor
import ZooTestSupport

/// 3x3 stride-1 convolutions with at least 16 channels in and out go through Winograd's
/// F(4x4, 3x3) (forward, input gradient and weight gradient) where its products, the kernels'
/// transform included, are under half of im2col's: enough tiles, not overhanging much; 2x2
/// maps padded by 1, in batches of at least 8, through F(2x2, 3x3), one tile per map.
/// Each is checked against the plain-loop reference and against the im2col path it replaces,
/// with partial tiles at the edges, padding 0, 1 and 2, tasks that span samples, rows of one
/// to three groups of four tiles, and few tiles for many channels.
@Suite struct WinogradTests {
  static let cases: [ConvCase] = [
    ConvCase(n: 6, c: 32, o: 33, h: 13, w: 11, kh: 3, kw: 3, padding: 1),
    ConvCase(n: 8, c: 33, o: 32, h: 12, w: 14, kh: 3, kw: 3, bias: false),
    ConvCase(n: 16, c: 32, o: 32, h: 8, w: 8, kh: 3, kw: 3, padding: 1),
    ConvCase(n: 8, c: 32, o: 34, h: 10, w: 12, kh: 3, kw: 3, padding: 2),
    ConvCase(n: 5, c: 40, o: 32, h: 12, w: 17, kh: 3, kw: 3, padding: 1, bias: false),
    ConvCase(n: 2, c: 32, o: 32, h: 16, w: 35, kh: 3, kw: 3, padding: 1),
    ConvCase(n: 4, c: 16, o: 17, h: 16, w: 16, kh: 3, kw: 3, padding: 1),
    ConvCase(n: 32, c: 24, o: 16, h: 4, w: 4, kh: 3, kw: 3, padding: 1),
    // Few tiles for many channels: blocks of output channels.
    ConvCase(n: 32, c: 96, o: 96, h: 4, w: 4, kh: 3, kw: 3, padding: 1),
    ConvCase(n: 16, c: 160, o: 144, h: 7, w: 7, kh: 3, kw: 3, padding: 1),
    ConvCase(n: 8, c: 16, o: 16, h: 7, w: 7, kh: 3, kw: 3, padding: 1),
    // 2x2 maps: one F(2x2, 3x3) tile each.
    ConvCase(n: 8, c: 16, o: 24, h: 2, w: 2, kh: 3, kw: 3, padding: 1),
    ConvCase(n: 33, c: 72, o: 40, h: 2, w: 2, kh: 3, kw: 3, padding: 1, bias: false),
  ]

  /// Convolutions where Winograd would save too little over im2col stay with im2col: 8x8
  /// maps in batches of 4 (too few tiles to repay the kernels' transform), 5x5 maps (whole
  /// tiles overhang much of the map), 1x1 maps, 2x2 maps in batches of 4.
  static let im2colCases: [ConvCase] = [
    ConvCase(n: 4, c: 16, o: 16, h: 8, w: 8, kh: 3, kw: 3, padding: 1),
    ConvCase(n: 8, c: 16, o: 16, h: 5, w: 5, kh: 3, kw: 3, padding: 1),
    ConvCase(n: 64, c: 16, o: 16, h: 1, w: 1, kh: 3, kw: 3, padding: 1),
    ConvCase(n: 4, c: 16, o: 16, h: 2, w: 2, kh: 3, kw: 3, padding: 1),
  ]

  @Test(arguments: im2colCases)
  func smallSavingsStayWithIm2col(_ k: ConvCase) throws {
    func forward(winograd: Bool) throws -> [Float] {
      try Winograd.$isEnabled.withValue(winograd) {
        let (x, weight, bias) = k.inputs(transposed: false, seed: 99)
        return try conv2d(x, weight: weight, bias: bias, padding: k.padding).scalars
      }
    }
    #expect(try forward(winograd: true) == forward(winograd: false), "\(k)")
  }

  /// A data-parallel shard takes its global batch's path: 8x8 maps go through Winograd in a
  /// batch of 8 and through im2col in a batch of 4, so the second half of a batch of 8, run
  /// as a shard of 4, must take Winograd. Bit for bit, a shard equals the whole batch's half only
  /// where the GEMM kernels round alike for any number of columns (OpenBLAS's AVX-512 ones do,
  /// its AVX2 ones measured 2.5e-6 apart), so the path is shown by switching Winograd off.
  @Test func aShardChoosesByItsGlobalBatch() throws {
    let k = ConvCase(n: 8, c: 16, o: 16, h: 8, w: 8, kh: 3, kw: 3, padding: 1, bias: false)
    let (x, weight, _) = k.inputs(transposed: false, seed: 90)
    let dy = Tensor(shape: [8, 16, 8, 8], scalars: (0..<8192).map { Float($0 % 7) - 3 })
    let whole = try conv2d(x, weight: weight, padding: 1)
    try whole.backward(seed: dy)
    let half = 4 * 16 * 64
    func secondHalf(_ shard: BatchShard?, winograd: Bool = true) throws -> (y: [Float], dx: [Float])
    {
      let part = Tensor(
        shape: [4, 16, 8, 8], scalars: Array(x.scalars[half...]), requiresGrad: true)
      let y = try Winograd.$isEnabled.withValue(winograd) {
        try BatchShard.$current.withValue(shard) {
          let y = try conv2d(part, weight: weight, padding: 1)
          try y.backward(seed: Tensor(shape: y.shape, scalars: Array(dy.scalars[half...])))
          return y
        }
      }
      return (y.scalars, part.grad!.scalars)
    }
    let shardOfEight = BatchShard(offset: 4, globalBatch: 8)
    let shard = try secondHalf(shardOfEight)
    #expect(relativeDifference(shard.y, Array(whole.scalars[half...])) < 1e-5)
    #expect(relativeDifference(shard.dx, Array(x.grad!.scalars[half...])) < 1e-5)
    // Alone, the four take im2col, as the shard does only with Winograd off.
    let alone = try secondHalf(nil)
    #expect(alone.y != shard.y && alone.dx != shard.dx)
    let shardWithoutWinograd = try secondHalf(shardOfEight, winograd: false)
    #expect(shardWithoutWinograd.y == alone.y && shardWithoutWinograd.dx == alone.dx)
  }

  @Test(arguments: cases)
  func winogradMatchesReferenceAndIm2col(_ k: ConvCase) throws {
    let (x, weight, bias) = k.inputs(transposed: false, seed: 91)
    let expected = Conv2DReference.forward(
      x: x, weight: weight, bias: bias, padding: k.paddings)
    var g = SeededGenerator(seed: 92)
    let dy = Tensor.normal(shape: expected.shape, generator: &g)
    let reference = Conv2DReference.backward(x: x, weight: weight, dy: dy, padding: k.paddings)

    func run(winograd: Bool) throws -> (y: [Float], dx: [Float], dw: [Float], db: [Float]?) {
      try Winograd.$isEnabled.withValue(winograd) {
        let (x, weight, bias) = k.inputs(transposed: false, seed: 91)
        let y = try conv2d(x, weight: weight, bias: bias, padding: k.padding)
        try y.backward(seed: dy)
        return (y.scalars, x.grad!.scalars, weight.grad!.scalars, bias?.grad!.scalars)
      }
    }
    let fast = try run(winograd: true)
    let columns = try run(winograd: false)
    // The transforms multiply by up to 25 on the way in and 8 on the way out, so Winograd
    // rounds more than direct products, and more with more channels: 1.2e-5 at 96 channels,
    // where im2col's error is 5e-7.
    let tolerance: Float = k.c > 64 ? 3e-5 : 1e-5
    #expect(relativeDifference(fast.y, expected.scalars) < tolerance, "y: \(k)")
    #expect(relativeDifference(fast.dx, reference.dx.scalars) < tolerance, "dx: \(k)")
    #expect(relativeDifference(fast.dw, reference.dWeight.scalars) < tolerance, "dW: \(k)")
    if let db = fast.db {
      #expect(relativeDifference(db, reference.dBias.scalars) < 1e-5, "db: \(k)")
    }
    // The two paths round differently, which shows the transforms really ran.
    #expect(fast.y != columns.y, "forward did not take the Winograd path: \(k)")
    #expect(fast.dx != columns.dx, "dx did not take the Winograd path: \(k)")
    #expect(fast.dw != columns.dw, "dW did not take the Winograd path: \(k)")
  }

  /// The first backward writes fresh input and weight gradients, a second one adds to them.
  @Test(arguments: [
    ConvCase(n: 4, c: 32, o: 32, h: 16, w: 16, kh: 3, kw: 3, padding: 1),
    ConvCase(n: 8, c: 16, o: 16, h: 2, w: 2, kh: 3, kw: 3, padding: 1),
  ])
  func winogradGradientsAccumulate(_ k: ConvCase) throws {
    let (x, weight, bias) = k.inputs(transposed: false, seed: 95)
    var g = SeededGenerator(seed: 96)
    let dy = Tensor.normal(shape: [k.n, k.o, k.h, k.w], generator: &g)
    let reference = Conv2DReference.backward(x: x, weight: weight, dy: dy, padding: (1, 1))
    for _ in 0..<2 {
      try conv2d(x, weight: weight, bias: bias, padding: 1).backward(seed: dy)
    }
    let twice = { (t: Tensor) in t.scalars.map { 2 * $0 } }
    #expect(relativeDifference(x.grad!.scalars, twice(reference.dx)) < 1e-5)
    #expect(relativeDifference(weight.grad!.scalars, twice(reference.dWeight)) < 1e-5)
  }

  /// A weight gradient whose transformed tiles exceed the column budget is summed over
  /// chunks of tile rows, one after another; the chunks' sums match one pass's.
  @Test func winogradWeightGradientInChunks() throws {
    let k = ConvCase(n: 6, c: 16, o: 24, h: 12, w: 13, kh: 3, kw: 3, padding: 1)
    var g = SeededGenerator(seed: 97)
    let dy = Tensor.normal(shape: [k.n, k.o, k.h, k.w], generator: &g)
    func weightGradient(budget: Int) throws -> [Float] {
      try Im2Col.$columnBudget.withValue(budget) {
        let (x, weight, bias) = k.inputs(transposed: false, seed: 98)
        try conv2d(x, weight: weight, bias: bias, padding: 1).backward(seed: dy)
        return weight.grad!.scalars
      }
    }
    let (x, weight, _) = k.inputs(transposed: false, seed: 98)
    let reference = Conv2DReference.backward(x: x, weight: weight, dy: dy, padding: (1, 1))
    // 36 positions x 40 channels x 4 tiles: 5,760 floats per tile row, 18 rows in all.
    let whole = try weightGradient(budget: 1 << 24)
    let chunked = try weightGradient(budget: 5 * 5_760)
    #expect(relativeDifference(chunked, reference.dWeight.scalars) < 1e-5)
    #expect(relativeDifference(whole, reference.dWeight.scalars) < 1e-5)
  }

  @Test(arguments: [
    ConvCase(n: 11, c: 32, o: 32, h: 8, w: 9, kh: 3, kw: 3, padding: 1),
    ConvCase(n: 8, c: 16, o: 16, h: 2, w: 2, kh: 3, kw: 3, padding: 1),
  ])
  func winogradGradientsMatchFiniteDifferences(_ k: ConvCase) throws {
    let (x, weight, bias) = k.inputs(transposed: false, seed: 93)
    // The convolution is linear in each input, so a large step has no truncation error and
    // keeps the forward's float rounding small against the difference it measures.
    let report = try checkGradients([x, weight, bias!], epsilon: 0.5) {
      try conv2d($0[0], weight: $0[1], bias: $0[2], padding: k.padding)
    }
    #expect(report.passed, "\(report)")
  }
}
