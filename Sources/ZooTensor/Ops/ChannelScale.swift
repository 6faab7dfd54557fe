// Per-channel scaling: x (N, C, ...) times scale (N, C, 1, ...), one factor per (sample, channel)
// plane. Squeeze-and-excitation gates channels with it; stochastic depth (C = 1) drops samples.

/// `y[n, c, ...] = x[n, c, ...] * scale[n, c]`. `scale` has x's rank, x's first two sizes and
/// 1 for every other dimension (`(N, C, 1, 1)` for images), as PyTorch broadcasts it.
public func scaleChannels(_ x: Tensor, by scale: Tensor) throws -> Tensor {
  guard x.rank >= 2 else {
    throw TensorError.invalidArgument(
      op: "scaleChannels",
      message: "needs an input of rank 2 or more (N, C, ...), got shape \(describe(shape: x.shape))"
    )
  }
  try expectShape(scale, ChannelScaleKernels.scaleShape(x.shape), "scaleChannels")
  let planes = scale.count
  let plane = planes > 0 ? x.count / planes : 0
  let y = Tensor.uninitialized(shape: x.shape)
  y.scalars.withUnsafeMutableBufferPointer { y in
    x.scalars.withUnsafeBufferPointer { x in
      scale.scalars.withUnsafeBufferPointer { s in
        ChannelScaleKernels.forward(y: y, x: x, scale: s, plane: plane)
      }
    }
  }
  y.record("scaleChannels", inputs: [x, scale]) { [xs = x.scalars, ss = scale.scalars] dy in
    dy.scalars.withUnsafeBufferPointer { dy in
      if x.requiresGrad {
        x.accumulateGrad { dx in
          ss.withUnsafeBufferPointer {
            ChannelScaleKernels.forward(y: dx, x: dy, scale: $0, plane: plane, accumulate: true)
          }
        }
      }
      if scale.requiresGrad {
        scale.accumulateGrad { ds in
          xs.withUnsafeBufferPointer {
            ChannelScaleKernels.planeDots(ds: ds, dy: dy, x: $0, plane: plane)
          }
        }
      }
    }
  }
  return y
}

enum ChannelScaleKernels {
  /// `(N, C, 1, ...)` for an input of shape `(N, C, ...)`.
  static func scaleShape(_ shape: [Int]) -> [Int] {
    Array(shape.prefix(2)) + Array(repeating: 1, count: shape.count - 2)
  }

  /// y = x * scale[plane], or y += x * scale[plane] with `accumulate` (dx from dy).
  static func forward(
    y: UnsafeMutableBufferPointer<Float>, x: UnsafeBufferPointer<Float>,
    scale: UnsafeBufferPointer<Float>, plane: Int, accumulate: Bool = false
  ) {
    let (yp, xp) = (y.baseAddress, x.baseAddress)
    Parallel.forEach(scale.count, costPerItem: plane) { p in
      guard let yp, let xp else { return }
      let (row, source, factor) = (yp + p * plane, xp + p * plane, scale[p])
      if accumulate {
        for i in 0..<plane { row[i] += source[i] * factor }
      } else {
        for i in 0..<plane { row[i] = source[i] * factor }
      }
    }
  }

  /// ds[plane] += sum over the plane of dy * x
  static func planeDots(
    ds: UnsafeMutableBufferPointer<Float>, dy: UnsafeBufferPointer<Float>,
    x: UnsafeBufferPointer<Float>, plane: Int
  ) {
    let (dyp, xp) = (dy.baseAddress, x.baseAddress)
    Parallel.forEach(ds.count, costPerItem: plane) { p in
      guard let dyp, let xp else { return }
      var total: Float = 0
      for i in (p * plane)..<((p + 1) * plane) { total += dyp[i] * xp[i] }
      ds[p] += total
    }
  }
}

/// Plain loops that define `scaleChannels`; tests compare the two.
public enum ChannelScaleReference {
  public static func forward(_ x: Tensor, scale: Tensor) -> Tensor {
    let plane = x.count / max(scale.count, 1)
    return Tensor(
      shape: x.shape, scalars: x.scalars.indices.map { x.scalars[$0] * scale.scalars[$0 / plane] })
  }

  /// The gradients of `sum(dy * scaleChannels(x, scale))` for x and for scale.
  public static func backward(_ x: Tensor, scale: Tensor, dy: Tensor) -> (
    dx: Tensor, dScale: Tensor
  ) {
    let plane = x.count / max(scale.count, 1)
    var dScale = [Double](repeating: 0, count: scale.count)
    var dx = [Float](repeating: 0, count: x.count)
    for i in 0..<x.count {
      dx[i] = dy.scalars[i] * scale.scalars[i / plane]
      dScale[i / plane] += Double(dy.scalars[i]) * Double(x.scalars[i])
    }
    return (
      Tensor(shape: x.shape, scalars: dx),
      Tensor(shape: scale.shape, scalars: dScale.map { Float($0) })
    )
  }
}
