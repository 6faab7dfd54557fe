import Foundation
import Testing
import Zoo
import ZooNN
import ZooTensor
import ZooTestSupport

/// torchvision's logits for one architecture on formula weights, read from
/// `Fixtures/torchvision/<name>.json` (written by `Tools/make_torchvision_fixtures.py`).
struct TorchvisionFixture: Decodable {
  struct StateEntry: Decodable, Equatable, CustomStringConvertible {
    let key: String
    let shape: [Int]

    var description: String { "\(key) \(shape)" }
  }

  let model: String
  let torch: String
  let torchvision: String
  let classCount: Int
  let formula: DeterministicWeights
  /// torchvision's state-dict keys and shapes in order, without `num_batches_tracked`.
  let state: [StateEntry]
  let inputShape: [Int]
  let logitsShape: [Int]
  let logits: [Double]

  enum CodingKeys: String, CodingKey {
    case model, torch, torchvision, formula, state, logits
    case classCount = "class_count"
    case inputShape = "input_shape"
    case logitsShape = "logits_shape"
  }

  struct MissingFixture: Error, CustomStringConvertible {
    let name: String
    var description: String { "no fixture Fixtures/torchvision/\(name).json in the test bundle" }
  }

  static func load(_ name: String) throws -> TorchvisionFixture {
    guard
      let url = Bundle.module.url(
        forResource: name, withExtension: "json", subdirectory: "Fixtures/torchvision")
    else { throw MissingFixture(name: name) }
    return try JSONDecoder().decode(TorchvisionFixture.self, from: Data(contentsOf: url))
  }
}

/// Forward parity with torchvision: the registry's model and torchvision's, filled with the same
/// formula weights (`DeterministicWeights`), give the same logits in inference mode within 1e-4
/// relative, and have the same state-dict keys and shapes. For `unet-resnet18` the reference
/// is torchvision's resnet18 under a decoder written after segmentation_models.pytorch's.
@Suite(.serialized) struct TorchvisionParityTests {
  static let tolerance: Float = 1e-4
  static let models = [
    "alexnet", "vgg11", "vgg11_bn", "vgg16", "resnet18", "resnet34", "resnet50",
    "densenet121", "densenet169", "densenet201", "mobilenet_v2", "efficientnet_b0",
    "mobilenet_v3_large", "mobilenet_v3_small",
    // torchvision's resnet18 as the encoder of a transcribed segmentation_models.pytorch
    // decoder: per-pixel logits (1, 2, 32, 64).
    "unet-resnet18",
    // Rectangular (1x7, 7x1, 1x3, 3x1) convolutions; the auxiliary classifier's weights are in
    // the state dict but, in inference, not in the logits.
    "inception_v3",
    // Layer norms over channels, channels-last linear layers and layer scales (C, 1, 1), which
    // the formula fills as weights of fan-in 1.
    "convnext_tiny",
    // The zoo's autoencoders against PyTorch twins (Tools/autoencoder_torch.py): transposed
    // convolutions up from a dense layer's (32, 7, 7) map, latent size 8.
    "autoencoder", "vae",
  ]

  @Test(arguments: models)
  func logitsMatchTorchvision(_ name: String) throws {
    let fixture = try TorchvisionFixture.load(name)
    #expect(fixture.model == name)
    #expect(fixture.formula == DeterministicWeights())
    let model = try ModelRegistry.entry(named: name).build(
      classCount: fixture.classCount, inputChannels: fixture.inputShape[1],
      rng: RandomStream(seed: 0))
    let state = model.stateDict().map {
      TorchvisionFixture.StateEntry(key: $0.path, shape: $0.tensor.shape)
    }
    try #require(
      state == fixture.state,
      "\(name): state dict differs from torchvision's: \(Self.firstDifference(state, fixture.state))"
    )

    try fixture.formula.fill(model)
    model.setTraining(false)
    let logits = try model(fixture.formula.input(shape: fixture.inputShape))
    #expect(logits.shape == fixture.logitsShape)
    let difference = relativeDifference(logits.scalars, fixture.logits.map { Float($0) })
    print("\(name): logits differ from torchvision's by \(difference) relative")
    #expect(
      difference < Self.tolerance,
      "\(name): logits differ from torchvision \(fixture.torchvision) by \(difference) relative")
  }

  static func firstDifference<T: CustomStringConvertible & Equatable>(_ ours: [T], _ theirs: [T])
    -> String
  {
    let index =
      zip(ours, theirs).enumerated().first { $1.0 != $1.1 }?.offset ?? min(ours.count, theirs.count)
    let mine = index < ours.count ? ours[index].description : "nothing"
    let reference = index < theirs.count ? theirs[index].description : "nothing"
    return "entry \(index): ours \(mine), torchvision \(reference)"
  }
}
