import ZooIO

extension KerasApplications {
  /// `keras.applications.Xception` (include_top) to `xception-keras`, in Keras's layer order:
  /// `block1_conv1` is `block1.conv1`, `block4_sepconv2_bn` is `block4.sepconv2_bn`. Keras
  /// leaves the four residual projections and their batch norms unnamed, so Keras numbers them
  /// by class in the order it builds them: `conv2d` ... `conv2d_3` and `batch_normalization`
  /// ... `batch_normalization_3` (blocks 2, 3, 4 and the exit block) in a fresh session, as
  /// Keras 3's `Xception(weights=None)` names them. A file whose model was built after other
  /// unnamed layers has other numbers there and is refused, never matched by position.
  public static func xception(_ configuration: XceptionConfiguration = .keras) -> KerasNames {
    var renames: [KerasNames.Rename] = []
    func layer(_ keras: String, _ zoo: String) {
      renames += [.init(keras, zoo), .init("\(keras)_bn", "\(zoo)_bn")]
    }
    layer("block1_conv1", "block1.conv1")
    layer("block1_conv2", "block1.conv2")
    let downsampling =
      Array(2..<2 + configuration.entryWidths.count) + [configuration.exitBlock]
    for block in 2...configuration.exitBlock + 1 {
      let isMiddle = block > 1 + configuration.entryWidths.count && block < configuration.exitBlock
      for conv in 1...(isMiddle ? 3 : 2) {
        layer("block\(block)_sepconv\(conv)", "block\(block).sepconv\(conv)")
      }
      if let projection = downsampling.firstIndex(of: block) {
        renames += [
          .init(numbered("conv2d", projection), "block\(block).residual"),
          .init(numbered("batch_normalization", projection), "block\(block).residual_bn"),
        ]
      }
    }
    renames.append(.init("predictions", "predictions"))
    return KerasNames(source: "keras.applications.Xception", renames)
  }
}
