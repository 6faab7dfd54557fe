// Layer normalisation over the channel axis: x (N, C, ...) -> y of x's shape, each position
// (sample, pixel) normalised over its C values. This is torchvision's `LayerNorm2d` (and
// `nn.LayerNorm(C)` on the channels-last tensor), computed on NCHW without transposing.

/// `y[n, :, p] = (x[n, :, p] - mean) / sqrt(var + eps) * weight + bias`, with the mean and the
/// biased variance over the C channels of sample n at position p. `weight` and `bias` (C) are
/// optional (PyTorch's `elementwise_affine=False`).
public func channelLayerNorm(
  _ x: Tensor, weight: Tensor?, bias: Tensor?, eps: Float = 1e-5
) throws -> Tensor {
  try OpTrace.traced(.channelLayerNorm(eps: eps), [x, weight, bias]) {
    guard x.rank >= 2 else {
      throw TensorError.invalidArgument(
        op: "channelLayerNorm",
        message:
          "needs an input of rank 2 or more (N, C, ...), got shape \(describe(shape: x.shape))"
      )
    }
    let (n, channels) = (x.shape[0], x.shape[1])
    if let weight { try expectShape(weight, [channels], "channelLayerNorm weight") }
    if let bias { try expectShape(bias, [channels], "channelLayerNorm bias") }
    let shape = LayerNormKernels.Shape(
      samples: n, channels: channels, positions: x.shape.dropFirst(2).reduce(1, *))
    let y = Tensor.uninitialized(shape: x.shape)
    var mean = [Float](repeating: 0, count: n * shape.positions)
    var invStd = mean
    guard y.count > 0 else { return y }
    let gamma = weight?.scalars ?? [Float](repeating: 1, count: channels)
    let beta = bias?.scalars ?? [Float](repeating: 0, count: channels)
    LayerNormKernels.forward(
      y: &y.scalars, mean: &mean, invStd: &invStd, x: x.scalars, gamma: gamma, beta: beta,
      eps: eps, shape)
    y.record("channelLayerNorm", inputs: [x] + [weight, bias].compactMap { $0 }) {
      [xs = x.scalars] dy in
      if x.requiresGrad {
        x.accumulateOrWriteGrad { dx, overwrite in
          LayerNormKernels.backwardInput(
            dx: dx.baseAddress!, dy: dy.scalars, x: xs, mean: mean, invStd: invStd, gamma: gamma,
            shape, overwrite: overwrite)
        }
      }
      let wantsWeight = weight?.requiresGrad ?? false
      let wantsBias = bias?.requiresGrad ?? false
      guard wantsWeight || wantsBias else { return }
      var dGamma = [Float](repeating: 0, count: channels)
      var dBeta = dGamma
      LayerNormKernels.backwardAffine(
        dGamma: &dGamma, dBeta: &dBeta, dy: dy.scalars, x: xs, mean: mean, invStd: invStd, shape)
      if let weight, wantsWeight {
        weight.accumulateGrad { g in for c in 0..<channels { g[c] += dGamma[c] } }
      }
      if let bias, wantsBias {
        bias.accumulateGrad { g in for c in 0..<channels { g[c] += dBeta[c] } }
      }
    }
    return y
  }
}

/// The channel-axis layer-norm kernels. Channel c of sample i is the contiguous run
/// `(i * channels + c) * positions ..< + positions`, so each task takes a tile of positions of
/// one sample and walks the channels over it: every inner loop is contiguous and vectorises.
enum LayerNormKernels {
  struct Shape {
    var samples: Int
    var channels: Int
    /// Positions per sample (H * W; 1 for an (N, C) input).
    var positions: Int
  }

  /// Positions per task: a tile's running sums stay in L1 while the channels stream past.
  static let tile = 256

  /// Calls `body(sample, positions)` for every tile of every sample, in parallel.
  private static func forEachTile(_ s: Shape, _ body: (Int, Range<Int>) -> Void) {
    let tiles = (s.positions + tile - 1) / tile
    Parallel.forEach(s.samples * tiles, costPerItem: 8 * s.channels * min(tile, s.positions)) {
      task in
      let (sample, t) = task.quotientAndRemainder(dividingBy: tiles)
      body(sample, (t * tile)..<min((t + 1) * tile, s.positions))
    }
  }

