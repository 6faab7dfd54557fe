// Fully connected layer: y = x W^T + b, with PyTorch's weight layout (out, in).

/// `y[n, o] = sum_i x[n, i] * weight[o, i] + bias[o]`; x: (N, I), weight: (O, I), bias: (O).
public func linear(_ x: Tensor, weight: Tensor, bias: Tensor? = nil) throws -> Tensor {
  try OpTrace.traced(.linear, [x, weight, bias]) {
    try expectRank(x, 2, "linear")
    try expectRank(weight, 2, "linear weight")
    let (n, inFeatures, outFeatures) = (x.shape[0], x.shape[1], weight.shape[0])
    guard weight.shape[1] == inFeatures else {
      throw TensorError.shapeMismatch(
        op: "linear: input features", expected: [n, weight.shape[1]], actual: x.shape)
    }
    if let bias { try expectShape(bias, [outFeatures], "linear bias") }
    let y = Tensor(shape: [n, outFeatures])
    LinearKernels.forward(
      y: &y.scalars, x: x.scalars, weight: weight.scalars, bias: bias?.scalars,
      n: n, inFeatures: inFeatures, outFeatures: outFeatures)
    y.record("linear", inputs: [x, weight] + (bias.map { [$0] } ?? [])) { dy in
      if x.requiresGrad {
        x.accumulateOrWriteGrad { dx, overwrite in
          LinearKernels.backwardInput(
            dx: dx.baseAddress!, dy: dy.scalars, weight: weight.scalars,
            n: n, inFeatures: inFeatures, outFeatures: outFeatures, overwrite: overwrite)
        }
      }
      if weight.requiresGrad {
        weight.accumulateOrWriteGrad { dw, overwrite in
          LinearKernels.backwardWeight(
            dw: dw.baseAddress!, dy: dy.scalars, x: x.scalars,
            n: n, inFeatures: inFeatures, outFeatures: outFeatures, overwrite: overwrite)
        }
      }
      if let bias, bias.requiresGrad {
        bias.accumulateGrad { db in
          dy.scalars.withUnsafeBufferPointer { dy in
            for row in 0..<n {
              for o in 0..<outFeatures { db[o] += dy[row * outFeatures + o] }
            }
          }
        }
      }
    }
    return y
  }
}

/// GEMM kernels for `linear`; gradients are accumulated (`+=`).
enum LinearKernels {
  static func forward(
    y: inout [Float], x: [Float], weight: [Float], bias: [Float]?,
    n: Int, inFeatures: Int, outFeatures: Int
  ) {
    if n <= fewRows && inFeatures <= 16_384 && outFeatures * inFeatures >= 1 << 20 {
      y.withUnsafeMutableBufferPointer { yb in
        x.withUnsafeBufferPointer { xb in
          weight.withUnsafeBufferPointer { wb in
            func run(_ bias: UnsafePointer<Float>?) {
              forwardFewRows(
                yb.baseAddress!, xb.baseAddress!, wb.baseAddress!, bias, n: n,
                inFeatures: inFeatures, outFeatures: outFeatures)
            }
            if let bias { bias.withUnsafeBufferPointer { run($0.baseAddress) } } else { run(nil) }
          }
        }
      }
      return
    }
    y.withUnsafeMutableBufferPointer { y in
      if let bias {
        for row in 0..<n {
          for o in 0..<outFeatures { y[row * outFeatures + o] = bias[o] }
        }
      }
      BLAS.gemm(
        transposeB: true, m: n, n: outFeatures, k: inFeatures, a: x, lda: inFeatures,
        b: weight, ldb: inFeatures, beta: bias == nil ? 0 : 1, c: y.baseAddress!, ldc: outFeatures)
    }
  }

  /// Batches up to this many rows take `forwardFewRows`, if they have at most 16,384 inputs:
  /// at VGG's 25,088, four rows of x (400 KB) no longer stay near the core, and OpenBLAS
  /// measured 25% faster (chunks of the inputs that kept them in L1 were slower still).
  static let fewRows = 8

