import Foundation
import Testing
import Zoo
import ZooIO
import ZooNN
import ZooTensor
import ZooTestSupport

/// Weight files saved by Keras itself from a VGG16- or DenseNet-shaped model, in Keras's three
/// formats, with that model's logits (all by `Tools/make_keras_fixtures.py`).
struct KerasFixture: Decodable {
  let model: String
  let keras: String
  let backend: String
  let seed: Int
  let inputShape: [Int]
  let logitsShape: [Int]
  let logits: [Double]

  enum CodingKeys: String, CodingKey {
    case model, keras, backend, seed, logits
    case inputShape = "input_shape"
    case logitsShape = "logits_shape"
  }

  /// The three files: legacy weights, full model, Keras 3 weights.
  static let files: [(suffix: String, layout: WeightFileLayout)] = [
    (".h5", .keras), ("_full.h5", .kerasModel), (".weights.h5", .keras3),
  ]

  /// The zoo's network with the structure of the fixture's Keras model.
  func buildModel() throws -> Module {
    let classCount = logitsShape[1]
    switch model {
    case "vgg16_narrow": return KerasFixture.narrowVGG16(classCount: classCount)
    case "vgg19_narrow":
      return VGG(Self.narrowVGG19, classCount: classCount, rng: RandomStream(seed: 3))
    case "resnet_keras_small":
      return ResNet(Self.smallKerasResNet, classCount: classCount, rng: RandomStream(seed: 3))
    case "densenet_narrow":
      return DenseNet(Self.narrowDenseNet.keras, classCount: classCount, rng: RandomStream(seed: 3))
    default: return try ModelRegistry.entry(named: model).build(classCount: classCount)
    }
  }

  /// The declared table that maps the fixture's Keras names.
  var names: KerasNames {
    switch model {
    case "densenet_narrow":
      return KerasApplications.densenet(Self.narrowDenseNet, source: "keras.applications.DenseNet")
    case "vgg19_narrow":
      return KerasApplications.vgg(Self.narrowVGG19, source: "keras.applications.VGG19")
    case "resnet_keras_small":
      return KerasApplications.resnet(Self.smallKerasResNet, source: "keras.applications.ResNet")
    default: return KerasApplications.vgg16
    }
  }

  /// keras.applications.densenet's code at growth rate 4, a stem of 8, blocks of 1-2-2-1.
  static let narrowDenseNet = DenseNetConfiguration(
    growthRate: 4, layersPerBlock: [1, 2, 2, 1], initialFeatures: 8, bottleneckFactor: 4)

  /// VGG16's layer sequence at widths 4, 8, 8, 8, 8 with hidden layers of 16: block5_pool is
  /// 3x3x8 on a 96x96 input, so the pool before the classifier passes it through unchanged.
  static func narrowVGG16(classCount: Int = 10, seed: UInt64 = 3) -> VGG {
    let widths: [Int?] = [4, 4, nil, 8, 8, nil, 8, 8, 8, nil, 8, 8, 8, nil, 8, 8, 8, nil]
    let configuration = VGGConfiguration(
      layers: widths.map { $0.map(VGGLayer.conv) ?? .pool }, batchNorm: false, pooledSize: 3,
      hidden: [16, 16])
    return VGG(configuration, classCount: classCount, rng: RandomStream(seed: seed))
  }
}

/// Keras interop: files Keras wrote load into the zoo through the declared VGG16 name table,
/// with fc1's rows permuted from Keras's HWC order, and give Keras's logits; files the zoo
/// writes in Keras's layouts hold exactly what Keras writes for the same weights.
@Suite(.serialized) struct KerasInteropTests {
  static let tolerance: Float = 1e-4
  static let fixtures = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!
  static let narrow = fixtures.appendingPathComponent("vgg16_narrow.json")
  static let narrowDenseNet = fixtures.appendingPathComponent("densenet_narrow.json")
  /// A folder of further fixtures (`Tools/check_keras_interop.sh` puts full VGG16 there).
  static let extraFolder = ProcessInfo.processInfo.environment["ZOO_IO_KERAS_FIXTURES"]
  /// Where to leave zoo-written Keras files and their logits for `Tools/check_keras_export.py`.
  static let exportFolder = ProcessInfo.processInfo.environment["ZOO_IO_KERAS_EXPORT"]

  @Test(arguments: KerasFixture.files.map(\.suffix))
  func committedKerasFileGivesKerasLogits(_ suffix: String) throws {
    try Self.check(Self.narrow, suffix: suffix)
  }

