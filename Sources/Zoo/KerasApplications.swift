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
