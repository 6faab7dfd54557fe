import ArgumentParser
import Foundation
import Zoo

struct List: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "List the architectures of the zoo.",
    discussion:
      "Size is the float32 parameters in MB (2^20 bytes), as Keras Applications' table; GMACs are multiply-accumulates of one forward pass at the default input, in billions; Follows names whose definition (layers and parameter names) the architecture matches."
  )

  @Argument(help: "Only names matching this pattern, e.g. 'resnet*'.")
  var pattern = "*"

  @Flag(help: "Print JSON for scripts.")
  var json = false

  func run() throws {
    let entries = ModelRegistry.entries(matching: pattern)
    guard !entries.isEmpty else {
      throw ValidationError(
        "no model matches '\(pattern)'; known models: \(ModelRegistry.names.joined(separator: ", "))"
      )
    }
    if json {
      print(try JSONListing(entries).encoded())
    } else {
      print(Summary.registryTable(entries), terminator: "")
    }
  }
}

/// The registry as `zoo list --json` prints it.
struct JSONListing: Encodable {
  struct Model: Encodable {
    let name: String
    let family: String
    let task: String
    let paper: String
    let inputShape: [Int]
    let classes: Int
    let sizeInMegabytes: Double
    let parameters: Int
    let gigaMultiplyAccumulates: Double
    let depth: Int
    let follows: String
  }

  let models: [Model]

  init(_ entries: [ModelEntry]) {
    models = entries.map {
      Model(
        name: $0.name, family: $0.family, task: $0.task.rawValue, paper: $0.paper,
        inputShape: $0.inputShape,
        classes: $0.defaultClassCount, sizeInMegabytes: $0.sizeInMegabytes,
        parameters: $0.parameterCount, gigaMultiplyAccumulates: $0.gigaMultiplyAccumulates,
        depth: $0.depth, follows: $0.definition.rawValue)
    }
  }

  func encoded() throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    return String(decoding: try encoder.encode(self), as: UTF8.self)
  }
}
