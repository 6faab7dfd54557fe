// Nearest-neighbour upsampling: (N, C, H, W) -> (N, C, H * scale, W * scale).

/// Repeats every pixel in a `scale` x `scale` block:
/// `y[n, c, h, w] = x[n, c, h / scale, w / scale]`.
public func upsampleNearest(_ x: Tensor, scale: Int) throws -> Tensor {
  try OpTrace.traced(.upsampleNearest(scale: scale), [x]) {
    try expectRank(x, 4, "upsampleNearest")
    guard scale >= 1 else {
      throw TensorError.invalidArgument(
        op: "upsampleNearest", message: "scale must be at least 1, got \(scale)")
    }
    let (n, c, height, width) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let y = Tensor(shape: [n, c, height * scale, width * scale])
    y.scalars.withUnsafeMutableBufferPointer { y in
      x.scalars.withUnsafeBufferPointer { x in
        UpsampleKernels.forward(
          y: y.baseAddress!, x: x.baseAddress!, planes: n * c, height: height, width: width,
          scale: scale)
      }
    }
    y.record("upsampleNearest", inputs: [x]) { dy in
      x.accumulateGrad { dx in
        dy.scalars.withUnsafeBufferPointer { dy in
          UpsampleKernels.backward(
            dx: dx.baseAddress!, dy: dy.baseAddress!, planes: n * c, height: height, width: width,
            scale: scale)
        }
      }
    }
    return y
  }
}

/// Kernels over `planes` = N * C independent (H, W) planes, in parallel over planes.
enum UpsampleKernels {
  static func forward(
    y: UnsafeMutablePointer<Float>, x: UnsafePointer<Float>, planes: Int, height: Int, width: Int,
    scale: Int
  ) {
    let outWidth = width * scale
    let outPlane = height * scale * outWidth
    Parallel.forEach(planes, costPerItem: outPlane) { p in
      let x = x + p * height * width
      let y = y + p * outPlane
      for h in 0..<height {
        // Build one output row, then repeat it scale - 1 times.
        let row = y + h * scale * outWidth
        for w in 0..<width {
          let value = x[h * width + w]
          for k in 0..<scale { row[w * scale + k] = value }
        }
        for r in 1..<scale { (row + r * outWidth).update(from: row, count: outWidth) }
      }
    }
  }

  /// dx[h, w] += sum of dy over its scale x scale block
  static func backward(
    dx: UnsafeMutablePointer<Float>, dy: UnsafePointer<Float>, planes: Int, height: Int,
    width: Int, scale: Int
  ) {
    let outWidth = width * scale
    let outPlane = height * scale * outWidth
    Parallel.forEach(planes, costPerItem: outPlane) { p in
      let dx = dx + p * height * width
      let dy = dy + p * outPlane
      for h in 0..<height {
        for r in 0..<scale {
          let row = dy + (h * scale + r) * outWidth
          for w in 0..<width {
            var total: Float = 0
            for k in 0..<scale { total += row[w * scale + k] }
            dx[h * width + w] += total
          }
        }
      }
    }
  }
}

/// Plain index loops that define `upsampleNearest`; tests compare the two.
public enum UpsampleReference {
  public static func forward(_ x: Tensor, scale: Int) -> Tensor {
    let (n, c, height, width) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let (outH, outW) = (height * scale, width * scale)
    let y = Tensor(shape: [n, c, outH, outW])
    for p in 0..<n * c {
      for h in 0..<outH {
        for w in 0..<outW {
          y.scalars[(p * outH + h) * outW + w] =
            x.scalars[(p * height + h / scale) * width + w / scale]
        }
      }
    }
    return y
  }

  /// The gradient of `sum(dy * upsampleNearest(x))` with respect to x.
  public static func backward(inputShape: [Int], dy: Tensor, scale: Int) -> Tensor {
    let (height, width) = (inputShape[2], inputShape[3])
    let (outH, outW) = (height * scale, width * scale)
    var dx = [Double](repeating: 0, count: inputShape.reduce(1, *))
    for p in 0..<inputShape[0] * inputShape[1] {
      for h in 0..<outH {
        for w in 0..<outW {
          dx[(p * height + h / scale) * width + w / scale] +=
            Double(dy.scalars[(p * outH + h) * outW + w])
        }
      }
    }
    return Tensor(shape: inputShape, scalars: dx.map { Float($0) })
  }
}
