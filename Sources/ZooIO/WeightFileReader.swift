import ZooTensor

/// Reads a weight file's layers by name, as Keras's `load_weights` does: `layer_names` at the
/// root, then each group's `weight_names`, each opened by its exact relative path.
struct WeightFileReader {
  let file: HDF5File

  /// Tells the three layouts apart: `layer_names` at the root (the native file, Keras's
  /// legacy weights), under `/model_weights` (a full Keras model), or a `layers` group (Keras 3).
  func read() throws -> LoadedWeights {
    let root = file.root
    var collector = LayerCollector()
    let layout: WeightFileLayout
    if let layerNames = try readStringList(named: "layer_names", of: root) {
      layout = .keras
      try readLegacy(root, layerNames, into: &collector)
    } else if try root.kind(of: "model_weights") == .group,
      let layerNames = try readStringList(named: "layer_names", of: root.group("model_weights"))
    {
      layout = .kerasModel
      try readLegacy(
        root.group("model_weights"), layerNames, eps: try readBatchNormEps(root),
        into: &collector)
    } else if try root.kind(of: Keras3Layout.layersGroup) == .group {
      layout = .keras3
      try Keras3Layout.read(root, with: self, into: &collector)
    } else {
      throw WeightFileError.missingAttribute(object: "/", attribute: "layer_names")
    }
    return LoadedWeights(
      layout: layout, metadata: try readMetadata(root), layers: collector.layers,
      tensors: collector.tensors, datasetsWithoutChecksum: collector.datasetsWithoutChecksum)
  }

  /// Keras's legacy layout below `weights` (the root, or `/model_weights`). A layer's eps is
  /// the one the zoo records on its group, else the one `eps` gives for its name.
  private func readLegacy(
    _ weights: HDF5Group, _ layerNames: [String], eps: [String: Float] = [:],
    into collector: inout LayerCollector
  ) throws {
    var seen = Set<String>()
    var listed = Set<String>()
    for name in layerNames {
      guard seen.insert(name).inserted else { throw WeightFileError.duplicateLayer(name: name) }
      guard try weights.kind(of: name) == .group else {
        throw WeightFileError.missingObject(
          path: weights.absolutePath(name), listedIn: "layer_names")
      }
      let group = weights.group(name)
      guard let weightNames = try readStringList(named: "weight_names", of: group) else {
        throw WeightFileError.missingAttribute(object: group.path, attribute: "weight_names")
      }
      // Keras skips layers without weights.
      guard !weightNames.isEmpty else { continue }
      var read: [KerasWeight] = []
      for weightName in weightNames {
        let dataset = group.absolutePath(weightName)
        guard try group.kind(of: weightName) == .dataset else {
          throw WeightFileError.missingObject(
            path: dataset, listedIn: "weight_names of \(group.path)")
        }
        read.append(try readWeight(Self.shortName(weightName), weightName, of: group))
        listed.insert(dataset)
      }
      let recorded = try readKind(of: group)
      let kind = try recorded ?? Self.inferKind(name, read.map { ($0.name, $0.shape) })
      try collector.add(
        WeightFileLayer(
          path: name, fileName: name, kind: kind, kindIsRecorded: recorded != nil,
          eps: try readEps(of: group) ?? eps[name], tensorPaths: []),
        flattenedInput: try readFlattenedInput(of: group), weights: read)
    }
    let unlisted = try weights.datasetPaths().map(weights.absolutePath)
      .filter { !listed.contains($0) }
    guard unlisted.isEmpty else { throw WeightFileError.unlistedDatasets(unlisted) }
  }

  /// The float32 dataset `name` of `group`, checked before its values are allocated. A
  /// `Normalization` layer's `count` (`kind` nil: inferred later from the names) may be an
  /// integer scalar, as Keras keeps it.
  func readWeight(_ kerasName: String, _ name: String, of group: HDF5Group, kind: LayerKind? = nil)
    throws -> KerasWeight
  {
    let dataset = group.absolutePath(name)
    let count = (kind ?? .normalization).isCount(kerasName)
    let (info, values) = try group.readFloats(name) {
      try Self.check($0, dataset, integerScalar: count)
    }
    return KerasWeight(
      name: kerasName, dataset: dataset, shape: info.shape, values: values,
      hasChecksum: info.hasChecksum)
  }

