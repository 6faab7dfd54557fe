import ZooTensor

/// The largest disagreement between an op's backward pass and central finite differences.
public struct GradientCheckReport: CustomStringConvertible {
  /// Worst `|analytic - numeric| / (atol + rtol * |numeric|)` over the checked elements;
  /// below 1 means every element agreed.
  public var worstRatio: Float = 0
  public var worst = "no element checked"
  public var checkedElements = 0

  public var passed: Bool { checkedElements > 0 && worstRatio <= 1 }
  public var description: String { "\(worst) (\(checkedElements) elements checked)" }
}

/// Compares the gradient of `L = sum(f(inputs) * w)` (w fixed, random) with central differences,
/// for every input that requires a gradient, at up to `samples` elements of each.
/// Float32 needs a large step: `epsilon` 1e-2 with tolerances of about 1e-2.
public func checkGradients(
  _ inputs: [Tensor], epsilon: Float = 1e-2, rtol: Float = 1e-2, atol: Float = 1e-3,
  samples: Int = 64, seed: UInt64 = 7, _ f: ([Tensor]) throws -> Tensor
) throws -> GradientCheckReport {
  var generator = SeededGenerator(seed: seed)
  let probe = try withoutGradients { try f(inputs) }
  let weights = Tensor.uniform(shape: probe.shape, low: -1, high: 1, generator: &generator)
  for input in inputs { input.zeroGrad() }
  try weightedSum(try f(inputs), weights: weights).backward()

  func loss() throws -> Double {
    let out = try withoutGradients { try f(inputs) }
    var total = 0.0
    for i in 0..<out.count { total += Double(out.scalars[i]) * Double(weights.scalars[i]) }
    return total
  }

  var report = GradientCheckReport()
  for (inputIndex, input) in inputs.enumerated() where input.requiresGrad {
    let analytic = input.grad?.scalars ?? [Float](repeating: 0, count: input.count)
    let stride = max(1, input.count / samples)
    for i in Swift.stride(from: 0, to: input.count, by: stride) {
      let saved = input.scalars[i]
      input.scalars[i] = saved + epsilon
      let plus = try loss()
      input.scalars[i] = saved - epsilon
      let minus = try loss()
      input.scalars[i] = saved
      let numeric = Float((plus - minus) / (2 * Double(epsilon)))
      let ratio = abs(analytic[i] - numeric) / (atol + rtol * abs(numeric))
      report.checkedElements += 1
      if ratio > report.worstRatio || report.checkedElements == 1 {
        report.worstRatio = ratio
        report.worst =
          "input \(inputIndex) element \(i): analytic \(analytic[i]), numeric \(numeric)"
      }
    }
  }
  return report
}

/// `max |a - b| / max |b|`: the relative difference used against reference outputs.
public func relativeDifference(_ a: [Float], _ b: [Float]) -> Float {
  precondition(a.count == b.count, "compared arrays differ in length: \(a.count) vs \(b.count)")
  var maxDiff: Float = 0
  var maxRef: Float = 0
  for i in 0..<a.count {
    maxDiff = max(maxDiff, abs(a[i] - b[i]))
    maxRef = max(maxRef, abs(b[i]))
  }
  return maxDiff / max(maxRef, .leastNormalMagnitude)
}
