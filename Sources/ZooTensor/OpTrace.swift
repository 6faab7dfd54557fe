/// Records the ops of a forward pass as a graph: each op's kind and attributes, its input
/// tensors and its output, in the order they ran. Graph exporters (ONNX) read it.
///
/// Only the outermost op is recorded: an op built from others (a grouped convolution runs one
/// convolution per group) appears once, as itself. Recording keeps every tensor it saw alive
/// until the trace is released.
public final class OpTrace: @unchecked Sendable {
  /// One op: what it computes, what it read (`nil` for an absent optional input, such as a
  /// convolution without bias) and what it produced.
  public struct Step {
    public var op: TracedOp
    public var inputs: [Tensor?]
    public var output: Tensor
  }

  @TaskLocal static var current: OpTrace?

  public private(set) var steps: [Step] = []

  public init() {}

  /// Runs `body` with this trace recording every op it calls.
  public func recording<T>(_ body: () throws -> T) rethrows -> T {
    try OpTrace.$current.withValue(self, operation: body)
  }

  /// Whether a trace is recording (layers that would fuse their ops run them one by one then).
  public static var isRecording: Bool { current != nil }

  /// Runs the op's `body` and records it as `op` with `inputs`; ops `body` calls are not
  /// recorded on their own.
  static func traced(_ op: TracedOp, _ inputs: [Tensor?], _ body: () throws -> Tensor) rethrows
    -> Tensor
  {
    guard let trace = current else { return try body() }
    let y = try $current.withValue(nil, operation: body)
    trace.steps.append(Step(op: op, inputs: inputs, output: y))
    return y
  }
}

/// What a recorded op computes, with the attributes a graph format needs. Shapes and layouts
/// are those of the op's function in ZooTensor.
public enum TracedOp: Sendable, Equatable {
  /// Inputs x, weight (O, C/groups, kh, kw), bias.
  case conv2d(stride: [Int], padding: [Int], dilation: Int, groups: Int)
  /// Inputs x, weight (C, O, k, k), bias.
  case convTranspose2d(stride: Int, padding: Int, outputPadding: Int, dilation: Int)
  /// Inputs x, weight, bias, running mean, running variance (inference only).
  case batchNorm(eps: Float)
  /// Inputs x, weight, bias: normalised over the channel axis.
  case channelLayerNorm(eps: Float)
  /// Inputs x (N, in), weight (out, in), bias.
  case linear
  case activation(Activation)
  case add
  /// x times a constant factor.
  case scale(Float)
  /// Inputs x and a scale that broadcasts against it ((N, C, 1, 1) or (C, 1, 1)).
  case scaleChannels
  case concatChannels
  case sliceChannels(start: Int, end: Int)
  case maxPool2d(kernel: Int, stride: Int, padding: Int, ceilMode: Bool)
  case avgPool2d(kernel: Int, stride: Int, padding: Int, countIncludePad: Bool)
  case adaptiveAvgPool2d(height: Int, width: Int)
  case upsampleNearest(scale: Int)
  case pad2d(top: Int, bottom: Int, left: Int, right: Int, value: Float)
  case reshape(shape: [Int])
  /// (N, ...) -> (N, rest).
  case flatten
  case softmax(axis: Int, log: Bool)
  /// An op with no use at inference that passed its input through (dropout, stochastic depth).
  case identity
  /// An op a graph format has no counterpart for here (losses, reductions): exporters refuse it.
  case other(String)

  public enum Activation: Sendable, Equatable {
    case relu, relu6, sigmoid, silu, hardSigmoid, hardSwish, tanh
    case leakyRelu(slope: Float)
    case gelu(GELUApproximation)
    case softplus(beta: Float, threshold: Float)
  }
}
