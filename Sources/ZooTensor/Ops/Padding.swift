// Constant padding of images, each side by its own amount: (N, C, H, W) ->
// (N, C, top + H + bottom, left + W + right). Keras's ZeroPadding2D, TensorFlow's 'same'
// padding (which puts the odd pixel at the bottom and right), and max pooling with Keras's
// 'same' padding.

/// Rows added above and below an image and columns added left and right of it.
public struct Padding2D: Equatable, Sendable, CustomStringConvertible {
  public var top: Int
  public var bottom: Int
  public var left: Int
  public var right: Int

  public init(top: Int, bottom: Int, left: Int, right: Int) {
    (self.top, self.bottom, self.left, self.right) = (top, bottom, left, right)
  }

  /// The same amount on every side.
  public init(_ amount: Int) {
    self.init(top: amount, bottom: amount, left: amount, right: amount)
  }

  public var description: String {
    "(top \(top), bottom \(bottom), left \(left), right \(right))"
  }

  /// What Keras and TensorFlow pad for `padding='same'`: the output has `ceil(size / stride)`
  /// positions, the padding needed for that is split with the smaller half first:
  /// `total = max((ceil(size / stride) - 1) * stride + (kernel - 1) * dilation + 1 - size, 0)`,
  /// `before = total / 2`, `after = total - before`. For stride 2 and an even size this is
  /// one pixel more at the bottom and right, what PyTorch's symmetric padding cannot express
  /// (Keras Applications' `correct_pad` gives the same amounts for their stride-2 layers).
  public static func same(
    height: Int, width: Int, kernelHeight: Int, kernelWidth: Int, stride: Int = 1,
    dilation: Int = 1
  ) -> Padding2D {
    let rows = sameAmounts(size: height, kernel: kernelHeight, stride: stride, dilation: dilation)
    let columns = sameAmounts(size: width, kernel: kernelWidth, stride: stride, dilation: dilation)
    return Padding2D(
      top: rows.before, bottom: rows.after, left: columns.before, right: columns.after)
  }

  /// `same` for a square kernel.
  public static func same(height: Int, width: Int, kernelSize: Int, stride: Int = 1) -> Padding2D {
    same(
      height: height, width: width, kernelHeight: kernelSize, kernelWidth: kernelSize,
      stride: stride)
  }

  /// Keras's 'same' amounts along one dimension.
  public static func sameAmounts(size: Int, kernel: Int, stride: Int, dilation: Int = 1) -> (
    before: Int, after: Int
  ) {
    let outputs = (size + stride - 1) / stride
    let total = max((outputs - 1) * stride + (kernel - 1) * dilation + 1 - size, 0)
    return (total / 2, total - total / 2)
  }
}

/// `x` with `padding` rows and columns of `value` around every image: Keras's ZeroPadding2D
/// with `value` 0. Gradients flow to the original elements only.
public func pad2d(_ x: Tensor, _ padding: Padding2D, value: Float = 0) throws -> Tensor {
  try OpTrace.traced(
    .pad2d(
      top: padding.top, bottom: padding.bottom, left: padding.left, right: padding.right,
      value: value), [x]
  ) {
    try expectRank(x, 4, "pad2d")
    guard min(padding.top, padding.bottom, padding.left, padding.right) >= 0 else {
      throw TensorError.invalidArgument(
        op: "pad2d", message: "padding amounts must not be negative, got \(padding)")
    }
    let (n, c, height, width) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let geometry = PadGeometry(height: height, width: width, padding: padding)
    let y = Tensor(shape: [n, c, geometry.outHeight, geometry.outWidth], repeating: value)
    y.scalars.withUnsafeMutableBufferPointer { y in
      x.scalars.withUnsafeBufferPointer { x in
        PadKernels.insert(geometry, planes: n * c, padded: y, image: x)
      }
    }
    y.record("pad2d", inputs: [x]) { dy in
      x.accumulateGrad { dx in
        dy.scalars.withUnsafeBufferPointer { dy in
          PadKernels.accumulateInner(geometry, planes: n * c, padded: dy, image: dx)
        }
      }
    }
    return y
  }
}

