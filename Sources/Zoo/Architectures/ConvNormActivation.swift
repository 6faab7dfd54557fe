import ZooNN
import ZooTensor

/// torchvision's `Conv2dNormActivation`: a bias-free convolution with "same" padding (`.0`),
/// batch norm (`.1`) and, when given, an activation (`.2`). The convolution starts as
/// torchvision's MobileNets and EfficientNets start theirs: Kaiming-normal by fan-out.
func convNormActivation(
  _ input: Int, _ output: Int, kernelSize: Int = 3, stride: Int = 1, groups: Int = 1,
  eps: Float = 1e-5, momentum: Float = 0.1, activation: Module?, rng: RandomStream
) -> Sequential {
  let convolution = Conv2d(
    input, output, kernelSize: kernelSize, stride: stride, padding: (kernelSize - 1) / 2,
    groups: groups, bias: false, initializer: .kaimingNormal(fanOut: true), rng: rng)
  let norm = BatchNorm(output, momentum: momentum, eps: eps)
  return Sequential([convolution, norm] + (activation.map { [$0] } ?? []))
}
