import Foundation
import Zoo
import ZooData
import ZooIO
import ZooTensor

/// A pretrained model named on the command line: a shipped weight file's name (`zoo list`
/// shows them) or the path of a weight file that records its architecture.
struct PretrainedSource {
  let name: String
  let entry: ModelEntry
  let weights: LoadedWeights
  let url: URL

  init(_ name: String) throws {
    self.name = name
    let shipped = ModelRegistry.entries.flatMap(\.weights)
    if let file = shipped.first(where: { $0.file == name || $0.file == name + ".h5" }) {
      guard let found = file.url else {
        throw ValidationErrorLine(message: "zoo/\(file.file) is not in this checkout")
      }
      url = found
    } else if FileManager.default.fileExists(atPath: name) {
      url = URL(fileURLWithPath: name)
    } else {
      let names = shipped.map { $0.file.replacingOccurrences(of: ".h5", with: "") }
      throw ValidationErrorLine(
        message:
          "no shipped weights or file named '\(name)'; shipped: \(names.joined(separator: ", "))")
    }
    weights = try readWeightFile(url.path)
    guard let architecture = weights.metadata.architecture else {
      throw ValidationErrorLine(
        message: "\(url.path) does not record its architecture; import it with zoo import --arch")
    }
    entry = try ModelRegistry.entry(named: architecture)
  }

  /// The input (channels, height, width) the weights were trained on.
  var inputShape: [Int] { weights.metadata.inputShape ?? entry.inputShape }

  /// The normalisation the weights were trained with, when the file records it.
  var normalization: Normalization? {
    weights.metadata.normalizationMean.flatMap { mean in
      weights.metadata.normalizationStd.map { Normalization(mean: mean, std: $0) }
    }
  }

  /// `file.h5 (architecture, class names)`, for the first line a command prints.
  var summary: String {
    "\(url.lastPathComponent) (\(entry.name), \(weights.metadata.classNames?.joined(separator: ", ") ?? "?"))"
  }

  /// The same architecture from random weights with a head for `classCount` classes (an
  /// autoencoder's: its encoder under the head contract), for training from scratch.
  func untrainedClassifier(
    classCount: Int, encoderFeatures: EncoderFeatures = .code, rng: RandomStream
  ) throws -> Classifier {
    guard entry.task == .generation else {
      return try entry.buildClassifier(classCount: classCount, rng: rng)
    }
    let latent = weights.metadata.classCount ?? entry.defaultClassCount
    guard let model = entry.build(classCount: latent, rng: rng) as? ConvAutoencoder else {
      throw ValidationErrorLine(message: "\(entry.name) has no encoder to train")
    }
    return EncoderClassifier(model, classCount: classCount, features: encoderFeatures, rng: rng)
  }

  /// A fresh copy of the pretrained classifier, with its original head; for an autoencoder or
  /// a VAE, its encoder with a head of no classes on `encoderFeatures` (the code unless given),
  /// for a head swap.
  func classifier(encoderFeatures: EncoderFeatures = .code) throws -> Classifier {
    if entry.task == .generation {
      let model = entry.build(classCount: weights.metadata.classCount, inputChannels: inputShape[0])
      try namingWeightFile(url.path) { try weights.load(into: model) }
      guard let autoencoder = model as? ConvAutoencoder else {
        throw ValidationErrorLine(message: "\(entry.name) has no encoder to fine-tune")
      }
      return EncoderClassifier(autoencoder, classCount: 0, features: encoderFeatures)
    }
    let model = try entry.buildClassifier(classCount: weights.metadata.classCount)
    try namingWeightFile(url.path) { try weights.load(into: model) }
    return model
  }
}
