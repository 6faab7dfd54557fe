import Foundation
import ZooTensor

// Image folders as torchvision's `ImageFolder` reads them: one sub-folder per class (classes
// in sorted name order), images anywhere below it. Files ending in .jpg, .jpeg or .png (any
// case) are read; other files are ignored and listed in the load report; hidden files and
// folders (names starting with '.') are not looked at.

/// What to do with an image that cannot be read or decoded.
public enum CorruptImagePolicy: String, Sendable, CaseIterable, Codable {
  /// Stop the load with the image's error.
  case fail
  /// Leave the image out and list it in the load report.
  case skip
}

/// An image left out of a load, and why.
public struct SkippedImage: Sendable, Equatable {
  public var path: String
  public var reason: String
}

/// What loading an image folder left out (unreadable images, files that are not images).
public struct FolderLoadReport: Sendable, Equatable {
  /// Images that could not be decoded, under `CorruptImagePolicy.skip`.
  public var skippedImages: [SkippedImage] = []
  /// Files in class folders that are not JPEG or PNG by their extension.
  public var ignoredFiles: [String] = []

  public init() {}

  /// One line per finding, for the command line; empty when nothing was left out.
  public var lines: [String] {
    var lines: [String] = []
    if !skippedImages.isEmpty {
      lines.append("skipped \(skippedImages.count) unreadable image(s):")
      lines += skippedImages.map { "  \($0.path): \($0.reason)" }
    }
    if !ignoredFiles.isEmpty {
      lines.append("ignored \(ignoredFiles.count) file(s) without a .jpg, .jpeg or .png extension")
    }
    return lines
  }
}

public enum ImageFolderError: Error, Equatable, LocalizedError {
  case notAFolder(path: String)
  case unreadableFolder(path: String, reason: String)
  case emptyFolder(path: String)
  case noClassFolders(path: String)
  case oneClass(path: String, className: String)
  case noImages(path: String, classCount: Int)
  case classWithoutImages(path: String, className: String)
  case unknownClass(path: String, className: String, trainingClasses: [String])

  public var errorDescription: String? {
    switch self {
    case .notAFolder(let path): return "\(path): no such folder"
    case .unreadableFolder(let path, let reason): return "\(path): cannot list folder: \(reason)"
    case .emptyFolder(let path):
      return "\(path): the folder is empty; expected one sub-folder of images per class"
    case .noClassFolders(let path):
      return
        "\(path): no class sub-folders; expected one sub-folder of images per class, e.g. \(path)/cat/1.jpg"
    case .oneClass(let path, let name):
      return "\(path): needs at least two classes, found '\(name)' only"
    case .noImages(let path, let count):
      return
        "\(path): no JPEG or PNG images in its \(count) class folder\(count == 1 ? "" : "s") (only .jpg, .jpeg and .png files are read)"
    case .classWithoutImages(let path, let name):
      return "\(path): class '\(name)' has no readable JPEG or PNG images"
    case .unknownClass(let path, let name, let classes):
      return
        "\(path): class folder '\(name)' is not among the training classes \(classes.map { "'\($0)'" }.joined(separator: ", "))"
    }
  }
}

public enum ImageFolder {
  static let extensions: Set<String> = ["jpg", "jpeg", "png"]

  /// The train and validation folders of a split layout: `train/` with `val/` (or, failing
  /// that, `validation/` or `test/`) beside it. Nil when `root` holds no such pair.
  public static func splitFolders(in root: URL) -> (train: URL, validation: URL, name: String)? {
    let train = root.appendingPathComponent("train")
    guard isDirectory(train) else { return nil }
    for name in ["val", "validation", "test"] {
      let folder = root.appendingPathComponent(name)
      if isDirectory(folder) { return (train, folder, name == "test" ? "test" : "validation") }
    }
    return nil
  }

