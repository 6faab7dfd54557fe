import Testing
import ZooNN
import ZooTensor

/// ZooNN's `SeparableConv2d` against Keras's `SeparableConv2D` with the same kernels
/// (`Fixtures/keras_separable_conv2d.json`, written by `Tools/make_keras_op_fixtures.py`
/// through jax): 'same' and 'valid', stride 1 and 2 (an even size, where 'same' pads the bottom
/// and right by one more), depth multipliers 1 to 3, with and without bias. Output and the
/// gradients for the input and every parameter within `TorchParityTests.tolerance`.
@Suite struct KerasSeparableConvParityTests {
  @Test(arguments: try TorchFixture.caseNames("keras_separable_conv2d"))
  func separableConvolutionMatchesKeras(_ name: String) throws {
    let c = try TorchFixture.case(name, in: "keras_separable_conv2d")
    let x = try c.tensor("x", requiresGrad: true)
    let depthwise = try c.tensor("depthwise_weight")
    let pointwise = try c.tensor("pointwise_weight")
    let padding = try #require(SeparableConv2d.Padding(rawValue: c.args.kerasPadding ?? ""))
    let layer = SeparableConv2d(
      x.shape[1], pointwise.shape[0], kernelSize: depthwise.shape[2],
      stride: try #require(c.args.stride), padding: padding,
      depthMultiplier: try #require(c.args.depthMultiplier), bias: c.has("bias"))
    try TorchParityTests.checkModule(layer, input: x, c, "keras_separable_conv2d")
  }
}
