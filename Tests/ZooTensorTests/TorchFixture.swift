import Foundation
import ZooTensor

/// PyTorch reference cases for one op family, read from `Fixtures/<family>.json`
/// (written by `Tools/make_torch_fixtures.py`; the format is described in `Fixtures/README.md`).
struct TorchFixture: Decodable, Sendable {
  /// A tensor as stored: shape and row-major values. Values are decoded as `Double` and
  /// narrowed once, which is exact: each one is a float32 written as a float64 decimal.
  struct StoredTensor: Decodable, Sendable {
    let shape: [Int]
    let data: [Double]

    var scalars: [Float] { data.map { Float($0) } }
  }

  /// The op's arguments, in PyTorch's names; each family uses some of them.
  struct Arguments: Decodable, Sendable {
    var stride: Int?
    var padding: Int?
    /// conv2d's horizontal stride and padding, where they differ from `stride` and `padding`.
    var strideWidth: Int?
    var paddingWidth: Int?
    var groups: Int?
    var outputPadding: Int?
    var dilation: Int?
    var kernelSize: Int?
    var ceilMode: Bool?
    var countIncludePad: Bool?
    var outputSize: [Int]?
    var training: Bool?
    var momentum: Double?
    var eps: Double?
    var labels: [Int]?
    var classWeights: [Double]?
    var labelSmoothing: Double?
    var log: Bool?
    var axis: Int?
    /// Keras's ZeroPadding2D amounts: [top, bottom, left, right].
    var paddingAmounts: [Int]?
    /// Keras's `padding` argument, "same" or "valid".
    var kerasPadding: String?
    /// Keras's `depth_multiplier`.
    var depthMultiplier: Int?

    enum CodingKeys: String, CodingKey {
      case stride, padding, dilation, groups, training, momentum, eps, labels, log, axis
      case strideWidth = "stride_width"
      case paddingWidth = "padding_width"
      case outputPadding = "output_padding"
      case kernelSize = "kernel_size"
      case ceilMode = "ceil_mode"
      case countIncludePad = "count_include_pad"
      case outputSize = "output_size"
      case classWeights = "class_weights"
      case labelSmoothing = "label_smoothing"
      case paddingAmounts = "padding_amounts"
      case kerasPadding = "keras_padding"
      case depthMultiplier = "depth_multiplier"
    }
  }

  struct Case: Decodable, Sendable {
    let name: String
    let args: Arguments
    let tensors: [String: StoredTensor]

    /// Whether the case has a tensor called `key`.
    func has(_ key: String) -> Bool { tensors[key] != nil }

    /// The stored tensor `key` as a new `Tensor`.
    func tensor(_ key: String, requiresGrad: Bool = false) throws -> Tensor {
      guard let stored = tensors[key] else {
        throw FixtureError.missingTensor(key, inCase: name)
      }
      return Tensor(shape: stored.shape, scalars: stored.scalars, requiresGrad: requiresGrad)
    }

    /// The stored tensor `key`, or nil when the case has none (an absent bias).
    func optionalTensor(_ key: String, requiresGrad: Bool = false) throws -> Tensor? {
      has(key) ? try tensor(key, requiresGrad: requiresGrad) : nil
    }
  }

  enum FixtureError: Error, CustomStringConvertible {
    case missingFile(String)
    case missingCase(String, inFamily: String)
    case missingTensor(String, inCase: String)

    var description: String {
      switch self {
      case .missingFile(let family): "no fixture Fixtures/\(family).json in the test bundle"
      case .missingCase(let name, let family): "no case \"\(name)\" in Fixtures/\(family).json"
      case .missingTensor(let key, let name): "case \"\(name)\" has no tensor \"\(key)\""
      }
    }
  }

  let cases: [Case]

  /// Reads `Fixtures/<family>.json` from the test bundle.
  static func load(_ family: String) throws -> TorchFixture {
    guard
      let url = Bundle.module.url(
        forResource: family, withExtension: "json", subdirectory: "Fixtures")
    else { throw FixtureError.missingFile(family) }
    return try JSONDecoder().decode(TorchFixture.self, from: Data(contentsOf: url))
  }

  /// The names of the cases in `Fixtures/<family>.json`, in file order.
  static func caseNames(_ family: String) throws -> [String] {
    try load(family).cases.map(\.name)
  }

  /// The case called `name` in `Fixtures/<family>.json`.
  static func `case`(_ name: String, in family: String) throws -> Case {
    guard let found = try load(family).cases.first(where: { $0.name == name }) else {
      throw FixtureError.missingCase(name, inFamily: family)
    }
    return found
  }
}
