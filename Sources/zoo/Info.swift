import ArgumentParser
import Foundation
import Zoo
import ZooTensor

struct Info: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Show an architecture layer by layer: output shapes, parameters, cost.")

  @Argument(help: "Architecture name, or a weight file (.h5) to describe.")
  var name: String

  @Option(help: "Input as CxHxW, e.g. 3x64x64 (default: the architecture's).")
  var input: InputShape?

  @Option(help: "Number of classes (default: the architecture's).")
  var classes: Int?

  func validate() throws {
    if let classes, classes < 0 {
      throw ValidationError("--classes must not be negative, got \(classes)")
    }
  }

  func run() throws {
    try reportingErrors {
      if name.hasSuffix(".h5") || FileManager.default.fileExists(atPath: name) {
        let weights = try readWeightFile(name)
        let text = try namingWeightFile(name) {
          try WeightFileSummary.text(URL(fileURLWithPath: name), weights)
        }
        print(text, terminator: "")
        return
      }
      let entry = try ModelRegistry.entry(named: name)
      let shape = input?.dimensions ?? entry.inputShape
      let model = entry.build(
        classCount: classes, inputChannels: shape[0], rng: RandomStream(seed: 0))
      let text = try Summary.modelSummary(
        model, name: entry.name, inputShape: shape, countingState: entry.definition == .keras)
      print(text, terminator: "")
    }
  }
}

/// `CxHxW` on the command line.
struct InputShape: ExpressibleByArgument {
  let dimensions: [Int]

  init?(argument: String) {
    let parts = argument.split(separator: "x").compactMap { Int($0) }
    guard parts.count == 3, parts.allSatisfy({ $0 > 0 }) else { return nil }
    dimensions = parts
  }
}
