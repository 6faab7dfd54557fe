import Foundation
import Testing
import ZooIO
import ZooNN
import ZooTensor

/// Written weight files carry checksums: fletcher32 over every dataset's values, and HDF5 1.8's
/// checksums over the superblock and every object header, which hold the links and attributes.
/// A flipped bit anywhere is an error or changes nothing; it never loads different weights.
@Suite struct ChecksumTests {
  static func written(_ format: WeightFileFormat, in folder: TemporaryFolder) throws -> URL {
    let url = folder.file(format == .keras ? "model.h5" : "model.weights.h5")
    let metadata = WeightFileMetadata(
      architecture: "every-kind", classCount: 3, inputShape: [2, 2, 2],
      classNames: ["cat", "dog", "eel"], normalizationMean: [0.5, 0.25],
      normalizationStd: [0.2, 0.3], modelCard: #"{"data": "none", "seed": 5}"#)
    try WeightFile.write(TestModels.everyKind(), metadata: metadata, format: format, to: url)
    return url
  }

  @Test(arguments: WeightFileFormat.allCases)
  func everyWrittenDatasetHasAChecksum(_ format: WeightFileFormat) throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    let weights = try WeightFile.read(contentsOf: try Self.written(format, in: folder))
    #expect(weights.tensors.count == 11)
    #expect(weights.datasetsWithoutChecksum.isEmpty)
  }

  /// A file written by Keras has no checksums and still loads; the reader says which datasets
  /// it could not verify.
  @Test func filesWithoutChecksumsStillLoad() throws {
    let weights = try WeightFile.read(
      contentsOf: KerasInteropTests.fixtures.appendingPathComponent("vgg16_narrow.h5"))
    #expect(weights.datasetsWithoutChecksum.count == weights.tensors.count)
    #expect(weights.datasetsWithoutChecksum.contains("/fc1/fc1/kernel"))
  }

  @Test func aFlippedBitInAKernelNamesItsDataset() throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    let url = try Self.written(.keras, in: folder)
    var bytes = try Data(contentsOf: url)
    // The kernel's values are stored as written, in Keras's (in, out) order, so its first
    // values locate it in the file.
    let kernel = TestModels.everyKind().stateDict().first { $0.path == "fc.weight" }!.tensor
    let values = kernel.scalars  // (out 3, in 80), row-major
    let first = [values[0], values[80], values[160], values[1]]
    let start = try #require(first.withUnsafeBytes { bytes.range(of: Data($0)) })
    bytes[start.lowerBound + 9] ^= 0x04
    try bytes.write(to: url)
    #expect(throws: WeightFileError.checksumMismatch(file: url.path, dataset: "/fc/fc/kernel:0")) {
      try WeightFile.read(contentsOf: url)
    }
  }

  /// Flips one bit in every `stride`th byte of the file in turn, the bit cycling with the
  /// offset: each copy must fail with a `WeightFileError` or read exactly the original tensors
  /// and metadata (a flip in unused space).
  @Test(arguments: WeightFileFormat.allCases)
  func noFlippedBitLoadsOtherWeights(_ format: WeightFileFormat) throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    let url = try Self.written(format, in: folder)
    let original = try Data(contentsOf: url)
    let expected = try WeightFile.read(contentsOf: url)
    let damaged = folder.file("damaged.h5")
    var errors = 0
    var unchanged = 0
    var silentlyDifferent: [Int] = []
    for offset in stride(from: 0, to: original.count, by: 3) {
      var bytes = original
      bytes[offset] ^= UInt8(1 << (offset % 8))
      try bytes.write(to: damaged)
      do {
        let read = try WeightFile.read(contentsOf: damaged)
        let same =
          read.metadata == expected.metadata && read.paths == expected.paths
          && read.layers == expected.layers
          && expected.tensors.allSatisfy { path, tensor in
            read.tensors[path].map { identical($0, tensor) } ?? false
          }
        if same { unchanged += 1 } else { silentlyDifferent.append(offset) }
      } catch is WeightFileError {
        errors += 1
      }
    }
    #expect(
      silentlyDifferent.isEmpty, "flips at \(silentlyDifferent.prefix(20)) loaded other values")
    #expect(errors > 100, "\(errors) errors, \(unchanged) unchanged")
    print("\(format): \(errors) flips were errors, \(unchanged) changed nothing")
  }
}
