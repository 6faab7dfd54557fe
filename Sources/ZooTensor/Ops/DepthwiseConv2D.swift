// Depthwise convolution (groups == C == O, MobileNet's 3x3 layers): x (N, C, H, W), weight
// (C, 1, kh, kw), bias (C) -> (N, C, OH, OW), each channel convolved with its own kernel.
// It does kh*kw multiply-adds per value it moves, so memory bounds it: direct loops over
// channel planes in parallel, not im2col + GEMM, whose columns move the input kh*kw times.

/// Direct kernels for a depthwise `conv2d`; gradients are accumulated (`+=`). Each task copies
/// its plane into a zero-padded one (a few KiB, in L1), so every tap is a plain loop over a
/// whole output row, with no bounds to test; 3-wide kernels (MobileNet's) sum a kernel row's
/// three taps in one pass.
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
  static func forward(
    _ xp: UnsafePointer<Float>, _ wp: UnsafePointer<Float>, _ bias: UnsafePointer<Float>?,
    _ yp: UnsafeMutablePointer<Float>, batch n: Int, _ g: Im2Col.Geometry
  ) {
    let (c, kw, taps, area) = (g.channels, g.kernelWidth, g.kernelHeight * g.kernelWidth, g.outArea)
    let (outWidth, stride, dilation) = (g.outWidth, g.strideWidth, g.dilation)
    Parallel.forEach(n * c, costPerItem: taps * area) { plane in
      let channel = plane % c
      let (ys, kernel) = (yp + plane * area, wp + channel * taps)
      Scratch.withBuffer(g.paddedArea) { padded in
        pad(xp + plane * g.imageArea, into: padded, g)
        ys.update(repeating: bias?[channel] ?? 0, count: area)
        for oy in 0..<g.outHeight {
          let target = ys + oy * outWidth
          for ki in 0..<g.kernelHeight {
            let row = padded + (oy * g.strideHeight + ki * dilation) * g.paddedWidth
            let weights = kernel + ki * kw
            if kw == 3 && dilation == 1 {
              let (w0, w1, w2) = (weights[0], weights[1], weights[2])
              if stride == 1 {
                for ox in 0..<outWidth {
                  target[ox] += w0 * row[ox] + w1 * row[ox + 1] + w2 * row[ox + 2]
                }
              } else {
                for ox in 0..<outWidth {
                  let i = ox * stride
                  target[ox] += w0 * row[i] + w1 * row[i + 1] + w2 * row[i + 2]
                }
              }
              continue
            }
            for kj in 0..<kw {
              let (weight, from) = (weights[kj], row + kj * dilation)
              if stride == 1 {
                for ox in 0..<outWidth { target[ox] += weight * from[ox] }
              } else {
                for ox in 0..<outWidth { target[ox] += weight * from[ox * stride] }
              }
            }
          }
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
        for tap in 0..<taps {
          var total = 0.0
          for ox in 0..<outWidth { total += Double(sums[tap * outWidth + ox]) }
          dw[channel * taps + tap] += Float(total)
        }
      }
    }
  }
}
