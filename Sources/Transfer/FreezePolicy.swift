import Foundation
import Zoo
import ZooNN

/// Which parameters stop training. Frozen parameters get no gradient and no optimiser state,
/// and frozen batch-norm layers use their running statistics.
public enum FreezePolicy: Equatable, Sendable, CustomStringConvertible {
  /// Everything trains.
  case none
  /// Everything but the classifier.
  case backbone
  /// A segmentation model's encoder; for a classifier the same as `backbone`.
  case encoder
  /// Every stage up to and including this path (`layer3`, or `features.10` inside a stage).
  case upTo(String)
  /// Exactly the parameters under these paths.
  case prefixes([String])

  /// Parses `none`, `backbone`, `encoder`, `upto:STAGE` or `prefix:PATH[,PATH...]`.
  public init(parsing text: String) throws {
    let lower = text.lowercased()
    if lower == "none" {
      self = .none
    } else if lower == "backbone" {
      self = .backbone
    } else if lower == "encoder" {
      self = .encoder
    } else if lower.hasPrefix("upto:"), text.count > 5 {
      self = .upTo(String(text.dropFirst(5)))
    } else if lower.hasPrefix("prefix:"), text.count > 7 {
      self = .prefixes(text.dropFirst(7).split(separator: ",").map(String.init))
    } else {
      throw TransferError.unknownFreezePolicy(text)
    }
  }

  /// The text `init(parsing:)` reads back.
  public var description: String {
    switch self {
    case .none: return "none"
    case .backbone: return "backbone"
    case .encoder: return "encoder"
    case .upTo(let stage): return "upto:\(stage)"
    case .prefixes(let paths): return "prefix:" + paths.joined(separator: ",")
    }
  }
}

/// A freeze that cannot be applied.
public enum TransferError: Error, Equatable, LocalizedError {
  /// The text is not one of the policy forms.
  case unknownFreezePolicy(String)
  /// `upTo` names no child; `known` lists those at that level.
  case unknownStage(String, known: [String])
  /// `upTo` would freeze the classifier too.
  case classifierInsideFrozenStage(stage: String, classifier: String)

  public var errorDescription: String? {
    switch self {
    case .unknownFreezePolicy(let text):
      return
        "unknown freeze policy '\(text)'; expected none, backbone, encoder, upto:STAGE or prefix:PATH[,PATH...]"
    case .unknownStage(let stage, let known):
      return "no stage named '\(stage)'; stages here: \(known.joined(separator: ", "))"
    case .classifierInsideFrozenStage(let stage, let classifier):
      return
        "freezing up to '\(stage)' would freeze the classifier '\(classifier)'; choose an earlier stage"
    }
  }
}

/// Trainable against total parameters after a freeze, for the report every command prints.
public struct FreezeReport: Equatable, Sendable, CustomStringConvertible {
  /// The policy applied.
  public var policy: FreezePolicy
  /// Path prefixes that were frozen.
  public var frozenPaths: [String]
  /// Parameters that still train.
  public var trainableParameters: Int
  /// All parameters of the model.
  public var totalParameters: Int

  /// `freeze backbone: 425 of 61,281 parameters trainable (0.69%)`.
  public var description: String {
    let share =
      totalParameters > 0 ? 100 * Double(trainableParameters) / Double(totalParameters) : 0
    return
      "freeze \(policy): \(Summary.grouped(trainableParameters)) of \(Summary.grouped(totalParameters)) parameters trainable (\(String(format: "%.2f", share))%)"
  }
}

extension Classifier {
  /// Applies `policy` from scratch (so freezing is idempotent and `.none` undoes any freeze).
  @discardableResult
  public func freeze(_ policy: FreezePolicy) throws -> FreezeReport {
    let frozen = try frozenPrefixes(policy)
    setTrainable(true)
    for prefix in frozen { setTrainable(false, prefix: prefix) }
    return FreezeReport(
      policy: policy, frozenPaths: frozen, trainableParameters: trainableParameterCount,
      totalParameters: parameterCount)
  }

  /// Top-level children in order: the stages `upto:` names.
  public var stageNames: [String] { children.map(\.name) }

  private func frozenPrefixes(_ policy: FreezePolicy) throws -> [String] {
    switch policy {
    case .none:
      return []
    case .backbone, .encoder:
      return namedParameters().map(\.path).filter { !Module.path($0, isUnder: classifierPath) }
    case .prefixes(let paths):
      return paths
    case .upTo(let stage):
      let prefixes = try Self.prefixes(
        upTo: stage.split(separator: ".").map(String.init), in: self, base: "")
      if prefixes.contains(where: { Module.path(classifierPath, isUnder: $0) }) {
        throw TransferError.classifierInsideFrozenStage(stage: stage, classifier: classifierPath)
      }
      return prefixes
    }
  }

  /// The children before `components[0]` whole, then the same rule one level down.
  private static func prefixes(upTo components: [String], in module: Module, base: String) throws
    -> [String]
  {
    let names = module.children.map(\.name)
    guard let first = components.first, let index = names.firstIndex(of: first) else {
      let known = names.map { base.isEmpty ? $0 : "\(base).\($0)" }
      throw TransferError.unknownStage(
        ([base] + components).filter { !$0.isEmpty }.joined(separator: "."), known: known)
    }
    let path = { (name: String) in base.isEmpty ? name : "\(base).\(name)" }
    let before = names[..<index].map(path)
    if components.count == 1 { return before + [path(first)] }
    return try before
      + prefixes(
        upTo: Array(components.dropFirst()), in: module.children[index].module, base: path(first))
  }
}

extension Classifier {
  /// Training mode for the classifier only: the backbone stays a fixed feature extractor
  /// (inference-mode batch norm and dropout), so its features equal cached ones.
  public func enterHeadOnlyTrainingMode() {
    setTraining(false)
    child(at: classifierPath)?.setTraining(true)
  }
}
