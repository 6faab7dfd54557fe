import Foundation
import ZooNN
import ZooTensor

// Sanity checks for saliency maps: the model-parameter randomisation test (Adebayo et al.
// 2018, "Sanity Checks for Saliency Maps"), where a method whose maps barely change when the
// weights are randomised explains the input rather than the model, and the deletion and
// insertion metrics (Petsiuk et al. 2018, "RISE"), where removing the pixels a good map ranks
// first destroys the class probability fastest and inserting them restores it fastest.

/// Spearman's rank correlation of two equally long maps (tied values share their mean rank).
public func rankCorrelation(_ a: [Float], _ b: [Float]) -> Double {
  precondition(
    a.count == b.count, "rank correlation needs maps of one size, got \(a.count) and \(b.count)")
  let (ra, rb) = (ranks(a), ranks(b))
  let n = Double(a.count)
  let (ma, mb) = (ra.reduce(0, +) / n, rb.reduce(0, +) / n)
  var (covariance, va, vb) = (0.0, 0.0, 0.0)
  for i in ra.indices {
    covariance += (ra[i] - ma) * (rb[i] - mb)
    va += (ra[i] - ma) * (ra[i] - ma)
    vb += (rb[i] - mb) * (rb[i] - mb)
  }
  return va > 0 && vb > 0 ? covariance / (va * vb).squareRoot() : 0
}

private func ranks(_ values: [Float]) -> [Double] {
  let order = values.indices.sorted { values[$0] < values[$1] }
  var result = [Double](repeating: 0, count: values.count)
  var start = 0
  while start < order.count {
    var end = start
    while end + 1 < order.count, values[order[end + 1]] == values[order[start]] { end += 1 }
    for k in start...end { result[order[k]] = Double(start + end) / 2 + 1 }
    start = end + 1
  }
  return result
}

/// Deletion and insertion curves of heatmaps: the class probability as the pixels are removed
/// (set to `deletionValue`) or inserted into a blurred copy, most attributed first, in `steps`
/// equal steps; each curve's area under it over the fraction 0...1 (trapezoids).
public struct DeletionInsertion: Sendable {
  public var steps: Int
  public var deletionValue: Float
  /// Radius of the box blur (three passes) of the image insertion starts from.
  public var insertionBlur: Int
  public var batchSize: Int

  public init(
    steps: Int = 28, deletionValue: Float = 0, insertionBlur: Int = 4, batchSize: Int = 256
  ) {
    self.steps = steps
    self.deletionValue = deletionValue
    self.insertionBlur = insertionBlur
    self.batchSize = batchSize
  }

  /// Areas under the deletion and the insertion curve of each row of `inputs` (N, C, H, W)
  /// for its class, ranking pixels by `heatmaps` (N, H, W).
  public func areas(_ model: Module, inputs: Tensor, classes: [Int], heatmaps: Tensor) throws
    -> (deletion: [Double], insertion: [Double])
  {
    try checkRequest(inputs, classes: classes)
    let (channels, height, width) = (inputs.shape[1], inputs.shape[2], inputs.shape[3])
    let plane = height * width
    let size = channels * plane
    var deletion: [Double] = []
    var insertion: [Double] = []
    for row in 0..<inputs.shape[0] {
      let image = Array(inputs.scalars[(row * size)..<((row + 1) * size)])
      let map = heatmaps.scalars[(row * plane)..<((row + 1) * plane)]
      let order = (0..<plane).sorted { map[map.startIndex + $0] > map[map.startIndex + $1] }
      let blurred = RegionMasking.blur(radius: insertionBlur).background(
        image, channels: channels, height: height, width: width)
      var batch: [Float] = []
      batch.reserveCapacity(2 * (steps + 1) * size)
      for (start, end) in [
        (image, [Float](repeating: deletionValue, count: size)), (blurred, image),
      ] {
        for step in 0...steps {
          var picture = start
          for pixel in order.prefix(plane * step / steps) {
            for c in 0..<channels { picture[c * plane + pixel] = end[c * plane + pixel] }
          }
          batch += picture
        }
      }
      let curves = Tensor(shape: [2 * (steps + 1), channels, height, width], scalars: batch)
      let probabilities = try classProbabilities(model, curves, classIndex: classes[row])
      deletion.append(area(probabilities[0...steps]))
      insertion.append(area(probabilities[(steps + 1)...]))
    }
    return (deletion, insertion)
  }

  private func classProbabilities(_ model: Module, _ batch: Tensor, classIndex: Int) throws
    -> [Float]
  {
    let logits = try outputs(model, batch, batchSize: batchSize)
    let probabilities = try softmax(logits)
    let k = logits.shape[1]
    return (0..<logits.shape[0]).map { probabilities.scalars[$0 * k + classIndex] }
  }

  private func area(_ curve: ArraySlice<Float>) -> Double {
    let values = Array(curve)
    var total = 0.0
    for i in 1..<values.count { total += Double(values[i - 1] + values[i]) / 2 }
    return total / Double(values.count - 1)
  }
}

/// The cascading model-parameter randomisation test (Adebayo et al. 2018, section 4.1): the
/// model's layers re-initialised one after another from the output back, the maps compared
/// with the trained model's after each step.
public enum CascadingRandomisation {
  /// The units re-initialised in turn, the last in the forward order first: each block of a
  /// stage that holds several (ResNet's `layer3.2`), else each top-level module with
  /// parameters (`fc`, `bn1`, `conv1`).
  public static func units(of model: Module) -> [String] {
    var units: [String] = []
    for (name, child) in model.children where !child.namedParameters().isEmpty {
      let blocks = child.children.filter { !$0.module.namedParameters().isEmpty }
      if blocks.count >= 2, blocks.count == child.children.count {
        units += blocks.map { "\(name).\($0.name)" }
      } else {
        units.append(name)
      }
    }
    return units.reversed()
  }

  /// Copies the parameters and buffers at and below `prefix` ("" for all) from `source` into
  /// `target`, a model of the same architecture.
  public static func copy(_ prefix: String, from source: Module, into target: Module) {
    let values = Dictionary(
      source.stateDict().map { ($0.path, $0.tensor.scalars) }, uniquingKeysWith: { a, _ in a })
    for (path, tensor) in target.stateDict()
    where prefix.isEmpty || path == prefix || path.hasPrefix(prefix + ".") {
      if let scalars = values[path], scalars.count == tensor.count { tensor.scalars = scalars }
    }
  }
}
