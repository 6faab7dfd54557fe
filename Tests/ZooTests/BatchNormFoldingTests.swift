import Testing
import Zoo
import ZooNN
import ZooTensor
import ZooTestSupport

/// Batch norm folded into the preceding convolution in inference must be invisible: the same
/// outputs as the unfolded layers (up to rounding), the same input gradients, the saved
/// parameters untouched, and training mode unchanged.
@Suite struct BatchNormFoldingTests {
  /// Running statistics, scales and shifts far from their initial values, so that a fold that
  /// dropped any of them would show.
  private func randomizeBatchNorms(_ model: Module, seed: UInt64) {
    var g = SeededGenerator(seed: seed)
    for case (_, let bn as BatchNorm) in model.namedModules() {
      let c = bn.weight.count
      bn.runningMean.scalars = Tensor.normal(shape: [c], generator: &g).scalars
      bn.runningVar.scalars = (0..<c).map { _ in 0.2 + 2 * g.nextUniform() }
      bn.weight.scalars = Tensor.normal(shape: [c], std: 0.8, generator: &g).scalars
      bn.bias.scalars = Tensor.normal(shape: [c], generator: &g).scalars
    }
  }

  /// With conv's and bn's parameters frozen, `folded` (which may fold, x needing a gradient)
  /// gives `expected`'s values and the input gradient `expected` gives x.
  private func expectFrozenFoldMatches(
    _ expected: Tensor, _ x: Tensor, _ conv: Conv2d, _ bn: BatchNorm,
    generator g: inout SeededGenerator, _ folded: () throws -> Tensor
  ) throws {
    let dy = Tensor.normal(shape: expected.shape, generator: &g)
    try expected.backward(seed: dy)
    let unfoldedGradient = x.grad!.scalars
    x.zeroGrad()
    for parameter in [conv.weight, conv.bias, bn.weight, bn.bias].compactMap({ $0 }) {
      parameter.requiresGrad = false
    }
    let foldedWithGradient = try folded()
    #expect(relativeDifference(foldedWithGradient.scalars, expected.scalars) < 1e-5)
    try foldedWithGradient.backward(seed: dy)
    #expect(relativeDifference(x.grad!.scalars, unfoldedGradient) < 1e-5)
  }

  @Test(arguments: [(true, true), (false, true), (true, false)])
  func foldedLayerMatchesConvolutionThenBatchNorm(convBias: Bool, relu: Bool) throws {
    let conv = Conv2d(
      3, 5, kernelSize: 3, stride: 2, padding: 1, bias: convBias, rng: RandomStream(seed: 1))
    let bn = BatchNorm(5, eps: 1e-3)
    randomizeBatchNorms(bn, seed: 2)
    conv.setTraining(false)
    bn.setTraining(false)
    var g = SeededGenerator(seed: 3)
    let x = Tensor.normal(shape: [4, 3, 9, 8], generator: &g, requiresGrad: true)
    var expected = try bn(conv(x))
    if relu { expected = ZooTensor.relu(expected) }
    let folded = try withoutGradients { try convBatchNorm(conv, bn, x, relu: relu) }
    #expect(folded.shape == expected.shape)
    #expect(relativeDifference(folded.scalars, expected.scalars) < 1e-5)

    // The input's gradient through the folded layer (frozen parameters) equals the unfolded one.
    try expectFrozenFoldMatches(expected, x, conv, bn, generator: &g) {
      try convBatchNorm(conv, bn, x, relu: relu)
    }
  }

  /// The activation after a folded pair runs on the folded output (in place when nothing
  /// needs a gradient), giving the unfolded layers' outputs and input gradients.
  @Test(arguments: ["ReLU6", "SiLU", "Hardswish"])
  func activationAfterFoldedPairMatchesUnfoldedLayers(_ name: String) throws {
    let activation: Module =
      switch name {
      case "ReLU6": ReLU6()
      case "SiLU": SiLU()
      default: Hardswish()
      }
    let conv = Conv2d(4, 6, kernelSize: 3, padding: 1, rng: RandomStream(seed: 7))
    let bn = BatchNorm(6)
    randomizeBatchNorms(bn, seed: 8)
    let block = Sequential([conv, bn, activation])
    block.setTraining(false)
    var g = SeededGenerator(seed: 9)
    let x = Tensor.normal(shape: [2, 4, 11, 10], std: 3, generator: &g, requiresGrad: true)
    let expected = try activation(bn(conv(x)))
    let folded = try withoutGradients { try block(x) }
    #expect(relativeDifference(folded.scalars, expected.scalars) < 1e-5, "\(name)")

    try expectFrozenFoldMatches(expected, x, conv, bn, generator: &g) { try block(x) }
  }

  @Test func resnetInferenceFoldsInvisibly() throws {
    func build() -> ResNet {
      let model = ResNet(
        .cifar(depth: 20), classCount: 10, inputChannels: 1, rng: RandomStream(seed: 4))
      randomizeBatchNorms(model, seed: 5)
      return model
    }
    let model = build()
    var g = SeededGenerator(seed: 6)
    let x = Tensor.normal(shape: [3, 1, 28, 28], generator: &g)
    let state = model.stateDict().map { $0.tensor.scalars }

    model.setTraining(false)
    // Recording with trainable parameters keeps the layers unfolded: the reference.
    let unfolded = try model(x)
    let folded = try withoutGradients { try model(x) }
    #expect(relativeDifference(folded.scalars, unfolded.scalars) < 1e-5)
    // Switched off, inference runs each layer as itself: the reference's values exactly.
    let asIs = try BatchNormFolding.$isEnabled.withValue(false) {
      try withoutGradients { try model(x) }
    }
    #expect(asIs.scalars == unfolded.scalars)
    #expect(folded.scalars != unfolded.scalars)
    // Nothing saved or exported changed.
    #expect(model.stateDict().map { $0.tensor.scalars } == state)

    // Back in training mode the model computes what a twin that never ran inference does.
    model.setTraining(true)
    let twin = build()
    let trained = try model(x)
    let twinTrained = try twin(x)
    #expect(trained.scalars == twinTrained.scalars)
    #expect(
      model.stateDict().map { $0.tensor.scalars } == twin.stateDict().map { $0.tensor.scalars })
  }
}
