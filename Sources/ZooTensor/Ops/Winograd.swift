// Winograd's minimal filtering (Lavin & Gray, "Fast Algorithms for Convolutional Neural
// Networks", 2016) for 3x3 stride-1 convolutions, F(4x4, 3x3): each 4x4 block of outputs
// comes from a 6x6 tile of input, and every (output, input) channel pair costs 36 products
// per tile instead of 144. The products are 36 GEMMs over the channels, so OpenBLAS still
// does the arithmetic. (F(2x2, 3x3) saves 2.25x instead of 4x and measured slower than
// im2col on resnet18's larger maps; it serves 2x2 maps, one tile each, in WinogradTile.swift.
// F(6x6, 3x3) rounds too coarsely in float.)
//
// Y = A^T [ (G g G^T) .* (B^T d B) ] A per tile, summed over input channels, with g the 3x3
// kernel and d the input tile. The matrices (interpolation points 0, 1, -1, 2, -2 and
// infinity) are written out as the one-dimensional transforms at the end of this file:
//   B^T = [4 0 -5 0 1 0; 0 -4 -4 1 1 0; 0 4 -4 -1 1 0; 0 -2 -1 2 1 0; 0 2 -1 -2 1 0;
//   0 4 0 -5 0 1], G = [1/4 0 0; -1/6 -1/6 -1/6; -1/6 1/6 -1/6; 1/24 1/12 1/6;
//   1/24 -1/12 1/6; 0 0 1], A^T = [1 1 1 1 1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 0; 0 1 -1 8 -8 1]

/// 3x3 stride-1 convolutions by Winograd's F(4x4, 3x3): forward, the input gradient (itself
/// a 3x3 stride-1 convolution of dy with the kernels flipped and transposed) and the weight
/// gradient (WinogradWeightGradient.swift).
public enum Winograd {
  /// Whether convolutions may use this path; tests turn it off to compare against im2col.
  /// Scoped with `$isEnabled.withValue`.
  @TaskLocal public static var isEnabled = true

  /// Channels below this (in or out) make GEMMs too thin to repay the transforms. Forward and
  /// backward, 16-channel layers ran 18-25% faster this way on 128x128 maps (a U-Net's top,
  /// batch 4) and the same on 28x28 (resnet20's, batch 64); 8-channel ones gained 7%.
  static let minimumChannels = 16

  /// Outputs per tile side, and inputs per tile side.
  static let m = 4
  static let alpha = 6

  /// The kernels' transform costs about as much per channel pair as the products of 16
  /// tiles.
  static let kernelTransformTiles = 16

  /// How many times fewer products than im2col's Winograd must need, the kernels' transform
  /// included, to be worth taking. Measured forward and backward, interleaved: resnet18's
  /// 7x7 maps with 512 channels in batches of 8 (2.04 times fewer) ran 1.5x as fast
  /// forward and 1.2x training, AlexNet's 13x13 maps in batches of 4 (2.11) 1.7x and 1.4x,
  /// 64-channel 7x7 maps (2.04) 1.08x; a U-Net's 8x8 bottom in batches of 4 (exactly 2)
  /// trained 12% slower.
  static let minimumSaving = 2.0

  /// Whether a convolution of `g`'s geometry with `o` output channels over a batch of `n`
  /// goes this way: per channel pair, im2col multiplies 9 times per output, Winograd 36 times
  /// per tile (whole tiles, also where they overhang the map) plus the kernels' transform.
  /// A data-parallel shard chooses by its global batch, as one process would.
  static func applies(batch shard: Int, outChannels o: Int, _ g: Im2Col.Geometry) -> Bool {
    let n = BatchShard.planningBatch(shard)
    guard isEnabled, isThreeByThreeStrideOne(g), g.channels >= minimumChannels,
      o >= minimumChannels
    else { return false }
    let tiles = n * ((g.outHeight + m - 1) / m) * ((g.outWidth + m - 1) / m)
    let products = Double(n * g.outArea * 9)
    return products > minimumSaving * Double(alpha * alpha * (tiles + kernelTransformTiles))
  }

