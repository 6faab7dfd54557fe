import ZooTensor

/// Keras's `SeparableConv2D` (Xception): a depthwise convolution that gives each input channel
/// `depthMultiplier` kernels of its own, then a 1x1 pointwise convolution that mixes the
/// channels, then the optional bias. Stride and padding apply to the depthwise step; 'same' is
/// TensorFlow's, one pixel more at the bottom and right where the total is odd.
///
/// It runs the grouped convolution (groups == input channels) and the 1x1 convolution of
/// `conv2d`, so its gradients are theirs.
///
/// The layer owns its three tensors rather than two `Conv2d` children: Keras stores a
/// separable convolution as one layer with `depthwise_kernel`, `pointwise_kernel` and `bias`,
/// and one module with `depthwise_weight`, `pointwise_weight` and `bias` is one weight-file
/// group whose tensors pair with Keras's by name, as `weight` pairs with `kernel`.
public final class SeparableConv2d: Module {
  /// Keras's `padding` argument.
  public enum Padding: String, Sendable {
    /// TensorFlow's 'same': `ceil(size / stride)` outputs.
    case same
    /// No padding.
    case valid
  }

  /// (in, depthMultiplier, kh, kw): Keras's (kh, kw, in, depthMultiplier) with the kernel
  /// axes last, so a file's shape says the multiplier. Read as (in * depthMultiplier, 1, kh,
  /// kw), it is the weight of a grouped convolution with one group per input channel whose
  /// output channel `c * depthMultiplier + m` is kernel m of input channel c, as in Keras.
  public let depthwiseWeight: Tensor
  /// (out, in * depthMultiplier, 1, 1).
  public let pointwiseWeight: Tensor
  public let bias: Tensor?
  public let stride: Int
  public let padding: Padding

  /// Keras's defaults: glorot-uniform kernels (with Keras's fans for each shape), zero bias.
  public init(
    _ inChannels: Int, _ outChannels: Int, kernelSize: Int, stride: Int = 1,
    padding: Padding = .valid, depthMultiplier: Int = 1, bias: Bool = true,
    initializer: Initializer = .glorotUniform, rng: RandomStream = .global
  ) {
    let middle = inChannels * depthMultiplier
    depthwiseWeight = Tensor(shape: [inChannels, depthMultiplier, kernelSize, kernelSize])
    pointwiseWeight = Tensor(shape: [outChannels, middle, 1, 1])
    self.bias = bias ? Tensor(shape: [outChannels]) : nil
    self.stride = stride
    self.padding = padding
    super.init()
    // Keras's fans of (kh, kw, in, multiplier) and of (1, 1, in * multiplier, out).
    let area = kernelSize * kernelSize
    initializer.fill(
      depthwiseWeight, fanIn: inChannels * area, fanOut: depthMultiplier * area, rng: rng)
    initializer.fill(pointwiseWeight, fanIn: middle, fanOut: outChannels, rng: rng)
    register(parameter: "depthwise_weight", depthwiseWeight)
    register(parameter: "pointwise_weight", pointwiseWeight)
    if let b = self.bias { register(parameter: "bias", b) }
  }

  public var inChannels: Int { depthwiseWeight.shape[0] }
  public var depthMultiplier: Int { depthwiseWeight.shape[1] }

  public override func forward(_ x: Tensor) throws -> Tensor {
    let groups = inChannels
    let (kh, kw) = (depthwiseWeight.shape[2], depthwiseWeight.shape[3])
    var input = x
    var symmetric = (0, 0)
    if padding == .same, x.rank == 4 {
      let amounts = Padding2D.same(
        height: x.shape[2], width: x.shape[3], kernelHeight: kh, kernelWidth: kw, stride: stride)
      if amounts.top == amounts.bottom && amounts.left == amounts.right {
        symmetric = (amounts.top, amounts.left)
      } else {
        input = try pad2d(x, amounts)
      }
    }
    let depthwise = try conv2d(
      input, weight: depthwiseWeight.reshaped([groups * depthMultiplier, 1, kh, kw]),
      stride: (stride, stride), padding: symmetric, groups: groups)
    return try conv2d(depthwise, weight: pointwiseWeight, bias: bias)
  }

  /// Both steps: kh*kw taps per depthwise output, in*multiplier per pointwise output.
  public override func multiplyAccumulates(input: [Int], output: [Int]) -> Int {
    output.reduce(1, *) / pointwiseWeight.shape[0]
      * (depthwiseWeight.count + pointwiseWeight.count)
  }
}
