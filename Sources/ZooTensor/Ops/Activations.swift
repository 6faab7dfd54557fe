// Element-wise activations: y = f(x) for every element, any shape.

import CKernels
import Foundation

/// `max(x, 0)`.
public func relu(_ x: Tensor) -> Tensor {
  OpTrace.traced(.activation(.relu), [x]) {
    elementwise("relu", x, ActivationKernels.ReLU())
  }
}

/// `min(max(x, 0), 6)`, MobileNet's activation.
public func relu6(_ x: Tensor) -> Tensor {
  OpTrace.traced(.activation(.relu6), [x]) {
    elementwise("relu6", x, ActivationKernels.ReLU6())
  }
}

/// `x` for positive `x`, `negativeSlope * x` otherwise.
public func leakyRelu(_ x: Tensor, negativeSlope: Float = 0.01) -> Tensor {
  OpTrace.traced(.activation(.leakyRelu(slope: negativeSlope)), [x]) {
    elementwise("leakyRelu", x, ActivationKernels.LeakyReLU(slope: negativeSlope))
  }
}

/// `1 / (1 + exp(-x))`.
public func sigmoid(_ x: Tensor) -> Tensor {
  OpTrace.traced(.activation(.sigmoid), [x]) {
    elementwise("sigmoid", x, ActivationKernels.Sigmoid())
  }
}

/// `x * sigmoid(x)`: SiLU, also called swish (EfficientNet).
public func silu(_ x: Tensor) -> Tensor {
  OpTrace.traced(.activation(.silu), [x]) {
    elementwise("silu", x, ActivationKernels.SiLU())
  }
}

/// `relu6(x + 3) / 6`, torch's `hardsigmoid` and Keras 3's `hard_sigmoid` (MobileNetV3).
public func hardSigmoid(_ x: Tensor) -> Tensor {
  OpTrace.traced(.activation(.hardSigmoid), [x]) {
    elementwise("hardSigmoid", x, ActivationKernels.HardSigmoid())
  }
}

/// `x * relu6(x + 3) / 6`, torch's `hardswish` (MobileNetV3).
public func hardSwish(_ x: Tensor) -> Tensor {
  OpTrace.traced(.activation(.hardSwish), [x]) {
    elementwise("hardSwish", x, ActivationKernels.HardSwish())
  }
}

/// The hyperbolic tangent.
public func tanh(_ x: Tensor) -> Tensor {
  OpTrace.traced(.activation(.tanh), [x]) {
    elementwise("tanh", x, ActivationKernels.Tanh())
  }
}

/// How `gelu` computes the normal CDF, in torch's names (`approximate='none'` or `'tanh'`).
public enum GELUApproximation: String, Sendable, CaseIterable {
  /// `Phi(x) = (1 + erf(x / sqrt 2)) / 2`, torch's default.
  case exact = "none"
  /// `Phi(x) ~ (1 + tanh(sqrt(2 / pi) * (x + 0.044715 x^3))) / 2`, `keras.ops.gelu`'s default.
  case tanh
}

/// `x * Phi(x)`, Phi the standard normal CDF, exact or with torch's tanh approximation.
public func gelu(_ x: Tensor, approximate: GELUApproximation = .exact) -> Tensor {
  OpTrace.traced(.activation(.gelu(approximate)), [x]) {
    switch approximate {
    case .exact: elementwise("gelu", x, ActivationKernels.GELU())
    case .tanh: elementwise("geluTanh", x, ActivationKernels.GELUTanh())
    }
  }
}

/// `log(1 + exp(beta * x)) / beta`, and `x` itself where `beta * x > threshold` (torch semantics).
public func softplus(_ x: Tensor, beta: Float = 1, threshold: Float = 20) -> Tensor {
  OpTrace.traced(.activation(.softplus(beta: beta, threshold: threshold)), [x]) {
    elementwise("softplus", x, ActivationKernels.Softplus(beta: beta, threshold: threshold))
  }
}

/// `activation` applied to `x` by its own function (`relu`, `silu`, ...), recorded as usual.
public func activate(_ x: Tensor, _ activation: TracedOp.Activation) -> Tensor {
  switch activation {
  case .relu: relu(x)
  case .relu6: relu6(x)
  case .sigmoid: sigmoid(x)
  case .silu: silu(x)
  case .hardSigmoid: hardSigmoid(x)
  case .hardSwish: hardSwish(x)
  case .tanh: tanh(x)
  case .leakyRelu(let slope): leakyRelu(x, negativeSlope: slope)
  case .gelu(let approximation): gelu(x, approximate: approximation)
  case .softplus(let beta, let threshold): softplus(x, beta: beta, threshold: threshold)
  }
}

