import Foundation
import ZooNN
import ZooTensor

// Methods read from the score's gradient with respect to the input pixels, as Captum computes
// them: vanilla gradient saliency (Simonyan et al. 2014), SmoothGrad (Smilkov et al. 2017) and
// Integrated Gradients (Sundararajan et al. 2017).

/// The gradient of the score at each input value, (N, C, H, W); `batchSize` rows per pass.
func inputGradients(_ model: Module, _ inputs: Tensor, classes: [Int], batchSize: Int) throws
  -> Tensor
{
  var scalars: [Float] = []
  scalars.reserveCapacity(inputs.count)
  try withFrozenParameters(model) {
    for range in chunks(inputs.shape[0], batchSize) {
      scalars += try GradientPass(model, rows(inputs, range), classes: Array(classes[range]))
        .gradient.scalars
    }
  }
  return Tensor(shape: inputs.shape, scalars: scalars)
}

/// Vanilla gradient saliency: the gradient's absolute value, largest over channels per pixel
/// (Captum's `Saliency(abs=True)` before that reduction).
public struct Saliency: AttributionMethod {
  public var batchSize: Int
  public init(batchSize: Int = 32) { self.batchSize = batchSize }

  public var name: String { "saliency" }
  public var isSigned: Bool { false }

  public func attribute(_ model: Module, inputs: Tensor, classes: [Int]) throws -> Attribution {
    try checkRequest(inputs, classes: classes)
    let gradient = try inputGradients(model, inputs, classes: classes, batchSize: batchSize)
    let values = Tensor(shape: gradient.shape, scalars: gradient.scalars.map(abs))
    return Attribution(
      classes: classes, values: values, heatmap: collapseChannels(values, maxAbsolute: true))
  }
}

/// SmoothGrad: the gradient averaged over noisy copies of the image (Gaussian noise of standard
/// deviation `noiseLevel` times the image's value range), shown as saliency is.
public struct SmoothGrad: AttributionMethod {
  public var samples: Int
  public var noiseLevel: Float
  public var seed: UInt64
  public var batchSize: Int

  public init(samples: Int = 25, noiseLevel: Float = 0.15, seed: UInt64 = 0, batchSize: Int = 64) {
    self.samples = samples
    self.noiseLevel = noiseLevel
    self.seed = seed
    self.batchSize = batchSize
  }

  public var name: String { "smoothgrad" }
  public var isSigned: Bool { false }

  public func attribute(_ model: Module, inputs: Tensor, classes: [Int]) throws -> Attribution {
    try checkRequest(inputs, classes: classes)
    guard samples >= 1 else {
      throw ExplainError.invalidSetting("SmoothGrad needs at least 1 sample, got \(samples)")
    }
    var generator = SeededGenerator(seed: seed)
    let size = inputs.count / inputs.shape[0]
    var mean: [Float] = []
    for row in 0..<inputs.shape[0] {
      let noisy = repeated(inputs, row: row, count: samples)
      let image = noisy.scalars[0..<size]
      let sigma = noiseLevel * ((image.max() ?? 0) - (image.min() ?? 0))
      for i in noisy.scalars.indices { noisy.scalars[i] += sigma * generator.nextNormal() }
      let gradient = try inputGradients(
        model, noisy, classes: Array(repeating: classes[row], count: samples),
        batchSize: batchSize)
      var average = [Float](repeating: 0, count: size)
      for s in 0..<samples {
        for i in 0..<size { average[i] += gradient.scalars[s * size + i] / Float(samples) }
      }
      mean += average
    }
    let values = Tensor(shape: inputs.shape, scalars: mean)
    return Attribution(
      classes: classes, values: values, heatmap: collapseChannels(values, maxAbsolute: true))
  }
}

/// Integrated Gradients: (x - x') times the average gradient along the straight path from the
/// baseline x' to x, integrated by Gauss-Legendre quadrature (Captum's default). Completeness:
/// the attributions sum to f(x) - f(x'); `convergenceDelta` reports how far they are from it.
/// With a `tolerance`, an image whose |delta| exceeds that fraction of |f(x) - f(x')| is done
/// again with twice the points, up to `maximumSteps`: the gradient of a ReLU network jumps along
/// the path, and a fixed number of points can miss completeness by several percent.
public struct IntegratedGradients: AttributionMethod {
  /// The baseline's value at every input element (0: black after normalisation's shift).
  public var baseline: Float
  /// Points on the path (the first attempt's, with a tolerance).
  public var steps: Int
  /// The largest |delta| / |f(x) - f(x')| accepted before doubling the points; nil: `steps`.
  public var tolerance: Float?
  /// The most points doubling may reach.
  public var maximumSteps: Int
  /// Path points per forward and backward pass.
  public var batchSize: Int

