import Foundation
import ZooTensor

/// An explanation that cannot be made as asked.
public enum ExplainError: Error, Equatable, LocalizedError {
  /// The target layer path names no module whose output is a feature map.
  case unknownLayer(String, valid: [String])
  /// The target layer was not called in the forward pass.
  case layerNotCalled(String)
  /// A class name the model does not predict.
  case unknownClass(String, known: [String])
  /// A class index outside the model's output.
  case classOutOfRange(Int, classCount: Int)
  /// The inputs are not an image batch (N, C, H, W).
  case notAnImageBatch(shape: [Int])
  /// The number of classes given differs from the number of images.
  case classCountMismatch(images: Int, classes: Int)
  /// The model's output is neither logits (N, K) nor per-pixel logits (N, K, H, W).
  case unsupportedOutput(shape: [Int])
  /// A setting outside its range, with the contract it breaks.
  case invalidSetting(String)

  public var errorDescription: String? {
    switch self {
    case .unknownLayer(let path, let valid):
      return
        "layer '\(path)' is not a module with a feature-map output; valid layers: \(valid.joined(separator: ", "))"
    case .layerNotCalled(let path):
      return
        "layer '\(path)' was not called in the forward pass, so it has no activation to explain"
    case .unknownClass(let name, let known):
      return "no class named '\(name)'; the model's classes: \(known.joined(separator: ", "))"
    case .classOutOfRange(let index, let count):
      return "class index must be in 0..<\(count), got \(index)"
    case .notAnImageBatch(let shape):
      return "explanations take an image batch (N, C, H, W), got shape \(describe(shape: shape))"
    case .classCountMismatch(let images, let classes):
      return "one class per image is needed: \(images) images, \(classes) classes"
    case .unsupportedOutput(let shape):
      return
        "the model must return logits (N, K) or per-pixel logits (N, K, H, W), got \(describe(shape: shape))"
    case .invalidSetting(let message):
      return message
    }
  }
}
