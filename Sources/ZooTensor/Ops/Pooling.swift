// Max, average and adaptive average pooling: (N, C, H, W) -> (N, C, OH, OW), plane by plane,
// with PyTorch's output sizes and windows.

/// PyTorch's `max_pool2d`: padding counts as -inf; with `ceilMode` the last window may hang
/// over the padded input but must start inside the input or its left padding.
/// `stride` nil means `kernelSize`.
public func maxPool2d(
  _ x: Tensor, kernelSize: Int, stride: Int? = nil, padding: Int = 0, ceilMode: Bool = false
) throws -> Tensor {
  try OpTrace.traced(
    .maxPool2d(
      kernel: kernelSize, stride: stride ?? kernelSize, padding: padding, ceilMode: ceilMode), [x]
  ) {
    let p = try PoolGeometry(
      "maxPool2d", x, kernelSize: kernelSize, stride: stride, padding: padding, ceilMode: ceilMode)
    let y = Tensor(shape: p.outShape, scalars: Im2Col.buffer(p.planes * p.outArea))
    guard y.count > 0 else { return y }
    // The flat index within its plane of the input each output came from; only backward needs it.
    let recording = GradientRecording.needsRecording([x])
    var argmax: [Int32] = uninitializedArray(recording ? y.count : 0)
    let halving =
      p.kernel == 2 && p.stride == 2 && p.padding == 0 && p.outHeight * 2 <= p.height
      && p.outWidth * 2 <= p.width
    x.scalars.withUnsafeBufferPointer { xBuffer in
      y.scalars.withUnsafeMutableBufferPointer { yBuffer in
        argmax.withUnsafeMutableBufferPointer { argmax in
          let (xp, yp) = (xBuffer.baseAddress!, yBuffer.baseAddress!)
          let ip = recording ? argmax.baseAddress! : nil
          Parallel.forEach(p.planes, costPerItem: p.outArea * p.kernel * p.kernel) { plane in
            let (source, offset) = (xp + plane * p.area, plane * p.outArea)
            let (values, indices) = (yp + offset, ip.map { $0 + offset })
            if halving {
              // Checks for NaNs as it goes; a plane that has one is done again.
              guard !maxPool2x2Plane(source, p, into: values, argmax: indices) else { return }
              maxPoolNaNPlane(source, p, into: values, argmax: indices)
            } else {
              if containsNaN(source, count: p.area) {
                maxPoolNaNPlane(source, p, into: values, argmax: indices)
              } else if let indices {
                Scratch.withBuffer(5 * p.width) { scratch in
                  maxPoolPlaneIndexed(source, p, into: values, argmax: indices, scratch: scratch)
                }
              } else {
                Scratch.withBuffer(2 * p.width) { scratch in
                  maxPoolPlaneValues(source, p, into: values, scratch: scratch)
                }
              }
            }
          }
        }
      }
    }
    guard recording else { return y }
    let indices = argmax
    y.record("maxPool2d", inputs: [x]) { dy in
      x.accumulateGrad { dx in
        dy.scalars.withUnsafeBufferPointer { dyBuffer in
          indices.withUnsafeBufferPointer { argmax in
            let (dxp, dyp, ip) = (dx.baseAddress!, dyBuffer.baseAddress!, argmax.baseAddress!)
            Parallel.forEach(p.planes, costPerItem: p.outArea) { plane in
              let target = dxp + plane * p.area
              for i in (plane * p.outArea)..<((plane + 1) * p.outArea) {
                target[Int(ip[i])] += dyp[i]
              }
            }
          }
        }
      }
    }
    return y
  }
}

