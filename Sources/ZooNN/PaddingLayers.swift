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

/// Keras's `padding='same'` for a convolution of `kernelSize` and `stride` that pads nothing
/// itself: `Padding2D.same` for each input's size. At stride 2 the amounts depend on the
/// size's parity (one more row and column at the bottom and right of an even size), which no
/// fixed padding can express.
public final class SamePadding2d: FunctionLayer {
  public init(kernelSize: Int, stride: Int) {
    super.init("SamePadding2d") { x in
      guard x.rank == 4 else {
        throw TensorError.rankMismatch(op: "SamePadding2d", expected: 4, actual: x.shape)
      }
      let padding = Padding2D.same(
        height: x.shape[2], width: x.shape[3], kernelSize: kernelSize, stride: stride)
      return try pad2d(x, padding)
    }
  }
}
