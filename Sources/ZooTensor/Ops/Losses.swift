// Losses, each reduced to a scalar tensor: cross-entropy on logits (N, C) or (N, C, H, W),
// binary cross-entropy on logits, mean squared error, and soft Dice on (N, C, H, W).

import Foundation

/// Fused log-softmax and cross-entropy: `torch.nn.functional.cross_entropy` with mean reduction.
///
/// `logits` (N, C) take one label per row; (N, C, H, W) take N * H * W labels in (n, h, w) order.
/// With label smoothing e the target of position i is `(1 - e) * onehot(label_i) + e / C`. With
/// class weights w each class's term is weighted and the sum is divided by `sum_i w[label_i]`, the
/// smoothing term included, as torch does. The gradient is `(a_i * softmax - target_i) / W`.
public func crossEntropy(
  logits: Tensor, labels: [Int], classWeights: [Float]? = nil, labelSmoothing: Float = 0
) throws -> Tensor {
  let op = "crossEntropy"
  guard logits.rank == 2 || logits.rank == 4 else {
    throw TensorError.invalidArgument(
      op: op,
      message: "expected (N, C) or (N, C, H, W) logits, got shape \(describe(shape: logits.shape))")
  }
  let (n, classes) = (logits.shape[0], logits.shape[1])
  let plane = logits.rank == 4 ? logits.shape[2] * logits.shape[3] : 1
  guard labels.count == n * plane else {
    throw TensorError.invalidArgument(
      op: op,
      message: "logits of shape \(describe(shape: logits.shape)) need \(n * plane) labels, "
        + "got \(labels.count)")
  }
  guard !labels.isEmpty, classes > 0 else {
    throw TensorError.invalidArgument(
      op: op,
      message: "needs at least one label and one class, got logits \(describe(shape: logits.shape))"
    )
  }
  if let classWeights, classWeights.count != classes {
    throw TensorError.invalidArgument(
      op: op, message: "expected \(classes) class weights, got \(classWeights.count)")
  }
  guard labelSmoothing >= 0, labelSmoothing < 1 else {
    throw TensorError.invalidArgument(
      op: op, message: "labelSmoothing must be in [0, 1), got \(labelSmoothing)")
  }
  if let bad = labels.firstIndex(where: { $0 < 0 || $0 >= classes }) {
    throw TensorError.invalidArgument(
      op: op,
      message: "label \(labels[bad]) at position \(bad) is out of range for \(classes) classes")
  }

  let weights = classWeights ?? [Float](repeating: 1, count: classes)
  let logProbabilities = [Float](unsafeUninitializedCapacity: logits.count) { buffer, count in
    logits.scalars.withUnsafeBufferPointer { x in
      SoftmaxKernels.forward(
        y: buffer.baseAddress!, x: x.baseAddress!, outer: n, size: classes, inner: plane, log: true)
    }
    count = logits.count
  }
  let problem = CrossEntropyKernels.Problem(
    n: n, classes: classes, plane: plane, labels: labels, weights: weights,
    smoothing: labelSmoothing)
  let (total, weightTotal) = CrossEntropyKernels.forward(logProbabilities, problem)
  let y = Tensor(Float(total / weightTotal))
  y.record("crossEntropy", inputs: [logits]) { dy in
    logits.accumulateGrad { dx in
      CrossEntropyKernels.backward(
        dx: dx, logProbabilities, problem, scale: dy.scalars[0] / Float(weightTotal))
    }
  }
  return y
}

/// Per position i with label y: target `t_ij = (1 - e) w[y] [j == y] + (e / C) w[j]`, and
/// `a_i = sum_j t_ij`. The loss sums `-t_ij * logp_ij`; its gradient is `a_i p_ij - t_ij`.
enum CrossEntropyKernels {
  struct Problem {
    let n: Int
    let classes: Int
    let plane: Int
    let labels: [Int]
    let weights: [Float]
    let smoothing: Float

    var labelShare: Float { 1 - smoothing }
    var uniformShare: Float { smoothing / Float(classes) }
  }

