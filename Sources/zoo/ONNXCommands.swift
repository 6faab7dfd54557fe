import ArgumentParser
import Foundation
import Zoo
import ZooIO
import ZooNN
import ZooONNX
import ZooTensor

/// What `zoo export` writes: one of the HDF5 layouts or an ONNX model.
enum ExportFormat: String, ExpressibleByArgument, CaseIterable {
  case keras, keras3, onnx

  /// The HDF5 layout, or nil for ONNX.
  var weightFileFormat: WeightFileFormat? {
    switch self {
    case .keras: .keras
    case .keras3: .keras3
    case .onnx: nil
    }
  }
}

/// Options of `zoo export --format onnx`.
struct ONNXExportOptions: ParsableArguments {
  @Option(
    help:
      "ONNX: input as CxHxW the graph is traced at (default: the architecture's); the batch stays free."
  )
  var input: InputShape?

  @Option(
    help: ArgumentHelp(
      "ONNX: also write a fixed batch and the zoo's output on it as input_0.pb and output_0.pb (ONNX test data) in this folder.",
      valueName: "dir"))
  var testData: String?

  @Option(help: "ONNX: images in the --test-data batch (normal random values, from --seed).")
  var batch = 2

  @Option(
    help: ArgumentHelp(
      "ONNX: trace on this batch (a TensorProto file, such as an input_0.pb) instead of random values.",
      valueName: "file.pb"))
  var testInput: String?
}

extension Export {
  /// Traces the model on a fixed batch and writes the ONNX graph, and the batch with the zoo's
  /// output when asked.
  func exportONNX() throws {
    guard options.batch > 0 else {
      throw ValidationErrorLine(message: "--batch must be positive, got \(options.batch)")
    }
    var (model, metadata) = try loadModel(source, seed: seed)
    let given = try options.testInput.map(Self.readBatch)
    guard
      let shape = options.input?.dimensions ?? given.map({ Array($0.shape.dropFirst()) })
        ?? metadata.inputShape
    else {
      throw ValidationErrorLine(message: "\(source) records no input shape; give --input CxHxW")
    }
    if let given, Array(given.shape.dropFirst()) != shape {
      throw ValidationErrorLine(
        message: "\(options.testInput ?? "") holds a batch of shape "
          + "\(describe(shape: given.shape)); --input asks for N x \(Self.text(shape))")
    }
    metadata.inputShape = shape
    let input = given ?? Self.randomBatch([options.batch] + shape, seed: seed)
    let (onnx, output) = try ONNXExport.export(
      model, input: input, metadata: Self.metadataProps(metadata))
    try Data(onnx.serialized()).write(to: URL(fileURLWithPath: out))
    print(
      "wrote \(out): ONNX opset \(ONNXModel.opsetVersion), \(onnx.graph.nodes.count) nodes, "
        + "\(Summary.grouped(model.parameterCount)) parameters, input N x "
        + Self.text(shape))
    guard let folder = options.testData else { return }
    let directory = URL(fileURLWithPath: folder)
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    for (name, tensor, file) in [
      (ONNXExport.inputName, input, "input_0.pb"), (ONNXExport.outputName, output, "output_0.pb"),
    ] {
      let proto = ONNXTensor(name: name, dims: tensor.shape, floats: tensor.scalars)
      try Data(proto.serialized()).write(to: directory.appendingPathComponent(file))
    }
    print("wrote \(folder)/input_0.pb and output_0.pb: a batch of \(input.shape[0])")
  }

  static func randomBatch(_ shape: [Int], seed: UInt64) -> Tensor {
    let values = RandomStream(seed: seed).withGenerator { rng in
      (0..<shape.reduce(1, *)).map { _ in rng.nextNormal() }
    }
    return Tensor(shape: shape, scalars: values)
  }

  /// A batch from a TensorProto file (N, then the model's input dimensions).
  static func readBatch(_ path: String) throws -> Tensor {
    let proto = try namingFile(path) { try ONNXTensor.deserialize(try readBytes(path)) }
    guard proto.dims.count >= 2 else {
      throw ValidationErrorLine(
        message: "\(path) holds a tensor of shape \(describe(shape: proto.dims)), not a batch")
    }
    return Tensor(shape: proto.dims, scalars: try namingFile(path) { try proto.floats() })
  }

