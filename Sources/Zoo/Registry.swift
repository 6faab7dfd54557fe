import Foundation
import ZooData
import ZooIO
import ZooNN
import ZooTensor

/// What a model does with an image.
public enum ModelTask: String, Sendable, Codable {
  /// One label per image: the model is a `Classifier`.
  case classification
  /// One label per pixel.
  case segmentation
  /// Images to a latent code and back (an autoencoder or a VAE): the entry's class count is
  /// the latent size.
  case generation
}

/// Whose definition an architecture follows, layer for layer and name for name.
public enum ModelDefinition: String, Sendable, Codable {
  /// torchvision's model of that name: its state-dict keys, shapes and forward pass.
  case torchvision
  /// Keras Applications' model: its layer names, padding and batch-norm eps.
  case keras
  /// segmentation_models.pytorch's `Unet` on a torchvision encoder.
  case smp
  /// The paper's network at the zoo's sizes, where no framework ships one (LeNet-5, the
  /// CIFAR ResNets, the small U-Nets).
  case paper
}

/// One architecture of the zoo: how to build it and what it costs. The figures are declared,
/// as torchvision declares them in its weights metadata, and a test checks each against the
/// built model.
public struct ModelEntry: Sendable {
  /// The name `zoo` commands take (`resnet18`, `vgg-lite`).
  public let name: String
  /// The architecture family (`resnet`, `vgg`).
  public let family: String
  /// Classification or segmentation.
  public let task: ModelTask
  /// The paper that introduced the architecture.
  public let paper: String
  /// Default input: (channels, height, width) for images, (features) for a model that takes
  /// table rows.
  public let inputShape: [Int]
  /// Classes of the default head (1000 for ImageNet layouts); a generative model's latent size.
  public let defaultClassCount: Int
  /// Parameters at the default class count and input channels.
  public let parameterCount: Int
  /// Non-trainable state that the followed framework counts as parameters: Keras counts batch
  /// norm's moving statistics (and an input normalization's mean, variance and count); 0 for
  /// torchvision, which counts parameters only.
  public let stateCount: Int
  /// Parameters as the followed framework reports them (Keras's `count_params()`,
  /// torchvision's sum over `parameters()`).
  public var reportedParameterCount: Int { parameterCount + stateCount }
  /// Multiply-accumulates of one forward pass at the default input, in billions (what
  /// torchvision and most papers call GFLOPs).
  public let gigaMultiplyAccumulates: Double
  /// Layers with parameters (convolutions, linear and batch-norm layers).
  public let depth: Int
  /// Whose definition the architecture follows.
  public let definition: ModelDefinition
  /// Size of the float32 parameters in MB of 2^20 bytes, as Keras Applications' table gives
  /// it (VGG16: 528).
  public var sizeInMegabytes: Double { Double(reportedParameterCount * 4) / 1_048_576 }
  /// The smallest height and width the network trains at, where smaller inputs would shrink a
  /// feature map below a kernel (Inception v3's auxiliary classifier needs its 17x17 grid);
  /// nil when a few pixels do.
  public let minimumInputSize: Int?
  /// Pretrained weights shipped in `zoo/`.
  public let weights: [ShippedWeights]
  /// The layer names of the Keras model with this structure, when Keras has one.
  public let kerasNames: KerasNames?
  let builder: @Sendable (_ classCount: Int, _ inputChannels: Int, _ rng: RandomStream) -> Module

  /// A freshly initialised model.
  public func build(classCount: Int? = nil, inputChannels: Int? = nil, rng: RandomStream = .global)
    -> Module
  {
    builder(classCount ?? defaultClassCount, inputChannels ?? inputShape[0], rng)
  }

  /// A freshly initialised classifier; throws for segmentation and generative models.
  public func buildClassifier(
    classCount: Int? = nil, inputChannels: Int? = nil, rng: RandomStream = .global
  ) throws
    -> Classifier
  {
    guard
      let model = build(classCount: classCount, inputChannels: inputChannels, rng: rng)
        as? Classifier
    else {
      throw RegistryError.notAClassifier(name, task: task)
    }
    return model
  }
}

