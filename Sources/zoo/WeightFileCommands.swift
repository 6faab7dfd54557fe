import ArgumentParser
import Foundation
import Zoo
import ZooIO
import ZooNN
import ZooTensor

/// What `zoo info FILE.h5` prints: the metadata, the model card and every tensor.
enum WeightFileSummary {
  static func text(_ url: URL, _ file: LoadedWeights) throws -> String {
    let meta = file.metadata
    var lines = ["File: \(url.lastPathComponent) (\(file.layout.rawValue))"]
    lines.append("Architecture: \(meta.architecture ?? "not recorded")")
    if let classes = meta.classNames {
      lines.append("Classes (\(classes.count)): \(classes.joined(separator: ", "))")
    } else if let count = meta.classCount {
      lines.append("Classes: \(count)")
    }
    if let input = meta.inputShape {
      lines.append("Input: \(input.map(String.init).joined(separator: "x"))")
    }
    if let mean = meta.normalizationMean, let std = meta.normalizationStd {
      lines.append("Normalisation: mean \(mean), std \(std)")
    }
    let total = file.tensors.values.reduce(0) { $0 + $1.count }
    lines.append(
      "Layers: \(file.layers.count), tensors: \(file.tensors.count), values: \(Summary.grouped(total))"
    )
    lines.append("Checksums: \(checksumSummary(file))")
    for layer in file.layers {
      let tensors = layer.tensorPaths.map { path in
        "\(path.split(separator: ".").last ?? "") \(describe(shape: file.tensors[path]?.shape ?? []))"
      }
      lines.append("  \(layer.path)  \(layer.kind.rawValue)  \(tensors.joined(separator: ", "))")
    }
    if let card = meta.modelCard { lines.append("Model card:\n\(card)") }
    return lines.joined(separator: "\n") + "\n"
  }

  /// Whether reading verified the values: every dataset, some, or none.
  static func checksumSummary(_ file: LoadedWeights) -> String {
    let unchecked = file.datasetsWithoutChecksum.count
    let total = file.tensors.count
    switch unchecked {
    case 0: return "fletcher32 on every dataset, all verified"
    case total: return "none (the values cannot be verified)"
    default: return "fletcher32 on \(total - unchecked) of \(total) datasets, all verified"
    }
  }
}

struct Export: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract:
      "Write an architecture's freshly initialised weights, or a weight file, in Keras's HDF5 layout."
  )

  @Argument(help: "A registry name (fresh weights, seeded) or a weight file to rewrite.")
  var source: String

  @Option(help: ArgumentHelp("Output file.", valueName: "file.h5"))
  var out: String

  @Option(
    help:
      "Layout: keras (Keras's legacy weights .h5, the zoo's own) or keras3 (Keras 3's .weights.h5); both load with Keras's load_weights. onnx: an ONNX model (Docs/ONNX.md)."
  )
  var format = ExportFormat.keras

  @Option(help: "Seed for fresh weights.")
  var seed: UInt64 = 0

  @OptionGroup var options: ONNXExportOptions

  func validate() throws {
    if format == .keras3 && !out.hasSuffix(".weights.h5") {
      throw ValidationError(
        "--format keras3 writes Keras 3's layout, which Keras loads only from a name ending in"
          + " .weights.h5; got --out \(out)")
    }
  }

  func run() throws {
    try reportingErrors {
      guard let format = format.weightFileFormat else { return try exportONNX() }
      let (model, metadata) = try loadModel(source, seed: seed)
      try WeightFile.write(
        model, metadata: metadata, format: format, to: URL(fileURLWithPath: out))
      print("wrote \(out): \(Summary.grouped(model.parameterCount)) parameters")
    }
  }
}

struct Import: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract:
      "Load a weight file (Keras's .h5 or .weights.h5, converted from PyTorch by Tools/convert_torch.py, the zoo's own, or an ONNX model's initializers) into an architecture, strictly, and save it."
  )

  @Argument(help: "The weight file to import.")
  var file: String

  @Option(help: "Architecture to load it into.")
  var arch: String

  @Option(help: ArgumentHelp("Output file.", valueName: "model.h5"))
  var out: String

  @Flag(help: "Leave the classifier out (when its class count differs) and say so.")
  var skipHead = false

  func run() throws {
    try reportingErrors {
      if file.hasSuffix(".onnx") { return try importONNX() }
      let entry = try ModelRegistry.entry(named: arch)
      var weights = try readWeightFile(file)
      var source = "\(weights.layout.rawValue), \(weights.layers.count) layers"
      if let names = entry.kerasNames, names.applies(to: weights) {
        weights = try namingWeightFile(file) { try weights.renamed(by: names) }
        source += ", layer names of \(names.source)"
      }
      print("read \(file): \(source)")
      let model = entry.build(
        classCount: weights.metadata.classCount ?? classCount(in: weights, entry: entry))
      let head = (model as? Classifier)?.classifierPath
      let report = try namingWeightFile(file) {
        try weights.load(into: model, skipping: skipHead ? head : nil)
      }
      print(report)
      var metadata = weights.metadata
      metadata.architecture = entry.name
      metadata.inputShape = metadata.inputShape ?? entry.inputShape
      if let classifier = model as? Classifier { metadata.classCount = classifier.classCount }
      try WeightFile.write(model, metadata: metadata, to: URL(fileURLWithPath: out))
      print("wrote \(out)")
    }
  }

  /// The class count the file's classifier implies: the first dimension of its last weight.
  private func classCount(in weights: LoadedWeights, entry: ModelEntry) -> Int {
    guard let classifier = entry.build(classCount: 1) as? Classifier,
      let weight = weights.tensors[classifier.classifierPath + ".weight"]
    else { return entry.defaultClassCount }
    return weight.shape[0]
  }
}

extension WeightFileFormat: ExpressibleByArgument {}

/// A registry name (fresh, seeded weights) or a weight file whose metadata names its architecture.
func loadModel(_ source: String, seed: UInt64) throws -> (Module, WeightFileMetadata) {
  if source.hasSuffix(".h5") || FileManager.default.fileExists(atPath: source) {
    let weights = try readWeightFile(source)
    guard let name = weights.metadata.architecture else {
      throw ValidationErrorLine(
        message: "\(source) does not record its architecture; use zoo import --arch NAME")
    }
    let model = try ModelRegistry.entry(named: name).build(classCount: weights.metadata.classCount)
    try namingWeightFile(source) { try weights.load(into: model) }
    return (model, weights.metadata)
  }
  let entry = try ModelRegistry.entry(named: source)
  let model = entry.build(rng: RandomStream(seed: seed))
  let metadata = WeightFileMetadata(
    architecture: entry.name, classCount: entry.defaultClassCount, inputShape: entry.inputShape)
  return (model, metadata)
}