  /// y = (x - mean) * invStd * gamma + beta; `mean` and `invStd` (N * positions) are written
  /// for the backward pass. The variance is taken about the mean (two passes), as exact as
  /// float allows.
  static func forward(
    y: UnsafeMutablePointer<Float>, mean: UnsafeMutablePointer<Float>,
    invStd: UnsafeMutablePointer<Float>, x: UnsafePointer<Float>, gamma: UnsafePointer<Float>,
    beta: UnsafePointer<Float>, eps: Float, _ s: Shape
  ) {
    let (channels, positions) = (s.channels, s.positions)
    let scale = 1 / Float(channels)
    forEachTile(s) { sample, range in
      let (m, r) = (mean + sample * positions, invStd + sample * positions)
      let base = sample * channels * positions
      for p in range { m[p] = 0 }
      for c in 0..<channels {
        let row = x + base + c * positions
        for p in range { m[p] += row[p] }
      }
      for p in range {
        m[p] *= scale
        r[p] = 0
      }
      for c in 0..<channels {
        let row = x + base + c * positions
        for p in range {
          let d = row[p] - m[p]
          r[p] += d * d
        }
      }
      for p in range { r[p] = 1 / (r[p] * scale + eps).squareRoot() }
      for c in 0..<channels {
        let (row, out) = (x + base + c * positions, y + base + c * positions)
        let (g, b) = (gamma[c], beta[c])
        for p in range { out[p] = (row[p] - m[p]) * r[p] * g + b }
      }
    }
  }

  /// dx = invStd * (g - mean_c(g) - xhat * mean_c(g * xhat)) with g = dy * gamma and
  /// xhat = (x - mean) * invStd, the means taken over the channels of each position.
  /// Accumulates (`+=`), or writes with `overwrite`.
  static func backwardInput(
    dx: UnsafeMutablePointer<Float>, dy: UnsafePointer<Float>, x: UnsafePointer<Float>,
    mean: UnsafePointer<Float>, invStd: UnsafePointer<Float>, gamma: UnsafePointer<Float>,
    _ s: Shape, overwrite: Bool
  ) {
    let (channels, positions) = (s.channels, s.positions)
    let scale = 1 / Float(channels)
    forEachTile(s) { sample, range in
      let (m, r) = (mean + sample * positions, invStd + sample * positions)
      let base = sample * channels * positions
      // Per position: mean of g and mean of g * xhat.
      Scratch.withBuffer(2 * range.count) { sums in
        let meanG = sums - range.lowerBound
        let meanGX = meanG + range.count
        for p in range {
          meanG[p] = 0
          meanGX[p] = 0
        }
        for c in 0..<channels {
          let (row, grad, g) = (x + base + c * positions, dy + base + c * positions, gamma[c])
          for p in range {
            let gy = grad[p] * g
            meanG[p] += gy
            meanGX[p] += gy * (row[p] - m[p]) * r[p]
          }
        }
        for p in range {
          meanG[p] *= scale
          meanGX[p] *= scale
        }
        for c in 0..<channels {
          let (row, grad, g) = (x + base + c * positions, dy + base + c * positions, gamma[c])
          let out = dx + base + c * positions
          for p in range {
            let value = r[p] * (grad[p] * g - meanG[p] - (row[p] - m[p]) * r[p] * meanGX[p])
            out[p] = overwrite ? value : out[p] + value
          }
        }
      }
    }
  }