/// Keras's `MaxPooling2D(kernelSize, strides=stride, padding='same')`: pads by
/// `Padding2D.same` with -inf (padding never wins a window) and pools without padding.
public func maxPool2dSame(_ x: Tensor, kernelSize: Int, stride: Int) throws -> Tensor {
  try expectRank(x, 4, "maxPool2dSame")
  let padding = Padding2D.same(
    height: x.shape[2], width: x.shape[3], kernelSize: kernelSize, stride: stride)
  return try maxPool2d(
    pad2d(x, padding, value: -.infinity), kernelSize: kernelSize, stride: stride)
}

struct PadGeometry {
  let height, width, outHeight, outWidth, top, left: Int

  init(height: Int, width: Int, padding: Padding2D) {
    (self.height, self.width, top, left) = (height, width, padding.top, padding.left)
    outHeight = padding.top + height + padding.bottom
    outWidth = padding.left + width + padding.right
  }
}

enum PadKernels {
  /// Copies each image row into its place in the padded plane.
  static func insert(
    _ g: PadGeometry, planes: Int, padded: UnsafeMutableBufferPointer<Float>,
    image: UnsafeBufferPointer<Float>
  ) {
    guard let y = padded.baseAddress, let x = image.baseAddress else { return }
    forEachRow(g, planes: planes) { (y + $0).update(from: x + $1, count: g.width) }
  }

  /// dx += the inner part of dy, row by row.
  static func accumulateInner(
    _ g: PadGeometry, planes: Int, padded: UnsafeBufferPointer<Float>,
    image: UnsafeMutableBufferPointer<Float>
  ) {
    guard let dy = padded.baseAddress, let dx = image.baseAddress else { return }
    forEachRow(g, planes: planes) { paddedRow, imageRow in
      for w in 0..<g.width { dx[imageRow + w] += dy[paddedRow + w] }
    }
  }

  /// Calls `body(paddedRow, imageRow)` with the offset of each image row and of its place in
  /// the padded tensor, in parallel over planes.
  private static func forEachRow(
    _ g: PadGeometry, planes: Int, _ body: (_ paddedRow: Int, _ imageRow: Int) -> Void
  ) {
    Parallel.forEach(planes, costPerItem: g.height * g.width) { p in
      for h in 0..<g.height {
        body((p * g.outHeight + g.top + h) * g.outWidth + g.left, (p * g.height + h) * g.width)
      }
    }
  }
}

/// Plain index loops that define `pad2d`; tests compare the two.
public enum Pad2DReference {
  public static func forward(_ x: Tensor, _ padding: Padding2D, value: Float = 0) -> Tensor {
    let (n, c, height, width) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let outHeight = padding.top + height + padding.bottom
    let outWidth = padding.left + width + padding.right
    let y = Tensor(shape: [n, c, outHeight, outWidth], repeating: value)
    for p in 0..<n * c {
      for h in 0..<height {
        for w in 0..<width {
          y.scalars[(p * outHeight + h + padding.top) * outWidth + w + padding.left] =
            x.scalars[(p * height + h) * width + w]
        }
      }
    }
    return y
  }

  /// The gradient of `sum(dy * pad2d(x))` for x: dy without its border.
  public static func backward(inputShape: [Int], _ padding: Padding2D, dy: Tensor) -> Tensor {
    let (height, width) = (inputShape[2], inputShape[3])
    let (outHeight, outWidth) = (dy.shape[2], dy.shape[3])
    let dx = Tensor(shape: inputShape)
    for p in 0..<inputShape[0] * inputShape[1] {
      for h in 0..<height {
        for w in 0..<width {
          dx.scalars[(p * height + h) * width + w] =
            dy.scalars[(p * outHeight + h + padding.top) * outWidth + w + padding.left]
        }
      }
    }
    return dx
  }
}