  /// `conv1/kernel:0` (Keras 2) or `conv1/kernel` (Keras 3) to `kernel`.
  static func shortName(_ weightName: String) -> String {
    let last = weightName.split(separator: "/").last.map(String.init) ?? weightName
    guard let colon = last.lastIndex(of: ":"),
      last[last.index(after: colon)...].allSatisfy(\.isNumber)
    else { return last }
    return String(last[..<colon])
  }

  /// Refuses a dataset before its values are allocated: wrong type, absurd size, or fewer
  /// stored bytes than declared.
  static func check(_ info: HDF5DatasetInfo, _ dataset: String, integerScalar: Bool = false)
    throws
  {
    if integerScalar, case .integer(let bits, _) = info.elementType, bits <= 64, info.shape == [] {
      return
    }
    guard info.elementType == .float32 else {
      throw WeightFileError.wrongDType(dataset: dataset, found: info.elementType.description)
    }
    guard let count = info.elementCount, count <= WeightFile.maximumElementCount else {
      throw WeightFileError.shapeTooLarge(dataset: dataset, shape: info.shape)
    }
    let declared = count * 4
    let stored = info.storedBytes
    let ratio = WeightFile.maximumCompressionRatio
    let complete = info.isFiltered ? stored >= (declared + ratio - 1) / ratio : stored >= declared
    guard complete else {
      throw WeightFileError.missingData(
        dataset: dataset, declaredBytes: declared, storedBytes: stored)
    }
  }

  /// The kind of a layer written without `zoo_layer` (by Keras): batch norm and Keras 2's
  /// DepthwiseConv2D by their weight names (layer normalisation has a scale and an offset but
  /// no moving statistics), otherwise by the kernel's rank. Transposed convolutions read as
  /// convolutions, which share their layout; so do Keras 3's depthwise kernels (named
  /// `kernel`), until the model they load into tells them apart
  /// (`LoadedWeights.withDepthwiseKernels`).
  static func inferKind(_ layer: String, _ weights: [(name: String, shape: [Int])]) throws
    -> LayerKind
  {
    let names = Set(weights.map(\.name))
    if names == ["gamma", "beta"] { return .layerNorm }
    if names == ["mean", "variance", "count"] { return .normalization }
    if !names.isDisjoint(with: ["gamma", "beta", "moving_mean", "moving_variance"]) {
      return .batchNorm
    }
    // A separable convolution has a depthwise kernel too.
    if names.contains("pointwise_kernel") { return .separableConv2d }
    if names.contains("depthwise_kernel") { return .depthwiseConv2d }
    guard let kernel = weights.first(where: { $0.name == "kernel" }) else {
      throw WeightFileError.unknownLayerKind(
        layer: layer,
        reason:
          "it has no zoo_layer attribute and no kernel to tell by (weights: "
          + weights.map(\.name).joined(separator: ", ") + ")")
    }
    switch kernel.shape.count {
    case 4: return .conv2d
    case 2: return .linear
    default:
      throw WeightFileError.unknownLayerKind(
        layer: layer,
        reason:
          "it has no zoo_layer attribute and its kernel has shape"
          + " \(describe(shape: kernel.shape)), neither a convolution's nor a dense layer's")
    }
  }

  func readKind(of group: HDF5Group) throws -> LayerKind? {
    guard let text = try string(WeightFile.LayerAttribute.kind, of: group) else { return nil }
    guard let kind = LayerKind(rawValue: text) else {
      throw WeightFileError.unknownLayerKind(
        layer: String(group.path.dropFirst()), reason: "the file records kind '\(text)'")
    }
    return kind
  }

