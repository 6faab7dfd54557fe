// Per-channel scaling: x (N, C, ...) times scale (N, C, 1, ...), one factor per (sample, channel)
// plane, or times scale (C, 1, ...), one factor per channel shared by every sample.
// Squeeze-and-excitation gates channels with the first, stochastic depth (C = 1) drops samples
// with it; ConvNeXt's learned layer scale is the second.

/// `y[n, c, ...] = x[n, c, ...] * scale[n, c]`, or `x[n, c, ...] * scale[c]`, as PyTorch
/// broadcasts a scale of shape `(N, C, 1, 1)` or `(C, 1, 1)` against images `(N, C, H, W)`.
public func scaleChannels(_ x: Tensor, by scale: Tensor) throws -> Tensor {
  try OpTrace.traced(.scaleChannels, [x, scale]) {
    guard x.rank >= 2 else {
      throw TensorError.invalidArgument(
        op: "scaleChannels",
        message:
          "needs an input of rank 2 or more (N, C, ...), got shape \(describe(shape: x.shape))"
      )
    }
    let shared = scale.rank == x.rank - 1
    try expectShape(
      scale, ChannelScaleKernels.scaleShape(x.shape, shared: shared), "scaleChannels")
    let planes = x.shape[0] * x.shape[1]
    let plane = planes > 0 ? x.count / planes : 0
    let y = Tensor.uninitialized(shape: x.shape)
    y.scalars.withUnsafeMutableBufferPointer { y in
      x.scalars.withUnsafeBufferPointer { x in
        scale.scalars.withUnsafeBufferPointer { s in
          ChannelScaleKernels.forward(y: y, x: x, scale: s, planes: planes, plane: plane)
        }
      }
    }
    y.record("scaleChannels", inputs: [x, scale]) { [xs = x.scalars, ss = scale.scalars] dy in
      dy.scalars.withUnsafeBufferPointer { dy in
        if x.requiresGrad {
          x.accumulateGrad { dx in
            ss.withUnsafeBufferPointer {
              ChannelScaleKernels.forward(
                y: dx, x: dy, scale: $0, planes: planes, plane: plane, accumulate: true)
            }
          }
        }
        if scale.requiresGrad {
          scale.accumulateGrad { ds in
            xs.withUnsafeBufferPointer {
              ChannelScaleKernels.planeDots(ds: ds, dy: dy, x: $0, planes: planes, plane: plane)
            }
          }
        }
      }
    }
    return y
  }
}

enum ChannelScaleKernels {
  /// `(N, C, 1, ...)` for an input of shape `(N, C, ...)`, or `(C, 1, ...)` when `shared`.
  static func scaleShape(_ shape: [Int], shared: Bool = false) -> [Int] {
    Array(shape.prefix(2).dropFirst(shared ? 1 : 0)) + Array(repeating: 1, count: shape.count - 2)
  }

  /// y = x * scale[plane], or y += x * scale[plane] with `accumulate` (dx from dy). A shared
  /// scale (one factor per channel) repeats for every sample: plane p takes `p % scale.count`.
  static func forward(
    y: UnsafeMutableBufferPointer<Float>, x: UnsafeBufferPointer<Float>,
    scale: UnsafeBufferPointer<Float>, planes: Int, plane: Int, accumulate: Bool = false
  ) {
    let (yp, xp) = (y.baseAddress, x.baseAddress)
    Parallel.forEach(planes, costPerItem: plane) { p in
      guard let yp, let xp else { return }
      let (row, source, factor) = (yp + p * plane, xp + p * plane, scale[p % scale.count])
      if accumulate {
        for i in 0..<plane { row[i] += source[i] * factor }
      } else {
        for i in 0..<plane { row[i] = source[i] * factor }
      }
    }
  }

  /// ds[k] += sum of dy * x over the planes that scale[k] multiplied: plane k alone, or, for a
  /// shared scale, plane k of every sample (each factor on one thread, so no two threads add
  /// to one).
  static func planeDots(
    ds: UnsafeMutableBufferPointer<Float>, dy: UnsafeBufferPointer<Float>,
    x: UnsafeBufferPointer<Float>, planes: Int, plane: Int
  ) {
    let (dyp, xp) = (dy.baseAddress, x.baseAddress)
    let factors = ds.count
    Parallel.forEach(factors, costPerItem: plane * planes / max(factors, 1)) { k in
      guard let dyp, let xp else { return }
      var total: Float = 0
      for p in stride(from: k, to: planes, by: factors) {
        for i in (p * plane)..<((p + 1) * plane) { total += dyp[i] * xp[i] }
      }
      ds[k] += total
    }
  }
}

/// Plain loops that define `scaleChannels`; tests compare the two.
public enum ChannelScaleReference {
  /// The factor of flat index i of x: its plane's, repeated per sample for a shared scale.
  private static func factorIndex(_ x: Tensor, _ scale: Tensor) -> (Int) -> Int {
    let plane = x.count / max(x.shape[0] * x.shape[1], 1)
    return { ($0 / plane) % scale.count }
  }

  public static func forward(_ x: Tensor, scale: Tensor) -> Tensor {
    let factor = factorIndex(x, scale)
    return Tensor(
      shape: x.shape, scalars: x.scalars.indices.map { x.scalars[$0] * scale.scalars[factor($0)] })
  }

  /// The gradients of `sum(dy * scaleChannels(x, scale))` for x and for scale.
  public static func backward(_ x: Tensor, scale: Tensor, dy: Tensor) -> (
    dx: Tensor, dScale: Tensor
  ) {
    let factor = factorIndex(x, scale)
    var dScale = [Double](repeating: 0, count: scale.count)
    var dx = [Float](repeating: 0, count: x.count)
    for i in 0..<x.count {
      dx[i] = dy.scalars[i] * scale.scalars[factor(i)]
      dScale[factor(i)] += Double(dy.scalars[i]) * Double(x.scalars[i])
    }
    return (
      Tensor(shape: x.shape, scalars: dx),
      Tensor(shape: scale.shape, scalars: dScale.map { Float($0) })
    )
  }
}