/// Applies `activation` to `x`'s values in place and records nothing: for a tensor just
/// computed that nothing takes a gradient of (a folded convolution's output in inference), so
/// the values need no second buffer and no second pass through memory.
public func activateInPlace(_ x: Tensor, _ activation: TracedOp.Activation) {
  precondition(
    !x.requiresGrad, "activateInPlace: \(activation) on a tensor that records a gradient")
  typealias K = ActivationKernels
  switch activation {
  case .relu: K.forward(inPlace: &x.scalars, K.ReLU())
  case .relu6: K.forward(inPlace: &x.scalars, K.ReLU6())
  case .sigmoid: K.forward(inPlace: &x.scalars, K.Sigmoid())
  case .silu: K.forward(inPlace: &x.scalars, K.SiLU())
  case .hardSigmoid: K.forward(inPlace: &x.scalars, K.HardSigmoid())
  case .hardSwish: K.forward(inPlace: &x.scalars, K.HardSwish())
  case .tanh: K.forward(inPlace: &x.scalars, K.Tanh())
  case .leakyRelu(let slope): K.forward(inPlace: &x.scalars, K.LeakyReLU(slope: slope))
  case .gelu(.exact): K.forward(inPlace: &x.scalars, K.GELU())
  case .gelu(.tanh): K.forward(inPlace: &x.scalars, K.GELUTanh())
  case .softplus(let beta, let threshold):
    K.forward(inPlace: &x.scalars, K.Softplus(beta: beta, threshold: threshold))
  }
}

/// A scalar function with its derivative, which may use the input or the output.
protocol ScalarActivation {
  func value(_ x: Float) -> Float
  func derivative(x: Float, y: Float) -> Float
  /// `y[i] = value(x[i])` for `i < count`; a kernel of eight lanes replaces the plain loop
  /// where the compiler cannot vectorise `value` (it calls `expf`).
  func apply(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, count: Int)
}

extension ScalarActivation {
  func apply(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, count: Int) {
    for i in 0..<count { y[i] = value(x[i]) }
  }
}

/// Activations computed on eight lanes at a time by `lanes`, which must equal `value` in each
/// lane up to float rounding.
protocol LaneActivation: ScalarActivation {
  func lanes(_ x: SIMD8<Float>) -> SIMD8<Float>
}

extension LaneActivation {
  func apply(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, count: Int) {
    applyLanes(y, x, count: count)
  }

  func applyLanes(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, count: Int) {
    // Whole groups in a loop of their own: with the partial group's branch inside it, the
    // compiler split the eight lanes across scalar and vector registers.
    let whole = count - count % 8
    for k in stride(from: 0, to: whole, by: 8) {
      Lanes.store(lanes(Lanes.load(x, k, 8)), y, k, 8)
    }
    if whole < count {
      Lanes.store(lanes(Lanes.load(x, whole, count - whole)), y, whole, count - whole)
    }
  }
}

/// Applies `activation` to every element and records the matching backward. Generic, so each
/// activation gets its own specialised loop.
private func elementwise<F: ScalarActivation>(_ name: String, _ x: Tensor, _ activation: F)
  -> Tensor
{
  let y = Tensor.uninitialized(shape: x.shape)
  ActivationKernels.forward(y: &y.scalars, x: x.scalars, activation)
  y.record(name, inputs: [x]) { [xs = x.scalars, ys = y.scalars] dy in
    x.accumulateOrWriteGrad { dx, overwrite in
      ActivationKernels.backward(
        dx: dx, dy: dy.scalars, x: xs, y: ys, activation, overwrite: overwrite)
    }
  }
  return y
}

/// The scalar activations and the parallel element-wise loops that apply them.
enum ActivationKernels {
  struct ReLU: ScalarActivation {
    func value(_ x: Float) -> Float { max(x, 0) }
    func derivative(x: Float, y: Float) -> Float { x > 0 ? 1 : 0 }
  }

  /// The gradient is 0 at 0 and at 6, as PyTorch's (hardtanh's).
  struct ReLU6: ScalarActivation {
    func value(_ x: Float) -> Float { min(max(x, 0), 6) }
    func derivative(x: Float, y: Float) -> Float { x > 0 && x < 6 ? 1 : 0 }
  }

  struct LeakyReLU: ScalarActivation {
    let slope: Float
    func value(_ x: Float) -> Float { x > 0 ? x : slope * x }
    func derivative(x: Float, y: Float) -> Float { x > 0 ? 1 : slope }
  }

