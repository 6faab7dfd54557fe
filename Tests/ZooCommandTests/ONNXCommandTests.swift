import Foundation
import Testing
import ZooIO

/// `zoo export --format onnx` and `zoo import FILE.onnx` from the command line.
@Suite struct ONNXCommandTests {
  static let lenet = repositoryRoot.appendingPathComponent("zoo/lenet5.h5")

  /// A shipped weight file goes out as ONNX and comes back with the same tensors, class names
  /// and normalisation.
  @Test func aWeightFileRoundTripsThroughONNX() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let onnx = folder.appendingPathComponent("lenet5.onnx").path
    let exported = try ZooProcess.run(
      ["export", Self.lenet.path, "--format", "onnx", "--out", onnx, "--test-data", "data"],
      in: folder)
    #expect(exported.status == 0, "\(exported.stderr)")
    #expect(exported.stdout.contains("input N x 1x28x28"), "\(exported.stdout)")
    for file in ["data/input_0.pb", "data/output_0.pb"] {
      #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent(file).path))
    }
    let back = folder.appendingPathComponent("back.h5")
    let imported = try ZooProcess.run(
      ["import", onnx, "--arch", "lenet5", "--out", back.path], in: folder)
    #expect(imported.status == 0, "\(imported.stderr)")
    let original = try WeightFile.read(contentsOf: Self.lenet)
    let copy = try WeightFile.read(contentsOf: back)
    #expect(copy.tensors.keys.sorted() == original.tensors.keys.sorted())
    for (path, tensor) in original.tensors {
      #expect(copy.tensors[path]?.scalars == tensor.scalars, "\(path)")
    }
    #expect(copy.metadata.classNames == original.metadata.classNames)
    #expect(copy.metadata.normalizationMean == original.metadata.normalizationMean)
  }

  /// Strict import into another architecture: one line naming the first tensor that differs.
  @Test func importIntoAnotherArchitectureNamesTheTensor() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let onnx = folder.appendingPathComponent("lenet5.onnx").path
    let exported = try ZooProcess.run(
      ["export", Self.lenet.path, "--format", "onnx", "--out", onnx], in: folder)
    #expect(exported.status == 0, "\(exported.stderr)")
    let result = try ZooProcess.run(
      ["import", onnx, "--arch", "vgg-lite", "--out", "x.h5"], in: folder)
    #expect(result.status == 1)
    let lines = result.stderr.split(separator: "\n")
    #expect(lines.count == 1, "\(result.stderr)")
    #expect(lines.first?.hasPrefix("Error: \(onnx): ") == true, "\(result.stderr)")
    #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("x.h5").path))
  }
}
