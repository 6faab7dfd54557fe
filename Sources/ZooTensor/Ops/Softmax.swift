// Softmax and log-softmax along one axis of a tensor of any rank; the output has x's shape.

import Foundation

/// `exp(x - max) / sum(exp(x - max))` along `axis` (negative counts from the end).
public func softmax(_ x: Tensor, axis: Int = 1) throws -> Tensor {
  try softmaxOp("softmax", x, axis: axis, log: false)
}

/// `x - max - log(sum(exp(x - max)))` along `axis`: the log of `softmax`, without underflow.
public func logSoftmax(_ x: Tensor, axis: Int = 1) throws -> Tensor {
  try softmaxOp("logSoftmax", x, axis: axis, log: true)
}

private func softmaxOp(_ name: String, _ x: Tensor, axis: Int, log: Bool) throws -> Tensor {
  try OpTrace.traced(.softmax(axis: axis, log: log), [x]) {
    let (outer, size, inner) = try SoftmaxKernels.split(x.shape, axis: axis, name)
    let y = Tensor(shape: x.shape)
    y.scalars.withUnsafeMutableBufferPointer { y in
      x.scalars.withUnsafeBufferPointer { x in
        SoftmaxKernels.forward(
          y: y.baseAddress!, x: x.baseAddress!, outer: outer, size: size, inner: inner, log: log)
      }
    }
    y.record(name, inputs: [x]) { [ys = y.scalars] dy in
      x.accumulateGrad { dx in
        ys.withUnsafeBufferPointer { y in
          dy.scalars.withUnsafeBufferPointer { dy in
            SoftmaxKernels.backward(
              dx: dx.baseAddress!, dy: dy.baseAddress!, y: y.baseAddress!,
              outer: outer, size: size, inner: inner, log: log)
          }
        }
      }
    }
    return y
  }
}

/// Kernels over a tensor viewed as (outer, size, inner), normalising along `size`.
enum SoftmaxKernels {
  /// The (outer, size, inner) view of `shape` around `axis`, or `invalidArgument`.
  static func split(_ shape: [Int], axis: Int, _ op: String) throws -> (Int, Int, Int) {
    let resolved = axis < 0 ? axis + shape.count : axis
    guard resolved >= 0, resolved < shape.count else {
      throw TensorError.invalidArgument(
        op: op, message: "axis \(axis) is out of range for shape \(describe(shape: shape))")
    }
    let outer = shape[..<resolved].reduce(1, *)
    let inner = shape[(resolved + 1)...].reduce(1, *)
    return (outer, shape[resolved], inner)
  }

  static func forward(
    y: UnsafeMutablePointer<Float>, x: UnsafePointer<Float>, outer: Int, size: Int, inner: Int,
    log: Bool
  ) {
    guard size > 0 else { return }
    Parallel.forEach(outer, costPerItem: 8 * size * inner) { o in
      let x = x + o * size * inner
      let y = y + o * size * inner
      withUnsafeTemporaryAllocation(of: Float.self, capacity: 2 * inner) { scratch in
        let maximum = scratch.baseAddress!
        let total = maximum + inner
        for s in 0..<inner { maximum[s] = x[s] }
        for c in 1..<size {
          for s in 0..<inner { maximum[s] = max(maximum[s], x[c * inner + s]) }
        }
        for s in 0..<inner { total[s] = 0 }
        for c in 0..<size {
          for s in 0..<inner {
            let e = exp(x[c * inner + s] - maximum[s])
            total[s] += e
            if !log { y[c * inner + s] = e }
          }
        }
        if log {
          for s in 0..<inner { maximum[s] += Foundation.log(total[s]) }
          for c in 0..<size {
            for s in 0..<inner { y[c * inner + s] = x[c * inner + s] - maximum[s] }
          }
        } else {
          for s in 0..<inner { total[s] = 1 / total[s] }
          for c in 0..<size {
            for s in 0..<inner { y[c * inner + s] *= total[s] }
          }
        }
      }
    }
  }

  /// softmax: dx += y * (dy - sum(dy * y)); log-softmax: dx += dy - exp(y) * sum(dy).
  static func backward(
    dx: UnsafeMutablePointer<Float>, dy: UnsafePointer<Float>, y: UnsafePointer<Float>,
    outer: Int, size: Int, inner: Int, log: Bool
  ) {
    Parallel.forEach(outer, costPerItem: 6 * size * inner) { o in
      let offset = o * size * inner
      let (dx, dy, y) = (dx + offset, dy + offset, y + offset)
      withUnsafeTemporaryAllocation(of: Float.self, capacity: inner) { dot in
        for s in 0..<inner { dot[s] = 0 }
        for c in 0..<size {
          for s in 0..<inner {
            let i = c * inner + s
            dot[s] += log ? dy[i] : dy[i] * y[i]
          }
        }
        for c in 0..<size {
          for s in 0..<inner {
            let i = c * inner + s
            dx[i] += log ? dy[i] - exp(y[i]) * dot[s] : y[i] * (dy[i] - dot[s])
          }
        }
      }
    }
  }
}

/// Plain Double loops that define what the softmax kernels compute; tests compare the two.
public enum SoftmaxReference {
  public static func forward(_ x: Tensor, axis: Int, log: Bool) throws -> Tensor {
    let p = try probabilities(x, axis: axis)
    return Tensor(shape: x.shape, scalars: p.map { Float(log ? Foundation.log($0) : $0) })
  }

  /// The gradient of `sum(dy * f(x))` through the full Jacobian of softmax or log-softmax.
  public static func backward(_ x: Tensor, axis: Int, log: Bool, dy: Tensor) throws -> Tensor {
    let (outer, size, inner) = try SoftmaxKernels.split(x.shape, axis: axis, "softmax")
    let p = try probabilities(x, axis: axis)
    var dx = [Float](repeating: 0, count: x.count)
    for o in 0..<outer {
      for s in 0..<inner {
        let index = { (c: Int) in (o * size + c) * inner + s }
        for i in 0..<size {
          var total = 0.0
          for j in 0..<size {
            let delta = i == j ? 1.0 : 0.0
            // d y_j / d x_i: softmax p_j (delta - p_i); log-softmax delta - p_i.
            let jacobian = log ? delta - p[index(i)] : p[index(j)] * (delta - p[index(i)])
            total += Double(dy.scalars[index(j)]) * jacobian
          }
          dx[index(i)] = Float(total)
        }
      }
    }
    return Tensor(shape: x.shape, scalars: dx)
  }

  static func probabilities(_ x: Tensor, axis: Int) throws -> [Double] {
    let (outer, size, inner) = try SoftmaxKernels.split(x.shape, axis: axis, "softmax")
    var p = [Double](repeating: 0, count: x.count)
    for o in 0..<outer {
      for s in 0..<inner {
        let index = { (c: Int) in (o * size + c) * inner + s }
        let maximum = (0..<size).map { Double(x.scalars[index($0)]) }.max() ?? 0
        var total = 0.0
        for c in 0..<size { total += Foundation.exp(Double(x.scalars[index(c)]) - maximum) }
        for c in 0..<size {
          p[index(c)] = Foundation.exp(Double(x.scalars[index(c)]) - maximum) / total
        }
      }
    }
    return p
  }
}