  @Test(arguments: KerasFixture.files.map(\.suffix))
  func committedKerasDenseNetFileGivesKerasLogits(_ suffix: String) throws {
    try Self.check(Self.narrowDenseNet, suffix: suffix)
  }

  /// Keras counts batch-norm moving statistics among a model's weights (Keras 3.15,
  /// `weights=None`); the zoo keeps them as buffers.
  @Test(arguments: [
    ("densenet121-keras", 8_062_504), ("densenet169-keras", 14_307_880),
    ("densenet201-keras", 20_242_984),
  ])
  func kerasDenseNetsHoldKerasWeightCount(_ name: String, _ kerasCount: Int) throws {
    let model = try ModelRegistry.entry(named: name).build(rng: RandomStream(seed: 0))
    let buffers = model.namedBuffers().reduce(0) { $0 + $1.tensor.count }
    #expect(model.parameterCount + buffers == kerasCount)
    let norms = model.namedModules().compactMap { $0.module as? BatchNorm }
    #expect(norms.allSatisfy { $0.eps == 1.001e-5 })
  }

  @Test(.enabled(if: extraFolder != nil, "set ZOO_IO_KERAS_FIXTURES to check more fixtures"))
  func extraFixturesGiveKerasLogits() throws {
    let folder = URL(fileURLWithPath: Self.extraFolder!)
    let files = try FileManager.default.contentsOfDirectory(atPath: folder.path)
      .filter { $0.hasSuffix(".json") }.sorted()
    try #require(!files.isEmpty, "no fixtures in \(folder.path)")
    for file in files {
      for (suffix, _) in KerasFixture.files {
        try Self.check(folder.appendingPathComponent(file), suffix: suffix)
      }
    }
  }

  /// Reads the fixture's file in one format, maps Keras's names, loads strictly, runs. `model`
  /// and `names` replace what the fixture's model name gives; `tableInModelOrder` is false for
  /// a table in Keras's creation order (Inception's numbered layers).
  @discardableResult
  static func check(
    _ json: URL, suffix: String, model given: Module? = nil, names table: KerasNames? = nil,
    tableInModelOrder: Bool = true
  ) throws -> Float {
    let fixture = try JSONDecoder().decode(KerasFixture.self, from: Data(contentsOf: json))
    let name = json.deletingPathExtension().lastPathComponent
    let url = json.deletingLastPathComponent().appendingPathComponent(name + suffix)
    let start = Date()
    let read = try WeightFile.read(contentsOf: url)
    #expect(read.layout == KerasFixture.files.first { $0.suffix == suffix }!.layout)
    #expect(read.layers.allSatisfy { !$0.kindIsRecorded })
    #expect(read.metadata == WeightFileMetadata())
    let names = table ?? fixture.names
    #expect(names.applies(to: read))
    let weights = try read.renamed(by: names)
    // Keras 3 keeps layers by class and number (`batch_normalization_3`), not in model order.
    let order = { (names: [String]) in
      read.layout == .keras3 || !tableInModelOrder ? names.sorted() : names
    }
    #expect(order(weights.layers.map(\.path)) == order(names.renames.map(\.zoo)))
    #expect(order(weights.layers.map(\.fileName)) == order(names.renames.map(\.keras)))

    let model = try given ?? fixture.buildModel()
    let report = try weights.load(into: model)
    #expect(report.loaded.count == model.stateDict().count)
    if model is VGG {
      // fc1's rows were put into the zoo's order, not copied as the file's transpose has them.
      let fc1 = try #require(model.stateDict().first { $0.path == "classifier.0.weight" })
      #expect(fc1.tensor.scalars != weights.tensors["classifier.0.weight"]!.scalars)
    }
    model.setTraining(false)
    let logits = try model(sineInput(fixture.inputShape))
    #expect(logits.shape == fixture.logitsShape)
    let difference = relativeDifference(logits.scalars, fixture.logits.map { Float($0) })
    print(
      "\(name)\(suffix): \(read.layout.rawValue), \(report.loaded.count) tensors; logits differ"
        + " from Keras \(fixture.keras) (\(fixture.backend)) by \(difference) relative"
        + " (\(String(format: "%.1f", Date().timeIntervalSince(start))) s)")
    #expect(difference < tolerance, "\(name)\(suffix): logits differ by \(difference) relative")
    return difference
  }

  /// The narrow model with the committed Keras weights.
  static func narrowWithKerasWeights() throws -> VGG {
    let model = KerasFixture.narrowVGG16()
    let url = fixtures.appendingPathComponent("vgg16_narrow.h5")
    try WeightFile.read(contentsOf: url).renamed(by: KerasApplications.vgg16).load(into: model)
    return model
  }

