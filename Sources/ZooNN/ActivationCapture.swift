import ZooTensor

/// Keeps one module's output from a forward pass as a leaf that requires a gradient, so that
/// after `backward()` its `grad` holds d(score)/d(output): what Grad-CAM reads. The rest of the
/// pass continues from the leaf, which cuts what came before it from the graph: backward stops
/// at the captured layer. Only the module's first call in a pass is captured.
public final class ActivationCapture: @unchecked Sendable {
  @TaskLocal static var current: ActivationCapture?

  private let target: ObjectIdentifier
  /// The captured output of the last pass run through `run`, nil if the module was not called.
  public private(set) var activation: Tensor?

  /// A capture of `module`'s output.
  public init(_ module: Module) {
    target = ObjectIdentifier(module)
  }

  /// Runs `body` (a forward pass, usually with its backward) capturing the module's output.
  public func run<T>(_ body: () throws -> T) rethrows -> T {
    activation = nil
    return try Self.$current.withValue(self, operation: body)
  }

  /// The output to continue the pass with: a gradient-requiring copy for the target module.
  func intercept(_ module: Module, output: Tensor) -> Tensor {
    guard activation == nil, ObjectIdentifier(module) == target else { return output }
    let leaf = output.detached()
    leaf.requiresGrad = true
    activation = leaf
    return leaf
  }
}