  /// The unnormalised loss and the normaliser `W = sum_i w[label_i]`.
  static func forward(_ logp: [Float], _ p: Problem) -> (total: Double, weightTotal: Double) {
    var partials = [Double](repeating: 0, count: p.n)
    let (c, plane) = (p.classes, p.plane)
    logp.withUnsafeBufferPointer { logp in
      p.labels.withUnsafeBufferPointer { labels in
        p.weights.withUnsafeBufferPointer { w in
          partials.withUnsafeMutableBufferPointer { partials in
            Parallel.forEach(p.n, costPerItem: 2 * c * plane) { i in
              let logp = logp.baseAddress! + i * c * plane
              var total = 0.0
              for s in 0..<plane {
                let label = labels[i * plane + s]
                total -= Double(p.labelShare * w[label] * logp[label * plane + s])
                if p.smoothing > 0 {
                  var smooth: Float = 0
                  for j in 0..<c { smooth += w[j] * logp[j * plane + s] }
                  total -= Double(p.uniformShare * smooth)
                }
              }
              partials[i] = total
            }
          }
        }
      }
    }
    let weightTotal = p.labels.reduce(0.0) { $0 + Double(p.weights[$1]) }
    return (partials.reduce(0, +), weightTotal)
  }

  /// dx += scale * (a_i * softmax - t_i)
  static func backward(
    dx: UnsafeMutableBufferPointer<Float>, _ logp: [Float], _ p: Problem, scale: Float
  ) {
    let (c, plane) = (p.classes, p.plane)
    let weightSum = p.weights.reduce(0, +)
    logp.withUnsafeBufferPointer { logp in
      p.labels.withUnsafeBufferPointer { labels in
        p.weights.withUnsafeBufferPointer { w in
          Parallel.forEach(p.n, costPerItem: 4 * c * plane) { i in
            let offset = i * c * plane
            for s in 0..<plane {
              let label = labels[i * plane + s]
              let a = p.labelShare * w[label] + p.uniformShare * weightSum
              for j in 0..<c {
                let k = offset + j * plane + s
                var target = p.uniformShare * w[j]
                if j == label { target += p.labelShare * w[label] }
                dx[k] += scale * (a * exp(logp[k]) - target)
              }
            }
          }
        }
      }
    }
  }
}

/// `torch.nn.functional.binary_cross_entropy_with_logits` with mean reduction: for logit x and
/// target t, `(1 - t) x + (1 + (pw - 1) t) log(1 + e^-x)`, with `log(1 + e^-x)` computed stably.
/// Gradients flow to the logits and, if they need one, to the targets.
public func binaryCrossEntropyWithLogits(
  logits: Tensor, targets: Tensor, positiveWeight: Float? = nil
) throws -> Tensor {
  try expectShape(targets, logits.shape, "binaryCrossEntropyWithLogits targets")
  guard logits.count > 0 else {
    throw TensorError.invalidArgument(
      op: "binaryCrossEntropyWithLogits",
      message: "needs at least one element, got shape \(describe(shape: logits.shape))")
  }
  let pw = positiveWeight ?? 1
  let total = logits.scalars.withUnsafeBufferPointer { x in
    targets.scalars.withUnsafeBufferPointer { t in
      chunkedSum(x.count) { range in
        var sum = 0.0
        for i in range {
          let logWeight = 1 + (pw - 1) * t[i]
          sum += Double((1 - t[i]) * x[i] + logWeight * softplusOfNegative(x[i]))
        }
        return sum
      }
    }
  }
  let count = Float(logits.count)
  let y = Tensor(Float(total / Double(count)))
  y.record("binaryCrossEntropyWithLogits", inputs: [logits, targets]) { dy in
    let scale = dy.scalars[0] / count
    let (xs, ts) = (logits.scalars, targets.scalars)
    if logits.requiresGrad {
      logits.accumulateGrad { dx in
        // d/dx = (1 - t) + logWeight * (sigmoid(x) - 1)
        elementwiseAccumulate(dx, xs, ts) { x, t in
          let logWeight = 1 + (pw - 1) * t
          return scale * ((1 - t) + logWeight * (ActivationKernels.stableSigmoid(x) - 1))
        }
      }
    }
    if targets.requiresGrad {
      targets.accumulateGrad { dt in
        elementwiseAccumulate(dt, xs, ts) { x, _ in
          scale * (-x + (pw - 1) * softplusOfNegative(x))
        }
      }
    }
  }
  return y
}