  /// A 3x3 kernel at stride 1 without dilation, padded by at most 2 (so that its input
  /// gradient, padded by 2 - padding, is one too).
  private static func isThreeByThreeStrideOne(_ g: Im2Col.Geometry) -> Bool {
    g.kernelHeight == 3 && g.kernelWidth == 3 && g.strideHeight == 1 && g.strideWidth == 1
      && g.dilation == 1 && g.paddingHeight == g.paddingWidth && g.paddingHeight <= 2
  }

  /// The input gradient of a 3x3 stride-1 convolution as a convolution of its own: dy (o
  /// channels, outHeight x outWidth) to dx (channels, height x width), padding 2 - padding,
  /// kernels flipped and transposed; nil for other convolutions.
  static func inputGradient(batch n: Int, outChannels o: Int, _ g: Im2Col.Geometry)
    -> Im2Col.Geometry?
  {
    guard isThreeByThreeStrideOne(g) else { return nil }
    let gradient = Im2Col.Geometry(
      channels: o, height: g.outHeight, width: g.outWidth, kernelHeight: 3, kernelWidth: 3,
      strideHeight: 1, strideWidth: 1, paddingHeight: 2 - g.paddingHeight,
      paddingWidth: 2 - g.paddingWidth, dilation: 1, outHeight: g.height, outWidth: g.width)
    return applies(batch: n, outChannels: g.channels, gradient) ? gradient : nil
  }

  /// y (n, o, outHeight, outWidth) = (or +=, when `accumulate`) bias + conv(x, w), x (n, c, h,
  /// w). `w` is (o, c, 3, 3), or with `flipped` (c, o, 3, 3) read as w[c][o] rotated by 180
  /// degrees: the input gradient's kernels.
  static func convolve(
    _ xp: UnsafePointer<Float>, _ wp: UnsafePointer<Float>, _ bias: UnsafePointer<Float>?,
    _ yp: UnsafeMutablePointer<Float>, batch n: Int, outChannels o: Int, _ g: Im2Col.Geometry,
    flipped: Bool = false, accumulate: Bool = false
  ) {
    if flipped {
      return withFlipped(wp, outChannels: o, inChannels: g.channels) { kernels in
        convolve(xp, kernels, bias, yp, batch: n, outChannels: o, g, accumulate: accumulate)
      }
    }
    let layout = TileLayout(batch: n, g)
    // Tiles' V and M against the kernels' U; at equality (resnet18's 256-channel 14x14
    // layers at 224 px in batches of 8) blocks of output channels ran 30% faster.
    if layout.totalTiles * (g.channels + o) <= o * g.channels {
      convolveByOutputs(xp, wp, bias, yp, outChannels: o, layout, accumulate: accumulate)
    } else {
      convolveByTiles(xp, wp, bias, yp, outChannels: o, layout, accumulate: accumulate)
    }
  }

  /// Runs `body` with kernels[o][c] = w[c][o] rotated by 180 degrees, w (c, o, 3, 3): the
  /// input gradient's kernels, rotated and transposed once, in blocks. The kernel transform
  /// reading w[c][o] in place went through memory `o` kernels apart and waited on every load.
  static func withFlipped(
    _ wp: UnsafePointer<Float>, outChannels o: Int, inChannels c: Int,
    _ body: (UnsafePointer<Float>) -> Void
  ) {
    Scratch.withBuffer(o * c * 9) { kernels in
      flip(wp, outChannels: o, inChannels: c, into: kernels)
      body(kernels)
    }
  }

  /// kernels[o][c] = w[c][o] rotated by 180 degrees, w (c, o, 3, 3), in 16x16 blocks of
  /// kernels so that both sides stay in cache.
  private static func flip(
    _ wp: UnsafePointer<Float>, outChannels o: Int, inChannels c: Int,
    into kernels: UnsafeMutablePointer<Float>
  ) {
    let block = 16
    Parallel.forEach((o + block - 1) / block, costPerItem: block * c * 9) { outBlock in
      let outs = (outBlock * block)..<min((outBlock + 1) * block, o)
      for first in stride(from: 0, to: c, by: block) {
        for input in first..<min(first + block, c) {
          for out in outs {
            let (from, to) = (wp + (input * o + out) * 9, kernels + (out * c + input) * 9)
            for tap in 0..<9 { to[tap] = from[8 - tap] }
          }
        }
      }
    }
  }

