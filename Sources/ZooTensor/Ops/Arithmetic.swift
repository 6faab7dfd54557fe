// Element-wise sums and scaling, and whole-tensor reductions.

/// `a + b` for tensors of the same shape (residual connections).
public func add(_ a: Tensor, _ b: Tensor) throws -> Tensor {
  try OpTrace.traced(.add, [a, b]) {
    try expectShape(b, a.shape, "add")
    let y = Tensor.uninitialized(shape: a.shape)
    y.scalars.withUnsafeMutableBufferPointer { y in
      a.scalars.withUnsafeBufferPointer { a in
        b.scalars.withUnsafeBufferPointer { b in
          Parallel.forRanges(y.count) { range in
            for i in range { y[i] = a[i] + b[i] }
          }
        }
      }
    }
    y.record("add", inputs: [a, b]) { dy in
      dy.scalars.withUnsafeBufferPointer { g in
        for input in [a, b] where input.requiresGrad {
          input.accumulateOrWriteGrad { d, overwrite in
            Parallel.forRanges(d.count) { range in
              if overwrite {
                for i in range { d[i] = g[i] }
              } else {
                for i in range { d[i] += g[i] }
              }
            }
          }
        }
      }
    }
    return y
  }
}

/// `x * factor`.
public func scale(_ x: Tensor, by factor: Float) -> Tensor {
  OpTrace.traced(.scale(factor), [x]) {
    let y = Tensor(shape: x.shape, scalars: x.scalars.map { $0 * factor })
    y.record("scale", inputs: [x]) { dy in
      x.accumulateGrad { dx in
        for i in 0..<dx.count { dx[i] += factor * dy.scalars[i] }
      }
    }
    return y
  }
}

/// The sum of all elements, as a scalar tensor.
public func sum(_ x: Tensor) -> Tensor {
  OpTrace.traced(.other("sum"), [x]) {
    let y = Tensor(Float(x.scalars.reduce(0.0) { $0 + Double($1) }))
    y.record("sum", inputs: [x]) { dy in
      let g = dy.scalars[0]
      x.accumulateGrad { dx in
        for i in 0..<dx.count { dx[i] += g }
      }
    }
    return y
  }
}

/// The mean of all elements, as a scalar tensor.
public func mean(_ x: Tensor) -> Tensor {
  scale(sum(x), by: 1 / Float(max(x.count, 1)))
}

/// `sum(x * weights)` with constant `weights`: the scalar that gradient checks differentiate.
public func weightedSum(_ x: Tensor, weights: Tensor) throws -> Tensor {
  try OpTrace.traced(.other("weightedSum"), [x, weights]) {
    try expectShape(weights, x.shape, "weightedSum")
    var total = 0.0
    for i in 0..<x.count { total += Double(x.scalars[i]) * Double(weights.scalars[i]) }
    let y = Tensor(Float(total))
    y.record("weightedSum", inputs: [x]) { dy in
      let g = dy.scalars[0]
      x.accumulateGrad { dx in
        for i in 0..<dx.count { dx[i] += g * weights.scalars[i] }
      }
    }
    return y
  }
}
