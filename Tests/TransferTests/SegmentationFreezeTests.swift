import Testing
import Transfer
import Zoo
import ZooData
import ZooNN
import ZooTensor

@Suite struct SegmentationFreezeTests {
  @Test func encoderFreezeTrainsDecoderAndHeadAndKeepsEncoderStatistics() throws {
    let model = ResNetUNet(
      encoder: .resnet18, classCount: 3, inputChannels: 1, rng: RandomStream(seed: 0))
    let report = try model.freeze(try FreezePolicy(parsing: "encoder"))
    #expect(report.frozenPaths == ["encoder"])
    #expect(report.trainableParameters == model.parameterCount - 11_170_240)
    #expect(model.trainableParameters().allSatisfy { !$0.path.hasPrefix("encoder.") })
    model.enterFrozenEncoderTrainingMode()
    #expect(model.encoder.namedModules().allSatisfy { !$0.module.isTraining })
    #expect(model.child(at: "decoder.blocks.0.conv1.1")!.isTraining)

    let statistics = model.encoder.namedBuffers().map(\.tensor.scalars)
    var generator = SeededGenerator(seed: 1)
    let x = Tensor.normal(shape: [2, 1, 64, 64], generator: &generator)
    let optimizer = SGD(parameters: model.trainableParameters(), learningRate: 0.1)
    try SegmentationLoss.crossEntropyDice(
      logits: try model(x), masks: (0..<(2 * 64 * 64)).map { $0 % 3 }
    ).backward()
    optimizer.step()
    #expect(model.encoder.namedBuffers().map(\.tensor.scalars) == statistics)
    #expect(model.encoder.namedParameters().allSatisfy { $0.tensor.grad == nil })

    #expect(
      try model.freeze(.upTo("layer2")).frozenPaths == [
        "encoder.conv1", "encoder.bn1", "encoder.relu", "encoder.maxpool", "encoder.layer1",
        "encoder.layer2",
      ])
    #expect(try model.freeze(.none).trainableParameters == model.parameterCount)
    #expect(throws: TransferError.self) { try model.freeze(.upTo("layer9")) }
  }
}