  /// Reads every image below `root`'s class folders, prepared for `shape` (channels
  /// converted, resized to cover, centre-cropped). With `classNames` (a validation split) the
  /// classes are the training ones: every folder must be one of them, and a class may be
  /// missing; without, every class folder must hold at least one image.
  public static func read(
    _ root: URL, shape: ImageShape, classNames: [String]? = nil,
    policy: CorruptImagePolicy = .fail, alpha: AlphaHandling = .drop,
    report: inout FolderLoadReport
  ) throws -> LabeledImages {
    let path = root.path
    guard isDirectory(root) else { throw ImageFolderError.notAFolder(path: path) }
    let entries = try visibleEntries(of: root)
    guard !entries.isEmpty else { throw ImageFolderError.emptyFolder(path: path) }
    let folders = entries.filter(isDirectory).sorted { $0.lastPathComponent < $1.lastPathComponent }
    guard !folders.isEmpty else { throw ImageFolderError.noClassFolders(path: path) }
    let found = folders.map(\.lastPathComponent)
    if let classNames, let unknown = found.first(where: { !classNames.contains($0) }) {
      throw ImageFolderError.unknownClass(
        path: path, className: unknown, trainingClasses: classNames)
    }
    if classNames == nil && found.count == 1 {
      throw ImageFolderError.oneClass(path: path, className: found[0])
    }
    let names = classNames ?? found

    var files: [(url: URL, label: Int)] = []
    for folder in folders {
      let label = names.firstIndex(of: folder.lastPathComponent)!
      for file in try filesBelow(folder) {
        if extensions.contains(file.pathExtension.lowercased()) {
          files.append((file, label))
        } else {
          report.ignoredFiles.append(file.path)
        }
      }
    }
    guard !files.isEmpty else {
      throw ImageFolderError.noImages(path: path, classCount: folders.count)
    }

    let size = shape.size
    var pixels = [UInt8](repeating: 0, count: files.count * size)
    var failures = [ImageError?](repeating: nil, count: files.count)
    pixels.withUnsafeMutableBufferPointer { out in
      failures.withUnsafeMutableBufferPointer { failures in
        Parallel.forEach(files.count, costPerItem: 1 << 20) { i in
          do {
            let image = try ImageCodec.decode(contentsOf: files[i].url)
            let prepared = ImageTransforms.prepare(image, for: shape, alpha: alpha)
            for j in 0..<size { out[i * size + j] = prepared[j] }
          } catch {
            failures[i] =
              error as? ImageError
              ?? .unreadable(path: files[i].url.path, reason: "\(error)")
          }
        }
      }
    }

    var kept: [Int] = []
    for (i, failure) in failures.enumerated() {
      guard let failure else {
        kept.append(i)
        continue
      }
      if policy == .fail { throw failure }
      report.skippedImages.append(
        SkippedImage(path: files[i].url.path, reason: failure.reason))
    }
    let labels = kept.map { files[$0].label }
    if classNames == nil {
      for (label, name) in names.enumerated() where !labels.contains(label) {
        throw ImageFolderError.classWithoutImages(path: path, className: name)
      }
    } else if kept.isEmpty {
      throw ImageFolderError.noImages(path: path, classCount: folders.count)
    }
    let all = LabeledImages(
      channels: shape.channels, height: shape.height, width: shape.width, pixels: pixels,
      labels: files.map(\.label), classNames: names)
    return kept.count == files.count ? all : all.selecting(kept)
  }

  private static func isDirectory(_ url: URL) -> Bool {
    var isDirectory: ObjCBool = false
    return FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory)
      && isDirectory.boolValue
  }

  private static func visibleEntries(of folder: URL) throws -> [URL] {
    do {
      return try FileManager.default.contentsOfDirectory(
        at: folder, includingPropertiesForKeys: nil, options: [.skipsHiddenFiles])
    } catch {
      throw ImageFolderError.unreadableFolder(
        path: folder.path, reason: error.localizedDescription)
    }
  }

  /// Regular files anywhere below `folder`, in path order, hidden ones left out.
  private static func filesBelow(_ folder: URL) throws -> [URL] {
    var files: [URL] = []
    var pending = [folder]
    while let next = pending.popLast() {
      for entry in try visibleEntries(of: next) {
        if isDirectory(entry) { pending.append(entry) } else { files.append(entry) }
      }
    }
    return files.sorted { $0.path < $1.path }
  }
}
