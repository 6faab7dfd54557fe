import ArgumentParser
import Foundation
import Zoo

struct List: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "List the architectures of the zoo.",
    discussion:
      "GMACs are multiply-accumulates of one forward pass at the default input, in billions.")

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
    let parameters: Int
    let gigaMultiplyAccumulates: Double
    let depth: Int
  }

  let models: [Model]

  init(_ entries: [ModelEntry]) {
    models = entries.map {
      Model(
        name: $0.name, family: $0.family, task: $0.task.rawValue, paper: $0.paper,
        inputShape: $0.inputShape,
        classes: $0.defaultClassCount, parameters: $0.parameterCount,
        gigaMultiplyAccumulates: $0.gigaMultiplyAccumulates, depth: $0.depth)
    }
  }

  func encoded() throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    return String(decoding: try encoder.encode(self), as: UTF8.self)
  }
}
