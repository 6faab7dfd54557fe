import Foundation
import Testing
import Zoo
import ZooTensor

/// Faults in a run lose nothing: a diverged run stops with one line and keeps its last good
/// checkpoint, and a write that fails for lack of space (a file-size limit stands in for a full
/// disk) leaves the file that was there and no temporary file.
@Suite struct TrainingFaultTests {
  static let iris =
    repositoryRoot.appendingPathComponent("Tests/ZooCommandTests/Fixtures/iris.csv").path

  static func train(lr: String, out: URL, fileSizeLimit: Int? = nil) throws -> ZooProcess.Result {
    try ZooProcess.run(
      [
        "train", "mlp", "--data", "csv:\(iris),label=species", "--epochs", "4", "--optimizer",
        "sgd", "--lr", lr, "--out", out.path,
      ], fileSizeLimit: fileSizeLimit)
  }

  /// The error line: the last line of standard error (progress lines come before it).
  static func errorLine(_ result: ZooProcess.Result) -> String {
    String(result.stderr.split(separator: "\n").last ?? "")
  }

  @Test func divergedRunKeepsTheLastGoodCheckpoint() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let out = folder.appendingPathComponent("run.h5")
    let checkpoint = folder.appendingPathComponent("run.checkpoint.json")
    // With this rate (and seed 0) epoch 1 ends with finite weights and epoch 2's loss is NaN.
    let result = try Self.train(lr: "1e3", out: out)
    #expect(result.status == 1)
    let line = Self.errorLine(result)
    #expect(line.hasPrefix("Error: training diverged: the loss became "), "\(line)")
    #expect(line.contains("at epoch 2, step "), "\(line)")
    #expect(line.hasSuffix("; the last good checkpoint stays at \(checkpoint.path)"), "\(line)")
    let saved = try TrainingCheckpoint.read(contentsOf: checkpoint)
    #expect(saved.completedEpochs == 1)
    #expect(saved.modelState.allSatisfy { $0.values.allSatisfy(\.isFinite) })
    #expect(!FileManager.default.fileExists(atPath: out.path))
    #expect(
      try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted() == [
        "run.checkpoint.json", "run.curves.png", "run.log.csv",
      ])
  }

  /// Epoch 1's last step overflows the weights while its training loss is still finite: the
  /// held-out loss catches it before anything is written.
  @Test func divergenceInTheFirstEpochWritesNothing() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let result = try Self.train(lr: "1e5", out: folder.appendingPathComponent("run.h5"))
    #expect(result.status == 1)
    let line = Self.errorLine(result)
    #expect(line.hasPrefix("Error: training diverged: "), "\(line)")
    #expect(
      line.hasSuffix(
        "after epoch 1; lower the learning rate or check the data; no checkpoint was written"),
      "\(line)")
    #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).isEmpty)
  }

  @Test func fullDiskKeepsThePreviousWeightFile() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let out = folder.appendingPathComponent("model.h5")
    let first = try ZooProcess.run(["export", "lenet5", "--out", out.path])
    #expect(first.status == 0, "\(first.stderr)")
    let before = try Data(contentsOf: out)
    let full = try ZooProcess.run(
      ["export", "resnet18", "--out", out.path], fileSizeLimit: 1 << 20)
    #expect(full.status == 1)
    #expect(
      full.stderr.hasPrefix("Error: could not write \(out.path): ")
        && full.stderr.contains("File too large")
        && full.stderr.split(separator: "\n").count == 1, "\(full.stderr)")
    #expect(try Data(contentsOf: out) == before)
    #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["model.h5"])
  }

  /// A sanitizer's runtime maps files at start-up and dies of SIGBUS under a 4 KB limit, before
  /// any of the zoo runs (`prlimit --fsize=4096` on a TSan-built `zoo list` does the same).
  @Test(.disabled(if: SanitizerHooks.isActive, "a sanitizer cannot start under a 4 KB file limit"))
  func fullDiskDuringTrainingIsOneLineAndLeavesNoTemporaryFile() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let result = try Self.train(
      lr: "0.1", out: folder.appendingPathComponent("run.h5"), fileSizeLimit: 4096)
    #expect(result.status == 1)
    let line = Self.errorLine(result)
    #expect(
      line.hasPrefix("Error: \(folder.path)/run.") && line.contains("File too large"), "\(line)")
    let left = try FileManager.default.contentsOfDirectory(atPath: folder.path)
    #expect(!left.contains { $0.hasSuffix(".tmp") }, "\(left)")
  }
}
