import Foundation
import ZooNN
import ZooTensor

/// The zoo's native weight file: Keras's legacy weights layout, so h5py and Keras read it.
///
/// ```
/// /                      layer_names, backend, keras_version, zoo_* metadata
/// /layer1.0.conv1        weight_names = ["layer1.0.conv1/kernel:0"], zoo_layer = "Conv2d"
///   layer1.0.conv1/      (the weight name nests a group of the same name, as Keras's does)
///     kernel:0           float32 (kh, kw, in, out)
/// /layer1.0.bn1          weight_names = [... gamma:0, beta:0, moving_mean:0,
///                        moving_variance:0], zoo_layer = "BatchNorm", zoo_eps
/// ```
///
/// Each module that owns tensors becomes a group named by its path; tensors are stored in
/// Keras's layouts (see `LayerKind`), and `zoo_layer` records the kind so a reader can undo the
/// layouts without the model. A dense layer that reads a flattened feature map has its rows in
/// Keras's (height, width, channels) order and `zoo_flattened_input` = (C, H, W) (see
/// `FlattenedInputs`), so Keras's `load_weights` gives the zoo's outputs. Reading accepts
/// Keras 2's `kernel:0` and Keras 3's `kernel` weight names, fixed- and variable-length
/// strings, and attributes split into `name0`, `name1`, ... as Keras splits those over 64 KiB.
///
/// Reading also takes the files Keras writes: the same layout under `/model_weights` (a full
/// model saved as `.h5`) and Keras 3's `.weights.h5` (`Keras3Layout`). Keras's layer names
/// become zoo paths through `KerasNames`, and `LoadedWeights.load` puts the rows of a
/// Keras-written dense layer that reads a flattened map into the zoo's order.
public enum WeightFile {
  /// What `backend` and `keras_version` say, as Keras 2.15 writes them.
  public static let backend = "tensorflow"
  public static let kerasVersion = "2.15.0"
  /// Keras's limit for one attribute (HDF5's object header holds 64 KiB).
  public static let attributeByteLimit = 64512
  /// The largest tensor a file may declare (16 GiB of float32).
  public static let maximumElementCount = 1 << 32
  /// Deflate compresses by at most about 1032:1, so a filtered dataset that declares more
  /// than this many bytes per stored byte cannot be genuine.
  static let maximumCompressionRatio = 1100

  // MARK: Writing

  /// Writes `model`'s parameters and buffers with `metadata` to `url`, replacing any file
  /// there. HDF5 builds the file in memory and `writeAtomically` puts it in place, so `url`
  /// never names a half-written file and a full disk leaves the previous file as it was.
  public static func write(
    _ model: Module, metadata: WeightFileMetadata = WeightFileMetadata(),
    format: WeightFileFormat = .keras, to url: URL
  ) throws {
    let layers = try plan(model)
    try metadata.validate()
    let values = layers.flatMap(\.tensors).reduce(0) { $0 + $1.tensor.count }
    let image: [UInt8]
    do {
      let file = try HDF5File.createInMemory(named: url.path, capacity: 4 * values + (1 << 20))
      defer { try? file.close() }
      switch format {
      case .keras: try writeLegacy(layers, into: file.root)
      case .keras3:
        try Keras3Layout.write(
          layers, modelName: metadata.architecture ?? "model", into: file.root)
      }
      try write(metadata, to: file.root)
      image = try file.image()
    } catch let error as HDF5Error {
      throw WeightFileError.writeFailed(file: url.path, detail: error.detail)
    }
    do {
      try writeAtomically(image, to: url)
    } catch let error as FileWriteError {
      throw WeightFileError.writeFailed(file: url.path, detail: error.reason)
    }
  }

  /// One group of the file: a module that owns tensors.
  struct LayerPlan {
    var path: String
    var kind: LayerKind
    var eps: Float?
    /// The (C, H, W) map a dense layer reads flattened.
    var flattenedInput: [Int]?
    /// A depthwise convolution's input channels.
    var depthwiseInputs: Int?
    /// (zoo tensor name, Keras weight name, tensor) in Keras's order.
    var tensors: [(zoo: String, keras: String, tensor: Tensor)]

