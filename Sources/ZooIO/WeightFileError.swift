import Foundation
import ZooTensor

/// Why a weight file could not be written, read or loaded. Each message states the contract,
/// then what was found, then a hint.
public enum WeightFileError: Error, Equatable, Sendable, LocalizedError {
  // Opening
  case fileNotFound(file: String)
  /// Not HDF5 at all: empty, or no HDF5 signature.
  case notHDF5(file: String, reason: String)
  /// HDF5, but truncated or corrupt; `detail` is HDF5's own message.
  case damaged(file: String, detail: String)
  /// A dataset whose stored values no longer match the checksum written with them.
  case checksumMismatch(file: String, dataset: String)

  // Layout
  case missingAttribute(object: String, attribute: String)
  case wrongAttributeType(object: String, attribute: String, expected: String, found: String)
  /// A name listed in `layer_names` or `weight_names` that the file does not hold.
  case missingObject(path: String, listedIn: String)
  case duplicateLayer(name: String)
  /// Datasets that no `weight_names` lists (a reader would silently ignore them).
  case unlistedDatasets([String])
  case unknownLayerKind(layer: String, reason: String)
  case unknownWeight(layer: String, weight: String, kind: String, known: [String])
  case duplicateTensor(path: String)
  /// A Keras 3 layer with a number of variables its kind cannot have.
  case variableCount(layer: String, key: String, kind: String, expected: [String], found: Int)
  /// A dense layer declared to read a flattened (C, H, W) map whose size is not its input size.
  case flattenedInputMismatch(layer: String, map: [Int], inputs: Int)
  /// Keras layer names that a rename table (`KerasNames`) does not map.
  case unmappedLayers([String], source: String, known: [String])

  // Datasets
  case wrongDType(dataset: String, found: String)
  case wrongRank(dataset: String, layout: String, expectedRank: Int, shape: [Int])
  /// A separable convolution whose pointwise kernel does not read its depthwise kernel's
  /// outputs; shapes in Keras's layouts.
  case separableKernelMismatch(layer: String, depthwise: [Int], pointwise: [Int])
  case shapeTooLarge(dataset: String, shape: [Int])
  /// The dataset declares more values than the file stores for it.
  case missingData(dataset: String, declaredBytes: Int, storedBytes: Int)

  // Loading into a model
  case tensorMismatch(missing: [String], unexpected: [String])
  /// Shapes in the zoo's (PyTorch's) order.
  case shapeMismatch(path: String, expected: [Int], found: [Int])
  case nonFiniteValues(tensor: String, count: Int)
  case layerKindMismatch(layer: String, model: String, file: String)
  case epsMismatch(layer: String, model: Float, file: Float)
  /// Keras's kernel shapes (kh, kw, in, multiplier) of a depthwise convolution.
  case depthwiseKernelMismatch(layer: String, expected: [Int], found: [Int])

  // Writing
  case unsupportedLayer(path: String, type: String)
  case unsupportedTensor(path: String, layerKind: String)
  case invalidLayerName(path: String, reason: String)
  case attributeTooLarge(object: String, attribute: String, elementBytes: Int)
  case invalidMetadata(field: String, reason: String)
  case writeFailed(file: String, detail: String)

