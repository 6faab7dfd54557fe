import ZooTensor

/// Records every module call of a forward pass: the output shape and cost of each layer, for
/// summaries (`zoo info`) and FLOP counts.
public final class ModuleTrace: @unchecked Sendable {
  public struct Call: Sendable {
    public var path: String
    public var typeName: String
    public var input: [Int]
    public var output: [Int]
    /// Parameters the module owns itself (not its children's).
    public var parameters: Int
    public var trainableParameters: Int
    /// Buffer elements the module owns itself (batch norm's moving statistics).
    public var buffers: Int
    public var multiplyAccumulates: Int
    /// Whether the module has children (a block) or is a layer.
    public var isContainer: Bool
  }

  @TaskLocal static var current: ModuleTrace?

  public private(set) var calls: [Call] = []
  private let paths: [ObjectIdentifier: String]

  private init(root: Module) {
    paths = Dictionary(
      root.namedModules().map { (ObjectIdentifier($0.module), $0.path) },
      uniquingKeysWith: { first, _ in first })
  }

  func record(_ module: Module, input: [Int], output: [Int]) {
    let own = module.ownParameters.map(\.tensor)
    calls.append(
      Call(
        path: paths[ObjectIdentifier(module)] ?? "?", typeName: module.typeName, input: input,
        output: output,
        parameters: own.reduce(0) { $0 + $1.count },
        trainableParameters: own.filter(\.requiresGrad).reduce(0) { $0 + $1.count },
        buffers: module.ownBuffers.reduce(0) { $0 + $1.tensor.count },
        multiplyAccumulates: module.multiplyAccumulates(input: input, output: output),
        isContainer: !module.children.isEmpty))
  }

  /// Runs `model` once in inference mode on zeros of `inputShape` (with the batch dimension)
  /// and returns every call in the order they finished.
  public static func run(_ model: Module, inputShape: [Int]) throws -> ModuleTrace {
    let trace = ModuleTrace(root: model)
    let wasTraining = model.isTraining
    model.setTraining(false)
    defer { model.setTraining(wasTraining) }
    try withoutGradients {
      try $current.withValue(trace) { _ = try model(Tensor(shape: inputShape)) }
    }
    return trace
  }

  /// Multiply-accumulates of the whole pass (torchvision reports these as "GFLOPS").
  public var totalMultiplyAccumulates: Int { calls.reduce(0) { $0 + $1.multiplyAccumulates } }
}
