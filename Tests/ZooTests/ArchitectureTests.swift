import Foundation
import Testing
import Zoo
import ZooData
import ZooNN
import ZooTensor

/// Generated from the registry: every architecture trains (finite, non-zero gradients for every
/// parameter) with a non-default class count, on an input small enough for a unit test.
@Suite(.serialized) struct ArchitectureTests {
  /// The default input, shrunk to 64 px (or the architecture's minimum) for the 224 px ones.
  static func testInput(_ entry: ModelEntry) -> [Int] {
    let size = max(64, entry.minimumInputSize ?? 0)
    return entry.inputShape.count == 3 && entry.inputShape[1] > size
      ? [entry.inputShape[0], size, size] : entry.inputShape
  }

  @Test(arguments: ModelRegistry.names)
  func everyParameterGetsAGradient(_ name: String) throws {
    let entry = try ModelRegistry.entry(named: name)
    let classes = entry.defaultClassCount + 3
    let model = entry.build(classCount: classes, rng: RandomStream(seed: 1))
    let shape = [2] + Self.testInput(entry)
    var g = SeededGenerator(seed: 2)
    let x = Tensor.normal(shape: shape, generator: &g)
    let out = try model(x)
    let loss: Tensor
    switch entry.task {
    case .classification:
      #expect(out.shape == [2, classes])
      loss = try classificationLoss(of: model, logits: out, labels: [0, classes - 1])
    case .segmentation:
      #expect(out.shape == [2, classes, shape[2], shape[3]])
      let labels = (0..<(2 * shape[2] * shape[3])).map { $0 % classes }
      loss = try crossEntropy(logits: out, labels: labels)
    case .generation:
      #expect(out.shape == shape)
      let autoencoder = try #require(model as? ConvAutoencoder)
      let pixels = Tensor(shape: shape, scalars: x.scalars.map { 1 / (1 + exp(-$0)) })
      loss = try generativeLoss(
        of: autoencoder, inputs: pixels, targets: pixels, random: RandomStream(seed: 3)
      ).total
    }
    try loss.backward()
    #expect(loss.item.isFinite, "\(name): loss \(loss.item)")
    try expectGradients(model, name)
  }

  /// Every parameter has a finite gradient that is not all zero.
  func expectGradients(_ model: Module, _ name: String) throws {
    for (path, parameter) in model.namedParameters() {
      let grad = try #require(parameter.grad, "\(name): \(path) has no gradient")
      #expect(grad.scalars.allSatisfy { $0.isFinite }, "\(name): \(path) has a non-finite gradient")
      #expect(grad.scalars.contains { $0 != 0 }, "\(name): \(path) has an all-zero gradient")
    }
  }

  @Test(arguments: 1...5)
  func unetKeepsTheInputSize(depth: Int) throws {
    let model = UNet(
      depth: depth, baseWidth: 4, classCount: 3, inputChannels: 2, rng: RandomStream(seed: 0))
    let side = 1 << depth
    let x = Tensor(shape: [1, 2, 2 * side, 3 * side], repeating: 0.5)
    #expect(try model(x).shape == [1, 3, 2 * side, 3 * side])
  }

  @Test func unetSaysWhichSizeToPadTo() throws {
    let model = UNet(depth: 4, baseWidth: 4, rng: RandomStream(seed: 0))
    let x = Tensor(shape: [1, 1, 100, 96])
    #expect(
      throws: TensorError.invalidArgument(
        op: "unet",
        message: "input 100x96 must be divisible by 16 (2^4 for 4 down-steps); pad it to 112x96")
    ) { try model(x) }
  }

  @Test func headSwapKeepsTheBackboneAndChangesOnlyTheClassifier() throws {
    let model = ResNet(
      .cifar(depth: 20), classCount: 10, inputChannels: 1, rng: RandomStream(seed: 0))
    let before = Dictionary(
      uniqueKeysWithValues: model.stateDict().map { ($0.path, $0.tensor.scalars) })
    model.resetClassifier(classCount: 4, rng: RandomStream(seed: 9))
    for (path, tensor) in model.stateDict() {
      if Module.path(path, isUnder: model.classifierPath) {
        #expect(tensor.shape.first == 4, "\(path)")
      } else {
        #expect(tensor.scalars == before[path], "\(path) changed")
      }
    }
    #expect(try model(Tensor(shape: [1, 1, 28, 28])).shape == [1, 4])
  }

  /// A small U-Net learns the garment masks of a few real Fashion-MNIST images.
  @Test(.enabled(if: FashionMNIST.isInstalled)) func smallUNetOverfitsRealMasks() throws {
    let images = try FashionMNIST.load(.test).prefix(4)
    // 32x32 canvases with the 28x28 garment in the middle; mask = pixels brighter than 10%.
    var pixels = [Float](repeating: 0, count: 4 * 32 * 32)
    var labels = [Int](repeating: 0, count: 4 * 32 * 32)
    for n in 0..<4 {
      for y in 0..<28 {
        for x in 0..<28 {
          let value = images.pixels[n * 784 + y * 28 + x]
          let target = n * 1024 + (y + 2) * 32 + x + 2
          pixels[target] = Float(value) / 255
          labels[target] = value > 25 ? 1 : 0
        }
      }
    }
    let x = Tensor(shape: [4, 1, 32, 32], scalars: pixels)
    let model = UNet(
      depth: 2, baseWidth: 8, classCount: 2, inputChannels: 1, rng: RandomStream(seed: 0))
    let optimizer = Adam.adam(parameters: model.trainableParameters(), learningRate: 0.01)
    var losses: [Float] = []
    for _ in 0..<60 {
      let loss = try crossEntropy(logits: try model(x), labels: labels)
      optimizer.zeroGrad()
      try loss.backward()
      optimizer.step()
      losses.append(loss.item)
    }
    #expect(losses.last! < 0.1 * losses.first!, "loss \(losses.first!) -> \(losses.last!)")
  }
}
