// Transposed 2-D convolution, the adjoint of conv2d: x (N, Cin, H, W), weight (Cin, Cout,
// kh, kw), bias (Cout) -> (N, Cout, OH, OW),
// OH = (H-1)*stride - 2*padding + dilation*(kh-1) + outputPadding + 1.

/// PyTorch's `conv_transpose2d` without groups: every input pixel scatters
/// `x[n, ci, iy, ix] * weight[ci, co]` onto the output at `iy*stride - padding + ki*dilation`.
/// x (N, Cin, H, W), weight (Cin, Cout, kh, kw) [PyTorch ConvTranspose2d layout], bias (Cout).
public func convTranspose2d(
  _ x: Tensor, weight: Tensor, bias: Tensor? = nil, stride: Int = 1, padding: Int = 0,
  outputPadding: Int = 0, dilation: Int = 1
) throws -> Tensor {
  try OpTrace.traced(
    .convTranspose2d(
      stride: stride, padding: padding, outputPadding: outputPadding, dilation: dilation),
    [x, weight, bias]
  ) {
    let op = "convTranspose2d"
    try expectRank(x, 4, op)
    try expectRank(weight, 4, "convTranspose2d weight")
    let (n, cin, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let (cout, kh, kw) = (weight.shape[1], weight.shape[2], weight.shape[3])
    guard weight.shape[0] == cin else {
      throw TensorError.shapeMismatch(
        op: "convTranspose2d: input channels", expected: [n, weight.shape[0], h, w],
        actual: x.shape)
    }
    if let bias { try expectShape(bias, [cout], "convTranspose2d bias") }
    try Im2Col.checkHyperparameters(op, stride: stride, padding: padding, dilation: dilation)
    guard outputPadding >= 0, outputPadding < max(stride, dilation) else {
      throw TensorError.invalidArgument(
        op: op,
        message: "output padding \(outputPadding) must be non-negative and smaller than stride "
          + "\(stride) or dilation \(dilation)")
    }
    guard weight.count > 0 else {
      throw TensorError.invalidArgument(
        op: op, message: "weight \(describe(shape: weight.shape)) has a zero-size dimension")
    }
    let oh = (h - 1) * stride - 2 * padding + dilation * (kh - 1) + outputPadding + 1
    let ow = (w - 1) * stride - 2 * padding + dilation * (kw - 1) + outputPadding + 1
    guard oh > 0, ow > 0 else {
      throw TensorError.invalidArgument(
        op: op,
        message: "output size \(oh)x\(ow) is not positive (input \(describe(shape: x.shape)), "
          + "kernel \(kh)x\(kw), stride \(stride), padding \(padding), dilation \(dilation))")
    }
    // The conv2d geometry whose image is the output and whose kernel positions are x's pixels.
    let geometry = Im2Col.Geometry(
      channels: cout, height: oh, width: ow, kernelHeight: kh, kernelWidth: kw,
      strideHeight: stride, strideWidth: stride, paddingHeight: padding, paddingWidth: padding,
      dilation: dilation, outHeight: h, outWidth: w)
    let outShape = [n, cout, oh, ow]
    let y = Tensor(shape: outShape, scalars: Im2Col.buffer(outShape.reduce(1, *)))
    guard y.count > 0 else { return y }
    ConvTranspose2DKernels.forward(x: x, weight: weight, bias: bias, y: y, geometry)
    y.record(op, inputs: [x, weight] + (bias.map { [$0] } ?? [])) { dy in
      ConvTranspose2DKernels.backward(dy: dy, x: x, weight: weight, bias: bias, geometry)
    }
    return y
  }
}

/// GEMM + col2im kernels for `convTranspose2d`; gradients are accumulated (`+=`).
enum ConvTranspose2DKernels {
  static func forward(
    x: Tensor, weight: Tensor, bias: Tensor?, y: Tensor, _ g: Im2Col.Geometry
  ) {
    let (n, cin, cout) = (x.shape[0], x.shape[1], g.channels)
    let (k, area, plane) = (g.rows, g.outArea, g.imageArea)
    x.scalars.withUnsafeBufferPointer { xBuffer in
      weight.scalars.withUnsafeBufferPointer { wBuffer in
        Im2Col.withValues(bias) { bias in
          y.scalars.withUnsafeMutableBufferPointer { yBuffer in
            let (xp, wp, yp) = (xBuffer.baseAddress!, wBuffer.baseAddress!, yBuffer.baseAddress!)
            Im2Col.fill(yp, bias: bias, channels: cout, batch: n, area: plane)
            if g.isPointwise {
              // y[s] (Cout, HW) += W^T (Cout, Cin) x[s] (Cin, HW)
              for s in 0..<n {
                BLAS.gemm(
                  transposeA: true, m: cout, n: area, k: cin, a: wp, lda: cout,
                  b: xp + s * cin * area, ldb: area, beta: 1, c: yp + s * cout * area, ldc: area)
              }
              return
            }
            let group = Im2Col.groupSize(batch: n, floatsPerSample: (k + cin) * area)
            var columns = Im2Col.buffer(k * group * area)
            var gathered = Im2Col.buffer(group > 1 ? cin * group * area : 0)
            columns.withUnsafeMutableBufferPointer { columns in
              gathered.withUnsafeMutableBufferPointer { gathered in
                let cp = columns.baseAddress!
                for start in Swift.stride(from: 0, to: n, by: group) {
                  let count = min(group, n - start)
                  let width = count * area
                  var xColumns = xp + start * cin * area
                  if count > 1 {
                    Im2Col.batchToChannels(
                      xColumns, channels: cin, batch: count, area: area,
                      into: gathered.baseAddress!)
                    xColumns = UnsafePointer(gathered.baseAddress!)
                  }
                  // columns (K, count*HW) = W^T (K, Cin) x (Cin, count*HW), folded onto y.
                  BLAS.gemm(
                    transposeA: true, m: k, n: width, k: cin, a: wp, lda: k, b: xColumns,
                    ldb: width, c: cp, ldc: width)
                  Im2Col.col2im(cp, batch: count, g, addingTo: yp + start * cout * plane)
                }
              }
            }
          }
        }
      }
    }
  }

  static func backward(
    dy: Tensor, x: Tensor, weight: Tensor, bias: Tensor?, _ g: Im2Col.Geometry
  ) {
    let (n, cin, cout) = (x.shape[0], x.shape[1], g.channels)
    let (k, area, plane) = (g.rows, g.outArea, g.imageArea)
    dy.scalars.withUnsafeBufferPointer { dyBuffer in
      let dyp = dyBuffer.baseAddress!
      Im2Col.withGradient(bias) { db in
        guard let db else { return }
        Im2Col.addChannelSums(of: dyp, channels: cout, batch: n, area: plane, into: db)
      }
      guard x.requiresGrad || weight.requiresGrad else { return }
      x.scalars.withUnsafeBufferPointer { xBuffer in
        weight.scalars.withUnsafeBufferPointer { wBuffer in
          Im2Col.withGradient(x) { dx in
            Im2Col.withGradient(weight) { dw in
              let (xp, wp) = (xBuffer.baseAddress!, wBuffer.baseAddress!)
              if g.isPointwise {
                for s in 0..<n {
                  let (xs, dys) = (xp + s * cin * area, dyp + s * cout * area)
                  if let dx {
                    // dx[s] (Cin, HW) += W (Cin, Cout) dy[s] (Cout, HW)
                    BLAS.gemm(
                      m: cin, n: area, k: cout, a: wp, lda: cout, b: dys, ldb: area, beta: 1,
                      c: dx + s * cin * area, ldc: area)
                  }
                  if let dw {
                    // dW (Cin, Cout) += x[s] (Cin, HW) dy[s]^T (HW, Cout)
                    BLAS.gemm(
                      transposeB: true, m: cin, n: cout, k: area, a: xs, lda: area, b: dys,
                      ldb: area, beta: 1, c: dw, ldc: cout)
                  }
                }
                return
              }
              let group = Im2Col.groupSize(batch: n, floatsPerSample: (k + cin) * area)
              var columns = Im2Col.buffer(k * group * area)
              // Scratch (Cin, count*HW): first dx's columns, then x's.
              var scratch = Im2Col.buffer(group > 1 ? cin * group * area : 0)
              columns.withUnsafeMutableBufferPointer { columns in
                scratch.withUnsafeMutableBufferPointer { scratch in
                  let cp = columns.baseAddress!
                  for start in Swift.stride(from: 0, to: n, by: group) {
                    let count = min(group, n - start)
                    let width = count * area
                    Im2Col.im2col(dyp + start * cout * plane, batch: count, g, into: cp)
                    if let dx {
                      // dx (Cin, count*HW) += W (Cin, K) dyColumns (K, count*HW)
                      let target = dx + start * cin * area
                      if count == 1 {
                        BLAS.gemm(
                          m: cin, n: area, k: k, a: wp, lda: k, b: cp, ldb: area, beta: 1,
                          c: target, ldc: area)
                      } else {
                        BLAS.gemm(
                          m: cin, n: width, k: k, a: wp, lda: k, b: cp, ldb: width,
                          c: scratch.baseAddress!, ldc: width)
                        Im2Col.channelsToBatch(
                          scratch.baseAddress!, channels: cin, batch: count, area: area,
                          into: target, accumulate: true)
                      }
                    }
                    if let dw {
                      // dW (Cin, K) += x (Cin, count*HW) dyColumns^T (count*HW, K)
                      var xColumns = xp + start * cin * area
                      if count > 1 {
                        Im2Col.batchToChannels(
                          xColumns, channels: cin, batch: count, area: area,
                          into: scratch.baseAddress!)
                        xColumns = UnsafePointer(scratch.baseAddress!)
                      }
                      BLAS.gemm(
                        transposeB: true, m: cin, n: k, k: width, a: xColumns, lda: width, b: cp,
                        ldb: width, beta: 1, c: dw, ldc: k)
                    }
                  }
                }
              }
            }
          }
        }
      }
    }
  }
}

/// Plain loops that define what `convTranspose2d` computes; tests compare the two.
public enum ConvTranspose2DReference {
  public static func forward(
    x: Tensor, weight: Tensor, bias: Tensor?, stride: Int = 1, padding: Int = 0,
    outputPadding: Int = 0, dilation: Int = 1
  ) -> Tensor {
    let s = Sizes(
      x: x.shape, weight: weight.shape, stride: stride, padding: padding,
      outputPadding: outputPadding, dilation: dilation)
    let (xs, ws) = (x.scalars, weight.scalars)
    var y = [Double](repeating: 0, count: s.n * s.cout * s.oh * s.ow)
    for b in 0..<s.n {
      for co in 0..<s.cout {
        let base = (b * s.cout + co) * s.oh * s.ow
        for i in 0..<(s.oh * s.ow) { y[base + i] = Double(bias?.scalars[co] ?? 0) }
      }
    }
    s.forEachTap { b, ci, co, ki, kj, iy, ix, oy, ox in
      y[((b * s.cout + co) * s.oh + oy) * s.ow + ox] +=
        Double(xs[((b * s.cin + ci) * s.h + iy) * s.w + ix])
        * Double(ws[((ci * s.cout + co) * s.kh + ki) * s.kw + kj])
    }
    return Tensor(shape: [s.n, s.cout, s.oh, s.ow], scalars: y.map { Float($0) })
  }

  /// Gradients of `sum(dy * convTranspose2d(x, weight, bias))` for x, weight and bias.
  public static func backward(
    x: Tensor, weight: Tensor, dy: Tensor, stride: Int = 1, padding: Int = 0,
    outputPadding: Int = 0, dilation: Int = 1
  ) -> (dx: Tensor, dWeight: Tensor, dBias: Tensor) {
    let s = Sizes(
      x: x.shape, weight: weight.shape, stride: stride, padding: padding,
      outputPadding: outputPadding, dilation: dilation)
    let (xs, ws, gs) = (x.scalars, weight.scalars, dy.scalars)
    var dx = [Double](repeating: 0, count: x.count)
    var dw = [Double](repeating: 0, count: weight.count)
    var db = [Double](repeating: 0, count: s.cout)
    for b in 0..<s.n {
      for co in 0..<s.cout {
        let base = (b * s.cout + co) * s.oh * s.ow
        for i in 0..<(s.oh * s.ow) { db[co] += Double(gs[base + i]) }
      }
    }
    s.forEachTap { b, ci, co, ki, kj, iy, ix, oy, ox in
      let g = Double(gs[((b * s.cout + co) * s.oh + oy) * s.ow + ox])
      let xi = ((b * s.cin + ci) * s.h + iy) * s.w + ix
      let wi = ((ci * s.cout + co) * s.kh + ki) * s.kw + kj
      dx[xi] += g * Double(ws[wi])
      dw[wi] += g * Double(xs[xi])
    }
    return (
      Tensor(shape: x.shape, scalars: dx.map { Float($0) }),
      Tensor(shape: weight.shape, scalars: dw.map { Float($0) }),
      Tensor(shape: [s.cout], scalars: db.map { Float($0) })
    )
  }

  private struct Sizes {
    let n, cin, h, w, cout, kh, kw, stride, padding, dilation, oh, ow: Int

    init(x: [Int], weight: [Int], stride: Int, padding: Int, outputPadding: Int, dilation: Int) {
      (n, cin, h, w) = (x[0], x[1], x[2], x[3])
      (cout, kh, kw) = (weight[1], weight[2], weight[3])
      (self.stride, self.padding, self.dilation) = (stride, padding, dilation)
      oh = (h - 1) * stride - 2 * padding + dilation * (kh - 1) + outputPadding + 1
      ow = (w - 1) * stride - 2 * padding + dilation * (kw - 1) + outputPadding + 1
    }

    /// Calls `body(b, ci, co, ki, kj, iy, ix, oy, ox)` for every input pixel and kernel tap
    /// that lands inside the output.
    func forEachTap(_ body: (Int, Int, Int, Int, Int, Int, Int, Int, Int) -> Void) {
      for b in 0..<n {
        for ci in 0..<cin {
          for iy in 0..<h {
            for ix in 0..<w {
              for co in 0..<cout {
                for ki in 0..<kh {
                  let oy = iy * stride - padding + ki * dilation
                  guard oy >= 0, oy < oh else { continue }
                  for kj in 0..<kw {
                    let ox = ix * stride - padding + kj * dilation
                    guard ox >= 0, ox < ow else { continue }
                    body(b, ci, co, ki, kj, iy, ix, oy, ox)
                  }
                }
              }
            }
          }
        }
      }
    }
  }
}
