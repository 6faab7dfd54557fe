import ZooTensor

/// 2-D convolution, weight (out, in/groups, kh, kw) as PyTorch's `nn.Conv2d`; kernel, stride
/// and padding are (vertical, horizontal) pairs. `groups == in == out` is depthwise.
public final class Conv2d: Module {
  public let weight: Tensor
  public let bias: Tensor?
  public let stride: (Int, Int)
  public let padding: (Int, Int)
  public let dilation: Int
  public let groups: Int

  /// A square kernel, stride and padding.
  public convenience init(
    _ inChannels: Int, _ outChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0,
    dilation: Int = 1, groups: Int = 1, bias: Bool = true,
    initializer: Initializer = .pytorchDefault, biasInitializer: Initializer = .pytorchDefault,
    rng: RandomStream = .global
  ) {
    self.init(
      inChannels, outChannels, kernelSize: (kernelSize, kernelSize), stride: (stride, stride),
      padding: (padding, padding), dilation: dilation, groups: groups, bias: bias,
      initializer: initializer, biasInitializer: biasInitializer, rng: rng)
  }

  /// As `nn.Conv2d(kernel_size=(1, 7), padding=(0, 3))`.
  public init(
    _ inChannels: Int, _ outChannels: Int, kernelSize: (Int, Int), stride: (Int, Int) = (1, 1),
    padding: (Int, Int) = (0, 0), dilation: Int = 1, groups: Int = 1, bias: Bool = true,
    initializer: Initializer = .pytorchDefault, biasInitializer: Initializer = .pytorchDefault,
    rng: RandomStream = .global
  ) {
    let inPerGroup = inChannels / max(1, groups)
    weight = Tensor(shape: [outChannels, inPerGroup, kernelSize.0, kernelSize.1])
    self.bias = bias ? Tensor(shape: [outChannels]) : nil
    self.stride = stride
    self.padding = padding
    self.dilation = dilation
    self.groups = groups
    super.init()
    // PyTorch's fans come from the weight's shape: in/groups and out taps per position.
    let area = kernelSize.0 * kernelSize.1
    initializer.fill(weight, fanIn: inPerGroup * area, fanOut: outChannels * area, rng: rng)
    if let b = self.bias {
      biasInitializer.fill(b, fanIn: inPerGroup * area, fanOut: outChannels * area, rng: rng)
    }
    register(parameter: "weight", weight)
    if let b = self.bias { register(parameter: "bias", b) }
  }

  public override func forward(_ x: Tensor) throws -> Tensor {
    try conv2d(
      x, weight: weight, bias: bias, stride: stride, padding: padding, dilation: dilation,
      groups: groups)
  }

  public override func multiplyAccumulates(input: [Int], output: [Int]) -> Int {
    output.reduce(1, *) * weight.count / weight.shape[0]
  }
}

/// Transposed 2-D convolution (the U-Net up-sampling step), weight (in, out, k, k) as
/// PyTorch's `nn.ConvTranspose2d`.
public final class ConvTranspose2d: Module {
  public let weight: Tensor
  public let bias: Tensor?
  public let stride: Int
  public let padding: Int
  public let outputPadding: Int

  public init(
    _ inChannels: Int, _ outChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0,
    outputPadding: Int = 0, bias: Bool = true, initializer: Initializer = .pytorchDefault,
    rng: RandomStream = .global
  ) {
    weight = Tensor(shape: [inChannels, outChannels, kernelSize, kernelSize])
    self.bias = bias ? Tensor(shape: [outChannels]) : nil
    self.stride = stride
    self.padding = padding
    self.outputPadding = outputPadding
    super.init()
    // PyTorch computes fan-in from dimension 1 of the weight: out * k * k.
    let area = kernelSize * kernelSize
    initializer.fill(weight, fanIn: outChannels * area, fanOut: inChannels * area, rng: rng)
    if let b = self.bias {
      Initializer.pytorchDefault.fill(
        b, fanIn: outChannels * area, fanOut: inChannels * area, rng: rng)
    }
    register(parameter: "weight", weight)
    if let b = self.bias { register(parameter: "bias", b) }
  }

  public override func forward(_ x: Tensor) throws -> Tensor {
    try convTranspose2d(
      x, weight: weight, bias: bias, stride: stride, padding: padding, outputPadding: outputPadding)
  }

  public override func multiplyAccumulates(input: [Int], output: [Int]) -> Int {
    input.reduce(1, *) * weight.count / weight.shape[0]
  }
}

/// Batch normalisation over channels of (N, C) or (N, C, H, W), as `nn.BatchNorm2d`.
/// A frozen layer (its offset needs no gradient) always uses its running statistics, so
/// fine-tuning a head never moves a frozen backbone's statistics.
public final class BatchNorm: Module {
  /// The scale (gamma); a layer without one (`scale: false`) keeps it at 1, unregistered.
  public let weight: Tensor
  public let bias: Tensor
  public let runningMean: Tensor
  public let runningVar: Tensor
  public let momentum: Float
  /// Carried per layer: PyTorch's default is 1e-5, Keras's 1e-3.
  public let eps: Float
  /// Whether the layer learns a scale: Keras's `scale=False` (Inception's batch norms, which
  /// the ReLU after them makes redundant) has none.
  public let hasScale: Bool

  public init(_ channels: Int, momentum: Float = 0.1, eps: Float = 1e-5, scale: Bool = true) {
    weight = Tensor(shape: [channels], repeating: 1)
    bias = Tensor(shape: [channels])
    runningMean = Tensor(shape: [channels])
    runningVar = Tensor(shape: [channels], repeating: 1)
    self.momentum = momentum
    self.eps = eps
    hasScale = scale
    super.init()
    if scale { register(parameter: "weight", weight) }
    register(parameter: "bias", bias)
    register(buffer: "running_mean", runningMean)
    register(buffer: "running_var", runningVar)
  }

  /// The members of a data-parallel run whose batches share statistics (synchronised batch
  /// norm); nil keeps this process's statistics.
  public var replicas: ReplicaGroup?

  /// Whether this call uses batch statistics and updates the running ones.
  public var usesBatchStatistics: Bool { isTraining && bias.requiresGrad }

  public override func forward(_ x: Tensor) throws -> Tensor {
    try batchNorm(
      x, weight: hasScale ? weight : nil, bias: bias, runningMean: runningMean,
      runningVar: runningVar, training: usesBatchStatistics, momentum: momentum, eps: eps,
      replicas: replicas)
  }
}
