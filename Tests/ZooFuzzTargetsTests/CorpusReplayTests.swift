import Foundation
import Testing
import ZooFuzzTargets

/// Every committed fuzz input, seed or past finding, runs through its target again: a crash or
/// a sanitizer report fails the test run.
@Suite struct CorpusReplayTests {
  static let tools = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Tools")

  /// The inputs of `target` under `folder` of Tools/ (fuzz-corpus, fuzz-regressions).
  static func inputs(_ folder: String, _ target: FuzzTarget) throws -> [URL] {
    let url = tools.appendingPathComponent(folder).appendingPathComponent(target.rawValue)
    guard FileManager.default.fileExists(atPath: url.path) else { return [] }
    return try FileManager.default.contentsOfDirectory(at: url, includingPropertiesForKeys: nil)
      .sorted { $0.lastPathComponent < $1.lastPathComponent }
  }

  @Test(arguments: FuzzTarget.allCases)
  func seedsReplay(_ target: FuzzTarget) throws {
    let seeds = try Self.inputs("fuzz-corpus", target)
    #expect(seeds.count >= 5, "the seed corpus of \(target) has \(seeds.count) files")
    var accepted = 0
    for seed in seeds {
      if (try? target.run(Array(Data(contentsOf: seed)))) != nil { accepted += 1 }
    }
    // The corpus holds valid files, not only broken ones: some must read.
    #expect(accepted > 0, "no seed of \(target) reads")
  }

  @Test(arguments: FuzzTarget.allCases)
  func findingsReplay(_ target: FuzzTarget) throws {
    for input in try Self.inputs("fuzz-regressions", target) {
      _ = try? target.run(Array(Data(contentsOf: input)))
    }
  }
}