  /// Each core takes blocks of tile rows through the input transform, the 36 GEMMs and the
  /// output transform without leaving its cache; every block reads all of U.
  private static func convolveByTiles(
    _ xp: UnsafePointer<Float>, _ wp: UnsafePointer<Float>, _ bias: UnsafePointer<Float>?,
    _ yp: UnsafeMutablePointer<Float>, outChannels o: Int, _ layout: TileLayout,
    accumulate: Bool
  ) {
    let c = layout.g.channels
    let positions = alpha * alpha
    Scratch.withBuffer(positions * o * c) { u in
      transformKernels(
        wp, inChannels: c, outputs: 0..<o, into: u)
      // Per tile: V (c), M (o) and the tiles' columns (1), each for 36 positions.
      let floatsPerTile = positions * (c + o + 1)
      let rowsPerBlock = layout.rowsPerBlock(floatsPerTile: floatsPerTile)
      let blocks = (layout.totalRows + rowsPerBlock - 1) / rowsPerBlock
      Parallel.forEach(blocks, costPerItem: 1 << 20) { block in
        let rows = (block * rowsPerBlock)..<min((block + 1) * rowsPerBlock, layout.totalRows)
        let tiles = rows.count * layout.tilesWide
        // V, M, then work space for the transforms.
        Scratch.withBuffer(positions * (c + o) * tiles + layout.workFloats(tiles: tiles)) { v in
          let product = v + positions * c * tiles
          let work = product + positions * o * tiles
          transformInput(xp, rows: rows, layout, into: v, ld: tiles, work: work)
          multiply(
            u, v, into: product, positions: positions, outputs: o, inChannels: c, tiles: tiles)
          transformOutput(
            product, bias, rows: rows, outputs: 0..<o, outChannels: o, layout, into: yp,
            ld: tiles, work: work, accumulate: accumulate)
        }
      }
    }
  }

  /// Few tiles for many channels (resnet18's last stages): U, 36 floats per channel pair,
  /// outweighs the tiles' V and M, and each block of tiles would read all of it from memory.
  /// So V is made once for all tiles, and each core takes blocks of output channels: their
  /// kernels' transform, GEMMs and output transform stay in its cache.
  private static func convolveByOutputs(
    _ xp: UnsafePointer<Float>, _ wp: UnsafePointer<Float>, _ bias: UnsafePointer<Float>?,
    _ yp: UnsafeMutablePointer<Float>, outChannels o: Int, _ layout: TileLayout,
    accumulate: Bool
  ) {
    let (c, tiles) = (layout.g.channels, layout.totalTiles)
    let positions = alpha * alpha
    Scratch.withBuffer(positions * c * tiles) { v in
      forEachBlock(of: 0..<layout.totalRows, layout) { rows, offset, work in
        transformInput(xp, rows: rows, layout, into: v + offset, ld: tiles, work: work)
      }
      // U and M of the block's channels, then work space for the output transform.
      forEachOutputBlock(
        outChannels: o, floatsPerOutput: positions * (c + tiles),
        extraFloats: layout.workFloats(tiles: tiles)
      ) { outputs, u in
        let count = outputs.count
        let product = u + positions * count * c
        let work = product + positions * count * tiles
        transformKernels(wp, inChannels: c, outputs: outputs, into: u, parallel: false)
        multiply(
          u, v, into: product, positions: positions, outputs: count, inChannels: c, tiles: tiles)
        transformOutput(
          product, bias, rows: 0..<layout.totalRows, outputs: outputs, outChannels: o, layout,
          into: yp, ld: tiles, work: work, accumulate: accumulate)
      }
    }
  }

  /// Calls `body(outputs, scratch)` for blocks of output channels over the cores, each with
  /// `floatsPerOutput * outputs.count + extraFloats` floats of scratch: blocks whose share of
  /// the transformed kernels and products fits the core's share of cache.
  static func forEachOutputBlock(
    outChannels o: Int, floatsPerOutput: Int, extraFloats: Int = 0,
    _ body: (Range<Int>, UnsafeMutablePointer<Float>) -> Void
  ) {
    let perBlock = max(1, min(o, Im2Col.cacheFloats / floatsPerOutput))
    let blocks = (o + perBlock - 1) / perBlock
    Parallel.forEach(blocks, costPerItem: 1 << 20) { block in
      let outputs = (block * perBlock)..<min((block + 1) * perBlock, o)
      Scratch.withBuffer(floatsPerOutput * outputs.count + extraFloats) { body(outputs, $0) }
    }
  }

