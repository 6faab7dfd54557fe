import ZooIO

extension KerasApplications {
  /// `keras.applications.ResNet50`, `101`, `152` (include_top) to the zoo's bottleneck ResNet
  /// with the same stages (`resnet50-keras`). Keras names the stem `conv1_conv`, `conv1_bn`; the
  /// stages `conv2` ... `conv5`; their blocks `conv2_block1` ..., with `_0` for the projection
  /// shortcut and `_1` ... `_3` for the three convolutions, each `_conv` and `_bn`.
  public static func resnet(_ configuration: ResNetConfiguration, source: String) -> KerasNames {
    precondition(configuration.block == .bottleneck, "\(source) has bottleneck blocks")
    var renames: [KerasNames.Rename] = [
      .init("conv1_conv", "conv1"), .init("conv1_bn", "bn1"),
    ]
    for (stage, blocks) in configuration.blocksPerStage.enumerated() {
      for block in 0..<blocks {
        let keras = "conv\(stage + 2)_block\(block + 1)"
        let zoo = "layer\(stage + 1).\(block)"
        let conv = { (index: Int) in
          KerasNames.Rename("\(keras)_\(index)_conv", "\(zoo).conv\(index)")
        }
        let norm = { (index: Int) in
          KerasNames.Rename("\(keras)_\(index)_bn", "\(zoo).bn\(index)")
        }
        renames += [conv(1), norm(1), conv(2), norm(2)]
        // Keras's model order: the shortcut's convolution comes before conv3, its norm after.
        if block == 0 {
          renames += [
            .init("\(keras)_0_conv", "\(zoo).downsample.0"), conv(3),
            .init("\(keras)_0_bn", "\(zoo).downsample.1"), norm(3),
          ]
        } else {
          renames += [conv(3), norm(3)]
        }
      }
    }
    renames.append(.init("predictions", "fc"))
    return KerasNames(source: source, renames)
  }
}
