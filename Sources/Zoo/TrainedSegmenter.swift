import Foundation
import ZooData
import ZooIO
import ZooNN
import ZooTensor

/// A segmentation model read back from a weight file written by `zoo train --task segment`:
/// the architecture, classes, input channels and normalisation come from the file's metadata.
public struct TrainedSegmenter {
  public let entry: ModelEntry
  public let model: Module
  public let classNames: [String]
  public let normalization: Normalization
  public let channels: Int
  /// The image size the model was trained on, (height, width).
  public let trainedSize: (height: Int, width: Int)
  /// Image sides must be multiples of this (2^depth for the U-Net, 32 for a ResNet encoder).
  public let sizeMultiple: Int

  /// Builds the model `weights` name and loads them; `source` names the file in errors.
  public init(weights: LoadedWeights, source: String) throws {
    let meta = weights.metadata
    guard let name = meta.architecture else { throw SegmenterError.noArchitecture(source) }
    entry = try ModelRegistry.entry(named: name)
    guard entry.task == .segmentation else {
      throw SegmenterError.notSegmentation(source, architecture: name)
    }
    guard let classNames = meta.classNames, let shape = meta.inputShape, shape.count == 3,
      let mean = meta.normalizationMean, let std = meta.normalizationStd, mean.count == shape[0]
    else { throw SegmenterError.missingMetadata(source) }
    model = entry.build(classCount: classNames.count, inputChannels: shape[0])
    try weights.load(into: model)
    model.setTraining(false)
    self.classNames = classNames
    normalization = Normalization(mean: mean, std: std)
    channels = shape[0]
    trainedSize = (shape[1], shape[2])
    sizeMultiple = (model as? SegmentationModel)?.sizeMultiple ?? 1
  }

  public init(contentsOf url: URL) throws {
    try self.init(weights: try WeightFile.read(contentsOf: url), source: url.path)
  }

  /// Loss, scores and predicted masks (mask after mask) over a whole set.
  public func evaluate(_ set: SegmentationSet) throws -> SegmentationEvaluation {
    guard set.classCount == classNames.count else {
      throw SegmentationMetricError.classCountMismatch(
        model: classNames.count, data: set.classCount)
    }
    guard set.height % sizeMultiple == 0, set.width % sizeMultiple == 0 else {
      throw SegmenterError.imageSize(
        "the data", width: set.width, height: set.height, multiple: sizeMultiple,
        trained: trainedSize, architecture: entry.name)
    }
    return try SegmentationTrainer.evaluate(
      model, on: SegmentationBatches(set, normalization: normalization, batchSize: 32),
      keepPredictions: true)
  }

  /// The class of every pixel of one decoded image, converted to the model's channels, and
  /// the converted pixels (CHW) it was computed from. `name` names the image in a size error.
  public func segment(_ image: DecodedImage, name: String) throws -> (
    pixels: [UInt8], mask: [Int]
  ) {
    guard image.height % sizeMultiple == 0, image.width % sizeMultiple == 0 else {
      throw SegmenterError.imageSize(
        name, width: image.width, height: image.height, multiple: sizeMultiple,
        trained: trainedSize, architecture: entry.name)
    }
    let pixels = ImageTransforms.planar(ImageTransforms.convert(image, toChannels: channels))
    let one = try SegmentationSet(
      channels: channels, height: image.height, width: image.width, pixels: pixels,
      masks: .init(repeating: 0, count: image.width * image.height), classNames: classNames)
    let batch = SegmentationBatches(one, normalization: normalization, batchSize: 1).batch([0])
    let logits = try withoutGradients { try model(batch.inputs) }
    return (pixels, pixelClasses(logits))
  }
}

public enum SegmenterError: Error, Equatable, LocalizedError {
  case noArchitecture(String)
  case notSegmentation(String, architecture: String)
  case missingMetadata(String)
  /// An image whose sides are not multiples of what the model takes.
  case imageSize(
    String, width: Int, height: Int, multiple: Int, trained: (height: Int, width: Int),
    architecture: String)

  public var errorDescription: String? {
    switch self {
    case .noArchitecture(let source):
      return "\(source) does not record its architecture"
    case .notSegmentation(let source, let architecture):
      return "\(source) holds \(architecture), not a segmentation model"
    case .missingMetadata(let source):
      return "\(source) lacks the class names, input shape or normalisation of a trained model"
    case .imageSize(let name, let width, let height, let multiple, let trained, let architecture):
      let padded =
        "\((width + multiple - 1) / multiple * multiple)x\((height + multiple - 1) / multiple * multiple)"
      return
        "\(name) is \(width)x\(height) but \(architecture) (trained on \(trained.width)x\(trained.height)) takes sides that are multiples of \(multiple); pad or crop it to \(padded)"
    }
  }

  public static func == (a: SegmenterError, b: SegmenterError) -> Bool {
    a.errorDescription == b.errorDescription
  }
}
