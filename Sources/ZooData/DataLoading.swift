import Foundation

/// Choices that shape how a data source is loaded.
public struct DataOptions: Sendable {
  /// The model's input for images: folders are decoded to it; IDX images are converted only
  /// when it differs from theirs. Nil keeps IDX images as they are and prepares folders for
  /// `ImageShape.imageNet`.
  public var imageShape: ImageShape?
  /// Share of each class held out for validation when the source has no split of its own.
  public var validationFraction: Double
  /// Seeds the validation split and k-shot sampling.
  public var seed: UInt64
  /// Keep only this many training examples per class (k-shot), drawn by `seed`.
  public var shots: Int?
  public var corruptImages: CorruptImagePolicy
  public var alpha: AlphaHandling
  /// Feature scaling for tables, fitted on the training split.
  public var scaling: FeatureScaling?
  /// Where `fashion-mnist` is read from.
  public var fashionMNISTDirectory: URL

  public init(
    imageShape: ImageShape? = nil, validationFraction: Double = 0.1, seed: UInt64 = 0,
    shots: Int? = nil, corruptImages: CorruptImagePolicy = .fail, alpha: AlphaHandling = .drop,
    scaling: FeatureScaling? = nil,
    fashionMNISTDirectory: URL = FashionMNIST.defaultDirectory
  ) {
    self.imageShape = imageShape
    self.validationFraction = validationFraction
    self.seed = seed
    self.shots = shots
    self.corruptImages = corruptImages
    self.alpha = alpha
    self.scaling = scaling
    self.fashionMNISTDirectory = fashionMNISTDirectory
  }
}

extension ImageShape {
  /// torchvision's ImageNet input, 3x224x224.
  public static let imageNet = ImageShape(channels: 3, height: 224, width: 224)
}

/// A loaded data set: a training split, a held-out split, and what was left out.
public struct LoadedData: Sendable {
  public var train: Examples
  public var validation: Examples
  /// "test" when the held-out split is a test set (Fashion-MNIST's, a `test/` folder),
  /// "validation" otherwise.
  public var validationName: String
  /// Feature scaling fitted on the training split (tables with scaling only); save it with
  /// the model.
  public var scaler: FeatureScaler?
  public var report: FolderLoadReport

  public var classNames: [String] { train.classNames }
}

extension DataSource {
  /// Reads the source and returns its splits. Sources without a split of their own are split
  /// by `options.validationFraction`, per class, by `options.seed`.
  public func load(_ options: DataOptions = DataOptions()) throws -> LoadedData {
    var report = FolderLoadReport()
    var validationName = "validation"
    var train: Examples
    var validation: Examples
    var scaler: FeatureScaler?
    switch self {
    case .fashionMNIST(let classes):
      var trainImages = try FashionMNIST.load(.train, directory: options.fashionMNISTDirectory)
      var testImages = try FashionMNIST.load(.test, directory: options.fashionMNISTDirectory)
      if let classes {
        trainImages = trainImages.subset(classes: classes)
        testImages = testImages.subset(classes: classes)
      }
      (train, validation) = (.images(trainImages), .images(testImages))
      validationName = "test"
    case .idx(let imagesURL, let labelsURL):
      let images = try LabeledImages.readIDX(images: imagesURL, labels: labelsURL)
      (train, validation) = try Examples.images(images).stratifiedSplit(
        validationFraction: options.validationFraction, seed: options.seed)
    case .folder(let root):
      let shape = options.imageShape ?? .imageNet
      func read(_ folder: URL, classNames: [String]?) throws -> LabeledImages {
        try ImageFolder.read(
          folder, shape: shape, classNames: classNames, policy: options.corruptImages,
          alpha: options.alpha, report: &report)
      }
      if let split = ImageFolder.splitFolders(in: root) {
        let trainImages = try read(split.train, classNames: nil)
        train = .images(trainImages)
        validation = .images(try read(split.validation, classNames: trainImages.classNames))
        validationName = split.name
      } else {
        let trainFolder = root.appendingPathComponent("train")
        let folder = FileManager.default.fileExists(atPath: trainFolder.path) ? trainFolder : root
        (train, validation) = try Examples.images(read(folder, classNames: nil))
          .stratifiedSplit(validationFraction: options.validationFraction, seed: options.seed)
      }
    case .csv(let url, let labelColumn):
      let table = try LabeledTable.readCSV(url, labelColumn: labelColumn)
      (train, validation) = try Examples.table(table).stratifiedSplit(
        validationFraction: options.validationFraction, seed: options.seed)
    }
    if let shots = options.shots {
      train = try train.kShot(shots, seed: options.seed)
    }
    // Fitted on the training rows only, after k-shot sampling, and applied to both splits.
    if let scaling = options.scaling, case .table(let trainTable) = train,
      case .table(let validationTable) = validation
    {
      let fitted = FeatureScaler.fit(scaling, to: trainTable)
      (train, validation) = (
        .table(fitted.apply(to: trainTable)), .table(fitted.apply(to: validationTable))
      )
      scaler = fitted
    }
    // IDX images are converted last, so only the examples kept are resized.
    if case .images(let images) = train, case .images(let held) = validation {
      train = .images(images.prepared(for: options.imageShape, alpha: options.alpha))
      validation = .images(held.prepared(for: options.imageShape, alpha: options.alpha))
    }
    return LoadedData(
      train: train, validation: validation, validationName: validationName, scaler: scaler,
      report: report)
  }
}
