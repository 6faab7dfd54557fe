// Depthwise convolution (groups == C == O, MobileNet's 3x3 layers): x (N, C, H, W), weight
// (C, 1, kh, kw), bias (C) -> (N, C, OH, OW), each channel convolved with its own kernel.
// It does kh*kw multiply-adds per value it moves, so memory bounds it: direct loops over
// channel planes in parallel, not im2col + GEMM, whose columns move the input kh*kw times.

import CKernels

/// Direct kernels for a depthwise `conv2d`; gradients are accumulated (`+=`). Each task copies
/// its plane into a zero-padded one (a few KiB, in L1), so every tap is a plain loop over a
/// whole output row, with no bounds to test; in the backward pass 3-wide kernels (MobileNet's)
/// sum a kernel row's three taps in one pass.
enum DepthwiseConv2DKernels {
  /// Copies one image plane into `padded` (paddedHeight x paddedWidth), zeros around it.
  @inline(__always)
  static func pad(
    _ plane: UnsafePointer<Float>, into padded: UnsafeMutablePointer<Float>, _ g: Im2Col.Geometry
  ) {
    padded.update(repeating: 0, count: g.paddedArea)
    for y in 0..<g.height {
      (padded + (y + g.paddingHeight) * g.paddedWidth + g.paddingWidth).update(
        from: plane + y * g.width, count: g.width)
    }
  }

  // y[n, c] = bias[c] + sum over taps of weight[c, ki, kj] * x[n, c] shifted
  //
  // Eight outputs of a row at a time, summed over all taps in registers (but for 3-wide
  // stride-1 kernels). The plane is copied into padded rows split by column into
  // `strideWidth` phases (`Im2Col.fillPaddedRows`), so every tap, strided or not, reads eight
  // contiguous floats. On a CPU with AVX2 and FMA the plane's sums run in C
  // (`zoo_depthwise_plane_avx2`), four groups of eight outputs at once.
  static func forward(
    _ xp: UnsafePointer<Float>, _ wp: UnsafePointer<Float>, _ bias: UnsafePointer<Float>?,
    _ yp: UnsafeMutablePointer<Float>, batch n: Int, _ g: Im2Col.Geometry
  ) {
    let (c, kw, taps, area) = (g.channels, g.kernelWidth, g.kernelHeight * g.kernelWidth, g.outArea)
    let (outWidth, rowWidth, dilation) = (g.outWidth, g.phasedRowWidth, g.dilation)
    let planes = n * c
    let columns = phasedColumns(g)
    let threeWide = kw == 3 && g.strideWidth == 1 && dilation == 1
    // Runs of planes, a few per core, each with one scratch buffer; an eight-float load may
    // run up to seven floats past the last padded row.
    let runs = min(planes, 4 * Parallel.threadCount)
    Parallel.forEach(runs, costPerItem: planes / max(runs, 1) * taps * area) { run in
      Scratch.withBuffer(g.paddedHeight * rowWidth + 8) { padded in
        for plane in (planes * run / runs)..<(planes * (run + 1) / runs) {
          let channel = plane % c
          let (ys, kernel) = (yp + plane * area, wp + channel * taps)
          Im2Col.fillPaddedRows(
            xp + plane * g.imageArea, g, top: 0, count: g.paddedHeight, into: padded)
          if g.wide {
            zoo_depthwise_plane_avx2(
              padded, rowWidth, kernel, Int32(g.kernelHeight), Int32(kw), columns,
              Int32(g.strideHeight), Int32(dilation), bias?[channel] ?? 0, ys,
              Int32(g.outHeight), Int32(outWidth))
            continue
          }
          if threeWide {
            rowsOfThree(padded, kernel, bias?[channel] ?? 0, ys, g)
            continue
          }
          let start = SIMD8<Float>(repeating: bias?[channel] ?? 0)
          for oy in 0..<g.outHeight {
            for ox in stride(from: 0, to: outWidth, by: 8) {
              var sum = start
              for ki in 0..<g.kernelHeight {
                let row = padded + (oy * g.strideHeight + ki * dilation) * rowWidth + ox
                let weights = kernel + ki * kw
                for kj in 0..<kw {
                  sum += weights[kj] * Lanes.load(row, columns[kj], 8)
                }
              }
              Lanes.store(sum, ys + oy * outWidth, ox, outWidth - ox)
            }
          }
        }
      }
    }
  }

