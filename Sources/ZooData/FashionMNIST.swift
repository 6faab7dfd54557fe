import Foundation

/// Fashion-MNIST (Xiao et al. 2017) as Debian's `dataset-fashion-mnist` package installs it.
public enum FashionMNIST {
  public static let defaultDirectory = URL(fileURLWithPath: "/usr/share/datasets/fashion-mnist")

  public static let classNames = [
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
  ]

  public enum Split: String, Sendable, CaseIterable {
    case train
    case test

    var filePrefix: String { self == .train ? "train" : "t10k" }
  }

  /// Loads a split (60,000 training or 10,000 test images, 28x28 grey).
  public static func load(_ split: Split, directory: URL = defaultDirectory) throws -> LabeledImages
  {
    func file(_ kind: String) -> URL {
      let plain = directory.appendingPathComponent("\(split.filePrefix)-\(kind)-ubyte")
      if FileManager.default.fileExists(atPath: plain.path) { return plain }
      return directory.appendingPathComponent("\(split.filePrefix)-\(kind)-ubyte.gz")
    }
    return try LabeledImages.readIDX(
      images: file("images-idx3"), labels: file("labels-idx1"), classNames: classNames)
  }

  /// Whether the data set is installed where `load` looks by default.
  public static var isInstalled: Bool {
    FileManager.default.fileExists(
      atPath: defaultDirectory.appendingPathComponent("train-images-idx3-ubyte.gz").path)
  }
}
