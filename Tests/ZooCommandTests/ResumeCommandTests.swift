import Foundation
import Testing
import ZooData
import ZooIO

/// A training run stopped by SIGKILL after a checkpoint, or by Ctrl-C in the middle of an
/// epoch, and then resumed, ends with the same weights, bit for bit, as a run never stopped.
/// The run uses dropout, batch norm, momentum, a cosine schedule and random augmentation, so
/// every piece of state a checkpoint holds matters.
@Suite(.serialized) struct ResumeCommandTests {
  static let epochs = 3

  /// 600 Fashion-MNIST training images as an IDX pair; the run takes 20 per class.
  static func writeData(in folder: URL) throws -> String {
    let images = try FashionMNIST.load(.train).prefix(600)
    func header(_ magic: UInt32, _ dimensions: [Int]) -> Data {
      var data = Data()
      for value in [magic] + dimensions.map(UInt32.init) {
        withUnsafeBytes(of: value.bigEndian) { data.append(contentsOf: $0) }
      }
      return data
    }
    let imageURL = folder.appendingPathComponent("images-idx3-ubyte")
    let labelURL = folder.appendingPathComponent("labels-idx1-ubyte")
    try (header(0x803, [600, 28, 28]) + Data(images.pixels)).write(to: imageURL)
    try (header(0x801, [600]) + Data(images.labels.map(UInt8.init))).write(to: labelURL)
    return "idx:\(imageURL.path),\(labelURL.path)"
  }

  static func arguments(data: String, out: URL) -> [String] {
    [
      "train", "vgg-lite", "--data", data, "--val-split", "0.2", "--shots", "20",
      "--augment", "padcropflip", "--epochs", "\(epochs)", "--batch-size", "16", "--lr", "0.02",
      "--seed", "7", "--out", out.path,
    ]
  }

  static func waitFor(
    _ what: String, timeout: TimeInterval = 300, _ condition: () -> Bool
  ) {
    let deadline = Date().addingTimeInterval(timeout * ZooProcess.timeScale)
    while !condition() && Date() < deadline { usleep(5_000) }
    #expect(condition(), "gave up waiting for \(what)")
  }

  static func expectSameWeights(_ a: URL, _ b: URL) throws {
    let first = try WeightFile.read(contentsOf: a).tensors
    let second = try WeightFile.read(contentsOf: b).tensors
    #expect(first.keys.sorted() == second.keys.sorted())
    var differing: [String] = []
    for (path, tensor) in first {
      let other = try #require(second[path])
      if tensor.scalars.map(\.bitPattern) != other.scalars.map(\.bitPattern) {
        differing.append(path)
      }
    }
    #expect(differing.isEmpty, "tensors that differ: \(differing.sorted())")
    #expect(first.count > 10)
  }

  @Test(.enabled(if: FashionMNIST.isInstalled))
  func resumedRunsEndWithTheSameWeights() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let data = try Self.writeData(in: folder)
    func url(_ name: String) -> URL { folder.appendingPathComponent(name) }

    let reference = try ZooProcess.run(Self.arguments(data: data, out: url("reference.h5")))
    #expect(reference.status == 0, "\(reference.stderr)")

    // SIGKILL as soon as the first checkpoint is in place.
    let killedArguments = Self.arguments(data: data, out: url("killed.h5"))
    let killed = try ZooProcess(killedArguments)
    Self.waitFor("the first checkpoint") {
      FileManager.default.fileExists(atPath: url("killed.checkpoint.json").path)
    }
    kill(killed.process.processIdentifier, SIGKILL)
    let killedResult = killed.wait()
    #expect(killedResult.signalled && killedResult.status == SIGKILL)
    #expect(!FileManager.default.fileExists(atPath: url("killed.h5").path))
    let resumed = try ZooProcess.run(killedArguments + ["--resume"])
    #expect(resumed.status == 0, "\(resumed.stderr)")
    #expect(resumed.stdout.contains("resuming at epoch"), "\(resumed.stdout)")
    try Self.expectSameWeights(url("reference.h5"), url("killed.h5"))

    // Ctrl-C in the middle of the second epoch.
    let interruptedArguments = Self.arguments(data: data, out: url("interrupted.h5"))
    let interrupted = try ZooProcess(interruptedArguments)
    // Progress lines go to standard error, a tenth of an epoch apart.
    Self.waitFor("progress in epoch 2") {
      interrupted.stderrSoFar.contains("epoch 2/\(Self.epochs) step")
    }
    kill(interrupted.process.processIdentifier, SIGINT)
    let stopped = interrupted.wait()
    #expect(!stopped.signalled && stopped.status == 130, "\(stopped.stdout)\n\(stopped.stderr)")
    #expect(stopped.stdout.contains("interrupted at epoch 2, step"), "\(stopped.stdout)")
    let resumeLine = try #require(
      stopped.stdout.split(separator: "\n").first { $0.hasPrefix("resume with: zoo train") })
    #expect(resumeLine.hasSuffix(" --resume"))
    let log = try String(contentsOf: url("interrupted.log.csv"), encoding: .utf8)
    #expect(log.split(separator: "\n").count == 2, "\(log)")  // header and epoch 1
    #expect(FileManager.default.fileExists(atPath: url("interrupted.curves.png").path))
    let changed = try ZooProcess.run(
      interruptedArguments.map { $0 == "0.02" ? "0.03" : $0 } + ["--resume"])
    #expect(changed.status == 1)
    #expect(
      changed.stderr.hasPrefix(
        "Error: \(url("interrupted.checkpoint.json").path) was written by a run with other settings (lr 0.02 there, 0.03 now)"
      ),
      "\(changed.stderr)")
    let finished = try ZooProcess.run(interruptedArguments + ["--resume"])
    #expect(finished.status == 0, "\(finished.stderr)")
    try Self.expectSameWeights(url("reference.h5"), url("interrupted.h5"))
    let fullLog = try String(contentsOf: url("interrupted.log.csv"), encoding: .utf8)
    #expect(fullLog.split(separator: "\n").count == Self.epochs + 1)
  }

  @Test func resumeWithOtherSettingsIsOneClearError() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let out = folder.appendingPathComponent("run.h5")
    let missing = try ZooProcess.run(["train", "lenet5", "--out", out.path, "--resume"])
    #expect(missing.status == 1)
    #expect(
      missing.stderr
        == "Error: no checkpoint to resume from at \(folder.path)/run.checkpoint.json; start without --resume\n",
      "\(missing.stderr)")
  }
}