/// The maximum and its index for every window of a plane that holds a NaN, window by
/// window: a NaN wins, as in PyTorch. That test costs a branch per value, so planes without
/// NaNs go through the whole-row passes instead.
@inline(__always)
private func maxPoolNaNPlane(
  _ source: UnsafePointer<Float>, _ p: PoolGeometry, into values: UnsafeMutablePointer<Float>,
  argmax: UnsafeMutablePointer<Int32>?
) {
  for oy in 0..<p.outHeight {
    let rows = p.rows(oy)
    for ox in 0..<p.outWidth {
      let columns = p.columns(ox)
      var best = -Float.infinity
      var bestIndex = rows.lowerBound * p.width + columns.lowerBound
      for iy in rows {
        let row = source + iy * p.width
        for ix in columns {
          let v = row[ix]
          let better = v > best || v.isNaN
          // A mask rather than a select, which the compiler turns back into a branch.
          bestIndex ^= (bestIndex ^ (iy * p.width + ix)) & (better ? -1 : 0)
          best = better ? v : best
        }
      }
      values[oy * p.outWidth + ox] = best
      argmax?[oy * p.outWidth + ox] = Int32(truncatingIfNeeded: bestIndex)
    }
  }
}

/// Max pooling without indices or NaNs (inference), in passes over whole rows, which
/// vectorise: for each output row, the maxima down its window's input rows, then the maxima
/// of every run of `kernel` of those, from which each window inside the row takes its own.
/// resnet18's 3x3/2 pooling took 11% of its inference time one window at a time.
@inline(__always)
private func maxPoolPlaneValues(
  _ source: UnsafePointer<Float>, _ p: PoolGeometry, into values: UnsafeMutablePointer<Float>,
  scratch: UnsafeMutablePointer<Float>
) {
  let (width, kernel) = (p.width, p.kernel)
  let (columnMaxima, runMaxima) = (scratch, scratch + width)
  let runs = width - kernel + 1
  for oy in 0..<p.outHeight {
    let rows = p.rows(oy)
    columnMaxima.update(repeating: -.infinity, count: width)
    for iy in rows {
      let row = source + iy * width
      for x in 0..<width { columnMaxima[x] = max(columnMaxima[x], row[x]) }
    }
    if runs > 0 {
      runMaxima.update(from: columnMaxima, count: runs)
      for offset in 1..<kernel {
        let shifted = columnMaxima + offset
        for x in 0..<runs { runMaxima[x] = max(runMaxima[x], shifted[x]) }
      }
    }
    let target = values + oy * p.outWidth
    for ox in 0..<p.outWidth {
      let left = ox * p.stride - p.padding
      if left >= 0 && left < runs {
        target[ox] = runMaxima[left]
      } else {
        // A window over the padding: its columns inside the row.
        var best = -Float.infinity
        for ix in p.columns(ox) { best = max(best, columnMaxima[ix]) }
        target[ox] = best
      }
    }
  }
}

