import Foundation
import ZooData
import ZooIO

/// The readers of untrusted files, one fuzz target each. `run` only returns or throws: a crash,
/// a sanitizer report or a hang on any input is a bug in the reader.
public enum FuzzTarget: String, CaseIterable, Sendable {
  /// `WeightFile.read(contentsOf:)`: Keras legacy, full-model and Keras 3 layouts.
  case weights
  /// `ImageCodec.decode` on JPEG seeds.
  case jpeg
  /// `ImageCodec.decode` on PNG seeds.
  case png
  /// `IDX.read(contentsOf:)`, plain or gzip-compressed.
  case idx
  /// `LabeledTable.parseCSV`, with the label in the last column and in a column named `label`.
  case csv

  public func run(_ bytes: [UInt8]) throws {
    switch self {
    case .weights:
      _ = try TemporaryInput.withFile(bytes, suffix: ".h5") { try WeightFile.read(contentsOf: $0) }
    case .jpeg, .png:
      _ = try ImageCodec.decode(bytes, path: "input")
    case .idx:
      _ = try TemporaryInput.withFile(bytes, suffix: ".idx") { try IDX.read(contentsOf: $0) }
    case .csv:
      // Both calls run whatever the first one does, so each input reaches both label lookups.
      let lastColumn = Result { try LabeledTable.parseCSV(bytes, path: "input") }
      _ = try LabeledTable.parseCSV(bytes, path: "input", labelColumn: "label")
      _ = try lastColumn.get()
    }
  }
}

/// The readers of weight files and IDX files take a path: the input goes to a file of its own
/// in memory-backed storage when there is some.
enum TemporaryInput {
  static let folder: URL = {
    let shm = URL(fileURLWithPath: "/dev/shm", isDirectory: true)
    return FileManager.default.isWritableFile(atPath: shm.path)
      ? shm : FileManager.default.temporaryDirectory
  }()

  /// Calls `body` with a new file holding `bytes`, removed afterwards. Each call has its own
  /// file, so concurrent tests and parallel fuzzing processes do not meet.
  static func withFile<T>(_ bytes: [UInt8], suffix: String, _ body: (URL) throws -> T) throws -> T {
    let url = folder.appendingPathComponent("zoo-fuzz-\(UUID().uuidString)\(suffix)")
    try Data(bytes).write(to: url)
    defer { try? FileManager.default.removeItem(at: url) }
    return try body(url)
  }
}
