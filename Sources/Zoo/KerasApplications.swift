import ZooIO

/// Layer names of `keras.applications` models, mapped to the zoo architecture with the same
/// structure. Keras names its layers by block (`block1_conv1`); torchvision and the zoo number
/// the children of `features` and `classifier`, counting ReLUs, pools and dropouts. The rows
/// of the first dense layer are reordered separately (`FlattenedInputs`), not by the table.
public enum KerasApplications {
  /// `keras.applications.VGG16` (include_top) to `vgg16`. Keras's VGG16 has no average pool
  /// and no dropout; at 224x224 the zoo's 7x7 adaptive pool passes the map through unchanged.
  public static let vgg16 = KerasNames(
    source: "keras.applications.VGG16",
    [
      .init("block1_conv1", "features.0"), .init("block1_conv2", "features.2"),
      .init("block2_conv1", "features.5"), .init("block2_conv2", "features.7"),
      .init("block3_conv1", "features.10"), .init("block3_conv2", "features.12"),
      .init("block3_conv3", "features.14"),
      .init("block4_conv1", "features.17"), .init("block4_conv2", "features.19"),
      .init("block4_conv3", "features.21"),
      .init("block5_conv1", "features.24"), .init("block5_conv2", "features.26"),
      .init("block5_conv3", "features.28"),
      .init("fc1", "classifier.0"), .init("fc2", "classifier.3"),
      .init("predictions", "classifier.6"),
    ])
}

extension KerasApplications {
  /// `keras.applications.DenseNet121`, `169`, `201` (include_top) to the zoo's DenseNet with
  /// the same blocks (`densenet121-keras` ...). Keras names the dense blocks `conv2` ... `conv5`,
  /// their layers `conv2_block1` ..., with `_0_bn`, `_1_conv`, `_1_bn`, `_2_conv` for norm1,
  /// conv1, norm2, conv2; the transitions `pool2` ... `pool4`; the last batch norm `bn`.
  public static func densenet(_ configuration: DenseNetConfiguration, source: String)
    -> KerasNames
  {
    var renames: [KerasNames.Rename] = [
      .init("conv1_conv", "features.conv0"), .init("conv1_bn", "features.norm0"),
    ]
    let blocks = configuration.layersPerBlock
    for (index, layers) in blocks.enumerated() {
      for layer in 0..<layers {
        let keras = "conv\(index + 2)_block\(layer + 1)"
        let zoo = "features.denseblock\(index + 1).denselayer\(layer + 1)"
        renames += [
          .init("\(keras)_0_bn", "\(zoo).norm1"), .init("\(keras)_1_conv", "\(zoo).conv1"),
          .init("\(keras)_1_bn", "\(zoo).norm2"), .init("\(keras)_2_conv", "\(zoo).conv2"),
        ]
      }
      if index < blocks.count - 1 {
        let transition = "features.transition\(index + 1)"
        renames += [
          .init("pool\(index + 2)_bn", "\(transition).norm"),
          .init("pool\(index + 2)_conv", "\(transition).conv"),
        ]
      }
    }
    renames += [.init("bn", "features.norm5"), .init("predictions", "classifier")]
    return KerasNames(source: source, renames)
  }
}
