import Foundation
import ZooNN
import ZooTensor

/// Weights and inputs from a formula of the state-dict key and the element index, the same as
/// `Tools/make_torchvision_fixtures.py` computes them (`Tools/make_explain_fixtures.py` imports
/// it), so parity fixtures need store only the reference outputs. Values are computed in
/// float64 and rounded once to float32.
///
/// Element `i` of the tensor `key` starts from `base`, the `i`-th output of splitmix64 seeded
/// with the FNV-1a hash of the key, mapped to [-1, 1). Integer arithmetic makes it bit-identical
/// in both languages. Batch-norm tensors are told from convolution and linear ones by rank.
public struct DeterministicWeights: Decodable, Equatable, Sendable {
  /// Convolution and linear weights (rank >= 2) are `base * sqrt(weightGain / fanIn)`.
  public var weightGain = 6.0
  /// Biases are `biasScale * base`.
  public var biasScale = 0.1
  /// Batch-norm weights (rank-1 `.weight`) are `1 + normWeightScale * base`.
  public var normWeightScale = 0.1
  /// Running means are `runningMeanScale * base`.
  public var runningMeanScale = 0.1
  /// Running variances are `1 + runningVarScale * (base + 1)`, in [1, 1 + 2 * runningVarScale].
  public var runningVarScale = 0.25
  /// Input element `i` is `inputAmplitude * sin(inputFrequency * i)`.
  public var inputFrequency = 0.011
  public var inputAmplitude = 1.5

  /// The formula's constants as the scripts use them.
  public init() {}

  enum CodingKeys: String, CodingKey {
    case weightGain = "weight_gain"
    case biasScale = "bias_scale"
    case normWeightScale = "norm_weight_scale"
    case runningMeanScale = "running_mean_scale"
    case runningVarScale = "running_var_scale"
    case inputFrequency = "input_frequency"
    case inputAmplitude = "input_amplitude"
  }

  enum FormulaError: Error, CustomStringConvertible {
    case noFormula(String, shape: [Int])

    var description: String {
      switch self {
      case .noFormula(let key, let shape):
        "no formula for \(key) \(shape): expected a rank >= 2 weight, or a rank-1 .weight, "
          + ".bias, .running_mean or .running_var"
      }
    }
  }

  public static func fnv1a64(_ key: String) -> UInt64 {
    key.utf8.reduce(0xcbf2_9ce4_8422_2325) { ($0 ^ UInt64($1)) &* 0x100_0000_01b3 }
  }

  /// Element `i` of splitmix64 seeded with the key's hash, in [-1, 1).
  public static func base(_ key: String, count: Int) -> [Double] {
    let seed = fnv1a64(key)
    return (0..<count).map { i in
      var z = seed &+ UInt64(i + 1) &* 0x9e37_79b9_7f4a_7c15
      z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
      z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
      z ^= z >> 31
      return Double(z >> 11) * 0x1p-52 - 1
    }
  }

  /// The values of the tensor `key` of `shape`, row-major.
  public func values(_ key: String, shape: [Int]) throws -> [Float] {
    let count = shape.reduce(1, *)
    let base = Self.base(key, count: count)
    let values: [Double]
    if shape.count >= 2 {
      let scale = (weightGain / (Double(count) / Double(shape[0]))).squareRoot()
      values = base.map { $0 * scale }
    } else if key.hasSuffix(".bias") {
      values = base.map { biasScale * $0 }
    } else if key.hasSuffix(".weight") {
      values = base.map { 1 + normWeightScale * $0 }
    } else if key.hasSuffix(".running_mean") {
      values = base.map { runningMeanScale * $0 }
    } else if key.hasSuffix(".running_var") {
      values = base.map { 1 + runningVarScale * ($0 + 1) }
    } else {
      throw FormulaError.noFormula(key, shape: shape)
    }
    return values.map { Float($0) }
  }

  /// Sets every parameter and buffer of `model` from the formula.
  public func fill(_ model: Module) throws {
    for (path, tensor) in model.stateDict() {
      tensor.scalars = try values(path, shape: tensor.shape)
    }
  }

  /// The fixed input of `shape`.
  public func input(shape: [Int]) -> Tensor {
    let scalars = (0..<shape.reduce(1, *)).map {
      Float(inputAmplitude * sin(inputFrequency * Double($0)))
    }
    return Tensor(shape: shape, scalars: scalars)
  }
}
