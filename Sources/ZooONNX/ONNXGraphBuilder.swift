import ZooTensor

/// Turns the ops of one recorded forward pass into ONNX nodes at opset 17.
///
/// Parameters and buffers become initializers under their state-dict paths; constants the
/// mapping needs (Clip bounds, Slice starts, Resize scales) are `Constant` nodes, so the
/// initializers are exactly the model's tensors. Every value that depends on the input keeps
/// the batch dimension free.
struct ONNXGraphBuilder {
  private(set) var nodes: [ONNXNode] = []
  private(set) var initializers: [ONNXTensor] = []
  private var names: [ObjectIdentifier: String] = [:]
  /// Values that depend on the graph input (and so on the batch size).
  private var batched: Set<ObjectIdentifier> = []
  private let parameterNames: [ObjectIdentifier: String]
  private var counter = 0

  /// `parameters`: the model's state dict, `input` the traced input tensor, named `inputName`.
  init(parameters: [(path: String, tensor: Tensor)], input: Tensor, inputName: String) {
    parameterNames = Dictionary(
      parameters.map { (ObjectIdentifier($0.tensor), $0.path) }, uniquingKeysWith: { a, _ in a })
    names[ObjectIdentifier(input)] = inputName
    batched.insert(ObjectIdentifier(input))
  }

  /// The value name of a recorded tensor.
  func name(of tensor: Tensor) -> String? { names[ObjectIdentifier(tensor)] }

  mutating func add(_ step: OpTrace.Step) throws {
    let label = Self.label(step.op)
    var inputs: [String?] = []
    for tensor in step.inputs {
      guard let tensor else {
        inputs.append(nil)
        continue
      }
      inputs.append(try value(tensor, op: label))
    }
    let id = ObjectIdentifier(step.output)
    if step.inputs.contains(where: { $0.map { batched.contains(ObjectIdentifier($0)) } ?? false }) {
      batched.insert(id)
    }
    if let same = step.inputs.firstIndex(where: { $0 === step.output }), let name = inputs[same] {
      names[id] = name  // an op that passed its input through
      return
    }
    counter += 1
    let output = "\(label)_\(counter)"
    names[id] = output
    try emit(step, inputs: inputs, output: output)
  }

  /// The name of an input: a recorded value, or a parameter or buffer (added as an initializer
  /// the first time), else the tensor came from outside the trace.
  private mutating func value(_ tensor: Tensor, op: String) throws -> String {
    let id = ObjectIdentifier(tensor)
    if let name = names[id] { return name }
    guard let path = parameterNames[id] else {
      throw ONNXError.untracedTensor(op: op, shape: tensor.shape)
    }
    initializers.append(ONNXTensor(name: path, dims: tensor.shape, floats: tensor.scalars))
    names[id] = path
    return path
  }

  private mutating func node(
    _ opType: String, _ inputs: [String], _ output: String, _ attributes: [ONNXAttribute] = []
  ) {
    nodes.append(
      ONNXNode(opType, inputs: inputs, outputs: [output], name: output, attributes: attributes))
  }

  /// A `Constant` node holding `tensor`; returns its output name.
  private mutating func constant(_ tensor: (String) -> ONNXTensor, for output: String) -> String {
    let name = "\(output)_\(nodes.count)_const"
    node("Constant", [], name, [ONNXAttribute("value", .tensor(tensor(name)))])
    return name
  }

  private mutating func scalar(_ value: Float, for output: String) -> String {
    constant({ ONNXTensor(name: $0, dims: [], floats: [value]) }, for: output)
  }

  private mutating func ints(_ values: [Int], for output: String) -> String {
    constant({ ONNXTensor(name: $0, int64s: values) }, for: output)
  }

  /// An intermediate value's name within the op that makes `output`.
  private func part(_ output: String, _ suffix: String) -> String { "\(output)_\(suffix)" }