  /// The zoo's legacy export holds Keras's datasets bit for bit, fc1's permuted rows included,
  /// under the zoo's layer names.
  @Test func kerasExportHoldsWhatKerasWrote() throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    let url = folder.file("narrow.h5")
    try WeightFile.write(try Self.narrowWithKerasWeights(), format: .keras, to: url)
    let zoo = try HDF5File.open(url)
    let keras = try HDF5File.open(Self.fixtures.appendingPathComponent("vgg16_narrow.h5"))
    for rename in KerasApplications.vgg16.renames {
      for weight in ["kernel", "bias"] {
        let expected = try keras.root.readFloats("\(rename.keras)/\(rename.keras)/\(weight)")
        let written = try zoo.root.readFloats("\(rename.zoo)/\(rename.zoo)/\(weight):0")
        #expect(written.info.shape == expected.info.shape, "\(rename.zoo) \(weight)")
        #expect(written.values == expected.values, "\(rename.zoo) \(weight) differs from Keras's")
      }
    }
    let fc1 = try zoo.root.group("classifier.0").attribute("zoo_flattened_input")
    #expect(fc1?.values == .integers([8, 3, 3]))
  }

  /// The zoo's Keras 3 export has Keras's own keys (`layers/conv2d_12/vars/1`) and values.
  @Test func keras3ExportHoldsWhatKerasWrote() throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    let url = folder.file("narrow.weights.h5")
    let paths = try Self.expectKeras3Export(
      of: try Self.narrowWithKerasWeights(), to: url, as: "vgg16_narrow.weights.h5")
    #expect(paths.count == 32)
    let name = try HDF5File.open(url).root.group("layers/dense/vars").attribute("name")
    #expect(name?.values == .strings(["classifier.0"]))
  }

  /// Writes `model` to `url` in Keras 3's layout and expects every dataset of the fixture
  /// `kerasFile`, bit for bit, at the same path and nothing else; returns the paths.
  @discardableResult
  static func expectKeras3Export(of model: Module, to url: URL, as kerasFile: String) throws
    -> [String]
  {
    try WeightFile.write(model, format: .keras3, to: url)
    let zoo = try HDF5File.open(url)
    let keras = try HDF5File.open(fixtures.appendingPathComponent(kerasFile))
    let paths = try keras.root.datasetPaths().sorted()
    #expect(try zoo.root.datasetPaths().sorted() == paths)
    for path in paths {
      let expected = try keras.root.readFloats(path)
      let written = try zoo.root.readFloats(path)
      #expect(written.info.shape == expected.info.shape, "\(path)")
      #expect(written.values == expected.values, "\(path) differs from Keras's")
    }
    return paths
  }

  @Test(arguments: WeightFileFormat.allCases)
  func kerasWeightsRoundTripThroughEitherFormat(_ format: WeightFileFormat) throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    let original = try Self.narrowWithKerasWeights()
    let url = folder.file(format == .keras ? "narrow.h5" : "narrow.weights.h5")
    try WeightFile.write(original, format: format, to: url)
    let read = try WeightFile.read(contentsOf: url)
    #expect(read.layout == (format == .keras ? .keras : .keras3))
    #expect(read.layers.allSatisfy { $0.kindIsRecorded })
    let copy = KerasFixture.narrowVGG16(seed: 9)
    try read.load(into: copy)
    #expect(firstDifference(original, copy) == nil)
  }

  @Test func kerasFileForAnotherWidthNamesTheLayerAndBothShapes() throws {
    let url = Self.fixtures.appendingPathComponent("vgg16_narrow.weights.h5")
    let weights = try WeightFile.read(contentsOf: url).renamed(by: KerasApplications.vgg16)
    let model = try ModelRegistry.entry(named: "vgg16").build(classCount: 10)
    let before = snapshot(model)
    #expect(
      throws: WeightFileError.shapeMismatch(
        path: "features.0.weight (layer 'block1_conv1' in the file)", expected: [64, 3, 3, 3],
        found: [4, 3, 3, 3])
    ) { try weights.load(into: model) }
    #expect(unchanged(model, since: before))
  }

  @Test func kerasLayerTheTableDoesNotNameIsRefused() throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    let url = folder.file("renamed.h5")
    try FileManager.default.copyItem(
      at: Self.fixtures.appendingPathComponent("vgg16_narrow.h5"), to: url)
    let file = try HDF5File.openForUpdate(url)
    try file.root.moveLink("fc2", to: "dense_7")
    let names = try #require(try file.root.attribute("layer_names"))
    guard case .strings(let layerNames) = names.values else {
      Issue.record("Keras's layer_names are not strings: \(names)")
      return
    }
    try file.root.setAttribute(
      "layer_names", strings: layerNames.map { $0 == "fc2" ? "dense_7" : $0 })
    try file.close()

    let read = try WeightFile.read(contentsOf: url)
    #expect(
      throws: WeightFileError.unmappedLayers(
        ["dense_7"], source: "keras.applications.VGG16",
        known: KerasApplications.vgg16.renames.map(\.keras))
    ) { try read.renamed(by: KerasApplications.vgg16) }
  }

  @Test func keras3LayersZooCannotReadAreRefused() throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    func file(_ name: String, _ build: (HDF5Group) throws -> Void) throws -> URL {
      let url = folder.file(name)
      let file = try HDF5File.create(url)
      try build(file.root)
      try file.close()
      return url
    }
    // Moving statistics without scale or offset (scale=False, center=False).
    let statisticsOnly = try file("statistics.weights.h5") { root in
      for index in 0..<2 {
        try root.createDataset(
          "layers/batch_normalization/vars/\(index)", shape: [4], floats: [1, 2, 3, 4])
      }
    }
    #expect(
      throws: WeightFileError.variableCount(
        layer: "batch_normalization", key: "batch_normalization", kind: "BatchNormalization",
        expected: ["gamma", "beta", "moving_mean", "moving_variance"], found: 2)
    ) { try WeightFile.read(contentsOf: statisticsOnly) }

    let embedding = try file("embedding.weights.h5") { root in
      try root.createDataset(
        "layers/embedding_2/vars/0", shape: [4, 2], floats: Array(repeating: 1, count: 8))
      try root.group("layers/embedding_2/vars").setAttribute(
        "name", strings: ["words"], scalar: true, variableLength: true)
    }
    #expect(
      throws: WeightFileError.unknownLayerKind(
        layer: "words",
        reason:
          "Keras 3 stores it under layers/embedding_2, a embedding layer; the zoo reads conv2d,"
          + " conv2d_transpose, dense, batch_normalization, depthwise_conv2d, separable_conv2d,"
          + " layer_normalization, layer_scale, normalization")
    ) { try WeightFile.read(contentsOf: embedding) }

    let modelVariable = try file("modelvar.weights.h5") { root in
      try root.createDataset("layers/dense/vars/0", shape: [2, 3], floats: [1, 2, 3, 4, 5, 6])
      try root.createDataset("vars/0", shape: [1], floats: [1])
    }
    #expect(throws: WeightFileError.unlistedDatasets(["/vars/0"])) {
      try WeightFile.read(contentsOf: modelVariable)
    }
  }

  /// Writes vgg16 (seeded, biases randomised) and the narrow model with Keras's weights in
  /// both Keras formats, with the zoo's logits, for `Tools/check_keras_export.py` to load into
  /// Keras.
  @Test(.enabled(if: exportFolder != nil, "set ZOO_IO_KERAS_EXPORT to export files for Keras"))
  func exportForKeras() throws {
    let vgg16 = try ModelRegistry.entry(named: "vgg16").build(rng: RandomStream(seed: 1))
    randomize(vgg16, seed: 7)
    try Self.export(
      [
        ("vgg16_narrow", try Self.narrowWithKerasWeights(), [2, 3, 96, 96]),
        ("vgg16", vgg16, [1, 3, 224, 224]),
      ])
  }

  /// Each model in both Keras formats, with its logits on `sineInput(inputShape)`, in the
  /// folder ZOO_IO_KERAS_EXPORT names.
  static func export(_ models: [(String, Module, [Int])]) throws {
    let folder = URL(fileURLWithPath: exportFolder!)
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    for (name, model, inputShape) in models {
      try WeightFile.write(model, format: .keras, to: folder.appendingPathComponent("\(name).h5"))
      try WeightFile.write(
        model, format: .keras3, to: folder.appendingPathComponent("\(name).weights.h5"))
      model.setTraining(false)
      let logits = try model(sineInput(inputShape))
      let json: [String: Any] = [
        "model": name, "input_shape": inputShape, "logits_shape": logits.shape,
        "logits": logits.scalars.map(Double.init),
      ]
      try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys])
        .write(to: folder.appendingPathComponent("\(name).json"))
    }
  }
}
