import Explain
import Foundation
import Testing
import Zoo
import ZooNN
import ZooTensor
import ZooTestSupport

/// pytorch-grad-cam's and Captum's attributions for torchvision's resnet18 on formula weights,
/// read from `Fixtures/explain_resnet18.json` (written by `Tools/make_explain_fixtures.py`).
struct ExplainFixture: Decodable {
  struct CAM: Decodable {
    let heatmap: [Double]
    let raw: [Double]
    let rawShape: [Int]
    enum CodingKeys: String, CodingKey {
      case heatmap, raw
      case rawShape = "raw_shape"
    }
  }

  let formula: DeterministicWeights
  let classCount: Int
  let inputShape: [Int]
  let classes: [Int]
  let layer: String
  let steps: Int
  let gradcam: CAM
  let gradcamPlusPlus: CAM
  let saliency: [Double]
  let integratedGradients: [Double]
  let integratedGradientsDelta: [Double]
  /// How far Captum's float32 attributions are from the same sum in float64.
  let integratedGradientsFloat32Error: Double
  /// An input at whose path points Captum's float32 gradients equal the float64 ones, Captum's
  /// attributions for it (float32) and the same sum in float64.
  let smoothInput: [Float]
  let integratedGradientsSmooth: [Double]
  let integratedGradientsSmoothDelta: [Double]
  let integratedGradientsSmoothFloat64: [Double]
  /// Captum's attributions for that input with PyTorch's other convolution configurations
  /// (oneDNN off, batch norms folded), where they differ from the default's by over 1e-5.
  let integratedGradientsSmoothConfigurations: [String: CaptumResult]
  /// Per image, the smallest |ReLU input| at any path point, in float64.
  let smoothKinkMargin: [Double]
  /// The largest float32 vs float64 gradient difference at a path point, per input.
  let pathPointGradientError: [String: Double]

  struct CaptumResult: Decodable {
    let attributions: [Double]
    let delta: [Double]
  }

  enum CodingKeys: String, CodingKey {
    case formula, classes, layer, steps, gradcam, saliency
    case classCount = "class_count"
    case inputShape = "input_shape"
    case gradcamPlusPlus = "gradcam_plus_plus"
    case integratedGradients = "integrated_gradients"
    case integratedGradientsDelta = "integrated_gradients_delta"
    case integratedGradientsFloat32Error = "integrated_gradients_float32_error"
    case smoothInput = "smooth_input"
    case integratedGradientsSmooth = "integrated_gradients_smooth"
    case integratedGradientsSmoothDelta = "integrated_gradients_smooth_delta"
    case integratedGradientsSmoothFloat64 = "integrated_gradients_smooth_float64"
    case integratedGradientsSmoothConfigurations = "integrated_gradients_smooth_configurations"
    case smoothKinkMargin = "smooth_kink_margin"
    case pathPointGradientError = "path_point_gradient_error"
  }

  static func load() throws -> ExplainFixture {
    let url = try #require(
      Bundle.module.url(
        forResource: "explain_resnet18", withExtension: "json", subdirectory: "Fixtures"))
    return try JSONDecoder().decode(ExplainFixture.self, from: Data(contentsOf: url))
  }
}

/// The largest `|ours - reference|`, after checking the counts agree.
func maxDifference(_ ours: [Float], _ reference: [Double]) -> Double {
  #expect(ours.count == reference.count)
  return zip(ours, reference).map { abs(Double($0) - $1) }.max() ?? .infinity
}

/// Grad-CAM, Grad-CAM++, saliency and Integrated Gradients agree with pytorch-grad-cam's and
/// Captum's within 1e-4 on the same weights and input.
@Suite struct ExplainParityTests {
  let fixture: ExplainFixture
  let model: Module
  let input: Tensor

  init() throws {
    fixture = try ExplainFixture.load()
    #expect(fixture.formula == DeterministicWeights())
    model = try ModelRegistry.entry(named: "resnet18").build(classCount: fixture.classCount)
    try fixture.formula.fill(model)
    model.setTraining(false)
    input = fixture.formula.input(shape: fixture.inputShape)
  }

  @Test(arguments: [GradCAM.Weighting.gradient, .gradientPlusPlus])
  func classActivationMapsMatchPytorchGradCAM(_ weighting: GradCAM.Weighting) throws {
    let reference = weighting == .gradient ? fixture.gradcam : fixture.gradcamPlusPlus
    let attribution = try GradCAM(weighting, layerPath: fixture.layer)
      .attribute(model, inputs: input, classes: fixture.classes)
    #expect(attribution.values.shape == reference.rawShape)
    let raw = maxDifference(attribution.values.scalars, reference.raw)
    let heatmap = maxDifference(attribution.heatmap.scalars, reference.heatmap)
    print("\(weighting): raw map max difference \(raw), heatmap \(heatmap)")
    #expect(raw <= 1e-4)
    #expect(heatmap <= 1e-4)
  }