  private mutating func emit(_ step: OpTrace.Step, inputs: [String?], output: String) throws {
    let x = inputs[0] ?? ""
    let given = inputs.compactMap { $0 }
    let inShape = step.inputs[0]?.shape ?? []
    switch step.op {
    case .conv2d(let stride, let padding, let dilation, let groups):
      let weight = step.inputs[1]!.shape
      node(
        "Conv", given, output,
        [
          ONNXAttribute("kernel_shape", .ints([weight[2], weight[3]])),
          ONNXAttribute("strides", .ints(stride)),
          ONNXAttribute("pads", .ints(padding + padding)),
          ONNXAttribute("dilations", .ints([dilation, dilation])),
          ONNXAttribute("group", .int(groups)),
        ])
    case .convTranspose2d(let stride, let padding, let outputPadding, let dilation):
      let weight = step.inputs[1]!.shape
      node(
        "ConvTranspose", given, output,
        [
          ONNXAttribute("kernel_shape", .ints([weight[2], weight[3]])),
          ONNXAttribute("strides", .ints([stride, stride])),
          ONNXAttribute("pads", .ints([padding, padding, padding, padding])),
          ONNXAttribute("output_padding", .ints([outputPadding, outputPadding])),
          ONNXAttribute("dilations", .ints([dilation, dilation])),
        ])
    case .batchNorm(let eps):
      let channels = inShape[1]
      let scale = inputs[1] ?? filled(1, channels, output)
      let bias = inputs[2] ?? filled(0, channels, output)
      node(
        "BatchNormalization", [x, scale, bias, inputs[3]!, inputs[4]!], output,
        [ONNXAttribute("epsilon", .float(eps))])
    case .channelLayerNorm(let eps):
      // LayerNormalization normalises trailing axes: move the channels last and back.
      guard inShape.count == 4 else {
        throw ONNXError.unsupportedOp("channelLayerNorm of a rank-\(inShape.count) input")
      }
      let channels = inShape[1]
      let scale = inputs[1] ?? filled(1, channels, output)
      let bias = inputs[2] ?? filled(0, channels, output)
      let last = part(output, "nhwc")
      let normed = part(output, "normed")
      node("Transpose", [x], last, [ONNXAttribute("perm", .ints([0, 2, 3, 1]))])
      node(
        "LayerNormalization", [last, scale, bias], normed,
        [ONNXAttribute("axis", .int(-1)), ONNXAttribute("epsilon", .float(eps))])
      node("Transpose", [normed], output, [ONNXAttribute("perm", .ints([0, 3, 1, 2]))])
    case .linear:
      node("Gemm", given, output, [ONNXAttribute("transB", .int(1))])
    case .activation(let activation):
      try emit(activation, x, output)
    case .add:
      node("Add", given, output)
    case .scale(let factor):
      node("Mul", [x, scalar(factor, for: output)], output)
    case .scaleChannels:
      node("Mul", given, output)
    case .concatChannels:
      node("Concat", given, output, [ONNXAttribute("axis", .int(1))])
    case .sliceChannels(let start, let end):
      node(
        "Slice",
        [x, ints([start], for: output), ints([end], for: output), ints([1], for: output)], output)
    case .maxPool2d(let kernel, let stride, let padding, let ceilMode):
      node(
        "MaxPool", [x], output,
        pooling(kernel, stride, padding) + [ONNXAttribute("ceil_mode", .int(ceilMode ? 1 : 0))])
    case .avgPool2d(let kernel, let stride, let padding, let countIncludePad):
      node(
        "AveragePool", [x], output,
        pooling(kernel, stride, padding) + [
          ONNXAttribute("count_include_pad", .int(countIncludePad ? 1 : 0))
        ])
    case .adaptiveAvgPool2d(let height, let width):
      try adaptivePool(x, from: (inShape[2], inShape[3]), to: (height, width), output)
    case .upsampleNearest(let scale):
      resizeNearest(x, by: (scale, scale), output)
    case .pad2d(let top, let bottom, let left, let right, let value):
      node(
        "Pad",
        [
          x, ints([0, 0, top, left, 0, 0, bottom, right], for: output), scalar(value, for: output),
        ],
        output, [ONNXAttribute("mode", .string("constant"))])
    case .reshape(var shape):
      if batched.contains(ObjectIdentifier(step.inputs[0]!)) {
        // Keep the batch free: 0 copies the input's first dimension.
        guard shape.first == inShape.first else {
          throw ONNXError.unsupportedOp(
            "a reshape from \(describe(shape: inShape)) to \(describe(shape: shape)) that "
              + "changes the batch dimension")
        }
        shape[0] = 0
      }
      node("Reshape", [x, ints(shape, for: output)], output)
    case .flatten:
      node("Flatten", [x], output, [ONNXAttribute("axis", .int(1))])
    case .softmax(let axis, let log):
      node(log ? "LogSoftmax" : "Softmax", [x], output, [ONNXAttribute("axis", .int(axis))])
    case .identity:
      node("Identity", [x], output)
    case .other(let name):
      throw ONNXError.unsupportedOp(name)
    }
  }

  private mutating func emit(_ activation: TracedOp.Activation, _ x: String, _ output: String)
    throws
  {
    switch activation {
    case .relu: node("Relu", [x], output)
    case .relu6: node("Clip", [x, scalar(0, for: output), scalar(6, for: output)], output)
    case .sigmoid: node("Sigmoid", [x], output)
    case .tanh: node("Tanh", [x], output)
    case .hardSigmoid:
      node(
        "HardSigmoid", [x], output,
        [ONNXAttribute("alpha", .float(1.0 / 6)), ONNXAttribute("beta", .float(0.5))])
    case .hardSwish: node("HardSwish", [x], output)
    case .leakyRelu(let slope):
      node("LeakyRelu", [x], output, [ONNXAttribute("alpha", .float(slope))])
    case .silu:
      let gate = part(output, "sigmoid")
      node("Sigmoid", [x], gate)
      node("Mul", [x, gate], output)
    case .gelu(.exact):
      // Gelu is an op from opset 20 on: x * (1 + erf(x / sqrt 2)) / 2.
      let (scaled, erf, shifted, product) = (
        part(output, "scaled"), part(output, "erf"), part(output, "shifted"),
        part(output, "product")
      )
      node("Mul", [x, scalar(Float(0.5.squareRoot()), for: output)], scaled)
      node("Erf", [scaled], erf)
      node("Add", [erf, scalar(1, for: output)], shifted)
      node("Mul", [x, shifted], product)
      node("Mul", [product, scalar(0.5, for: output)], output)
    case .gelu(.tanh):
      throw ONNXError.unsupportedOp("gelu with the tanh approximation")
    case .softplus(let beta, let threshold):
      // ONNX's Softplus has beta 1 and no threshold; past 20, log(1 + e^x) and x agree in float.
      guard beta == 1, threshold >= 20 else {
        throw ONNXError.unsupportedOp("softplus with beta \(beta), threshold \(threshold)")
      }
      node("Softplus", [x], output)
    }
  }