/// Max pooling without NaNs, with indices (training), in whole-row passes like
/// `maxPoolPlaneValues`: for each output row, every column's maximum down the window's rows
/// and the first row holding it, then for every run of `kernel` columns its maximum and where
/// it is. Ties go to the earlier row, then the earlier column: the first in row-major order,
/// as PyTorch picks. Rows and offsets ride along as floats
/// (exact below 2^24) so that one scratch buffer and one vector type serve. Window by window,
/// resnet18's 3x3/2 pooling took 3.7% of a training step at 64 px.
@inline(__always)
private func maxPoolPlaneIndexed(
  _ source: UnsafePointer<Float>, _ p: PoolGeometry, into values: UnsafeMutablePointer<Float>,
  argmax: UnsafeMutablePointer<Int32>, scratch: UnsafeMutablePointer<Float>
) {
  let (width, kernel) = (p.width, p.kernel)
  let (columnMaxima, columnRows) = (scratch, scratch + width)
  let (runMaxima, runRows, runOffsets) = (
    scratch + 2 * width, scratch + 3 * width, scratch + 4 * width
  )
  let runs = width - kernel + 1
  for oy in 0..<p.outHeight {
    let rows = p.rows(oy)
    columnMaxima.update(from: source + rows.lowerBound * width, count: width)
    columnRows.update(repeating: Float(rows.lowerBound), count: width)
    for iy in rows.dropFirst() {
      let (row, index) = (source + iy * width, SIMD8<Float>(repeating: Float(iy)))
      for x in stride(from: 0, to: width, by: 8) {
        let n = width - x
        let (best, value) = (Lanes.load(columnMaxima, x, n), Lanes.load(row, x, n))
        let take = value .> best
        Lanes.store(best.replacing(with: value, where: take), columnMaxima, x, n)
        let bestRow = Lanes.load(columnRows, x, n)
        Lanes.store(bestRow.replacing(with: index, where: take), columnRows, x, n)
      }
    }
    if runs > 0 {
      runMaxima.update(from: columnMaxima, count: runs)
      runRows.update(from: columnRows, count: runs)
      runOffsets.update(repeating: 0, count: runs)
      for offset in 1..<kernel {
        let shift = SIMD8<Float>(repeating: Float(offset))
        for x in stride(from: 0, to: runs, by: 8) {
          let n = runs - x
          let (best, bestRow) = (Lanes.load(runMaxima, x, n), Lanes.load(runRows, x, n))
          let value = Lanes.load(columnMaxima + offset, x, n)
          let row = Lanes.load(columnRows + offset, x, n)
          let take = value .> best .| (value .== best .& row .< bestRow)
          Lanes.store(best.replacing(with: value, where: take), runMaxima, x, n)
          Lanes.store(bestRow.replacing(with: row, where: take), runRows, x, n)
          let bestOffset = Lanes.load(runOffsets, x, n)
          Lanes.store(bestOffset.replacing(with: shift, where: take), runOffsets, x, n)
        }
      }
    }
    for ox in 0..<p.outWidth {
      let left = ox * p.stride - p.padding
      var (best, row, column): (Float, Float, Int)
      if left >= 0 && left < runs {
        (best, row, column) = (runMaxima[left], runRows[left], left + Int(runOffsets[left]))
      } else {
        // A window over the padding: its columns inside the row, with the same tie rule.
        let columns = p.columns(ox)
        column = columns.lowerBound
        (best, row) = (columnMaxima[column], columnRows[column])
        for ix in columns.dropFirst() {
          let (value, valueRow) = (columnMaxima[ix], columnRows[ix])
          if value > best || (value == best && valueRow < row) {
            (best, row, column) = (value, valueRow, ix)
          }
        }
      }
      values[oy * p.outWidth + ox] = best
      argmax[oy * p.outWidth + ox] = Int32(truncatingIfNeeded: Int(row) * width + column)
    }
  }
}