  struct Sigmoid: LaneActivation {
    func value(_ x: Float) -> Float { stableSigmoid(x) }
    func lanes(_ x: SIMD8<Float>) -> SIMD8<Float> { VectorExp.sigmoid(x) }
    func derivative(x: Float, y: Float) -> Float { y * (1 - y) }
  }

  struct Tanh: ScalarActivation {
    func value(_ x: Float) -> Float { Foundation.tanh(x) }
    func derivative(x: Float, y: Float) -> Float { 1 - y * y }
  }

  struct GELU: ScalarActivation {
    static let invSqrt2 = Float(0.5.squareRoot())
    static let invSqrt2Pi = Float(1 / (2 * Double.pi).squareRoot())
    func value(_ x: Float) -> Float { 0.5 * x * (1 + erf(x * Self.invSqrt2)) }
    func derivative(x: Float, y: Float) -> Float {
      0.5 * (1 + erf(x * Self.invSqrt2)) + x * exp(-0.5 * x * x) * Self.invSqrt2Pi
    }
  }

  struct GELUTanh: ScalarActivation {
    static let sqrt2OverPi = Float((2 / Double.pi).squareRoot())
    static let kappa: Float = 0.044715
    func value(_ x: Float) -> Float {
      0.5 * x * (1 + Foundation.tanh(Self.sqrt2OverPi * (x + Self.kappa * x * x * x)))
    }
    func derivative(x: Float, y: Float) -> Float {
      let t = Foundation.tanh(Self.sqrt2OverPi * (x + Self.kappa * x * x * x))
      let slope = 1 - t * t
      // Where tanh saturates the second term is 0, also when x^2 overflows (0 * inf).
      guard slope > 0 else { return 0.5 * (1 + t) }
      return 0.5 * (1 + t) + 0.5 * x * slope * Self.sqrt2OverPi * (1 + 3 * Self.kappa * x * x)
    }
  }

  struct SiLU: LaneActivation {
    /// AVX2 and FMA (`zoo_silu_avx2`, the same steps as `VectorExp.silu`) where the CPU has them.
    var wide = WideKernels.active
    func value(_ x: Float) -> Float { x * stableSigmoid(x) }
    func lanes(_ x: SIMD8<Float>) -> SIMD8<Float> { VectorExp.silu(x) }
    func apply(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, count: Int) {
      if wide { zoo_silu_avx2(x, y, count) } else { applyLanes(y, x, count: count) }
    }
    func derivative(x: Float, y: Float) -> Float {
      let s = stableSigmoid(x)
      return s * (1 + x * (1 - s))
    }
  }

  /// Derivatives as torch's kernels define them at the kinks: 1/6 strictly inside (-3, 3).
  struct HardSigmoid: ScalarActivation {
    func value(_ x: Float) -> Float { min(max(x + 3, 0), 6) / 6 }
    func derivative(x: Float, y: Float) -> Float { x > -3 && x < 3 ? 1 / 6 : 0 }
  }

  /// Derivative as torch's: 0 up to -3, `x / 3 + 1/2` strictly inside (-3, 3), 1 from 3 on.
  struct HardSwish: ScalarActivation {
    func value(_ x: Float) -> Float { x * min(max(x + 3, 0), 6) / 6 }
    func derivative(x: Float, y: Float) -> Float { x <= -3 ? 0 : x < 3 ? x / 3 + 0.5 : 1 }
  }

  struct Softplus: ScalarActivation {
    let beta: Float
    let threshold: Float
    func value(_ x: Float) -> Float {
      let z = beta * x
      // log(1 + e^z) = max(z, 0) + log(1 + e^-|z|) keeps e^z from overflowing.
      return z > threshold ? x : (max(z, 0) + log1p(exp(-abs(z)))) / beta
    }
    func derivative(x: Float, y: Float) -> Float {
      beta * x > threshold ? 1 : stableSigmoid(beta * x)
    }
  }

  /// `1 / (1 + e^-x)` without overflowing `e^-x` for very negative `x`.
  @inline(__always)
  static func stableSigmoid(_ x: Float) -> Float {
    if x >= 0 { return 1 / (1 + exp(-x)) }
    let e = exp(x)
    return e / (1 + e)
  }

  static func forward<F: ScalarActivation>(y: inout [Float], x: [Float], _ f: F) {
    y.withUnsafeMutableBufferPointer { y in
      x.withUnsafeBufferPointer { x in
        guard let yp = y.baseAddress, let xp = x.baseAddress else { return }
        Parallel.forRanges(y.count) { range in
          f.apply(yp + range.lowerBound, xp + range.lowerBound, count: range.count)
        }
      }
    }
  }

