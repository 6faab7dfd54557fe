import Foundation

/// Pretrained weights that ship in the repository's `zoo/` folder, trained by `zoo train` and
/// described by the model card inside the file. The figures are declared here (as torchvision
/// declares its weights' metrics) and a test checks them against the file.
public struct ShippedWeights: Sendable, Equatable {
  /// File name inside `zoo/`.
  public let file: String
  /// The data source it was trained on, as `--data` takes it.
  public let data: String
  /// The classes the head predicts, in label order (none for a generative model).
  public let classNames: [String]
  /// Accuracy on the data's whole test split, as the model card records it (pixel accuracy on
  /// the held-out split for a segmentation model).
  public let testAccuracy: Float
  /// Accuracy on the first 1,000 images of the test split, or the first 100 held-out scenes of
  /// a segmentation model (what the test suite re-measures).
  public let sliceAccuracy: Float
  /// A segmentation model's foreground IoU on the whole held-out split (every garment class
  /// counted as one), as its model card records it; nil for a classifier.
  public let foregroundIoU: Float?
  /// A generative model's loss per image on the whole test split, as its model card records it
  /// and the test suite re-measures (negative ELBO in nats for a VAE, reconstruction
  /// cross-entropy for an autoencoder); nil for other models. A generative model's accuracies
  /// are 0.
  public let testLoss: Float?

  public init(
    file: String, data: String, classNames: [String], testAccuracy: Float, sliceAccuracy: Float,
    foregroundIoU: Float? = nil, testLoss: Float? = nil
  ) {
    self.file = file
    self.data = data
    self.classNames = classNames
    self.testAccuracy = testAccuracy
    self.sliceAccuracy = sliceAccuracy
    self.foregroundIoU = foregroundIoU
    self.testLoss = testLoss
  }

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

  /// How `zoo list` shows it: `fashion-mnist 91.6%`, or `scenes fg IoU 0.951` for a segmentation
  /// model.
  public var summary: String {
    if let foregroundIoU { return "\(data) fg IoU \(String(format: "%.3f", foregroundIoU))" }
    if let testLoss { return "\(data) \(String(format: "%.1f", testLoss)) nats" }
    return "\(data) \(String(format: "%.1f", 100 * testAccuracy))%"
  }
}