/// Max pooling of 2x2 windows at stride 2 without padding (LeNet's, VGG's, U-Net's
/// pooling): four outputs at a time, from two input rows. SIMD selects keep it branch-free;
/// the compiler turns scalar selects back into branches, which random data mispredicts half
/// the time. Returns false if the plane may hold a NaN (a window's sum is NaN), whose
/// outputs this loop does not get right.
@inline(__always)
private func maxPool2x2Plane(
  _ source: UnsafePointer<Float>, _ p: PoolGeometry, into values: UnsafeMutablePointer<Float>,
  argmax: UnsafeMutablePointer<Int32>?
) -> Bool {
  let (width, outWidth) = (p.width, p.outWidth)
  let (right, below) = (SIMD4<Int32>(repeating: 1), SIMD4<Int32>(repeating: Int32(width)))
  let lanes = SIMD4<Int32>(0, 2, 4, 6)
  // Four outputs from (ox..<ox+4); the last group may overlap the one before it.
  var sawNaN = SIMDMask<SIMD4<Int32>>(repeating: false)
  func group(_ top: UnsafePointer<Float>, _ ox: Int) -> (SIMD4<Float>, SIMD4<Int32>) {
    let upper = UnsafeRawPointer(top + 2 * ox).loadUnaligned(as: SIMD8<Float>.self)
    let lower = UnsafeRawPointer(top + width + 2 * ox).loadUnaligned(as: SIMD8<Float>.self)
    let (a, b, c, d) = (upper.evenHalf, upper.oddHalf, lower.evenHalf, lower.oddHalf)
    let sum = (a + b) + (c + d)
    sawNaN .|= sum .!= sum
    // Ties keep the earlier element in row-major order, as the reference does.
    let takeB = b .> a
    let first = a.replacing(with: b, where: takeB)
    let firstTap = SIMD4<Int32>(repeating: 0).replacing(with: right, where: takeB)
    let takeD = d .> c
    let second = c.replacing(with: d, where: takeD)
    let secondTap = below.replacing(with: below &+ right, where: takeD)
    let takeSecond = second .> first
    return (
      first.replacing(with: second, where: takeSecond),
      firstTap.replacing(with: secondTap, where: takeSecond)
    )
  }
  for oy in 0..<p.outHeight {
    let top = source + 2 * oy * width
    let out = values + oy * outWidth
    let base = Int32(truncatingIfNeeded: 2 * oy * width)
    var ox = 0
    while ox < outWidth {
      if ox + 4 > outWidth {
        guard outWidth >= 4 else { break }
        ox = outWidth - 4
      }
      let (maxima, taps) = group(top, ox)
      UnsafeMutableRawPointer(out + ox).storeBytes(of: maxima, as: SIMD4<Float>.self)
      if let argmax {
        let index = taps &+ lanes &+ (base &+ 2 &* Int32(truncatingIfNeeded: ox))
        UnsafeMutableRawPointer(argmax + oy * outWidth + ox).storeBytes(
          of: index, as: SIMD4<Int32>.self)
      }
      ox += 4
    }
    // Rows narrower than four outputs.
    for ox in ox..<outWidth {
      var (best, index) = (top[2 * ox], 2 * ox)
      if top[2 * ox + 1] > best { (best, index) = (top[2 * ox + 1], 2 * ox + 1) }
      if top[width + 2 * ox] > best { (best, index) = (top[width + 2 * ox], width + 2 * ox) }
      if top[width + 2 * ox + 1] > best {
        (best, index) = (top[width + 2 * ox + 1], width + 2 * ox + 1)
      }
      out[ox] = best
      argmax?[oy * outWidth + ox] = base + Int32(truncatingIfNeeded: index)
      let sum = (top[2 * ox] + top[2 * ox + 1]) + (top[width + 2 * ox] + top[width + 2 * ox + 1])
      if sum.isNaN { sawNaN = SIMDMask(repeating: true) }
    }
  }
  return !any(sawNaN)
}

/// Whether any of `count` floats is a NaN: a vectorisable scan of the bit patterns.
private func containsNaN(_ values: UnsafePointer<Float>, count: Int) -> Bool {
  UnsafeRawPointer(values).withMemoryRebound(to: UInt32.self, capacity: count) { bits in
    var largest: UInt32 = 0
    for i in 0..<count { largest = max(largest, bits[i] & 0x7fff_ffff) }
    return largest > 0x7f80_0000
  }
}

/// PyTorch's `avg_pool2d` (no ceil mode): the window's mean, dividing by the whole window
/// (`countIncludePad`) or by the input elements inside it. `stride` nil means `kernelSize`.
public func avgPool2d(
  _ x: Tensor, kernelSize: Int, stride: Int? = nil, padding: Int = 0,
  countIncludePad: Bool = true
) throws -> Tensor {
  try OpTrace.traced(
    .avgPool2d(
      kernel: kernelSize, stride: stride ?? kernelSize, padding: padding,
      countIncludePad: countIncludePad), [x]
  ) {
    let p = try PoolGeometry(
      "avgPool2d", x, kernelSize: kernelSize, stride: stride, padding: padding, ceilMode: false)
    let divisor = { (rows: Range<Int>, columns: Range<Int>, oy: Int, ox: Int) -> Float in
      guard countIncludePad else { return Float(rows.count * columns.count) }
      // The window clipped to the padded input, as PyTorch counts it.
      let (top, left) = (oy * p.stride - p.padding, ox * p.stride - p.padding)
      let bottom = min(top + p.kernel, p.height + p.padding)
      let right = min(left + p.kernel, p.width + p.padding)
      return Float((bottom - top) * (right - left))
    }
    return windowMean("avgPool2d", x, p, rows: p.rows, columns: p.columns, divisor: divisor)
  }
}

