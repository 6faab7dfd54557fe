// Inverted dropout on a tensor of any shape; y has x's shape.

/// Keeps each element with probability `1 - probability` and scales the kept ones by
/// `1 / (1 - probability)`, so inference needs no rescaling. Returns `x` itself when not
/// training or when `probability` is 0. The mask is drawn from `rng`, one value per element in
/// order, so a seed fixes it.
public func dropout(_ x: Tensor, probability: Float, training: Bool, rng: RandomStream) throws
  -> Tensor
{
  try OpTrace.traced(
    training && probability > 0 ? .other("dropout in training mode") : .identity, [x]
  ) {
    guard probability >= 0, probability <= 1 else {
      throw TensorError.invalidArgument(
        op: "dropout", message: "probability must be in [0, 1], got \(probability)")
    }
    guard training, probability > 0 else { return x }
    let mask = rng.withGenerator { DropoutKernels.mask(count: x.count, probability, &$0) }
    let y = Tensor(shape: x.shape)
    DropoutKernels.multiply(y: &y.scalars, x: x.scalars, mask: mask)
    y.record("dropout", inputs: [x]) { dy in
      x.accumulateGrad { dx in
        DropoutKernels.accumulate(dx: dx, dy: dy.scalars, mask: mask)
      }
    }
    return y
  }
}

enum DropoutKernels {
  /// Per-element factors: `1 / (1 - p)` for kept elements, 0 for dropped ones (all 0 when p is 1).
  static func mask(count: Int, _ probability: Float, _ generator: inout SeededGenerator)
    -> [Float]
  {
    let kept = probability < 1 ? 1 / (1 - probability) : 0
    var mask = [Float](repeating: 0, count: count)
    mask.withUnsafeMutableBufferPointer { mask in
      for i in 0..<count {
        if generator.nextUniform() >= probability { mask[i] = kept }
      }
    }
    return mask
  }

  /// y = x * mask
  static func multiply(y: inout [Float], x: [Float], mask: [Float]) {
    y.withUnsafeMutableBufferPointer { y in
      x.withUnsafeBufferPointer { x in
        mask.withUnsafeBufferPointer { mask in
          Parallel.forRanges(y.count) { range in
            for i in range { y[i] = x[i] * mask[i] }
          }
        }
      }
    }
  }

  /// dx += dy * mask
  static func accumulate(dx: UnsafeMutableBufferPointer<Float>, dy: [Float], mask: [Float]) {
    dy.withUnsafeBufferPointer { dy in
      mask.withUnsafeBufferPointer { mask in
        Parallel.forRanges(dx.count) { range in
          for i in range { dx[i] += dy[i] * mask[i] }
        }
      }
    }
  }
}

/// The mask and output that `dropout` must produce for a stream seeded with `seed`.
public enum DropoutReference {
  public static func forward(_ x: Tensor, probability: Float, seed: UInt64) -> (
    y: Tensor, mask: [Float]
  ) {
    var generator = SeededGenerator(seed: seed)
    var mask = [Float](repeating: 0, count: x.count)
    for i in 0..<x.count {
      let keep = generator.nextUniform() >= probability
      mask[i] = keep ? Float(1 / (1 - Double(probability))) : 0
    }
    let y = zip(x.scalars, mask).map { $0 * $1 }
    return (Tensor(shape: x.shape, scalars: y), mask)
  }

  /// The gradient of `sum(dy * dropout(x))` given the mask.
  public static func backward(dy: Tensor, mask: [Float]) -> Tensor {
    Tensor(shape: dy.shape, scalars: zip(dy.scalars, mask).map { $0 * $1 })
  }
}