  static func text(_ shape: [Int]) -> String { shape.map(String.init).joined(separator: "x") }

  /// The weight file's description as ONNX `metadata_props`, values in JSON.
  static func metadataProps(_ metadata: WeightFileMetadata) -> [(key: String, value: String)] {
    var props: [(key: String, value: String)] = []
    let encoder = JSONEncoder()
    encoder.outputFormatting = .withoutEscapingSlashes
    let json = { (value: any Encodable) -> String in
      String(decoding: (try? encoder.encode(value)) ?? Data(), as: UTF8.self)
    }
    if let name = metadata.architecture { props.append(("architecture", name)) }
    if let shape = metadata.inputShape { props.append(("input_shape", json(shape))) }
    if let names = metadata.classNames { props.append(("class_names", json(names))) }
    if let mean = metadata.normalizationMean { props.append(("normalization_mean", json(mean))) }
    if let std = metadata.normalizationStd { props.append(("normalization_std", json(std))) }
    return props
  }
}

extension Import {
  /// Loads the initializers of an ONNX file (PyTorch's `torch.onnx.export` or the zoo's own)
  /// into `arch` by name, strictly, and writes the zoo's weight file.
  func importONNX() throws {
    // The class count comes from the file's own classifier, so its head always fits.
    guard !skipHead else {
      throw ValidationErrorLine(
        message: "--skip-head applies to HDF5 weight files; an ONNX import takes the class count "
          + "from the file's classifier, got \(file)")
    }
    let entry = try ModelRegistry.entry(named: arch)
    let onnx = try namingFile(file) {
      try ONNXModel.deserialize(try readBytes(file))
    }
    let tensors = ONNXImport.weights(of: onnx)
    print(
      "read \(file): ONNX from \(onnx.producerName.isEmpty ? "an unnamed producer" : onnx.producerName), "
        + "\(tensors.count) weight tensors")
    var classCount = entry.defaultClassCount
    if let classifier = entry.build(classCount: 1) as? Classifier,
      let weight = tensors[classifier.classifierPath + ".weight"], let rows = weight.dims.first
    {
      classCount = rows
    }
    let model = entry.build(classCount: classCount)
    try namingFile(file) { try ONNXImport.load(onnx, into: model) }
    print("loaded \(model.stateDict().count) tensors strictly by name")
    let props = Dictionary(
      onnx.metadata.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
    /// A `metadata_props` value the zoo's export writes, as JSON.
    func recorded<T: Decodable>(_ key: String, as type: T.Type) throws -> T? {
      guard let text = props[key] else { return nil }
      guard let value = try? JSONDecoder().decode(T.self, from: Data(text.utf8)) else {
        throw ValidationErrorLine(
          message: "\(file): metadata_props \(key) is not a JSON \(T.self): \(text.prefix(80))")
      }
      return value
    }
    let metadata = WeightFileMetadata(
      architecture: entry.name, classCount: (model as? Classifier)?.classCount,
      inputShape: try recorded("input_shape", as: [Int].self) ?? entry.inputShape,
      classNames: try recorded("class_names", as: [String].self),
      normalizationMean: try recorded("normalization_mean", as: [Float].self),
      normalizationStd: try recorded("normalization_std", as: [Float].self))
    try WeightFile.write(model, metadata: metadata, to: URL(fileURLWithPath: out))
    print("wrote \(out)")
  }
}

/// The bytes of a file, or one line saying why not.
private func readBytes(_ path: String) throws -> [UInt8] {
  guard let data = FileManager.default.contents(atPath: path) else {
    throw ValidationErrorLine(message: "\(path): cannot read the file (missing or unreadable)")
  }
  return Array(data)
}

/// Prefixes an ONNX error with the file it came from.
private func namingFile<T>(_ path: String, _ body: () throws -> T) throws -> T {
  do {
    return try body()
  } catch let error as ONNXError {
    throw ValidationErrorLine(message: "\(path): \(error)")
  }
}