  /// M[position] (outputs, tiles) = U[position] (outputs, C) V[position] (C, tiles) for each
  /// of the transform's `positions`.
  static func multiply(
    _ u: UnsafePointer<Float>, _ v: UnsafePointer<Float>, into product: UnsafeMutablePointer<Float>,
    positions: Int, outputs o: Int, inChannels c: Int, tiles: Int
  ) {
    for position in 0..<positions {
      BLAS.serialGemm(
        m: o, n: tiles, k: c, a: u + position * o * c, lda: c, b: v + position * c * tiles,
        ldb: tiles, c: product + position * o * tiles, ldc: tiles)
    }
  }

  /// Calls `body(part, offset, work)` for blocks of the tile rows `rows`, over the cores: the
  /// block's rows, the index of its first tile among `rows`' tiles, and work space for one
  /// transform of the block. Each tile's transform is its own, so the cut changes nothing.
  static func forEachBlock(
    of rows: Range<Int>, _ layout: TileLayout,
    _ body: (Range<Int>, Int, UnsafeMutablePointer<Float>) -> Void
  ) {
    let blocks = min(rows.count, 4 * Parallel.threadCount)
    Parallel.forEach(blocks, costPerItem: 1 << 20) { block in
      let first = rows.lowerBound + rows.count * block / blocks
      let part = first..<(rows.lowerBound + rows.count * (block + 1) / blocks)
      Scratch.withBuffer(layout.workFloats(tiles: part.count * layout.tilesWide)) { work in
        body(part, (first - rows.lowerBound) * layout.tilesWide, work)
      }
    }
  }

  /// How output tiles cover a batch: rows of tiles, `tilesHigh` per sample, numbered
  /// across the batch so a block of rows may span samples.
  struct TileLayout {
    let batch: Int
    let g: Im2Col.Geometry
    let tilesHigh: Int
    let tilesWide: Int

    init(batch: Int, _ g: Im2Col.Geometry) {
      (self.batch, self.g) = (batch, g)
      tilesHigh = (g.outHeight + m - 1) / m
      tilesWide = (g.outWidth + m - 1) / m
    }

    var totalRows: Int { batch * tilesHigh }
    var totalTiles: Int { totalRows * tilesWide }
    /// Tiles in groups of four, one past the last tile included: its first two columns are
    /// the last tile's fifth and sixth.
    var groups: Int { tilesWide / m + 1 }
    /// Width of an input row as the groups read it: padding, the overhang, then zeros.
    var paddedWidth: Int { groups * m * m }

    /// Work space for transforming a block of `tiles` tiles, either way: the tiles' columns
    /// for 36 positions (with a group's slack) and two rows of transformed lines.
    func workFloats(tiles: Int) -> Int { alpha * alpha * (tiles + m) + 2 * alpha * paddedWidth }

    /// Tile rows per task: the block's transformed tiles and products fit the core's share of
    /// cache, but enough tiles for a useful GEMM and enough tasks for every core.
    func rowsPerBlock(floatsPerTile: Int) -> Int {
      let fitting = 2 * Im2Col.cacheFloats / max(1, floatsPerTile * tilesWide)
      let useful = (64 + tilesWide - 1) / tilesWide
      let balanced = (totalRows + 2 * Parallel.threadCount - 1) / (2 * Parallel.threadCount)
      return max(1, min(max(fitting, useful), balanced, totalRows))
    }
  }

  /// U[position] (outputs.count, inChannels) = (G g G^T)[position] for every channel pair of
  /// the output channels `outputs`, in chunks over the cores or one after another.
  private static func transformKernels(
    _ wp: UnsafePointer<Float>, inChannels c: Int, outputs: Range<Int>,
    into u: UnsafeMutablePointer<Float>, parallel: Bool = true
  ) {
    let (first, pairs, chunk) = (outputs.lowerBound * c, outputs.count * c, kernelChunk)
    // Tap-major kernels (9, count), then G g (alpha, 3, count), then G g G^T.
    forEachKernelChunk(pairs: pairs, floatsPerPair: 9 + 3 * alpha, parallel: parallel) {
      start, count, taps in
      let half = taps + 9 * chunk
      gatherTaps(wp + (first + start) * 9, count: count, into: taps)
      for column in 0..<3 {
        kernelLines(
          taps + column * chunk, 3 * chunk, half + column * chunk, 3 * chunk, count: count)
      }
      for i in 0..<alpha {
        kernelLines(
          half + i * 3 * chunk, chunk, u + i * alpha * pairs + start, pairs, count: count)
      }
    }
  }