  /// Where each tap column's run starts in a row of `Im2Col.fillPaddedRows`: the column's
  /// phase, then its offset in the phase.
  private static func phasedColumns(_ g: Im2Col.Geometry) -> [Int] {
    (0..<g.kernelWidth).map { kj in
      (kj * g.dilation) % g.strideWidth * g.phaseWidth + kj * g.dilation / g.strideWidth
    }
  }

  /// dw[tap] += the sum of tap's `outWidth` running sums, in Double.
  private static func addTotals(
    _ sums: UnsafePointer<Float>, taps: Int, outWidth: Int, to dw: UnsafeMutablePointer<Float>
  ) {
    for tap in 0..<taps {
      var total = 0.0
      for ox in 0..<outWidth { total += Double(sums[tap * outWidth + ox]) }
      dw[tap] += Float(total)
    }
  }

  /// One plane of a 3-wide stride-1 kernel (MobileNet's), a pass over each output row per
  /// kernel row with its three taps summed: fewer instructions than eight lanes over all taps,
  /// whose weights do not all fit in registers.
  @inline(__always)
  private static func rowsOfThree(
    _ padded: UnsafePointer<Float>, _ kernel: UnsafePointer<Float>, _ bias: Float,
    _ ys: UnsafeMutablePointer<Float>, _ g: Im2Col.Geometry
  ) {
    let outWidth = g.outWidth
    ys.update(repeating: bias, count: g.outArea)
    for oy in 0..<g.outHeight {
      let target = ys + oy * outWidth
      for ki in 0..<g.kernelHeight {
        let row = padded + (oy * g.strideHeight + ki) * g.paddedWidth
        let (w0, w1, w2) = (kernel[ki * 3], kernel[ki * 3 + 1], kernel[ki * 3 + 2])
        for ox in 0..<outWidth {
          target[ox] += w0 * row[ox] + w1 * row[ox + 1] + w2 * row[ox + 2]
        }
      }
    }
  }

  /// dx and dW from dy (N, C, OH, OW), one task per channel (its samples in order), so the
  /// weight gradient needs no shared sums and does not depend on the threads. Products for
  /// dW are summed per tap and output column, then across columns once per channel; dx is
  /// gathered in a padded plane whose inside is then added to dx.
  static func backward(
    _ dyp: UnsafePointer<Float>, _ xp: UnsafePointer<Float>, _ wp: UnsafePointer<Float>,
    _ dx: UnsafeMutablePointer<Float>?, _ dw: UnsafeMutablePointer<Float>?, batch n: Int,
    _ g: Im2Col.Geometry
  ) {
    if g.wide { return wideBackward(dyp, xp, wp, dx, dw, batch: n, g) }
    let (c, kw, taps, area) = (g.channels, g.kernelWidth, g.kernelHeight * g.kernelWidth, g.outArea)
    let (outWidth, stride, dilation, paddedArea) = (
      g.outWidth, g.strideWidth, g.dilation, g.paddedArea
    )
    Parallel.forEach(c, costPerItem: n * taps * area) { channel in
      let kernel = wp + channel * taps
      Scratch.withBuffer(2 * paddedArea + taps * outWidth) { padded in
        let (gradientPlane, sums) = (padded + paddedArea, padded + 2 * paddedArea)
        sums.update(repeating: 0, count: taps * outWidth)
        for s in 0..<n {
          let plane = s * c + channel
          let dys = dyp + plane * area
          if dw != nil { pad(xp + plane * g.imageArea, into: padded, g) }
          if dx != nil { gradientPlane.update(repeating: 0, count: paddedArea) }
          for oy in 0..<g.outHeight {
            let gradient = dys + oy * outWidth
            for ki in 0..<g.kernelHeight {
              let offset = (oy * g.strideHeight + ki * dilation) * g.paddedWidth
              if dw != nil && kw == 3 && dilation == 1 {
                // The kernel row's three weight-gradient sums in one pass over dy's row.
                let (sum, from) = (sums + ki * 3 * outWidth, padded + offset)
                for ox in 0..<outWidth {
                  let (d, i) = (gradient[ox], ox * stride)
                  sum[ox] += d * from[i]
                  sum[outWidth + ox] += d * from[i + 1]
                  sum[2 * outWidth + ox] += d * from[i + 2]
                }
              }
              for kj in 0..<kw {
                let (tap, column) = (ki * kw + kj, offset + kj * dilation)
                if dw != nil && !(kw == 3 && dilation == 1) {
                  let (sum, from) = (sums + tap * outWidth, padded + column)
                  if stride == 1 {
                    for ox in 0..<outWidth { sum[ox] += gradient[ox] * from[ox] }
                  } else {
                    for ox in 0..<outWidth { sum[ox] += gradient[ox] * from[ox * stride] }
                  }
                }
                if dx != nil {
                  let (weight, to) = (kernel[tap], gradientPlane + column)
                  if stride == 1 {
                    for ox in 0..<outWidth { to[ox] += weight * gradient[ox] }
                  } else {
                    for ox in 0..<outWidth { to[ox * stride] += weight * gradient[ox] }
                  }
                }
              }
            }
          }
          guard let dx else { continue }
          let dxs = dx + plane * g.imageArea
          for y in 0..<g.height {
            let (from, to) = (
              gradientPlane + (y + g.paddingHeight) * g.paddedWidth + g.paddingWidth,
              dxs + y * g.width
            )
            for x in 0..<g.width { to[x] += from[x] }
          }
        }
        guard let dw else { return }
        addTotals(sums, taps: taps, outWidth: outWidth, to: dw + channel * taps)
      }
    }
  }