    /// Each tensor in Keras's layout, in Keras's order.
    func kerasTensors() -> [(keras: String, shape: [Int], values: [Float])] {
      tensors.map { zoo, keras, tensor in
        guard let map = flattenedInput, keras == "kernel" else {
          let converted = kind.toKeras(tensor, name: keras, depthwiseInputs: depthwiseInputs)
          return (keras, converted.shape, converted.values)
        }
        let rows = FlattenOrder.channelsLast(tensor.scalars, outputs: tensor.shape[0], map: map)
        let converted = kind.toKeras(Tensor(shape: tensor.shape, scalars: rows), name: keras)
        return (keras, converted.shape, converted.values)
      }
    }
  }

  /// Every module that owns tensors, in model order, checked before anything is written.
  static func plan(_ model: Module) throws -> [LayerPlan] {
    let flattened = (model as? FlattenedInputs)?.flattenedInputs ?? [:]
    for (path, map) in flattened {
      // A head swapped for something else than a dense layer reads no flattened map.
      guard let inputs = (model.child(at: path) as? Linear)?.weight.shape[1] else { continue }
      guard map.count == 3, map.reduce(1, *) == inputs else {
        throw WeightFileError.flattenedInputMismatch(layer: path, map: map, inputs: inputs)
      }
    }
    return try model.namedModules().compactMap { path, module in
      let owned = module.ownParameters + module.ownBuffers
      guard !owned.isEmpty else { return nil }
      guard let kind = LayerKind(module: module) else {
        throw WeightFileError.unsupportedLayer(path: path, type: module.typeName)
      }
      if path.isEmpty {
        throw WeightFileError.invalidLayerName(
          path: path, reason: "is empty: the model itself owns tensors, wrap it in a container")
      }
      if path.contains("/") {
        throw WeightFileError.invalidLayerName(
          path: path, reason: "contains '/', which HDF5 reads as a group separator")
      }
      let known = Set(kind.tensorNames.map(\.zoo))
      if let stray = owned.first(where: { !known.contains($0.name) }) {
        throw WeightFileError.unsupportedTensor(
          path: path + "." + stray.name, layerKind: kind.rawValue)
      }
      let tensors = kind.tensorNames.compactMap { names in
        owned.first { $0.name == names.zoo }.map { (names.zoo, names.keras, $0.tensor) }
      }
      return LayerPlan(
        path: path, kind: kind, eps: LayerKind.eps(of: module),
        flattenedInput: kind == .linear ? flattened[path] : nil,
        depthwiseInputs: kind == .depthwiseConv2d ? (module as? Conv2d)?.groups : nil,
        tensors: tensors)
    }
  }

  /// Keras's legacy weights layout.
  private static func writeLegacy(_ layers: [LayerPlan], into root: HDF5Group) throws {
    for layer in layers {
      let group = try root.createGroup(layer.path)
      let tensors = layer.kerasTensors()
      let weightNames = tensors.map { "\(layer.path)/\($0.keras):0" }
      try writeStringList(weightNames, named: "weight_names", to: group)
      try writeLayerAttributes(layer, to: group)
      for (name, tensor) in zip(weightNames, tensors) {
        try writeDataset(name, tensor, of: layer.kind, to: group)
      }
    }
    try writeStringList(layers.map(\.path), named: "layer_names", to: root)
    try root.setAttribute("backend", strings: [backend], scalar: true)
    try root.setAttribute("keras_version", strings: [kerasVersion], scalar: true)
  }

  /// One tensor in Keras's layout: float32, or int32 for a `Normalization` layer's count, as
  /// Keras keeps it (a count that is no whole int32 stays float32, so that nothing is lost).
  static func writeDataset(
    _ name: String, _ tensor: (keras: String, shape: [Int], values: [Float]), of kind: LayerKind,
    to group: HDF5Group
  ) throws {
    let integers = tensor.values.compactMap { Int32(exactly: $0) }
    guard kind.isCount(tensor.keras), integers.count == tensor.values.count else {
      return try group.createDataset(name, shape: tensor.shape, floats: tensor.values)
    }
    try group.createDataset(name, shape: tensor.shape, integers: integers)
  }

