import Foundation
import Testing
import ZooData

/// Writes IDX files (optionally gzipped with the system's gzip) into a fresh folder.
struct IDXFiles {
  let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
    "idx-\(UUID().uuidString)")

  init() throws {
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
  }

  func write(_ name: String, _ bytes: [UInt8]) throws -> URL {
    let url = folder.appendingPathComponent(name)
    try Data(bytes).write(to: url)
    return url
  }

  static func header(_ dimensions: [Int]) -> [UInt8] {
    [0, 0, 8, UInt8(dimensions.count)]
      + dimensions.flatMap { d in (0..<4).map { UInt8(truncatingIfNeeded: d >> (24 - 8 * $0)) } }
  }
}

@Suite struct IDXTests {
  @Test func readsImagesAndLabels() throws {
    let files = try IDXFiles()
    let images = try files.write("images", IDXFiles.header([2, 2, 3]) + Array(0..<12))
    let labels = try files.write("labels", IDXFiles.header([2]) + [7, 1])
    let set = try LabeledImages.readIDX(images: images, labels: labels)
    #expect(set.count == 2)
    #expect((set.height, set.width, set.channels) == (2, 3, 1))
    #expect(set.labels == [7, 1])
    #expect(Array(set.pixels[6..<12]) == [6, 7, 8, 9, 10, 11])
  }

  @Test func rejectsWrongMagic() throws {
    let files = try IDXFiles()
    let url = try files.write("bad", [0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 1])
    #expect(throws: IDXError.wrongMagic(path: url.path, found: [0x89, 0x50, 0x4e, 0x47])) {
      try IDX.read(contentsOf: url)
    }
  }

  @Test func rejectsTruncatedPayload() throws {
    let files = try IDXFiles()
    let url = try files.write("short", IDXFiles.header([3, 2, 2]) + Array(0..<10))
    #expect(throws: IDXError.truncated(path: url.path, expectedBytes: 16 + 12, actualBytes: 26)) {
      try IDX.read(contentsOf: url)
    }
  }

  @Test func rejectsTruncatedHeaderAndEmptyFile() throws {
    let files = try IDXFiles()
    let header = try files.write("header", [0, 0, 8, 3, 0, 0])
    #expect(throws: IDXError.truncated(path: header.path, expectedBytes: 16, actualBytes: 6)) {
      try IDX.read(contentsOf: header)
    }
    let empty = try files.write("empty", [])
    #expect(throws: IDXError.wrongMagic(path: empty.path, found: [])) {
      try IDX.read(contentsOf: empty)
    }
  }

  @Test func rejectsCountMismatch() throws {
    let files = try IDXFiles()
    let images = try files.write("images", IDXFiles.header([2, 1, 1]) + [1, 2])
    let labels = try files.write("labels", IDXFiles.header([3]) + [0, 1, 2])
    #expect(
      throws: IDXError.countMismatch(
        images: images.path, imageCount: 2, labels: labels.path, labelCount: 3)
    ) {
      try LabeledImages.readIDX(images: images, labels: labels)
    }
  }

  /// Images of 0x0 pixels ended the process in the resize that follows; no images at all
  /// ended in a validation split of nothing.
  @Test(arguments: [[3, 0, 0], [3, 28, 0], [0, 28, 28]])
  func rejectsImagesWithoutPixels(_ dimensions: [Int]) throws {
    let files = try IDXFiles()
    let images = try files.write("images", IDXFiles.header(dimensions))
    let count = dimensions[0]
    let labels = try files.write("labels", IDXFiles.header([count]) + (0..<count).map { UInt8($0) })
    #expect(
      throws: IDXError.noPixels(
        path: images.path, count: count, rows: dimensions[1], columns: dimensions[2])
    ) {
      try LabeledImages.readIDX(images: images, labels: labels)
    }
  }

  @Test func rejectsOneClassAndLabelsPastTheClassNames() throws {
    let files = try IDXFiles()
    let images = try files.write("images", IDXFiles.header([3, 1, 1]) + [1, 2, 3])
    let same = try files.write("same", IDXFiles.header([3]) + [4, 4, 4])
    #expect(throws: IDXError.oneClass(path: same.path, label: 4)) {
      try LabeledImages.readIDX(images: images, labels: same)
    }
    let labels = try files.write("labels", IDXFiles.header([3]) + [0, 1, 2])
    #expect(throws: IDXError.labelOutOfRange(path: labels.path, label: 2, classCount: 2)) {
      try LabeledImages.readIDX(images: images, labels: labels, classNames: ["a", "b"])
    }
  }

  @Test func rejectsUnsupportedElementType() throws {
    let files = try IDXFiles()
    let url = try files.write("floats", [0, 0, 0x0D, 1, 0, 0, 0, 1, 0, 0, 0, 0])
    #expect(throws: IDXError.unsupportedType(path: url.path, typeCode: 0x0D)) {
      try IDX.read(contentsOf: url)
    }
  }

  @Test func reportsAMissingFile() {
    let url = URL(fileURLWithPath: "/nonexistent/train-images-idx3-ubyte.gz")
    #expect(throws: IDXError.unreadable(path: url.path, reason: "no such readable file")) {
      try IDX.read(contentsOf: url)
    }
  }

  @Test func readsGzipAndRejectsATruncatedGzipStream() throws {
    let files = try IDXFiles()
    let plain = try files.write("labels", IDXFiles.header([4]) + [3, 1, 4, 1])
    let gzip = Process()
    gzip.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    gzip.arguments = ["gzip", "-k", plain.path]
    try gzip.run()
    gzip.waitUntilExit()
    let zipped = URL(fileURLWithPath: plain.path + ".gz")
    #expect(try IDX.read(contentsOf: zipped).bytes == [3, 1, 4, 1])
    let whole = try Data(contentsOf: zipped)
    let cut = try files.write("cut.gz", Array(whole.prefix(whole.count - 6)))
    #expect(throws: IDXError.self) { try IDX.read(contentsOf: cut) }
  }

  @Test(.enabled(if: FashionMNIST.isInstalled)) func readsFashionMNISTTestSplit() throws {
    let test = try FashionMNIST.load(.test)
    #expect(test.count == 10_000)
    #expect((test.height, test.width) == (28, 28))
    #expect(Set(test.labels) == Set(0..<10))
    let sandals = test.subset(classes: [5, 6])
    #expect(sandals.classNames == ["Sandal", "Shirt"])
    #expect(sandals.count == 2_000)
  }
}
