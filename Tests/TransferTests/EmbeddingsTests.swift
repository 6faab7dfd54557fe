import Foundation
import Testing
import Transfer
import Zoo
import ZooData
import ZooIO
import ZooNN
import ZooTensor

@Suite struct EmbeddingsTests {
  static let classNames = ["a", "b, with a comma", "c \"quoted\""]

  /// LeNet-5's 84 features of the 48 synthetic images.
  static func embeddings() throws -> (Embeddings, Classifier, ImageBatches) {
    let model = LeNet5(classCount: 3, rng: RandomStream(seed: 4))
    let data = FeatureCacheTests.data()
    return (try Embeddings(model: model, data: data, classNames: classNames), model, data)
  }

  static func temporaryFile(_ name: String) -> URL {
    FileManager.default.temporaryDirectory.appendingPathComponent(
      "zoo-embeddings-\(UUID().uuidString)-\(name)")
  }

  @Test func embeddingsAreTheBackboneFeaturesInStoredOrder() throws {
    let (embeddings, model, data) = try Self.embeddings()
    #expect(embeddings.count == 48)
    #expect(embeddings.featureCount == 84)
    #expect(embeddings.values.count == 48 * 84)
    #expect(embeddings.labels == (0..<48).map { $0 % 3 })
    model.setTraining(false)
    let first = data.evaluationBatches[0]
    let expected = try withoutGradients { try model.features(first.inputs).scalars }
    #expect(Array(embeddings.values.prefix(expected.count)) == expected)
  }

  @Test func hdf5HoldsFeaturesLabelsAndClassNames() throws {
    let (embeddings, _, _) = try Self.embeddings()
    let url = Self.temporaryFile("e.h5")
    defer { try? FileManager.default.removeItem(at: url) }
    try embeddings.write(to: url)

    let file = try HDF5File.open(url)
    let features = try file.root.readFloats("features")
    #expect(features.info.shape == [48, 84])
    #expect(features.info.elementType == .float32)
    #expect(features.values == embeddings.values)
    let labels = try file.root.datasetInfo("labels")
    #expect(labels.shape == [48])
    #expect(labels.elementType == .integer(bits: 32, signed: true))
    #expect(try file.root.attribute("class_names")?.values == .strings(Self.classNames))
    try file.close()

    #expect(try Embeddings.readHDF5(url) == embeddings)
  }

  @Test func csvReadsBackAsADataSourceWithTheSameValues() throws {
    let (embeddings, _, _) = try Self.embeddings()
    let url = Self.temporaryFile("e.csv")
    defer { try? FileManager.default.removeItem(at: url) }
    try embeddings.write(to: url)

    let table = try LabeledTable.readCSV(url, labelColumn: "label")
    #expect(table.count == 48)
    #expect(table.featureNames == (0..<84).map { "feature_\($0)" })
    #expect(table.features == embeddings.values)
    // The reader orders classes by name; compare the names, row by row.
    #expect(
      table.labels.map { table.classNames[$0] } == embeddings.labels.map { Self.classNames[$0] })
  }

  @Test func badShapesLabelsAndFileNamesAreErrors() throws {
    #expect(throws: EmbeddingsError.shapeMismatch(values: 5, rows: 2, featureCount: 3)) {
      try Embeddings(
        featureCount: 3, values: [0, 1, 2, 3, 4], labels: [0, 1], classNames: ["x", "y"])
    }
    #expect(throws: EmbeddingsError.labelOutOfRange(row: 1, label: 2, classes: 2)) {
      try Embeddings(featureCount: 1, values: [0, 1], labels: [0, 2], classNames: ["x", "y"])
    }
    let embeddings = try Embeddings(
      featureCount: 1, values: [0, 1], labels: [0, 1], classNames: ["x", "y"])
    let url = Self.temporaryFile("e.npy")
    #expect(throws: EmbeddingsError.unknownFormat(path: url.path)) {
      try embeddings.write(to: url)
    }
    #expect(!FileManager.default.fileExists(atPath: url.path))
  }
}