  /// y (N, O) = x (N, I) W^T + bias for a few rows (AlexNet's and VGG's classifiers at small
  /// batches): the weight's bytes are most of the work, so each weight row is read from memory
  /// once and dotted with four rows of x (in cache) at a time, eight lanes each. A GEMM would
  /// first copy the weight into packed panels.
  static func forwardFewRows(
    _ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>,
    _ bias: UnsafePointer<Float>?, n: Int, inFeatures: Int, outFeatures: Int
  ) {
    let whole = inFeatures / 8 * 8
    let blocks = (outFeatures + 15) / 16
    Parallel.forEach(blocks, costPerItem: 16 * inFeatures * n) { block in
      for o in (block * 16)..<min((block + 1) * 16, outFeatures) {
        let row = w + o * inFeatures
        for first in stride(from: 0, to: n, by: 4) {
          // Rows past the batch repeat its last one; their sums are not stored.
          let rows = min(4, n - first)
          let x0 = x + first * inFeatures
          let (x1, x2, x3) = (
            x0 + min(1, rows - 1) * inFeatures, x0 + min(2, rows - 1) * inFeatures,
            x0 + min(3, rows - 1) * inFeatures
          )
          var (s0, s1, s2, s3) = (SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>())
          for k in stride(from: 0, to: whole, by: 8) {
            let v = Lanes.load(row, k, 8)
            s0 += v * Lanes.load(x0, k, 8)
            s1 += v * Lanes.load(x1, k, 8)
            s2 += v * Lanes.load(x2, k, 8)
            s3 += v * Lanes.load(x3, k, 8)
          }
          for (j, (sum, source)) in [(s0, x0), (s1, x1), (s2, x2), (s3, x3)].prefix(rows)
            .enumerated()
          {
            var total = sum.sum() + (bias?[o] ?? 0)
            for k in whole..<inFeatures { total += row[k] * source[k] }
            y[(first + j) * outFeatures + o] = total
          }
        }
      }
    }
  }

  /// dx (N, I) += dy (N, O) * W (O, I); `=` with `overwrite`.
  static func backwardInput(
    dx: UnsafeMutablePointer<Float>, dy: [Float], weight: [Float],
    n: Int, inFeatures: Int, outFeatures: Int, overwrite: Bool = false
  ) {
    BLAS.gemm(
      m: n, n: inFeatures, k: outFeatures, a: dy, lda: outFeatures, b: weight, ldb: inFeatures,
      beta: overwrite ? 0 : 1, c: dx, ldc: inFeatures)
  }

  /// dW (O, I) += dy^T (O, N) * x (N, I); `=` with `overwrite`.
  static func backwardWeight(
    dw: UnsafeMutablePointer<Float>, dy: [Float], x: [Float],
    n: Int, inFeatures: Int, outFeatures: Int, overwrite: Bool = false
  ) {
    BLAS.gemm(
      transposeA: true, m: outFeatures, n: inFeatures, k: n, a: dy, lda: outFeatures,
      b: x, ldb: inFeatures, beta: overwrite ? 0 : 1, c: dw, ldc: inFeatures)
  }
}

/// Plain loops that define what the linear kernels compute; tests compare the two.
public enum LinearReference {
  public static func forward(x: Tensor, weight: Tensor, bias: Tensor?) -> Tensor {
    let (n, inFeatures, outFeatures) = (x.shape[0], x.shape[1], weight.shape[0])
    var y = [Float](repeating: 0, count: n * outFeatures)
    for row in 0..<n {
      for o in 0..<outFeatures {
        var sum = Double(bias?.scalars[o] ?? 0)
        for i in 0..<inFeatures {
          sum +=
            Double(x.scalars[row * inFeatures + i]) * Double(weight.scalars[o * inFeatures + i])
        }
        y[row * outFeatures + o] = Float(sum)
      }
    }
    return Tensor(shape: [n, outFeatures], scalars: y)
  }

  /// Gradients of `sum(dy * linear(x, weight, bias))` for x, weight and bias.
  public static func backward(x: Tensor, weight: Tensor, dy: Tensor) -> (
    dx: Tensor, dWeight: Tensor, dBias: Tensor
  ) {
    let (n, inFeatures, outFeatures) = (x.shape[0], x.shape[1], weight.shape[0])
    let dx = Tensor(shape: x.shape)
    let dw = Tensor(shape: weight.shape)
    let db = Tensor(shape: [outFeatures])
    for row in 0..<n {
      for o in 0..<outFeatures {
        let g = dy.scalars[row * outFeatures + o]
        db.scalars[o] += g
        for i in 0..<inFeatures {
          dx.scalars[row * inFeatures + i] += g * weight.scalars[o * inFeatures + i]
          dw.scalars[o * inFeatures + i] += g * x.scalars[row * inFeatures + i]
        }
      }
    }
    return (dx, dw, db)
  }
}
