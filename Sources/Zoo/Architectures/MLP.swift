import ZooNN
import ZooTensor

/// A multilayer perceptron for feature vectors (table rows): Linear, ReLU and Dropout per
/// hidden layer, then a linear output, laid out as torchvision's `ops.MLP` lays out its
/// `Sequential` (`classifier.0`, `classifier.3`, ... with the output last). The input width is
/// the feature count, which the registry passes where image models take input channels.
public final class MLP: Module, SequentialHeadClassifier {
  public let classifier: Sequential
  public let hidden: [Int]
  public internal(set) var classCount: Int

  public init(
    inputFeatures: Int, hidden: [Int] = [64, 32], dropout: Float = 0.2, classCount: Int,
    rng: RandomStream = .global
  ) {
    precondition(!hidden.isEmpty, "an MLP needs at least one hidden layer")
    var layers: [Module] = []
    for (input, output) in zip([inputFeatures] + hidden, hidden) {
      layers += [Linear(input, output, rng: rng), ReLU(), Dropout(dropout, rng: rng)]
    }
    layers.append(outputLayer(featureCount: hidden.last!, classCount: classCount, rng: rng))
    classifier = Sequential(layers)
    self.hidden = hidden
    self.classCount = classCount
    super.init()
    register("classifier", classifier)
  }

  public var featureCount: Int { hidden.last! }

  func pooledFeatures(_ x: Tensor) throws -> Tensor { x }

  public override func forward(_ x: Tensor) throws -> Tensor {
    try logits(x)
  }
}
