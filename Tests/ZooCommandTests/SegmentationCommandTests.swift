import Foundation
import Testing
import Zoo
import ZooData
import ZooIO
import ZooTensor

/// `zoo evaluate` and `zoo predict` on a segmentation model: a randomly initialised unet-tiny
/// written with the metadata `zoo train --task segment` writes, and a small mask folder of
/// 32x32 grey discs, both made here.
@Suite struct SegmentationCommandTests {
  static let size = 32

  /// A seeded unet-tiny for one-channel 32x32 images with two classes.
  static func writeModel(in folder: URL) throws -> URL {
    let url = folder.appendingPathComponent("tiny.h5")
    let model = try ModelRegistry.entry(named: "unet-tiny").build(
      classCount: 2, inputChannels: 1, rng: RandomStream(seed: 3))
    let metadata = WeightFileMetadata(
      architecture: "unet-tiny", classCount: 2, inputShape: [1, size, size],
      classNames: ["background", "foreground"], normalizationMean: [0.4],
      normalizationStd: [0.25])
    try WeightFile.write(model, metadata: metadata, to: url)
    return url
  }

  /// A grey image of `side` x `side` with a bright disc, and its mask (`classes` of the disc
  /// and of a bright square in the corner: 255 for a binary mask, else 1 and 2).
  static func scene(_ index: Int, side: Int = size, binary: Bool = true) -> (
    image: DecodedImage, mask: DecodedImage
  ) {
    var pixels: [UInt8] = []
    var mask: [UInt8] = []
    let (cx, cy, r) = (8 + 3 * index % 16, 10 + 5 * index % 12, 5 + index % 4)
    for y in 0..<side {
      for x in 0..<side {
        let inside = (x - cx) * (x - cx) + (y - cy) * (y - cy) <= r * r
        let corner = !binary && x >= side - 6 && y >= side - 6
        pixels.append(
          inside || corner ? UInt8(180 + (x * 7 + y * 3) % 60) : UInt8(40 + (x * 5 + y * 11) % 50))
        mask.append(inside ? (binary ? 255 : 1) : corner ? 2 : 0)
      }
    }
    return (
      DecodedImage(width: side, height: side, channels: 1, pixels: pixels),
      DecodedImage(width: side, height: side, channels: 1, pixels: mask)
    )
  }

