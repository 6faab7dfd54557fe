import Foundation

/// What a weight file says about its model beyond the tensors, stored as root attributes under
/// the project's own names (`zoo_architecture`, ...). Every field is optional: a file written
/// by Keras has none of them.
public struct WeightFileMetadata: Codable, Equatable, Sendable {
  /// Registry name of the architecture (`resnet18`).
  public var architecture: String?
  public var classCount: Int?
  /// Input (channels, height, width) the model was trained on.
  public var inputShape: [Int]?
  /// One name per class, in logit order.
  public var classNames: [String]?
  /// Per-channel normalisation of pixels scaled to [0, 1]: `(p - mean) / std`.
  public var normalizationMean: [Float]?
  public var normalizationStd: [Float]?
  /// The model card, a JSON document.
  public var modelCard: String?

  public init(
    architecture: String? = nil, classCount: Int? = nil, inputShape: [Int]? = nil,
    classNames: [String]? = nil, normalizationMean: [Float]? = nil,
    normalizationStd: [Float]? = nil, modelCard: String? = nil
  ) {
    self.architecture = architecture
    self.classCount = classCount
    self.inputShape = inputShape
    self.classNames = classNames
    self.normalizationMean = normalizationMean
    self.normalizationStd = normalizationStd
    self.modelCard = modelCard
  }

  /// Root attribute names.
  enum Attribute {
    static let architecture = "zoo_architecture"
    static let classCount = "zoo_class_count"
    static let inputShape = "zoo_input_shape"
    static let classNames = "zoo_class_names"
    static let normalizationMean = "zoo_normalization_mean"
    static let normalizationStd = "zoo_normalization_std"
    static let modelCard = "zoo_model_card"
  }

  /// Checks what a file should never hold: a negative class count or size, a class list that
  /// disagrees with the class count, mean and std of different lengths, a card that is not JSON.
  public func validate() throws {
    if let classCount, classCount < 0 {
      throw WeightFileError.invalidMetadata(
        field: "classCount", reason: "must not be negative, got \(classCount)")
    }
    if let inputShape, inputShape.contains(where: { $0 <= 0 }) {
      throw WeightFileError.invalidMetadata(
        field: "inputShape", reason: "must have positive sizes, got \(inputShape)")
    }
    if let classNames, let classCount, classNames.count != classCount {
      throw WeightFileError.invalidMetadata(
        field: "classNames",
        reason: "must name \(classCount) classes (classCount), got \(classNames.count) names")
    }
    if (normalizationMean?.count ?? -1) != (normalizationStd?.count ?? -1) {
      throw WeightFileError.invalidMetadata(
        field: "normalizationMean/normalizationStd",
        reason:
          "need one value per channel each, got \(normalizationMean?.count ?? 0) and"
          + " \(normalizationStd?.count ?? 0)")
    }
    if let modelCard,
      (try? JSONSerialization.jsonObject(with: Data(modelCard.utf8), options: .fragmentsAllowed))
        == nil
    {
      throw WeightFileError.invalidMetadata(field: "modelCard", reason: "must be a JSON document")
    }
  }
}
