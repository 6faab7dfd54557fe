import Foundation
import Zoo
import ZooData
import ZooIO
import ZooNN
import ZooPlot
import ZooTensor

/// A segmentation model read from a weight file written by `zoo train --task segment`: the
/// architecture, classes and normalisation come from the file's metadata.
struct TrainedSegmenter {
  let entry: ModelEntry
  let model: Module
  let classNames: [String]
  let normalization: Normalization
  let channels: Int

  init(contentsOf url: URL) throws {
    let file = try WeightFile.read(contentsOf: url)
    let meta = file.metadata
    guard let name = meta.architecture else {
      throw ValidationErrorLine(message: "\(url.path) does not record its architecture")
    }
    entry = try ModelRegistry.entry(named: name)
    guard entry.task == .segmentation else {
      throw ValidationErrorLine(message: "\(url.path) holds \(name), not a segmentation model")
    }
    guard let classNames = meta.classNames, let shape = meta.inputShape, shape.count == 3,
      let mean = meta.normalizationMean, let std = meta.normalizationStd, mean.count == shape[0]
    else {
      throw ValidationErrorLine(
        message:
          "\(url.path) lacks the class names, input shape or normalisation of a trained model")
    }
    model = entry.build(classCount: classNames.count, inputChannels: shape[0])
    try file.load(into: model)
    model.setTraining(false)
    self.classNames = classNames
    normalization = Normalization(mean: mean, std: std)
    channels = shape[0]
  }

  /// Loss, scores and predicted masks over a whole set.
  func evaluate(_ set: SegmentationSet) throws -> SegmentationEvaluation {
    guard set.classCount == classNames.count else {
      throw SegmentationMetricError.classCountMismatch(
        model: classNames.count, data: set.classCount)
    }
    return try SegmentationTrainer.evaluate(
      model, on: SegmentationBatches(set, normalization: normalization, batchSize: 32),
      keepPredictions: true)
  }

  /// The class of every pixel of one decoded image (converted to the model's channels).
  func segment(_ image: DecodedImage) throws -> (pixels: [UInt8], mask: [Int]) {
    let converted = ImageTransforms.convert(image, toChannels: channels)
    let planar = try SegmentationSet(
      channels: channels, height: image.height, width: image.width,
      pixels: planarPixels(converted),
      masks: .init(repeating: 0, count: image.width * image.height),
      classNames: classNames)
    let batch = SegmentationBatches(planar, normalization: normalization, batchSize: 1).batch([0])
    let logits = try withoutGradients { try model(batch.inputs) }
    return (planar.pixels, pixelClasses(logits))
  }

  private func planarPixels(_ image: DecodedImage) -> [UInt8] {
    let plane = image.width * image.height
    return (0..<(plane * image.channels)).map {
      image.pixels[($0 % plane) * image.channels + $0 / plane]
    }
  }
}

/// The image under its mask, `scale` times, as a PNG-ready canvas.
func overlay(pixels: [UInt8], channels: Int, width: Int, height: Int, mask: [Int], scale: Int = 4)
  -> Canvas
{
  let image = PlotImage(
    width: width, height: height, channels: channels, pixels: pixels, layout: .chw)
  return MaskOverlay(image: image, mask: mask, scale: scale).render()
}
