import Foundation

/// A linear axis: a range whose ends are ticks, with ticks at 1, 2, 2.5 or 5 times a power of
/// ten, so that labels read as round numbers.
public struct AxisScale: Sendable, Equatable {
  public let lower: Double
  public let upper: Double
  public let step: Double

  public init(lower: Double, upper: Double, step: Double) {
    precondition(
      lower.isFinite && upper.isFinite && lower < upper && step > 0,
      "an axis needs finite lower < upper and a positive step, got \(lower)...\(upper) step \(step)"
    )
    self.lower = lower
    self.upper = upper
    self.step = step
  }

  /// The tightest nice axis with at most `maxTicks` ticks that covers every value. An empty
  /// list gives 0...1; a single value, or all-equal values, are centred in a small range around
  /// them. `integerSteps` keeps ticks on whole numbers, as epochs need. Values must be finite.
  public static func covering(_ values: [Double], maxTicks: Int = 6, integerSteps: Bool = false)
    -> AxisScale
  {
    precondition(maxTicks >= 2, "an axis needs at least 2 ticks, got \(maxTicks)")
    precondition(values.allSatisfy(\.isFinite), "axis values must be finite (no NaN or infinity)")
    guard var low = values.min(), var high = values.max() else {
      return AxisScale(lower: 0, upper: 1, step: integerSteps ? 1 : 0.2)
    }
    if low == high {
      let pad = integerSteps ? 1 : (low == 0 ? 1 : abs(low) * 0.1)
      (low, high) = (low - pad, high + pad)
    }
    var exponent = Int((log10((high - low) / Double(maxTicks - 1))).rounded(.down))
    while true {
      for mantissa in [1, 2, 2.5, 5] {
        let step = mantissa * pow(10, Double(exponent))
        if integerSteps && (step < 1 || step.rounded() != step) { continue }
        let lower = (low / step + 1e-9).rounded(.down) * step
        let upper = (high / step - 1e-9).rounded(.up) * step
        if ((upper - lower) / step).rounded() + 1 <= Double(maxTicks) {
          return AxisScale(lower: lower, upper: upper, step: step)
        }
      }
      exponent += 1
    }
  }

  /// The tick values from `lower` to `upper`, both included.
  public var ticks: [Double] {
    let count = Int(((upper - lower) / step).rounded())
    return (0...count).map { lower + Double($0) * step }
  }

  /// Where `value` falls along the axis: 0 at `lower`, 1 at `upper`.
  public func fraction(_ value: Double) -> Double { (value - lower) / (upper - lower) }

  /// A tick label with as many decimals as the step needs ("0.25", "10").
  public func label(_ value: Double) -> String {
    let decimals =
      (0...8).first { digits in
        let scaled = step * pow(10, Double(digits))
        return abs(scaled - scaled.rounded()) < 1e-6 * max(1, scaled)
      } ?? 8
    let shown = abs(value) < step * 1e-6 ? 0 : value
    return String(format: "%.\(decimals)f", shown)
  }
}