/// `mean((prediction - target)^2)`; gradients flow to both inputs that need one.
public func meanSquaredError(_ prediction: Tensor, _ target: Tensor) throws -> Tensor {
  try expectShape(target, prediction.shape, "meanSquaredError target")
  guard prediction.count > 0 else {
    throw TensorError.invalidArgument(
      op: "meanSquaredError",
      message: "needs at least one element, got shape \(describe(shape: prediction.shape))")
  }
  let total = prediction.scalars.withUnsafeBufferPointer { p in
    target.scalars.withUnsafeBufferPointer { t in
      chunkedSum(p.count) { range in
        var sum = 0.0
        for i in range {
          let d = Double(p[i]) - Double(t[i])
          sum += d * d
        }
        return sum
      }
    }
  }
  let count = Float(prediction.count)
  let y = Tensor(Float(total / Double(count)))
  y.record("meanSquaredError", inputs: [prediction, target]) { dy in
    let scale = 2 * dy.scalars[0] / count
    let (ps, ts) = (prediction.scalars, target.scalars)
    for (input, sign) in [(prediction, Float(1)), (target, -1)] where input.requiresGrad {
      input.accumulateGrad { d in
        elementwiseAccumulate(d, ps, ts) { p, t in sign * scale * (p - t) }
      }
    }
  }
  return y
}

/// Soft Dice loss: per channel `dice_c = (2 sum(p t) + smooth) / (sum(p) + sum(t) + smooth)` with
/// sums over N, H and W, and `loss = 1 - mean_c dice_c`. probabilities and targets (N, C, H, W);
/// the gradient flows to the probabilities only.
///
/// With `replicas` (data-parallel), the sums run over the batch that every member's inputs
/// form, so the loss is the whole batch's. The members' gradients are then averaged, so each
/// member's is multiplied by the batch's samples over its own.
public func diceLoss(
  probabilities: Tensor, targets: Tensor, smooth: Float = 1, replicas: ReplicaGroup? = nil
) throws -> Tensor {
  try expectRank(probabilities, 4, "diceLoss")
  try expectShape(targets, probabilities.shape, "diceLoss targets")
  let (n, channels) = (probabilities.shape[0], probabilities.shape[1])
  let plane = probabilities.shape[2] * probabilities.shape[3]
  guard channels > 0 else {
    throw TensorError.invalidArgument(
      op: "diceLoss",
      message: "needs at least one channel, got shape \(describe(shape: probabilities.shape))")
  }
  var (numerators, denominators) = DiceKernels.forward(
    p: probabilities.scalars, t: targets.scalars, n: n, channels: channels, plane: plane,
    smooth: replicas == nil ? Double(smooth) : 0)
  var share = 1.0
  if let replicas {
    let sums = try replicas.sum(numerators + denominators + [Double(n)])
    numerators = sums[0..<channels].map { $0 + Double(smooth) }
    denominators = sums[channels..<(2 * channels)].map { $0 + Double(smooth) }
    share = sums[2 * channels] / Double(max(n, 1))
  }
  var meanDice = 0.0
  for c in 0..<channels { meanDice += numerators[c] / denominators[c] }
  let y = Tensor(Float(1 - meanDice / Double(channels)))
  y.record("diceLoss", inputs: [probabilities]) { [ts = targets.scalars] dy in
    probabilities.accumulateGrad { dp in
      DiceKernels.backward(
        dp: dp, t: ts, numerators: numerators, denominators: denominators, n: n,
        channels: channels, plane: plane, scale: share * Double(dy.scalars[0]) / Double(channels))
    }
  }
  return y
}

/// Per-channel sums, in parallel over channels.
enum DiceKernels {
  /// `2 sum(p t) + smooth` and `sum(p) + sum(t) + smooth` per channel.
  static func forward(
    p: [Float], t: [Float], n: Int, channels: Int, plane: Int, smooth: Double
  ) -> (numerators: [Double], denominators: [Double]) {
    var numerators = [Double](repeating: 0, count: channels)
    var denominators = [Double](repeating: 0, count: channels)
    p.withUnsafeBufferPointer { p in
      t.withUnsafeBufferPointer { t in
        numerators.withUnsafeMutableBufferPointer { numerators in
          denominators.withUnsafeMutableBufferPointer { denominators in
            Parallel.forEach(channels, costPerItem: 4 * n * plane) { c in
              var (overlap, sum) = (0.0, 0.0)
              for i in 0..<n {
                let offset = (i * channels + c) * plane
                for s in 0..<plane {
                  let (pv, tv) = (Double(p[offset + s]), Double(t[offset + s]))
                  overlap += pv * tv
                  sum += pv + tv
                }
              }
              numerators[c] = 2 * overlap + smooth
              denominators[c] = sum + smooth
            }
          }
        }
      }
    }
    return (numerators, denominators)
  }