/// A registry lookup that failed.
public enum RegistryError: Error, Equatable, LocalizedError {
  /// No entry has this name; `known` lists those that exist.
  case unknownModel(String, known: [String])
  /// The entry builds a segmentation or generative model where a classifier was asked for.
  case notAClassifier(String, task: ModelTask)

  public var errorDescription: String? {
    switch self {
    case .unknownModel(let name, let known):
      return "no model named '\(name)'; known models: \(known.joined(separator: ", "))"
    case .notAClassifier(let name, let task):
      return "\(name) is a \(task.rawValue) model, not a classifier"
    }
  }
}

/// Every architecture the zoo ships, by name.
public enum ModelRegistry {
  private static func entry(
    _ name: String, _ family: String, _ task: ModelTask = .classification, paper: String,
    input: [Int], classes: Int, parameters: Int, kerasCount: Int? = nil, gmacs: Double,
    depth: Int, follows definition: ModelDefinition = .torchvision, minimumInput: Int? = nil,
    weights: [ShippedWeights] = [], keras: KerasNames? = nil,
    _ builder: @escaping @Sendable (Int, Int, RandomStream) -> Module
  ) -> ModelEntry {
    ModelEntry(
      name: name, family: family, task: task, paper: paper, inputShape: input,
      defaultClassCount: classes,
      parameterCount: parameters, stateCount: kerasCount.map { $0 - parameters } ?? 0,
      gigaMultiplyAccumulates: gmacs, depth: depth,
      definition: definition, minimumInputSize: minimumInput, weights: weights, kerasNames: keras,
      builder: builder)
  }

  /// Weights trained on Fashion-MNIST, or on its classes `classes`.
  private static func fashionMNIST(
    _ file: String, classes: ClosedRange<Int> = 0...9, testAccuracy: Float, sliceAccuracy: Float
  ) -> ShippedWeights {
    let data =
      classes == 0...9
      ? "fashion-mnist" : "fashion-mnist:\(classes.lowerBound)-\(classes.upperBound)"
    return ShippedWeights(
      file: file, data: data, classNames: Array(FashionMNIST.classNames[classes]),
      testAccuracy: testAccuracy, sliceAccuracy: sliceAccuracy, foregroundIoU: nil)
  }

  /// An autoencoder's weights trained on all of Fashion-MNIST's training images, labels unused;
  /// `testLoss` is its loss per image on the test split.
  private static func fashionMNISTCodes(_ file: String, testLoss: Float) -> ShippedWeights {
    ShippedWeights(
      file: file, data: "fashion-mnist", classNames: [], testAccuracy: 0,
      sliceAccuracy: 0, testLoss: testLoss)
  }

  /// Weights trained on the built-in Fashion-MNIST scenes (`--data scenes`, 11 classes).
  private static func scenes(
    _ file: String, pixelAccuracy: Float, slicePixelAccuracy: Float, foregroundIoU: Float
  ) -> ShippedWeights {
    ShippedWeights(
      file: file, data: "scenes", classNames: FashionScenes.classNames,
      testAccuracy: pixelAccuracy, sliceAccuracy: slicePixelAccuracy,
      foregroundIoU: foregroundIoU)
  }

  private static let lecun =
    "LeCun et al. 1998, Gradient-based learning applied to document recognition"
  private static let szegedy =
    "Szegedy et al. 2016, Rethinking the Inception architecture for computer vision"
  private static let krizhevsky = "Krizhevsky et al. 2012, ImageNet classification with deep CNNs"
  private static let simonyan = "Simonyan & Zisserman 2015, Very deep convolutional networks"
  private static let he = "He et al. 2016, Deep residual learning for image recognition"
  private static let ronneberger = "Ronneberger et al. 2015, U-Net"
  private static let huang = "Huang et al. 2017, Densely connected convolutional networks"
  private static let sandler =
    "Sandler et al. 2018, MobileNetV2: Inverted residuals and linear bottlenecks"
  private static let tan = "Tan & Le 2019, EfficientNet: Rethinking model scaling for CNNs"
  private static let howard = "Howard et al. 2019, Searching for MobileNetV3"
  private static let chollet =
    "Chollet 2017, Xception: Deep learning with depthwise separable convolutions"
  private static let liu = "Liu et al. 2022, A ConvNet for the 2020s"
  private static let szegedy2017 =
    "Szegedy et al. 2017, Inception-v4, Inception-ResNet and the impact of residual connections"
  private static let kingma = "Kingma & Welling 2014, Auto-Encoding Variational Bayes"
  private static let hinton =
    "Hinton & Salakhutdinov 2006, Reducing the dimensionality of data with neural networks"
  private static let rumelhart =
    "Rumelhart, Hinton & Williams 1986, Learning representations by back-propagating errors"

