import Foundation
import Zoo
import ZooData
import ZooIO
import ZooNN

/// A model read back from a weight file: the architecture it names, built and loaded, with
/// what the file records about its input and classes.
struct TrainedModel {
  let url: URL
  let entry: ModelEntry
  let model: Module
  let metadata: WeightFileMetadata
  /// One name per output class: the file's, or `class 0`, `class 1`, ... when it has none.
  let classNames: [String]
  /// (channels, height, width) for images, (features) for tables.
  let inputShape: [Int]

  /// Reads `source`, a weight file path or the name of a file shipped in `zoo/`.
  init(_ source: String) throws {
    try self.init(try PretrainedSource(source))
  }

  init(_ pretrained: PretrainedSource) throws {
    (url, entry, metadata) = (pretrained.url, pretrained.entry, pretrained.weights.metadata)
    inputShape = pretrained.inputShape
    let classCount = metadata.classCount ?? metadata.classNames?.count ?? entry.defaultClassCount
    // A table model's first layer is as wide as its features, which the input shape records.
    let built = entry.build(classCount: classCount, inputChannels: inputShape[0])
    try namingWeightFile(url.path) { try pretrained.weights.load(into: built) }
    built.setTraining(false)
    model = built
    classNames = metadata.classNames ?? (0..<classCount).map { "class \($0)" }
  }

  /// The model card, when the file holds one `zoo train` wrote.
  var card: ModelCard? { metadata.card }

  /// Pixel normalisation for image models; nil when the file records none (pixels in [0, 1]).
  var normalization: Normalization? {
    guard inputShape.count == 3, let mean = metadata.normalizationMean,
      let std = metadata.normalizationStd
    else { return nil }
    return Normalization(mean: mean, std: std)
  }

  /// Feature scaling for table models, stored in the file's normalisation fields.
  func scaler(featureNames: [String]) -> FeatureScaler? {
    guard inputShape.count == 1, let mean = metadata.normalizationMean,
      let std = metadata.normalizationStd, mean.count == featureNames.count
    else { return nil }
    return FeatureScaler(kind: .standard, featureNames: featureNames, center: mean, spread: std)
  }

  /// The examples as this model's batches: normalised images, or scaled table rows.
  func batches(_ examples: Examples, batchSize: Int = 256) -> any ExampleSource {
    if case .table(let table) = examples, let scaler = scaler(featureNames: table.featureNames) {
      return Examples.table(scaler.apply(to: table)).batches(batchSize: batchSize)
    }
    return examples.batches(batchSize: batchSize, normalization: normalization)
  }
}

extension WeightFileMetadata {
  /// The model card, when the file holds one `zoo train` wrote.
  var card: ModelCard? {
    modelCard.flatMap { try? JSONDecoder().decode(ModelCard.self, from: Data($0.utf8)) }
  }
}
