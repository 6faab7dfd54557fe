import ZooTensor

/// Weight initialisers. `fanIn` / `fanOut` follow PyTorch: for a conv weight (O, I, kh, kw),
/// fanIn = I*kh*kw and fanOut = O*kh*kw.
public enum Initializer: Sendable {
  /// PyTorch's default for Linear and Conv2d (kaiming_uniform_ with a = sqrt(5)):
  /// U(-1/sqrt(fanIn), 1/sqrt(fanIn)). Also their default bias init.
  case pytorchDefault
  /// Kaiming/He normal for ReLU, as torchvision's ResNet: N(0, 2/fan) with fan = fanOut or fanIn.
  case kaimingNormal(fanOut: Bool)
  /// Kaiming/He uniform for ReLU: U(-sqrt(6/fanIn), sqrt(6/fanIn)).
  case kaimingUniform
  /// Glorot/Xavier uniform, Keras's default: U(-sqrt(6/(fanIn+fanOut)), +).
  case glorotUniform
  /// N(0, std^2), as torchvision's VGG/AlexNet linear layers (std 0.01).
  case normal(std: Float)
  case constant(Float)

  /// Fills `tensor` in place. `fanIn` and `fanOut` describe the layer it belongs to.
  public func fill(_ tensor: Tensor, fanIn: Int, fanOut: Int, rng: RandomStream) {
    let count = tensor.count
    let values: [Float] = rng.withGenerator { g in
      switch self {
      case .pytorchDefault:
        let bound = fanIn > 0 ? 1 / Float(fanIn).squareRoot() : 0
        return (0..<count).map { _ in -bound + 2 * bound * g.nextUniform() }
      case .kaimingNormal(let useFanOut):
        let std = (2 / Float(max(useFanOut ? fanOut : fanIn, 1))).squareRoot()
        return (0..<count).map { _ in std * g.nextNormal() }
      case .kaimingUniform:
        let bound = (6 / Float(max(fanIn, 1))).squareRoot()
        return (0..<count).map { _ in -bound + 2 * bound * g.nextUniform() }
      case .glorotUniform:
        let bound = (6 / Float(max(fanIn + fanOut, 1))).squareRoot()
        return (0..<count).map { _ in -bound + 2 * bound * g.nextUniform() }
      case .normal(let std):
        return (0..<count).map { _ in std * g.nextNormal() }
      case .constant(let value):
        return [Float](repeating: value, count: count)
      }
    }
    tensor.scalars = values
  }
}