  /// dp += -scale * (2 t D_c - N_c) / D_c^2, the derivative of -dice_c with scale = dy / C.
  static func backward(
    dp: UnsafeMutableBufferPointer<Float>, t: [Float], numerators: [Double],
    denominators: [Double], n: Int, channels: Int, plane: Int, scale: Double
  ) {
    t.withUnsafeBufferPointer { t in
      Parallel.forEach(channels, costPerItem: 2 * n * plane) { c in
        let d = denominators[c]
        let a = Float(-scale * 2 / d)
        let b = Float(scale * numerators[c] / (d * d))
        for i in 0..<n {
          let offset = (i * channels + c) * plane
          for s in 0..<plane { dp[offset + s] += a * t[offset + s] + b }
        }
      }
    }
  }
}

/// `log(1 + e^-x)` without overflow: `max(-x, 0) + log(1 + e^-|x|)`.
@inline(__always)
private func softplusOfNegative(_ x: Float) -> Float {
  max(-x, 0) + log1p(exp(-abs(x)))
}

/// Sums `body` over `0..<count` in fixed chunks, in parallel; the chunking does not depend on the
/// thread count, so neither does the rounding of the result.
private func chunkedSum(_ count: Int, _ body: (Range<Int>) -> Double) -> Double {
  let chunk = 1 << 14
  let chunks = (count + chunk - 1) / chunk
  var partials = [Double](repeating: 0, count: chunks)
  partials.withUnsafeMutableBufferPointer { partials in
    Parallel.forEach(chunks, costPerItem: chunk) { k in
      partials[k] = body((k * chunk)..<min(count, (k + 1) * chunk))
    }
  }
  return partials.reduce(0, +)
}

/// `d[i] += f(a[i], b[i])` over all elements, in parallel.
private func elementwiseAccumulate(
  _ d: UnsafeMutableBufferPointer<Float>, _ a: [Float], _ b: [Float], _ f: (Float, Float) -> Float
) {
  a.withUnsafeBufferPointer { a in
    b.withUnsafeBufferPointer { b in
      Parallel.forRanges(d.count) { range in
        for i in range { d[i] += f(a[i], b[i]) }
      }
    }
  }
}

/// Plain Double loops that define `crossEntropy` the way torch computes it: the weighted NLL term
/// plus the smoothing term, each divided by `sum_i w[label_i]`.
public enum CrossEntropyReference {
  public static func forward(
    logits: Tensor, labels: [Int], classWeights: [Float]? = nil, labelSmoothing: Double = 0
  ) -> Double {
    let (logp, positions, classes) = logProbabilities(logits)
    let w = (classWeights ?? [Float](repeating: 1, count: classes)).map(Double.init)
    var (nll, smooth, weightTotal) = (0.0, 0.0, 0.0)
    for (i, position) in positions.enumerated() {
      let label = labels[i]
      nll -= w[label] * logp[position(label)]
      for c in 0..<classes { smooth -= w[c] * logp[position(c)] }
      weightTotal += w[label]
    }
    return (1 - labelSmoothing) * nll / weightTotal
      + labelSmoothing / Double(classes) * smooth / weightTotal
  }

  /// The gradient of the loss with respect to the logits, term by term.
  public static func backward(
    logits: Tensor, labels: [Int], classWeights: [Float]? = nil, labelSmoothing: Double = 0
  ) -> Tensor {
    let (logp, positions, classes) = logProbabilities(logits)
    let w = (classWeights ?? [Float](repeating: 1, count: classes)).map(Double.init)
    let weightTotal = labels.reduce(0.0) { $0 + w[$1] }
    var dx = [Float](repeating: 0, count: logits.count)
    for (i, position) in positions.enumerated() {
      let label = labels[i]
      for j in 0..<classes {
        let p = exp(logp[position(j)])
        // d(-logp_k)/dz_j = p_j - [j == k]
        let nll = w[label] * (p - (j == label ? 1 : 0))
        var smooth = 0.0
        for k in 0..<classes { smooth += w[k] * (p - (j == k ? 1 : 0)) }
        dx[position(j)] = Float(
          ((1 - labelSmoothing) * nll + labelSmoothing / Double(classes) * smooth) / weightTotal)
      }
    }
    return Tensor(shape: logits.shape, scalars: dx)
  }

  /// Log-probabilities in Double, and for each labelled position a map from class to flat index.
  private static func logProbabilities(_ logits: Tensor) -> (
    [Double], [(Int) -> Int], Int
  ) {
    let (n, classes) = (logits.shape[0], logits.shape[1])
    let plane = logits.shape.dropFirst(2).reduce(1, *)
    var positions: [(Int) -> Int] = []
    for i in 0..<n {
      for s in 0..<plane { positions.append { c in (i * classes + c) * plane + s } }
    }
    var logp = [Double](repeating: 0, count: logits.count)
    for position in positions {
      let z = (0..<classes).map { Double(logits.scalars[position($0)]) }
      let top = z.max()!
      let lse = top + log(z.reduce(0) { $0 + exp($1 - top) })
      for c in 0..<classes { logp[position(c)] = z[c] - lse }
    }
    return (logp, positions, classes)
  }
}