  private func pooling(_ kernel: Int, _ stride: Int, _ padding: Int) -> [ONNXAttribute] {
    [
      ONNXAttribute("kernel_shape", .ints([kernel, kernel])),
      ONNXAttribute("strides", .ints([stride, stride])),
      ONNXAttribute("pads", .ints([padding, padding, padding, padding])),
    ]
  }

  /// PyTorch's adaptive average pooling where ONNX has an equal op: global pooling, equal
  /// windows (the output divides the input) or repetition (the input divides the output).
  private mutating func adaptivePool(
    _ x: String, from input: (Int, Int), to out: (Int, Int), _ output: String
  ) throws {
    if out == (1, 1) {
      node("GlobalAveragePool", [x], output)
    } else if let rows = Self.equalWindows(input.0, out.0),
      let columns = Self.equalWindows(input.1, out.1)
    {
      node(
        "AveragePool", [x], output,
        [
          ONNXAttribute("kernel_shape", .ints([rows.kernel, columns.kernel])),
          ONNXAttribute("strides", .ints([rows.stride, columns.stride])),
        ])
    } else if out.0 % input.0 == 0, out.1 % input.1 == 0 {
      resizeNearest(x, by: (out.0 / input.0, out.1 / input.1), output)
    } else {
      throw ONNXError.unsupportedOp(
        "adaptiveAvgPool2d from \(input.0)x\(input.1) to \(out.0)x\(out.1) (ONNX pools equal "
          + "windows only; export at an input size whose feature map divides or is divided by "
          + "the output)")
    }
  }

  /// The kernel and stride of an ordinary pooling whose windows are adaptive pooling's from
  /// `size` to `out` (`floor(i*size/out)..<ceil((i+1)*size/out)`), if its windows are all
  /// equal and evenly spaced: 6 to 3 is kernel 2, stride 2; 3 to 2 is kernel 2, stride 1.
  static func equalWindows(_ size: Int, _ out: Int) -> (kernel: Int, stride: Int)? {
    let windows = (0..<out).map { i in (i * size / out, ((i + 1) * size + out - 1) / out) }
    let kernel = windows[0].1 - windows[0].0
    let stride = out > 1 ? windows[1].0 - windows[0].0 : 1
    guard stride > 0,
      windows.enumerated().allSatisfy({ i, w in w.0 == i * stride && w.1 - w.0 == kernel })
    else { return nil }
    return (kernel, stride)
  }

  /// Each pixel repeated `factor` times down and across.
  private mutating func resizeNearest(_ x: String, by factor: (Int, Int), _ output: String) {
    let scales = constant(
      { ONNXTensor(name: $0, dims: [4], floats: [1, 1, Float(factor.0), Float(factor.1)]) },
      for: output)
    node(
      "Resize", [x, "", scales], output,
      [
        ONNXAttribute("mode", .string("nearest")),
        ONNXAttribute("coordinate_transformation_mode", .string("asymmetric")),
        ONNXAttribute("nearest_mode", .string("floor")),
      ])
  }

  /// A constant of `count` copies of `value` (the scale or shift of a norm without one).
  private mutating func filled(_ value: Float, _ count: Int, _ output: String) -> String {
    constant(
      { ONNXTensor(name: $0, dims: [count], floats: [Float](repeating: value, count: count)) },
      for: output)
  }

  /// The op's name in node and value names (`Conv_12`).
  static func label(_ op: TracedOp) -> String {
    switch op {
    case .conv2d: "Conv"
    case .convTranspose2d: "ConvTranspose"
    case .batchNorm: "BatchNormalization"
    case .channelLayerNorm: "LayerNorm"
    case .linear: "Gemm"
    case .activation(let a): "\(a)".prefix { $0 != "(" }.capitalizedFirst
    case .add: "Add"
    case .scale, .scaleChannels: "Mul"
    case .concatChannels: "Concat"
    case .sliceChannels: "Slice"
    case .maxPool2d: "MaxPool"
    case .avgPool2d: "AveragePool"
    case .adaptiveAvgPool2d: "AdaptiveAvgPool"
    case .upsampleNearest: "Upsample"
    case .pad2d: "Pad"
    case .reshape: "Reshape"
    case .flatten: "Flatten"
    case .softmax(_, let log): log ? "LogSoftmax" : "Softmax"
    case .identity: "Identity"
    case .other(let name): name
    }
  }
}

extension Substring {
  fileprivate var capitalizedFirst: String { prefix(1).uppercased() + dropFirst() }
}