  public var errorDescription: String? {
    switch self {
    case .fileNotFound(let file):
      return "no weight file at \(file); check the path"
    case .notHDF5(let file, let reason):
      return
        "\(file) is not an HDF5 file: \(reason). Weight files are HDF5 (.h5) in Keras's layout;"
        + " check that the path names one"
    case .damaged(let file, let detail):
      return
        "\(file) is a damaged HDF5 file (truncated or corrupt): \(detail). Write or copy it again"
    case .checksumMismatch(let file, let dataset):
      return
        "\(file): the values of \(dataset) do not match the checksum written with them; the file"
        + " was damaged after it was written. Copy or export it again"
    case .missingAttribute(let object, let attribute) where attribute == "layer_names":
      return
        "weight files list their layers in the root attribute 'layer_names' (Keras's legacy"
        + " layout; a full-model file under /model_weights) or keep them in a 'layers' group"
        + " (Keras 3's .weights.h5); \(object) has neither"
    case .missingAttribute(let object, let attribute):
      return
        "every layer group lists its datasets in the attribute '\(attribute)'; group \(object)"
        + " has none. The file was not written by Keras or zoo, or was edited"
    case .wrongAttributeType(let object, let attribute, let expected, let found):
      return "attribute '\(attribute)' of \(object) must be \(expected), the file has \(found)"
    case .missingObject(let path, let listedIn):
      return "\(listedIn) lists \(path), but the file has no such object; the file is incomplete"
    case .duplicateLayer(let name):
      return "layer_names must name each layer once; '\(name)' appears more than once"
    case .unlistedDatasets(let paths):
      return
        "every dataset must be listed in its layer's weight_names; the file also holds"
        + " \(Self.list(paths, noun: "dataset")). Strict loading uses everything in the file"
    case .unknownLayerKind(let layer, let reason):
      return
        "layer '\(layer)' must be a Conv2d, ConvTranspose2d, Linear or BatchNorm layer:"
        + " \(reason)"
    case .unknownWeight(let layer, let weight, let kind, let known):
      return
        "a \(kind) layer holds \(known.joined(separator: ", ")); layer '\(layer)' has a weight"
        + " named '\(weight)'"
    case .duplicateTensor(let path):
      return "each tensor must appear once; the file holds \(path) twice"
    case .variableCount(let layer, let key, let kind, let expected, let found):
      return
        "a Keras 3 \(kind) layer holds \(expected.joined(separator: ", ")) (the bias may be"
        + " absent); layer '\(layer)' (layers/\(key)) has \(found) variables. Batch norms need"
        + " center and scale on"
    case .flattenedInputMismatch(let layer, let map, let inputs):
      return
        "dense layer '\(layer)' is declared to read a flattened (C, H, W) map of"
        + " \(describe(shape: map)), which must hold its \(inputs) inputs"
    case .unmappedLayers(let names, let source, let known):
      return
        "layers named as in \(source) map to zoo paths by a declared table; the file also has"
        + " \(Self.list(names, noun: "layer")), which it does not name. The table knows "
        + Self.list(known, noun: "layer", limit: 3) + ". Is the file for another model?"
    case .wrongDType(let dataset, let found):
      return
        "weights are float32; \(dataset) holds \(found) values. Convert them to float32 when"
        + " writing the file (Tools/convert_torch.py does)"
    case .wrongRank(let dataset, let layout, let expectedRank, let shape):
      return
        "\(dataset) must have rank \(expectedRank) \(layout); the file has shape"
        + " \(describe(shape: shape))"
    case .separableKernelMismatch(let layer, let depthwise, let pointwise):
      return
        "a SeparableConv2D's pointwise_kernel (1, 1, in * multiplier, out) reads the outputs of"
        + " its depthwise_kernel (kh, kw, in, multiplier); layer '\(layer)' has depthwise_kernel"
        + " \(describe(shape: depthwise)) and pointwise_kernel \(describe(shape: pointwise))."
        + " The file was edited or mixes two layers"
    case .shapeTooLarge(let dataset, let shape):
      return
        "a tensor may hold at most \(WeightFile.maximumElementCount) values; \(dataset)"
        + " declares shape \(describe(shape: shape)). The file is corrupt or not a weight file"
    case .missingData(let dataset, let declaredBytes, let storedBytes):
      return
        "\(dataset) declares \(declaredBytes) bytes of values but the file stores"
        + " \(storedBytes); the file is incomplete"
    case .tensorMismatch(let missing, let unexpected):
      var parts: [String] = []
      if !missing.isEmpty {
        parts.append("the file lacks \(Self.list(missing)), which the model has")
      }
      if !unexpected.isEmpty {
        parts.append("the file has \(Self.list(unexpected)), which the model lacks")
      }
      return
        "strict loading needs the same tensors in the model and the file: "
        + parts.joined(separator: "; ")
        + ". Is the file for another architecture? To keep the model's own classifier, load"
        + " with skipping: its path"
    case .shapeMismatch(let path, let expected, let found):
      return "\(path): expected \(describe(shape: expected)), file has \(describe(shape: found))"
    case .nonFiniteValues(let tensor, let count):
      return
        "weights must be finite numbers; \(tensor) holds \(count) NaN or infinite"
        + " value\(count == 1 ? "" : "s"). The run that wrote it diverged, or the file is damaged"
    case .layerKindMismatch(let layer, let model, let file):
      return "layer '\(layer)' is a \(model) in the model but a \(file) in the file"
    case .epsMismatch(let layer, let model, let file):
      return
        "normalisation layer '\(layer)' has eps \(model) in the model but \(file) in the file; build the"
        + " model variant the weights were trained with"
    case .depthwiseKernelMismatch(let layer, let expected, let found):
      let grouped = [expected[0], expected[1], 1, expected[2] * expected[3]]
      return
        "depthwise convolution '\(layer)' takes a Keras DepthwiseConv2D kernel (kh, kw, in,"
        + " multiplier) of \(describe(shape: expected)) (or a grouped Conv2D kernel of"
        + " \(describe(shape: grouped))); the file has \(describe(shape: found))"
    case .unsupportedLayer(let path, let type):
      return
        "weight files store \(LayerKind.allCases.map(\.rawValue).joined(separator: ", ")) layers;"
        + " '\(path)' is a \(type) that owns tensors"
    case .unsupportedTensor(let path, let layerKind):
      return "a \(layerKind) layer's tensors have known names; \(path) is not one of them"
    case .invalidLayerName(let path, let reason):
      return "layer paths become HDF5 group names; '\(path)' \(reason)"
    case .attributeTooLarge(let object, let attribute, let elementBytes):
      return
        "one entry of an HDF5 attribute may hold at most \(WeightFile.attributeByteLimit)"
        + " bytes; an entry of '\(attribute)' of \(object) has \(elementBytes). Use shorter names"
    case .invalidMetadata(let field, let reason):
      return "metadata \(field) \(reason)"
    case .writeFailed(let file, let detail):
      return "could not write \(file): \(detail). Check the folder exists and has free space"
    }
  }

  /// The first few names and how many more.
  static func list(_ names: [String], noun: String = "tensor", limit: Int = 5) -> String {
    let shown = names.prefix(limit).joined(separator: ", ")
    let count = names.count == 1 ? "1 \(noun)" : "\(names.count) \(noun)s"
    let more = names.count > limit ? ", ..." : ""
    return "\(count) (\(shown)\(more))"
  }
}
