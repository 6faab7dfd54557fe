import Testing
import ZooTensor

/// Keras's padding semantics against Keras itself (`Fixtures/keras_*.json`, written by
/// `Tools/make_keras_op_fixtures.py` through jax): ZeroPadding2D, MaxPooling2D and Conv2D with
/// `padding='same'`, including stride 2 on even sizes where TensorFlow pads the bottom and
/// right by one more. Outputs and gradients within `TorchParityTests.tolerance`.
@Suite struct KerasPaddingParityTests {
  @Test(arguments: try TorchFixture.caseNames("keras_zero_padding2d"))
  func zeroPaddingMatchesKeras(_ name: String) throws {
    let c = try TorchFixture.case(name, in: "keras_zero_padding2d")
    let amounts = try #require(c.args.paddingAmounts)
    try #require(amounts.count == 4)
    let x = try c.tensor("x", requiresGrad: true)
    let padding = Padding2D(
      top: amounts[0], bottom: amounts[1], left: amounts[2], right: amounts[3])
    let out = try pad2d(x, padding)
    try TorchParityTests.backward(out, c)
    try TorchParityTests.compare(c, "keras_zero_padding2d", ["out": out, "grad_x": x.grad])
  }

  @Test(arguments: try TorchFixture.caseNames("keras_max_pool2d_same"))
  func maxPoolSameMatchesKeras(_ name: String) throws {
    let c = try TorchFixture.case(name, in: "keras_max_pool2d_same")
    let x = try c.tensor("x", requiresGrad: true)
    let out = try maxPool2dSame(
      x, kernelSize: try #require(c.args.kernelSize), stride: try #require(c.args.stride))
    try TorchParityTests.backward(out, c)
    try TorchParityTests.compare(c, "keras_max_pool2d_same", ["out": out, "grad_x": x.grad])
  }

  /// `Padding2D.same` followed by an unpadded convolution is Keras's 'same' Conv2D.
  @Test(arguments: try TorchFixture.caseNames("keras_conv2d_same"))
  func sameAmountsMatchKerasConvolution(_ name: String) throws {
    let c = try TorchFixture.case(name, in: "keras_conv2d_same")
    let x = try c.tensor("x", requiresGrad: true)
    let weight = try c.tensor("weight", requiresGrad: true)
    let bias = try c.tensor("bias", requiresGrad: true)
    let stride = try #require(c.args.stride)
    let padding = Padding2D.same(
      height: x.shape[2], width: x.shape[3], kernelHeight: weight.shape[2],
      kernelWidth: weight.shape[3], stride: stride)
    let out = try conv2d(pad2d(x, padding), weight: weight, bias: bias, stride: stride)
    try TorchParityTests.backward(out, c)
    try TorchParityTests.compare(
      c, "keras_conv2d_same",
      ["out": out, "grad_x": x.grad, "grad_weight": weight.grad, "grad_bias": bias.grad])
  }
}
