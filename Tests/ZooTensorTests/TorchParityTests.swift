import Testing
import ZooNN
import ZooTensor
import ZooTestSupport

/// Each op against PyTorch on the inputs in `Fixtures/` (see `Tools/make_torch_fixtures.py`):
/// the output, the gradient of `sum(out * w)` for every input (of the loss itself for
/// cross-entropy), and batch norm's updated running statistics must agree within 1e-5 relative.
@Suite struct TorchParityTests {
  static let tolerance: Float = 1e-5

  @Test(arguments: try TorchFixture.caseNames("conv2d"))
  func conv2dMatchesTorch(_ name: String) throws {
    let c = try TorchFixture.case(name, in: "conv2d")
    let x = try c.tensor("x", requiresGrad: true)
    let weight = try c.tensor("weight", requiresGrad: true)
    let bias = try c.optionalTensor("bias", requiresGrad: true)
    let (stride, padding) = (c.args.stride ?? 1, c.args.padding ?? 0)
    let out = try conv2d(
      x, weight: weight, bias: bias, stride: (stride, c.args.strideWidth ?? stride),
      padding: (padding, c.args.paddingWidth ?? padding), dilation: c.args.dilation ?? 1,
      groups: c.args.groups ?? 1)
    try Self.backward(out, c)
    try Self.compare(
      c, "conv2d",
      ["out": out, "grad_x": x.grad, "grad_weight": weight.grad, "grad_bias": bias?.grad])
  }

  @Test(arguments: try TorchFixture.caseNames("conv_transpose2d"))
  func convTranspose2dMatchesTorch(_ name: String) throws {
    let c = try TorchFixture.case(name, in: "conv_transpose2d")
    let x = try c.tensor("x", requiresGrad: true)
    let weight = try c.tensor("weight", requiresGrad: true)
    let bias = try c.optionalTensor("bias", requiresGrad: true)
    let out = try convTranspose2d(
      x, weight: weight, bias: bias, stride: c.args.stride ?? 1, padding: c.args.padding ?? 0,
      outputPadding: c.args.outputPadding ?? 0, dilation: c.args.dilation ?? 1)
    try Self.backward(out, c)
    try Self.compare(
      c, "conv_transpose2d",
      ["out": out, "grad_x": x.grad, "grad_weight": weight.grad, "grad_bias": bias?.grad])
  }