  /// dGamma[c] = sum(dy * xhat) and dBeta[c] = sum(dy) over samples and positions, each
  /// channel on its own (parallel over channels), summed in Double per sample row.
  static func backwardAffine(
    dGamma: UnsafeMutablePointer<Float>, dBeta: UnsafeMutablePointer<Float>,
    dy: UnsafePointer<Float>, x: UnsafePointer<Float>, mean: UnsafePointer<Float>,
    invStd: UnsafePointer<Float>, _ s: Shape
  ) {
    let (channels, positions) = (s.channels, s.positions)
    Parallel.forEach(channels, costPerItem: 4 * s.samples * positions) { c in
      var (gammaSum, betaSum) = (0.0, 0.0)
      for sample in 0..<s.samples {
        let offset = (sample * channels + c) * positions
        let (row, grad) = (x + offset, dy + offset)
        let (m, r) = (mean + sample * positions, invStd + sample * positions)
        var (g, b): (Float, Float) = (0, 0)
        for p in 0..<positions {
          g += grad[p] * (row[p] - m[p]) * r[p]
          b += grad[p]
        }
        gammaSum += Double(g)
        betaSum += Double(b)
      }
      dGamma[c] = Float(gammaSum)
      dBeta[c] = Float(betaSum)
    }
  }
}

/// Plain Double loops that define `channelLayerNorm`; tests compare the two.
public enum ChannelLayerNormReference {
  /// The flat indices of the C values at position p of sample n.
  private static func column(_ shape: [Int], _ n: Int, _ p: Int) -> [Int] {
    let (channels, positions) = (shape[1], shape.dropFirst(2).reduce(1, *))
    return (0..<channels).map { (n * channels + $0) * positions + p }
  }

  private static func positions(_ shape: [Int]) -> [(Int, Int)] {
    let count = shape.dropFirst(2).reduce(1, *)
    return (0..<shape[0]).flatMap { n in (0..<count).map { (n, $0) } }
  }

  /// Mean and 1 / sqrt(var + eps) of the values at `indices`.
  private static func moments(_ x: Tensor, _ indices: [Int], eps: Double) -> (Double, Double) {
    let values = indices.map { Double(x.scalars[$0]) }
    let mean = values.reduce(0, +) / Double(values.count)
    let variance = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count)
    return (mean, 1 / (variance + eps).squareRoot())
  }

  public static func forward(x: Tensor, weight: Tensor?, bias: Tensor?, eps: Double) -> Tensor {
    let y = Tensor(shape: x.shape)
    for (n, p) in positions(x.shape) {
      let indices = column(x.shape, n, p)
      let (mean, invStd) = moments(x, indices, eps: eps)
      for (c, i) in indices.enumerated() {
        let xhat = (Double(x.scalars[i]) - mean) * invStd
        y.scalars[i] = Float(
          xhat * Double(weight?.scalars[c] ?? 1) + Double(bias?.scalars[c] ?? 0))
      }
    }
    return y
  }

  /// Gradients of `sum(dy * channelLayerNorm(x))`, dx from the full Jacobian of each position:
  /// `d xhat_j / d x_i = invStd * (delta_ij - 1/C - xhat_i * xhat_j / C)`.
  public static func backward(x: Tensor, weight: Tensor?, eps: Double, dy: Tensor) -> (
    dx: Tensor, dWeight: Tensor, dBias: Tensor
  ) {
    let channels = x.shape[1]
    let dx = Tensor(shape: x.shape)
    var dWeight = [Double](repeating: 0, count: channels)
    var dBias = dWeight
    for (n, p) in positions(x.shape) {
      let indices = column(x.shape, n, p)
      let (mean, invStd) = moments(x, indices, eps: eps)
      let xhat = indices.map { (Double(x.scalars[$0]) - mean) * invStd }
      for (c, i) in indices.enumerated() {
        dWeight[c] += Double(dy.scalars[i]) * xhat[c]
        dBias[c] += Double(dy.scalars[i])
      }
      for (a, i) in indices.enumerated() {
        var total = 0.0
        for (b, j) in indices.enumerated() {
          let g = Double(dy.scalars[j]) * Double(weight?.scalars[b] ?? 1)
          let delta = a == b ? 1.0 : 0.0
          total +=
            g * invStd * (delta - 1 / Double(channels) - xhat[a] * xhat[b] / Double(channels))
        }
        dx.scalars[i] = Float(total)
      }
    }
    return (
      dx, Tensor(shape: [channels], scalars: dWeight.map { Float($0) }),
      Tensor(shape: [channels], scalars: dBias.map { Float($0) })
    )
  }
}
