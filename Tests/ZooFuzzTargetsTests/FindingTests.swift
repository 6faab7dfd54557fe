import Foundation
import Testing
import ZooData
import ZooFuzzTargets
import ZooIO

/// Each input that once crashed a reader, or made it allocate without bound, now gets the
/// reader's typed error. The inputs are in Tools/fuzz-regressions/<target>/.
@Suite struct FindingTests {
  static func input(_ target: FuzzTarget, _ name: String) throws -> [UInt8] {
    let url = CorpusReplayTests.tools.appendingPathComponent("fuzz-regressions")
      .appendingPathComponent(target.rawValue).appendingPathComponent(name)
    return Array(try Data(contentsOf: url))
  }

  /// A PNG header declaring 1000000x1000000 RGB made the decoder ask for 3 TB (a trap in
  /// Swift's allocator); 30000x30000 asked for 2.7 GB before libpng found the data missing.
  @Test(arguments: [
    ("declares-1000000x1000000.png", 1_000_000), ("declares-30000x30000.png", 30000),
  ])
  func pngDeclaringTooManyPixelsIsRefused(_ name: String, _ side: Int) throws {
    let bytes = try Self.input(.png, name)
    #expect(throws: ImageError.tooLarge(path: name, width: side, height: side)) {
      try ImageCodec.decode(bytes, path: name)
    }
  }

  /// A JPEG whose frame header declares 65000x65000 made the shim allocate 12.7 GB.
  @Test func jpegDeclaringTooManyPixelsIsRefused() throws {
    let name = "declares-65000x65000.jpg"
    let bytes = try Self.input(.jpeg, name)
    #expect(throws: ImageError.tooLarge(path: name, width: 65000, height: 65000)) {
      try ImageCodec.decode(bytes, path: name)
    }
  }

  /// A damaged object header made libhdf5 ask for 0xcc6e96b9cc6e96b9 bytes. malloc refuses,
  /// libhdf5 reports it, and the reader must turn that into its own error.
  @Test func weightFileWhoseHeaderDeclaresAnAbsurdSizeIsDamaged() throws {
    let name = "cache-entry-size-0xcc6e96b9cc6e96b9.h5"
    let bytes = try Self.input(.weights, name)
    do {
      try FuzzTarget.weights.run(bytes)
      Issue.record("\(name) read as a weight file")
    } catch let error as WeightFileError {
      guard case .damaged = error else {
        Issue.record("\(name): expected a damaged file, got \(error.localizedDescription)")
        return
      }
    }
  }
}