  /// What the zoo records beside Keras's data: the kind, a normalisation's eps, a flattened
  /// input.
  static func writeLayerAttributes(_ layer: LayerPlan, to group: HDF5Group) throws {
    try group.setAttribute(LayerAttribute.kind, strings: [layer.kind.rawValue], scalar: true)
    if let eps = layer.eps {
      try group.setAttribute(LayerAttribute.eps, floats: [eps], scalar: true)
    }
    if let map = layer.flattenedInput {
      try group.setAttribute(LayerAttribute.flattenedInput, integers: map)
    }
  }

  private static func write(_ metadata: WeightFileMetadata, to root: HDF5Group) throws {
    typealias Name = WeightFileMetadata.Attribute
    if let architecture = metadata.architecture {
      try root.setAttribute(Name.architecture, strings: [architecture], scalar: true)
    }
    if let classCount = metadata.classCount {
      try root.setAttribute(Name.classCount, integers: [classCount], scalar: true)
    }
    if let inputShape = metadata.inputShape {
      try root.setAttribute(Name.inputShape, integers: inputShape)
    }
    if let classNames = metadata.classNames {
      try writeStringList(classNames, named: Name.classNames, to: root)
    }
    if let mean = metadata.normalizationMean {
      try root.setAttribute(Name.normalizationMean, floats: mean)
    }
    if let std = metadata.normalizationStd {
      try root.setAttribute(Name.normalizationStd, floats: std)
    }
    if let card = metadata.modelCard {
      try root.setAttribute(Name.modelCard, strings: [card], scalar: true)
    }
  }

  /// Writes a list of strings as Keras does: one fixed-length array, or, when it would pass
  /// 64512 bytes, the fewest chunks `name0`, `name1`, ... split as numpy's `array_split`.
  static func writeStringList(_ strings: [String], named name: String, to group: HDF5Group)
    throws
  {
    let elementBytes = max(1, strings.map(\.utf8.count).max() ?? 1)
    guard elementBytes <= attributeByteLimit else {
      throw WeightFileError.attributeTooLarge(
        object: group.path, attribute: name, elementBytes: elementBytes)
    }
    var chunks = 1
    while (strings.count + chunks - 1) / chunks * elementBytes > attributeByteLimit {
      chunks += 1
    }
    guard chunks > 1 else {
      try group.setAttribute(name, strings: strings)
      return
    }
    var start = 0
    for chunk in 0..<chunks {
      let size = strings.count / chunks + (chunk < strings.count % chunks ? 1 : 0)
      try group.setAttribute("\(name)\(chunk)", strings: Array(strings[start..<start + size]))
      start += size
    }
  }

  /// Group attributes beyond Keras's `weight_names`.
  enum LayerAttribute {
    static let kind = "zoo_layer"
    static let eps = "zoo_eps"
    static let flattenedInput = "zoo_flattened_input"
  }

  // MARK: Reading

  /// Reads every tensor (in the zoo's layout, keyed by zoo path) and the metadata of the
  /// weight file at `url`. Throws `WeightFileError` for anything that is not a complete,
  /// well-formed weight file.
  public static func read(contentsOf url: URL) throws -> LoadedWeights {
    let path = url.path
    guard let size = try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int else {
      throw WeightFileError.fileNotFound(file: path)
    }
    guard size > 0 else { throw WeightFileError.notHDF5(file: path, reason: "it is empty") }
    guard HDF5File.hasSignature(url) else {
      throw WeightFileError.notHDF5(file: path, reason: "it has no HDF5 signature")
    }
    do {
      let file = try HDF5File.open(url)
      defer { try? file.close() }
      return try WeightFileReader(file: file).read()
    } catch let error as HDF5Error {
      if error.detail == HDF5Error.checksumMismatch {
        throw WeightFileError.checksumMismatch(file: path, dataset: error.object)
      }
      let detail = error.object == path ? error.detail : "\(error.object): \(error.detail)"
      throw WeightFileError.damaged(file: path, detail: detail)
    }
  }

