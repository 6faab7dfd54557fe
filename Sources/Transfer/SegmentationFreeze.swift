import Zoo
import ZooNN

extension SegmentationModel {
  /// Applies `policy` from scratch: `encoder` (or `backbone`) freezes everything under the
  /// encoder, `prefixes` the paths given, `none` nothing; `upTo` names a stage of the encoder
  /// (`upto:layer2` freezes the stem, layer1 and layer2). Frozen batch norms run in inference
  /// mode through `enterFrozenEncoderTrainingMode`.
  @discardableResult
  public func freeze(_ policy: FreezePolicy) throws -> FreezeReport {
    let frozen: [String]
    switch policy {
    case .none: frozen = []
    case .encoder, .backbone: frozen = [encoderPath]
    case .prefixes(let paths): frozen = paths
    case .upTo(let stage):
      guard let encoder = child(at: encoderPath) else {
        throw TransferError.unknownStage(stage, known: [])
      }
      let names = encoder.children.map(\.name)
      guard let index = names.firstIndex(of: stage) else {
        throw TransferError.unknownStage(stage, known: names.map { "\(encoderPath).\($0)" })
      }
      frozen = names[...index].map { "\(encoderPath).\($0)" }
    }
    setTrainable(true)
    for prefix in frozen { setTrainable(false, prefix: prefix) }
    return FreezeReport(
      policy: policy, frozenPaths: frozen, trainableParameters: trainableParameterCount,
      totalParameters: parameterCount)
  }

  /// Training mode for everything that trains; modules whose parameters are all frozen (a
  /// frozen encoder's batch norms) stay in inference mode and keep their running statistics.
  public func enterFrozenEncoderTrainingMode() {
    setTraining(true)
    for (_, module) in namedModules() where !module.namedParameters().isEmpty {
      if module.namedParameters().allSatisfy({ !$0.tensor.requiresGrad }) {
        module.setTraining(false)
      }
    }
  }
}
