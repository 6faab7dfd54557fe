import ZooNN
import ZooTensor

// MobileNet v1 (Howard et al. 2017, "MobileNets: Efficient Convolutional Neural Networks for
// Mobile Vision Applications") as `keras.applications.MobileNet` builds it (torchvision has
// none): a 3x3 stride-2 stem with Keras's 'same' padding, 13 depthwise-separable blocks
// (3x3 depthwise, 1x1 pointwise, each with batch norm eps 1e-3 and ReLU6; before a stride-2
// depthwise convolution one zero row and column at the bottom and right, Keras's
// ZeroPadding2D), global average pool, dropout, and `conv_preds`, a 1x1 convolution with bias,
// as the classifier. Widths are `int(width * alpha)`, as Keras truncates them. Parameter paths
// come from the structure (`features.2.1.weight`); `KerasApplications.mobilenet` maps Keras's
// layer names to them. Deviation: the initialisation is Keras's glorot-uniform with the fans
// PyTorch computes (which only matters before training).

/// Keras's MobileNet v1 classifier: `features` (stem and 13 blocks), global average pool,
/// dropout, `classifier` (a 1x1 convolution).
public final class MobileNet: Module, Classifier {
  /// Pointwise filters and depthwise stride of each block at width 1 (Keras's
  /// `_depthwise_conv_block` calls, block_id 1 to 13).
  static let blocks: [(filters: Int, stride: Int)] = [
    (64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2), (512, 1), (512, 1), (512, 1),
    (512, 1), (512, 1), (1024, 2), (1024, 1),
  ]

  /// Scales every width (Keras's `alpha`).
  public let alpha: Double
  public private(set) var classCount: Int
  public let featureCount: Int
  let featureLayers: Sequential
  let dropout: Dropout
  private(set) var classifier: Module

  /// Keras's default batch norm: eps 1e-3, momentum 0.99 (PyTorch's 0.01).
  static let norm = BatchNormSettings(momentum: 0.01, eps: 1e-3)

  /// A freshly initialised network; `dropout` is Keras's rate (1e-3 by default).
  public init(
    alpha: Double = 1, classCount: Int = 1000, inputChannels: Int = 3, dropout: Float = 1e-3,
    rng: RandomStream = .global
  ) {
    self.alpha = alpha
    self.classCount = classCount
    func conv(_ input: Int, _ output: Int, _ kernel: Int, stride: Int = 1, groups: Int = 1)
      -> Conv2d
    {
      // 'same' at stride 1 is symmetric; the stride-2 layers are padded before.
      Conv2d(
        input, output, kernelSize: kernel, stride: stride,
        padding: stride == 1 ? (kernel - 1) / 2 : 0, groups: groups, bias: false,
        initializer: .glorotUniform, rng: rng)
    }
    func norm(_ channels: Int) -> BatchNorm {
      BatchNorm(channels, momentum: Self.norm.momentum, eps: Self.norm.eps)
    }
    var channels = Int(32 * alpha)
    var layers: [Module] = [
      Sequential([
        SamePadding2d(kernelSize: 3, stride: 2), conv(inputChannels, channels, 3, stride: 2),
        norm(channels), ReLU6(),
      ])
    ]
    for block in Self.blocks {
      let output = Int(Double(block.filters) * alpha)
      let padding: [Module] =
        block.stride == 1 ? [] : [ZeroPadding2d(Padding2D(top: 0, bottom: 1, left: 0, right: 1))]
      layers.append(
        Sequential(
          padding + [
            conv(channels, channels, 3, stride: block.stride, groups: channels), norm(channels),
            ReLU6(), conv(channels, output, 1), norm(output), ReLU6(),
          ]))
      channels = output
    }
    featureCount = channels
    featureLayers = Sequential(layers)
    self.dropout = Dropout(dropout, rng: rng)
    classifier = Self.convPreds(featureCount, classCount, rng: rng)
    super.init()
    register("features", featureLayers)
    register("dropout", self.dropout)
    register("classifier", classifier)
  }

  /// Keras's `conv_preds`: a 1x1 convolution with bias, or the identity for 0 classes.
  static func convPreds(_ features: Int, _ classes: Int, rng: RandomStream) -> Module {
    guard classes > 0 else { return Identity() }
    return Conv2d(
      features, classes, kernelSize: 1, initializer: .glorotUniform,
      biasInitializer: .constant(0), rng: rng)
  }

  public var classifierPath: String { "classifier" }

  /// Pooled features after dropout, (N, featureCount).
  public func features(_ x: Tensor) throws -> Tensor {
    let pooled = try adaptiveAvgPool2d(featureLayers(x), outputHeight: 1, outputWidth: 1)
    return try dropout(pooled.flattened())
  }

  /// `conv_preds` reads the pooled (N, C, 1, 1) map; a replaced head reads the vectors.
  public func head(_ features: Tensor) throws -> Tensor {
    guard let conv = classifier as? Conv2d else { return try classifier(features) }
    guard features.rank == 2 else {
      throw TensorError.rankMismatch(op: "MobileNet.head", expected: 2, actual: features.shape)
    }
    let (n, c) = (features.shape[0], features.shape[1])
    return try conv(features.reshaped([n, c, 1, 1])).reshaped([n, conv.weight.shape[0]])
  }

  public func replaceClassifier(with head: Module, classCount: Int) {
    register("classifier", head)
    classifier = head
    self.classCount = classCount
  }

  public override func forward(_ x: Tensor) throws -> Tensor {
    try logits(x)
  }
}