  private static func vgg(
    _ depth: Int, batchNorm: Bool, parameters: Int, gmacs: Double, keras: KerasNames? = nil
  )
    -> ModelEntry
  {
    let layers = depth + (batchNorm ? depth - 3 : 0)
    return entry(
      "vgg\(depth)\(batchNorm ? "_bn" : "")", "vgg", paper: simonyan, input: [3, 224, 224],
      classes: 1000,
      parameters: parameters, gmacs: gmacs, depth: layers, keras: keras
    ) {
      VGG(
        .torchvision(depth: depth, batchNorm: batchNorm), classCount: $0, inputChannels: $1, rng: $2
      )
    }
  }

  private static func resnet(
    _ name: String, _ configuration: ResNetConfiguration, input: [Int], classes: Int,
    parameters: Int, kerasCount: Int? = nil, gmacs: Double, depth: Int,
    follows definition: ModelDefinition = .torchvision, weights: [ShippedWeights] = [],
    keras: KerasNames? = nil
  ) -> ModelEntry {
    entry(
      name, "resnet", paper: he, input: input, classes: classes, parameters: parameters,
      kerasCount: kerasCount, gmacs: gmacs, depth: depth, follows: definition, weights: weights,
      keras: keras
    ) {
      ResNet(configuration, classCount: $0, inputChannels: $1, rng: $2)
    }
  }

  /// torchvision's densenet, or (given Keras's count) Keras Applications' with Keras's names
  /// and eps.
  private static func densenet(
    _ depth: Int, _ configuration: DenseNetConfiguration, parameters: Int, gmacs: Double,
    layers: Int, kerasCount: Int? = nil
  ) -> ModelEntry {
    let keras = kerasCount != nil
    let names = KerasApplications.densenet(
      configuration, source: "keras.applications.DenseNet\(depth)")
    let built = keras ? configuration.keras : configuration
    return entry(
      "densenet\(depth)\(keras ? "-keras" : "")", "densenet", paper: huang, input: [3, 224, 224],
      classes: 1000, parameters: parameters, kerasCount: kerasCount, gmacs: gmacs, depth: layers,
      follows: keras ? .keras : .torchvision, keras: keras ? names : nil
    ) {
      DenseNet(built, classCount: $0, inputChannels: $1, rng: $2)
    }
  }

  /// torchvision's `mobilenet_v3_large` or `mobilenet_v3_small`.
  private static func mobilenetV3(
    _ variant: MobileNetV3Variant, parameters: Int, gmacs: Double, depth: Int
  ) -> ModelEntry {
    entry(
      "mobilenet_v3_\(variant.rawValue)", "mobilenet", paper: howard, input: [3, 224, 224],
      classes: 1000, parameters: parameters, gmacs: gmacs, depth: depth
    ) {
      MobileNetV3(variant, classCount: $0, inputChannels: $1, rng: $2)
    }
  }

