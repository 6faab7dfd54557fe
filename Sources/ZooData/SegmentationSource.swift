import Foundation
import ZooTensor

/// Where segmentation data comes from, as a command line names it:
///
/// - `scenes`: the built-in Fashion-MNIST scenes (`FashionScenes`), 11 classes (background and
///   the ten garments); `scenes:binary` merges the garments into one foreground class. The
///   training split has 4,000 scenes, the held-out split 500.
/// - `folder:PATH`: `PATH/images` and `PATH/masks` (see `MaskFolder`), or `PATH/train` and
///   `PATH/val` (or `validation`, `test`) of that layout; a folder without a split has a
///   seeded share of its pairs held out.
public enum SegmentationSource: Sendable, Equatable, CustomStringConvertible {
  case scenes(binary: Bool)
  case folder(URL)

  static let forms = "scenes, scenes:binary or folder:PATH (with images/ and masks/)"

  public init(parsing spec: String) throws {
    switch spec.lowercased() {
    case "scenes": self = .scenes(binary: false)
    case "scenes:binary": self = .scenes(binary: true)
    default:
      guard spec.lowercased().hasPrefix("folder:"), spec.count > "folder:".count else {
        if spec.lowercased().hasPrefix("scenes:") {
          throw DataSourceError.unknownOption(
            spec: spec, option: String(spec.dropFirst("scenes:".count)), expected: "scenes[:binary]"
          )
        }
        throw SegmentationDataError.invalid(
          "unknown segmentation data source '\(spec)'; expected \(Self.forms)")
      }
      let path = String(spec.dropFirst("folder:".count))
      self = .folder(URL(fileURLWithPath: (path as NSString).expandingTildeInPath))
    }
  }

  public var description: String {
    switch self {
    case .scenes(let binary): return binary ? "scenes:binary" : "scenes"
    case .folder(let url): return "folder:\(url.path)"
    }
  }

  /// The training and held-out sets, and what to call the held-out one ("held-out",
  /// "validation" or "test"). `channels` applies to folders (scenes are grey);
  /// `validationFraction` and `seed` split a folder without a split; `classNames` fixes a
  /// folder's classes (a trained model's), so masks that lack the last classes still load.
  public func load(
    channels: Int = 1, validationFraction: Double = 0.1, seed: UInt64 = 0,
    classNames: [String]? = nil,
    fashionMNISTDirectory: URL = FashionMNIST.defaultDirectory
  ) throws -> (train: SegmentationSet, heldOut: SegmentationSet, heldOutName: String) {
    switch self {
    case .scenes(let binary):
      let garments = try FashionMNIST.load(.test, directory: fashionMNISTDirectory)
      var train = try FashionScenes.make(.train, garments: garments)
      var heldOut = try FashionScenes.make(.heldOut, garments: garments)
      if binary { (train, heldOut) = (train.binary(), heldOut.binary()) }
      return (train, heldOut, FashionScenes.Split.heldOut.rawValue)
    case .folder(let root):
      if let split = ImageFolder.splitFolders(in: root) {
        let train = try MaskFolder.read(split.train, channels: channels, classNames: classNames)
        let held = try MaskFolder.read(
          split.validation, channels: channels, classNames: train.classNames)
        guard held.height == train.height, held.width == train.width else {
          throw SegmentationDataError.invalid(
            "\(split.validation.path) holds \(held.width)x\(held.height) images but \(split.train.path) holds \(train.width)x\(train.height)"
          )
        }
        return (train, held, split.name)
      }
      let all = try MaskFolder.read(root, channels: channels, classNames: classNames)
      guard all.count >= 2 else {
        throw SegmentationDataError.invalid(
          "\(root.path): needs at least two image/mask pairs to hold one out, found \(all.count)")
      }
      var generator = SeededGenerator(seed: seed)
      let order = Array(0..<all.count).shuffled(using: &generator)
      let heldCount = min(
        max(Int((Double(all.count) * validationFraction).rounded()), 1), all.count - 1)
      return (
        all.subset(order[heldCount...].sorted()), all.subset(order[..<heldCount].sorted()),
        "validation"
      )
    }
  }
}
