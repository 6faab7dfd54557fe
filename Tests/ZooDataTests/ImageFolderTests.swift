import Foundation
import Testing
import ZooData

@Suite struct ImageFolderTests {
  let shape = ImageShape(channels: 3, height: 4, width: 4)

  /// Two classes with every kind of file the reader handles: grey, RGB and RGBA PNGs, a 16-bit
  /// PNG, grey and colour JPEGs, of different sizes; plus a text file to ignore.
  func mixedFolder() throws -> TestFolder {
    let folder = try TestFolder()
    try folder.write("cat/grey.png", ImageCodec.encodePNG(solidImage(width: 5, height: 7, [90])))
    try folder.write(
      "cat/rgb.PNG", ImageCodec.encodePNG(solidImage(width: 8, height: 4, [200, 100, 0])))
    try folder.write(
      "cat/nested/rgba.png", ImageCodec.encodePNG(solidImage(width: 4, height: 4, [10, 20, 30, 0]))
    )
    try folder.write(
      "dog/deep.png",
      sixteenBitPNG(
        width: 6, height: 6, channels: 1, values: Array(repeating: 32_896, count: 36)))
    try folder.write(
      "dog/grey.jpg", ImageCodec.encodeJPEG(solidImage(width: 9, height: 5, [128]), quality: 100))
    try folder.write(
      "dog/colour.jpeg",
      ImageCodec.encodeJPEG(solidImage(width: 16, height: 16, [0, 0, 255]), quality: 100))
    try folder.write("dog/notes.txt", text: "not an image")
    try folder.write("dog/.hidden.png", text: "hidden files are not read")
    return folder
  }

  @Test func readsEveryFormatIntoTheModelShape() throws {
    let folder = try mixedFolder()
    var report = FolderLoadReport()
    let images = try ImageFolder.read(folder.url, shape: shape, report: &report)
    #expect(images.classNames == ["cat", "dog"])
    #expect(images.labels == [0, 0, 0, 1, 1, 1])
    #expect((images.channels, images.height, images.width) == (3, 4, 4))
    #expect(report.ignoredFiles == [folder.path("dog/notes.txt")])
    #expect(report.skippedImages.isEmpty)
    func pixel(_ n: Int, _ c: Int) -> UInt8 { images.pixels[n * 48 + c * 16 + 5] }
    // Files in path order: cat/grey.png, cat/nested/rgba.png, cat/rgb.PNG, dog/colour.jpeg,
    // dog/deep.png, dog/grey.jpg.
    #expect((0..<3).map { pixel(0, $0) } == [90, 90, 90])
    #expect((0..<3).map { pixel(1, $0) } == [10, 20, 30])  // alpha dropped
    #expect((0..<3).map { pixel(2, $0) } == [200, 100, 0])
    #expect(abs(Int(pixel(3, 2)) - 255) <= 2 && pixel(3, 0) <= 2)
    #expect((0..<3).map { pixel(4, $0) } == [128, 128, 128])  // 32896 / 257
    #expect(abs(Int(pixel(5, 1)) - 128) <= 1)
  }

  @Test func greyModelsGetLuma() throws {
    let folder = try mixedFolder()
    var report = FolderLoadReport()
    let grey = try ImageFolder.read(
      folder.url, shape: ImageShape(channels: 1, height: 3, width: 3), report: &report)
    #expect(grey.channels == 1)
    // (19595 * 200 + 38470 * 100 + 7471 * 0 + 32768) >> 16 = 118.
    #expect(grey.pixels[2 * 9] == 118)
  }

  @Test func corruptImagesAreSkippedOrFailTheLoad() throws {
    let folder = try mixedFolder()
    let bad = try folder.write(
      "cat/broken.png",
      Array(
        try ImageCodec.encodePNG(
          solidImage(width: 20, height: 20, [1, 2, 3])
        ).prefix(40)))
    try folder.write("dog/garbage.jpg", [0xFF, 0xD8, 0xFF, 0xFF, 0x00, 0x01, 0x02])
    var report = FolderLoadReport()
    let images = try ImageFolder.read(folder.url, shape: shape, policy: .skip, report: &report)
    #expect(images.count == 6)
    #expect(report.skippedImages.map(\.path) == [bad.path, folder.path("dog/garbage.jpg")])
    #expect(report.lines.first == "skipped 2 unreadable image(s):")
    #expect(report.lines[1].hasPrefix("  \(bad.path): "))

    var strictReport = FolderLoadReport()
    let error = #expect(throws: ImageError.self) {
      try ImageFolder.read(folder.url, shape: shape, policy: .fail, report: &strictReport)
    }
    #expect(error?.path == bad.path)
  }

  @Test func folderErrorsSayWhatIsWrong() throws {
    let folder = try TestFolder()
    var report = FolderLoadReport()
    func read(_ path: String) throws {
      _ = try ImageFolder.read(
        folder.url.appendingPathComponent(path), shape: shape, report: &report)
    }
    try folder.makeFolder("empty")
    #expect(throws: ImageFolderError.emptyFolder(path: folder.path("empty"))) {
      try read("empty")
    }
    #expect(throws: ImageFolderError.notAFolder(path: folder.path("missing"))) {
      try read("missing")
    }
    try folder.write("loose/a.png", ImageCodec.encodePNG(solidImage(width: 2, height: 2, [1])))
    #expect(throws: ImageFolderError.noClassFolders(path: folder.path("loose"))) {
      try read("loose")
    }
    try folder.write("one/cat/a.png", ImageCodec.encodePNG(solidImage(width: 2, height: 2, [1])))
    #expect(throws: ImageFolderError.oneClass(path: folder.path("one"), className: "cat")) {
      try read("one")
    }
    #expect(
      ImageFolderError.oneClass(path: "pets", className: "cat").localizedDescription
        == "pets: needs at least two classes, found 'cat' only")
    try folder.write("text/cat/a.txt", text: "")
    try folder.write("text/dog/b.gif", text: "")
    #expect(throws: ImageFolderError.noImages(path: folder.path("text"), classCount: 2)) {
      try read("text")
    }
    try folder.write("half/cat/a.png", ImageCodec.encodePNG(solidImage(width: 2, height: 2, [1])))
    try folder.makeFolder("half/dog")
    #expect(
      throws: ImageFolderError.classWithoutImages(path: folder.path("half"), className: "dog")
    ) {
      try read("half")
    }
  }

  @Test func validationClassesMustBeTrainingClasses() throws {
    let folder = try TestFolder()
    try folder.write("val/cow/a.png", ImageCodec.encodePNG(solidImage(width: 2, height: 2, [1])))
    var report = FolderLoadReport()
    #expect(
      throws: ImageFolderError.unknownClass(
        path: folder.path("val"), className: "cow", trainingClasses: ["cat", "dog"])
    ) {
      try ImageFolder.read(
        folder.url.appendingPathComponent("val"), shape: shape, classNames: ["cat", "dog"],
        report: &report)
    }
  }
}
