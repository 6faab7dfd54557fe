import Testing
import ZooNN
import ZooTensor

/// A ConvNeXt block from ZooNN's layers against torchvision's `CNBlock` with the same
/// parameters (`Fixtures/convnext_block.json`): output and the gradients for the input and
/// every parameter (the layer scale and both channels-last linear layers among them), within
/// `TorchParityTests.tolerance`.
@Suite struct ConvNeXtBlockParityTests {
  /// torchvision's block: depthwise 7x7, layer norm, 4x linear, GELU, linear, with the
  /// permutes (`block.1`, `block.6`) left out.
  static func block(channels: Int) -> LayerScaledResidual {
    let body = NamedSequential([
      ("0", Conv2d(channels, channels, kernelSize: 7, padding: 3, groups: channels)),
      ("2", LayerNorm2d(channels, eps: 1e-6)),
      ("3", Linear(channels, 4 * channels, overChannels: true)),
      ("4", GELU()),
      ("5", Linear(4 * channels, channels, overChannels: true)),
    ])
    return LayerScaledResidual(body, channels: channels, initialScale: 1e-6, dropProbability: 0)
  }

  @Test(arguments: try TorchFixture.caseNames("convnext_block"))
  func matchesTorchvision(_ name: String) throws {
    let c = try TorchFixture.case(name, in: "convnext_block")
    let block = Self.block(channels: try c.tensor("x").shape[1])
    block.setTraining(false)
    try TorchParityTests.checkModule(
      block, input: try c.tensor("x", requiresGrad: true), c, "convnext_block")
  }
}
