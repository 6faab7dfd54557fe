import Foundation
import Testing
import ZooData
import ZooTensor

@Suite struct SegmentationDataTests {
  /// A 1-channel 4x6 set of one image whose pixel values are 50 times its mask's classes.
  func tracedSet() throws -> SegmentationSet {
    let mask: [UInt8] = [
      0, 0, 1, 1, 0, 0,
      0, 2, 2, 1, 0, 0,
      0, 2, 0, 0, 0, 3,
      0, 0, 0, 0, 3, 3,
    ]
    return try SegmentationSet(
      channels: 1, height: 4, width: 6, pixels: mask.map { $0 * 50 }, masks: mask,
      classNames: ["background", "a", "b", "c"])
  }

  @Test func aFlippedImagesMaskIsFlipped() throws {
    let batches = SegmentationBatches(
      try tracedSet(), normalization: .none(channels: 1), batchSize: 1,
      augmentation: Augmentation(horizontalFlip: true))
    var flips = 0
    for epoch in 0..<16 {
      let (image, mask) = batches.example(0, key: AugmentationKey(seed: 5, epoch: epoch))
      #expect(image.values == mask.values.map { $0 * 50 })
      if mask.values != batches.examples.mask(0).map(Float.init) {
        flips += 1
        #expect(
          mask
            == FloatImage(
              channels: 1, height: 4, width: 6, values: batches.examples.mask(0).map(Float.init)
            ).flippedHorizontally())
      }
    }
    #expect(flips > 0 && flips < 16, "a fair coin over 16 epochs, got \(flips) flips")
  }

  @Test func masksFollowCropsAndResizedCrops() throws {
    let set = try tracedSet()
    let batches = SegmentationBatches(
      set, normalization: .none(channels: 1), batchSize: 1,
      augmentation: Augmentation(
        resizedCrop: .init(scale: 0.3...0.6), cropPadding: 2, horizontalFlip: true))
    for epoch in 0..<20 {
      let key = AugmentationKey(seed: 9, epoch: epoch)
      let (image, mask) = batches.example(0, key: key)
      // Nearest-neighbour resizing keeps the classes; bilinear blends the image between them.
      #expect(mask.values.allSatisfy { [0, 1, 2, 3].contains($0) })
      #expect(mask.height == 4 && mask.width == 6 && image.height == 4)
      // Without the resize the image is the mask traced exactly.
      var generator = key.generator(forExample: 0)
      var draw = batches.augmentation!.draw(height: 4, width: 6, generator: &generator)
      draw.region = nil
      let plain = FloatImage(channels: 1, height: 4, width: 6, values: set.mask(0).map(Float.init))
      #expect(
        draw.apply(to: plain).values.map { $0 * 50 }
          == draw.apply(toMask: plain).values.map { $0 * 50 })
    }
    let batch = batches.batch([0], augmentation: AugmentationKey(seed: 9, epoch: 0))
    #expect(batch.inputs.shape == [1, 1, 4, 6] && batch.masks.count == 24)
  }

  @Test func nearestResizeTakesThePixelUnderEachCentre() {
    let image = FloatImage(channels: 1, height: 2, width: 2, values: [1, 2, 3, 4])
    #expect(
      image.resizedNearest(height: 4, width: 4).values == [
        1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4,
      ])
    #expect(image.resizedNearest(height: 1, width: 2).values == [3, 4])
  }

  @Test func aMaskOfTheWrongSizeNamesBothSizes() throws {
    let folder = try TestFolder()
    try folder.write("images/a.png", try ImageCodec.encodePNG(solidImage(width: 8, height: 6, [9])))
    try folder.write("masks/a.png", try ImageCodec.encodePNG(solidImage(width: 8, height: 5, [1])))
    #expect(
      throws: SegmentationDataError.maskSizeMismatch(
        image: folder.path("images/a.png"), mask: folder.path("masks/a.png"), imageSize: "8x6",
        maskSize: "8x5")
    ) { try MaskFolder.read(folder.url, channels: 1) }
    let message = SegmentationDataError.maskSizeMismatch(
      image: "i.png", mask: "m.png", imageSize: "8x6", maskSize: "8x5"
    ).errorDescription!
    #expect(message.contains("8x6") && message.contains("8x5"))
  }

  @Test func folderMasksReadAsClassesOrBinary() throws {
    let folder = try TestFolder()
    for (name, value) in [("a", UInt8(0)), ("b", 255)] {
      try folder.write(
        "binary/images/\(name).png",
        try ImageCodec.encodePNG(solidImage(width: 4, height: 4, [7, 8, 9])))
      try folder.write(
        "binary/masks/\(name).png",
        try ImageCodec.encodePNG(solidImage(width: 4, height: 4, [value])))
    }
    let binary = try MaskFolder.read(folder.url.appendingPathComponent("binary"), channels: 3)
    #expect(binary.classNames == ["background", "foreground"])
    #expect(binary.masks == [UInt8](repeating: 0, count: 16) + [UInt8](repeating: 1, count: 16))
    #expect(Array(binary.image(0).prefix(3)) == [7, 7, 7] && binary.channels == 3)

    try folder.write(
      "multi/images/x.png", try ImageCodec.encodePNG(solidImage(width: 2, height: 2, [1])))
    try folder.write(
      "multi/masks/x.png",
      try ImageCodec.encodePNG(
        DecodedImage(width: 2, height: 2, channels: 1, pixels: [0, 3, 1, 0])))
    let multi = try MaskFolder.read(folder.url.appendingPathComponent("multi"), channels: 1)
    #expect(multi.classNames == ["background", "class 1", "class 2", "class 3"])
    #expect(multi.mask(0) == [0, 3, 1, 0])

    // A model's classes: masks may lack the last ones, but not hold more, nor be 0/255.
    let four = ["background", "a", "b", "c", "d"]
    for (name, mask) in [("p", [UInt8]([0, 1, 0, 1])), ("q", [0, 0, 1, 1])] {
      try folder.write(
        "named/images/\(name).png", try ImageCodec.encodePNG(solidImage(width: 2, height: 2, [1])))
      try folder.write(
        "named/masks/\(name).png",
        try ImageCodec.encodePNG(DecodedImage(width: 2, height: 2, channels: 1, pixels: mask)))
    }
    let named = try SegmentationSource.folder(folder.url.appendingPathComponent("named")).load(
      validationFraction: 0.5, classNames: Array(four.prefix(4)))
    #expect(named.train.classCount == 4 && named.heldOut.classNames == Array(four.prefix(4)))
    #expect(
      throws: SegmentationDataError.invalid(
        "\(folder.path("multi/masks")): a mask holds class 3 but the classes are 0-2 (background, a, b)"
      )
    ) {
      try MaskFolder.read(
        folder.url.appendingPathComponent("multi"), channels: 1,
        classNames: ["background", "a", "b"])
    }
    #expect(
      throws: SegmentationDataError.invalid(
        "\(folder.path("binary/masks")): the masks are 0/255 binary masks but 5 classes are expected (background, a, b, c, d)"
      )
    ) {
      try MaskFolder.read(
        folder.url.appendingPathComponent("binary"), channels: 1, classNames: four)
    }

    try folder.write(
      "unpaired/images/y.png", try ImageCodec.encodePNG(solidImage(width: 2, height: 2, [1])))
    try folder.makeFolder("unpaired/masks")
    #expect(throws: SegmentationDataError.self) {
      try MaskFolder.read(folder.url.appendingPathComponent("unpaired"), channels: 1)
    }
  }

  @Test func sourcesParse() throws {
    #expect(try SegmentationSource(parsing: "scenes") == .scenes(binary: false))
    #expect(try SegmentationSource(parsing: "scenes:binary") == .scenes(binary: true))
    #expect(
      try SegmentationSource(parsing: "folder:/data/cells").description == "folder:/data/cells")
    #expect(throws: DataSourceError.self) { try SegmentationSource(parsing: "scenes:colour") }
    #expect(throws: SegmentationDataError.self) { try SegmentationSource(parsing: "fashion-mnist") }
  }

  @Test(.enabled(if: FashionMNIST.isInstalled))
  func scenesAreDeterministicAndTheirMasksMarkGarmentPixels() throws {
    let garments = try FashionMNIST.load(.test)
    let scenes = try FashionScenes.make(.heldOut, garments: garments, count: 6)
    let again = try FashionScenes.make(.heldOut, garments: garments, count: 6)
    #expect(scenes.pixels == again.pixels && scenes.masks == again.masks)
    #expect(scenes.count == 6 && scenes.width == 96 && scenes.classCount == 11)
    let train = try FashionScenes.make(.train, garments: garments, count: 6)
    #expect(train.pixels != scenes.pixels)
    for i in 0..<scenes.count {
      let mask = scenes.mask(i)
      let image = Array(scenes.image(i))
      // Garment pixels are at least the threshold; every scene shows at least one garment.
      #expect(
        zip(mask, image).allSatisfy { $0 == 0 || Float($1) >= FashionScenes.garmentThreshold })
      #expect(mask.contains { $0 != 0 })
      #expect(mask.filter { $0 == 0 }.count > 96 * 96 / 5, "the background stays visible")
    }
    #expect(scenes.binary().masks == scenes.masks.map { $0 == 0 ? 0 : 1 })
  }
}
