// Winograd's F(2x2, 3x3) for 3x3 stride-1 convolutions of 2x2 maps padded by 1 (resnet18's
// last stage at 64 px): each map is one tile, and every channel pair costs 16 products per
// image where im2col multiplies 36, 20 of them by padding. With points 0, 1, -1 and infinity:
//   B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1], G = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2;
//   0 0 1], A^T = [1 1 1 0; 0 1 -1 -1].
// The tiles' transforms V (16, C, n) are made once; then each core takes blocks of output
// channels through the kernels' transform, the 16 GEMMs and back, all within its cache.

/// 3x3 stride-1 convolutions of 2x2 maps padded by 1 by F(2x2, 3x3): forward, input gradient
/// (the same convolution with the kernels flipped and transposed) and weight gradient.
enum WinogradTile {
  /// Transformed values per tile.
  static let positions = 16

  /// Whether a convolution of `g`'s geometry over a batch of `n` goes this way (a
  /// data-parallel shard chooses by its global batch).
  static func applies(batch n: Int, outChannels o: Int, _ g: Im2Col.Geometry) -> Bool {
    Winograd.isEnabled && g.kernelHeight == 3 && g.kernelWidth == 3 && g.strideHeight == 1
      && g.strideWidth == 1 && g.dilation == 1 && g.paddingHeight == 1 && g.paddingWidth == 1
      && g.height == 2 && g.width == 2
      && g.channels >= Winograd.minimumChannels && o >= Winograd.minimumChannels
      && BatchShard.planningBatch(n) >= 8
  }

  /// y (n, o, 2, 2) = (or +=, with `accumulate`) bias + conv(x, w), x (n, c, 2, 2); w is
  /// (o, c, 3, 3), or with `flipped` (c, o, 3, 3) read as w[c][o] rotated by 180 degrees.
  static func convolve(
    _ xp: UnsafePointer<Float>, _ wp: UnsafePointer<Float>, _ bias: UnsafePointer<Float>?,
    _ yp: UnsafeMutablePointer<Float>, batch n: Int, inChannels c: Int, outChannels o: Int,
    flipped: Bool = false, accumulate: Bool = false
  ) {
    if flipped {
      return Winograd.withFlipped(wp, outChannels: o, inChannels: c) { kernels in
        convolve(
          xp, kernels, bias, yp, batch: n, inChannels: c, outChannels: o, accumulate: accumulate)
      }
    }
    Scratch.withBuffer(positions * c * n) { v in
      transformInputs(xp, batch: n, channels: c, into: v)
      Winograd.forEachOutputBlock(outChannels: o, floatsPerOutput: positions * (c + n)) {
        outputs, u in
        let count = outputs.count
        let product = u + positions * count * c
        transformKernels(wp, inChannels: c, outputs: outputs, into: u)
        Winograd.multiply(
          u, v, into: product, positions: positions, outputs: count, inChannels: c, tiles: n)
        transformOutputs(
          product, bias, batch: n, outputs: outputs, outChannels: o, into: yp,
          accumulate: accumulate)
      }
    }
  }

  /// dw (o, c, 3, 3) = (or +=) the weight gradient of `convolve` for dy (n, o, 2, 2) and
  /// x (n, c, 2, 2): dg = G^T [ sum over images of (A dY A^T) .* V ] G.
  static func weightGradient(
    _ dyp: UnsafePointer<Float>, _ xp: UnsafePointer<Float>, _ dwp: UnsafeMutablePointer<Float>,
    batch n: Int, inChannels c: Int, outChannels o: Int, accumulate: Bool
  ) {
    Scratch.withBuffer(positions * (c + o) * n) { v in
      let dm = v + positions * c * n
      transformInputs(xp, batch: n, channels: c, into: v)
      transformOutputGradients(dyp, batch: n, channels: o, into: dm)
      Winograd.forEachOutputBlock(outChannels: o, floatsPerOutput: positions * c) { outputs, du in
        Winograd.multiplyGradients(
          dm, v, into: du, positions: positions, outputs: outputs, outChannels: o, inChannels: c,
          tiles: n)
        transformKernelGradients(
          du, inChannels: c, outputs: outputs, into: dwp, accumulate: accumulate)
      }
    }
  }