  /// Channel pairs a kernel transform takes at once, tap-major in a few kilobytes of scratch.
  static let kernelChunk = 256

  /// Calls `body(start, count, scratch)` for the chunks of `kernelChunk` channel pairs of
  /// `0..<pairs`, over the cores or one after another, each with `floatsPerPair *
  /// kernelChunk` floats of scratch.
  static func forEachKernelChunk(
    pairs: Int, floatsPerPair: Int, parallel: Bool,
    _ body: (Int, Int, UnsafeMutablePointer<Float>) -> Void
  ) {
    let parts = (pairs + kernelChunk - 1) / kernelChunk
    Parallel.forEach(parts, costPerItem: kernelChunk * 128, parallel: parallel) { part in
      let start = part * kernelChunk
      Scratch.withBuffer(floatsPerPair * kernelChunk) {
        body(start, min(kernelChunk, pairs - start), $0)
      }
    }
  }

  /// taps (9, kernelChunk) = `count` consecutive 3x3 kernels from `kernels`, tap-major.
  static func gatherTaps(
    _ kernels: UnsafePointer<Float>, count: Int, into taps: UnsafeMutablePointer<Float>
  ) {
    for local in 0..<count {
      for tap in 0..<9 { taps[tap * kernelChunk + local] = kernels[local * 9 + tap] }
    }
  }

  /// `count` consecutive 3x3 kernels at `kernels` = (or +=, with `accumulate`) taps (9,
  /// kernelChunk): the reverse of `gatherTaps`.
  static func scatterTaps(
    _ taps: UnsafePointer<Float>, count: Int, into kernels: UnsafeMutablePointer<Float>,
    accumulate: Bool
  ) {
    for local in 0..<count {
      let target = kernels + local * 9
      for tap in 0..<9 {
        let value = taps[tap * kernelChunk + local]
        if accumulate { target[tap] += value } else { target[tap] = value }
      }
    }
  }

  /// V[position] (C, ld) = (B^T d B)[position] for every input tile of the block's rows, the
  /// block's tiles in its first columns.
  static func transformInput(
    _ xp: UnsafePointer<Float>, rows: Range<Int>, _ layout: TileLayout,
    into v: UnsafeMutablePointer<Float>, ld: Int, work: UnsafeMutablePointer<Float>
  ) {
    let g = layout.g
    let (width, wide) = (layout.paddedWidth, layout.tilesWide)
    let tiles = rows.count * wide
    // The tiles' columns, (alpha, alpha, tiles + m): column q of row i of every tile's B^T d,
    // with room for the last group's overhang.
    let (columns, stride) = (work, tiles + m)
    let padded = columns + alpha * alpha * stride
    let mixed = padded + alpha * width
    for channel in 0..<g.channels {
      for row in rows {
        let (s, tileRow) = row.quotientAndRemainder(dividingBy: layout.tilesHigh)
        let plane = xp + (s * g.channels + channel) * g.imageArea
        // The tile row's alpha input rows, zero outside the image.
        for r in 0..<alpha {
          let target = padded + r * width
          let y = tileRow * m - g.paddingHeight + r
          guard y >= 0, y < g.height else {
            target.update(repeating: 0, count: width)
            continue
          }
          let first = min(width, g.paddingWidth)
          target.update(repeating: 0, count: first)
          let copied = max(0, min(g.width, width - first))
          (target + first).update(from: plane + y * g.width, count: copied)
          let rest = width - first - copied
          if rest > 0 { (target + first + copied).update(repeating: 0, count: rest) }
        }
        // B^T d down the columns, the whole row of tiles at once.
        inputLines(padded, width, mixed, width, count: width)
        // Columns 0-3 of four tiles are a 4x4 transpose; columns 4 and 5 are columns 0 and 1
        // of the next tile, so they go one tile earlier. Rows go in order, so a group's
        // overhang into the next row is overwritten by that row, and the first group leaves
        // the previous row's last tile alone.
        let offset = (row - rows.lowerBound) * wide
        for i in 0..<alpha {
          let source = mixed + i * width
          let target = columns + i * alpha * stride + offset
          for group in 0..<layout.groups {
            let at = source + group * m * m
            let (q0, q1, q2, q3) = transposed(
              load4(at), load4(at + m), load4(at + 2 * m), load4(at + 3 * m))
            let tile = target + group * m
            store4(q0, tile)
            store4(q1, tile + stride)
            store4(q2, tile + 2 * stride)
            store4(q3, tile + 3 * stride)
            if group > 0 {
              store4(q0, tile + 4 * stride - 1)
              store4(q1, tile + 5 * stride - 1)
            } else {
              for lane in 1..<m {
                tile[4 * stride + lane - 1] = q0[lane]
                tile[5 * stride + lane - 1] = q1[lane]
              }
            }
          }
        }
      }
      // ... then d B along the rows, every tile of the block at once.
      for i in 0..<alpha {
        inputLines(
          columns + i * alpha * stride, stride, v + (i * alpha * g.channels + channel) * ld,
          g.channels * ld, count: tiles)
      }
    }
  }

