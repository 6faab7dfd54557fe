import Foundation
import Testing
import ZooNN
import ZooTensor
import ZooTestSupport

@Suite struct SqueezeExcitationTests {
  @Test func hasTorchvisionsParameterNames() {
    let block = SqueezeExcitation(16, squeezeChannels: 8)
    #expect(
      block.stateDict().map(\.path) == ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"])
    #expect(block.fc1.weight.shape == [8, 16, 1, 1])
    #expect(block.parameterCount == 16 * 8 + 8 + 8 * 16 + 16)
    #expect(
      block.children.map(\.name) == ["avgpool", "fc1", "fc2", "activation", "scale_activation"])
  }

  /// The whole block, input and every parameter, against central differences, in both of
  /// torchvision's configurations.
  @Test func gradientsMatchFiniteDifferences() throws {
    let blocks = [
      SqueezeExcitation(
        6, squeezeChannels: 3, activation: SiLU(), scaleActivation: Sigmoid(),
        rng: RandomStream(seed: 1)),
      SqueezeExcitation(
        6, squeezeChannels: 3, activation: ReLU(), scaleActivation: Hardsigmoid(),
        rng: RandomStream(seed: 2)),
    ]
    for block in blocks {
      var g = SeededGenerator(seed: 3)
      let x = Tensor.normal(shape: [2, 6, 3, 4], std: 2, generator: &g, requiresGrad: true)
      let parameters = block.namedParameters().map(\.tensor)
      let report = try checkGradients([x] + parameters) { try block($0[0]) }
      #expect(report.passed, "\(block.scaleActivation.typeName): \(report)")
    }
  }

  @Test func gatesEachChannelByItsMean() throws {
    let block = SqueezeExcitation(2, squeezeChannels: 1)
    for p in block.namedParameters() { p.tensor.scalars = p.tensor.scalars.map { _ in 0 } }
    // fc2's bias alone sets the gates: sigmoid(0) = 1/2 and sigmoid(ln 3) = 3/4.
    block.fc2.bias!.scalars = [0, Float(log(3.0))]
    let x = Tensor(shape: [1, 2, 1, 2], scalars: [1, 2, 3, 4])
    let y = try block(x)
    #expect(zip(y.scalars, [0.5, 1, 2.25, 3]).allSatisfy { abs($0 - $1) < 1e-6 })
  }
}