  static func forward<F: ScalarActivation>(inPlace values: inout [Float], _ f: F) {
    values.withUnsafeMutableBufferPointer { values in
      guard let p = values.baseAddress else { return }
      Parallel.forRanges(values.count) { range in
        f.apply(p + range.lowerBound, p + range.lowerBound, count: range.count)
      }
    }
  }

  /// dx += dy * f'(x), or dx = dy * f'(x) with `overwrite`.
  static func backward<F: ScalarActivation>(
    dx: UnsafeMutableBufferPointer<Float>, dy: [Float], x: [Float], y: [Float], _ f: F,
    overwrite: Bool = false
  ) {
    dy.withUnsafeBufferPointer { dy in
      x.withUnsafeBufferPointer { x in
        y.withUnsafeBufferPointer { y in
          Parallel.forRanges(dx.count) { range in
            if overwrite {
              for i in range { dx[i] = dy[i] * f.derivative(x: x[i], y: y[i]) }
            } else {
              for i in range { dx[i] += dy[i] * f.derivative(x: x[i], y: y[i]) }
            }
          }
        }
      }
    }
  }
}

/// Plain Double loops that define what the activation kernels compute; tests compare the two.
public enum ActivationReference {
  public enum Function: Sendable {
    case relu
    case relu6
    case leakyRelu(negativeSlope: Double)
    case sigmoid
    case tanh
    case gelu
    case geluTanh
    case silu
    case hardSigmoid
    case hardSwish
    case softplus(beta: Double, threshold: Double)

    public func value(_ x: Double) -> Double {
      switch self {
      case .relu: return x > 0 ? x : 0
      case .relu6: return min(max(x, 0), 6)
      case .leakyRelu(let slope): return x > 0 ? x : slope * x
      case .sigmoid: return 1 / (1 + exp(-x))
      case .tanh: return Foundation.tanh(x)
      case .gelu: return 0.5 * x * (1 + erf(x / 2.0.squareRoot()))
      case .geluTanh: return 0.5 * x * (1 + Foundation.tanh(Self.geluTanhInner(x)))
      case .silu: return x / (1 + exp(-x))
      case .hardSigmoid: return min(max(x + 3, 0), 6) / 6
      case .hardSwish: return x * min(max(x + 3, 0), 6) / 6
      case .softplus(let beta, let threshold):
        return beta * x > threshold ? x : log(1 + exp(beta * x)) / beta
      }
    }

    /// `sqrt(2 / pi) * (x + 0.044715 x^3)`, the argument of tanh in GELU's approximation.
    static func geluTanhInner(_ x: Double) -> Double {
      (2 / Double.pi).squareRoot() * (x + 0.044715 * x * x * x)
    }

    public func derivative(_ x: Double) -> Double {
      switch self {
      case .relu: return x > 0 ? 1 : 0
      case .relu6: return x > 0 && x < 6 ? 1 : 0
      case .leakyRelu(let slope): return x > 0 ? 1 : slope
      case .sigmoid:
        let s = 1 / (1 + exp(-x))
        return s * (1 - s)
      case .tanh:
        let t = Foundation.tanh(x)
        return 1 - t * t
      case .gelu:
        return 0.5 * (1 + erf(x / 2.0.squareRoot())) + x * exp(-x * x / 2)
          / (2 * Double.pi).squareRoot()
      case .geluTanh:
        let t = Foundation.tanh(Self.geluTanhInner(x))
        let inner = (2 / Double.pi).squareRoot() * (1 + 3 * 0.044715 * x * x)
        return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * inner
      case .silu:
        let s = 1 / (1 + exp(-x))
        return s + x * s * (1 - s)
      case .hardSigmoid: return x > -3 && x < 3 ? 1.0 / 6 : 0
      case .hardSwish: return x <= -3 ? 0 : x < 3 ? x / 3 + 0.5 : 1
      case .softplus(let beta, let threshold):
        return beta * x > threshold ? 1 : 1 / (1 + exp(-beta * x))
      }
    }
  }

  public static func forward(_ function: Function, x: Tensor) -> Tensor {
    Tensor(shape: x.shape, scalars: x.scalars.map { Float(function.value(Double($0))) })
  }

  /// The gradient of `sum(dy * f(x))` with respect to x.
  public static func backward(_ function: Function, x: Tensor, dy: Tensor) -> Tensor {
    var dx = [Float](repeating: 0, count: x.count)
    for i in 0..<x.count {
      dx[i] = Float(Double(dy.scalars[i]) * function.derivative(Double(x.scalars[i])))
    }
    return Tensor(shape: x.shape, scalars: dx)
  }
}
