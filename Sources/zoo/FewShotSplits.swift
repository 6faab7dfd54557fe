import ZooData

/// The splits of a fine-tuning run. With a test split (Fashion-MNIST), 5% of each class of the
/// training images is held out for validation (early stopping, the best epoch) and the K shots
/// per class are drawn from the rest, so the test split is only used for the final figure.
/// Without one, the shots come from the training split and the validation split does both jobs.
struct FewShotSplits {
  var train: Examples
  var validation: Examples
  var test: Examples
  /// Where `train` and `validation` come from, as indices into the loaded training split
  /// (`validation` is nil when it is the loaded validation split).
  var trainIndices: [Int]
  var validationIndices: [Int]?

  init(_ data: LoadedData, shots: Int?, seed: UInt64) throws {
    let all = ExampleNumbers(labels: data.train.labels, classNames: data.classNames)
    if data.validationName == "test" {
      let (pool, held) = try all.stratifiedSplit(validationFraction: 0.05, seed: seed)
      trainIndices = try shots.map { try pool.kShot($0, seed: seed) }?.indices ?? pool.indices
      validationIndices = held.indices
      validation = data.train.selecting(held.indices)
    } else {
      trainIndices = try shots.map { try all.kShot($0, seed: seed) }?.indices ?? all.indices
      validationIndices = nil
      validation = data.validation
    }
    train = data.train.selecting(trainIndices)
    test = data.validation
  }

  /// Example numbers with their labels: sampling them draws exactly what sampling the examples
  /// would, since the draws depend only on the labels and the seed.
  private struct ExampleNumbers: LabeledExamples {
    var labels: [Int]
    var classNames: [String]
    var indices: [Int]

    init(labels: [Int], classNames: [String], indices: [Int]? = nil) {
      self.labels = labels
      self.classNames = classNames
      self.indices = indices ?? Array(labels.indices)
    }

    func selecting(_ chosen: [Int]) -> ExampleNumbers {
      ExampleNumbers(
        labels: chosen.map { labels[$0] }, classNames: classNames,
        indices: chosen.map { indices[$0] })
    }
  }
}