  /// V[position] (C, n) = (B^T d B)[position], d each image's 2x2 plane padded to 4x4.
  private static func transformInputs(
    _ xp: UnsafePointer<Float>, batch n: Int, channels c: Int,
    into v: UnsafeMutablePointer<Float>
  ) {
    // The padded tile's rows are 0, (0 a b 0), (0 c d 0), 0, so the rows of B^T d are
    // (0 p q 0) for (p, q) = (-c, -d), (a + c, b + d), (c - a, d - b), (a, b), and each row
    // times B is (-q, p + q, q - p, p).
    transformPlanes(
      xp, batch: n, channels: c, into: v,
      rows: { x in
        (
          SIMD2(-x[2], -x[3]), SIMD2(x[0] + x[2], x[1] + x[3]), SIMD2(x[2] - x[0], x[3] - x[1]),
          SIMD2(x[0], x[1])
        )
      },
      along: { r in SIMD4(-r[1], r[0] + r[1], r[1] - r[0], r[0]) })
  }

  /// dM[position] (O, n) = (A dY A^T)[position] for every image's 2x2 plane of dy: the
  /// adjoint of `transformOutputs`.
  private static func transformOutputGradients(
    _ dyp: UnsafePointer<Float>, batch n: Int, channels o: Int,
    into dm: UnsafeMutablePointer<Float>
  ) {
    // A y = (y0, y0 + y1, y0 - y1, -y1): the rows of A dY are (p, q) = (a, b), (a + c,
    // b + d), (a - c, b - d), (-c, -d), and each row times A^T is (p, p + q, p - q, -q).
    transformPlanes(
      dyp, batch: n, channels: o, into: dm,
      rows: { y in
        (
          SIMD2(y[0], y[1]), SIMD2(y[0] + y[2], y[1] + y[3]), SIMD2(y[0] - y[2], y[1] - y[3]),
          SIMD2(-y[2], -y[3])
        )
      },
      along: { r in SIMD4(r[0], r[0] + r[1], r[0] - r[1], -r[1]) })
  }

  /// For every 2x2 plane (a b; c d) of `planes` (n, channels, 2, 2): `rows` gives the four
  /// rows of the transform down the plane's columns, `along` each row's four values along
  /// it; value (i, j) goes to target[4i + j] (channels, n).
  @inline(__always)
  private static func transformPlanes(
    _ planes: UnsafePointer<Float>, batch n: Int, channels c: Int,
    into target: UnsafeMutablePointer<Float>,
    rows: (SIMD4<Float>) -> (SIMD2<Float>, SIMD2<Float>, SIMD2<Float>, SIMD2<Float>),
    along: (SIMD2<Float>) -> SIMD4<Float>
  ) {
    Parallel.forEach(c, costPerItem: n * 64) { channel in
      for s in 0..<n {
        let plane = planes + (s * c + channel) * 4
        let at = target + channel * n + s
        func put(_ i: Int, _ row: SIMD2<Float>) {
          let values = along(row)
          for j in 0..<4 { at[(4 * i + j) * c * n] = values[j] }
        }
        let (r0, r1, r2, r3) = rows(SIMD4(plane[0], plane[1], plane[2], plane[3]))
        put(0, r0)
        put(1, r1)
        put(2, r2)
        put(3, r3)
      }
    }
  }

  /// U[position] (outputs.count, C) = (G g G^T)[position] for the block's channel pairs.
  private static func transformKernels(
    _ wp: UnsafePointer<Float>, inChannels c: Int, outputs: Range<Int>,
    into u: UnsafeMutablePointer<Float>
  ) {
    let (first, pairs, chunk) = (outputs.lowerBound * c, outputs.count * c, Winograd.kernelChunk)
    // Tap-major kernels (9, count), then G g (4, 3, count), then G g G^T.
    Winograd.forEachKernelChunk(pairs: pairs, floatsPerPair: 9 + 12, parallel: false) {
      start, count, taps in
      let half = taps + 9 * chunk
      Winograd.gatherTaps(wp + (first + start) * 9, count: count, into: taps)
      for column in 0..<3 {
        kernelLines(taps + column * chunk, 3 * chunk, half + column * chunk, 3 * chunk, count)
      }
      for i in 0..<4 {
        kernelLines(half + i * 3 * chunk, chunk, u + i * 4 * pairs + start, pairs, count)
      }
    }
  }