  static func writePNG(_ image: DecodedImage, to url: URL) throws {
    try FileManager.default.createDirectory(
      at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
    try Data(ImageCodec.encodePNG(image)).write(to: url)
  }

  /// `root/train` with two scenes and `root/val` with four, as a mask folder.
  static func writeFolder(_ root: URL, binary: Bool = true) throws {
    for (split, indices) in [("train", 0..<2), ("val", 2..<6)] {
      for i in indices {
        let (image, mask) = scene(i, binary: binary)
        let name = String(format: "s%02d.png", i)
        try writePNG(image, to: root.appendingPathComponent("\(split)/images/\(name)"))
        try writePNG(mask, to: root.appendingPathComponent("\(split)/masks/\(name)"))
      }
    }
  }

  /// The numbers in `line` after each of `labels`, in order.
  static func numbers(in line: String, after labels: [String]) throws -> [Double] {
    try labels.map { label in
      let range = try #require(line.range(of: label + " "), "no '\(label)' in '\(line)'")
      let text = line[range.upperBound...].prefix { $0.isNumber || $0 == "." }
      return try #require(Double(text), "no number after '\(label)' in '\(line)'")
    }
  }

  /// The printed scores and confusion matrix are the library's on the same held-out set, the
  /// matrix is drawn, and --out-dir gets the first --strips strips.
  @Test func evaluatePrintsTheLibrarysScores() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let model = try Self.writeModel(in: folder)
    let data = folder.appendingPathComponent("data")
    try Self.writeFolder(data)
    let out = folder.appendingPathComponent("out")
    let result = try ZooProcess.run(
      [
        "evaluate", model.path, "--data", "folder:\(data.path)", "--out-dir", out.path,
        "--strips", "2",
      ])
    #expect(result.status == 0, "\(result.stderr)")

    let segmenter = try TrainedSegmenter(contentsOf: model)
    let set = try SegmentationSource(parsing: "folder:\(data.path)").load(channels: 1).heldOut
    #expect(set.count == 4)
    let scores = try segmenter.evaluate(set).scores
    // A model that predicts one class everywhere would make the comparison weak.
    let rows = scores.confusionRows
    try #require(rows[0][1] + rows[1][1] > 0 && rows[0][0] + rows[1][0] > 0, "\(rows)")

    let lines = result.stdout.split(separator: "\n").map(String.init)
    let summary = try #require(lines.first { $0.hasPrefix("pixel accuracy ") }, "\(result.stdout)")
    let printed = try Self.numbers(
      in: summary, after: ["pixel accuracy", "mean IoU", "mean Dice", "foreground IoU"])
    let expected = [
      100 * scores.pixelAccuracy, scores.meanIoU, scores.meanDice, scores.foregroundIoU,
    ]
    // Printed with two decimals (a percentage), then four.
    for (value, truth, step) in zip3(printed, expected, [0.01, 0.0001, 0.0001, 0.0001]) {
      #expect(abs(value - truth) <= step / 2 + 1e-9, "\(summary)")
    }
    for (c, name) in segmenter.classNames.enumerated() {
      let line = try #require(
        lines.first { $0.trimmingCharacters(in: .whitespaces).hasPrefix(name + " ") },
        "\(result.stdout)")
      let (iou, dice) = try Self.numbers(in: line, after: ["IoU", "Dice"]).pair
      #expect(abs(iou - scores.perClassIoU[c]!) <= 0.5e-4 + 1e-9, "\(line)")
      #expect(abs(dice - scores.perClassDice[c]!) <= 0.5e-4 + 1e-9, "\(line)")
    }
    let header = try #require(lines.firstIndex { $0.hasPrefix("true\\pred") })
    let printedRows = lines[(header + 1)...(header + 2)].map {
      Array($0.split(separator: " ").compactMap { Int($0) }.dropFirst())
    }
    #expect(printedRows == rows)
    #expect(rows.joined().reduce(0, +) == 4 * Self.size * Self.size)

