// 2-D convolution (cross-correlation, as PyTorch): x (N, C, H, W), weight (O, C, kh, kw),
// bias (O) -> (N, O, OH, OW), OH = (H + 2*padding - dilation*(kh-1) - 1) / stride + 1.

/// PyTorch's `conv2d` without groups: `y[n, o] = sum_c weight[o, c] * x[n, c] + bias[o]`.
/// x (N, C, H, W), weight (O, C, kh, kw) [PyTorch layout], bias (O); square stride, padding
/// and dilation.
public func conv2d(
  _ x: Tensor, weight: Tensor, bias: Tensor? = nil, stride: Int = 1, padding: Int = 0,
  dilation: Int = 1
) throws -> Tensor {
  let op = "conv2d"
  try expectRank(x, 4, op)
  try expectRank(weight, 4, "conv2d weight")
  let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
  let (o, kh, kw) = (weight.shape[0], weight.shape[2], weight.shape[3])
  guard weight.shape[1] == c else {
    throw TensorError.shapeMismatch(
      op: "conv2d: input channels", expected: [n, weight.shape[1], h, w], actual: x.shape)
  }
  if let bias { try expectShape(bias, [o], "conv2d bias") }
  try Im2Col.checkHyperparameters(op, stride: stride, padding: padding, dilation: dilation)
  guard weight.count > 0 else {
    throw TensorError.invalidArgument(
      op: op, message: "weight \(describe(shape: weight.shape)) has a zero-size dimension")
  }
  let (spanH, spanW) = (dilation * (kh - 1) + 1, dilation * (kw - 1) + 1)
  let (paddedH, paddedW) = (h + 2 * padding, w + 2 * padding)
  guard spanH <= paddedH, spanW <= paddedW else {
    throw TensorError.invalidArgument(
      op: op,
      message: "kernel \(kh)x\(kw) with dilation \(dilation) spans \(spanH)x\(spanW), larger "
        + "than the padded input \(paddedH)x\(paddedW) (input \(describe(shape: x.shape)), "
        + "padding \(padding))")
  }
  let geometry = Im2Col.Geometry(
    channels: c, height: h, width: w, kernelHeight: kh, kernelWidth: kw, stride: stride,
    padding: padding, dilation: dilation, outHeight: (paddedH - spanH) / stride + 1,
    outWidth: (paddedW - spanW) / stride + 1)
  let outShape = [n, o, geometry.outHeight, geometry.outWidth]
  let y = Tensor(shape: outShape, scalars: Im2Col.buffer(outShape.reduce(1, *)))
  guard y.count > 0 else { return y }
  Conv2DKernels.forward(x: x, weight: weight, bias: bias, y: y, outChannels: o, geometry)
  y.record(op, inputs: [x, weight] + (bias.map { [$0] } ?? [])) { dy in
    Conv2DKernels.backward(
      dy: dy, x: x, weight: weight, bias: bias, outChannels: o, geometry)
  }
  return y
}

/// im2col + GEMM kernels for `conv2d`; gradients are accumulated (`+=`).
enum Conv2DKernels {
  static func forward(
    x: Tensor, weight: Tensor, bias: Tensor?, y: Tensor, outChannels o: Int,
    _ g: Im2Col.Geometry
  ) {
    let (n, k, area) = (x.shape[0], g.rows, g.outArea)
    x.scalars.withUnsafeBufferPointer { xBuffer in
      weight.scalars.withUnsafeBufferPointer { wBuffer in
        Im2Col.withValues(bias) { bias in
          y.scalars.withUnsafeMutableBufferPointer { yBuffer in
            let (xp, wp, yp) = (xBuffer.baseAddress!, wBuffer.baseAddress!, yBuffer.baseAddress!)
            if g.isPointwise {
              // y[s] (O, HW) = W (O, C) x[s] (C, HW)
              for s in 0..<n {
                BLAS.gemm(
                  m: o, n: area, k: k, a: wp, lda: k, b: xp + s * k * area, ldb: area,
                  c: yp + s * o * area, ldc: area)
              }
              if let bias { Im2Col.addBias(bias, to: yp, channels: o, batch: n, area: area) }
              return
            }
            let group = Im2Col.groupSize(batch: n, floatsPerSample: (k + o) * area)
            var columns = Im2Col.buffer(k * group * area)
            var product = Im2Col.buffer(group > 1 ? o * group * area : 0)
            columns.withUnsafeMutableBufferPointer { columns in
              product.withUnsafeMutableBufferPointer { product in
                for start in Swift.stride(from: 0, to: n, by: group) {
                  let count = min(group, n - start)
                  let width = count * area
                  let target = yp + start * o * area
                  Im2Col.im2col(
                    xp + start * g.channels * g.imageArea, batch: count, g,
                    into: columns.baseAddress!)
                  if count == 1 {
                    BLAS.gemm(
                      m: o, n: area, k: k, a: wp, lda: k, b: columns.baseAddress!, ldb: area,
                      c: target, ldc: area)
                    if let bias {
                      Im2Col.addBias(bias, to: target, channels: o, batch: 1, area: area)
                    }
                  } else {
                    // (O, K) x (K, count*L) -> (O, count*L), then back to (count, O, L).
                    BLAS.gemm(
                      m: o, n: width, k: k, a: wp, lda: k, b: columns.baseAddress!, ldb: width,
                      c: product.baseAddress!, ldc: width)
                    Im2Col.channelsToBatch(
                      product.baseAddress!, channels: o, batch: count, area: area, into: target,
                      bias: bias)
                  }
                }
              }
            }
          }
        }
      }
    }
  }

