import ZooNN
import ZooTensor

/// The methods by the names `zoo explain --method` takes.
public enum MethodName: String, CaseIterable, Sendable {
  case gradcam
  case gradcamPlusPlus = "gradcam++"
  case saliency
  case smoothgrad
  case integratedGradients = "integrated-gradients"
  case occlusion
  case kernelshap

  /// The method with `settings`.
  public func method(_ settings: MethodSettings = MethodSettings()) -> any AttributionMethod {
    switch self {
    case .gradcam: GradCAM(.gradient, layerPath: settings.layerPath)
    case .gradcamPlusPlus: GradCAM(.gradientPlusPlus, layerPath: settings.layerPath)
    case .saliency: Saliency()
    case .smoothgrad: SmoothGrad(samples: settings.noisySamples, seed: settings.seed)
    case .integratedGradients:
      IntegratedGradients(
        baseline: settings.baseline, steps: settings.steps,
        tolerance: settings.completenessTolerance)
    case .occlusion:
      Occlusion(window: settings.window, stride: settings.stride, baseline: settings.baseline)
    case .kernelshap:
      KernelSHAP(
        grid: settings.grid,
        masking: settings.blurRadius.map { .blur(radius: $0) } ?? .value(settings.baseline),
        samples: settings.coalitions, superpixels: settings.superpixels, seed: settings.seed)
    }
  }
}

/// The settings the methods share, with the defaults `zoo explain` uses.
public struct MethodSettings: Sendable {
  /// Grad-CAM's target layer; nil for the default.
  public var layerPath: String?
  /// Integrated Gradients' path points.
  public var steps = 50
  /// Integrated Gradients doubles its points until |delta| <= this * |f(x) - f(x')| (nil: no).
  public var completenessTolerance: Float?
  /// SmoothGrad's noisy copies per image.
  public var noisySamples = 25
  /// KernelSHAP's coalitions per image and its grid of patches (grid x grid).
  public var coalitions = 512
  public var grid = 4
  /// KernelSHAP over about this many SLIC superpixels instead of the grid.
  public var superpixels: Int?
  /// Occlusion's window and stride.
  public var window = 4
  public var stride = 2
  /// What removed pixels are set to (Integrated Gradients' baseline, occlusion, KernelSHAP).
  public var baseline: Float = 0
  /// KernelSHAP masks by blurring with this radius instead of the baseline value.
  public var blurRadius: Int?
  public var seed: UInt64 = 0

  public init() {}
}

/// Which classes to explain for each image.
public enum ClassChoice: Equatable, Sendable {
  /// The `k` most probable (for a segmentation model: the `k` covering most pixels).
  case top(Int)
  /// One class by name.
  case named(String)

  /// `top:K`, `predicted` (`top:1`) or a class name.
  public init(parsing text: String) throws {
    if text == "predicted" {
      self = .top(1)
    } else if text.hasPrefix("top:") {
      guard let k = Int(text.dropFirst(4)), k >= 1 else {
        throw ExplainError.invalidSetting("--class top:K needs a whole K >= 1, got '\(text)'")
      }
      self = .top(k)
    } else {
      self = .named(text)
    }
  }

  /// The classes to explain for row `row` of the model's output (logits (N, K) or (N, K, H, W)).
  public func classes(output: Tensor, row: Int, classNames: [String]) throws -> [Int] {
    switch self {
    case .named(let name):
      guard let index = classNames.firstIndex(of: name) else {
        throw ExplainError.unknownClass(name, known: classNames)
      }
      return [index]
    case .top(let k):
      let classCount = output.shape[1]
      let pixels = output.count / (output.shape[0] * classCount)
      var weight = [Float](repeating: 0, count: classCount)
      for pixel in 0..<pixels {
        let values = (0..<classCount).map {
          output.scalars[(row * classCount + $0) * pixels + pixel]
        }
        if pixels == 1 {
          weight = values
        } else {
          weight[values.indices.max { values[$0] < values[$1] }!] += 1
        }
      }
      return Array(weight.indices.sorted { weight[$0] > weight[$1] }.prefix(k))
    }
  }
}
