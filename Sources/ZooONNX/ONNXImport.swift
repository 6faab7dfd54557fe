import ZooNN
import ZooTensor

/// Loads weights from an ONNX file into a model, strictly, by name.
public enum ONNXImport {
  /// Float initializers by name, plus the names PyTorch's exporter gives to `Identity` nodes
  /// that pass an initializer on (it stores equal tensors once and names the copies that way).
  /// Other initializers (int64 shapes and indices) are graph constants, not weights.
  public static func weights(of model: ONNXModel) -> [String: ONNXTensor] {
    var tensors: [String: ONNXTensor] = [:]
    for tensor in model.graph.initializers
    where tensor.dataType == ONNXTensor.DataType.float.rawValue {
      tensors[tensor.name] = tensor
    }
    for node in model.graph.nodes where node.opType == "Identity" && node.inputs.count == 1 {
      guard let source = tensors[node.inputs[0]], let name = node.outputs.first else { continue }
      tensors[name] = source
    }
    return tensors
  }

  /// Sets every parameter and buffer of `module` from the tensor of the same name in `model`.
  /// Strict: a tensor missing, an extra initializer or a shape that differs is an error naming
  /// the tensor (and both shapes); nothing is changed unless everything matches.
  public static func load(_ model: ONNXModel, into module: Module) throws {
    var tensors = weights(of: model)
    var values: [(Tensor, [Float])] = []
    for (path, tensor) in module.stateDict() {
      guard let source = tensors.removeValue(forKey: path) else {
        throw ONNXError.missingTensor(path)
      }
      guard source.dims == tensor.shape else {
        throw ONNXError.shapeMismatch(name: path, expected: tensor.shape, actual: source.dims)
      }
      values.append((tensor, try source.floats()))
    }
    // A stored tensor that only Identity nodes pass on under the model's names is not extra.
    let forwarded = Set(model.graph.nodes.filter { $0.opType == "Identity" }.flatMap(\.inputs))
    if let extra = tensors.keys.sorted().first(where: { !forwarded.contains($0) }) {
      throw ONNXError.unexpectedTensor(extra)
    }
    for (tensor, scalars) in values { tensor.scalars = scalars }
  }
}
