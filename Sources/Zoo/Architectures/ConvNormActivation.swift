import ZooNN
import ZooTensor

// Building blocks torchvision's mobile networks share (`torchvision.models._utils`,
// `torchvision.ops.misc`).

/// torchvision's `_make_divisible`: `value` rounded to the nearest multiple of `divisor`, at
/// least `divisor`, and not more than 10% below `value`.
func makeDivisible(_ value: Double, _ divisor: Int = 8) -> Int {
  let rounded = max(divisor, Int(value + Double(divisor) / 2) / divisor * divisor)
  return Double(rounded) < 0.9 * value ? rounded + divisor : rounded
}

/// Convolution without bias, batch norm and `activation` (none for a linear projection):
/// torchvision's `Conv2dNormActivation`, children `.0`, `.1` and `.2`, padded to keep the size.
/// With `samePadding` a strided convolution is padded as Keras's 'same' pads it (one more row
/// and column at the bottom and right of an even input) by a `SamePadding2d` child `.0` before
/// it, which shifts the others by one.
func convNormActivation(
  _ input: Int, _ output: Int, kernelSize: Int = 3, stride: Int = 1, groups: Int = 1,
  activation: Module?, norm: BatchNormSettings = .pytorch, samePadding: Bool = false,
  rng: RandomStream
) -> Sequential {
  let padsBefore = samePadding && stride > 1
  let layers: [Module] = [
    Conv2d(
      input, output, kernelSize: kernelSize, stride: stride,
      padding: padsBefore ? 0 : (kernelSize - 1) / 2, groups: groups, bias: false,
      initializer: .kaimingNormal(fanOut: true), rng: rng),
    BatchNorm(output, momentum: norm.momentum, eps: norm.eps),
  ]
  let padding: [Module] = padsBefore ? [SamePadding2d(kernelSize: kernelSize, stride: stride)] : []
  return Sequential(padding + layers + (activation.map { [$0] } ?? []))
}

/// Batch-norm momentum and eps of a whole network.
struct BatchNormSettings {
  var momentum: Float
  var eps: Float

  /// PyTorch's defaults.
  static let pytorch = BatchNormSettings(momentum: 0.1, eps: 1e-5)
  /// Keras Applications' mobile networks: eps 1e-3, Keras's momentum 0.999 (PyTorch's 0.001).
  static let kerasMobile = BatchNormSettings(momentum: 0.001, eps: 1e-3)
}

/// The inverted residual block of MobileNetV2 and V3: `body` (expansion, depthwise convolution,
/// projection) under torchvision's child name (`conv` or `block`), plus the input where the
/// block keeps the shape.
final class InvertedResidual: Module {
  let body: Sequential
  let addsInput: Bool

  init(_ body: Sequential, named name: String, addsInput: Bool) {
    self.body = body
    self.addsInput = addsInput
    super.init()
    register(name, body)
  }

  override func forward(_ x: Tensor) throws -> Tensor {
    addsInput ? try add(x, try body(x)) : try body(x)
  }
}
