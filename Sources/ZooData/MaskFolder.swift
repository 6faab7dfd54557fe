import Foundation

// Segmentation data on disk: `images/` (JPEG or PNG) beside `masks/` (PNG label images), a
// mask per image with the same file stem (`images/a.jpg` pairs with `masks/a.png`). A mask is
// single-channel: either one class number per pixel (0 = background), or 0/255 for a binary
// mask, which reads as classes 0 and 1. Images are not resized: each must have its mask's
// size, and all must share one size.

public enum MaskFolder {
  /// Reads `root/images` and `root/masks`, images converted to `channels` (1 or 3).
  /// `classNames` fixes the classes (a validation split takes the training ones); without,
  /// the classes are 0...largest class found, named "background", "class 1", ... (or
  /// "background", "foreground" for 0/255 masks).
  public static func read(_ root: URL, channels: Int, classNames: [String]? = nil) throws
    -> SegmentationSet
  {
    let imageFolder = root.appendingPathComponent("images")
    let maskFolder = root.appendingPathComponent("masks")
    for folder in [imageFolder, maskFolder] where !isDirectory(folder) {
      throw ImageFolderError.notAFolder(path: folder.path)
    }
    let images = try files(in: imageFolder, extensions: ImageFolder.extensions)
    let masks = try files(in: maskFolder, extensions: ["png"])
    guard !images.isEmpty else { throw ImageFolderError.emptyFolder(path: imageFolder.path) }
    let maskByStem = Dictionary(
      masks.map { ($0.deletingPathExtension().lastPathComponent, $0) },
      uniquingKeysWith: { a, _ in a })
    let imageStems = Set(images.map { $0.deletingPathExtension().lastPathComponent })
    if let stray = masks.first(where: {
      !imageStems.contains($0.deletingPathExtension().lastPathComponent)
    }) {
      throw SegmentationDataError.unpaired(
        path: stray.path, expected: "image in \(imageFolder.path)")
    }

    var pixels: [UInt8] = []
    var labels: [UInt8] = []
    var size: (width: Int, height: Int, path: String)?
    var binaryValues = true
    for imageURL in images {
      let stem = imageURL.deletingPathExtension().lastPathComponent
      guard let maskURL = maskByStem[stem] else {
        throw SegmentationDataError.unpaired(
          path: imageURL.path, expected: "mask \(maskFolder.path)/\(stem).png")
      }
      let image = ImageTransforms.convert(
        try ImageCodec.decode(contentsOf: imageURL), toChannels: channels)
      let mask = try ImageCodec.decode(contentsOf: maskURL)
      guard mask.channels == 1 else {
        throw SegmentationDataError.invalidMask(
          path: maskURL.path,
          reason:
            "a mask must be a single-channel label image, this one has \(mask.channels) channels")
      }
      guard mask.width == image.width, mask.height == image.height else {
        throw SegmentationDataError.maskSizeMismatch(
          image: imageURL.path, mask: maskURL.path, imageSize: "\(image.width)x\(image.height)",
          maskSize: "\(mask.width)x\(mask.height)")
      }
      if let size, size.width != image.width || size.height != image.height {
        throw SegmentationDataError.invalid(
          "\(imageURL.path) is \(image.width)x\(image.height) but \(size.path) is \(size.width)x\(size.height); all images of a segmentation folder must share one size"
        )
      }
      size = size ?? (image.width, image.height, imageURL.path)
      binaryValues = binaryValues && mask.pixels.allSatisfy { $0 == 0 || $0 == 255 }
      pixels += ImageTransforms.planar(image)
      labels += mask.pixels
    }
    if binaryValues && labels.contains(255) {
      if let classNames, classNames.count != 2 {
        throw SegmentationDataError.invalid(
          "\(maskFolder.path): the masks are 0/255 binary masks but \(classNames.count) classes are expected (\(classNames.joined(separator: ", ")))"
        )
      }
      labels = labels.map { $0 == 0 ? 0 : 1 }
    }
    let largest = Int(labels.max() ?? 0)
    let names =
      classNames
      ?? (binaryValues
        ? ["background", "foreground"]
        : ["background"] + (1...max(largest, 1)).map { "class \($0)" })
    guard largest < names.count else {
      throw SegmentationDataError.invalid(
        "\(maskFolder.path): a mask holds class \(largest) but the classes are 0-\(names.count - 1) (\(names.joined(separator: ", ")))"
      )
    }
    return try SegmentationSet(
      channels: channels, height: size!.height, width: size!.width, pixels: pixels, masks: labels,
      classNames: names)
  }

  /// `mask` (one class per pixel, row by row) as the PNG a mask folder holds: 0/255 for two
  /// classes, as binary masks are drawn, else one class number per pixel; `read` takes either
  /// back as the same classes.
  public static func encodePNG(_ mask: [Int], width: Int, height: Int, classCount: Int) throws
    -> [UInt8]
  {
    precondition(classCount <= 256, "a PNG mask holds at most 256 classes, not \(classCount)")
    let pixels = mask.map { UInt8(classCount == 2 ? $0 * 255 : $0) }
    return try ImageCodec.encodePNG(
      DecodedImage(width: width, height: height, channels: 1, pixels: pixels))
  }

  private static func files(in folder: URL, extensions: Set<String>) throws -> [URL] {
    let entries: [URL]
    do {
      entries = try FileManager.default.contentsOfDirectory(
        at: folder, includingPropertiesForKeys: nil, options: [.skipsHiddenFiles])
    } catch {
      throw ImageFolderError.unreadableFolder(path: folder.path, reason: error.localizedDescription)
    }
    return entries.filter { extensions.contains($0.pathExtension.lowercased()) }
      .sorted { $0.path < $1.path }
  }

  private static func isDirectory(_ url: URL) -> Bool {
    var isDirectory: ObjCBool = false
    return FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory)
      && isDirectory.boolValue
  }
}
