import Testing
import Transfer
import Zoo
import ZooData
import ZooNN
import ZooTensor

@Suite struct FineTunerTests {
  static func model() -> Classifier {
    let model = VGG(.lite, classCount: 10, inputChannels: 1, rng: RandomStream(seed: 1))
    model.replaceHead(classCount: 3, rng: RandomStream(seed: 2))
    return model
  }

  @Test func twoStagesRunAndTheBestEpochIsKept() throws {
    let model = Self.model()
    var configuration = FineTuneConfiguration()
    configuration.headEpochs = 3
    configuration.unfreezeEpochs = 2
    configuration.batchSize = 16
    configuration.learningRate = 3e-3
    let tuner = FineTuner(model: model, configuration: configuration)
    let data = FeatureCacheTests.data()
    let result = try tuner.run(train: data, validation: data)
    #expect(result.usedFeatureCache)
    #expect(result.history.map(\.stage) == [.head, .head, .head, .all, .all])
    #expect(result.best.validationLoss == result.history.map(\.validationLoss).min())
    let now = try ClassifierTrainer.evaluate(model, on: data)
    #expect(
      abs(now.loss - result.best.validationLoss) < 1e-4,
      "restored \(now.loss), best \(result.best.validationLoss)")
    #expect(result.history.last!.trainLoss < result.history.first!.trainLoss)
    #expect(model.trainableParameterCount == model.parameterCount)
  }

  @Test func earlyStoppingEndsAStage() throws {
    var configuration = FineTuneConfiguration()
    configuration.headEpochs = 20
    configuration.learningRate = 5  // far too high: the validation loss stops improving at once
    configuration.patience = 2
    let result = try FineTuner(model: Self.model(), configuration: configuration)
      .run(train: FeatureCacheTests.data(), validation: FeatureCacheTests.data())
    #expect(result.history.count < 20)
  }

  @Test func nothingToTrainIsAnError() throws {
    var configuration = FineTuneConfiguration()
    configuration.headEpochs = 0
    #expect(throws: FineTuneError.nothingToTrain) {
      try FineTuner(model: Self.model(), configuration: configuration)
        .run(train: FeatureCacheTests.data(), validation: FeatureCacheTests.data())
    }
  }
}
