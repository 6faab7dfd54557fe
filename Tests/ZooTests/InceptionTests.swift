import Testing
import Zoo
import ZooNN
import ZooTensor

/// Inception v3's auxiliary classifier: it runs in training mode only, and the training loss
/// adds its cross-entropy with weight 0.4 (torchvision's recipe).
@Suite struct InceptionTests {
  @Test func auxiliaryLogitsJoinTheTrainingLossOnly() throws {
    // Batch norm in training needs two samples: the auxiliary classifier pools to 1x1.
    let model = InceptionV3(classCount: 7, rng: RandomStream(seed: 3))
    var g = SeededGenerator(seed: 4)
    let x = Tensor.normal(shape: [2, 3, 299, 299], generator: &g)
    let labels = [5, 1]

    model.setTraining(true)
    let logits = try model(x)
    let auxiliary = try #require(model.auxiliaryLogits)
    #expect(auxiliary.shape == [2, 7])
    let main = try crossEntropy(logits: logits, labels: labels).item
    let extra = try crossEntropy(logits: auxiliary, labels: labels).item
    let total = try classificationLoss(of: model, logits: logits, labels: labels).item
    #expect(abs(total - (main + 0.4 * extra)) <= 1e-5 * abs(total))
    #expect(extra > 0)

    model.setTraining(false)
    let inference = try model(x)
    #expect(model.auxiliaryLogits == nil)
    #expect(
      try classificationLoss(of: model, logits: inference, labels: labels).item
        == crossEntropy(logits: inference, labels: labels).item)
  }

  /// A new head replaces `fc` and gives the auxiliary classifier the same classes.
  @Test func newHeadResizesTheAuxiliaryClassifier() throws {
    let model = InceptionV3(classCount: 1000, rng: RandomStream(seed: 5))
    model.resetClassifier(classCount: 4, rng: RandomStream(seed: 6))
    let shapes = Dictionary(
      uniqueKeysWithValues: model.namedParameters().map { ($0.path, $0.tensor.shape) })
    #expect(shapes["fc.weight"] == [4, 2048])
    #expect(shapes["AuxLogits.fc.weight"] == [4, 768])
    #expect(model.classCount == 4)
  }
}
