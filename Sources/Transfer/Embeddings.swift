import Foundation
import Zoo
import ZooData
import ZooIO
import ZooTensor

/// Backbone features of a labelled data set, for use outside the zoo (a linear probe in
/// scikit-learn, a nearest-neighbour search, a plot): one `featureCount`-long vector per
/// example, with its label and the class names.
///
/// Files: HDF5 with datasets `features` (float32, N x D) and `labels` (int32, N) and a
/// `class_names` attribute (`labels` index it), or CSV with a header
/// `feature_0,...,feature_{D-1},label` and the class name as the label, which
/// `csv:FILE,label=label` reads back as a data source.
public struct Embeddings: Sendable, Equatable {
  /// Width of each feature vector.
  public let featureCount: Int
  /// Row after row, `featureCount` values each.
  public let values: [Float]
  /// The label of each row, indexing `classNames`.
  public let labels: [Int]
  /// Class names in label order.
  public let classNames: [String]

  /// Embeddings from raw rows; the label of each row must index `classNames`.
  public init(featureCount: Int, values: [Float], labels: [Int], classNames: [String]) throws {
    guard featureCount > 0, values.count == labels.count * featureCount else {
      throw EmbeddingsError.shapeMismatch(
        values: values.count, rows: labels.count, featureCount: featureCount)
    }
    if let row = labels.firstIndex(where: { !classNames.indices.contains($0) }) {
      throw EmbeddingsError.labelOutOfRange(row: row, label: labels[row], classes: classNames.count)
    }
    self.featureCount = featureCount
    self.values = values
    self.labels = labels
    self.classNames = classNames
  }

  /// Runs `model.features` over every example of `data` in stored order, in inference mode.
  /// `progress` hears (examples done, total) after each batch.
  public init(
    model: Classifier, data: some ExampleSource, classNames: [String],
    progress: ((Int, Int) -> Void)? = nil
  ) throws {
    let features = try FeatureBatches(
      model: model, data: data, batchSize: data.batchSize, progress: progress)
    try self.init(
      featureCount: features.featureCount, values: features.values, labels: features.labels,
      classNames: classNames)
  }

  /// Number of rows.
  public var count: Int { labels.count }

  /// The features of example `index`.
  public func row(_ index: Int) -> ArraySlice<Float> {
    values[(index * featureCount)..<((index + 1) * featureCount)]
  }

  /// Writes HDF5 for a `.h5` or `.hdf5` name and CSV for `.csv`, replacing any file there.
  public func write(to url: URL) throws {
    switch url.pathExtension.lowercased() {
    case "h5", "hdf5": try writeHDF5(to: url)
    case "csv": try writeAtomically(csv(), to: url)
    default: throw EmbeddingsError.unknownFormat(path: url.path)
    }
  }

  /// The CSV text: a header row, then one row per example ending in its class name.
  public func csv() -> String {
    let header = (0..<featureCount).map { "feature_\($0)" } + ["label"]
    let names = classNames.map(Self.csvField)
    var text = header.joined(separator: ",") + "\n"
    text.reserveCapacity(count * featureCount * 12)
    for index in 0..<count {
      for value in row(index) {
        text += "\(value),"
      }
      text += names[labels[index]] + "\n"
    }
    return text
  }

  /// A field quoted as RFC 4180 asks when it holds a comma, a quote or a line break.
  private static func csvField(_ text: String) -> String {
    guard text.contains(where: { $0 == "," || $0 == "\"" || $0.isNewline }) else { return text }
    return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
  }

  /// Writes the HDF5 file under a temporary name and renames it into place.
  public func writeHDF5(to url: URL) throws {
    let temporary = url.deletingLastPathComponent().appendingPathComponent(
      ".\(url.lastPathComponent).\(UUID().uuidString).tmp")
    do {
      let file = try HDF5File.create(temporary)
      do {
        try file.root.createDataset("features", shape: [count, featureCount], floats: values)
        try file.root.createDataset("labels", shape: [count], integers: labels.map(Int32.init))
        try file.root.setAttribute("class_names", strings: classNames, variableLength: true)
        try file.close()
      } catch {
        try? file.close()
        throw error
      }
      guard rename(temporary.path, url.path) == 0 else {
        throw EmbeddingsError.writeFailed(
          path: url.path, reason: String(cString: strerror(errno)))
      }
    } catch {
      unlink(temporary.path)
      throw error
    }
  }

  /// Reads a file `writeHDF5` wrote.
  public static func readHDF5(_ url: URL) throws -> Embeddings {
    let file = try HDF5File.open(url)
    defer { try? file.close() }
    let features = try file.root.readFloats("features")
    let labels = try file.root.readFloats("labels")
    guard features.info.shape.count == 2, labels.info.shape == [features.info.shape[0]] else {
      throw EmbeddingsError.malformedFile(
        path: url.path,
        problem:
          "features \(describe(shape: features.info.shape)) and labels \(describe(shape: labels.info.shape)) should be (N, D) and (N)"
      )
    }
    guard case .strings(let names)? = try file.root.attribute("class_names")?.values else {
      throw EmbeddingsError.malformedFile(path: url.path, problem: "no class_names attribute")
    }
    return try Embeddings(
      featureCount: features.info.shape[1], values: features.values,
      labels: labels.values.map { Int($0) }, classNames: names)
  }
}

/// Embeddings that cannot be made, written or read.
public enum EmbeddingsError: Error, Equatable, LocalizedError {
  /// The values are not `rows x featureCount`.
  case shapeMismatch(values: Int, rows: Int, featureCount: Int)
  /// A label has no class name.
  case labelOutOfRange(row: Int, label: Int, classes: Int)
  /// The file name ends in neither `.h5`, `.hdf5` nor `.csv`.
  case unknownFormat(path: String)
  /// An HDF5 file without the expected datasets or attribute.
  case malformedFile(path: String, problem: String)
  /// The finished file could not be moved into place.
  case writeFailed(path: String, reason: String)

  public var errorDescription: String? {
    switch self {
    case .shapeMismatch(let values, let rows, let featureCount):
      return
        "embeddings need rows x features values: \(rows) rows of \(featureCount) features, got \(values) values"
    case .labelOutOfRange(let row, let label, let classes):
      return "row \(row) has label \(label); labels must lie in 0..<\(classes), one per class name"
    case .unknownFormat(let path):
      return "cannot tell the format of \(path): name it .h5, .hdf5 or .csv"
    case .malformedFile(let path, let problem):
      return "\(path) is not an embeddings file: \(problem)"
    case .writeFailed(let path, let reason):
      return "could not write \(path): \(reason)"
    }
  }
}
