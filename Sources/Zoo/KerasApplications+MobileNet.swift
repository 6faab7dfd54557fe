import ZooIO

extension KerasApplications {
  /// `keras.applications.MobileNet` (include_top, any alpha) to `mobilenet-keras`: `conv1`,
  /// `conv1_bn`; block N's `conv_dw_N`, `conv_dw_N_bn`, `conv_pw_N`, `conv_pw_N_bn` (after
  /// the block's ZeroPadding2D where it has one); `conv_preds`.
  public static let mobilenet: KerasNames = {
    var renames: [KerasNames.Rename] = [
      .init("conv1", "features.0.1"), .init("conv1_bn", "features.0.2"),
    ]
    for (index, block) in MobileNet.blocks.enumerated() {
      let (id, zoo) = (index + 1, "features.\(index + 1)")
      let first = block.stride == 1 ? 0 : 1
      renames += [
        .init("conv_dw_\(id)", "\(zoo).\(first)"), .init("conv_dw_\(id)_bn", "\(zoo).\(first + 1)"),
        .init("conv_pw_\(id)", "\(zoo).\(first + 3)"),
        .init("conv_pw_\(id)_bn", "\(zoo).\(first + 4)"),
      ]
    }
    renames.append(.init("conv_preds", "classifier"))
    return KerasNames(source: "keras.applications.MobileNet", renames)
  }()
}

extension KerasApplications {
  /// `keras.applications.MobileNetV2` (include_top, any alpha) to `mobilenet_v2-keras`:
  /// `Conv1`, `bn_Conv1`; block 0's `expanded_conv_depthwise`, `_depthwise_BN`, `_project`,
  /// `_project_BN`; blocks 1 to 16 as `block_N_expand`, `block_N_expand_BN`, ... (after the
  /// `SamePadding2d` of a strided depthwise convolution); `Conv_1`, `Conv_1_bn`;
  /// `predictions`.
  public static let mobilenetV2: KerasNames = {
    var renames: [KerasNames.Rename] = [
      .init("Conv1", "features.0.1"), .init("bn_Conv1", "features.0.2"),
    ]
    var block = 0
    for stage in MobileNetV2.stages {
      for index in 0..<stage.blocks {
        let keras = block == 0 ? "expanded_conv_" : "block_\(block)_"
        let zoo = "features.\(block + 1).conv"
        let expands = stage.expandRatio != 1
        if expands {
          renames += [
            .init("\(keras)expand", "\(zoo).0.0"), .init("\(keras)expand_BN", "\(zoo).0.1"),
          ]
        }
        let depthwise = "\(zoo).\(expands ? 1 : 0)"
        let conv = index == 0 && stage.stride > 1 ? 1 : 0
        let project = expands ? 2 : 1
        renames += [
          .init("\(keras)depthwise", "\(depthwise).\(conv)"),
          .init("\(keras)depthwise_BN", "\(depthwise).\(conv + 1)"),
          .init("\(keras)project", "\(zoo).\(project)"),
          .init("\(keras)project_BN", "\(zoo).\(project + 1)"),
        ]
        block += 1
      }
    }
    renames += [
      .init("Conv_1", "features.\(block + 1).0"), .init("Conv_1_bn", "features.\(block + 1).1"),
      .init("predictions", "classifier.0"),
    ]
    return KerasNames(source: "keras.applications.MobileNetV2", renames)
  }()
}