  /// `backward` in AVX2 with FMA (`zoo_depthwise_backward_plane_avx2`), the same products
  /// and order of sums, one task per channel; x and its gradient are held in column phases as
  /// in `forward`, so strided taps run eight lanes too.
  private static func wideBackward(
    _ dyp: UnsafePointer<Float>, _ xp: UnsafePointer<Float>, _ wp: UnsafePointer<Float>,
    _ dx: UnsafeMutablePointer<Float>?, _ dw: UnsafeMutablePointer<Float>?, batch n: Int,
    _ g: Im2Col.Geometry
  ) {
    let shape = zoo_depthwise_geometry(
      height: Int32(g.height), width: Int32(g.width), out_height: Int32(g.outHeight),
      out_width: Int32(g.outWidth), kernel_height: Int32(g.kernelHeight),
      kernel_width: Int32(g.kernelWidth), stride_height: Int32(g.strideHeight),
      stride_width: Int32(g.strideWidth), padding_height: Int32(g.paddingHeight),
      padding_width: Int32(g.paddingWidth), dilation: Int32(g.dilation),
      phase_width: Int32(g.phaseWidth))
    let (c, taps, columns) = (g.channels, g.kernelHeight * g.kernelWidth, phasedColumns(g))
    let paddedArea = g.paddedHeight * g.phasedRowWidth
    Parallel.forEach(c, costPerItem: n * taps * g.outArea) { channel in
      Scratch.withBuffer(2 * paddedArea + taps * g.outWidth) { padded in
        let (gradient, sums) = (padded + paddedArea, padded + 2 * paddedArea)
        sums.update(repeating: 0, count: taps * g.outWidth)
        for s in 0..<n {
          let plane = s * c + channel
          if dw != nil {
            Im2Col.fillPaddedRows(
              xp + plane * g.imageArea, g, top: 0, count: g.paddedHeight, into: padded)
          }
          withUnsafePointer(to: shape) { shape in
            zoo_depthwise_backward_plane_avx2(
              shape, columns, dyp + plane * g.outArea, padded, wp + channel * taps,
              dw == nil ? nil : sums, dx == nil ? nil : gradient,
              dx.map { $0 + plane * g.imageArea })
          }
        }
        if let dw { addTotals(sums, taps: taps, outWidth: g.outWidth, to: dw + channel * taps) }
      }
    }
  }
}
