// Batched im2col / col2im for NCHW images with padding, stride and dilation. The column matrix
// is (C*kh*kw, N*OH*OW): row (c, ki, kj), column (n, oy, ox), so a batch makes one GEMM.

/// The column-matrix kernels shared by the convolutions.
public enum Im2Col {
  /// The largest column matrix, in floats, a convolution builds at once; larger batches are
  /// processed in groups of whole samples. Scoped with `$columnBudget.withValue`.
  @TaskLocal public static var columnBudget = 1 << 24

  /// Samples per group when one sample needs `floatsPerSample` floats of scratch.
  static func groupSize(batch: Int, floatsPerSample: Int) -> Int {
    max(1, min(batch, columnBudget / max(1, floatsPerSample)))
  }

  /// An array whose every element the caller overwrites before reading.
  static func buffer(_ count: Int) -> [Float] {
    [Float](unsafeUninitializedCapacity: count) { _, initialized in initialized = count }
  }

  /// A convolution's two sides: the image (channels, height, width) and the grid of kernel
  /// positions (outHeight, outWidth) that the columns enumerate.
  struct Geometry {
    var channels: Int
    var height: Int
    var width: Int
    var kernelHeight: Int
    var kernelWidth: Int
    var stride: Int
    var padding: Int
    var dilation: Int
    var outHeight: Int
    var outWidth: Int

    var imageArea: Int { height * width }
    var outArea: Int { outHeight * outWidth }
    var rows: Int { channels * kernelHeight * kernelWidth }
    /// 1x1 kernel, stride 1, no padding, same size: the columns are the image itself.
    var isPointwise: Bool {
      kernelHeight == 1 && kernelWidth == 1 && stride == 1 && padding == 0
        && outHeight == height && outWidth == width
    }

    /// The positions `o` along one axis whose tap `tap` reads inside `0..<size`.
    func validRange(tap: Int, size: Int, outSize: Int) -> Range<Int> {
      let offset = tap * dilation - padding
      let lo = offset >= 0 ? 0 : (stride - 1 - offset) / stride
      let last = size - 1 - offset
      let hi = last < 0 ? 0 : min(outSize, last / stride + 1)
      return min(lo, hi)..<hi
    }
  }

  /// Fills `columns` (rows, batch*outArea) from `batch` images (batch, channels, height, width).
  static func im2col(
    _ images: UnsafePointer<Float>, batch: Int, _ g: Geometry,
    into columns: UnsafeMutablePointer<Float>
  ) {
    let (area, ld, outWidth, stride) = (g.outArea, batch * g.outArea, g.outWidth, g.stride)
    let cost = g.kernelHeight * g.kernelWidth * area
    Parallel.forEach(batch * g.channels, costPerItem: cost) { item in
      let (n, c) = item.quotientAndRemainder(dividingBy: g.channels)
      let image = images + item * g.imageArea
      for ki in 0..<g.kernelHeight {
        let ys = g.validRange(tap: ki, size: g.height, outSize: g.outHeight)
        let yOffset = ki * g.dilation - g.padding
        for kj in 0..<g.kernelWidth {
          let xs = g.validRange(tap: kj, size: g.width, outSize: outWidth)
          let xOffset = kj * g.dilation - g.padding
          let row = columns + ((c * g.kernelHeight + ki) * g.kernelWidth + kj) * ld + n * area
          for oy in 0..<g.outHeight {
            let out = row + oy * outWidth
            guard ys.contains(oy) else {
              out.update(repeating: 0, count: outWidth)
              continue
            }
            let source = image + (oy * stride + yOffset) * g.width
            out.update(repeating: 0, count: xs.lowerBound)
            if stride == 1 {
              (out + xs.lowerBound).update(from: source + xs.lowerBound + xOffset, count: xs.count)
            } else {
              for ox in xs { out[ox] = source[ox * stride + xOffset] }
            }
            (out + xs.upperBound).update(repeating: 0, count: outWidth - xs.upperBound)
          }
        }
      }
    }
  }

