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
func convNormActivation(
  _ input: Int, _ output: Int, kernelSize: Int = 3, stride: Int = 1, groups: Int = 1,
  activation: Module?, norm: BatchNormSettings = .pytorch, rng: RandomStream
) -> Sequential {
  let layers: [Module] = [
    Conv2d(
      input, output, kernelSize: kernelSize, stride: stride, padding: (kernelSize - 1) / 2,
      groups: groups, bias: false, initializer: .kaimingNormal(fanOut: true), rng: rng),
    BatchNorm(output, momentum: norm.momentum, eps: norm.eps),
  ]
  return Sequential(layers + (activation.map { [$0] } ?? []))
}

/// Batch-norm momentum and eps of a whole network.
struct BatchNormSettings {
  var momentum: Float
  var eps: Float

  /// PyTorch's defaults.
  static let pytorch = BatchNormSettings(momentum: 0.1, eps: 1e-5)
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
