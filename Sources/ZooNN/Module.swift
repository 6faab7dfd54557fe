import ZooTensor

/// A layer or a model: named children, parameters and buffers, and a training flag.
///
/// Paths come from the structure (`layer1.0.conv1.weight`), so they equal torchvision's
/// state-dict keys and the group names of the HDF5 weight files. Subclasses register what they
/// own in their initialiser, in the order PyTorch would, and override `forward`.
open class Module {
  public private(set) var children: [(name: String, module: Module)] = []
  public private(set) var ownParameters: [(name: String, tensor: Tensor)] = []
  public private(set) var ownBuffers: [(name: String, tensor: Tensor)] = []
  /// Training mode (batch statistics, dropout) or inference mode.
  public private(set) var isTraining = true

  public init() {}

  /// What the module computes. Every subclass overrides this; callers use `module(x)`.
  open func forward(_ x: Tensor) throws -> Tensor {
    preconditionFailure("\(type(of: self)) does not override forward")
  }

  /// Runs the module, reporting its output to the active `ModuleTrace`, if any, and handing
  /// it to the active `ActivationCapture`, if any.
  public final func callAsFunction(_ x: Tensor) throws -> Tensor {
    var y = try forward(x)
    if let capture = ActivationCapture.current { y = capture.intercept(self, output: y) }
    ModuleTrace.current?.record(self, input: x.shape, output: y.shape)
    return y
  }

  /// The layer's type as summaries print it (`Conv2d`, `ReLU`).
  open var typeName: String { String(describing: type(of: self)) }

  /// Multiply-accumulate operations of one call with these shapes, counting this module's own
  /// work only (convolutions and linear layers; children report theirs).
  open func multiplyAccumulates(input: [Int], output: [Int]) -> Int { 0 }

  /// Adds a child, or replaces the child of the same name in place (keeping the order).
  public func register(_ name: String, _ module: Module) {
    module.setTraining(isTraining)
    if let index = children.firstIndex(where: { $0.name == name }) {
      children[index].module = module
    } else {
      children.append((name, module))
    }
  }

  /// Adds a trainable parameter.
  public func register(parameter name: String, _ tensor: Tensor) {
    tensor.requiresGrad = true
    ownParameters.removeAll { $0.name == name }
    ownParameters.append((name, tensor))
  }

  /// Adds a buffer: state saved with the weights but never trained (BatchNorm running statistics).
  public func register(buffer name: String, _ tensor: Tensor) {
    tensor.requiresGrad = false
    ownBuffers.removeAll { $0.name == name }
    ownBuffers.append((name, tensor))
  }

  /// The child at a dotted path (`layer1.0`), if there is one.
  public func child(at path: String) -> Module? {
    var module: Module? = self
    for name in path.split(separator: ".") {
      module = module?.children.first { $0.name == name }?.module
    }
    return module
  }

  /// Every module below and including this one, with its dotted path ("" for `self`).
  public func namedModules(prefix: String = "") -> [(path: String, module: Module)] {
    var result: [(String, Module)] = [(prefix, self)]
    for (name, child) in children {
      result += child.namedModules(prefix: Module.join(prefix, name))
    }
    return result
  }

  /// Every parameter with its dotted path, in registration order.
  public func namedParameters() -> [(path: String, tensor: Tensor)] {
    namedModules().flatMap { path, module in
      module.ownParameters.map { (Module.join(path, $0.name), $0.tensor) }
    }
  }

  /// Every buffer with its dotted path, in registration order.
  public func namedBuffers() -> [(path: String, tensor: Tensor)] {
    namedModules().flatMap { path, module in
      module.ownBuffers.map { (Module.join(path, $0.name), $0.tensor) }
    }
  }

  /// Parameters and buffers together: what a weight file holds, in PyTorch's state-dict order.
  public func stateDict() -> [(path: String, tensor: Tensor)] {
    namedModules().flatMap { path, module in
      (module.ownParameters + module.ownBuffers).map { (Module.join(path, $0.name), $0.tensor) }
    }
  }

  /// Parameters an optimiser updates.
  public func trainableParameters() -> [(path: String, tensor: Tensor)] {
    namedParameters().filter { $0.tensor.requiresGrad }
  }

  public var parameterCount: Int { namedParameters().reduce(0) { $0 + $1.tensor.count } }
  public var trainableParameterCount: Int {
    trainableParameters().reduce(0) { $0 + $1.tensor.count }
  }

  /// Switches this module and all below it between training and inference mode.
  public func setTraining(_ training: Bool) {
    isTraining = training
    for (_, child) in children { child.setTraining(training) }
  }

  /// Stops (or restarts) gradients for every parameter whose path starts with `prefix`
  /// (`""` means all). Idempotent.
  public func setTrainable(_ trainable: Bool, prefix: String = "") {
    for (path, tensor) in namedParameters() where Module.path(path, isUnder: prefix) {
      tensor.requiresGrad = trainable
    }
  }

  /// Clears every parameter's gradient.
  public func zeroGrad() {
    for (_, tensor) in namedParameters() { tensor.zeroGrad() }
  }

  /// Whether `path` is `prefix` itself or lies below it (`layer1` covers `layer1.0.conv1.weight`
  /// but not `layer10.weight`).
  public static func path(_ path: String, isUnder prefix: String) -> Bool {
    prefix.isEmpty || path == prefix || path.hasPrefix(prefix + ".")
  }

  static func join(_ prefix: String, _ name: String) -> String {
    prefix.isEmpty ? name : prefix + "." + name
  }
}