  /// Adds `columns` (rows, batch*outArea) back into `batch` images: the adjoint of `im2col`.
  static func col2im(
    _ columns: UnsafePointer<Float>, batch: Int, _ g: Geometry,
    addingTo images: UnsafeMutablePointer<Float>
  ) {
    let (area, ld, outWidth, stride) = (g.outArea, batch * g.outArea, g.outWidth, g.stride)
    let cost = g.kernelHeight * g.kernelWidth * area
    // Each (sample, channel) plane is written by one iteration only.
    Parallel.forEach(batch * g.channels, costPerItem: cost) { item in
      let (n, c) = item.quotientAndRemainder(dividingBy: g.channels)
      let image = images + item * g.imageArea
      for ki in 0..<g.kernelHeight {
        let ys = g.validRange(tap: ki, size: g.height, outSize: g.outHeight)
        let yOffset = ki * g.dilation - g.padding
        for kj in 0..<g.kernelWidth {
          let xs = g.validRange(tap: kj, size: g.width, outSize: outWidth)
          let xOffset = kj * g.dilation - g.padding
          let row = columns + ((c * g.kernelHeight + ki) * g.kernelWidth + kj) * ld + n * area
          for oy in ys {
            let source = row + oy * outWidth
            let target = image + (oy * stride + yOffset) * g.width
            if stride == 1 {
              for ox in xs { target[ox + xOffset] += source[ox] }
            } else {
              for ox in xs { target[ox * stride + xOffset] += source[ox] }
            }
          }
        }
      }
    }
  }

  /// (channels, batch*area) -> (batch, channels, area), plus `bias[channel]`; with
  /// `accumulate` adds into `target` instead.
  static func channelsToBatch(
    _ source: UnsafePointer<Float>, channels: Int, batch: Int, area: Int,
    into target: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>? = nil,
    accumulate: Bool = false
  ) {
    Parallel.forEach(batch * channels, costPerItem: area) { item in
      let (n, c) = item.quotientAndRemainder(dividingBy: channels)
      let from = source + (c * batch + n) * area
      let to = target + item * area
      if accumulate {
        for i in 0..<area { to[i] += from[i] }
      } else if let bias {
        let b = bias[c]
        for i in 0..<area { to[i] = from[i] + b }
      } else {
        to.update(from: from, count: area)
      }
    }
  }

  /// (batch, channels, area) -> (channels, batch*area).
  static func batchToChannels(
    _ source: UnsafePointer<Float>, channels: Int, batch: Int, area: Int,
    into target: UnsafeMutablePointer<Float>
  ) {
    Parallel.forEach(batch * channels, costPerItem: area) { item in
      let (n, c) = item.quotientAndRemainder(dividingBy: channels)
      (target + (c * batch + n) * area).update(from: source + item * area, count: area)
    }
  }

  /// Adds `bias[c]` to every plane of (batch, channels, area).
  static func addBias(
    _ bias: UnsafePointer<Float>, to target: UnsafeMutablePointer<Float>,
    channels: Int, batch: Int, area: Int
  ) {
    Parallel.forEach(batch * channels, costPerItem: area) { item in
      let b = bias[item % channels]
      let plane = target + item * area
      for i in 0..<area { plane[i] += b }
    }
  }

  /// Sets every plane of (batch, channels, area) to `bias[c]`, or zero.
  static func fill(
    _ target: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>?,
    channels: Int, batch: Int, area: Int
  ) {
    Parallel.forEach(batch * channels, costPerItem: area) { item in
      (target + item * area).update(repeating: bias?[item % channels] ?? 0, count: area)
    }
  }

  /// `sums[c] += sum over samples and positions of values (batch, channels, area)`.
  static func addChannelSums(
    of values: UnsafePointer<Float>, channels: Int, batch: Int, area: Int,
    into sums: UnsafeMutablePointer<Float>
  ) {
    Parallel.forEach(channels, costPerItem: batch * area) { c in
      var total = 0.0
      for n in 0..<batch {
        let plane = values + (n * channels + c) * area
        for i in 0..<area { total += Double(plane[i]) }
      }
      sums[c] += Float(total)
    }
  }

  /// Runs `body` with the values of `tensor`, or nil.
  static func withValues<R>(_ tensor: Tensor?, _ body: (UnsafePointer<Float>?) -> R) -> R {
    guard let tensor else { return body(nil) }
    return tensor.scalars.withUnsafeBufferPointer { body($0.baseAddress) }
  }

  /// Runs `body` with the gradient of `tensor` to accumulate into, or nil when it needs none.
  static func withGradient(_ tensor: Tensor?, _ body: (UnsafeMutablePointer<Float>?) -> Void) {
    guard let tensor, tensor.requiresGrad else { return body(nil) }
    tensor.accumulateGrad { body($0.baseAddress) }
  }

  /// Throws unless stride and dilation are positive and padding is not negative.
  static func checkHyperparameters(
    _ op: String, stride: Int, padding: Int, dilation: Int
  ) throws {
    guard stride > 0 else {
      throw TensorError.invalidArgument(op: op, message: "stride must be positive, got \(stride)")
    }
    guard padding >= 0 else {
      throw TensorError.invalidArgument(
        op: op, message: "padding must not be negative, got \(padding)")
    }
    guard dilation > 0 else {
      throw TensorError.invalidArgument(
        op: op, message: "dilation must be positive, got \(dilation)")
    }
  }
}
