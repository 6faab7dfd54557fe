import ZooIO
import ZooNN
import ZooTensor

/// LeNet-5 (LeCun et al. 1998, "Gradient-based learning applied to document recognition"),
/// with the modern substitutions courses teach: ReLU instead of scaled tanh, max-pooling
/// instead of trainable sub-sampling, and a plain linear output instead of RBF units.
/// 28x28 inputs are padded by 2 in the first convolution to give the paper's 32x32 geometry.
public final class LeNet5: Module, SequentialHeadClassifier, FlattenedInputs {
  /// The two convolution-ReLU-pool stages (`features.*`).
  public let featureExtractor: Sequential
  /// Three linear layers (`classifier.0`, `.2`, `.4`); the last is the head.
  public let classifier: Sequential
  /// Number of classes the head predicts.
  public internal(set) var classCount: Int

  /// A freshly initialised LeNet-5 (PyTorch's default initialisation).
  public init(classCount: Int = 10, inputChannels: Int = 1, rng: RandomStream = .global) {
    featureExtractor = Sequential {
      Conv2d(inputChannels, 6, kernelSize: 5, padding: 2, rng: rng)
      ReLU()
      MaxPool2d(2)
      Conv2d(6, 16, kernelSize: 5, rng: rng)
      ReLU()
      MaxPool2d(2)
    }
    classifier = Sequential {
      Linear(16 * 5 * 5, 120, rng: rng)
      ReLU()
      Linear(120, 84, rng: rng)
      ReLU()
      outputLayer(featureCount: 84, classCount: classCount, rng: rng)
    }
    self.classCount = classCount
    super.init()
    register("features", featureExtractor)
    register("classifier", classifier)
  }

  /// The 84 outputs of the second hidden layer, which the head reads.
  public var featureCount: Int { 84 }

  /// The first dense layer reads the pooled feature map flattened (rows permuted for Keras).
  public var flattenedInputs: [String: [Int]] { ["classifier.0": [16, 5, 5]] }

  func pooledFeatures(_ x: Tensor) throws -> Tensor {
    try featureExtractor(x).flattened()
  }

  /// Logits: the head applied to the features.
  public override func forward(_ x: Tensor) throws -> Tensor {
    try logits(x)
  }
}