  static func backward(
    dy: Tensor, x: Tensor, weight: Tensor, bias: Tensor?, outChannels o: Int,
    _ g: Im2Col.Geometry
  ) {
    let (n, k, area, plane) = (x.shape[0], g.rows, g.outArea, g.imageArea)
    dy.scalars.withUnsafeBufferPointer { dyBuffer in
      let dyp = dyBuffer.baseAddress!
      Im2Col.withGradient(bias) { db in
        guard let db else { return }
        Im2Col.addChannelSums(of: dyp, channels: o, batch: n, area: area, into: db)
      }
      guard x.requiresGrad || weight.requiresGrad else { return }
      x.scalars.withUnsafeBufferPointer { xBuffer in
        weight.scalars.withUnsafeBufferPointer { wBuffer in
          Im2Col.withGradient(x) { dx in
            Im2Col.withGradient(weight) { dw in
              let (xp, wp) = (xBuffer.baseAddress!, wBuffer.baseAddress!)
              if g.isPointwise {
                for s in 0..<n {
                  let (xs, dys) = (xp + s * k * area, dyp + s * o * area)
                  if let dw {
                    // dW (O, C) += dy[s] (O, HW) x[s]^T (HW, C)
                    BLAS.gemm(
                      transposeB: true, m: o, n: k, k: area, a: dys, lda: area, b: xs, ldb: area,
                      beta: 1, c: dw, ldc: k)
                  }
                  if let dx {
                    // dx[s] (C, HW) += W^T (C, O) dy[s] (O, HW)
                    BLAS.gemm(
                      transposeA: true, m: k, n: area, k: o, a: wp, lda: k, b: dys, ldb: area,
                      beta: 1, c: dx + s * k * area, ldc: area)
                  }
                }
                return
              }
              let group = Im2Col.groupSize(batch: n, floatsPerSample: (k + o) * area)
              // One buffer serves as the columns for dW, then as their gradient for dx.
              var columns = Im2Col.buffer(k * group * area)
              var gathered = Im2Col.buffer(group > 1 ? o * group * area : 0)
              columns.withUnsafeMutableBufferPointer { columns in
                gathered.withUnsafeMutableBufferPointer { gathered in
                  let cp = columns.baseAddress!
                  for start in Swift.stride(from: 0, to: n, by: group) {
                    let count = min(group, n - start)
                    let width = count * area
                    var dyColumns = dyp + start * o * area
                    if count > 1 {
                      Im2Col.batchToChannels(
                        dyColumns, channels: o, batch: count, area: area,
                        into: gathered.baseAddress!)
                      dyColumns = UnsafePointer(gathered.baseAddress!)
                    }
                    if let dw {
                      // dW (O, K) += dy (O, count*L) columns^T (count*L, K)
                      Im2Col.im2col(xp + start * g.channels * plane, batch: count, g, into: cp)
                      BLAS.gemm(
                        transposeB: true, m: o, n: k, k: width, a: dyColumns, lda: width, b: cp,
                        ldb: width, beta: 1, c: dw, ldc: k)
                    }
                    if let dx {
                      // dColumns (K, count*L) = W^T (K, O) dy (O, count*L), folded back.
                      BLAS.gemm(
                        transposeA: true, m: k, n: width, k: o, a: wp, lda: k, b: dyColumns,
                        ldb: width, c: cp, ldc: width)
                      Im2Col.col2im(cp, batch: count, g, addingTo: dx + start * g.channels * plane)
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

/// Plain loops that define what `conv2d` computes; tests compare the two.
public enum Conv2DReference {
  public static func forward(
    x: Tensor, weight: Tensor, bias: Tensor?, stride: Int = 1, padding: Int = 0,
    dilation: Int = 1
  ) -> Tensor {
    let s = Sizes(
      x: x.shape, weight: weight.shape, stride: stride, padding: padding,
      dilation: dilation)
    let (xs, ws) = (x.scalars, weight.scalars)
    var y = [Float](repeating: 0, count: s.n * s.o * s.oh * s.ow)
    for b in 0..<s.n {
      for oc in 0..<s.o {
        for oy in 0..<s.oh {
          for ox in 0..<s.ow {
            var sum = Double(bias?.scalars[oc] ?? 0)
            s.forEachTap(oy: oy, ox: ox) { ic, ki, kj, iy, ix in
              sum +=
                Double(xs[((b * s.c + ic) * s.h + iy) * s.w + ix])
                * Double(ws[((oc * s.c + ic) * s.kh + ki) * s.kw + kj])
            }
            y[((b * s.o + oc) * s.oh + oy) * s.ow + ox] = Float(sum)
          }
        }
      }
    }
    return Tensor(shape: [s.n, s.o, s.oh, s.ow], scalars: y)
  }

  /// Gradients of `sum(dy * conv2d(x, weight, bias))` for x, weight and bias.
  public static func backward(
    x: Tensor, weight: Tensor, dy: Tensor, stride: Int = 1, padding: Int = 0, dilation: Int = 1
  ) -> (dx: Tensor, dWeight: Tensor, dBias: Tensor) {
    let s = Sizes(
      x: x.shape, weight: weight.shape, stride: stride, padding: padding,
      dilation: dilation)
    let (xs, ws, gs) = (x.scalars, weight.scalars, dy.scalars)
    var dx = [Double](repeating: 0, count: x.count)
    var dw = [Double](repeating: 0, count: weight.count)
    var db = [Double](repeating: 0, count: s.o)
    for b in 0..<s.n {
      for oc in 0..<s.o {
        for oy in 0..<s.oh {
          for ox in 0..<s.ow {
            let g = Double(gs[((b * s.o + oc) * s.oh + oy) * s.ow + ox])
            db[oc] += g
            s.forEachTap(oy: oy, ox: ox) { ic, ki, kj, iy, ix in
              let xi = ((b * s.c + ic) * s.h + iy) * s.w + ix
              let wi = ((oc * s.c + ic) * s.kh + ki) * s.kw + kj
              dx[xi] += g * Double(ws[wi])
              dw[wi] += g * Double(xs[xi])
            }
          }
        }
      }
    }
    return (
      Tensor(shape: x.shape, scalars: dx.map { Float($0) }),
      Tensor(shape: weight.shape, scalars: dw.map { Float($0) }),
      Tensor(shape: [s.o], scalars: db.map { Float($0) })
    )
  }

  private struct Sizes {
    let n, c, h, w, o, kh, kw, stride, padding, dilation, oh, ow: Int

    init(x: [Int], weight: [Int], stride: Int, padding: Int, dilation: Int) {
      (n, c, h, w) = (x[0], x[1], x[2], x[3])
      (o, kh, kw) = (weight[0], weight[2], weight[3])
      (self.stride, self.padding, self.dilation) = (stride, padding, dilation)
      oh = (h + 2 * padding - dilation * (kh - 1) - 1) / stride + 1
      ow = (w + 2 * padding - dilation * (kw - 1) - 1) / stride + 1
    }

    /// Calls `body(ic, ki, kj, iy, ix)` for each kernel tap of output (oy, ox) inside x.
    func forEachTap(oy: Int, ox: Int, _ body: (Int, Int, Int, Int, Int) -> Void) {
      for ic in 0..<c {
        for ki in 0..<kh {
          let iy = oy * stride - padding + ki * dilation
          guard iy >= 0, iy < h else { continue }
          for kj in 0..<kw {
            let ix = ox * stride - padding + kj * dilation
            guard ix >= 0, ix < w else { continue }
            body(ic, ki, kj, iy, ix)
          }
        }
      }
    }
  }
}
