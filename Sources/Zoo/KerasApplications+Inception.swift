import ZooIO

extension KerasApplications {
  /// The convolutions of `inception_v3-keras` (torchvision's paths) in the order
  /// keras.applications.InceptionV3 creates them: its `conv2d_bn` calls follow the stem and
  /// each block's branches as torchvision registers them.
  static let inceptionV3Convolutions: [String] = {
    let a = [
      "branch1x1", "branch5x5_1", "branch5x5_2", "branch3x3dbl_1", "branch3x3dbl_2",
      "branch3x3dbl_3", "branch_pool",
    ]
    let b = ["branch3x3", "branch3x3dbl_1", "branch3x3dbl_2", "branch3x3dbl_3"]
    let c =
      ["branch1x1"] + (1...3).map { "branch7x7_\($0)" } + (1...5).map { "branch7x7dbl_\($0)" }
      + ["branch_pool"]
    let d = ["branch3x3_1", "branch3x3_2"] + (1...4).map { "branch7x7x3_\($0)" }
    let e = [
      "branch1x1", "branch3x3_1", "branch3x3_2a", "branch3x3_2b", "branch3x3dbl_1",
      "branch3x3dbl_2", "branch3x3dbl_3a", "branch3x3dbl_3b", "branch_pool",
    ]
    let blocks: [(String, [String])] = [
      ("Mixed_5b", a), ("Mixed_5c", a), ("Mixed_5d", a), ("Mixed_6a", b), ("Mixed_6b", c),
      ("Mixed_6c", c), ("Mixed_6d", c), ("Mixed_6e", c), ("Mixed_7a", d), ("Mixed_7b", e),
      ("Mixed_7c", e),
    ]
    let stem = [
      "Conv2d_1a_3x3", "Conv2d_2a_3x3", "Conv2d_2b_3x3", "Conv2d_3b_1x1", "Conv2d_4a_3x3",
    ]
    return stem + blocks.flatMap { block, branches in branches.map { "\(block).\($0)" } }
  }()

  /// `keras.applications.InceptionV3` (include_top) to `inception_v3-keras`. Keras names none
  /// of its 94 convolutions and batch norms, so Keras numbers them by class in the order it
  /// creates them: `conv2d` ... `conv2d_93` and `batch_normalization` ...
  /// `batch_normalization_93`, as Keras 3's `InceptionV3(weights=None)` names them in a fresh
  /// session (the table lists them in that order, not in the model's, which interleaves
  /// branches). A file whose model was built after other unnamed layers has other numbers and
  /// is refused, never matched by position.
  public static let inceptionV3: KerasNames = {
    var renames: [KerasNames.Rename] = []
    for (index, path) in inceptionV3Convolutions.enumerated() {
      renames += [
        .init(numbered("conv2d", index), "\(path).conv"),
        .init(numbered("batch_normalization", index), "\(path).bn"),
      ]
    }
    renames.append(.init("predictions", "fc"))
    return KerasNames(source: "keras.applications.InceptionV3", renames)
  }()
}

extension KerasApplications {
  /// The name Keras gives the unnamed layer `index` (from 0) of a class whose key is `key`:
  /// `conv2d`, `conv2d_1`, ...
  static func numbered(_ key: String, _ index: Int) -> String {
    index == 0 ? key : "\(key)_\(index)"
  }
}

extension KerasApplications {
  /// `keras.applications.InceptionResNetV2` (include_top) to `inception_resnet_v2-keras`. Keras
  /// names each residual block's 1x1 convolution (`block35_1_conv` is `block35_1.conv`),
  /// `conv_7b`, `conv_7b_bn` and `predictions`, and numbers the other 203 convolutions and
  /// their batch norms by class in the order it creates them (`conv2d` ... `conv2d_202`,
  /// `batch_normalization` ... `batch_normalization_202`, in a fresh session): the stem's, then
  /// each block's branches in order. The table lists them in that order. `repeats` as
  /// `InceptionResNetV2`'s.
  public static func inceptionResNetV2(repeats: [Int] = InceptionResNetV2.kerasRepeats)
    -> KerasNames
  {
    var renames: [KerasNames.Rename] = []
    var index = 0
    func convolution(_ path: String) {
      renames += [
        .init(numbered("conv2d", index), "\(path).conv"),
        .init(numbered("batch_normalization", index), "\(path).bn"),
      ]
      index += 1
    }
    // The stem is Inception v3's.
    for path in inceptionV3Convolutions.prefix(5) { convolution(path) }
    for part in InceptionResNetV2.parts(repeats: repeats) {
      for name in InceptionBranches.convolutionNames(part.branches) {
        convolution("\(part.name).\(name)")
      }
      if part.residualScale != nil {
        renames.append(.init("\(part.name)_conv", "\(part.name).conv"))
      }
    }
    renames += [
      .init("conv_7b", "conv_7b.conv"), .init("conv_7b_bn", "conv_7b.bn"),
      .init("predictions", "predictions"),
    ]
    return KerasNames(source: "keras.applications.InceptionResNetV2", renames)
  }
}