  /// Each BatchNormalization layer's eps from a whole Keras model's `model_config`, by layer
  /// name (none when the file has no config).
  private func readBatchNormEps(_ root: HDF5Group) throws -> [String: Float] {
    guard let json = try string(KerasModelConfig.attribute, of: root) else { return [:] }
    do {
      return try KerasModelConfig(json: json).batchNormEps
    } catch {
      throw WeightFileError.wrongAttributeType(
        object: "/", attribute: KerasModelConfig.attribute,
        expected: "a Keras model's JSON config", found: "one that \(error.reason)")
    }
  }

  func readEps(of group: HDF5Group) throws -> Float? {
    try floats(WeightFile.LayerAttribute.eps, of: group, scalar: true)?.first
  }

  /// The (channels, height, width) a dense layer's rows were reordered from, when the zoo
  /// wrote them in Keras's order.
  func readFlattenedInput(of group: HDF5Group) throws -> [Int]? {
    let name = WeightFile.LayerAttribute.flattenedInput
    guard let map = try integers(name, of: group, scalar: false) else { return nil }
    guard map.count == 3, map.allSatisfy({ $0 > 0 }) else {
      throw WeightFileError.wrongAttributeType(
        object: group.path, attribute: name, expected: "three positive sizes (C, H, W)",
        found: "\(map)")
    }
    return map
  }

  private func readMetadata(_ root: HDF5Group) throws -> WeightFileMetadata {
    typealias Name = WeightFileMetadata.Attribute
    return WeightFileMetadata(
      architecture: try string(Name.architecture, of: root),
      classCount: try integers(Name.classCount, of: root, scalar: true)?.first,
      inputShape: try integers(Name.inputShape, of: root, scalar: false),
      classNames: try readStringList(named: Name.classNames, of: root),
      normalizationMean: try floats(Name.normalizationMean, of: root, scalar: false),
      normalizationStd: try floats(Name.normalizationStd, of: root, scalar: false),
      modelCard: try string(Name.modelCard, of: root))
  }

  /// A list of strings, whole or split into `name0`, `name1`, ... (nil when neither exists).
  func readStringList(named name: String, of group: HDF5Group) throws -> [String]? {
    if let attribute = try group.attribute(name) {
      return try strings(attribute, name, of: group)
    }
    var chunks: [String] = []
    var index = 0
    while let chunk = try group.attribute("\(name)\(index)") {
      chunks += try strings(chunk, "\(name)\(index)", of: group)
      index += 1
    }
    return index == 0 ? nil : chunks
  }

  private func strings(_ attribute: HDF5Attribute, _ name: String, of group: HDF5Group) throws
    -> [String]
  {
    // Keras 3 writes an empty list as an empty float64 array.
    if attribute.shape == [0] { return [] }
    guard case .strings(let values) = attribute.values, attribute.shape.count <= 1 else {
      throw WeightFileError.wrongAttributeType(
        object: group.path, attribute: name, expected: "a list of strings",
        found: attribute.typeDescription)
    }
    return values
  }

  func string(_ name: String, of group: HDF5Group) throws -> String? {
    guard let attribute = try group.attribute(name) else { return nil }
    guard case .strings(let values) = attribute.values, values.count == 1 else {
      throw WeightFileError.wrongAttributeType(
        object: group.path, attribute: name, expected: "one string",
        found: attribute.typeDescription)
    }
    return values[0]
  }

  private func integers(_ name: String, of group: HDF5Group, scalar: Bool) throws -> [Int]? {
    guard let attribute = try group.attribute(name) else { return nil }
    guard case .integers(let values) = attribute.values, !scalar || values.count == 1,
      attribute.shape.count <= 1
    else {
      throw WeightFileError.wrongAttributeType(
        object: group.path, attribute: name,
        expected: scalar ? "one integer" : "a list of integers", found: attribute.typeDescription)
    }
    return values.map { Int($0) }
  }

