import ZooTensor

/// Parameters that share a learning-rate multiplier (fastai's discriminative rates: a lower
/// rate for early stages than for the head).
public struct ParameterGroup {
  public var parameters: [(path: String, tensor: Tensor)]
  public var learningRateScale: Float

  public init(_ parameters: [(path: String, tensor: Tensor)], learningRateScale: Float = 1) {
    self.parameters = parameters
    self.learningRateScale = learningRateScale
  }
}

/// Updates parameters from their gradients. Parameters without a gradient (frozen, or unused
/// in this step) are skipped and get no optimiser state.
public protocol Optimizer: AnyObject {
  /// The base learning rate; schedules set it before each step.
  var learningRate: Float { get set }
  var groups: [ParameterGroup] { get }
  /// Applies one update using the gradients accumulated by `backward()`.
  func step()
  /// Per-parameter state (momentum buffers, moments) by name, for checkpoints.
  func stateTensors() -> [(path: String, values: [Float])]
  /// Restores what `stateTensors()` returned.
  func restoreState(_ state: [(path: String, values: [Float])], step: Int)
  /// Number of steps taken.
  var stepCount: Int { get }
}

extension Optimizer {
  /// Clears the gradients of every parameter this optimiser updates.
  public func zeroGrad() {
    for group in groups {
      for (_, tensor) in group.parameters { tensor.zeroGrad() }
    }
  }
}

/// Per-parameter buffers keyed by the parameter's path, created on first use.
struct StateBuffers {
  private(set) var buffers: [String: [Float]] = [:]

  mutating func withBuffer(
    _ path: String, count: Int, _ body: (inout [Float], _ isNew: Bool) -> Void
  ) {
    let isNew = buffers[path] == nil
    var buffer = buffers.removeValue(forKey: path) ?? [Float](repeating: 0, count: count)
    body(&buffer, isNew)
    buffers[path] = buffer
  }

  func exported(prefix: String) -> [(path: String, values: [Float])] {
    buffers.keys.sorted().map { (prefix + "/" + $0, buffers[$0]!) }
  }

  mutating func restore(_ state: [(path: String, values: [Float])], prefix: String) {
    buffers = [:]
    for (path, values) in state where path.hasPrefix(prefix + "/") {
      buffers[String(path.dropFirst(prefix.count + 1))] = values
    }
  }
}
