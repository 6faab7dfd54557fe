/// A labelled data set of either kind, as a data source loads it.
public enum Examples: Sendable, LabeledExamples {
  case images(LabeledImages)
  case table(LabeledTable)

  public var labels: [Int] {
    switch self {
    case .images(let images): return images.labels
    case .table(let table): return table.labels
    }
  }

  public var classNames: [String] {
    switch self {
    case .images(let images): return images.classNames
    case .table(let table): return table.classNames
    }
  }

  /// The shape of one example: `[C, H, W]` or `[F]`.
  public var exampleShape: [Int] {
    switch self {
    case .images(let images): return [images.channels, images.height, images.width]
    case .table(let table): return [table.featureCount]
    }
  }

  public func selecting(_ indices: [Int]) -> Examples {
    switch self {
    case .images(let images): return .images(images.selecting(indices))
    case .table(let table): return .table(table.selecting(indices))
    }
  }

  /// The examples in mini-batches. Images are normalised by `normalization` (pixels scaled to
  /// [0, 1] when nil) and augmented by `augmentation` in training epochs; tables ignore both.
  public func batches(
    batchSize: Int, normalization: Normalization? = nil, augmentation: Augmentation? = nil
  ) -> any ExampleSource {
    switch self {
    case .images(let images):
      return ImageBatches(
        images, normalization: normalization ?? .none(channels: images.channels),
        batchSize: batchSize, augmentation: augmentation)
    case .table(let table):
      return TableBatches(table, batchSize: batchSize)
    }
  }
}
