import ZooNN
import ZooTensor

/// The head contract for classifiers whose `classifier` is a `Sequential` ending in the output
/// layer (LeNet, AlexNet, VGG): the layers before it belong to the features, the last one is
/// the head, and a reset replaces only that last child, so its path (`classifier.6`) stays.
protocol SequentialHeadClassifier: Classifier {
  var classifier: Sequential { get }
  var classCount: Int { get set }
  /// Convolutional features, pooled and flattened: the classifier's input.
  func pooledFeatures(_ x: Tensor) throws -> Tensor
}

extension SequentialHeadClassifier {
  /// The last child of `classifier` (`classifier.6`).
  public var classifierPath: String { "classifier.\(classifier.children.count - 1)" }

  /// Pooled convolutional features through every classifier layer but the last.
  public func features(_ x: Tensor) throws -> Tensor {
    try classifier.layers.dropLast().reduce(try pooledFeatures(x)) { try $1($0) }
  }

  /// The last classifier layer.
  public func head(_ features: Tensor) throws -> Tensor {
    try classifier.layers.last!(features)
  }

  /// Registers `head` as the last child of `classifier`, under the same path.
  public func replaceClassifier(with head: Module, classCount: Int) {
    classifier.register(String(classifier.children.count - 1), head)
    self.classCount = classCount
  }
}

/// A freshly initialised output layer with PyTorch's default initialisation, or the identity
/// when `classCount` is 0 (features only).
func outputLayer(
  featureCount: Int, classCount: Int, initializer: Initializer = .pytorchDefault,
  biasInitializer: Initializer = .pytorchDefault, rng: RandomStream
) -> Module {
  guard classCount > 0 else { return Identity() }
  return Linear(
    featureCount, classCount, initializer: initializer, biasInitializer: biasInitializer, rng: rng)
}
