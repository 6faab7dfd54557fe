import Testing
import Transfer
import Zoo
import ZooData
import ZooNN
import ZooTensor

@Suite struct FreezeTests {
  static func resnet() -> ResNet {
    ResNet(.cifar(depth: 20), classCount: 5, inputChannels: 1, rng: RandomStream(seed: 0))
  }

  static func batch() -> (Tensor, [Int]) {
    var g = SeededGenerator(seed: 3)
    return (Tensor.normal(shape: [4, 1, 28, 28], generator: &g), [0, 1, 2, 3])
  }

  @Test func backboneFreezeTrainsOnlyTheHeadAndKeepsRunningStatistics() throws {
    let model = Self.resnet()
    let report = try model.freeze(.backbone)
    #expect(report.trainableParameters == 64 * 5 + 5)
    #expect(model.trainableParameters().map(\.path) == ["fc.weight", "fc.bias"])
    let before = model.stateDict().map { ($0.path, $0.tensor.scalars) }
    let optimizer = SGD(parameters: model.trainableParameters(), learningRate: 0.1, momentum: 0.9)
    let (x, labels) = Self.batch()
    model.setTraining(true)
    try crossEntropy(logits: try model(x), labels: labels).backward()
    optimizer.step()
    for ((path, old), (_, tensor)) in zip(before, model.stateDict()) {
      if Module.path(path, isUnder: "fc") {
        #expect(tensor.scalars != old, "\(path) did not change")
      } else {
        #expect(tensor.scalars == old, "\(path) changed")
        #expect(tensor.grad == nil, "\(path) got a gradient")
      }
    }
    #expect(optimizer.stateTensors().map(\.path) == ["momentum/fc.bias", "momentum/fc.weight"])
  }

