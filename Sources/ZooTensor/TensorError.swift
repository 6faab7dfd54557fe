import Foundation

/// Errors raised by tensor ops: each states the contract, then what was received.
public enum TensorError: Error, Equatable, LocalizedError {
  /// Two shapes that must agree do not.
  case shapeMismatch(op: String, expected: [Int], actual: [Int])
  /// A tensor has the wrong number of dimensions.
  case rankMismatch(op: String, expected: Int, actual: [Int])
  /// An argument is out of the op's domain (a kernel larger than the padded input, ...).
  case invalidArgument(op: String, message: String)
  /// `backward()` was called on a tensor with more than one element and no seed gradient.
  case backwardNeedsScalar(shape: [Int])

  public var errorDescription: String? {
    switch self {
    case .shapeMismatch(let op, let expected, let actual):
      return "\(op): expected shape \(describe(shape: expected)), got \(describe(shape: actual))"
    case .rankMismatch(let op, let expected, let actual):
      return "\(op): expected a rank-\(expected) tensor, got shape \(describe(shape: actual))"
    case .invalidArgument(let op, let message):
      return "\(op): \(message)"
    case .backwardNeedsScalar(let shape):
      return
        "backward: needs a one-element tensor or an explicit seed gradient, got shape \(describe(shape: shape))"
    }
  }
}

/// Throws `rankMismatch` unless `tensor` has `rank` dimensions.
func expectRank(_ tensor: Tensor, _ rank: Int, _ op: String) throws {
  guard tensor.rank == rank else {
    throw TensorError.rankMismatch(op: op, expected: rank, actual: tensor.shape)
  }
}

/// Throws `shapeMismatch` unless `tensor` has exactly `shape`.
func expectShape(_ tensor: Tensor, _ shape: [Int], _ op: String) throws {
  guard tensor.shape == shape else {
    throw TensorError.shapeMismatch(op: op, expected: shape, actual: tensor.shape)
  }
}
