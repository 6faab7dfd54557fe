import ZooTensor

/// Adam (Kingma & Ba 2015) and AdamW (Loshchilov & Hutter 2019), with `torch.optim.Adam` /
/// `AdamW`'s update rules: Adam adds `weightDecay * p` to the gradient (L2); AdamW decays the
/// weights directly, `p *= 1 - lr * weightDecay`, before the Adam step.
public final class Adam: Optimizer {
  public var learningRate: Float
  public let beta1: Float
  public let beta2: Float
  public let epsilon: Float
  public let weightDecay: Float
  /// Whether weight decay is decoupled (AdamW) or an L2 term in the gradient (Adam).
  public let decoupledWeightDecay: Bool
  public let groups: [ParameterGroup]
  public private(set) var stepCount = 0
  private var firstMoment = StateBuffers()
  private var secondMoment = StateBuffers()

  public init(
    groups: [ParameterGroup], learningRate: Float = 1e-3, beta1: Float = 0.9,
    beta2: Float = 0.999, epsilon: Float = 1e-8, weightDecay: Float = 0,
    decoupledWeightDecay: Bool = false
  ) {
    self.groups = groups
    self.learningRate = learningRate
    self.beta1 = beta1
    self.beta2 = beta2
    self.epsilon = epsilon
    self.weightDecay = weightDecay
    self.decoupledWeightDecay = decoupledWeightDecay
  }

  /// Adam with L2 weight decay, as `torch.optim.Adam`.
  public static func adam(
    parameters: [(path: String, tensor: Tensor)], learningRate: Float = 1e-3,
    weightDecay: Float = 0
  ) -> Adam {
    Adam(groups: [ParameterGroup(parameters)], learningRate: learningRate, weightDecay: weightDecay)
  }

  /// AdamW with decoupled weight decay (default 0.01), as `torch.optim.AdamW`.
  public static func adamW(
    parameters: [(path: String, tensor: Tensor)], learningRate: Float = 1e-3,
    weightDecay: Float = 0.01
  ) -> Adam {
    Adam(
      groups: [ParameterGroup(parameters)], learningRate: learningRate, weightDecay: weightDecay,
      decoupledWeightDecay: true)
  }

  public func step() {
    stepCount += 1
    let t = Float(stepCount)
    let correction1 = 1 - pow(beta1, t)
    let correction2 = 1 - pow(beta2, t)
    for group in groups {
      let rate = learningRate * group.learningRateScale
      for (path, parameter) in group.parameters {
        guard let grad = parameter.grad?.scalars else { continue }
        update(parameter, grad: grad, path: path, rate: rate, correction1, correction2)
      }
    }
  }

  private func update(
    _ parameter: Tensor, grad: [Float], path: String, rate: Float,
    _ correction1: Float, _ correction2: Float
  ) {
    let (b1, b2, eps, decay, decoupled) = (beta1, beta2, epsilon, weightDecay, decoupledWeightDecay)
    let count = parameter.count
    firstMoment.withBuffer(path, count: count) { m, _ in
      secondMoment.withBuffer(path, count: count) { v, _ in
        parameter.scalars.withUnsafeMutableBufferPointer { p in
          for i in 0..<count {
            var g = grad[i]
            if decoupled {
              p[i] *= 1 - rate * decay
            } else {
              g += decay * p[i]
            }
            m[i] = b1 * m[i] + (1 - b1) * g
            v[i] = b2 * v[i] + (1 - b2) * g * g
            let denominator = (v[i] / correction2).squareRoot() + eps
            p[i] -= rate * (m[i] / correction1) / denominator
          }
        }
      }
    }
  }

  public func stateTensors() -> [(path: String, values: [Float])] {
    firstMoment.exported(prefix: "m") + secondMoment.exported(prefix: "v")
  }

  public func restoreState(_ state: [(path: String, values: [Float])], step: Int) {
    firstMoment.restore(state, prefix: "m")
    secondMoment.restore(state, prefix: "v")
    stepCount = step
  }
}

#if canImport(Glibc)
  import Glibc
#endif
