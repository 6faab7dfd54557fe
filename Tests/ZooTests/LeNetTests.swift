import Testing
import Zoo
import ZooData
import ZooNN
import ZooTensor

@Suite struct LeNetTests {
  @Test func parametersMatchPyTorchsLeNet() {
    let model = LeNet5(rng: RandomStream(seed: 0))
    // Same count as the PyTorch definition in Tools/bench_torch.py.
    #expect(model.parameterCount == 61_706)
    #expect(
      model.namedParameters().map(\.path) == [
        "features.0.weight", "features.0.bias", "features.3.weight", "features.3.bias",
        "classifier.0.weight", "classifier.0.bias", "classifier.2.weight", "classifier.2.bias",
        "classifier.4.weight", "classifier.4.bias",
      ])
  }

  @Test func headContract() throws {
    let model = LeNet5(classCount: 7, rng: RandomStream(seed: 0))
    let x = Tensor(shape: [3, 1, 28, 28], repeating: 0.1)
    #expect(try model(x).shape == [3, 7])
    #expect(try model.features(x).shape == [3, model.featureCount])
    #expect(model.child(at: model.classifierPath) is Linear)
    model.resetClassifier(classCount: 0, rng: RandomStream(seed: 1))
    #expect(try model(x).shape == [3, 84])
    model.resetClassifier(classCount: 4, rng: RandomStream(seed: 1))
    #expect(try model(x).shape == [3, 4])
    #expect(model.classCount == 4)
  }

  @Test func everyParameterGetsAFiniteNonZeroGradient() throws {
    let model = LeNet5(classCount: 5, rng: RandomStream(seed: 2))
    var g = SeededGenerator(seed: 3)
    let x = Tensor.normal(shape: [4, 1, 28, 28], generator: &g)
    try crossEntropy(logits: try model(x), labels: [0, 1, 2, 4]).backward()
    for (path, parameter) in model.namedParameters() {
      let grad = try #require(parameter.grad, "\(path) has no gradient")
      #expect(grad.scalars.allSatisfy { $0.isFinite }, "\(path)")
      #expect(grad.scalars.contains { $0 != 0 }, "\(path) gradient is all zero")
    }
  }

  /// A short real run: the full recipe (3 epochs, 60,000 images) is `zoo train lenet5`.
  @Test(.enabled(if: FashionMNIST.isInstalled)) func learnsFashionMNIST() throws {
    let train = ImageBatches(
      try FashionMNIST.load(.train).prefix(6_000), normalization: .fashionMNIST, batchSize: 64)
    let test = ImageBatches(
      try FashionMNIST.load(.test).prefix(1_000), normalization: .fashionMNIST, batchSize: 250)
    let model = LeNet5(rng: RandomStream(seed: 0))
    let before = try ClassifierTrainer.evaluate(model, on: test)
    let trainer = ClassifierTrainer(
      model: model,
      optimizer: SGD(parameters: model.trainableParameters(), learningRate: 0.05, momentum: 0.9))
    _ = try trainer.trainEpoch(train, epoch: 1, epochs: 1, seed: 0)
    let after = try ClassifierTrainer.evaluate(model, on: test)
    #expect(before.accuracy < 0.2)
    #expect(after.accuracy > 0.6, "test accuracy \(after.accuracy) after one epoch on 6,000 images")
    #expect(after.loss < before.loss / 2)
  }

  @Test func divergenceIsReportedWithEpochAndStep() throws {
    let images = LabeledImages(
      channels: 1, height: 28, width: 28, pixels: [UInt8](repeating: 200, count: 2 * 784),
      labels: [0, 1], classNames: ["a", "b"])
    let model = LeNet5(classCount: 2, rng: RandomStream(seed: 0))
    let trainer = ClassifierTrainer(
      model: model, optimizer: SGD(parameters: model.trainableParameters(), learningRate: 1e30))
    let data = ImageBatches(images, normalization: .fashionMNIST, batchSize: 1)
    #expect(throws: TrainingError.self) {
      for epoch in 1...3 { _ = try trainer.trainEpoch(data, epoch: epoch, epochs: 3, seed: 0) }
    }
  }
}