/// PyTorch's `adaptive_avg_pool2d`: output (i, j) averages rows `floor(i*H/OH)..<ceil((i+1)*H/OH)`
/// and the matching columns.
public func adaptiveAvgPool2d(_ x: Tensor, outputHeight: Int, outputWidth: Int) throws -> Tensor {
  try OpTrace.traced(.adaptiveAvgPool2d(height: outputHeight, width: outputWidth), [x]) {
    let op = "adaptiveAvgPool2d"
    try expectRank(x, 4, op)
    guard outputHeight > 0, outputWidth > 0 else {
      throw TensorError.invalidArgument(
        op: op, message: "output size must be positive, got \(outputHeight)x\(outputWidth)")
    }
    guard x.shape[2] > 0, x.shape[3] > 0 else {
      throw TensorError.invalidArgument(
        op: op, message: "input \(describe(shape: x.shape)) has empty planes")
    }
    let (h, w) = (x.shape[2], x.shape[3])
    // The largest bin spans at most ceil(size/out) + 1 elements.
    let largestBin = max(h / outputHeight, w / outputWidth) + 2
    let p = PoolGeometry(
      planes: x.shape[0] * x.shape[1], batch: x.shape[0], channels: x.shape[1], height: h,
      width: w, kernel: largestBin, stride: 1, padding: 0, outHeight: outputHeight,
      outWidth: outputWidth)
    return windowMean(
      op, x, p,
      rows: { (($0 * h) / outputHeight)..<((($0 + 1) * h + outputHeight - 1) / outputHeight) },
      columns: { (($0 * w) / outputWidth)..<((($0 + 1) * w + outputWidth - 1) / outputWidth) },
      divisor: { rows, columns, _, _ in Float(rows.count * columns.count) })
  }
}

/// Averages the window `rows(oy) x columns(ox)` of each plane, divided by `divisor`.
private func windowMean(
  _ op: String, _ x: Tensor, _ p: PoolGeometry, rows: (Int) -> Range<Int>,
  columns: (Int) -> Range<Int>, divisor: (Range<Int>, Range<Int>, Int, Int) -> Float
) -> Tensor {
  // Window bounds and reciprocal divisors, shared by every plane and by backward.
  let rowRanges = (0..<p.outHeight).map(rows)
  let columnRanges = (0..<p.outWidth).map(columns)
  let scales = (0..<p.outArea).map { o in
    let (oy, ox) = o.quotientAndRemainder(dividingBy: p.outWidth)
    return 1 / divisor(rowRanges[oy], columnRanges[ox], oy, ox)
  }
  let y = Tensor(shape: p.outShape, scalars: Im2Col.buffer(p.planes * p.outArea))
  guard y.count > 0 else { return y }
  let cost = p.outArea * p.kernel * p.kernel
  x.scalars.withUnsafeBufferPointer { xBuffer in
    y.scalars.withUnsafeMutableBufferPointer { yBuffer in
      scales.withUnsafeBufferPointer { scales in
        let (xp, yp) = (xBuffer.baseAddress!, yBuffer.baseAddress!)
        // One window over the whole plane (global pooling, as squeeze-and-excitation's):
        // summed in lanes, not as one serial chain of adds.
        let global = rowRanges == [0..<p.height] && columnRanges == [0..<p.width]
        Parallel.forEach(p.planes, costPerItem: cost) { plane in
          let source = xp + plane * p.area
          let target = yp + plane * p.outArea
          if global {
            target[0] = Lanes.sum(source, p.area) * scales[0]
            return
          }
          for oy in 0..<p.outHeight {
            for ox in 0..<p.outWidth {
              var sum: Float = 0
              for iy in rowRanges[oy] {
                let row = source + iy * p.width
                for ix in columnRanges[ox] { sum += row[ix] }
              }
              target[oy * p.outWidth + ox] = sum * scales[oy * p.outWidth + ox]
            }
          }
        }
      }
    }
  }
  y.record(op, inputs: [x]) { dy in
    x.accumulateGrad { dx in
      dy.scalars.withUnsafeBufferPointer { dyBuffer in
        scales.withUnsafeBufferPointer { scales in
          let (dxp, dyp) = (dx.baseAddress!, dyBuffer.baseAddress!)
          Parallel.forEach(p.planes, costPerItem: cost) { plane in
            let target = dxp + plane * p.area
            let source = dyp + plane * p.outArea
            for oy in 0..<p.outHeight {
              for ox in 0..<p.outWidth {
                let g = source[oy * p.outWidth + ox] * scales[oy * p.outWidth + ox]
                for iy in rowRanges[oy] {
                  let row = target + iy * p.width
                  for ix in columnRanges[ox] { row[ix] += g }
                }
              }
            }
          }
        }
      }
    }
  }
  return y
}