  private func floats(_ name: String, of group: HDF5Group, scalar: Bool) throws -> [Float]? {
    guard let attribute = try group.attribute(name) else { return nil }
    guard case .floats(let values) = attribute.values, !scalar || values.count == 1,
      attribute.shape.count <= 1
    else {
      throw WeightFileError.wrongAttributeType(
        object: group.path, attribute: name,
        expected: scalar ? "one number" : "a list of numbers", found: attribute.typeDescription)
    }
    return values.map { Float($0) }
  }
}

/// One dataset of a layer as the file stores it: Keras's weight name and layout.
struct KerasWeight {
  /// `kernel`, `bias`, `gamma`, ...
  var name: String
  /// Its absolute path in the file, for messages.
  var dataset: String
  var shape: [Int]
  var values: [Float]
  /// Whether HDF5 verified the values against a stored checksum while reading them.
  var hasChecksum: Bool
}

/// The layers read so far, with their tensors in the zoo's layout.
struct LayerCollector {
  var layers: [WeightFileLayer] = []
  var tensors: [String: Tensor] = [:]
  /// Datasets read without a checksum to verify them, in file order.
  var datasetsWithoutChecksum: [String] = []

  /// Adds `layer` with `weights` in Keras's layouts. `flattenedInput` is the map a dense
  /// layer's rows were reordered from (written by the zoo in Keras's order): they go back to
  /// the zoo's.
  mutating func add(_ layer: WeightFileLayer, flattenedInput: [Int]?, weights: [KerasWeight])
    throws
  {
    var layer = layer
    let name = layer.fileName
    let kind = layer.kind
    for weight in weights {
      guard let zooName = kind.tensorNames.first(where: { $0.keras == weight.name })?.zoo else {
        throw WeightFileError.unknownWeight(
          layer: name, weight: weight.name, kind: kind.rawValue,
          known: kind.tensorNames.map(\.keras))
      }
      let rank = kind.rank(of: weight.name)
      guard weight.shape.count == rank else {
        throw WeightFileError.wrongRank(
          dataset: weight.dataset,
          layout: "\(kind.kerasName) \(weight.name) \(kind.layout(of: weight.name))",
          expectedRank: rank, shape: weight.shape)
      }
      let path = layer.path + "." + zooName
      guard tensors[path] == nil else { throw WeightFileError.duplicateTensor(path: path) }
      var zoo = kind.fromKeras(weight.values, shape: weight.shape, name: weight.name)
      if let map = flattenedInput, weight.name == "kernel", kind == .linear {
        guard map.reduce(1, *) == zoo.shape[1] else {
          throw WeightFileError.flattenedInputMismatch(
            layer: name, map: map, inputs: zoo.shape[1])
        }
        zoo.values = FlattenOrder.channelsFirst(zoo.values, outputs: zoo.shape[0], map: map)
      }
      tensors[path] = Tensor(shape: zoo.shape, scalars: zoo.values)
      layer.tensorPaths.append(path)
      if LayerKind.isKernel(weight.name) { layer.kernelShape = weight.shape }
      if !weight.hasChecksum { datasetsWithoutChecksum.append(weight.dataset) }
    }
    if kind == .separableConv2d { try Self.checkSeparable(name, weights) }
    layers.append(layer)
  }

  /// A separable convolution's pointwise kernel reads every output of its depthwise kernel:
  /// (1, 1, in * multiplier, out) after (kh, kw, in, multiplier).
  static func checkSeparable(_ layer: String, _ weights: [KerasWeight]) throws {
    guard let depthwise = weights.first(where: { $0.name == "depthwise_kernel" })?.shape,
      let pointwise = weights.first(where: { $0.name == "pointwise_kernel" })?.shape
    else { return }
    guard pointwise[0] == 1, pointwise[1] == 1, pointwise[2] == depthwise[2] * depthwise[3]
    else {
      throw WeightFileError.separableKernelMismatch(
        layer: layer, depthwise: depthwise, pointwise: pointwise)
    }
  }
}
