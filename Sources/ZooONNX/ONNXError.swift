import Foundation
import ZooTensor

/// What goes wrong exporting a model to ONNX or importing weights from an ONNX file.
public enum ONNXError: LocalizedError, Equatable, CustomStringConvertible {
  /// The forward pass ran an op ONNX export has no mapping for.
  case unsupportedOp(String)
  /// A tensor reached an op without coming from the input, a parameter, a buffer or a recorded
  /// op: something computed outside the ops the exporter sees.
  case untracedTensor(op: String, shape: [Int])
  /// The file is not a protocol buffer ONNX message of the expected form.
  case malformed(String)
  /// An initializer of a type or storage the importer does not read.
  case unsupportedTensor(name: String, reason: String)
  /// Strict import: the model's tensor has no initializer of that name.
  case missingTensor(String)
  /// Strict import: an initializer names no tensor of the model.
  case unexpectedTensor(String)
  case shapeMismatch(name: String, expected: [Int], actual: [Int])

  public var description: String {
    switch self {
    case .unsupportedOp(let op):
      "ONNX export supports the inference ops of the registry models; this model runs \(op)"
    case .untracedTensor(let op, let shape):
      "ONNX export records every op of the forward pass, but a tensor of shape "
        + "\(describe(shape: shape)) reached \(op) from an op that does not record itself"
    case .malformed(let reason): "not a valid ONNX file: \(reason)"
    case .unsupportedTensor(let name, let reason):
      "initializer \(name) cannot be read: \(reason)"
    case .missingTensor(let name):
      "the model needs \(name), which the ONNX file has no initializer for"
    case .unexpectedTensor(let name):
      "the ONNX file has an initializer \(name), which names no tensor of the model"
    case .shapeMismatch(let name, let expected, let actual):
      "shape mismatch for \(name): the model expects \(describe(shape: expected)), the ONNX file has "
        + describe(shape: actual)
    }
  }

  public var errorDescription: String? { description }
}