  /// y tiles = A^T M A (+ bias) for the output channels `outputs` of the block's rows, from
  /// M[position] (outputs.count, ld) with the block's tiles in its first columns.
  private static func transformOutput(
    _ product: UnsafePointer<Float>, _ bias: UnsafePointer<Float>?, rows: Range<Int>,
    outputs: Range<Int>, outChannels o: Int, _ layout: TileLayout,
    into yp: UnsafeMutablePointer<Float>, ld: Int, work: UnsafeMutablePointer<Float>,
    accumulate: Bool
  ) {
    let g = layout.g
    let wide = layout.tilesWide
    let tiles = rows.count * wide
    let (half, values) = (work, work + m * alpha * tiles)
    // Groups of four tiles; the last may read past the row's tiles (into the next row, or
    // the work space after `values`) and keeps only its columns inside the output.
    let groups = (wide + m - 1) / m
    let count = outputs.count
    for out in outputs {
      // A^T M down the first index: half[a][j] (tiles)...
      for j in 0..<alpha {
        outputLines(
          product + (j * count + out - outputs.lowerBound) * ld, alpha * count * ld,
          half + j * tiles, alpha * tiles,
          count: tiles)
      }
      let shift = bias?[out] ?? 0
      for a in 0..<m {
        // ... then M A along the second: output (a, b) of every tile in values[b].
        outputLines(half + a * alpha * tiles, tiles, values, tiles, count: tiles)
        for row in rows {
          let (s, tileRow) = row.quotientAndRemainder(dividingBy: layout.tilesHigh)
          let y = tileRow * m + a
          guard y < g.outHeight else { continue }
          let line = yp + ((s * o + out) * g.outHeight + y) * g.outWidth
          let source = values + (row - rows.lowerBound) * wide
          for group in 0..<groups {
            // Outputs b of four tiles to the tiles' four outputs each: a 4x4 transpose.
            let first = source + group * m
            let fours = transposed(
              load4(first), load4(first + tiles), load4(first + 2 * tiles),
              load4(first + 3 * tiles))
            // Tile k's outputs go to columns 4k..., as many as fall inside the output.
            let columns = g.outWidth - group * m * m
            func put(_ four: SIMD4<Float>, tile k: Int) {
              let (at, count) = (line + group * m * m + k * m, columns - k * m)
              if count >= m {
                store4(accumulate ? load4(at) + (four + shift) : four + shift, at)
              } else {
                for x in 0..<max(0, count) {
                  if accumulate { at[x] += four[x] + shift } else { at[x] = four[x] + shift }
                }
              }
            }
            put(fours.0, tile: 0)
            put(fours.1, tile: 1)
            put(fours.2, tile: 2)
            put(fours.3, tile: 3)
          }
        }
      }
    }
  }

