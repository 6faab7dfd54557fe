import Foundation
import ZooNN
import ZooTensor

/// One architecture of the zoo: how to build it and what it expects.
public struct ModelEntry: Sendable {
  public let name: String
  public let family: String
  public let paper: String
  /// Default input (channels, height, width).
  public let inputShape: [Int]
  public let defaultClassCount: Int
  let builder:
    @Sendable (_ classCount: Int, _ inputChannels: Int, _ rng: RandomStream) -> Classifier

  /// A freshly initialised model.
  public func build(classCount: Int? = nil, inputChannels: Int? = nil, rng: RandomStream = .global)
    -> Classifier
  {
    builder(classCount ?? defaultClassCount, inputChannels ?? inputShape[0], rng)
  }
}

public enum RegistryError: Error, Equatable, LocalizedError {
  case unknownModel(String, known: [String])

  public var errorDescription: String? {
    switch self {
    case .unknownModel(let name, let known):
      return "no model named '\(name)'; known models: \(known.joined(separator: ", "))"
    }
  }
}

/// Every architecture the zoo ships, by name.
public enum ModelRegistry {
  public static let entries: [ModelEntry] = [
    ModelEntry(
      name: "lenet5", family: "lenet", paper: "LeCun et al. 1998", inputShape: [1, 28, 28],
      defaultClassCount: 10
    ) { classes, channels, rng in LeNet5(classCount: classes, inputChannels: channels, rng: rng) }
  ]

  public static var names: [String] { entries.map(\.name).sorted() }

  public static func entry(named name: String) throws -> ModelEntry {
    guard let entry = entries.first(where: { $0.name == name }) else {
      throw RegistryError.unknownModel(name, known: names)
    }
    return entry
  }
}
