import Foundation

/// Learning rate as a function of the step (one step = one batch), relative to a base rate.
public indirect enum LearningRateSchedule: Sendable, Equatable {
  case constant
  /// Multiplies the rate by `gamma` every `stepSize` steps (`torch.optim.lr_scheduler.StepLR`).
  case step(stepSize: Int, gamma: Float)
  /// Cosine annealing from the base rate to `minimum` over `totalSteps` (`CosineAnnealingLR`).
  case cosine(totalSteps: Int, minimum: Float = 0)
  /// Smith's one-cycle policy as `OneCycleLR` (cosine annealing): from base/divFactor up to the
  /// base rate over the first `warmupFraction` of the steps, then down to
  /// base/(divFactor*finalDivFactor).
  case oneCycle(
    totalSteps: Int, warmupFraction: Float = 0.3, divFactor: Float = 25, finalDivFactor: Float = 1e4
  )
  /// Linear warm-up from base/warmupSteps to base over `warmupSteps`, then `schedule` (whose
  /// steps count from the end of the warm-up).
  case warmup(steps: Int, then: LearningRateSchedule)

  /// The learning rate at `step` (0-based) for base rate `base`.
  public func learningRate(base: Float, step: Int) -> Float {
    switch self {
    case .constant:
      return base
    case .step(let stepSize, let gamma):
      return base * pow(gamma, Float(step / max(stepSize, 1)))
    case .cosine(let totalSteps, let minimum):
      let progress = Float(min(step, totalSteps)) / Float(max(totalSteps, 1))
      return minimum + (base - minimum) * (1 + cos(Float.pi * progress)) / 2
    case .oneCycle(let totalSteps, let warmupFraction, let divFactor, let finalDivFactor):
      let initial = base / divFactor
      let final = initial / finalDivFactor
      let peakStep = Float(warmupFraction * Float(totalSteps)) - 1
      let lastStep = Float(totalSteps - 1)
      let s = Float(min(step, totalSteps - 1))
      func anneal(_ start: Float, _ end: Float, _ fraction: Float) -> Float {
        end + (start - end) / 2 * (cos(Float.pi * fraction) + 1)
      }
      if s <= peakStep {
        return anneal(initial, base, peakStep > 0 ? s / peakStep : 1)
      }
      return anneal(base, final, (s - peakStep) / max(lastStep - peakStep, 1))
    case .warmup(let steps, let schedule):
      if step < steps { return base * Float(step + 1) / Float(steps) }
      return schedule.learningRate(base: base, step: step - steps)
    }
  }
}
