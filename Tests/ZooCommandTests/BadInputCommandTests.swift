import Foundation
import Testing
import ZooData

/// Bad data given to `zoo train` ends the run with one line naming the file (and row and
/// column for tables) and a non-zero exit, never a crash. The library errors themselves are
/// tested in ZooDataTests; this is the path through the command line.
@Suite struct BadInputCommandTests {
  /// Runs `zoo train ARCH --data DATA` and returns its only error line.
  func trainError(_ data: String, architecture: String = "lenet5") throws -> String {
    let result = try ZooProcess.run(["train", architecture, "--data", data, "--epochs", "1"])
    #expect(result.status == 1, "\(result.stdout)")
    let lines = result.stderr.split(separator: "\n")
    #expect(lines.count == 1, "\(result.stderr)")
    return String(lines.first ?? "")
  }

  func png(_ value: UInt8) throws -> Data {
    Data(
      try ImageCodec.encodePNG(
        DecodedImage(width: 4, height: 4, channels: 1, pixels: Array(repeating: value, count: 16))))
  }

  @Test func emptyFolder() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    #expect(
      try trainError("folder:\(folder.path)")
        == "Error: \(folder.path): the folder is empty; expected one sub-folder of images per class"
    )
  }

  @Test func oneClassOnly() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    try FileManager.default.createDirectory(
      at: folder.appendingPathComponent("cat"), withIntermediateDirectories: true)
    try png(10).write(to: folder.appendingPathComponent("cat/1.png"))
    #expect(
      try trainError("folder:\(folder.path)")
        == "Error: \(folder.path): needs at least two classes, found 'cat' only")
  }

  @Test func unreadableImage() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    for (name, count) in [("cat", 3), ("dog", 3)] {
      try FileManager.default.createDirectory(
        at: folder.appendingPathComponent(name), withIntermediateDirectories: true)
      for index in 0..<count {
        try png(UInt8(40 * index)).write(to: folder.appendingPathComponent("\(name)/\(index).png"))
      }
    }
    let broken = folder.appendingPathComponent("dog/broken.png")
    try png(0).prefix(30).write(to: broken)
    let line = try trainError("folder:\(folder.path)")
    #expect(line.hasPrefix("Error: \(broken.path): "), "\(line)")
    // --skip-corrupt lists it and trains on the rest.
    let skipped = try ZooProcess.run([
      "train", "lenet5", "--data", "folder:\(folder.path)", "--epochs", "1", "--skip-corrupt",
      "--val-split", "0.34",
    ])
    #expect(skipped.status == 0, "\(skipped.stderr)")
    #expect(skipped.stdout.contains(broken.path), "\(skipped.stdout)")
  }

  /// One unreadable image given to predict: its own line, no count after it.
  @Test func predictOneBrokenImage() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let broken = folder.appendingPathComponent("broken.png")
    try png(0).prefix(30).write(to: broken)
    let model = repositoryRoot.appendingPathComponent("zoo/lenet5.h5")
    let result = try ZooProcess.run(["predict", model.path, broken.path])
    #expect(result.status == 1)
    #expect(result.stderr == "Error: \(broken.path): image data ends early (truncated file)\n")
  }

  /// A weight file's errors mostly name a tensor inside it; the line also names the file.
  @Test func weightFileForAnotherArchitecture() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let file = folder.appendingPathComponent("lenet5.h5").path
    #expect(try ZooProcess.run(["export", "lenet5", "--out", file]).status == 0)
    let result = try ZooProcess.run(
      ["import", file, "--arch", "resnet20", "--out", folder.appendingPathComponent("r.h5").path])
    #expect(result.status == 1)
    let lines = result.stderr.split(separator: "\n")
    #expect(lines.count == 1, "\(result.stderr)")
    #expect(
      lines.first?.hasPrefix("Error: \(file): strict loading needs the same tensors") == true,
      "\(result.stderr)")
  }

  @Test func csvWithoutTheLabelColumn() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let csv = folder.appendingPathComponent("t.csv")
    try "a,b,kind\n1,2,x\n3,4,y\n".write(to: csv, atomically: true, encoding: .utf8)
    #expect(
      try trainError("csv:\(csv.path),label=species", architecture: "mlp")
        == "Error: \(csv.path): no label column 'species'; the columns are 'a', 'b', 'kind'")
  }

  @Test func csvWithATextCell() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let csv = folder.appendingPathComponent("t.csv")
    try "a,b,kind\n1,2,x\n3,four,y\n5,6,x\n".write(to: csv, atomically: true, encoding: .utf8)
    #expect(
      try trainError("csv:\(csv.path)", architecture: "mlp")
        == "Error: \(csv.path): row 3, column 'b': 'four' is not a number")
  }

  /// Too few rows to hold out a validation split: the line names the data.
  @Test func csvTooSmallToSplit() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let csv = folder.appendingPathComponent("t.csv")
    try "a,kind\n1,x\n2,y\n".write(to: csv, atomically: true, encoding: .utf8)
    #expect(
      try trainError("csv:\(csv.path)", architecture: "mlp")
        == "Error: csv:\(csv.path): a validation fraction of 0.1 of 2 examples leaves no"
        + " validation examples; raise the fraction or provide a val/ folder")
  }

  @Test func idxCountMismatch() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    func header(_ magic: UInt32, _ dimensions: [UInt32]) -> Data {
      var data = Data()
      for value in [magic] + dimensions {
        withUnsafeBytes(of: value.bigEndian) { data.append(contentsOf: $0) }
      }
      return data
    }
    let images = folder.appendingPathComponent("images")
    let labels = folder.appendingPathComponent("labels")
    try (header(0x803, [5, 28, 28]) + Data(count: 5 * 784)).write(to: images)
    try (header(0x801, [4]) + Data([0, 1, 0, 1])).write(to: labels)
    #expect(
      try trainError("idx:\(images.path),\(labels.path)")
        == "Error: \(images.path) has 5 images but \(labels.path) has 4 labels")
  }
}
