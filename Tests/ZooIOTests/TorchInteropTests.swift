import Foundation
import Testing
import Zoo
import ZooIO
import ZooNN
import ZooTensor
import ZooTestSupport

/// A weight file written by h5py from a torchvision model, with that model's logits (both by
/// `Tools/make_io_fixtures.py`).
struct InteropFixture: Decodable {
  let model: String
  let torch: String
  let torchvision: String
  let seed: Int
  let bits: Int
  let classCount: Int
  let inputShape: [Int]
  let logitsShape: [Int]
  let logits: [Double]

  enum CodingKeys: String, CodingKey {
    case model, torch, torchvision, seed, bits, logits
    case classCount = "class_count"
    case inputShape = "input_shape"
    case logitsShape = "logits_shape"
  }

  /// The input the script used: element i is 1.5 sin(0.011 i).
  var input: Tensor { sineInput(inputShape) }

  /// The zoo's model with torchvision's structure: a registry model, or one of the committed
  /// fixtures' small members (resnet18 with one block per stage, a narrow DenseNet,
  /// mobilenet_v2 at width 0.1, efficientnet_b0 at width 0.1 and depth 0.5, mobilenet_v3_small
  /// at width 0.25, a ConvNeXt of widths 8 to 64 with one block per stage).
  func buildModel() throws -> Module {
    switch model {
    case "resnet_basic_1111":
      return ResNet(
        .imageNet(.basic, [1, 1, 1, 1]), classCount: classCount, rng: RandomStream(seed: 3))
    case "densenet_small":
      let configuration = DenseNetConfiguration(
        growthRate: 8, layersPerBlock: [2, 3, 4, 3], initialFeatures: 16, bottleneckFactor: 4)
      return DenseNet(configuration, classCount: classCount, rng: RandomStream(seed: 3))
    case "mobilenet_v2_w010":
      return MobileNetV2(widthMultiplier: 0.1, classCount: classCount, rng: RandomStream(seed: 3))
    case "efficientnet_b0_w010_d050":
      let configuration = EfficientNetConfiguration(
        widthMultiplier: 0.1, depthMultiplier: 0.5, dropout: 0.2)
      return EfficientNet(configuration, classCount: classCount, rng: RandomStream(seed: 3))
    case "mobilenet_v3_small_w025":
      return MobileNetV3(
        .small, widthMultiplier: 0.25, classCount: classCount, rng: RandomStream(seed: 3))
    case "convnext_8_16_32_64":
      let stages = [8, 16, 32, 64].map { ConvNeXtConfiguration.Stage($0, 1) }
      return ConvNeXt(
        ConvNeXtConfiguration(stages, stochasticDepth: 0.1), classCount: classCount,
        rng: RandomStream(seed: 3))
    default: break
    }
    return try ModelRegistry.entry(named: model).build(
      classCount: classCount, rng: RandomStream(seed: 3))
  }
}

/// PyTorch interop: torchvision's weights, converted by `Tools/convert_torch.py` and written by
/// h5py, load strictly into the zoo's model and give torchvision's logits.
struct TorchInteropTests {
  static let tolerance: Float = 1e-4
  /// A folder of further fixtures (`Tools/check_torch_interop.sh` makes full resnet18 there).
  static let extraFolder = ProcessInfo.processInfo.environment["ZOO_IO_TORCH_FIXTURES"]

  @Test(
    arguments: [
      "resnet_basic_1111", "densenet_small", "mobilenet_v2_w010", "efficientnet_b0_w010_d050",
      "mobilenet_v3_small_w025", "convnext_8_16_32_64",
    ])
  func committedTorchvisionModelGivesTorchvisionLogits(_ name: String) throws {
    let json = try #require(
      Bundle.module.url(forResource: name, withExtension: "json", subdirectory: "Fixtures"))
    try Self.check(json)
  }

  @Test(.enabled(if: extraFolder != nil, "set ZOO_IO_TORCH_FIXTURES to check more fixtures"))
  func extraFixturesGiveTorchvisionLogits() throws {
    let folder = URL(fileURLWithPath: Self.extraFolder!)
    let files = try FileManager.default.contentsOfDirectory(atPath: folder.path)
      .filter { $0.hasSuffix(".json") }.sorted()
    try #require(!files.isEmpty, "no fixtures in \(folder.path)")
    for file in files { try Self.check(folder.appendingPathComponent(file)) }
  }

  /// Where to leave zoo-written files for `Tools/check_h5.py` (h5py) to read back.
  static let exportFolder = ProcessInfo.processInfo.environment["ZOO_IO_EXPORT_FOLDER"]
  static let exported = ["lenet5", "alexnet", "vgg11_bn", "resnet18", "resnet50", "unet-small"]

  @Test(.enabled(if: exportFolder != nil, "set ZOO_IO_EXPORT_FOLDER to export files for h5py"))
  func exportForH5py() throws {
    let folder = URL(fileURLWithPath: Self.exportFolder!)
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    for name in Self.exported {
      let entry = try ModelRegistry.entry(named: name)
      let model = entry.build(rng: RandomStream(seed: 1))
      let metadata = WeightFileMetadata(
        architecture: name, classCount: entry.defaultClassCount, inputShape: entry.inputShape)
      try WeightFile.write(
        model, metadata: metadata, to: folder.appendingPathComponent("\(name).h5"))
    }
  }

  static func check(_ json: URL) throws {
    let fixture = try JSONDecoder().decode(InteropFixture.self, from: Data(contentsOf: json))
    let weights = json.deletingPathExtension().appendingPathExtension("h5")
    let loaded = try WeightFile.read(contentsOf: weights)

    let metadata = loaded.metadata
    #expect(metadata.architecture == fixture.model)
    #expect(metadata.classCount == fixture.classCount)
    #expect(metadata.inputShape == Array(fixture.inputShape.dropFirst()))
    #expect(metadata.classNames == (0..<fixture.classCount).map { "class \($0)" })
    #expect(metadata.normalizationMean == [0.485, 0.456, 0.406])
    #expect(metadata.normalizationStd == [0.229, 0.224, 0.225])
    let card = try #require(metadata.modelCard)
    let parsed = try JSONSerialization.jsonObject(with: Data(card.utf8)) as? [String: Any]
    #expect(parsed?["seed"] as? Int == fixture.seed)

    let model = try fixture.buildModel()
    let report = try loaded.load(into: model)
    #expect(report.loaded.count == model.stateDict().count)
    model.setTraining(false)
    let logits = try model(fixture.input)
    #expect(logits.shape == fixture.logitsShape)
    let difference = relativeDifference(logits.scalars, fixture.logits.map { Float($0) })
    print(
      "\(fixture.model): \(report.loaded.count) tensors from h5py; logits differ from"
        + " torchvision \(fixture.torchvision) by \(difference) relative")
    #expect(difference < tolerance, "\(fixture.model): logits differ by \(difference) relative")
  }
}