/// Plain Double loops for `binaryCrossEntropyWithLogits`, from the textbook form
/// `-[pw t log s(x) + (1 - t) log(1 - s(x))]` with s the sigmoid.
public enum BinaryCrossEntropyReference {
  public static func forward(logits: Tensor, targets: Tensor, positiveWeight: Double = 1) -> Double
  {
    var total = 0.0
    for i in 0..<logits.count {
      let (x, t) = (Double(logits.scalars[i]), Double(targets.scalars[i]))
      let s = 1 / (1 + exp(-x))
      total -= positiveWeight * t * log(s) + (1 - t) * log(1 - s)
    }
    return total / Double(logits.count)
  }

  /// Gradients of the loss with respect to logits and targets.
  public static func backward(logits: Tensor, targets: Tensor, positiveWeight: Double = 1) -> (
    dLogits: Tensor, dTargets: Tensor
  ) {
    let m = Double(logits.count)
    var dx = [Float](repeating: 0, count: logits.count)
    var dt = [Float](repeating: 0, count: logits.count)
    for i in 0..<logits.count {
      let (x, t) = (Double(logits.scalars[i]), Double(targets.scalars[i]))
      let s = 1 / (1 + exp(-x))
      dx[i] = Float(-(positiveWeight * t * (1 - s) - (1 - t) * s) / m)
      dt[i] = Float(-(positiveWeight * log(s) - log(1 - s)) / m)
    }
    return (Tensor(shape: logits.shape, scalars: dx), Tensor(shape: logits.shape, scalars: dt))
  }
}

/// Plain Double loops for `meanSquaredError`.
public enum MeanSquaredErrorReference {
  public static func forward(_ prediction: Tensor, _ target: Tensor) -> Double {
    var total = 0.0
    for i in 0..<prediction.count {
      let d = Double(prediction.scalars[i]) - Double(target.scalars[i])
      total += d * d
    }
    return total / Double(prediction.count)
  }

  /// The gradient with respect to the prediction (the target's is its negation).
  public static func backward(_ prediction: Tensor, _ target: Tensor) -> Tensor {
    let m = Double(prediction.count)
    let d = (0..<prediction.count).map {
      Float(2 * (Double(prediction.scalars[$0]) - Double(target.scalars[$0])) / m)
    }
    return Tensor(shape: prediction.shape, scalars: d)
  }
}

/// Plain Double loops for `diceLoss`.
public enum DiceReference {
  public static func forward(probabilities: Tensor, targets: Tensor, smooth: Double = 1) -> Double {
    let channels = probabilities.shape[1]
    var total = 0.0
    for c in 0..<channels {
      let (overlap, sumP, sumT) = sums(probabilities, targets, c)
      total += (2 * overlap + smooth) / (sumP + sumT + smooth)
    }
    return 1 - total / Double(channels)
  }

  /// The gradient with respect to the probabilities, by the quotient rule.
  public static func backward(probabilities: Tensor, targets: Tensor, smooth: Double = 1) -> Tensor
  {
    let shape = probabilities.shape
    let (channels, plane) = (shape[1], shape[2] * shape[3])
    var d = [Float](repeating: 0, count: probabilities.count)
    for c in 0..<channels {
      let (overlap, sumP, sumT) = sums(probabilities, targets, c)
      let (u, v) = (2 * overlap + smooth, sumP + sumT + smooth)
      for i in 0..<shape[0] {
        for s in 0..<plane {
          let k = (i * channels + c) * plane + s
          let du = 2 * Double(targets.scalars[k])
          d[k] = Float(-(du * v - u) / (v * v) / Double(channels))
        }
      }
    }
    return Tensor(shape: shape, scalars: d)
  }

  private static func sums(_ p: Tensor, _ t: Tensor, _ c: Int) -> (Double, Double, Double) {
    let (channels, plane) = (p.shape[1], p.shape[2] * p.shape[3])
    var (overlap, sumP, sumT) = (0.0, 0.0, 0.0)
    for i in 0..<p.shape[0] {
      for s in 0..<plane {
        let k = (i * channels + c) * plane + s
        overlap += Double(p.scalars[k]) * Double(t.scalars[k])
        sumP += Double(p.scalars[k])
        sumT += Double(t.scalars[k])
      }
    }
    return (overlap, sumP, sumT)
  }
}