  /// y[s][o] (2x2) = (or +=) A^T M A + bias for the block's output channels, eight images
  /// at a time.
  private static func transformOutputs(
    _ product: UnsafePointer<Float>, _ bias: UnsafePointer<Float>?, batch n: Int,
    outputs: Range<Int>, outChannels o: Int, into yp: UnsafeMutablePointer<Float>,
    accumulate: Bool
  ) {
    let stride = outputs.count * n
    for out in outputs {
      let shift = bias?[out] ?? 0
      let source = product + (out - outputs.lowerBound) * n
      for k in Swift.stride(from: 0, to: n, by: 8) {
        let lanes = n - k
        // A^T m = (m0 + m1 + m2, m1 - m2 - m3) down each column, then along the rows.
        func column(_ j: Int) -> (SIMD8<Float>, SIMD8<Float>) {
          let (m0, m1, m2, m3) = (
            Lanes.load(source, j * stride + k, lanes),
            Lanes.load(source, (4 + j) * stride + k, lanes),
            Lanes.load(source, (8 + j) * stride + k, lanes),
            Lanes.load(source, (12 + j) * stride + k, lanes)
          )
          return (m0 + m1 + m2, m1 - m2 - m3)
        }
        let (c0, c1, c2, c3) = (column(0), column(1), column(2), column(3))
        let (y00, y01) = (c0.0 + c1.0 + c2.0 + shift, c1.0 - c2.0 - c3.0 + shift)
        let (y10, y11) = (c0.1 + c1.1 + c2.1 + shift, c1.1 - c2.1 - c3.1 + shift)
        for lane in 0..<min(8, lanes) {
          let target = yp + ((k + lane) * o + out) * 4
          let values = SIMD4(y00[lane], y01[lane], y10[lane], y11[lane])
          let stored = accumulate ? Winograd.load4(target) + values : values
          Winograd.store4(stored, target)
        }
      }
    }
  }

  /// dw[o][c] (3x3) = (or +=) G^T dU G for the block's channel pairs: the adjoint of
  /// `transformKernels`.
  private static func transformKernelGradients(
    _ du: UnsafePointer<Float>, inChannels c: Int, outputs: Range<Int>,
    into dwp: UnsafeMutablePointer<Float>, accumulate: Bool
  ) {
    let (first, pairs, chunk) = (outputs.lowerBound * c, outputs.count * c, Winograd.kernelChunk)
    // G^T dU down the first index (3, 4, count), then along the second: (9, count).
    Winograd.forEachKernelChunk(pairs: pairs, floatsPerPair: 12 + 9, parallel: false) {
      start, count, half in
      let taps = half + 12 * chunk
      for j in 0..<4 {
        kernelGradientLines(du + j * pairs + start, 4 * pairs, half + j * chunk, 4 * chunk, count)
      }
      for row in 0..<3 {
        kernelGradientLines(half + row * 4 * chunk, chunk, taps + row * 3 * chunk, chunk, count)
      }
      Winograd.scatterTaps(
        taps, count: count, into: dwp + (first + start) * 9, accumulate: accumulate)
    }
  }

  /// target lines (4) = G source lines (3): g0, (g0 + g1 + g2) / 2, (g0 - g1 + g2) / 2, g2.
  @inline(__always)
  private static func kernelLines(
    _ g: UnsafePointer<Float>, _ gs: Int, _ u: UnsafeMutablePointer<Float>, _ us: Int,
    _ count: Int
  ) {
    for k in stride(from: 0, to: count, by: 8) {
      let n = count - k
      let (g0, g1, g2) = (
        Lanes.load(g, k, n), Lanes.load(g, gs + k, n), Lanes.load(g, 2 * gs + k, n)
      )
      let even = g0 + g2
      Lanes.store(g0, u, k, n)
      Lanes.store((even + g1) * 0.5, u, us + k, n)
      Lanes.store((even - g1) * 0.5, u, 2 * us + k, n)
      Lanes.store(g2, u, 3 * us + k, n)
    }
  }

  /// target lines (3) = G^T source lines (4): the adjoint of `kernelLines`.
  @inline(__always)
  private static func kernelGradientLines(
    _ u: UnsafePointer<Float>, _ us: Int, _ g: UnsafeMutablePointer<Float>, _ gs: Int,
    _ count: Int
  ) {
    for k in stride(from: 0, to: count, by: 8) {
      let n = count - k
      let (u0, u1, u2, u3) = (
        Lanes.load(u, k, n), Lanes.load(u, us + k, n), Lanes.load(u, 2 * us + k, n),
        Lanes.load(u, 3 * us + k, n)
      )
      let (sum, difference) = ((u1 + u2) * 0.5, (u1 - u2) * 0.5)
      Lanes.store(u0 + sum, g, k, n)
      Lanes.store(difference, g, gs + k, n)
      Lanes.store(sum + u3, g, 2 * gs + k, n)
    }
  }
}