  @Test func saliencyMatchesCaptum() throws {
    let attribution = try Saliency().attribute(model, inputs: input, classes: fixture.classes)
    let difference = maxDifference(attribution.values.scalars, fixture.saliency)
    print("saliency: max difference \(difference)")
    #expect(difference <= 1e-4)
  }

  /// Captum's Integrated Gradients: the convergence delta (the attributions' sum) within 1e-4,
  /// and every attribution at least as close to Captum's as Captum's float32 result is to the
  /// float64 one. Path points near a ReLU or max-pool kink make single gradients flip with
  /// float32 rounding, so no float32 implementation can promise 1e-4 per element there.
  /// Convolutions run by im2col and GEMM as PyTorch's do; Winograd's transforms (taken for the
  /// larger batches of path points) round differently, which the test prints.
  @Test func integratedGradientsMatchCaptum() throws {
    let method = IntegratedGradients(steps: fixture.steps, batchSize: 25)
    let attribution = try Winograd.$isEnabled.withValue(false) {
      try method.attribute(model, inputs: input, classes: fixture.classes)
    }
    let difference = maxDifference(attribution.values.scalars, fixture.integratedGradients)
    let delta = maxDifference(
      try #require(attribution.convergenceDelta), fixture.integratedGradientsDelta)
    let winograd = maxDifference(
      try method.attribute(model, inputs: input, classes: fixture.classes).values.scalars,
      fixture.integratedGradients)
    print(
      "integrated gradients: max difference \(difference) (\(winograd) with Winograd; Captum float32 vs float64 \(fixture.integratedGradientsFloat32Error)), convergence delta \(delta)"
    )
    #expect(difference <= fixture.integratedGradientsFloat32Error)
    #expect(winograd <= fixture.integratedGradientsFloat32Error)
    #expect(delta <= 1e-4)
  }

  /// On an input where Captum's float32 gradient equals the float64 one at every path point,
  /// Captum's result still depends on PyTorch's convolution configuration: a few path points
  /// hold a ReLU input within a few 1e-6 of 0 (smallest 1.3e-7 and 2.9e-7 in float64), inside
  /// the rounding of its 576-term sum, and each float32 computation (oneDNN or im2col, batch
  /// norm folded or not, here as in PyTorch) puts it on one side. One flip moves an attribution
  /// by up to 6.2e-4. So the zoo, in each of its own configurations, must equal Captum in one
  /// of PyTorch's within 1e-4.
  @Test func integratedGradientsMatchCaptumConfigurations() throws {
    #expect(fixture.pathPointGradientError["smooth"]! <= 1e-5)
    let smooth = Tensor(shape: fixture.inputShape, scalars: fixture.smoothInput)
    let method = IntegratedGradients(steps: fixture.steps, batchSize: 25)
    let captum =
      [("default", fixture.integratedGradientsSmooth, fixture.integratedGradientsSmoothDelta)]
      + fixture.integratedGradientsSmoothConfigurations.sorted { $0.key < $1.key }
      .map { ($0.key, $0.value.attributions, $0.value.delta) }
    let spread = captum.map {
      maxDifference($0.1.map(Float.init), fixture.integratedGradientsSmooth)
    }
    .max()!
    for (winograd, fold) in [(false, true), (true, true), (false, false), (true, false)] {
      let attribution = try Winograd.$isEnabled.withValue(winograd) {
        try BatchNormFolding.$isEnabled.withValue(fold) {
          try method.attribute(model, inputs: smooth, classes: fixture.classes)
        }
      }
      let delta = try #require(attribution.convergenceDelta)
      let differences = captum.map { name, attributions, captumDelta in
        (
          name, maxDifference(attribution.values.scalars, attributions),
          maxDifference(delta, captumDelta)
        )
      }
      let nearest = differences.min { $0.1 < $1.1 }!
      print(
        "integrated gradients, Winograd \(winograd), batch norm folded \(fold): max difference from Captum \(differences.map { "\($0.0) \($0.1)" }.joined(separator: ", ")) (Captum's own spread \(spread), smallest |ReLU input| \(fixture.smoothKinkMargin)); nearest \(nearest.0), convergence delta \(nearest.2)"
      )
      #expect(nearest.1 <= 1e-4)
      #expect(nearest.2 <= 1e-4)
    }
  }
}
