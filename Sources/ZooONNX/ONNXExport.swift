import ZooNN
import ZooTensor

/// Exports a model as an ONNX graph by running it once and recording its ops.
public enum ONNXExport {
  /// The graph's input and output names.
  public static let inputName = "input"
  public static let outputName = "logits"

  /// Runs `model` on `input` in inference mode, recording every op, and returns the ONNX model
  /// (batch dimension `N` free, the other dimensions those of `input`) and the model's own
  /// output on `input`. `metadata` goes to the model's `metadata_props`.
  public static func export(
    _ model: Module, input: Tensor, metadata: [(key: String, value: String)] = []
  ) throws -> (model: ONNXModel, output: Tensor) {
    let wasTraining = model.isTraining
    model.setTraining(false)
    defer { model.setTraining(wasTraining) }
    let trace = OpTrace()
    let output = try withoutGradients { try trace.recording { try model(input) } }
    var builder = ONNXGraphBuilder(
      parameters: model.stateDict(), input: input, inputName: inputName)
    for step in trace.steps { try builder.add(step) }
    guard let last = builder.name(of: output) else {
      throw ONNXError.untracedTensor(op: "the graph output", shape: output.shape)
    }
    var nodes = builder.nodes
    nodes.append(ONNXNode("Identity", inputs: [last], outputs: [outputName], name: outputName))
    let batchFree = { (shape: [Int]) -> [ONNXValueInfo.Dimension] in
      [.parameter("N")] + shape.dropFirst().map { .value($0) }
    }
    let graph = ONNXGraph(
      name: "zoo", nodes: nodes, initializers: builder.initializers,
      inputs: [ONNXValueInfo(name: inputName, dims: batchFree(input.shape))],
      outputs: [ONNXValueInfo(name: outputName, dims: batchFree(output.shape))])
    return (ONNXModel(graph: graph, metadata: metadata), output)
  }
}
