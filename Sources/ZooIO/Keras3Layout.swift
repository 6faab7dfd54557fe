/// Keras 3's `.weights.h5` layout, which `model.save_weights` and `load_weights` use:
///
/// ```
/// /vars                          name = the model's name (its own variables: none)
/// /layers/conv2d/vars            name = "block1_conv1" (Keras 3.6 and later)
///   0                            kernel (kh, kw, in, out)
///   1                            bias
/// /layers/conv2d_1/vars ...      the next Conv2D of the model, in layer order
/// /layers/dense/vars ...
/// ```
///
/// Keras keys each layer by its class name in snake case, numbered `_1`, `_2`, ... in the
/// model's layer order, and each variable by its position in creation order (Dense: kernel,
/// bias; BatchNormalization: gamma, beta, moving_mean, moving_variance, or without gamma when
/// built with scale=False; SeparableConv2D:
/// depthwise_kernel, pointwise_kernel, bias). Loading walks the
/// model the same way, so names play no part; layers without variables have empty groups.
/// The zoo adds `zoo_layer`, `zoo_eps` and `zoo_flattened_input` to each `vars` group and its
/// metadata to the root, which Keras ignores.
enum Keras3Layout {
  static let layersGroup = "layers"

  /// Keras's class key of each kind of layer.
  static let classKeys: [(key: String, kind: LayerKind)] = [
    ("conv2d", .conv2d), ("conv2d_transpose", .convTranspose2d), ("dense", .linear),
    ("batch_normalization", .batchNorm), ("depthwise_conv2d", .depthwiseConv2d),
    ("separable_conv2d", .separableConv2d), ("layer_normalization", .layerNorm),
    ("layer_scale", .layerScale), ("normalization", .normalization),
  ]

  // MARK: Writing

  static func write(
    _ layers: [WeightFile.LayerPlan], modelName: String, into root: HDF5Group
  ) throws {
    let model = try root.createGroup("vars")
    try model.setAttribute("name", strings: [modelName], scalar: true)
    // Made here, not as an intermediate group below, so that it keeps its many links compact.
    try root.createGroup(layersGroup)
    var used: [String: Int] = [:]
    for layer in layers {
      let base = classKeys.first { $0.kind == layer.kind }!.key
      let number = used[base].map { $0 + 1 } ?? 0
      used[base] = number
      let key = number == 0 ? base : "\(base)_\(number)"
      let vars = try root.createGroup("\(layersGroup)/\(key)/vars")
      try vars.setAttribute("name", strings: [layer.path], scalar: true)
      try WeightFile.writeLayerAttributes(layer, to: vars)
      for (index, tensor) in layer.kerasTensors().enumerated() {
        try WeightFile.writeDataset("\(index)", tensor, of: layer.kind, to: vars)
      }
    }
  }

  // MARK: Reading

  static func read(
    _ root: HDF5Group, with reader: WeightFileReader, into collector: inout LayerCollector
  ) throws {
    let layers = root.group(layersGroup)
    var listed = Set<String>()
    var seen = Set<String>()
    for key in try layers.memberNames().sorted(by: keyOrder) {
      guard try layers.kind(of: key + "/vars") == .group else { continue }
      let vars = layers.group(key + "/vars")
      let positions = try vars.memberNames()
      guard !positions.isEmpty else { continue }
      let name = try reader.string("name", of: vars) ?? key
      guard seen.insert(name).inserted else { throw WeightFileError.duplicateLayer(name: name) }
      let recorded = try reader.readKind(of: vars)
      let kind = try recorded ?? Self.kind(ofKey: key, layer: name)
      // Variables are named by position: 0, 1, ... with none missing.
      let expected = (0..<positions.count).map(String.init)
      guard positions.sorted(by: keyOrder) == expected else {
        throw WeightFileError.unknownWeight(
          layer: name, weight: positions.sorted(by: keyOrder).joined(separator: ", "),
          kind: kind.rawValue, known: expected)
      }
      var names = kind.tensorNames.map(\.keras)
      // Three variables of a batch norm are Keras's BatchNormalization(scale=False), as
      // Inception's conv2d_bn builds it: beta and the moving statistics. One without its
      // offset (center=False) would look the same and is not read.
      if kind == .batchNorm, positions.count == names.count - 1 { names.removeFirst() }
      // Only a bias can be absent (use_bias=False), and it comes last.
      let minimum = names.last == "bias" ? names.count - 1 : names.count
      guard (minimum...names.count).contains(positions.count) else {
        throw WeightFileError.variableCount(
          layer: name, key: key, kind: kind.kerasName, expected: names, found: positions.count)
      }
      var weights: [KerasWeight] = []
      for (position, kerasName) in zip(expected, names) {
        guard try vars.kind(of: position) == .dataset else {
          throw WeightFileError.missingObject(
            path: vars.absolutePath(position), listedIn: "the variables of \(vars.path)")
        }
        weights.append(try reader.readWeight(kerasName, position, of: vars, kind: kind))
        listed.insert(vars.absolutePath(position))
      }
      try collector.add(
        WeightFileLayer(
          path: name, fileName: name, kind: kind, kindIsRecorded: recorded != nil,
          eps: try reader.readEps(of: vars), tensorPaths: []),
        flattenedInput: try reader.readFlattenedInput(of: vars), weights: weights)
    }
    let unlisted = try root.datasetPaths().map(root.absolutePath).filter { !listed.contains($0) }
    guard unlisted.isEmpty else { throw WeightFileError.unlistedDatasets(unlisted) }
  }

  /// The kind Keras's class key names: `conv2d_3` is the fourth Conv2D.
  static func kind(ofKey key: String, layer: String) throws -> LayerKind {
    let base = baseKey(key)
    guard let kind = classKeys.first(where: { $0.key == base })?.kind else {
      throw WeightFileError.unknownLayerKind(
        layer: layer,
        reason:
          "Keras 3 stores it under layers/\(key), a \(base) layer; the zoo reads"
          + " \(classKeys.map(\.key).joined(separator: ", "))")
    }
    return kind
  }

  /// `conv2d_12` to `conv2d`; `conv2d_transpose` stays.
  static func baseKey(_ key: String) -> String {
    guard let underscore = key.lastIndex(of: "_"),
      key[key.index(after: underscore)...].allSatisfy(\.isNumber),
      key.index(after: underscore) != key.endIndex
    else { return key }
    return String(key[..<underscore])
  }

  /// Keras's numbering order: `conv2d`, `conv2d_1`, `conv2d_2`, ..., `conv2d_10`; `0` < `10`.
  static func keyOrder(_ a: String, _ b: String) -> Bool {
    func split(_ key: String) -> (String, Int) {
      if let number = Int(key) { return ("", number) }
      let base = baseKey(key)
      return (base, base == key ? 0 : Int(key.dropFirst(base.count + 1)) ?? 0)
    }
    let (x, y) = (split(a), split(b))
    return x.0 != y.0 ? x.0 < y.0 : x.1 < y.1
  }
}
