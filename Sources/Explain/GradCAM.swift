import ZooNN
import ZooTensor

// Grad-CAM (Selvaraju et al. 2017, "Grad-CAM: Visual Explanations from Deep Networks via
// Gradient-based Localization") and Grad-CAM++ (Chattopadhyay et al. 2018), as pytorch-grad-cam
// computes them: channel weights from the score's gradient at the target layer, the rectified
// weighted sum of the layer's channels, then the map scaled to 0...1, resized bilinearly to the
// input (OpenCV's half-pixel rule) and scaled to 0...1 again.

/// A class-activation map: Grad-CAM or Grad-CAM++.
public struct GradCAM: AttributionMethod {
  /// How channels are weighted.
  public enum Weighting: Sendable {
    /// The spatial mean of the gradient (Grad-CAM).
    case gradient
    /// Positive gradients weighted by Grad-CAM++'s alpha (its equation 19).
    case gradientPlusPlus
  }

  public var weighting: Weighting
  /// The target layer's path; nil picks `TargetLayer`'s default.
  public var layerPath: String?
  /// Images per forward and backward pass.
  public var batchSize: Int

  public init(_ weighting: Weighting = .gradient, layerPath: String? = nil, batchSize: Int = 32) {
    self.weighting = weighting
    self.layerPath = layerPath
    self.batchSize = batchSize
  }

  public var name: String { weighting == .gradient ? "gradcam" : "gradcam++" }
  public var isSigned: Bool { false }

  public func attribute(_ model: Module, inputs: Tensor, classes: [Int]) throws -> Attribution {
    try checkRequest(inputs, classes: classes)
    let layer = try TargetLayer(layerPath, in: model, inputShape: Array(inputs.shape.dropFirst()))
    var cams: [Float] = []
    var mapShape: [Int] = []
    try withFrozenParameters(model) {
      for range in chunks(inputs.shape[0], batchSize) {
        let pass = try GradientPass(
          model, rows(inputs, range), classes: Array(classes[range]), layer: layer)
        guard pass.point.rank == 4 else {
          throw ExplainError.unknownLayer(layer.path, valid: [])
        }
        mapShape = Array(pass.point.shape.dropFirst(2))
        cams += classActivationMaps(activation: pass.point, gradient: pass.gradient)
      }
    }
    let values = Tensor(shape: [inputs.shape[0]] + mapShape, scalars: cams)
    let (height, width) = (inputs.shape[2], inputs.shape[3])
    let plane = mapShape[0] * mapShape[1]
    var heatmap: [Float] = []
    for row in 0..<inputs.shape[0] {
      let cam = Array(cams[(row * plane)..<((row + 1) * plane)])
      let resized = resizeBilinear(
        scaledToUnitRange(cam), height: mapShape[0], width: mapShape[1], toHeight: height,
        toWidth: width)
      heatmap += scaledToUnitRange(resized)
    }
    return Attribution(
      classes: classes, values: values,
      heatmap: Tensor(shape: [inputs.shape[0], height, width], scalars: heatmap))
  }

  /// relu(sum_k w_k A_k) for each row of the activation A (N, K, h, w) and its gradient.
  func classActivationMaps(activation: Tensor, gradient: Tensor) -> [Float] {
    let (n, k, plane) = (
      activation.shape[0], activation.shape[1], activation.shape[2] * activation.shape[3]
    )
    var maps = [Float](repeating: 0, count: n * plane)
    activation.scalars.withUnsafeBufferPointer { a in
      gradient.scalars.withUnsafeBufferPointer { g in
        for row in 0..<n {
          for channel in 0..<k {
            let base = (row * k + channel) * plane
            let w = channelWeight(a[base..<(base + plane)], g[base..<(base + plane)])
            for p in 0..<plane { maps[row * plane + p] += w * a[base + p] }
          }
        }
      }
    }
    return maps.map { max($0, 0) }
  }

  private func channelWeight(
    _ a: Slice<UnsafeBufferPointer<Float>>, _ g: Slice<UnsafeBufferPointer<Float>>
  )
    -> Float
  {
    switch weighting {
    case .gradient:
      return g.reduce(0, +) / Float(g.count)
    case .gradientPlusPlus:
      let activationSum = a.reduce(0, +)
      var weight: Float = 0
      for grad in g where grad != 0 {
        let g2 = grad * grad
        let alpha = g2 / (2 * g2 + activationSum * g2 * grad + 1e-6)
        weight += max(grad, 0) * alpha
      }
      return weight
    }
  }
}

/// `values - min`, divided by `max + 1e-7` (pytorch-grad-cam's `scale_cam_image`).
func scaledToUnitRange(_ values: [Float]) -> [Float] {
  let low = values.min() ?? 0
  let shifted = values.map { $0 - low }
  let high = shifted.max() ?? 0
  return shifted.map { $0 / (1e-7 + high) }
}

/// Bilinear resize of one plane with half-pixel centres and edge clamping, as OpenCV's
/// `INTER_LINEAR` (and PyTorch's `align_corners=False`) do.
public func resizeBilinear(
  _ plane: [Float], height: Int, width: Int, toHeight: Int, toWidth: Int
) -> [Float] {
  func taps(_ out: Int, _ size: Int, _ target: Int) -> (Int, Int, Float) {
    let source = max((Float(out) + 0.5) * Float(size) / Float(target) - 0.5, 0)
    let lower = min(Int(source), size - 1)
    let upper = min(lower + 1, size - 1)
    return (lower, upper, source - Float(lower))
  }
  let columns = (0..<toWidth).map { taps($0, width, toWidth) }
  var result = [Float](repeating: 0, count: toHeight * toWidth)
  for y in 0..<toHeight {
    let (y0, y1, fy) = taps(y, height, toHeight)
    for (x, (x0, x1, fx)) in columns.enumerated() {
      let top = plane[y0 * width + x0] * (1 - fx) + plane[y0 * width + x1] * fx
      let bottom = plane[y1 * width + x0] * (1 - fx) + plane[y1 * width + x1] * fx
      result[y * toWidth + x] = top * (1 - fy) + bottom * fy
    }
  }
  return result
}
