/// A declared map from a Keras model's layer names to zoo module paths, such as
/// `keras.applications.VGG16`'s `block1_conv1` to `features.0`. Weights are never matched by
/// position: each layer of a Keras file is named in the table or the import fails.
public struct KerasNames: Sendable, Equatable {
  /// The Keras model the names come from, for messages (`keras.applications.VGG16`).
  public let source: String
  /// (Keras layer name, zoo module path), in the model's order.
  public let renames: [Rename]

  /// One layer: its Keras name and its zoo path.
  public struct Rename: Sendable, Equatable {
    public let keras: String
    public let zoo: String

    /// Keras's name `keras` is the zoo's module path `zoo`.
    public init(_ keras: String, _ zoo: String) {
      self.keras = keras
      self.zoo = zoo
    }
  }

  /// A table; each Keras name and each zoo path appears once.
  public init(source: String, _ renames: [Rename]) {
    precondition(Set(renames.map(\.keras)).count == renames.count, "\(source): a Keras name twice")
    precondition(Set(renames.map(\.zoo)).count == renames.count, "\(source): a zoo path twice")
    self.source = source
    self.renames = renames
  }

  /// The zoo path of a Keras layer name, or nil.
  public func zooPath(_ keras: String) -> String? {
    renames.first { $0.keras == keras }?.zoo
  }

  /// Whether the file names its layers as this table's Keras model does (any one of them).
  public func applies(to weights: LoadedWeights) -> Bool {
    weights.layers.contains { zooPath($0.fileName) != nil }
  }
}

extension LoadedWeights {
  /// The same weights with each layer's Keras name replaced by its zoo path from `names`.
  /// Throws `unmappedLayers` when the table does not name every layer of the file.
  public func renamed(by names: KerasNames) throws -> LoadedWeights {
    let unmapped = layers.map(\.fileName).filter { names.zooPath($0) == nil }
    guard unmapped.isEmpty else {
      throw WeightFileError.unmappedLayers(
        unmapped, source: names.source, known: names.renames.map(\.keras))
    }
    var renamed = self
    renamed.tensors = [:]
    for index in layers.indices {
      let layer = layers[index]
      let path = names.zooPath(layer.fileName)!
      renamed.layers[index].path = path
      renamed.layers[index].tensorPaths = layer.tensorPaths.map { old in
        let new = path + old.dropFirst(layer.path.count)
        renamed.tensors[new] = tensors[old]
        return new
      }
    }
    return renamed
  }
}
