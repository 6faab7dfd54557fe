import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// One epoch's figures, as the CSV log and the curves show them.
public struct EpochFigures: Codable, Sendable, Equatable {
  /// The epoch, from 1.
  public var epoch: Int
  /// Mean training loss over the epoch's steps.
  public var trainLoss: Float
  /// Training accuracy over the epoch's steps (augmented images, dropout on).
  public var trainAccuracy: Float
  /// Loss on the held-out split after the epoch.
  public var validationLoss: Float
  /// Accuracy on the held-out split after the epoch.
  public var validationAccuracy: Float
  /// The rate of the epoch's last step.
  public var learningRate: Float
  /// Wall time of the epoch, evaluation included.
  public var seconds: Double
  /// A generative model's held-out reconstruction and KL terms (`validationLoss` is their
  /// sum); nil for a classifier.
  public var validationReconstruction: Float?
  public var validationKL: Float?

  /// An epoch's figures.
  public init(
    epoch: Int, trainLoss: Float, trainAccuracy: Float, validationLoss: Float,
    validationAccuracy: Float, learningRate: Float, seconds: Double,
    validationReconstruction: Float? = nil, validationKL: Float? = nil
  ) {
    self.validationReconstruction = validationReconstruction
    self.validationKL = validationKL
    self.epoch = epoch
    self.trainLoss = trainLoss
    self.trainAccuracy = trainAccuracy
    self.validationLoss = validationLoss
    self.validationAccuracy = validationAccuracy
    self.learningRate = learningRate
    self.seconds = seconds
  }

  /// The CSV log's header row.
  public static let csvHeader =
    "epoch,train_loss,train_accuracy,validation_loss,validation_accuracy,learning_rate,seconds"

  /// The CSV log's header row for a generative model.
  public static let generativeCSVHeader =
    "epoch,train_loss,validation_loss,validation_reconstruction,validation_kl,learning_rate,seconds"

  /// This epoch as a CSV row under `generativeCSVHeader`.
  public var generativeCSVRow: String {
    String(
      format: "%d,%.6f,%.6f,%.6f,%.6f,%.6g,%.2f", epoch, trainLoss, validationLoss,
      validationReconstruction ?? 0, validationKL ?? 0, learningRate, seconds)
  }

  /// This epoch as a CSV row under `csvHeader`.
  public var csvRow: String {
    String(
      format: "%d,%.6f,%.6f,%.6f,%.6f,%.6g,%.2f", epoch, trainLoss, trainAccuracy, validationLoss,
      validationAccuracy, learningRate, seconds)
  }
}

/// What a model file says about how it was made (`zoo_model_card` in the weight file): the
/// data, the recipe, the seed, the result, and the command that reproduces it.
public struct ModelCard: Codable, Equatable, Sendable {
  /// The registry name of the architecture.
  public var architecture: String
  /// The data source, as `--data` takes it.
  public var data: String
  /// Class names in label order.
  public var classes: [String]
  /// Optimiser, rates and the other settings, by name.
  public var recipe: [String: String]
  /// Seed of the initial weights, splits and shuffling.
  public var seed: UInt64
  /// Epochs trained.
  public var epochs: Int
  /// Name of the held-out split the accuracy is measured on ("test" or "validation").
  public var evaluatedOn: String
  /// Accuracy on `evaluatedOn`.
  public var accuracy: Float
  /// Wall time of the whole run.
  public var wallSeconds: Double
  /// The command line that made the file.
  public var command: String
  /// Further figures on the held-out split by name (a segmentation model's `mean_iou`,
  /// `foreground_iou`, `dice`, and `iou/CLASS` per class); `accuracy` is then pixel accuracy.
  public var metrics: [String: Double]?

  /// A model card.
  public init(
    architecture: String, data: String, classes: [String], recipe: [String: String], seed: UInt64,
    epochs: Int, evaluatedOn: String, accuracy: Float, wallSeconds: Double, command: String,
    metrics: [String: Double]? = nil
  ) {
    self.architecture = architecture
    self.data = data
    self.classes = classes
    self.recipe = recipe
    self.seed = seed
    self.epochs = epochs
    self.evaluatedOn = evaluatedOn
    self.accuracy = accuracy
    self.wallSeconds = wallSeconds
    self.command = command
    self.metrics = metrics
  }

  /// The card as pretty-printed JSON with sorted keys, as the weight file stores it.
  public func json() throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    return String(decoding: try encoder.encode(self), as: UTF8.self)
  }
}
