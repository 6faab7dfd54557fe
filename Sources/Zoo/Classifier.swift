import ZooNN
import ZooTensor

/// The head contract every classifier in the zoo keeps (as timm's `forward_features`,
/// `forward_head`, `reset_classifier`): transfer learning swaps the head through it alone.
public protocol Classifier: Module {
  /// The backbone: input images to the vectors the classifier reads, (N, featureCount).
  func features(_ x: Tensor) throws -> Tensor
  /// The classifier: feature vectors to logits, (N, classCount).
  func head(_ features: Tensor) throws -> Tensor
  /// Path of the final classifier layer (`fc`, `classifier.6`); weight files drop exactly
  /// the parameters under it when the class count changes.
  var classifierPath: String { get }
  /// Width of the vectors `features` returns.
  var featureCount: Int { get }
  /// Number of classes the head predicts (0 when the head was removed).
  var classCount: Int { get }
  /// Puts `head` (feature vectors to `classCount` logits) where the classifier is, under
  /// the same path.
  func replaceClassifier(with head: Module, classCount: Int)
}

extension Classifier {
  /// Replaces the classifier with a freshly initialised linear layer for `classCount`
  /// classes (PyTorch's default initialisation); 0 leaves the features as the output.
  public func resetClassifier(classCount: Int, rng: RandomStream = .global) {
    replaceClassifier(
      with: outputLayer(featureCount: featureCount, classCount: classCount, rng: rng),
      classCount: classCount)
  }

  /// The module at `classifierPath` applied to `features`: the head of a classifier whose
  /// head is that one layer.
  public func head(_ features: Tensor) throws -> Tensor {
    try child(at: classifierPath)!(features)
  }

  /// Logits: `head(features(x))`.
  public func logits(_ x: Tensor) throws -> Tensor {
    try head(try features(x))
  }
}

/// A classifier with an auxiliary head on an intermediate feature map, whose loss joins the
/// main one in training (Inception v3's `AuxLogits`, as torchvision's training recipe uses it).
public protocol AuxiliaryClassifier: Classifier {
  /// The auxiliary head's logits from the last forward pass in training mode; nil after a
  /// pass in inference.
  var auxiliaryLogits: Tensor? { get }
}

extension AuxiliaryClassifier {
  /// The auxiliary loss's weight in the total: 0.4, as torchvision's reference training.
  public var auxiliaryLossWeight: Float { 0.4 }
}

/// The classification loss of a training step: cross-entropy of `logits` (what `model` just
/// returned), plus the weighted cross-entropy of its auxiliary logits when it has an auxiliary
/// classifier that ran.
public func classificationLoss(
  of model: Module, logits: Tensor, labels: [Int], labelSmoothing: Float = 0
) throws -> Tensor {
  let loss = try crossEntropy(logits: logits, labels: labels, labelSmoothing: labelSmoothing)
  guard let auxiliary = model as? any AuxiliaryClassifier,
    let auxiliaryLogits = auxiliary.auxiliaryLogits
  else { return loss }
  let auxiliaryLoss = try crossEntropy(
    logits: auxiliaryLogits, labels: labels, labelSmoothing: labelSmoothing)
  return try add(loss, scale(auxiliaryLoss, by: auxiliary.auxiliaryLossWeight))
}
