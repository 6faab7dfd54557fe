import ZooTensor

/// Stochastic gradient descent with momentum, Nesterov momentum and L2 weight decay,
/// with `torch.optim.SGD`'s update rule (the first momentum buffer is the gradient itself).
public final class SGD: Optimizer {
  public var learningRate: Float
  public let momentum: Float
  public let dampening: Float
  public let nesterov: Bool
  public let weightDecay: Float
  public let groups: [ParameterGroup]
  public private(set) var stepCount = 0
  private var velocity = StateBuffers()

  public init(
    groups: [ParameterGroup], learningRate: Float, momentum: Float = 0, dampening: Float = 0,
    nesterov: Bool = false, weightDecay: Float = 0
  ) {
    precondition(
      !nesterov || (momentum > 0 && dampening == 0),
      "Nesterov momentum needs momentum > 0 and no dampening")
    self.groups = groups
    self.learningRate = learningRate
    self.momentum = momentum
    self.dampening = dampening
    self.nesterov = nesterov
    self.weightDecay = weightDecay
  }

  public convenience init(
    parameters: [(path: String, tensor: Tensor)], learningRate: Float, momentum: Float = 0,
    dampening: Float = 0, nesterov: Bool = false, weightDecay: Float = 0
  ) {
    self.init(
      groups: [ParameterGroup(parameters)], learningRate: learningRate, momentum: momentum,
      dampening: dampening, nesterov: nesterov, weightDecay: weightDecay)
  }

  public func step() {
    stepCount += 1
    for group in groups {
      let rate = learningRate * group.learningRateScale
      for (path, parameter) in group.parameters {
        guard let grad = parameter.grad else { continue }
        update(parameter, grad: grad.scalars, path: path, rate: rate)
      }
    }
  }

  private func update(_ parameter: Tensor, grad: [Float], path: String, rate: Float) {
    let (momentum, dampening, decay, nesterov) = (
      self.momentum, self.dampening, weightDecay, self.nesterov
    )
    // Loops over raw buffers, one per case: the per-element tests and bounds checks of a
    // single general loop cost more than the arithmetic.
    parameter.scalars.withUnsafeMutableBufferPointer { p in
      grad.withUnsafeBufferPointer { grad in
        if momentum == 0 {
          for i in 0..<p.count { p[i] -= rate * (grad[i] + decay * p[i]) }
          return
        }
        velocity.withBuffer(path, count: p.count) { buffer, isNew in
          buffer.withUnsafeMutableBufferPointer { v in
            let keep = 1 - dampening
            switch (isNew, nesterov) {
            case (true, false):
              for i in 0..<p.count {
                v[i] = grad[i] + decay * p[i]
                p[i] -= rate * v[i]
              }
            case (false, false):
              for i in 0..<p.count {
                v[i] = momentum * v[i] + keep * (grad[i] + decay * p[i])
                p[i] -= rate * v[i]
              }
            case (true, true):
              for i in 0..<p.count {
                let g = grad[i] + decay * p[i]
                v[i] = g
                p[i] -= rate * (g + momentum * v[i])
              }
            case (false, true):
              for i in 0..<p.count {
                let g = grad[i] + decay * p[i]
                v[i] = momentum * v[i] + keep * g
                p[i] -= rate * (g + momentum * v[i])
              }
            }
          }
        }
      }
    }
  }

  public func stateTensors() -> [(path: String, values: [Float])] {
    velocity.exported(prefix: "momentum")
  }

  public func restoreState(_ state: [(path: String, values: [Float])], step: Int) {
    velocity.restore(state, prefix: "momentum")
    stepCount = step
  }
}