  @Test func freezingIsIdempotentAndReversible() throws {
    let model = Self.resnet()
    let total = model.parameterCount
    let once = try model.freeze(.upTo("layer2"))
    let twice = try model.freeze(.upTo("layer2"))
    #expect(once == twice)
    #expect(once.frozenPaths == ["conv1", "bn1", "relu", "layer1", "layer2"])
    #expect(
      model.trainableParameters().allSatisfy {
        $0.path.hasPrefix("layer3") || $0.path.hasPrefix("fc")
      })
    #expect(try model.freeze(.none).trainableParameters == total)
    let (x, labels) = Self.batch()
    try crossEntropy(logits: try model(x), labels: labels).backward()
    #expect(model.namedParameters().allSatisfy { $0.tensor.grad != nil })
  }

  @Test func upToReachesInsideAStage() throws {
    let model = VGG(.lite, classCount: 3, inputChannels: 1, rng: RandomStream(seed: 0))
    let report = try model.freeze(.upTo("features.4"))
    #expect(
      report.frozenPaths == ["features.0", "features.1", "features.2", "features.3", "features.4"])
    #expect(model.child(at: "features.3") is Conv2d)
    #expect(!(model.child(at: "features.3") as! Conv2d).weight.requiresGrad)
    #expect((model.child(at: "features.7") as! Conv2d).weight.requiresGrad)
  }

  @Test func badPoliciesSayWhatIsValid() throws {
    let model = Self.resnet()
    #expect(throws: TransferError.unknownStage("layer9", known: model.stageNames)) {
      try model.freeze(.upTo("layer9"))
    }
    #expect(throws: TransferError.classifierInsideFrozenStage(stage: "fc", classifier: "fc")) {
      try model.freeze(.upTo("fc"))
    }
    #expect(throws: TransferError.unknownFreezePolicy("everything")) {
      try FreezePolicy(parsing: "everything")
    }
    #expect(try FreezePolicy(parsing: "upto:layer3") == .upTo("layer3"))
    #expect(try FreezePolicy(parsing: "Backbone") == .backbone)
  }

  /// torchvision's DenseNet layout at a size for unit tests: stem, four dense blocks with
  /// transitions between them, `norm5`, `classifier`.
  static func densenet() -> DenseNet {
    let configuration = DenseNetConfiguration(
      growthRate: 4, layersPerBlock: [2, 2, 2, 2], initialFeatures: 8, bottleneckFactor: 2)
    return DenseNet(configuration, classCount: 5, rng: RandomStream(seed: 0))
  }

  static func imageBatch() -> (Tensor, [Int]) {
    var g = SeededGenerator(seed: 5)
    return (Tensor.normal(shape: [4, 3, 32, 32], generator: &g), [0, 1, 2, 0])
  }

  @Test func frozenDenseNetBackboneGivesOnlyTheNewHeadGradients() throws {
    let model = Self.densenet()
    model.replaceHead(classCount: 3, rng: RandomStream(seed: 1))
    let report = try model.freeze(.backbone)
    #expect(model.trainableParameters().map(\.path) == ["classifier.weight", "classifier.bias"])
    #expect(report.trainableParameters == model.featureCount * 3 + 3)
    let (x, labels) = Self.imageBatch()
    model.setTraining(false)
    let inference = try model.features(x).scalars
    let statistics = model.namedBuffers().map(\.tensor.scalars)
    model.setTraining(true)
    // Frozen batch norms normalise with their running statistics even in training mode.
    #expect(try model.features(x).scalars == inference)
    try crossEntropy(logits: try model(x), labels: labels).backward()
    #expect(model.namedBuffers().map(\.tensor.scalars) == statistics)
    for (path, parameter) in model.namedParameters() {
      if Module.path(path, isUnder: "classifier") {
        #expect(parameter.grad?.scalars.contains { $0 != 0 } == true, "\(path) has no gradient")
      } else {
        #expect(parameter.grad == nil, "\(path) got a gradient")
      }
    }
  }

  /// torchvision's ConvNeXt layout with one narrow block per stage.
  static func convnext() -> ConvNeXt {
    let stages = [8, 16, 32, 64].map { ConvNeXtConfiguration.Stage($0, 1) }
    return ConvNeXt(
      ConvNeXtConfiguration(stages, stochasticDepth: 0.1), classCount: 5,
      rng: RandomStream(seed: 0))
  }

  /// The head is `classifier.2` behind the classifier's layer norm and flatten, which belong
  /// to the features: a backbone freeze leaves the new head alone trainable.
  @Test func frozenConvNeXtBackboneTrainsOnlyTheNewHead() throws {
    let model = Self.convnext()
    #expect(model.classifierPath == "classifier.2")
    let swap = model.replaceHead(classCount: 3, rng: RandomStream(seed: 1))
    #expect(swap.dropped == ["classifier.2.weight [5, 64]", "classifier.2.bias [5]"])
    let report = try model.freeze(.backbone)
    #expect(
      model.trainableParameters().map(\.path) == ["classifier.2.weight", "classifier.2.bias"])
    #expect(report.trainableParameters == 64 * 3 + 3)
    let (x, labels) = Self.imageBatch()
    #expect(try model.features(x).shape == [4, 64])
    model.enterHeadOnlyTrainingMode()
    try crossEntropy(logits: try model(x), labels: labels).backward()
    for (path, parameter) in model.namedParameters() {
      if Module.path(path, isUnder: "classifier.2") {
        #expect(parameter.grad?.scalars.contains { $0 != 0 } == true, "\(path) has no gradient")
      } else {
        #expect(parameter.grad == nil, "\(path) got a gradient")
      }
    }
  }

  @Test func denseNetFreezesByStageTogetherWithItsTransition() throws {
    let model = Self.densenet()
    let report = try model.freeze(.upTo("features.transition2"))
    #expect(
      report.frozenPaths == [
        "features.conv0", "features.norm0", "features.relu0", "features.pool0",
        "features.denseblock1", "features.transition1", "features.denseblock2",
        "features.transition2",
      ])
    let trainable = [
      "features.denseblock3", "features.transition3", "features.denseblock4", "features.norm5",
      "classifier",
    ]
    let (x, labels) = Self.imageBatch()
    model.setTraining(true)
    try crossEntropy(logits: try model(x), labels: labels).backward()
    for (path, parameter) in model.namedParameters() {
      let trains = trainable.contains { Module.path(path, isUnder: $0) }
      #expect(parameter.requiresGrad == trains, "\(path)")
      #expect((parameter.grad != nil) == trains, "\(path)")
    }
  }

  /// MobileNetV3's stages are `features.N`; its head is `classifier.3`, after the hidden
  /// linear layer, hard-swish and dropout that belong to the backbone.
  @Test func mobileNetV3FreezesByStageAndKeepsItsHeadPath() throws {
    let model = MobileNetV3(
      .small, widthMultiplier: 0.25, classCount: 5, rng: RandomStream(seed: 0))
    let report = try model.freeze(.upTo("features.4"))
    #expect(report.frozenPaths == (0...4).map { "features.\($0)" })
    let (x, labels) = Self.imageBatch()
    let statistics = model.namedBuffers().filter { $0.path.hasPrefix("features.4.") }
      .map(\.tensor.scalars)
    model.setTraining(true)
    try crossEntropy(logits: try model(x), labels: labels).backward()
    #expect(
      model.namedBuffers().filter { $0.path.hasPrefix("features.4.") }.map(\.tensor.scalars)
        == statistics)
    for (path, parameter) in model.namedParameters() {
      let frozen = (0...4).contains { Module.path(path, isUnder: "features.\($0)") }
      #expect(parameter.requiresGrad != frozen, "\(path)")
      #expect((parameter.grad != nil) != frozen, "\(path)")
    }

    try model.freeze(.backbone)
    #expect(model.classifierPath == "classifier.3")
    #expect(
      model.trainableParameters().map(\.path) == ["classifier.3.weight", "classifier.3.bias"])
    let swap = model.replaceHead(classCount: 2, rng: RandomStream(seed: 1))
    #expect(swap.dropped == ["classifier.3.weight [5, 256]", "classifier.3.bias [5]"])
    #expect(try model(x).shape == [4, 2])
  }

  @Test func headSwapKeepsEveryBackboneTensor() throws {
    let model = Self.resnet()
    let before = Dictionary(
      uniqueKeysWithValues: model.stateDict().map { ($0.path, $0.tensor.scalars) })
    let report = model.replaceHead(classCount: 7, hidden: 32, rng: RandomStream(seed: 4))
    #expect(report.dropped == ["fc.weight [5, 64]", "fc.bias [5]"])
    for (path, tensor) in model.stateDict() where !path.hasPrefix("fc") {
      #expect(tensor.scalars == before[path], "\(path) changed")
    }
    #expect(
      model.stateDict().filter { $0.path.hasPrefix("fc") }.map(\.path) == [
        "fc.0.weight", "fc.0.bias", "fc.3.weight", "fc.3.bias",
      ])
    #expect(try model(Self.batch().0).shape == [4, 7])
  }
}
