import ZooIO

extension KerasApplications {
  /// `keras.applications.EfficientNetB0` and the EfficientNet builder at other multipliers
  /// (include_top) to `efficientnet_b0-keras`: `normalization` (after `rescaling`, which has no
  /// weights); `stem_conv`, `stem_bn` (after the `SamePadding2d`); stage i's block j as
  /// `block{i}{a, b, ...}_` with `expand_conv`, `expand_bn` (where it widens), `dwconv`, `bn`,
  /// `se_reduce`, `se_expand`, `project_conv`, `project_bn`; `top_conv`, `top_bn`;
  /// `predictions`.
  public static func efficientNet(_ configuration: EfficientNetConfiguration) -> KerasNames {
    var renames: [KerasNames.Rename] = [
      .init("normalization", "normalization"), .init("stem_conv", "features.0.1"),
      .init("stem_bn", "features.0.2"),
    ]
    let stages = configuration.stages
    for (index, stage) in stages.enumerated() {
      for block in 0..<stage.blocks {
        let letter = Character(UnicodeScalar(UInt8(ascii: "a") + UInt8(block)))
        let keras = "block\(index + 1)\(letter)_"
        let zoo = "features.\(index + 1).\(block).block"
        let expands = stage.expandRatio != 1
        if expands {
          renames += [
            .init("\(keras)expand_conv", "\(zoo).0.0"), .init("\(keras)expand_bn", "\(zoo).0.1"),
          ]
        }
        let depthwise = expands ? 1 : 0
        let conv = block == 0 && stage.stride > 1 ? 1 : 0
        renames += [
          .init("\(keras)dwconv", "\(zoo).\(depthwise).\(conv)"),
          .init("\(keras)bn", "\(zoo).\(depthwise).\(conv + 1)"),
          .init("\(keras)se_reduce", "\(zoo).\(depthwise + 1).fc1"),
          .init("\(keras)se_expand", "\(zoo).\(depthwise + 1).fc2"),
          .init("\(keras)project_conv", "\(zoo).\(depthwise + 2).0"),
          .init("\(keras)project_bn", "\(zoo).\(depthwise + 2).1"),
        ]
      }
    }
    let top = "features.\(stages.count + 1)"
    renames += [
      .init("top_conv", "\(top).0"), .init("top_bn", "\(top).1"),
      .init("predictions", "classifier.1"),
    ]
    return KerasNames(source: "keras.applications.EfficientNet", renames)
  }
}
