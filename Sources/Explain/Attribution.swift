import ZooNN
import ZooTensor

/// What a method says about a batch of images: for each image, how much each part of it
/// counted towards the score of one class.
public struct Attribution {
  /// The class explained in each row.
  public var classes: [Int]
  /// The method's own values. Input-gradient methods (saliency, SmoothGrad, Integrated
  /// Gradients): (N, C, H, W) like the input. Class-activation maps: (N, h, w) at the target
  /// layer, rectified but not rescaled. Occlusion: (N, H, W). KernelSHAP: (N, regions).
  public var values: Tensor
  /// One value per input pixel, (N, H, W): what heatmaps draw and what the sanity checks rank.
  public var heatmap: Tensor
  /// Integrated Gradients: sum of attributions minus (f(x) - f(baseline)) per image; KernelSHAP:
  /// the same for its regions (zero up to rounding, efficiency holding by construction).
  public var convergenceDelta: [Float]?
  /// Integrated Gradients: the path points each image took.
  public var pathPoints: [Int]?

  public init(
    classes: [Int], values: Tensor, heatmap: Tensor, convergenceDelta: [Float]? = nil,
    pathPoints: [Int]? = nil
  ) {
    self.classes = classes
    self.values = values
    self.heatmap = heatmap
    self.convergenceDelta = convergenceDelta
    self.pathPoints = pathPoints
  }

  /// Row `index` of the heatmap, H * W values.
  public func heatmap(row index: Int) -> [Float] {
    let size = heatmap.count / heatmap.shape[0]
    return Array(heatmap.scalars[(index * size)..<((index + 1) * size)])
  }
}

/// An attribution method: explains each image's score for its class.
public protocol AttributionMethod {
  /// The name `zoo explain --method` takes.
  var name: String { get }
  /// Whether the heatmap is signed (positive and negative evidence) rather than non-negative.
  var isSigned: Bool { get }
  /// Explains `inputs` (N, C, H, W), row `i` for class `classes[i]`.
  func attribute(_ model: Module, inputs: Tensor, classes: [Int]) throws -> Attribution
}

/// Sums (or takes the largest absolute value) over the channels of (N, C, H, W): (N, H, W).
func collapseChannels(_ values: Tensor, maxAbsolute: Bool) -> Tensor {
  let (n, c, plane) = (values.shape[0], values.shape[1], values.shape[2] * values.shape[3])
  var out = [Float](repeating: 0, count: n * plane)
  for row in 0..<n {
    for channel in 0..<c {
      let base = (row * c + channel) * plane
      for p in 0..<plane {
        let v = values.scalars[base + p]
        if maxAbsolute {
          out[row * plane + p] = max(out[row * plane + p], abs(v))
        } else {
          out[row * plane + p] += v
        }
      }
    }
  }
  return Tensor(shape: [n, values.shape[2], values.shape[3]], scalars: out)
}
