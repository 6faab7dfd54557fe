// Inverted dropout on a tensor of any shape; y has x's shape.

/// Keeps each element with probability `1 - probability` and scales the kept ones by
/// `1 / (1 - probability)`, so inference needs no rescaling. Returns `x` itself when not
/// training or when `probability` is 0. Each sample (along the first dimension) draws its
/// mask, one value per element in order, from a stream of its own, keyed by one draw from `rng`
/// and the sample's position in the global batch (`BatchShard`): a seed fixes the mask, and a
/// data-parallel shard draws what one process draws for the same samples.
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
    let mask = DropoutKernels.mask(
      count: x.count, samples: x.rank == 0 ? 1 : x.shape[0], probability, rng: rng)
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
  /// Per-element factors for `samples` equal runs of `count` elements: `1 / (1 - p)` for kept
  /// elements, 0 for dropped ones (all 0 when p is 1), each run from its sample's stream.
  static func mask(count: Int, samples: Int, _ probability: Float, rng: RandomStream) -> [Float] {
    let seed = rng.withGenerator { $0.next() }
    let kept = probability < 1 ? 1 / (1 - probability) : 0
    let perSample = samples == 0 ? 0 : count / samples
    var mask = [Float](repeating: 0, count: count)
    mask.withUnsafeMutableBufferPointer { mask in
      for sample in 0..<samples {
        var generator = SeededGenerator.sampleStream(
          seed, position: BatchShard.globalPosition(sample))
        for i in (sample * perSample)..<((sample + 1) * perSample) {
          if generator.nextUniform() >= probability { mask[i] = kept }
        }
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

extension SeededGenerator {
  /// The stream of the sample at `position` of a global batch, for the random draw `seed`.
  static func sampleStream(_ seed: UInt64, position: Int) -> SeededGenerator {
    var mixer = SeededGenerator(seed: seed ^ (UInt64(position) &* 0xD1B5_4A32_D192_ED03))
    return SeededGenerator(seed: mixer.next())
  }
}

/// The mask and output that `dropout` must produce for a stream seeded with `seed`, the
/// batch's first sample at `offset` in its global batch.
public enum DropoutReference {
  public static func forward(_ x: Tensor, probability: Float, seed: UInt64, offset: Int = 0)
    -> (y: Tensor, mask: [Float])
  {
    var stream = SeededGenerator(seed: seed)
    let draw = stream.next()
    let perSample = x.rank == 0 ? 1 : x.count / max(x.shape[0], 1)
    var generator = stream
    var mask = [Float](repeating: 0, count: x.count)
    for i in 0..<x.count {
      if i % perSample == 0 {
        generator = .sampleStream(draw, position: offset + i / perSample)
      }
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
