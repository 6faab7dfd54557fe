// The weight gradient of Winograd's F(4x4, 3x3), from the forward's transforms run backwards.
// Per tile the forward is Y = A^T [ U .* V ] A with U = G g G^T and V = B^T d B, so
//   dg = G^T [ sum over tiles of (A dY A^T) .* V ] G,
// and for each of the 36 positions the sum over tiles and input channels is one GEMM:
// dU[position] (O, C) = dM[position] (O, tiles) V[position]^T (tiles, C), dM = A dY A^T.
// im2col's weight gradient costs 144 products per tile and channel pair; this one costs 36.

extension Winograd {
  /// dw (o, c, 3, 3) = (or +=, with `accumulate`) the weight gradient of `convolve` for the
  /// output gradient dy (n, o, outHeight, outWidth) and the input x (n, c, height, width).
  static func weightGradient(
    _ dyp: UnsafePointer<Float>, _ xp: UnsafePointer<Float>, _ dwp: UnsafeMutablePointer<Float>,
    batch n: Int, outChannels o: Int, _ g: Im2Col.Geometry, accumulate: Bool
  ) {
    let c = g.channels
    let positions = alpha * alpha
    let layout = TileLayout(batch: n, g)
    // Chunks of tile rows whose V and dM fit the column budget, one after another. The cut
    // depends on the shapes only, so the sums do not depend on the number of threads.
    let floatsPerRow = positions * (c + o) * layout.tilesWide
    let rowsPerChunk = max(1, min(layout.totalRows, Im2Col.columnBudget / floatsPerRow))
    if rowsPerChunk == layout.totalRows && layout.totalTiles * (c + o) < o * c {
      return weightGradientByOutputs(dyp, xp, dwp, outChannels: o, layout, accumulate: accumulate)
    }
    Scratch.withBuffer(positions * o * c) { du in
      Scratch.withBuffer(floatsPerRow * rowsPerChunk) { v in
        for first in stride(from: 0, to: layout.totalRows, by: rowsPerChunk) {
          let rows = first..<min(first + rowsPerChunk, layout.totalRows)
          let tiles = rows.count * layout.tilesWide
          let dm = v + positions * c * tiles
          forEachBlock(of: rows, layout) { part, offset, work in
            transformInput(xp, rows: part, layout, into: v + offset, ld: tiles, work: work)
            transformOutputGradient(
              dyp, rows: part, outChannels: o, layout, into: dm + offset, ld: tiles, work: work)
          }
          Parallel.forEach(positions, costPerItem: o * c * tiles) { position in
            // dU[position] (O, C) (+)= dM[position] (O, tiles) V[position]^T (tiles, C)
            BLAS.serialGemm(
              transposeB: true, m: o, n: c, k: tiles, a: dm + position * o * tiles, lda: tiles,
              b: v + position * c * tiles, ldb: tiles, beta: first == 0 ? 0 : 1,
              c: du + position * o * c, ldc: c)
          }
        }
      }
      transformKernelGradients(
        du, outputs: 0..<o, inChannels: c, into: dwp, accumulate: accumulate)
    }
  }

  /// Few tiles for many channels, as in `convolveByOutputs`: V and dM are made once for all
  /// tiles, and each core takes blocks of output channels, whose dU stays in its cache from
  /// the GEMMs to the kernels' gradient transform.
  private static func weightGradientByOutputs(
    _ dyp: UnsafePointer<Float>, _ xp: UnsafePointer<Float>, _ dwp: UnsafeMutablePointer<Float>,
    outChannels o: Int, _ layout: TileLayout, accumulate: Bool
  ) {
    let (c, tiles) = (layout.g.channels, layout.totalTiles)
    let positions = alpha * alpha
    Scratch.withBuffer(positions * (c + o) * tiles) { v in
      let dm = v + positions * c * tiles
      forEachBlock(of: 0..<layout.totalRows, layout) { part, offset, work in
        transformInput(xp, rows: part, layout, into: v + offset, ld: tiles, work: work)
        transformOutputGradient(
          dyp, rows: part, outChannels: o, layout, into: dm + offset, ld: tiles, work: work)
      }
      forEachOutputBlock(outChannels: o, floatsPerOutput: positions * c) { outputs, du in
        multiplyGradients(
          dm, v, into: du, positions: positions, outputs: outputs, outChannels: o, inChannels: c,
          tiles: tiles)
        transformKernelGradients(
          du, outputs: outputs, inChannels: c, into: dwp, accumulate: accumulate, parallel: false)
      }
    }
  }

