// Shape changes that keep the order of the values.

extension Tensor {
  /// The same values with another shape of the same element count; one size may be -1.
  public func reshaped(_ newShape: [Int]) throws -> Tensor {
    var shape = newShape
    if let unknown = shape.firstIndex(of: -1) {
      let known = shape.enumerated().filter { $0.offset != unknown }.map(\.element).reduce(1, *)
      guard known > 0, count % known == 0 else {
        throw TensorError.shapeMismatch(op: "reshape", expected: newShape, actual: self.shape)
      }
      shape[unknown] = count / known
    }
    guard shape.allSatisfy({ $0 >= 0 }), shape.reduce(1, *) == count else {
      throw TensorError.shapeMismatch(op: "reshape", expected: newShape, actual: self.shape)
    }
    let y = OpTrace.traced(.reshape(shape: shape), [self]) {
      Tensor(shape: shape, scalars: scalars)
    }
    y.record("reshape", inputs: [self]) { [self] dy in
      guard grad != nil else {
        // The first gradient is dy itself, reshaped: share its values, as forward does.
        grad = Tensor(shape: self.shape, scalars: dy.scalars)
        return
      }
      accumulateGrad { dx in
        dy.scalars.withUnsafeBufferPointer { dy in
          for i in 0..<dx.count { dx[i] += dy[i] }
        }
      }
    }
    return y
  }

  /// Keeps the first dimension (the batch) and flattens the rest: (N, C, H, W) -> (N, C*H*W).
  public func flattened() throws -> Tensor {
    guard rank >= 1 else {
      throw TensorError.rankMismatch(op: "flatten", expected: 2, actual: shape)
    }
    return try OpTrace.traced(.flatten, [self]) { try reshaped([shape[0], -1]) }
  }
}
