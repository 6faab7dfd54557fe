/// One recorded op: its inputs and the function that turns the output's gradient into
/// gradient contributions for the inputs (accumulated with `+=`).
final class TapeNode {
  let name: String
  let inputs: [Tensor]
  let backward: (_ gradOutput: Tensor) -> Void

  init(name: String, inputs: [Tensor], backward: @escaping (Tensor) -> Void) {
    self.name = name
    self.inputs = inputs
    self.backward = backward
  }
}

/// Whether ops record themselves for `backward()`. Off inside `withoutGradients`.
public enum GradientRecording {
  @TaskLocal static var isEnabled = true

  /// Runs `body` without recording ops: inference and evaluation cost only the forward pass.
  public static func disabled<T>(_ body: () throws -> T) rethrows -> T {
    try $isEnabled.withValue(false, operation: body)
  }

  /// Whether an op with these inputs must be recorded: recording is on and one of them needs
  /// a gradient.
  public static func needsRecording(_ inputs: [Tensor]) -> Bool {
    isEnabled && inputs.contains { $0.requiresGrad }
  }
}

/// Runs `body` without recording ops for `backward()`.
public func withoutGradients<T>(_ body: () throws -> T) rethrows -> T {
  try GradientRecording.disabled(body)
}

extension Tensor {
  /// Marks `self` as made by an op, so `backward()` reaches `inputs` through it. An op whose
  /// inputs need no gradient is not recorded: a frozen backbone costs only its forward pass.
  func record(_ name: String, inputs: [Tensor], backward: @escaping (Tensor) -> Void) {
    guard GradientRecording.needsRecording(inputs) else { return }
    requiresGrad = true
    producer = TapeNode(name: name, inputs: inputs, backward: backward)
  }

  /// Back-propagates from this tensor: every leaf that requires a gradient gets `grad += d self / d leaf`.
  /// The graph is released as it is walked, as in PyTorch.
  public func backward(seed: Tensor? = nil) throws {
    let start: Tensor
    if let seed {
      try expectShape(seed, shape, "backward")
      start = seed
    } else {
      guard count == 1 else { throw TensorError.backwardNeedsScalar(shape: shape) }
      start = Tensor(shape: shape, repeating: 1)
    }
    let order = topologicalOrder()
    accumulateGrad { g in
      start.scalars.withUnsafeBufferPointer { s in
        for i in 0..<g.count { g[i] += s[i] }
      }
    }
    for tensor in order.reversed() {
      guard let node = tensor.producer else { continue }
      tensor.producer = nil
      if let gradient = tensor.grad {
        tensor.grad = nil  // only leaves keep gradients
        node.backward(gradient)
      }
    }
  }

  /// Tensors reachable from `self` through recorded ops, each after all of its inputs.
  private func topologicalOrder() -> [Tensor] {
    var order: [Tensor] = []
    var visited = Set<ObjectIdentifier>()
    var stack: [(Tensor, Bool)] = [(self, false)]
    while let (tensor, expanded) = stack.popLast() {
      if expanded {
        order.append(tensor)
        continue
      }
      guard visited.insert(ObjectIdentifier(tensor)).inserted else { continue }
      stack.append((tensor, true))
      for input in tensor.producer?.inputs ?? [] where input.producer != nil {
        if !visited.contains(ObjectIdentifier(input)) { stack.append((input, false)) }
      }
    }
    return order
  }
}
