import Foundation
import Testing
import ZooIO

/// `mlp` on real tables (scikit-learn's Iris and Wine, Tools/make_table_fixtures.py): trained
/// from the command line with standard scaling fitted on the training split, it reaches a
/// sensible validation accuracy, and `zoo evaluate` on the saved file (which carries the
/// scaling) measures the same.
@Suite(.serialized) struct TableTrainingTests {
  static func fixture(_ name: String) -> String {
    repositoryRoot.appendingPathComponent("Tests/ZooCommandTests/Fixtures/\(name).csv").path
  }

  /// The validation accuracy of the last epoch as `zoo train` prints it.
  static func lastAccuracy(_ stdout: String) throws -> Double {
    let line = try #require(stdout.split(separator: "\n").last { $0.hasPrefix("epoch ") })
    let text = try #require(line.split(separator: " ").last).dropLast()  // "96.30%"
    return try #require(Double(text)) / 100
  }

  @Test(arguments: [("iris", 0.9), ("wine", 0.9)])
  func mlpLearnsARealTable(_ name: String, _ minimum: Double) throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let out = folder.appendingPathComponent("\(name).h5")
    let data = "csv:\(Self.fixture(name))"
    let trained = try ZooProcess.run([
      "train", "mlp", "--data", data, "--val-split", "0.3", "--epochs", "60", "--batch-size", "16",
      "--optimizer", "adam", "--lr", "0.01", "--seed", "1", "--out", out.path,
    ])
    #expect(trained.status == 0, "\(trained.stderr)")
    let accuracy = try Self.lastAccuracy(trained.stdout)
    print("\(name): validation accuracy \(accuracy)")
    #expect(accuracy >= minimum, "\(trained.stdout)")

    let weights = try WeightFile.read(contentsOf: out)
    let featureCount = name == "iris" ? 4 : 13
    #expect(weights.metadata.inputShape == [featureCount])
    #expect(weights.metadata.normalizationMean?.count == featureCount)

    let evaluated = try ZooProcess.run(["evaluate", out.path, "--data", data, "--val-split", "0.3"])
    #expect(evaluated.status == 0, "\(evaluated.stderr)")
    #expect(
      evaluated.stdout.contains(String(format: "accuracy %.2f%%", 100 * accuracy)),
      "\(evaluated.stdout)")
  }

  @Test func imageModelOnATableIsOneClearError() throws {
    let result = try ZooProcess.run(["train", "lenet5", "--data", "csv:\(Self.fixture("iris"))"])
    #expect(result.status == 1)
    #expect(
      result.stderr
        == "Error: lenet5 takes images; csv:\(Self.fixture("iris")) holds table rows (train mlp on tables)\n",
      "\(result.stderr)")
  }
}
