import Testing
import Transfer
import Zoo
import ZooData
import ZooNN
import ZooTensor

@Suite struct FeatureCacheTests {
  /// Synthetic images with a class-dependent bright square, so the head has something to learn.
  static func data() -> ImageBatches {
    var g = SeededGenerator(seed: 5)
    var pixels: [UInt8] = []
    var labels: [Int] = []
    for n in 0..<48 {
      let label = n % 3
      for y in 0..<28 {
        for x in 0..<28 {
          let inSquare = (label * 8..<label * 8 + 8).contains(x) && (8..<20).contains(y)
          pixels.append(UInt8(min(255, (inSquare ? 180 : 20) + Int(g.nextUniform() * 60))))
        }
      }
      labels.append(label)
    }
    let images = LabeledImages(
      channels: 1, height: 28, width: 28, pixels: pixels, labels: labels,
      classNames: ["a", "b", "c"])
    return ImageBatches(images, normalization: .fashionMNIST, batchSize: 16)
  }

  static func trainedHead(cached: Bool) throws -> [Float] {
    let model = VGG(.lite, classCount: 3, inputChannels: 1, rng: RandomStream(seed: 1))
    try model.freeze(.backbone)
    let data = Self.data()
    let optimizer = SGD(parameters: model.trainableParameters(), learningRate: 0.05, momentum: 0.9)
    if cached {
      let features = try FeatureBatches(model: model, data: data, batchSize: 16)
      let head = model.child(at: model.classifierPath)!
      let trainer = ClassifierTrainer(model: head, optimizer: optimizer)
      for epoch in 1...3 { _ = try trainer.trainEpoch(features, epoch: epoch, epochs: 3, seed: 9) }
    } else {
      let trainer = ClassifierTrainer(model: model, optimizer: optimizer)
      trainer.enterTrainingMode = { _ in model.enterHeadOnlyTrainingMode() }
      for epoch in 1...3 { _ = try trainer.trainEpoch(data, epoch: epoch, epochs: 3, seed: 9) }
    }
    return model.trainableParameters().flatMap(\.tensor.scalars)
  }

  @Test func cachedAndUncachedHeadTrainingAgree() throws {
    let cached = try Self.trainedHead(cached: true)
    let uncached = try Self.trainedHead(cached: false)
    let difference = zip(cached, uncached).map { abs($0 - $1) }.max()!
    #expect(difference < 1e-5, "largest difference \(difference)")
    #expect(cached != (try Self.untrainedHead()))
  }

  static func untrainedHead() throws -> [Float] {
    let model = VGG(.lite, classCount: 3, inputChannels: 1, rng: RandomStream(seed: 1))
    try model.freeze(.backbone)
    return model.trainableParameters().flatMap(\.tensor.scalars)
  }
}