/// Sizes of a pooling op; `kernel` is also the cost estimate for parallel loops.
struct PoolGeometry {
  var planes, batch, channels, height, width, kernel, stride, padding, outHeight, outWidth: Int

  var area: Int { height * width }
  var outArea: Int { outHeight * outWidth }
  var outShape: [Int] { [batch, channels, outHeight, outWidth] }

  init(
    planes: Int, batch: Int, channels: Int, height: Int, width: Int, kernel: Int, stride: Int,
    padding: Int, outHeight: Int, outWidth: Int
  ) {
    (self.planes, self.batch, self.channels) = (planes, batch, channels)
    (self.height, self.width, self.kernel) = (height, width, kernel)
    (self.stride, self.padding, self.outHeight, self.outWidth) =
      (stride, padding, outHeight, outWidth)
  }

  /// Validates a square pooling window over x and computes PyTorch's output size.
  init(
    _ op: String, _ x: Tensor, kernelSize: Int, stride: Int?, padding: Int, ceilMode: Bool
  ) throws {
    try expectRank(x, 4, op)
    let stride = stride ?? kernelSize
    guard kernelSize > 0 else {
      throw TensorError.invalidArgument(
        op: op, message: "kernel size must be positive, got \(kernelSize)")
    }
    guard stride > 0 else {
      throw TensorError.invalidArgument(op: op, message: "stride must be positive, got \(stride)")
    }
    guard padding >= 0, padding <= kernelSize / 2 else {
      throw TensorError.invalidArgument(
        op: op,
        message: "padding \(padding) must be between 0 and half the kernel size \(kernelSize)")
    }
    let (h, w) = (x.shape[2], x.shape[3])
    guard kernelSize <= h + 2 * padding, kernelSize <= w + 2 * padding else {
      throw TensorError.invalidArgument(
        op: op,
        message: "kernel \(kernelSize)x\(kernelSize) is larger than the padded input "
          + "\(h + 2 * padding)x\(w + 2 * padding) (input \(describe(shape: x.shape)), "
          + "padding \(padding))")
    }
    func outSize(_ size: Int) -> Int {
      let span = size + 2 * padding - kernelSize
      var out = (ceilMode ? (span + stride - 1) / stride : span / stride) + 1
      // A window must start inside the input or its left padding.
      if ceilMode && (out - 1) * stride >= size + padding { out -= 1 }
      return out
    }
    self.init(
      planes: x.shape[0] * x.shape[1], batch: x.shape[0], channels: x.shape[1], height: h,
      width: w, kernel: kernelSize, stride: stride, padding: padding, outHeight: outSize(h),
      outWidth: outSize(w))
  }