  public init(
    baseline: Float = 0, steps: Int = 50, tolerance: Float? = nil, maximumSteps: Int = 800,
    batchSize: Int = 64
  ) {
    self.baseline = baseline
    self.steps = steps
    self.tolerance = tolerance
    self.maximumSteps = maximumSteps
    self.batchSize = batchSize
  }

  public var name: String { "integrated-gradients" }
  public var isSigned: Bool { true }

  public func attribute(_ model: Module, inputs: Tensor, classes: [Int]) throws -> Attribution {
    try checkRequest(inputs, classes: classes)
    guard steps >= 1 else {
      throw ExplainError.invalidSetting("Integrated Gradients needs at least 1 step, got \(steps)")
    }
    let size = inputs.count / inputs.shape[0]
    var attributions: [Float] = []
    var deltas: [Float] = []
    var pathPoints: [Int] = []
    for row in 0..<inputs.shape[0] {
      let image = Array(inputs.scalars[(row * size)..<((row + 1) * size)])
      let ends = Tensor(
        shape: [2] + inputs.shape.dropFirst(),
        scalars: image + [Float](repeating: baseline, count: size))
      let f = try scores(model, ends, classes: [classes[row], classes[row]], batchSize: 2)
      let gap = f[0] - f[1]
      var points = steps
      while true {
        let attribution = try integrate(model, inputs, row: row, class: classes[row], points)
        let delta = attribution.reduce(0, +) - gap
        if let tolerance, abs(delta) > tolerance * abs(gap), points * 2 <= maximumSteps {
          points *= 2
          continue
        }
        attributions += attribution
        deltas.append(delta)
        pathPoints.append(points)
        break
      }
    }
    let values = Tensor(shape: inputs.shape, scalars: attributions)
    return Attribution(
      classes: classes, values: values, heatmap: collapseChannels(values, maxAbsolute: false),
      convergenceDelta: deltas, pathPoints: pathPoints)
  }

  /// Row `row`'s attributions with `points` Gauss-Legendre points.
  private func integrate(_ model: Module, _ inputs: Tensor, row: Int, class k: Int, _ points: Int)
    throws -> [Float]
  {
    let (alphas, weights) = gaussLegendre(points)
    let size = inputs.count / inputs.shape[0]
    let image = Array(inputs.scalars[(row * size)..<((row + 1) * size)])
    let path = repeated(inputs, row: row, count: points)
    for (s, alpha) in alphas.enumerated() {
      for i in 0..<size {
        path.scalars[s * size + i] = baseline + Float(alpha) * (image[i] - baseline)
      }
    }
    let gradient = try inputGradients(
      model, path, classes: Array(repeating: k, count: points), batchSize: batchSize)
    var total = [Double](repeating: 0, count: size)
    for (s, weight) in weights.enumerated() {
      for i in 0..<size { total[i] += weight * Double(gradient.scalars[s * size + i]) }
    }
    return (0..<size).map { Float(total[$0] * Double(image[$0] - baseline)) }
  }
}

/// Nodes and weights of `n`-point Gauss-Legendre quadrature on [0, 1], nodes ascending (NumPy's
/// `leggauss` mapped from [-1, 1], as Captum maps it).
func gaussLegendre(_ n: Int) -> (nodes: [Double], weights: [Double]) {
  var nodes: [Double] = []
  var weights: [Double] = []
  for i in 1...n {
    // Newton's method on P_n from the Chebyshev-like first guess.
    var x = cos(Double.pi * (Double(i) - 0.25) / (Double(n) + 0.5))
    var derivative = 0.0
    for _ in 0..<100 {
      var (p0, p1) = (1.0, x)
      var pn = x
      if n >= 2 {
        for k in 2...n {
          pn = ((2 * Double(k) - 1) * x * p1 - (Double(k) - 1) * p0) / Double(k)
          (p0, p1) = (p1, pn)
        }
      }
      let previous = n == 1 ? 1.0 : p0
      derivative = Double(n) * (x * pn - previous) / (x * x - 1)
      let step = pn / derivative
      x -= step
      if abs(step) < 1e-15 { break }
    }
    nodes.append(x)
    weights.append(2 / ((1 - x * x) * derivative * derivative))
  }
  // Descending x in [-1, 1] becomes ascending alpha in [0, 1].
  return (nodes.reversed().map { 0.5 * ($0 + 1) }, weights.reversed().map { 0.5 * $0 })
}
