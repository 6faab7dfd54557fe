import ArgumentParser
import Foundation
import Zoo
import ZooData

/// The data options every training command shares.
struct DataArguments: ParsableArguments {
  @Option(
    help: ArgumentHelp(
      "Data source: fashion-mnist[:CLASSES] (e.g. fashion-mnist:5-9), idx:IMAGES,LABELS, folder:PATH or csv:PATH[,label=COLUMN]; for segmentation scenes, scenes:binary or folder:PATH (images/ and masks/).",
      valueName: "source"))
  var data = "fashion-mnist"

  @Option(help: "Share of each class held out for validation when the source has no split.")
  var valSplit = 0.1

  @Option(help: "Train on only K labelled examples per class (k-shot), drawn by the seed.")
  var shots: Int?

  @Option(
    help:
      "Augmentation for training images: \(AugmentationChoice.allValueStrings.joined(separator: ", "))."
  )
  var augment: AugmentationChoice = .none

  @Flag(help: "Skip images that cannot be decoded (listed) instead of stopping.")
  var skipCorrupt = false

  @Option(
    help:
      "Feature scaling for tables, fitted on the training split: \(ScalingChoice.allValueStrings.joined(separator: ", "))."
  )
  var scaling: ScalingChoice = .standard

  func validate() throws {
    guard valSplit > 0, valSplit < 1 else {
      throw ValidationError("--val-split must be between 0 and 1, got \(valSplit)")
    }
    if let shots, shots < 1 { throw ValidationError("--shots must be at least 1, got \(shots)") }
  }

  /// Loads the source for a model taking `inputShape`: (channels, height, width) for images,
  /// (features) for tables. Tables are scaled by `scaling` unless `scaled` is false (a trained
  /// model brings its own scaling).
  func load(inputShape: [Int], seed: UInt64, scaled: Bool = true) throws -> LoadedData {
    let source = try DataSource(parsing: data)
    let options = DataOptions(
      imageShape: inputShape.count == 3 ? ImageShape(inputShape) : nil,
      validationFraction: valSplit, seed: seed, shots: shots,
      corruptImages: skipCorrupt ? .skip : .fail, scaling: scaled ? scaling.scaling : nil)
    do {
      return try source.load(options)
    } catch let error as SamplingError {
      // Splits and k-shot sets fail on the data as a whole: the line says which data.
      throw ValidationErrorLine(message: "\(data): \(error.errorDescription ?? "\(error)")")
    }
  }

  /// Fashion-MNIST's statistics for its images, statistics fitted on the training split otherwise.
  func normalization(for data: LoadedData) -> Normalization? {
    guard case .images(let images) = data.train else { return nil }
    if self.data.hasPrefix("fashion-mnist") && images.channels == 1 { return .fashionMNIST }
    return .fitted(to: images)
  }
}

enum AugmentationChoice: String, ExpressibleByArgument, CaseIterable {
  case none, flip, padcropflip, resizedcropflip

  var augmentation: Augmentation? {
    switch self {
    case .none: return nil
    case .flip: return Augmentation(horizontalFlip: true)
    case .padcropflip: return .padCropFlip
    case .resizedcropflip: return .resizedCropFlip
    }
  }
}

enum ScalingChoice: String, ExpressibleByArgument, CaseIterable {
  case standard, minmax, none

  var scaling: FeatureScaling? {
    switch self {
    case .standard: return .standard
    case .minmax: return .minmax
    case .none: return nil
    }
  }
}
