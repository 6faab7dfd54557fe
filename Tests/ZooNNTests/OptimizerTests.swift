import Foundation
import Testing
import ZooNN
import ZooTensor
import ZooTestSupport

/// PyTorch's trajectories for the same start and gradients (Tools/make_optimizer_fixtures.py).
struct OptimizerFixtures: Decodable {
  struct Trajectory: Decodable {
    let name: String
    let start: [Float]
    let grads: [[Float]]
    let trajectory: [[Float]]
  }
  struct Schedule: Decodable {
    let name: String
    let base: Float
    let rates: [Float]
  }
  let optimizers: [Trajectory]
  let schedules: [Schedule]

  static let shared: OptimizerFixtures = {
    let url = Bundle.module.url(
      forResource: "optimizers", withExtension: "json", subdirectory: "Fixtures")!
    return try! JSONDecoder().decode(OptimizerFixtures.self, from: Data(contentsOf: url))
  }()

  static func trajectory(_ name: String) -> Trajectory {
    shared.optimizers.first { $0.name == name }!
  }
}

@Suite struct OptimizerTests {
  static func makeOptimizer(_ name: String, _ parameters: [(path: String, tensor: Tensor)])
    -> Optimizer
  {
    switch name {
    case "sgd": return SGD(parameters: parameters, learningRate: 0.1)
    case "sgd_momentum": return SGD(parameters: parameters, learningRate: 0.05, momentum: 0.9)
    case "sgd_nesterov_decay":
      return SGD(
        parameters: parameters, learningRate: 0.05, momentum: 0.9, nesterov: true, weightDecay: 1e-2
      )
    case "sgd_dampening":
      return SGD(parameters: parameters, learningRate: 0.05, momentum: 0.8, dampening: 0.3)
    case "adam": return Adam.adam(parameters: parameters, learningRate: 1e-2)
    case "adam_l2": return Adam.adam(parameters: parameters, learningRate: 1e-2, weightDecay: 0.1)
    case "adamw": return Adam.adamW(parameters: parameters, learningRate: 1e-2, weightDecay: 0.1)
    default: fatalError("no optimiser named \(name)")
    }
  }

  @Test(arguments: [
    "sgd", "sgd_momentum", "sgd_nesterov_decay", "sgd_dampening", "adam", "adam_l2", "adamw",
  ])
  func followsPyTorchTrajectory(_ name: String) throws {
    let fixture = OptimizerFixtures.trajectory(name)
    let p = Tensor(shape: [fixture.start.count], scalars: fixture.start, requiresGrad: true)
    let optimizer = Self.makeOptimizer(name, [("p", p)])
    for (step, grad) in fixture.grads.enumerated() {
      p.grad = Tensor(shape: p.shape, scalars: grad)
      optimizer.step()
      let difference = relativeDifference(p.scalars, fixture.trajectory[step])
      #expect(difference < 1e-5, "step \(step): relative difference \(difference)")
    }
  }

  @Test func skipsParametersWithoutGradientAndKeepsNoStateForThem() {
    let trained = Tensor(shape: [2], scalars: [1, 2], requiresGrad: true)
    let frozen = Tensor(shape: [2], scalars: [3, 4])
    let optimizer = Adam.adam(parameters: [("trained", trained), ("frozen", frozen)])
    trained.grad = Tensor(shape: [2], scalars: [1, 1])
    optimizer.step()
    #expect(frozen.scalars == [3, 4])
    #expect(trained.scalars != [1, 2])
    #expect(optimizer.stateTensors().map(\.path) == ["m/trained", "v/trained"])
  }

  @Test func restoredStateContinuesExactly() {
    let fixture = OptimizerFixtures.trajectory("adamw")
    let a = Tensor(shape: [7], scalars: fixture.start, requiresGrad: true)
    let straight = Self.makeOptimizer("adamw", [("p", a)])
    var saved: (scalars: [Float], state: [(path: String, values: [Float])])?
    for (step, grad) in fixture.grads.enumerated() {
      a.grad = Tensor(shape: [7], scalars: grad)
      straight.step()
      if step == 2 { saved = (a.scalars, straight.stateTensors()) }
    }
    let b = Tensor(shape: [7], scalars: saved!.scalars, requiresGrad: true)
    let resumed = Self.makeOptimizer("adamw", [("p", b)])
    resumed.restoreState(saved!.state, step: 3)
    for grad in fixture.grads[3...] {
      b.grad = Tensor(shape: [7], scalars: grad)
      resumed.step()
    }
    #expect(b.scalars == a.scalars)
  }

  @Test func groupScalesLearningRate() {
    let slow = Tensor(shape: [1], scalars: [0], requiresGrad: true)
    let fast = Tensor(shape: [1], scalars: [0], requiresGrad: true)
    let optimizer = SGD(
      groups: [
        ParameterGroup([("slow", slow)], learningRateScale: 0.1), ParameterGroup([("fast", fast)]),
      ],
      learningRate: 1)
    slow.grad = Tensor(shape: [1], scalars: [1])
    fast.grad = Tensor(shape: [1], scalars: [1])
    optimizer.step()
    #expect(slow.scalars == [-0.1])
    #expect(fast.scalars == [-1])
  }
}

@Suite struct LearningRateScheduleTests {
  static func schedule(_ name: String) -> LearningRateSchedule {
    switch name {
    case "step": return .step(stepSize: 3, gamma: 0.5)
    case "cosine": return .cosine(totalSteps: 8, minimum: 0.001)
    case "one_cycle": return .oneCycle(totalSteps: 20)
    default: fatalError("no schedule named \(name)")
    }
  }

  @Test(arguments: ["step", "cosine", "one_cycle"])
  func matchesPyTorchScheduler(_ name: String) {
    let fixture = OptimizerFixtures.shared.schedules.first { $0.name == name }!
    let ours = fixture.rates.indices.map {
      Self.schedule(name).learningRate(base: fixture.base, step: $0)
    }
    let difference = relativeDifference(ours, fixture.rates)
    #expect(difference < 1e-5, "\(ours) vs \(fixture.rates)")
  }

  @Test func warmupRisesLinearlyThenHandsOver() {
    let schedule = LearningRateSchedule.warmup(steps: 4, then: .cosine(totalSteps: 10))
    let rates = (0..<6).map { schedule.learningRate(base: 1, step: $0) }
    #expect(rates[0...3] == [0.25, 0.5, 0.75, 1])
    #expect(rates[4] == 1)
    #expect(rates[5] < 1)
  }
}
