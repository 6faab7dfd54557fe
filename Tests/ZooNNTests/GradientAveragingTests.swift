import Testing
import ZooNN
import ZooTensor
import ZooTestSupport

/// The pieces of a data-parallel step, on members that are threads.
@Suite struct GradientAveragingTests {
  /// Member `rank`'s gradient of every parameter: a value that differs by member.
  private static func fillGradients(_ model: Module, rank: Int) {
    for (index, (_, tensor)) in model.namedParameters().enumerated() {
      tensor.grad = Tensor(
        shape: tensor.shape,
        scalars: (0..<tensor.count).map { Float(rank + 1) * Float(index * 1000 + $0) })
    }
  }

  @Test func bucketsHoldEveryParameterOnceInOrder() throws {
    let model = Sequential([Linear(300, 200), Linear(200, 10)])
    let tensors = model.namedParameters().map(\.tensor)
    let averager = try ThreadReplicas.run(size: 1) {
      // 4 KiB buckets: several, each ending where it reached the size.
      GradientAverager(parameters: tensors, group: $0, bucketBytes: 4096)
    }[0]
    #expect(averager.buckets.count > 1)
    #expect(averager.buckets.flatMap { Array($0) } == Array(tensors.indices))
  }

  @Test func averagedGradientsAreTheMeanOverTheMembers() throws {
    let gradients = try ThreadReplicas.run(size: 3) { replicas in
      let model = Sequential([Linear(30, 20, rng: RandomStream(seed: 1)), Linear(20, 4)])
      Self.fillGradients(model, rank: replicas.rank)
      let averager = GradientAverager(
        parameters: model.namedParameters().map(\.tensor), group: replicas, bucketBytes: 1024)
      try averager.average()
      #expect(averager.lastReductionSeconds.count == averager.buckets.count)
      return model.namedParameters().map { $0.tensor.grad!.scalars }
    }
    // The mean of (1, 2, 3) times the same value is twice it.
    let model = Sequential([Linear(30, 20), Linear(20, 4)])
    Self.fillGradients(model, rank: 1)
    for member in gradients {
      #expect(member == model.namedParameters().map { $0.tensor.grad!.scalars })
    }
  }

  @Test func rootStateReachesEveryMember() throws {
    let states = try ThreadReplicas.run(size: 2) { replicas in
      // Different weights and optimiser state on each member; member 0's must win.
      let model = Sequential([Linear(6, 5, rng: RandomStream(seed: UInt64(replicas.rank)))])
      let optimizer = Adam.adamW(parameters: model.trainableParameters())
      for _ in 0...replicas.rank {
        Self.fillGradients(model, rank: replicas.rank)
        optimizer.step()
      }
      try model.broadcastState(over: replicas)
      try optimizer.broadcastState(over: replicas)
      return (
        weights: model.stateDict().map(\.tensor.scalars), step: optimizer.stepCount,
        state: optimizer.stateTensors().map { "\($0.path) \($0.values)" }
      )
    }
    #expect(states[0].step == 1 && states[1].step == 1)
    #expect(states[0].weights == states[1].weights)
    #expect(states[0].state == states[1].state && !states[0].state.isEmpty)
  }
}
