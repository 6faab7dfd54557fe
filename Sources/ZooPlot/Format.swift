/// Number formats shared by the charts, written without locale-dependent formatters so output
/// is the same on every machine.
enum Format {
  /// A fraction as a percentage with one decimal: 0.9123 -> "91.2%".
  static func percent(_ fraction: Double) -> String {
    let tenths = Int((fraction * 1000).rounded())
    return "\(tenths / 10).\(tenths % 10)%"
  }

  /// A fraction as a whole percentage: 0.968 -> "97%".
  static func wholePercent(_ fraction: Double) -> String {
    "\(Int((min(max(fraction, 0), 1) * 100).rounded()))%"
  }
}
