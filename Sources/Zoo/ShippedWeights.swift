import Foundation

/// Pretrained weights that ship in the repository's `zoo/` folder, trained by `zoo train` and
/// described by the model card inside the file. The figures are declared here (as torchvision
/// declares its weights' metrics) and a test checks them against the file.
public struct ShippedWeights: Sendable, Equatable {
  /// File name inside `zoo/`.
  public let file: String
  /// The data source it was trained on, as `--data` takes it.
  public let data: String
  /// The classes the head predicts, in label order.
  public let classNames: [String]
  /// Accuracy on the data's whole test split, as the model card records it.
  public let testAccuracy: Float
  /// Accuracy on the first 1,000 images of the test split (what the test suite re-measures).
  public let sliceAccuracy: Float

  /// Where the file is: `$ZOO_WEIGHTS` if set, else the nearest `zoo/` folder holding it above
  /// the working directory or the executable (a source checkout), nil when none is found.
  public var url: URL? {
    var folders: [URL] = []
    if let override = ProcessInfo.processInfo.environment["ZOO_WEIGHTS"] {
      folders.append(URL(fileURLWithPath: override))
    }
    for start in [
      URL(fileURLWithPath: FileManager.default.currentDirectoryPath),
      URL(fileURLWithPath: CommandLine.arguments.first ?? ".").deletingLastPathComponent(),
      URL(fileURLWithPath: #filePath).deletingLastPathComponent(),
    ] {
      var folder = start.standardizedFileURL
      for _ in 0..<8 {
        folders.append(folder.appendingPathComponent("zoo"))
        folder.deleteLastPathComponent()
      }
    }
    return folders.map { $0.appendingPathComponent(file) }
      .first { FileManager.default.fileExists(atPath: $0.path) }
  }

  /// How `zoo list` shows it: `fashion-mnist 91.6%`.
  public var summary: String { "\(data) \(String(format: "%.1f", 100 * testAccuracy))%" }
}
