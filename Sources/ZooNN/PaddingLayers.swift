import ZooTensor

/// Keras's `ZeroPadding2D` (PyTorch's `ZeroPad2d`): zero rows and columns around each image,
/// each side by its own amount.
public final class ZeroPadding2d: FunctionLayer {
  public let padding: Padding2D

  public init(_ padding: Padding2D) {
    self.padding = padding
    super.init("ZeroPadding2d") { try pad2d($0, padding) }
  }
}

/// Keras's `MaxPooling2D(kernelSize, strides=stride, padding='same')` (Xception): TensorFlow's
/// 'same' amounts, padded with -inf, so an even input with stride 2 gets its extra row and
/// column at the bottom and right.
public final class MaxPool2dSame: FunctionLayer {
  public init(_ kernelSize: Int, stride: Int) {
    super.init("MaxPool2dSame") { try maxPool2dSame($0, kernelSize: kernelSize, stride: stride) }
  }
}
