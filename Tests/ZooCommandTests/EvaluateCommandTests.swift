import Foundation
import Testing
import Zoo
import ZooData

@Suite struct EvaluateCommandTests {
  /// The shipped LeNet-5 on the whole Fashion-MNIST test split gives the accuracy its card
  /// records, a table with every class name, a confusion matrix that adds up, and a PNG.
  @Test(.enabled(if: FashionMNIST.isInstalled))
  func shippedLeNetOnTheTestSplit() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let model = repositoryRoot.appendingPathComponent("zoo/lenet5.h5").path
    let result = try ZooProcess.run(
      ["evaluate", model, "--data", "fashion-mnist", "--out-dir", folder.path])
    #expect(result.status == 0, "\(result.stderr)")
    let lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(
      String.init)
    let shipped = try #require(
      ModelRegistry.entry(named: "lenet5").weights.first { $0.file == "lenet5.h5" })
    let accuracy = String(format: "accuracy %.2f%%", 100 * shipped.testAccuracy)
    #expect(lines.contains { $0.hasPrefix(accuracy) }, "\(result.stdout)")
    for name in FashionMNIST.classNames {
      #expect(lines.contains { $0.trimmingCharacters(in: .whitespaces).hasPrefix(name + " ") })
    }
    // Rows of the text matrix: the class number, then ten counts that add up to 1,000 each.
    let header = try #require(lines.firstIndex { $0.hasPrefix("true\\pred") })
    let rows = lines[(header + 1)...(header + 10)].map {
      $0.split(separator: " ").compactMap { Int($0) }
    }
    #expect(rows.allSatisfy { $0.count == 11 && $0.dropFirst().reduce(0, +) == 1_000 })
    let correct = rows.enumerated().reduce(0) { $0 + $1.element[$1.offset + 1] }
    #expect(abs(Float(correct) / 10_000 - shipped.testAccuracy) < 1e-6)
    #expect(result.stdout.contains("most confused:"))
    let png = folder.appendingPathComponent("lenet5.confusion.png")
    let image = try ImageCodec.decode(contentsOf: png)
    #expect(image.width > 500 && image.height > 500)
  }

  @Test(.enabled(if: FashionMNIST.isInstalled))
  func dataWithOtherClassesIsOneClearError() throws {
    let model = repositoryRoot.appendingPathComponent("zoo/lenet5.h5").path
    let result = try ZooProcess.run(["evaluate", model, "--data", "fashion-mnist:0-4"])
    #expect(result.status != 0)
    let errorLines = result.stderr.split(separator: "\n")
    #expect(errorLines.count == 1, "\(result.stderr)")
    #expect(
      result.stderr.hasPrefix(
        "Error: fashion-mnist:0-4 has 5 classes (T-shirt/top, Trouser, Pullover, Dress, Coat), the model predicts 10"
      ), "\(result.stderr)")
  }

  @Test func missingModelFileIsOneClearError() throws {
    let result = try ZooProcess.run(["evaluate", "no-such-model.h5", "--data", "fashion-mnist"])
    #expect(result.status != 0)
    #expect(
      result.stderr.hasPrefix("Error: no shipped weights or file named 'no-such-model.h5'"),
      "\(result.stderr)")
  }
}
