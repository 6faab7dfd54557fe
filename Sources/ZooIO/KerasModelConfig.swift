import Foundation

/// What the zoo takes from a whole Keras model's `model_config` (the JSON attribute at the root
/// of a full-model .h5): every BatchNormalization layer's epsilon, by layer name. Weight groups
/// do not record eps, and Keras's layers differ (1e-3 by default, 1.001e-5 in Keras
/// Applications' ResNet50 and DenseNets), so a model loading the file can be checked against it.
struct KerasModelConfig {
  static let attribute = "model_config"

  /// Layer name to epsilon, for every BatchNormalization layer the config holds, nested
  /// models included.
  var batchNormEps: [String: Float] = [:]

  /// Parses the JSON text; an error explains what is wrong with it.
  init(json: String) throws(KerasModelConfigError) {
    guard let data = json.data(using: .utf8),
      let root = try? JSONSerialization.jsonObject(with: data)
    else { throw KerasModelConfigError("is not JSON") }
    try collect(root)
  }

  /// Walks every object of the config; a BatchNormalization layer is
  /// `{"class_name": "BatchNormalization", "config": {"name": ..., "epsilon": ...}}`.
  private mutating func collect(_ value: Any) throws(KerasModelConfigError) {
    if let list = value as? [Any] {
      for item in list { try collect(item) }
      return
    }
    guard let object = value as? [String: Any] else { return }
    if object["class_name"] as? String == "BatchNormalization" {
      guard let config = object["config"] as? [String: Any],
        let name = config["name"] as? String
      else { throw KerasModelConfigError("has a BatchNormalization layer without a name") }
      guard let eps = config["epsilon"] as? Double, eps > 0, eps.isFinite else {
        let found = config["epsilon"].map { "\($0)" } ?? "none"
        throw KerasModelConfigError(
          "gives BatchNormalization layer '\(name)' the epsilon \(found), not a positive number")
      }
      batchNormEps[name] = batchNormEps[name] ?? Float(eps)
    }
    for (_, child) in object { try collect(child) }
  }
}

/// Why a `model_config` could not be used: a phrase that follows "model_config ".
struct KerasModelConfigError: Error {
  let reason: String
  init(_ reason: String) { self.reason = reason }
}
