import ZooIO

extension KerasApplications {
  /// `keras.applications.VGG16` or `VGG19` (include_top) to the zoo's VGG with the same layer
  /// table (no batch norm): Keras numbers the convolutions by block (`block3_conv4`), a block
  /// ending at each max-pool; the zoo numbers the children of `features`, where every
  /// convolution is followed by its ReLU and every block by its pool.
  public static func vgg(_ configuration: VGGConfiguration, source: String) -> KerasNames {
    precondition(!configuration.batchNorm, "\(source) has no batch norm")
    var renames: [KerasNames.Rename] = []
    var block = 1
    var conv = 1
    var index = 0
    for layer in configuration.layers {
      switch layer {
      case .conv:
        renames.append(.init("block\(block)_conv\(conv)", "features.\(index)"))
        conv += 1
        index += 2
      case .pool:
        block += 1
        conv = 1
        index += 1
      }
    }
    let dense = ["fc1", "fc2", "predictions"]
    precondition(configuration.hidden.count == dense.count - 1, "\(source) has two hidden layers")
    for (position, name) in dense.enumerated() {
      renames.append(.init(name, "classifier.\(3 * position)"))
    }
    return KerasNames(source: source, renames)
  }

  /// `keras.applications.VGG19` (include_top) to `vgg19`.
  public static let vgg19 = vgg(
    .torchvision(depth: 19, batchNorm: false), source: "keras.applications.VGG19")
}
