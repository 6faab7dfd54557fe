import Foundation
import Testing

/// Weight files on which Debian 12's libhdf5 1.10.8 itself crashes or asks for gigabytes
/// (Tools/fuzz-known): the command reads them in a child process first, so each ends in one
/// error line naming the file instead of a crash.
@Suite struct WeightFileCheckTests {
  static let crashers = [
    "libhdf5-cache-destroy-bad-free", "libhdf5-global-heap-read-segv",
    "libhdf5-metadata-cache-segv", "libhdf5-object-header-21gb-malloc",
  ]

  @Test(arguments: crashers) func damagedFileGivesOneLine(_ name: String) throws {
    let file = repositoryRoot.appendingPathComponent("Tools/fuzz-known/weights/\(name).h5")
    for arguments in [["info", file.path], ["predict", file.path, file.path]] {
      let result = try ZooProcess.run(arguments)
      #expect(!result.signalled)
      #expect(result.status == 1, "\(arguments): \(result.stdout)")
      let lines = result.stderr.split(separator: "\n")
      #expect(lines.count == 1, "\(arguments): \(result.stderr)")
      #expect(lines.first?.hasPrefix("Error: ") == true, "\(result.stderr)")
      // The crash becomes "... is a damaged HDF5 file: the HDF5 library crashed reading it";
      // under the thread sanitizer, whose allocator survives the bad free, the reader's own
      // error about the same file comes first.
      #expect(lines.first?.contains("\(name).h5") == true, "\(result.stderr)")
    }
  }

  /// A whole file passes the check and loads as before.
  @Test func shippedFileLoads() throws {
    let file = repositoryRoot.appendingPathComponent("zoo/lenet5.h5")
    let result = try ZooProcess.run(["info", file.path])
    #expect(result.status == 0, "\(result.stderr)")
    #expect(result.stdout.contains("Checksums: fletcher32 on every dataset, all verified"))
  }
}
