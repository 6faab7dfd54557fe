import Testing
import ZooNN
import ZooTensor

/// ZooNN's `SqueezeExcitation` against torchvision's `ops.SqueezeExcitation` with the same
/// parameters (`Fixtures/squeeze_excitation.json`): output and the gradients for the input
/// and every parameter, within `TorchParityTests.tolerance`.
@Suite struct SqueezeExcitationParityTests {
  /// The block each case was made with, by case name.
  static func block(_ name: String, channels: Int, squeezeChannels: Int) -> SqueezeExcitation? {
    switch name {
    case "mobilenet_v3":
      SqueezeExcitation(
        channels, squeezeChannels: squeezeChannels, activation: ReLU(),
        scaleActivation: Hardsigmoid())
    case "efficientnet":
      SqueezeExcitation(
        channels, squeezeChannels: squeezeChannels, activation: SiLU(), scaleActivation: Sigmoid())
    default: nil
    }
  }

  @Test(arguments: try TorchFixture.caseNames("squeeze_excitation"))
  func matchesTorchvision(_ name: String) throws {
    let c = try TorchFixture.case(name, in: "squeeze_excitation")
    let (x, fc1) = (try c.tensor("x", requiresGrad: true), try c.tensor("fc1.weight"))
    let block = try #require(
      Self.block(name, channels: x.shape[1], squeezeChannels: fc1.shape[0]),
      "no block for case \(name)")
    try TorchParityTests.checkModule(block, input: x, c, "squeeze_excitation")
  }
}