    let chart = try ImageCodec.decode(contentsOf: out.appendingPathComponent("tiny.confusion.png"))
    #expect(chart.width > 100 && chart.height > 100)
    for i in 0..<2 {
      let strip = try ImageCodec.decode(
        contentsOf: out.appendingPathComponent(String(format: "tiny.strip-%04d.png", i)))
      #expect(strip.width > 3 * 4 * Self.size && strip.height > 4 * Self.size)
    }
    #expect(
      !FileManager.default.fileExists(
        atPath: out.appendingPathComponent("tiny.strip-0002.png").path))
  }

  @Test func evaluateOnDataWithOtherClassesIsOneClearError() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let model = try Self.writeModel(in: folder)
    let data = folder.appendingPathComponent("data")
    try Self.writeFolder(data, binary: false)
    let result = try ZooProcess.run(["evaluate", model.path, "--data", "folder:\(data.path)"])
    #expect(result.status != 0)
    #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
    #expect(
      result.stderr.hasPrefix(
        "Error: \(data.path)/train/masks: a mask holds class 2 but the classes are 0-1 (background, foreground)"
      ), "\(result.stderr)")

    // The built-in scenes have eleven classes.
    guard FashionMNIST.isInstalled else { return }
    let scenes = try ZooProcess.run(["evaluate", model.path, "--data", "scenes"])
    #expect(scenes.status != 0)
    #expect(
      scenes.stderr
        == "Error: scenes has 11 classes (background, T-shirt/top, Trouser, Pullover, Dress, Coat, Sandal, Shirt, Sneaker, Bag, Ankle boot), the model predicts 2 (background, foreground)\n",
      "\(scenes.stderr)")
  }

  /// Masks written by predict read back through `MaskFolder` as the library's predicted
  /// classes, pixel for pixel; overlays are the mask's size times --overlay-scale; an image of
  /// a size the U-Net cannot take is named with both sizes while the others are segmented.
  @Test func predictWritesMasksThatReadBackAsTheLibrarysPrediction() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let model = try Self.writeModel(in: folder)
    let inputs = folder.appendingPathComponent("inputs")
    // 32x32 as trained, 48x48 (another multiple of 16), and 40x40, which unet-tiny cannot take.
    let images = [("a", Self.scene(1).image), ("b", Self.scene(2, side: 48).image)]
    for (name, image) in images {
      try Self.writePNG(image, to: inputs.appendingPathComponent("\(name).png"))
    }
    let bad = inputs.appendingPathComponent("c.png")
    try Self.writePNG(Self.scene(3, side: 40).image, to: bad)
    let out = folder.appendingPathComponent("masks")
    let result = try ZooProcess.run(
      ["predict", model.path]
        + ["a", "c", "b"].map { inputs.appendingPathComponent("\($0).png").path }
        + ["--out-dir", out.path, "--overlay-scale", "3"])
    #expect(result.status == 1)
    #expect(
      result.stderr.contains(
        "Error: \(bad.path) is 40x40 but unet-tiny (trained on 32x32) takes sides that are multiples of 16; pad or crop it to 48x48"
      ), "\(result.stderr)")
    #expect(!FileManager.default.fileExists(atPath: out.appendingPathComponent("c.png").path))

    let segmenter = try TrainedSegmenter(contentsOf: model)
    let lines = result.stdout.split(separator: "\n").map(String.init)
    for (name, image) in images {
      let expected = try segmenter.segment(image, name: name).mask
      let maskURL = out.appendingPathComponent("\(name).png")
      let written = try ImageCodec.decode(contentsOf: maskURL)
      #expect(written.channels == 1 && written.width == image.width)
      #expect(Set(written.pixels).isSubset(of: [0, 255]))
      // Read back as a mask folder holds it.
      let readBack = folder.appendingPathComponent("readback-\(name)")
      try Self.writePNG(image, to: readBack.appendingPathComponent("images/\(name).png"))
      try FileManager.default.createDirectory(
        at: readBack.appendingPathComponent("masks"), withIntermediateDirectories: true)
      try FileManager.default.copyItem(
        at: maskURL, to: readBack.appendingPathComponent("masks/\(name).png"))
      let set = try MaskFolder.read(
        readBack, channels: 1, classNames: segmenter.classNames)
      #expect(set.mask(0) == expected, "\(name): the written mask differs from segment()")

      let overlay = try ImageCodec.decode(
        contentsOf: out.appendingPathComponent("\(name).overlay.png"))
      #expect(overlay.width == 3 * image.width && overlay.height == 3 * image.height)

      // The printed class shares.
      let start = try #require(
        lines.firstIndex { $0.hasPrefix(inputs.appendingPathComponent("\(name).png").path) },
        "\(result.stdout)")
      let foreground = expected.filter { $0 == 1 }.count
      let share = String(format: "%.2f%%", 100 * Double(foreground) / Double(expected.count))
      #expect(
        foreground == 0
          || lines[(start + 1)...].prefix(2).contains { $0.hasSuffix("\(share)  foreground") },
        "\(result.stdout)")
    }

    // One image to one named mask.
    let single = folder.appendingPathComponent("single/mask.png")
    try FileManager.default.createDirectory(
      at: single.deletingLastPathComponent(), withIntermediateDirectories: true)
    let one = try ZooProcess.run(
      ["predict", model.path, inputs.appendingPathComponent("a.png").path, "--out", single.path])
    #expect(one.status == 0, "\(one.stderr)")
    #expect(
      try ImageCodec.decode(contentsOf: single).pixels
        == ImageCodec.decode(contentsOf: out.appendingPathComponent("a.png")).pixels)
    let singleOverlay = try ImageCodec.decode(
      contentsOf: folder.appendingPathComponent("single/mask.overlay.png"))
    #expect(singleOverlay.width == 4 * Self.size)
  }
}

extension Array {
  fileprivate var pair: (Element, Element) { (self[0], self[1]) }
}

private func zip3<A, B, C>(_ a: [A], _ b: [B], _ c: [C]) -> [(A, B, C)] {
  zip(a, zip(b, c)).map { ($0, $1.0, $1.1) }
}