  /// Reads the file at `url` and loads it into `model` strictly (see `LoadedWeights.load`).
  @discardableResult
  public static func load(contentsOf url: URL, into model: Module, skipping prefix: String? = nil)
    throws -> LoadReport
  {
    try read(contentsOf: url).load(into: model, skipping: prefix)
  }
}

/// The layouts the zoo writes; reading tells them (and a full Keras model's) apart by itself.
public enum WeightFileFormat: String, Sendable, CaseIterable {
  /// Keras's legacy weights layout (what Keras 2's `save_weights("x.h5")` wrote): the native
  /// format.
  case keras
  /// Keras 3's `.weights.h5` layout (`save_weights("x.weights.h5")`, see `Keras3Layout`).
  case keras3
}

/// Where a file read keeps its weights.
public enum WeightFileLayout: String, Sendable, Equatable {
  /// Keras's legacy weights layout at the root: the native file, or Keras's weights-only .h5.
  case keras = "Keras legacy weights"
  /// The same layout under `/model_weights`: a whole Keras model saved as .h5.
  case kerasModel = "Keras legacy full model"
  /// Keras 3's `.weights.h5`.
  case keras3 = "Keras 3 weights"
}

/// One layer group as read from a file.
public struct WeightFileLayer: Sendable, Equatable {
  /// The layer's module path: the group name, or the zoo path `KerasNames` gave it.
  public var path: String
  /// The layer's name in the file (a Keras name such as `block1_conv1` before renaming).
  public var fileName: String
  public var kind: LayerKind
  /// Whether the file records the kind (`zoo_layer`) or the reader inferred it from weight
  /// names and ranks or Keras 3's class key: a file written by Keras, whose dense layers
  /// that read flattened maps have their rows in Keras's order.
  public var kindIsRecorded: Bool
  /// Batch-norm eps, when the file records it.
  public var eps: Float?
  /// Zoo paths of the layer's tensors, in file order.
  public var tensorPaths: [String]
  /// The kernel's shape as the file stores it (Keras's layout): a depthwise kernel
  /// (kh, kw, in, multiplier) keeps apart what the zoo's (in · multiplier, 1, kh, kw) joins.
  public var kernelShape: [Int]? = nil
}

/// The contents of a weight file, in the zoo's layout, ready to load into a model.
public struct LoadedWeights {
  /// Which of the layouts the file had.
  public var layout: WeightFileLayout
  public var metadata: WeightFileMetadata
  /// Layers in the file's `layer_names` order.
  public var layers: [WeightFileLayer]
  /// Every tensor in the zoo's (PyTorch's) layout, keyed by zoo path (`layer1.0.conv1.weight`).
  public var tensors: [String: Tensor]
  /// The datasets that carried no checksum (files written by Keras or h5py, for example), in
  /// file order. The others were verified against their fletcher32 checksums as they were read.
  public var datasetsWithoutChecksum: [String]

  /// Zoo paths in file order.
  public var paths: [String] { layers.flatMap(\.tensorPaths) }

  /// Sets every parameter and buffer of `model` from these tensors, strictly: the model and
  /// the file must hold the same paths with the same shapes, layer kinds and batch-norm eps.
  /// Everything is checked before the first tensor is assigned, so a failed load changes
  /// nothing. `prefix` (such as a classifier's path) leaves the tensors under it out of both
  /// sides; the report lists them. A Keras-written dense layer that the model declares as
  /// reading a flattened map (`FlattenedInputs`) has its rows put from Keras's (H, W, C)
  /// order into the zoo's (C, H, W), and a depthwise kernel is checked against Keras's
  /// (kh, kw, in, multiplier) (`withDepthwiseKernels`).
  @discardableResult
  public func load(into model: Module, skipping prefix: String? = nil) throws -> LoadReport {
    func isSkipped(_ path: String) -> Bool {
      prefix.map { Module.path(path, isUnder: $0) } ?? false
    }
    return try withDepthwiseKernels(for: model, skipping: isSkipped)
      .loadResolved(into: model, isSkipped: isSkipped)
  }