  /// dU[position] (outputs.count, C) = dM[position][outputs] (outputs.count, tiles)
  /// V[position]^T (tiles, C) for each of the transform's `positions`; dM (positions, O,
  /// tiles), V (positions, C, tiles).
  static func multiplyGradients(
    _ dm: UnsafePointer<Float>, _ v: UnsafePointer<Float>, into du: UnsafeMutablePointer<Float>,
    positions: Int, outputs: Range<Int>, outChannels o: Int, inChannels c: Int, tiles: Int
  ) {
    let count = outputs.count
    for position in 0..<positions {
      BLAS.serialGemm(
        transposeB: true, m: count, n: c, k: tiles,
        a: dm + (position * o + outputs.lowerBound) * tiles, lda: tiles,
        b: v + position * c * tiles, ldb: tiles, c: du + position * count * c, ldc: c)
    }
  }

  /// dM[position] (O, ld) = (A dY A^T)[position] for every output tile of the block's rows,
  /// outputs beyond the map taken as zero: the adjoint of `transformOutput`.
  private static func transformOutputGradient(
    _ dyp: UnsafePointer<Float>, rows: Range<Int>, outChannels o: Int, _ layout: TileLayout,
    into dm: UnsafeMutablePointer<Float>, ld: Int, work: UnsafeMutablePointer<Float>
  ) {
    let g = layout.g
    let (width, wide) = (layout.paddedWidth, layout.tilesWide)
    let tiles = rows.count * wide
    // The tiles' columns (alpha, m, tiles + m), with room for the last group's overhang; then
    // a tile row's m rows of dy, zero past the map, and their alpha combinations.
    let (columns, stride) = (work, tiles + m)
    let lines = columns + alpha * m * stride
    let expanded = lines + m * width
    for out in 0..<o {
      for row in rows {
        let (s, tileRow) = row.quotientAndRemainder(dividingBy: layout.tilesHigh)
        let plane = dyp + (s * o + out) * g.outArea
        for a in 0..<m {
          let target = lines + a * width
          let y = tileRow * m + a
          guard y < g.outHeight else {
            target.update(repeating: 0, count: width)
            continue
          }
          target.update(from: plane + y * g.outWidth, count: g.outWidth)
          (target + g.outWidth).update(repeating: 0, count: width - g.outWidth)
        }
        // A dY down the columns, the whole row of tiles at once; then each tile's four
        // columns to the tiles' columns by 4x4 transposes. Rows go in order, so a last
        // partial group's overhang into the next row is overwritten by that row.
        outputGradientLines(lines, width, expanded, width, count: width)
        let offset = (row - rows.lowerBound) * wide
        for i in 0..<alpha {
          let source = expanded + i * width
          let target = columns + i * m * stride + offset
          for group in 0..<((wide + m - 1) / m) {
            let at = source + group * m * m
            let (q0, q1, q2, q3) = transposed(
              load4(at), load4(at + m), load4(at + 2 * m), load4(at + 3 * m))
            let tile = target + group * m
            store4(q0, tile)
            store4(q1, tile + stride)
            store4(q2, tile + 2 * stride)
            store4(q3, tile + 3 * stride)
          }
        }
      }
      // ... then dY A^T along the rows, every tile of the block at once.
      for i in 0..<alpha {
        outputGradientLines(
          columns + i * m * stride, stride, dm + (i * alpha * o + out) * ld, o * ld, count: tiles)
      }
    }
  }