  @inline(__always)
  static func load4(_ p: UnsafePointer<Float>) -> SIMD4<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD4<Float>.self)
  }

  @inline(__always)
  static func store4(_ lanes: SIMD4<Float>, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: lanes, as: SIMD4<Float>.self)
  }

  /// Columns of the 4x4 matrix whose rows are `a`...`d`.
  @inline(__always)
  static func transposed(
    _ a: SIMD4<Float>, _ b: SIMD4<Float>, _ c: SIMD4<Float>, _ d: SIMD4<Float>
  ) -> (SIMD4<Float>, SIMD4<Float>, SIMD4<Float>, SIMD4<Float>) {
    (
      SIMD4(a[0], b[0], c[0], d[0]), SIMD4(a[1], b[1], c[1], d[1]),
      SIMD4(a[2], b[2], c[2], d[2]), SIMD4(a[3], b[3], c[3], d[3])
    )
  }

  // The one-dimensional transforms, applied to `count` lanes eight at a time (explicit
  // vectors: the compiler left the strided scalar loops unvectorised): line k of a source or
  // target starts `stride * k` floats after its first line.

  /// target lines (alpha) = B^T source lines (alpha).
  @inline(__always)
  private static func inputLines(
    _ d: UnsafePointer<Float>, _ ds: Int, _ r: UnsafeMutablePointer<Float>, _ rs: Int,
    count: Int
  ) {
    for k in stride(from: 0, to: count, by: 8) {
      let n = count - k
      let (d0, d1, d2, d3, d4, d5) = (
        Lanes.load(d, k, n), Lanes.load(d, ds + k, n), Lanes.load(d, 2 * ds + k, n),
        Lanes.load(d, 3 * ds + k, n), Lanes.load(d, 4 * ds + k, n), Lanes.load(d, 5 * ds + k, n)
      )
      Lanes.store(4 * d0 - 5 * d2 + d4, r, k, n)
      Lanes.store(-4 * (d1 + d2) + d3 + d4, r, rs + k, n)
      Lanes.store(4 * (d1 - d2) - d3 + d4, r, 2 * rs + k, n)
      Lanes.store(2 * (d3 - d1) - d2 + d4, r, 3 * rs + k, n)
      Lanes.store(2 * (d1 - d3) - d2 + d4, r, 4 * rs + k, n)
      Lanes.store(4 * d1 - 5 * d3 + d5, r, 5 * rs + k, n)
    }
  }

  /// target lines (alpha) = G source lines (3).
  @inline(__always)
  private static func kernelLines(
    _ g: UnsafePointer<Float>, _ gs: Int, _ u: UnsafeMutablePointer<Float>, _ us: Int,
    count: Int
  ) {
    for k in stride(from: 0, to: count, by: 8) {
      let n = count - k
      let (g0, g1, g2) = (
        Lanes.load(g, k, n), Lanes.load(g, gs + k, n), Lanes.load(g, 2 * gs + k, n)
      )
      let (even, odd) = (g0 + g2, g1)
      Lanes.store(g0 / 4, u, k, n)
      Lanes.store(-(even + odd) / 6, u, us + k, n)
      Lanes.store(-(even - odd) / 6, u, 2 * us + k, n)
      Lanes.store(g0 / 24 + g1 / 12 + g2 / 6, u, 3 * us + k, n)
      Lanes.store(g0 / 24 - g1 / 12 + g2 / 6, u, 4 * us + k, n)
      Lanes.store(g2, u, 5 * us + k, n)
    }
  }

  /// target lines (m) = A^T source lines (alpha).
  @inline(__always)
  private static func outputLines(
    _ p: UnsafePointer<Float>, _ ps: Int, _ o: UnsafeMutablePointer<Float>, _ os: Int,
    count: Int
  ) {
    for k in stride(from: 0, to: count, by: 8) {
      let n = count - k
      let (p0, p1, p2, p3, p4, p5) = (
        Lanes.load(p, k, n), Lanes.load(p, ps + k, n), Lanes.load(p, 2 * ps + k, n),
        Lanes.load(p, 3 * ps + k, n), Lanes.load(p, 4 * ps + k, n), Lanes.load(p, 5 * ps + k, n)
      )
      let (sum12, difference12, sum34, difference34) = (p1 + p2, p1 - p2, p3 + p4, p3 - p4)
      Lanes.store(p0 + sum12 + sum34, o, k, n)
      Lanes.store(difference12 + 2 * difference34, o, os + k, n)
      Lanes.store(sum12 + 4 * sum34, o, 2 * os + k, n)
      Lanes.store(difference12 + 8 * difference34 + p5, o, 3 * os + k, n)
    }
  }
}