  /// Input rows of output row `oy`, clipped to the input.
  func rows(_ oy: Int) -> Range<Int> {
    let top = oy * stride - padding
    return max(top, 0)..<min(top + kernel, height)
  }

  /// Input columns of output column `ox`, clipped to the input.
  func columns(_ ox: Int) -> Range<Int> {
    let left = ox * stride - padding
    return max(left, 0)..<min(left + kernel, width)
  }
}

/// Plain loops that define what `maxPool2d` computes; tests compare the two.
public enum MaxPool2DReference {
  public static func forward(
    x: Tensor, kernelSize: Int, stride: Int? = nil, padding: Int = 0, ceilMode: Bool = false
  ) -> Tensor {
    let s = PoolReferenceSizes(x.shape, kernelSize, stride, padding, ceilMode)
    let y = Tensor(shape: s.outShape)
    s.forEachOutput { plane, o in
      var best = -Float.infinity
      s.forEachTap(o) { i in
        let v = x.scalars[plane * s.h * s.w + i]
        if v > best || v.isNaN { best = v }
      }
      y.scalars[plane * s.oh * s.ow + o] = best
    }
    return y
  }

  /// The gradient of `sum(dy * maxPool2d(x))` for x: each output's gradient goes to the
  /// first maximum of its window.
  public static func backward(
    x: Tensor, dy: Tensor, kernelSize: Int, stride: Int? = nil, padding: Int = 0,
    ceilMode: Bool = false
  ) -> Tensor {
    let s = PoolReferenceSizes(x.shape, kernelSize, stride, padding, ceilMode)
    let dx = Tensor(shape: x.shape)
    s.forEachOutput { plane, o in
      var best = -Float.infinity
      var bestIndex = -1
      s.forEachTap(o) { i in
        let v = x.scalars[plane * s.h * s.w + i]
        if v > best || v.isNaN || bestIndex < 0 {
          best = v
          bestIndex = i
        }
      }
      dx.scalars[plane * s.h * s.w + bestIndex] += dy.scalars[plane * s.oh * s.ow + o]
    }
    return dx
  }
}

/// Plain loops that define what `avgPool2d` computes.
public enum AvgPool2DReference {
  public static func forward(
    x: Tensor, kernelSize: Int, stride: Int? = nil, padding: Int = 0,
    countIncludePad: Bool = true
  ) -> Tensor {
    let s = PoolReferenceSizes(x.shape, kernelSize, stride, padding, false)
    let y = Tensor(shape: s.outShape)
    s.forEachOutput { plane, o in
      var sum = 0.0
      var inside = 0
      s.forEachTap(o) { i in
        sum += Double(x.scalars[plane * s.h * s.w + i])
        inside += 1
      }
      let divisor = countIncludePad ? s.paddedWindowSize(o) : inside
      y.scalars[plane * s.oh * s.ow + o] = Float(sum / Double(divisor))
    }
    return y
  }

  /// The gradient of `sum(dy * avgPool2d(x))` for x.
  public static func backward(
    x: Tensor, dy: Tensor, kernelSize: Int, stride: Int? = nil, padding: Int = 0,
    countIncludePad: Bool = true
  ) -> Tensor {
    let s = PoolReferenceSizes(x.shape, kernelSize, stride, padding, false)
    var dx = [Double](repeating: 0, count: x.count)
    s.forEachOutput { plane, o in
      var taps: [Int] = []
      s.forEachTap(o) { taps.append($0) }
      let divisor = countIncludePad ? s.paddedWindowSize(o) : taps.count
      let g = Double(dy.scalars[plane * s.oh * s.ow + o]) / Double(divisor)
      for i in taps { dx[plane * s.h * s.w + i] += g }
    }
    return Tensor(shape: x.shape, scalars: dx.map { Float($0) })
  }
}

