// Batch normalisation over the channels of x (N, C) or (N, C, H, W); y has x's shape.

import Foundation

/// `y = (x - mean) / sqrt(var + eps) * weight + bias` per channel.
///
/// Training normalises with the batch mean and biased variance, and updates `runningMean` and
/// `runningVar` in place as PyTorch does: `running = (1 - momentum) * running + momentum * stat`,
/// with the unbiased batch variance for `runningVar`. Inference normalises with the running
/// statistics. `weight` and `bias` (C) are optional.
///
/// With `replicas` (synchronised batch norm), training takes the statistics of the batch
/// formed by every member's `x`, and the backward pass reduces the sums that flow through
/// them, so the members together compute what one process computes on the whole batch.
public func batchNorm(
  _ x: Tensor, weight: Tensor?, bias: Tensor?, runningMean: Tensor, runningVar: Tensor,
  training: Bool, momentum: Float = 0.1, eps: Float = 1e-5, replicas: ReplicaGroup? = nil
) throws -> Tensor {
  try OpTrace.traced(
    training ? .other("batchNorm in training mode") : .batchNorm(eps: eps),
    [x, weight, bias, runningMean, runningVar]
  ) {
    guard x.rank == 2 || x.rank == 4 else {
      throw TensorError.invalidArgument(
        op: "batchNorm",
        message: "expected an (N, C) or (N, C, H, W) input, got shape \(describe(shape: x.shape))")
    }
    let (n, channels) = (x.shape[0], x.shape[1])
    let spatial = x.rank == 4 ? x.shape[2] * x.shape[3] : 1
    let perChannel = n * spatial
    try expectShape(runningMean, [channels], "batchNorm running mean")
    try expectShape(runningVar, [channels], "batchNorm running variance")
    if let weight { try expectShape(weight, [channels], "batchNorm weight") }
    if let bias { try expectShape(bias, [channels], "batchNorm bias") }
    if training && perChannel < 2 {
      throw TensorError.invalidArgument(
        op: "batchNorm",
        message:
          "training needs more than one value per channel, got shape \(describe(shape: x.shape))"
      )
    }

    let gamma = weight?.scalars ?? [Float](repeating: 1, count: channels)
    let beta = bias?.scalars ?? [Float](repeating: 0, count: channels)
    var mean = [Float](repeating: 0, count: channels)
    var invStd = [Float](repeating: 0, count: channels)
    let replicas = training ? replicas : nil
    var count = Double(perChannel)
    if training {
      let (batchMean, batchVar, total) = try BatchNormKernels.statistics(
        x: x.scalars, n: n, channels: channels, spatial: spatial, replicas: replicas)
      count = total
      let (keep, take) = (1 - Double(momentum), Double(momentum))
      let unbiased = count / (count - 1)
      for c in 0..<channels {
        mean[c] = Float(batchMean[c])
        invStd[c] = Float(1 / (batchVar[c] + Double(eps)).squareRoot())
        runningMean.scalars[c] = Float(keep * Double(runningMean.scalars[c]) + take * batchMean[c])
        runningVar.scalars[c] = Float(
          keep * Double(runningVar.scalars[c]) + take * batchVar[c] * unbiased)
      }
    } else {
      mean = runningMean.scalars
      for c in 0..<channels {
        invStd[c] = Float(1 / (Double(runningVar.scalars[c]) + Double(eps)).squareRoot())
      }
    }

    let y = Tensor.uninitialized(shape: x.shape)
    BatchNormKernels.forward(
      y: &y.scalars, x: x.scalars, mean: mean, invStd: invStd, gamma: gamma, beta: beta,
      n: n, channels: channels, spatial: spatial)

    y.record("batchNorm", inputs: [x] + [weight, bias].compactMap { $0 }) { [xs = x.scalars] dy in
      let wantsWeight = weight?.requiresGrad ?? false
      let wantsBias = bias?.requiresGrad ?? false
      var dGamma = [Float](repeating: 0, count: channels)
      var dBeta = [Float](repeating: 0, count: channels)
      func run(_ dx: UnsafeMutablePointer<Float>?, overwrite: Bool = false) {
        if let replicas {
          BatchNormKernels.synchronizedBackward(
            dx: dx, dGamma: &dGamma, dBeta: &dBeta, dy: dy.scalars, x: xs, mean: mean,
            invStd: invStd, gamma: gamma, n: n, channels: channels, spatial: spatial,
            count: count, overwrite: overwrite, replicas: replicas)
          return
        }
        BatchNormKernels.backward(
          dx: dx, dGamma: &dGamma, dBeta: &dBeta, dy: dy.scalars, x: xs, mean: mean,
          invStd: invStd, gamma: gamma, n: n, channels: channels, spatial: spatial,
          training: training, needSums: training || wantsWeight || wantsBias, overwrite: overwrite)
      }
      if x.requiresGrad {
        x.accumulateOrWriteGrad { run($0.baseAddress!, overwrite: $1) }
      } else {
        run(nil)
      }
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

/// Per-channel kernels, parallel over channels. Channel c of sample i is the contiguous run
/// `(i * channels + c) * spatial ..< + spatial`.
enum BatchNormKernels {
  /// Rank-2 inputs interleave the channels in memory, so they stay on one thread.
  private static func cost(_ n: Int, _ spatial: Int) -> Int {
    spatial == 1 ? 1 : 8 * n * spatial
  }

  /// Batch mean and biased variance per channel, accumulated in Double, and the number of
  /// values per channel. With `replicas`, over the batch that every member's `x` forms: the
  /// sums and then the squared deviations from the common mean are summed over the members.
  static func statistics(
    x: UnsafePointer<Float>, n: Int, channels: Int, spatial: Int, replicas: ReplicaGroup?
  ) throws -> (mean: [Double], variance: [Double], count: Double) {
    var sums = [Double](repeating: 0, count: channels + 1)
    sums.withUnsafeMutableBufferPointer { out in
      Parallel.forEach(channels, costPerItem: cost(n, spatial)) { c in
        var total = 0.0
        for i in 0..<n { total += LaneSums.sum(x + (i * channels + c) * spatial, spatial) }
        out[c] = total
      }
    }
    sums[channels] = Double(n * spatial)
    if let replicas { sums = try replicas.sum(sums) }
    let count = sums[channels]
    let mean = sums.prefix(channels).map { $0 / count }
    var squares = [Double](repeating: 0, count: channels)
    squares.withUnsafeMutableBufferPointer { out in
      Parallel.forEach(channels, costPerItem: cost(n, spatial)) { c in
        var total = 0.0
        for i in 0..<n {
          total += LaneSums.squaredDeviations(
            x + (i * channels + c) * spatial, spatial, from: Float(mean[c]))
        }
        out[c] = total
      }
    }
    if let replicas { squares = try replicas.sum(squares) }
    return (mean, squares.map { $0 / count }, count)
  }

  /// y = (x - mean) * invStd * gamma + beta
  static func forward(
    y: UnsafeMutablePointer<Float>, x: UnsafePointer<Float>, mean: UnsafePointer<Float>,
    invStd: UnsafePointer<Float>, gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>,
    n: Int, channels: Int, spatial: Int
  ) {
    Parallel.forEach(channels, costPerItem: cost(n, spatial)) { c in
      let scale = invStd[c] * gamma[c]
      let shift = beta[c] - mean[c] * scale
      for i in 0..<n {
        let offset = (i * channels + c) * spatial
        for s in 0..<spatial { y[offset + s] = x[offset + s] * scale + shift }
      }
    }
  }

  /// Writes dGamma = sum(dy * xhat) and dBeta = sum(dy) per channel (when `needSums`) and, if
  /// `dx` is given, accumulates dx (or writes it, with `overwrite`). Training includes the path
  /// through the batch statistics:
  /// dx = gamma * invStd * (dy - mean(dy) - xhat * mean(dy * xhat));
  /// inference: dx = gamma * invStd * dy.
  static func backward(
    dx: UnsafeMutablePointer<Float>?, dGamma: UnsafeMutablePointer<Float>,
    dBeta: UnsafeMutablePointer<Float>, dy: UnsafePointer<Float>, x: UnsafePointer<Float>,
    mean: UnsafePointer<Float>, invStd: UnsafePointer<Float>, gamma: UnsafePointer<Float>,
    n: Int, channels: Int, spatial: Int, training: Bool, needSums: Bool, overwrite: Bool = false
  ) {
    let count = Float(n * spatial)
    Parallel.forEach(channels, costPerItem: cost(n, spatial)) { c in
      let (sumDy, sumDyXhat) =
        needSums
        ? gradientSums(c, dy: dy, x: x, mean: mean, invStd: invStd, n, channels, spatial)
        : (0, 0)
      if needSums {
        dGamma[c] = Float(sumDyXhat)
        dBeta[c] = Float(sumDy)
      }
      guard let dx else { return }
      inputGradient(
        c, dx: dx, dy: dy, x: x, mean: mean, invStd: invStd, gamma: gamma,
        meanDy: training ? Float(sumDy) / count : 0,
        meanDyXhat: training ? Float(sumDyXhat) / count : 0, n, channels, spatial,
        overwrite: overwrite)
    }
  }

  /// Training backward of synchronised batch norm: dGamma and dBeta are this member's sums (the
  /// members average them with the other gradients); dx needs mean(dy) and mean(dy * xhat)
  /// over all `count` values of the members, so the sums are reduced between the two passes.
  /// A failed reduction leaves the local sums; the group reports the failure at its next call.
  static func synchronizedBackward(
    dx: UnsafeMutablePointer<Float>?, dGamma: UnsafeMutablePointer<Float>,
    dBeta: UnsafeMutablePointer<Float>, dy: UnsafePointer<Float>, x: UnsafePointer<Float>,
    mean: UnsafePointer<Float>, invStd: UnsafePointer<Float>, gamma: UnsafePointer<Float>,
    n: Int, channels: Int, spatial: Int, count: Double, overwrite: Bool,
    replicas: ReplicaGroup
  ) {
    var sums = [Double](repeating: 0, count: 2 * channels)
    sums.withUnsafeMutableBufferPointer { out in
      Parallel.forEach(channels, costPerItem: cost(n, spatial)) { c in
        (out[c], out[channels + c]) = gradientSums(
          c, dy: dy, x: x, mean: mean, invStd: invStd, n, channels, spatial)
        dBeta[c] = Float(out[c])
        dGamma[c] = Float(out[channels + c])
      }
    }
    guard let dx else { return }
    let total = (try? replicas.sum(sums)) ?? sums
    Parallel.forEach(channels, costPerItem: cost(n, spatial)) { c in
      inputGradient(
        c, dx: dx, dy: dy, x: x, mean: mean, invStd: invStd, gamma: gamma,
        meanDy: Float(total[c]) / Float(count),
        meanDyXhat: Float(total[channels + c]) / Float(count), n,
        channels, spatial, overwrite: overwrite)
    }
  }

  /// (sum(dy), sum(dy * xhat)) over channel `c`.
  @inline(__always)
  private static func gradientSums(
    _ c: Int, dy: UnsafePointer<Float>, x: UnsafePointer<Float>, mean: UnsafePointer<Float>,
    invStd: UnsafePointer<Float>, _ n: Int, _ channels: Int, _ spatial: Int
  ) -> (Double, Double) {
    var sumDy = 0.0
    var sumDyCentered = 0.0
    for i in 0..<n {
      let offset = (i * channels + c) * spatial
      let (g, centered) = LaneSums.sumAndProducts(
        dy + offset, x + offset, spatial, centeredOn: mean[c])
      sumDy += g
      sumDyCentered += centered
    }
    return (sumDy, sumDyCentered * Double(invStd[c]))
  }

  /// dx = scale * (dy - meanDy - (x - mu) * sigma * meanDyXhat) over channel `c`.
  @inline(__always)
  private static func inputGradient(
    _ c: Int, dx: UnsafeMutablePointer<Float>, dy: UnsafePointer<Float>, x: UnsafePointer<Float>,
    mean: UnsafePointer<Float>, invStd: UnsafePointer<Float>, gamma: UnsafePointer<Float>,
    meanDy: Float, meanDyXhat: Float, _ n: Int, _ channels: Int, _ spatial: Int,
    overwrite: Bool
  ) {
    let (mu, sigma) = (mean[c], invStd[c])
    let scale = gamma[c] * sigma
    let slope = -scale * sigma * meanDyXhat
    let shift = -scale * meanDy
    for i in 0..<n {
      let offset = (i * channels + c) * spatial
      let (d, g, v) = (dx + offset, dy + offset, x + offset)
      if overwrite {
        for s in 0..<spatial { d[s] = scale * g[s] + slope * (v[s] - mu) + shift }
      } else {
        for s in 0..<spatial { d[s] += scale * g[s] + slope * (v[s] - mu) + shift }
      }
    }
  }
}

/// Sums over a contiguous run in eight float lanes, so the loops vectorise (a scalar float
/// reduction cannot be reordered, so it does not), carried into a Double every block so that
/// long runs keep Double's accuracy.
enum LaneSums {
  /// Floats summed in the lanes before the partial sum moves to the Double total.
  static let block = 512

  @inline(__always)
  private static func load(_ p: UnsafePointer<Float>, _ i: Int) -> SIMD8<Float> {
    UnsafeRawPointer(p + i).loadUnaligned(as: SIMD8<Float>.self)
  }

  /// `sum(p[0..<count])`.
  static func sum(_ p: UnsafePointer<Float>, _ count: Int) -> Double {
    var total = 0.0
    var i = 0
    while i + 8 <= count {
      let end = min(count - (count - i) % 8, i + block)
      var lanes = SIMD8<Float>()
      while i < end {
        lanes += load(p, i)
        i += 8
      }
      total += Double(lanes.sum())
    }
    while i < count {
      total += Double(p[i])
      i += 1
    }
    return total
  }

  /// `sum((p[i] - center)^2)`.
  static func squaredDeviations(_ p: UnsafePointer<Float>, _ count: Int, from center: Float)
    -> Double
  {
    var total = 0.0
    var i = 0
    let m = SIMD8<Float>(repeating: center)
    while i + 8 <= count {
      let end = min(count - (count - i) % 8, i + block)
      var lanes = SIMD8<Float>()
      while i < end {
        let d = load(p, i) - m
        lanes += d * d
        i += 8
      }
      total += Double(lanes.sum())
    }
    while i < count {
      let d = Double(p[i] - center)
      total += d * d
      i += 1
    }
    return total
  }

  /// `(sum(a), sum(a[i] * (b[i] - center)))`.
  static func sumAndProducts(
    _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ count: Int, centeredOn center: Float
  ) -> (Double, Double) {
    var (sum, products) = (0.0, 0.0)
    var i = 0
    let m = SIMD8<Float>(repeating: center)
    while i + 8 <= count {
      let end = min(count - (count - i) % 8, i + block)
      var (sumLanes, productLanes) = (SIMD8<Float>(), SIMD8<Float>())
      while i < end {
        let value = load(a, i)
        sumLanes += value
        productLanes += value * (load(b, i) - m)
        i += 8
      }
      sum += Double(sumLanes.sum())
      products += Double(productLanes.sum())
    }
    while i < count {
      sum += Double(a[i])
      products += Double(a[i]) * Double(b[i] - center)
      i += 1
    }
    return (sum, products)
  }
}

/// Plain Double loops that define what the batch-norm kernels compute; tests compare the two.
public enum BatchNormReference {
  /// The output and the running statistics the call leaves behind (the inputs are not changed).
  public static func forward(
    x: Tensor, weight: Tensor?, bias: Tensor?, runningMean: [Float], runningVar: [Float],
    training: Bool, momentum: Double = 0.1, eps: Double = 1e-5
  ) -> (y: Tensor, runningMean: [Float], runningVar: [Float]) {
    let channels = x.shape[1]
    var y = [Float](repeating: 0, count: x.count)
    var newMean = runningMean
    var newVar = runningVar
    for c in 0..<channels {
      let indices = channelIndices(x.shape, c)
      let values = indices.map { Double(x.scalars[$0]) }
      let (mu, variance) = statistics(
        values, training, Double(runningMean[c]), Double(runningVar[c]))
      if training {
        let unbiased = variance * Double(values.count) / Double(values.count - 1)
        newMean[c] = Float((1 - momentum) * Double(runningMean[c]) + momentum * mu)
        newVar[c] = Float((1 - momentum) * Double(runningVar[c]) + momentum * unbiased)
      }
      let g = Double(weight?.scalars[c] ?? 1)
      let b = Double(bias?.scalars[c] ?? 0)
      for (k, i) in indices.enumerated() {
        y[i] = Float((values[k] - mu) / (variance + eps).squareRoot() * g + b)
      }
    }
    return (Tensor(shape: x.shape, scalars: y), newMean, newVar)
  }

  /// Gradients of `sum(dy * batchNorm(x))`. In training mode dx comes from the full per-channel
  /// Jacobian `d y_j / d x_i = g / sigma * (delta_ij - 1/m - xhat_i * xhat_j / m)`; in inference
  /// it is diagonal.
  public static func backward(
    x: Tensor, weight: Tensor?, runningMean: [Float], runningVar: [Float], training: Bool,
    eps: Double = 1e-5, dy: Tensor
  ) -> (dx: Tensor, dWeight: Tensor, dBias: Tensor) {
    let channels = x.shape[1]
    let dx = Tensor(shape: x.shape)
    let dWeight = Tensor(shape: [channels])
    let dBias = Tensor(shape: [channels])
    for c in 0..<channels {
      let indices = channelIndices(x.shape, c)
      let values = indices.map { Double(x.scalars[$0]) }
      let m = Double(values.count)
      let (mu, variance) = statistics(
        values, training, Double(runningMean[c]), Double(runningVar[c]))
      let sigma = (variance + eps).squareRoot()
      let xhat = values.map { ($0 - mu) / sigma }
      let g = Double(weight?.scalars[c] ?? 1)
      var dGamma = 0.0
      var dBeta = 0.0
      for (k, i) in indices.enumerated() {
        dGamma += Double(dy.scalars[i]) * xhat[k]
        dBeta += Double(dy.scalars[i])
      }
      dWeight.scalars[c] = Float(dGamma)
      dBias.scalars[c] = Float(dBeta)
      for (a, i) in indices.enumerated() {
        guard training else {
          dx.scalars[i] = Float(g / sigma * Double(dy.scalars[i]))
          continue
        }
        var total = 0.0
        for (b, j) in indices.enumerated() {
          let delta = a == b ? 1.0 : 0.0
          total += Double(dy.scalars[j]) * g / sigma * (delta - 1 / m - xhat[a] * xhat[b] / m)
        }
        dx.scalars[i] = Float(total)
      }
    }
    return (dx, dWeight, dBias)
  }

  /// Flat indices of channel `c` in an (N, C) or (N, C, H, W) tensor.
  private static func channelIndices(_ shape: [Int], _ c: Int) -> [Int] {
    let (n, channels) = (shape[0], shape[1])
    let spatial = shape.dropFirst(2).reduce(1, *)
    var indices: [Int] = []
    for i in 0..<n {
      let start: Int = (i * channels + c) * spatial
      indices.append(contentsOf: start..<(start + spatial))
    }
    return indices
  }

  private static func statistics(
    _ values: [Double], _ training: Bool, _ runningMean: Double, _ runningVar: Double
  ) -> (Double, Double) {
    guard training else { return (runningMean, runningVar) }
    let mu = values.reduce(0, +) / Double(values.count)
    return (mu, values.map { ($0 - mu) * ($0 - mu) }.reduce(0, +) / Double(values.count))
  }
}