  @Test(arguments: try TorchFixture.caseNames("batch_norm2d"))
  func batchNormMatchesTorch(_ name: String) throws {
    let c = try TorchFixture.case(name, in: "batch_norm2d")
    let x = try c.tensor("x", requiresGrad: true)
    let weight = try c.optionalTensor("weight", requiresGrad: true)
    let bias = try c.optionalTensor("bias", requiresGrad: true)
    let runningMean = try c.tensor("running_mean")
    let runningVar = try c.tensor("running_var")
    let out = try batchNorm(
      x, weight: weight, bias: bias, runningMean: runningMean, runningVar: runningVar,
      training: try #require(c.args.training as Bool?),
      momentum: Float(try #require(c.args.momentum)),
      eps: Float(try #require(c.args.eps)))
    try Self.backward(out, c)
    try Self.compare(
      c, "batch_norm2d",
      [
        "out": out, "grad_x": x.grad, "grad_weight": weight?.grad, "grad_bias": bias?.grad,
        "running_mean_out": runningMean, "running_var_out": runningVar,
      ])
  }

  @Test(arguments: try TorchFixture.caseNames("max_pool2d"))
  func maxPool2dMatchesTorch(_ name: String) throws {
    let c = try TorchFixture.case(name, in: "max_pool2d")
    let x = try c.tensor("x", requiresGrad: true)
    let out = try maxPool2d(
      x, kernelSize: try #require(c.args.kernelSize), stride: c.args.stride,
      padding: c.args.padding ?? 0, ceilMode: c.args.ceilMode ?? false)
    try Self.backward(out, c)
    try Self.compare(c, "max_pool2d", ["out": out, "grad_x": x.grad])
  }

  @Test(arguments: try TorchFixture.caseNames("avg_pool2d"))
  func avgPool2dMatchesTorch(_ name: String) throws {
    let c = try TorchFixture.case(name, in: "avg_pool2d")
    let x = try c.tensor("x", requiresGrad: true)
    let out = try avgPool2d(
      x, kernelSize: try #require(c.args.kernelSize), stride: c.args.stride,
      padding: c.args.padding ?? 0, countIncludePad: c.args.countIncludePad ?? true)
    try Self.backward(out, c)
    try Self.compare(c, "avg_pool2d", ["out": out, "grad_x": x.grad])
  }

  @Test(arguments: try TorchFixture.caseNames("adaptive_avg_pool2d"))
  func adaptiveAvgPool2dMatchesTorch(_ name: String) throws {
    let c = try TorchFixture.case(name, in: "adaptive_avg_pool2d")
    let x = try c.tensor("x", requiresGrad: true)
    let size = try #require(c.args.outputSize)
    try #require(size.count == 2)
    let out = try adaptiveAvgPool2d(x, outputHeight: size[0], outputWidth: size[1])
    try Self.backward(out, c)
    try Self.compare(c, "adaptive_avg_pool2d", ["out": out, "grad_x": x.grad])
  }

  /// Each case is named for the torch function it applies.
  static let activations: [String: @Sendable (Tensor) -> Tensor] = [
    "hardswish": { hardSwish($0) }, "hardsigmoid": { hardSigmoid($0) }, "silu": { silu($0) },
    "gelu": { gelu($0) }, "gelu_tanh": { gelu($0, approximate: .tanh) },
  ]

  @Test(arguments: try TorchFixture.caseNames("activations"))
  func activationMatchesTorch(_ name: String) throws {
    let c = try TorchFixture.case(name, in: "activations")
    let function = try #require(Self.activations[name], "no activation for case \(name)")
    let x = try c.tensor("x", requiresGrad: true)
    let out = function(x)
    try Self.backward(out, c)
    try Self.compare(c, "activations", ["out": out, "grad_x": x.grad])
  }

  @Test(arguments: try TorchFixture.caseNames("softmax"))
  func softmaxMatchesTorch(_ name: String) throws {
    let c = try TorchFixture.case(name, in: "softmax")
    let x = try c.tensor("x", requiresGrad: true)
    let axis = try #require(c.args.axis)
    let out = try (c.args.log ?? false) ? logSoftmax(x, axis: axis) : softmax(x, axis: axis)
    try Self.backward(out, c)
    try Self.compare(c, "softmax", ["out": out, "grad_x": x.grad])
  }

  @Test(arguments: try TorchFixture.caseNames("cross_entropy"))
  func crossEntropyMatchesTorch(_ name: String) throws {
    let c = try TorchFixture.case(name, in: "cross_entropy")
    let logits = try c.tensor("logits", requiresGrad: true)
    let loss = try crossEntropy(
      logits: logits, labels: try #require(c.args.labels),
      classWeights: c.args.classWeights?.map { Float($0) },
      labelSmoothing: Float(c.args.labelSmoothing ?? 0))
    try loss.backward()
    try Self.compare(c, "cross_entropy", ["out": loss, "grad_logits": logits.grad])
  }

  @Test(arguments: try TorchFixture.caseNames("vae_losses"))
  func variationalLossMatchesTorch(_ name: String) throws {
    let c = try TorchFixture.case(name, in: "vae_losses")
    switch name {
    case "bce_per_image":
      let logits = try c.tensor("logits", requiresGrad: true)
      let loss = try binaryCrossEntropyPerImage(logits: logits, targets: try c.tensor("targets"))
      try loss.backward()
      try Self.compare(c, "vae_losses", ["out": loss, "grad_logits": logits.grad])
    case "squared_error_per_image":
      let prediction = try c.tensor("prediction", requiresGrad: true)
      let loss = try squaredErrorPerImage(prediction, try c.tensor("target"))
      try loss.backward()
      try Self.compare(c, "vae_losses", ["out": loss, "grad_prediction": prediction.grad])
    case "gaussian_kl", "reparameterize":
      let mean = try c.tensor("mean", requiresGrad: true)
      let logVariance = try c.tensor("log_var", requiresGrad: true)
      let out: Tensor
      if name == "gaussian_kl" {
        out = try gaussianKLDivergence(mean: mean, logVariance: logVariance)
        try out.backward()
      } else {
        out = try reparameterize(
          mean: mean, logVariance: logVariance, noise: try c.tensor("noise"))
        try Self.backward(out, c)
      }
      try Self.compare(
        c, "vae_losses", ["out": out, "grad_mean": mean.grad, "grad_log_var": logVariance.grad])
    default:
      Issue.record("no test for vae_losses case \(name)")
    }
  }

  /// Back-propagates `sum(out * w)` with the case's `w`, once `out` has PyTorch's shape.
  static func backward(
    _ out: Tensor, _ c: TorchFixture.Case, sourceLocation: SourceLocation = #_sourceLocation
  ) throws {
    let w = try c.tensor("w")
    try #require(
      out.shape == w.shape, "\(c.name): output shape \(out.shape), PyTorch \(w.shape)",
      sourceLocation: sourceLocation)
    try out.backward(seed: w)
  }

  /// Requires each of `ours` to match the fixture's tensor of the same name, and the fixture's
  /// gradients all to be checked; prints the max relative difference of each.
  static func compare(
    _ c: TorchFixture.Case, _ family: String, _ ours: [String: Tensor?],
    sourceLocation: SourceLocation = #_sourceLocation
  ) throws {
    for key in c.tensors.keys where key.hasPrefix("grad_") || key.hasSuffix("_out") {
      #expect(
        ours[key] != nil, "\(family)/\(c.name): \(key) not compared", sourceLocation: sourceLocation
      )
    }
    var report: [String] = []
    for key in ours.keys.sorted() {
      guard c.has(key) else {
        // An input with no fixture gradient (an absent bias) must have none of ours either.
        #expect(
          ours[key]! == nil, "\(family)/\(c.name): \(key) has no PyTorch reference",
          sourceLocation: sourceLocation)
        continue
      }
      let theirs = try c.tensor(key)
      guard let mine = ours[key] ?? nil else {
        Issue.record("\(family)/\(c.name): no \(key) computed", sourceLocation: sourceLocation)
        continue
      }
      let sameShape =
        mine.shape == theirs.shape || (mine.count == 1 && theirs.count == 1 && theirs.rank == 0)
      guard sameShape else {
        Issue.record(
          "\(family)/\(c.name) \(key): shape \(mine.shape), PyTorch \(theirs.shape)",
          sourceLocation: sourceLocation)
        continue
      }
      let difference = relativeDifference(mine.scalars, theirs.scalars)
      report.append("\(key) \(difference)")
      #expect(
        difference <= tolerance,
        "\(family)/\(c.name) \(key): max relative difference \(difference) > \(tolerance)",
        sourceLocation: sourceLocation)
    }
    print("torch parity \(family)/\(c.name): " + report.joined(separator: ", "))
  }
}