/// Plain loops that define what `adaptiveAvgPool2d` computes.
public enum AdaptiveAvgPool2DReference {
  public static func forward(x: Tensor, outputHeight: Int, outputWidth: Int) -> Tensor {
    let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let y = Tensor(shape: [n, c, outputHeight, outputWidth])
    for plane in 0..<(n * c) {
      for oy in 0..<outputHeight {
        for ox in 0..<outputWidth {
          let (rows, columns) = (bin(oy, outputHeight, h), bin(ox, outputWidth, w))
          var sum = 0.0
          for iy in rows {
            for ix in columns { sum += Double(x.scalars[(plane * h + iy) * w + ix]) }
          }
          y.scalars[(plane * outputHeight + oy) * outputWidth + ox] =
            Float(sum / Double(rows.count * columns.count))
        }
      }
    }
    return y
  }

  /// The gradient of `sum(dy * adaptiveAvgPool2d(x))` for x.
  public static func backward(x: Tensor, dy: Tensor, outputHeight: Int, outputWidth: Int)
    -> Tensor
  {
    let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    var dx = [Double](repeating: 0, count: x.count)
    for plane in 0..<(n * c) {
      for oy in 0..<outputHeight {
        for ox in 0..<outputWidth {
          let (rows, columns) = (bin(oy, outputHeight, h), bin(ox, outputWidth, w))
          let g =
            Double(dy.scalars[(plane * outputHeight + oy) * outputWidth + ox])
            / Double(rows.count * columns.count)
          for iy in rows {
            for ix in columns { dx[(plane * h + iy) * w + ix] += g }
          }
        }
      }
    }
    return Tensor(shape: x.shape, scalars: dx.map { Float($0) })
  }

  /// PyTorch's bin `i` of `count` over `size`: floor(i*size/count) ..< ceil((i+1)*size/count).
  private static func bin(_ i: Int, _ count: Int, _ size: Int) -> Range<Int> {
    let start = Int((Double(i * size) / Double(count)).rounded(.down))
    let end = Int((Double((i + 1) * size) / Double(count)).rounded(.up))
    return start..<end
  }
}

/// Output sizes and windows for the pooling references, from PyTorch's formulas.
private struct PoolReferenceSizes {
  let n, c, h, w, k, stride, padding, oh, ow: Int

  init(_ shape: [Int], _ k: Int, _ stride: Int?, _ padding: Int, _ ceilMode: Bool) {
    (n, c, h, w) = (shape[0], shape[1], shape[2], shape[3])
    let stride = stride ?? k
    (self.k, self.stride, self.padding) = (k, stride, padding)
    func outSize(_ size: Int) -> Int {
      let exact = Double(size + 2 * padding - k) / Double(stride)
      var out = Int(ceilMode ? exact.rounded(.up) : exact.rounded(.down)) + 1
      if ceilMode && (out - 1) * stride >= size + padding { out -= 1 }
      return out
    }
    (oh, ow) = (outSize(shape[2]), outSize(shape[3]))
  }

  var outShape: [Int] { [n, c, oh, ow] }

  func forEachOutput(_ body: (_ plane: Int, _ output: Int) -> Void) {
    for plane in 0..<(n * c) {
      for o in 0..<(oh * ow) { body(plane, o) }
    }
  }

  /// Calls `body(iy * w + ix)` for each input element in the window of output `o`.
  func forEachTap(_ o: Int, _ body: (Int) -> Void) {
    let (oy, ox) = o.quotientAndRemainder(dividingBy: ow)
    for ki in 0..<k {
      let iy = oy * stride - padding + ki
      guard iy >= 0, iy < h else { continue }
      for kj in 0..<k {
        let ix = ox * stride - padding + kj
        guard ix >= 0, ix < w else { continue }
        body(iy * w + ix)
      }
    }
  }

  /// The window of output `o` clipped to the padded input: PyTorch's `countIncludePad` divisor.
  func paddedWindowSize(_ o: Int) -> Int {
    let (oy, ox) = o.quotientAndRemainder(dividingBy: ow)
    let (top, left) = (oy * stride - padding, ox * stride - padding)
    return (min(top + k, h + padding) - top) * (min(left + k, w + padding) - left)
  }
}