  /// `load` once every depthwise kernel is in the zoo's layout.
  private func loadResolved(into model: Module, isSkipped: (String) -> Bool) throws
    -> LoadReport
  {
    let state = model.stateDict()
    let targets = state.filter { !isSkipped($0.path) }
    let modelPaths = Set(state.map(\.path))
    let missing = targets.map(\.path).filter { tensors[$0] == nil }
    let unexpected = paths.filter { !isSkipped($0) && !modelPaths.contains($0) }
    guard missing.isEmpty, unexpected.isEmpty else {
      throw WeightFileError.tensorMismatch(missing: missing, unexpected: unexpected)
    }
    for (path, tensor) in targets where tensors[path]!.shape != tensor.shape {
      throw WeightFileError.shapeMismatch(
        path: withFileName(path), expected: tensor.shape, found: tensors[path]!.shape)
    }
    // A NaN or an infinity turns every output into NaN; no trained model holds one.
    for (path, _) in targets {
      let count = tensors[path]!.scalars.reduce(0) { $0 + ($1.isFinite ? 0 : 1) }
      guard count == 0 else {
        throw WeightFileError.nonFiniteValues(tensor: withFileName(path), count: count)
      }
    }
    for layer in layers where !layer.tensorPaths.allSatisfy(isSkipped) {
      guard let module = model.child(at: layer.path), let kind = LayerKind(module: module) else {
        continue  // unreachable: every tensor path matched one of the model's
      }
      let convolutions: Set<LayerKind> = [.conv2d, .convTranspose2d]
      // Both convolutions share one layout, so a kind inferred from a Keras file is either.
      let compatible =
        kind == layer.kind
        || (!layer.kindIsRecorded && convolutions.contains(kind)
          && convolutions.contains(layer.kind))
      guard compatible else {
        throw WeightFileError.layerKindMismatch(
          layer: withFileName(layer.path), model: kind.rawValue, file: layer.kind.rawValue)
      }
      if let eps = layer.eps, let modelEps = LayerKind.eps(of: module), modelEps != eps {
        throw WeightFileError.epsMismatch(layer: layer.path, model: modelEps, file: eps)
      }
    }
    var values = tensors
    let flattened = (model as? FlattenedInputs)?.flattenedInputs ?? [:]
    for layer in layers where !layer.kindIsRecorded {
      let weight = layer.path + ".weight"
      guard let map = flattened[layer.path], let tensor = values[weight], !isSkipped(weight),
        layer.kind == .linear
      else { continue }
      guard map.count == 3, map.reduce(1, *) == tensor.shape[1] else {
        throw WeightFileError.flattenedInputMismatch(
          layer: layer.path, map: map, inputs: tensor.shape[1])
      }
      let rows = FlattenOrder.channelsFirst(tensor.scalars, outputs: tensor.shape[0], map: map)
      values[weight] = Tensor(shape: tensor.shape, scalars: rows)
    }
    for (path, tensor) in targets {
      tensor.scalars = values[path]!.scalars
    }
    return LoadReport(
      loaded: targets.map(\.path), skippedInModel: state.map(\.path).filter(isSkipped),
      skippedInFile: paths.filter(isSkipped))
  }
}

extension LoadedWeights {
  /// `path` (a tensor or layer path), with its layer's name in the file when that differs.
  func withFileName(_ path: String) -> String {
    let layer = layers.first { $0.path == path || $0.tensorPaths.contains(path) }
    guard let layer, layer.fileName != layer.path else { return path }
    return "\(path) (layer '\(layer.fileName)' in the file)"
  }
}

/// What a load set and what it left out.
public struct LoadReport: Equatable, Sendable, CustomStringConvertible {
  /// Model paths set from the file, in model order.
  public var loaded: [String]
  /// Model paths under the skipped prefix, left as they were.
  public var skippedInModel: [String]
  /// File paths under the skipped prefix, not used.
  public var skippedInFile: [String]

  public var description: String {
    var skipped: [String] = []
    if !skippedInModel.isEmpty {
      skipped.append("\(skippedInModel.joined(separator: ", ")) in the model (kept)")
    }
    if !skippedInFile.isEmpty {
      skipped.append("\(skippedInFile.joined(separator: ", ")) in the file (unused)")
    }
    let text = "loaded \(loaded.count) tensors"
    return skipped.isEmpty ? text : text + "; skipped " + skipped.joined(separator: " and ")
  }
}

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif
