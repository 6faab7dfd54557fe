import Foundation
import Testing
import ZooIO
import ZooNN
import ZooTensor

/// Writing goes to a temporary file in the same folder, renamed into place only when
/// complete: a failed export leaves no file under the final name, keeps any file that was
/// there, and leaves no temporary file behind.
struct AtomicWriteTests {
  /// A model that fails midway: its first layer is written, then its second layer's name
  /// (70 000 bytes) cannot be stored.
  static func failingModel() -> Module {
    let rng = RandomStream(seed: 1)
    return NamedSequence([
      ("conv1", Conv2d(1, 2, kernelSize: 3, rng: rng)),
      (String(repeating: "x", count: 70_000), Linear(2, 2, rng: rng)),
    ])
  }

  @Test func failedExportLeavesNoFile() throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    let url = folder.file("model.h5")
    let error = try #require(throws: WeightFileError.self) {
      try WeightFile.write(Self.failingModel(), to: url)
    }
    print("failed export: \(error.localizedDescription.prefix(200))")
    #expect(try folder.contents() == [])
  }

  @Test func failedExportKeepsThePreviousFile() throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    let url = folder.file("model.h5")
    try WeightFile.write(TestModels.everyKind(), to: url)
    let before = try Data(contentsOf: url)
    #expect(throws: WeightFileError.self) { try WeightFile.write(Self.failingModel(), to: url) }
    #expect(try Data(contentsOf: url) == before)
    #expect(try folder.contents() == ["model.h5"])
  }

  @Test func failedRenameLeavesNoTemporaryFile() throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    // A non-empty folder under the final name: everything is written, then rename(2) fails.
    let url = folder.file("model.h5")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: false)
    try Data("keep".utf8).write(to: url.appendingPathComponent("inside"))
    let error = try #require(throws: WeightFileError.self) {
      try WeightFile.write(TestModels.everyKind(), to: url)
    }
    guard case .writeFailed(let file, let detail) = error else {
      Issue.record("expected writeFailed, got \(error)")
      return
    }
    #expect(file == url.path && detail == "Is a directory", "\(detail)")
    #expect(try folder.contents() == ["model.h5"])
  }

  @Test func unsupportedLayerFailsBeforeWriting() throws {
    final class Scale: Module {
      override init() {
        super.init()
        register(parameter: "factor", Tensor(shape: [1], repeating: 2))
      }
    }
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    let model = NamedSequence([("conv", Conv2d(1, 1, kernelSize: 1)), ("scale", Scale())])
    #expect(throws: WeightFileError.unsupportedLayer(path: "scale", type: "Scale")) {
      try WeightFile.write(model, to: folder.file("model.h5"))
    }
    #expect(try folder.contents() == [])
  }

  @Test func missingFolderIsAWriteError() throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    let url = folder.file("absent/model.h5")
    let error = try #require(throws: WeightFileError.self) {
      try WeightFile.write(TestModels.everyKind(), to: url)
    }
    guard case .writeFailed(let file, _) = error else {
      Issue.record("expected writeFailed, got \(error)")
      return
    }
    #expect(file == url.path)
  }

  @Test func successfulExportReplacesTheFile() throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    let url = folder.file("model.h5")
    try WeightFile.write(TestModels.everyKind(classCount: 3), to: url)
    try WeightFile.write(TestModels.everyKind(classCount: 7), to: url)
    #expect(try WeightFile.read(contentsOf: url).tensors["fc.bias"]?.shape == [7])
    #expect(try folder.contents() == ["model.h5"])
  }
}
