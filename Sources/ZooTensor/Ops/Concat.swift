// Channel concatenation: (N, C1, H, W), (N, C2, H, W), ... -> (N, C1 + C2 + ..., H, W), and
// its inverse, a slice of channels.

/// Concatenates along channels, as U-Net's skip connections do. N, H and W must agree.
public func concatChannels(_ tensors: [Tensor]) throws -> Tensor {
  try OpTrace.traced(.concatChannels, tensors) {
    guard let first = tensors.first else {
      throw TensorError.invalidArgument(op: "concatChannels", message: "needs at least one tensor")
    }
    for (k, t) in tensors.enumerated() {
      try expectRank(t, 4, "concatChannels: tensor \(k)")
      let expected = [first.shape[0], t.shape[1], first.shape[2], first.shape[3]]
      guard t.shape == expected else {
        let reference = describe(shape: first.shape)
        throw TensorError.shapeMismatch(
          op: "concatChannels: tensor \(k) must match tensor 0 \(reference) in N, H, W",
          expected: expected, actual: t.shape)
      }
    }
    let (n, height, width) = (first.shape[0], first.shape[2], first.shape[3])
    let plane = height * width
    let channels = tensors.map { $0.shape[1] }
    let total = channels.reduce(0, +)
    let y = Tensor(shape: [n, total, height, width])
    y.scalars.withUnsafeMutableBufferPointer { y in
      var offset = 0
      for (t, c) in zip(tensors, channels) {
        t.scalars.withUnsafeBufferPointer { x in
          ConcatKernels.transfer(
            from: x.baseAddress!, to: y.baseAddress!, intoSlice: true, channels: c, total: total,
            offset: offset, n: n, plane: plane)
        }
        offset += c
      }
    }
    y.record("concatChannels", inputs: tensors) { dy in
      var offset = 0
      for (t, c) in zip(tensors, channels) {
        if t.requiresGrad {
          t.accumulateGrad { dx in
            dy.scalars.withUnsafeBufferPointer { dy in
              ConcatKernels.transfer(
                from: dy.baseAddress!, to: dx.baseAddress!, intoSlice: false, channels: c,
                total: total, offset: offset, n: n, plane: plane, accumulate: true)
            }
          }
        }
        offset += c
      }
    }
    return y
  }
}

/// Channels `range` of x (N, C, H, W), as PyTorch's `x[:, range]`: (N, range.count, H, W).
/// Its gradient goes back into those channels of x.
public func sliceChannels(_ x: Tensor, _ range: Range<Int>) throws -> Tensor {
  try OpTrace.traced(.sliceChannels(start: range.lowerBound, end: range.upperBound), [x]) {
    try expectRank(x, 4, "sliceChannels")
    let (n, total, plane) = (x.shape[0], x.shape[1], x.shape[2] * x.shape[3])
    guard range.lowerBound >= 0, range.upperBound <= total else {
      throw TensorError.invalidArgument(
        op: "sliceChannels",
        message: "channels must lie in 0..<\(total), got \(range.lowerBound)..<\(range.upperBound)")
    }
    let y = Tensor(shape: [n, range.count, x.shape[2], x.shape[3]])
    let offset = range.lowerBound
    x.scalars.withUnsafeBufferPointer { x in
      y.scalars.withUnsafeMutableBufferPointer { y in
        ConcatKernels.transfer(
          from: x.baseAddress!, to: y.baseAddress!, intoSlice: false, channels: range.count,
          total: total, offset: offset, n: n, plane: plane)
      }
    }
    y.record("sliceChannels", inputs: [x]) { dy in
      x.accumulateGrad { dx in
        dy.scalars.withUnsafeBufferPointer { dy in
          ConcatKernels.transfer(
            from: dy.baseAddress!, to: dx.baseAddress!, intoSlice: true, channels: range.count,
            total: total, offset: offset, n: n, plane: plane, accumulate: true)
        }
      }
    }
    return y
  }
}

/// Moves values between a (N, channels, H, W) tensor and channels `offset ..< offset +
/// channels` of a (N, total, H, W) one; each sample's slice is one contiguous run.
enum ConcatKernels {
  /// With `intoSlice`, the slice of `to` (+)= `from`; else `to` (+)= the slice of `from`.
  static func transfer(
    from source: UnsafePointer<Float>, to target: UnsafeMutablePointer<Float>, intoSlice: Bool,
    channels: Int, total: Int, offset: Int, n: Int, plane: Int, accumulate: Bool = false
  ) {
    let run = channels * plane
    Parallel.forEach(n, costPerItem: run) { i in
      let (part, slice) = (i * run, (i * total + offset) * plane)
      let (from, to) = (source + (intoSlice ? part : slice), target + (intoSlice ? slice : part))
      if accumulate {
        for k in 0..<run { to[k] += from[k] }
      } else {
        to.update(from: from, count: run)
      }
    }
  }
}

/// Plain index loops that define `concatChannels`; tests compare the two.
public enum ConcatReference {
  public static func forward(_ tensors: [Tensor]) -> Tensor {
    let (n, height, width) = (tensors[0].shape[0], tensors[0].shape[2], tensors[0].shape[3])
    let total = tensors.map { $0.shape[1] }.reduce(0, +)
    let y = Tensor(shape: [n, total, height, width])
    for i in 0..<n {
      var base = 0
      for t in tensors {
        for c in 0..<t.shape[1] {
          for h in 0..<height {
            for w in 0..<width {
              y.scalars[((i * total + base + c) * height + h) * width + w] =
                t.scalars[((i * t.shape[1] + c) * height + h) * width + w]
            }
          }
        }
        base += t.shape[1]
      }
    }
    return y
  }

  /// The gradient of `sum(dy * concatChannels(tensors))` for each input: its slice of dy.
  public static func backward(shapes: [[Int]], dy: Tensor) -> [Tensor] {
    let (n, total, height, width) = (dy.shape[0], dy.shape[1], dy.shape[2], dy.shape[3])
    var base = 0
    return shapes.map { shape in
      let dx = Tensor(shape: shape)
      for i in 0..<n {
        for c in 0..<shape[1] {
          for h in 0..<height {
            for w in 0..<width {
              dx.scalars[((i * shape[1] + c) * height + h) * width + w] =
                dy.scalars[((i * total + base + c) * height + h) * width + w]
            }
          }
        }
      }
      base += shape[1]
      return dx
    }
  }
}