  /// Every entry, in declaration order.
  public static let entries: [ModelEntry] = [
    entry(
      "lenet5", "lenet", paper: lecun, input: [1, 28, 28], classes: 10, parameters: 61_706,
      gmacs: 0.0004165, depth: 5, follows: .paper,
      weights: [
        fashionMNIST("lenet5.h5", testAccuracy: 0.9161, sliceAccuracy: 0.911),
        fashionMNIST(
          "lenet5-fashion-mnist-0-4.h5", classes: 0...4, testAccuracy: 0.9324, sliceAccuracy: 0.933),
      ]
    ) {
      LeNet5(classCount: $0, inputChannels: $1, rng: $2)
    },
    entry(
      "mlp", "mlp", paper: rumelhart, input: [4], classes: 3, parameters: 2_499,
      gmacs: 0.0000024, depth: 3, follows: .paper
    ) {
      MLP(inputFeatures: $1, classCount: $0, rng: $2)
    },
    entry(
      "alexnet", "alexnet", paper: krizhevsky, input: [3, 224, 224], classes: 1000,
      parameters: 61_100_840, gmacs: 0.714, depth: 8
    ) {
      AlexNet(.torchvision, classCount: $0, inputChannels: $1, rng: $2)
    },
    entry(
      "alexnet-small", "alexnet", paper: krizhevsky, input: [1, 28, 28], classes: 10,
      parameters: 3_240_650, gmacs: 0.1670, depth: 8, follows: .paper
    ) {
      AlexNet(.small, classCount: $0, inputChannels: $1, rng: $2)
    },
    vgg(11, batchNorm: false, parameters: 132_863_336, gmacs: 7.609),
    vgg(11, batchNorm: true, parameters: 132_868_840, gmacs: 7.609),
    vgg(13, batchNorm: false, parameters: 133_047_848, gmacs: 11.308),
    vgg(13, batchNorm: true, parameters: 133_053_736, gmacs: 11.308),
    vgg(
      16, batchNorm: false, parameters: 138_357_544, gmacs: 15.47, keras: KerasApplications.vgg16),
    vgg(16, batchNorm: true, parameters: 138_365_992, gmacs: 15.47),
    vgg(
      19, batchNorm: false, parameters: 143_667_240, gmacs: 19.632, keras: KerasApplications.vgg19),
    vgg(19, batchNorm: true, parameters: 143_678_248, gmacs: 19.632),
    entry(
      "inception_v3", "inception", paper: szegedy, input: [3, 299, 299], classes: 1000,
      parameters: 27_161_264, gmacs: 5.713, depth: 194, minimumInput: 299
    ) {
      InceptionV3(classCount: $0, inputChannels: $1, rng: $2)
    },
    entry(
      "vgg-lite", "vgg", paper: simonyan, input: [1, 28, 28], classes: 10, parameters: 259_578,
      gmacs: 0.009295, depth: 16, follows: .paper,
      weights: [fashionMNIST("vgg-lite.h5", testAccuracy: 0.9359, sliceAccuracy: 0.942)]
    ) {
      VGG(.lite, classCount: $0, inputChannels: $1, rng: $2)
    },
    resnet(
      "resnet18", .resnet18, input: [3, 224, 224], classes: 1000, parameters: 11_689_512,
      gmacs: 1.814, depth: 41),
    resnet(
      "resnet34", .resnet34, input: [3, 224, 224], classes: 1000, parameters: 21_797_672,
      gmacs: 3.664, depth: 73),
    resnet(
      "resnet50", .resnet50, input: [3, 224, 224], classes: 1000, parameters: 25_557_032,
      gmacs: 4.089, depth: 107),
    resnet(
      "resnet101", .resnet101, input: [3, 224, 224], classes: 1000, parameters: 44_549_160,
      gmacs: 7.801, depth: 209),
    resnet(
      "resnet152", .resnet152, input: [3, 224, 224], classes: 1000, parameters: 60_192_808,
      gmacs: 11.514, depth: 311),
    resnet(
      "resnet20", .cifar(depth: 20), input: [1, 28, 28], classes: 10, parameters: 272_186,
      gmacs: 0.03102, depth: 43, follows: .paper,
      weights: [
        fashionMNIST("resnet20.h5", testAccuracy: 0.9381, sliceAccuracy: 0.949),
        fashionMNIST(
          "resnet20-fashion-mnist-0-4.h5", classes: 0...4, testAccuracy: 0.9514,
          sliceAccuracy: 0.952),
      ]),
    resnet(
      "resnet56", .cifar(depth: 56), input: [1, 28, 28], classes: 10, parameters: 855_482,
      gmacs: 0.09605, depth: 115, follows: .paper),
    densenet(121, .densenet121, parameters: 7_978_856, gmacs: 2.834, layers: 242),
    densenet(169, .densenet169, parameters: 14_149_480, gmacs: 3.360, layers: 338),
    densenet(201, .densenet201, parameters: 20_013_928, gmacs: 4.291, layers: 402),
    densenet(
      121, .densenet121, parameters: 7_978_856, gmacs: 2.834, layers: 242, kerasCount: 8_062_504),
    densenet(
      169, .densenet169, parameters: 14_149_480, gmacs: 3.360, layers: 338,
      kerasCount: 14_307_880),
    densenet(
      201, .densenet201, parameters: 20_013_928, gmacs: 4.291, layers: 402,
      kerasCount: 20_242_984),
    resnet(
      "resnet50-keras", ResNetConfiguration.resnet50.keras, input: [3, 224, 224], classes: 1000,
      parameters: 25_583_592, kerasCount: 25_636_712, gmacs: 3.858, depth: 107, follows: .keras,
      keras: KerasApplications.resnet(.resnet50, source: "keras.applications.ResNet50")),
    entry(
      "mobilenet_v2", "mobilenet", paper: sandler, input: [3, 224, 224], classes: 1000,
      parameters: 3_504_872, gmacs: 0.3008, depth: 105
    ) {
      MobileNetV2(classCount: $0, inputChannels: $1, rng: $2)
    },
    mobilenetV3(.large, parameters: 5_483_032, gmacs: 0.217, depth: 110),
    mobilenetV3(.small, parameters: 2_542_856, gmacs: 0.0565, depth: 88),
    entry(
      "efficientnet_b0", "efficientnet", paper: tan, input: [3, 224, 224], classes: 1000,
      parameters: 5_288_548, gmacs: 0.386, depth: 131
    ) {
      EfficientNet(.b0, classCount: $0, inputChannels: $1, rng: $2)
    },
    entry(
      "mobilenet-keras", "mobilenet",
      paper: "Howard et al. 2017, MobileNets: Efficient CNNs for mobile vision applications",
      input: [3, 224, 224], classes: 1000, parameters: 4_231_976, kerasCount: 4_253_864,
      gmacs: 0.569, depth: 55,
      follows: .keras, keras: KerasApplications.mobilenet
    ) {
      MobileNet(classCount: $0, inputChannels: $1, rng: $2)
    },
    entry(
      "mobilenet_v2-keras", "mobilenet", paper: sandler, input: [3, 224, 224], classes: 1000,
      parameters: 3_504_872, kerasCount: 3_538_984, gmacs: 0.3008, depth: 105, follows: .keras,
      keras: KerasApplications.mobilenetV2
    ) {
      MobileNetV2(classCount: $0, inputChannels: $1, source: .keras, rng: $2)
    },
    entry(
      "xception-keras", "xception", paper: chollet, input: [3, 299, 299], classes: 1000,
      parameters: 22_855_952, kerasCount: 22_910_480, gmacs: 8.357, depth: 81, follows: .keras,
      minimumInput: 71,
      keras: KerasApplications.xception()
    ) {
      Xception(classCount: $0, inputChannels: $1, rng: $2)
    },
    entry(
      "unet", "unet", .segmentation, paper: ronneberger, input: [1, 128, 128], classes: 2,
      parameters: 31_036_546, gmacs: 12.02, depth: 41, follows: .paper
    ) {
      UNet(depth: 4, baseWidth: 64, classCount: $0, inputChannels: $1, rng: $2)
    },
    entry(
      "unet-small", "unet", .segmentation, paper: ronneberger, input: [1, 96, 96], classes: 2,
      parameters: 1_942_306, gmacs: 0.4239, depth: 41, follows: .paper
    ) {
      UNet(depth: 4, baseWidth: 16, classCount: $0, inputChannels: $1, rng: $2)
    },
    entry(
      "unet-tiny", "unet", .segmentation, paper: ronneberger, input: [1, 96, 96], classes: 2,
      parameters: 486_418, gmacs: 0.1060, depth: 41, follows: .paper,
      weights: [
        scenes(
          "unet-tiny-scenes.h5", pixelAccuracy: 0.8798, slicePixelAccuracy: 0.871,
          foregroundIoU: 0.9461)
      ]
    ) {
      UNet(depth: 4, baseWidth: 8, classCount: $0, inputChannels: $1, rng: $2)
    },
    entry(
      "unet-resnet18", "unet", .segmentation, paper: ronneberger, input: [3, 224, 224],
      classes: 2, parameters: 14_328_354, gmacs: 4.140, depth: 61, follows: .smp
    ) {
      ResNetUNet(encoder: .resnet18, classCount: $0, inputChannels: $1, rng: $2)
    },
    entry(
      "unet-resnet34", "unet", .segmentation, paper: ronneberger, input: [3, 224, 224],
      classes: 2, parameters: 24_436_514, gmacs: 5.990, depth: 93, follows: .smp
    ) {
      ResNetUNet(encoder: .resnet34, classCount: $0, inputChannels: $1, rng: $2)
    },
    entry(
      "convnext_tiny", "convnext", paper: liu, input: [3, 224, 224], classes: 1000,
      parameters: 28_589_128, gmacs: 4.456, depth: 100
    ) {
      ConvNeXt(.tiny, classCount: $0, inputChannels: $1, rng: $2)
    },
    entry(
      "inception_v3-keras", "inception", paper: szegedy, input: [3, 299, 299], classes: 1000,
      parameters: 23_817_352, kerasCount: 23_851_784, gmacs: 5.713, depth: 189, follows: .keras,
      minimumInput: 75,
      keras: KerasApplications.inceptionV3
    ) {
      InceptionV3(classCount: $0, inputChannels: $1, source: .keras, rng: $2)
    },
    entry(
      "efficientnet_b0-keras", "efficientnet", paper: tan, input: [3, 224, 224], classes: 1000,
      parameters: 5_288_548, kerasCount: 5_330_571, gmacs: 0.386, depth: 131, follows: .keras,
      keras: KerasApplications.efficientNet(.b0)
    ) {
      EfficientNet(.b0.keras, classCount: $0, inputChannels: $1, rng: $2)
    },
    entry(
      "inception_resnet_v2-keras", "inception", paper: szegedy2017, input: [3, 299, 299],
      classes: 1000, parameters: 55_813_192, kerasCount: 55_873_736, gmacs: 13.156, depth: 449,
      follows: .keras,
      minimumInput: 75, keras: KerasApplications.inceptionResNetV2()
    ) {
      InceptionResNetV2(classCount: $0, inputChannels: $1, rng: $2)
    },
    entry(
      "autoencoder", "autoencoder", .generation, paper: hinton, input: [1, 28, 28], classes: 16,
      parameters: 68_721, gmacs: 0.0009533, depth: 6, follows: .paper,
      weights: [fashionMNISTCodes("autoencoder-fashion-mnist.h5", testLoss: 220.6226)]
    ) {
      ConvAutoencoder(.plain, latentSize: $0, inputChannels: $1, rng: $2)
    },
    entry(
      "vae", "autoencoder", .generation, paper: kingma, input: [1, 28, 28], classes: 16,
      parameters: 93_825, gmacs: 0.0009784, depth: 7, follows: .paper,
      weights: [fashionMNISTCodes("vae-fashion-mnist.h5", testLoss: 247.1705)]
    ) {
      ConvAutoencoder(.variational, latentSize: $0, inputChannels: $1, rng: $2)
    },
  ]

  /// Names in natural order (`resnet18` before `resnet101`).
  public static var names: [String] { entries.map(\.name).sorted(by: naturalOrder) }

  /// The entry called `name`; the error lists the known names.
  public static func entry(named name: String) throws -> ModelEntry {
    guard let entry = entries.first(where: { $0.name == name }) else {
      throw RegistryError.unknownModel(name, known: names)
    }
    return entry
  }

  /// Entries whose name matches a shell-style pattern (`resnet*`, `vgg1?_bn`), in natural order.
  public static func entries(matching pattern: String) -> [ModelEntry] {
    entries.filter { fnmatch(pattern, $0.name, 0) == 0 }.sorted { naturalOrder($0.name, $1.name) }
  }

  private static func naturalOrder(_ a: String, _ b: String) -> Bool {
    a.compare(b, options: .numeric) == .orderedAscending
  }
}

#if canImport(Glibc)
  import Glibc
#endif
