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