  /// dw[o][c] (3x3) = (or +=) G^T dU[position][o][c] G for every channel pair of the output
  /// channels `outputs`, from dU (36, outputs.count, inChannels): the adjoint of
  /// `transformKernels`, in chunks over the cores or one after another.
  private static func transformKernelGradients(
    _ du: UnsafePointer<Float>, outputs: Range<Int>, inChannels c: Int,
    into dwp: UnsafeMutablePointer<Float>, accumulate: Bool, parallel: Bool = true
  ) {
    let (first, pairs, chunk) = (outputs.lowerBound * c, outputs.count * c, kernelChunk)
    // G^T dU down the first index (3, alpha, count), then along the second: tap-major
    // gradients (9, count).
    forEachKernelChunk(pairs: pairs, floatsPerPair: 3 * alpha + 9, parallel: parallel) {
      start, count, half in
      let taps = half + 3 * alpha * chunk
      for j in 0..<alpha {
        kernelGradientLines(
          du + j * pairs + start, alpha * pairs, half + j * chunk, alpha * chunk, count: count)
      }
      for row in 0..<3 {
        kernelGradientLines(
          half + row * alpha * chunk, chunk, taps + row * 3 * chunk, chunk, count: count)
      }
      scatterTaps(taps, count: count, into: dwp + (first + start) * 9, accumulate: accumulate)
    }
  }

  /// target lines (alpha) = A source lines (m): the adjoint of `outputLines`.
  @inline(__always)
  private static func outputGradientLines(
    _ y: UnsafePointer<Float>, _ ys: Int, _ p: UnsafeMutablePointer<Float>, _ ps: Int,
    count: Int
  ) {
    for k in stride(from: 0, to: count, by: 8) {
      let n = count - k
      let (y0, y1, y2, y3) = (
        Lanes.load(y, k, n), Lanes.load(y, ys + k, n), Lanes.load(y, 2 * ys + k, n),
        Lanes.load(y, 3 * ys + k, n)
      )
      let (even, odd, evenFour, oddTwo) = (y0 + y2, y1 + y3, y0 + 4 * y2, 2 * y1 + 8 * y3)
      Lanes.store(y0, p, k, n)
      Lanes.store(even + odd, p, ps + k, n)
      Lanes.store(even - odd, p, 2 * ps + k, n)
      Lanes.store(evenFour + oddTwo, p, 3 * ps + k, n)
      Lanes.store(evenFour - oddTwo, p, 4 * ps + k, n)
      Lanes.store(y3, p, 5 * ps + k, n)
    }
  }

  /// target lines (3) = G^T source lines (alpha): the adjoint of `kernelLines`.
  @inline(__always)
  private static func kernelGradientLines(
    _ u: UnsafePointer<Float>, _ us: Int, _ g: UnsafeMutablePointer<Float>, _ gs: Int,
    count: Int
  ) {
    for k in stride(from: 0, to: count, by: 8) {
      let n = count - k
      let (u0, u1, u2, u3, u4, u5) = (
        Lanes.load(u, k, n), Lanes.load(u, us + k, n), Lanes.load(u, 2 * us + k, n),
        Lanes.load(u, 3 * us + k, n), Lanes.load(u, 4 * us + k, n), Lanes.load(u, 5 * us + k, n)
      )
      let (sum12, sum34) = (u1 + u2, u3 + u4)
      Lanes.store(u0 / 4 - sum12 / 6 + sum34 / 24, g, k, n)
      Lanes.store((u2 - u1) / 6 + (u3 - u4) / 12, g, gs + k, n)
      Lanes.store((sum34 - sum12) / 6 + u5, g, 2 * gs + k, n)
    }
  }
}
