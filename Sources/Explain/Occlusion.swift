import ZooNN
import ZooTensor

/// Occlusion sensitivity (Zeiler and Fergus 2014), as Captum's `Occlusion` computes it: a
/// square window of every channel slides over the image and is set to `baseline`; each pixel
/// gets the mean drop in score over the windows covering it (pixels no window covers get 0).
public struct Occlusion: AttributionMethod {
  public var window: Int
  public var stride: Int
  public var baseline: Float
  /// Occluded images per forward pass.
  public var batchSize: Int

  public init(window: Int = 4, stride: Int = 2, baseline: Float = 0, batchSize: Int = 128) {
    self.window = window
    self.stride = stride
    self.baseline = baseline
    self.batchSize = batchSize
  }

  public var name: String { "occlusion" }
  public var isSigned: Bool { true }

  public func attribute(_ model: Module, inputs: Tensor, classes: [Int]) throws -> Attribution {
    try checkRequest(inputs, classes: classes)
    let (channels, height, width) = (inputs.shape[1], inputs.shape[2], inputs.shape[3])
    guard window >= 1, stride >= 1, window <= min(height, width) else {
      throw ExplainError.invalidSetting(
        "occlusion needs 1 <= window <= the image's sides (\(height)x\(width)) and stride >= 1, got window \(window), stride \(stride)"
      )
    }
    let origins = stridedOrigins(height).flatMap { y in stridedOrigins(width).map { (y, $0) } }
    let plane = height * width
    var heatmap: [Float] = []
    for row in 0..<inputs.shape[0] {
      let occluded = repeated(inputs, row: row, count: origins.count)
      for (index, (top, left)) in origins.enumerated() {
        for c in 0..<channels {
          for y in top..<(top + window) {
            let base = ((index * channels + c) * height + y) * width
            for x in left..<(left + window) { occluded.scalars[base + x] = baseline }
          }
        }
      }
      let reference = try scores(
        model, rows(inputs, row..<(row + 1)), classes: [classes[row]], batchSize: 1)[0]
      let occludedScores = try scores(
        model, occluded, classes: Array(repeating: classes[row], count: origins.count),
        batchSize: batchSize)
      var total = [Float](repeating: 0, count: plane)
      var covered = [Float](repeating: 0, count: plane)
      for ((top, left), score) in zip(origins, occludedScores) {
        for y in top..<(top + window) {
          for x in left..<(left + window) {
            total[y * width + x] += reference - score
            covered[y * width + x] += 1
          }
        }
      }
      heatmap += zip(total, covered).map { $1 > 0 ? $0 / $1 : 0 }
    }
    let map = Tensor(shape: [inputs.shape[0], height, width], scalars: heatmap)
    return Attribution(classes: classes, values: map, heatmap: map)
  }

  /// Window origins along a side: 0, stride, ... while the window fits.
  private func stridedOrigins(_ size: Int) -> [Int] {
    Array(Swift.stride(from: 0, through: size - window, by: stride))
  }
}
