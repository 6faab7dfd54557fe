// Batched im2col / col2im for NCHW images with padding, stride and dilation. The column matrix
// is (C*kh*kw, N*OH*OW): row (c, ki, kj), column (n, oy, ox), so a batch makes one GEMM.

import CKernels

/// The column-matrix kernels shared by the convolutions.
public enum Im2Col {
  /// The largest column matrix, in floats, a convolution builds at once; larger batches are
  /// processed in groups of whole samples. Scoped with `$columnBudget.withValue`.
  @TaskLocal public static var columnBudget = 1 << 24

  /// Scratch, in floats, a core's pipeline (a group of small samples, or a band of a large
  /// one) may hold: 1 MiB, half of a 2 MiB L2 cache, so the columns stay in cache while the
  /// GEMM packs them. 256 KiB sent resnet20's 28 px layers through the batched path, whose
  /// batch-sized columns go through main memory. Scoped with `$cacheFloats.withValue`.
  @TaskLocal public static var cacheFloats = 1 << 18

  /// Samples per group when one sample needs `floatsPerSample` floats of scratch.
  static func groupSize(batch: Int, floatsPerSample: Int) -> Int {
    max(1, min(batch, columnBudget / max(1, floatsPerSample)))
  }

  /// How a convolution cuts its batch into groups of whole samples.
  ///
  /// Small convolutions (LeNet, CIFAR-sized maps) run one pipeline per core: a task takes a
  /// run of consecutive groups and, for each, builds the columns in a cache-sized scratch
  /// buffer and multiplies them by a single-threaded GEMM, so nothing the size of the batch
  /// ever leaves the cache. Weight gradients are summed per run and the runs' sums added in
  /// run order; the cut depends on the shapes only, so results do not depend on the number of
  /// threads or on timing. Larger convolutions build the columns of as many samples as
  /// `columnBudget` allows and split each GEMM over the cores.
  struct Plan {
    /// Samples per group (one GEMM).
    let groupSize: Int
    let groupCount: Int
    /// Whether runs of groups go one per core, each GEMM on its core's thread.
    let perCore: Bool
    /// Runs of consecutive groups; 1 unless `perCore`.
    let runCount: Int

    /// Output positions a GEMM should have at least, so tiny maps still make a useful GEMM.
    static let minimumWidth = 128
    /// Runs at most: enough to balance 2, 3, 4 or 6 cores.
    static let maximumRuns = 12

    /// `floatsPerSample`: scratch per sample; `weights`: the size of the weight (gradient)
    /// matrix, which every run keeps a copy of in backward.
    init(batch: Int, outArea: Int, floatsPerSample: Int, weights: Int) {
      let fitsCache = floatsPerSample <= cacheFloats && weights <= cacheFloats
      let largest = max(1, min(batch, columnBudget / max(1, floatsPerSample)))
      if fitsCache && batch > 1 {
        let wanted = max(1, Plan.minimumWidth / max(1, outArea))
        groupSize = min(wanted, cacheFloats / max(1, floatsPerSample), largest)
      } else {
        groupSize = largest
      }
      groupCount = (batch + groupSize - 1) / groupSize
      perCore = fitsCache && groupCount > 1
      runCount = perCore ? min(groupCount, Plan.maximumRuns) : 1
    }

    /// The groups of run `r`.
    func groups(ofRun r: Int) -> Range<Int> {
      (r * groupCount / runCount)..<((r + 1) * groupCount / runCount)
    }

    /// The samples of group `g` in a batch of `batch`.
    func samples(ofGroup g: Int, batch: Int) -> Range<Int> {
      (g * groupSize)..<min((g + 1) * groupSize, batch)
    }
  }

  /// An array whose every element the caller overwrites before reading.
  static func buffer(_ count: Int) -> [Float] { uninitializedArray(count) }

  /// A convolution's two sides: the image (channels, height, width) and the grid of kernel
  /// positions (outHeight, outWidth) that the columns enumerate.
  struct Geometry {
    var channels: Int
    var height: Int
    var width: Int
    var kernelHeight: Int
    var kernelWidth: Int
    /// Vertical and horizontal steps between kernel positions.
    var strideHeight: Int
    var strideWidth: Int
    /// Zeros above and below, and left and right, of the image.
    var paddingHeight: Int
    var paddingWidth: Int
    var dilation: Int
    var outHeight: Int
    var outWidth: Int
    /// Whether the op's kernels use AVX2 and FMA: decided where the op starts.
    var wide = WideKernels.active

    var imageArea: Int { height * width }
    var paddedWidth: Int { width + 2 * paddingWidth }
    var paddedHeight: Int { height + 2 * paddingHeight }
    var isPadded: Bool { paddingHeight > 0 || paddingWidth > 0 }
    var paddedArea: Int { paddedHeight * paddedWidth }
    /// A padded row split by column into `strideWidth` phases (column x at x % strideWidth *
    /// phaseWidth + x / strideWidth), so that a strided tap reads one contiguous run: see
    /// `fillPaddedRows`.
    var phaseWidth: Int { (paddedWidth + strideWidth - 1) / strideWidth }
    /// At least `paddedWidth`, so room for phased rows is room for plain ones (`col2im`'s).
    var phasedRowWidth: Int { strideWidth * phaseWidth }
    var outArea: Int { outHeight * outWidth }
    var rows: Int { channels * kernelHeight * kernelWidth }
    /// Input rows one output row reads, padding included.
    var spanHeight: Int { dilation * (kernelHeight - 1) + 1 }
    /// 1x1 kernel, stride 1, no padding, same size: the columns are the image itself.
    var isPointwise: Bool {
      kernelHeight == 1 && kernelWidth == 1 && strideHeight == 1 && strideWidth == 1
        && !isPadded && outHeight == height && outWidth == width
    }
  }

  /// Fills `columns` (rows, batch*outArea) from `batch` images (batch, channels, height, width).
  static func im2col(
    _ images: UnsafePointer<Float>, batch: Int, _ g: Geometry,
    into columns: UnsafeMutablePointer<Float>, parallel: Bool = true
  ) {
    let (area, ld) = (g.outArea, batch * g.outArea)
    let plane = { (item: Int, padded: UnsafeMutablePointer<Float>?) in
      let (n, c) = item.quotientAndRemainder(dividingBy: g.channels)
      let rows = columns + c * g.kernelHeight * g.kernelWidth * ld + n * area
      im2colPlane(images + item * g.imageArea, g, into: rows, ld: ld, padded: padded)
    }
    forEachPlane(batch: batch, g, parallel: parallel, plane)
  }

  /// Adds `columns` (rows, batch*outArea) back into `batch` images: the adjoint of `im2col`.
  static func col2im(
    _ columns: UnsafePointer<Float>, batch: Int, _ g: Geometry,
    addingTo images: UnsafeMutablePointer<Float>, parallel: Bool = true
  ) {
    let (area, ld) = (g.outArea, batch * g.outArea)
    // Each (sample, channel) plane is written by one iteration only.
    let plane = { (item: Int, padded: UnsafeMutablePointer<Float>?) in
      let (n, c) = item.quotientAndRemainder(dividingBy: g.channels)
      let rows = columns + c * g.kernelHeight * g.kernelWidth * ld + n * area
      col2imPlane(rows, g, ld: ld, addingTo: images + item * g.imageArea, padded: padded)
    }
    forEachPlane(batch: batch, g, parallel: parallel, plane)
  }

  /// Calls `plane(item, padded)` for every (sample, channel) plane, with a padded-plane buffer
  /// per thread (one for the whole loop when run serially).
  private static func forEachPlane(
    batch: Int, _ g: Geometry, parallel: Bool,
    _ plane: (Int, UnsafeMutablePointer<Float>?) -> Void
  ) {
    let items = batch * g.channels
    if parallel {
      Parallel.forEach(items, costPerItem: g.kernelHeight * g.kernelWidth * g.outArea) { item in
        withPaddedPlane(g) { plane(item, $0) }
      }
    } else {
      withPaddedPlane(g) { padded in
        for item in 0..<items { plane(item, padded) }
      }
    }
  }

  /// Runs `body` with room for one zero-padded image plane, or nil when there is no padding.
  @inline(__always)
  private static func withPaddedPlane(
    _ g: Geometry, _ body: (UnsafeMutablePointer<Float>?) -> Void
  ) {
    guard g.isPadded else { return body(nil) }
    withUnsafeTemporaryAllocation(of: Float.self, capacity: g.paddedHeight * g.phasedRowWidth) {
      body($0.baseAddress!)
    }
  }

  // The plane kernels read (or add into) the image through a zero-padded copy, so every row of
  // the columns is one plain strided loop with no bounds tests: rows are short, and tests or a
  // library call per row would cost more than the copy itself.

  /// The kh*kw rows of one image plane, each `ld` apart.
  @inline(__always)
  private static func im2colPlane(
    _ image: UnsafePointer<Float>, _ g: Geometry, into rows: UnsafeMutablePointer<Float>,
    ld: Int, padded: UnsafeMutablePointer<Float>?
  ) {
    guard let padded else {
      return gather(image, width: g.width, g, outRows: g.outHeight, into: rows, ld: ld)
    }
    fillPaddedRows(image, g, top: 0, count: g.paddedHeight, into: padded)
    gather(
      UnsafePointer(padded), width: g.phasedRowWidth, g, outRows: g.outHeight, into: rows,
      ld: ld, phased: true)
  }

  /// Padded rows top..<top+count of one image plane (image row y is padded row y +
  /// paddingHeight), each `phasedRowWidth` floats in `strideWidth` phases: a strided tap then copies a contiguous
  /// run instead of running a strided scalar loop, which made a 7x7 stride-2 layer's columns
  /// cost half as much as its GEMM.
  @inline(__always)
  static func fillPaddedRows(
    _ plane: UnsafePointer<Float>, _ g: Geometry, top: Int, count: Int,
    into padded: UnsafeMutablePointer<Float>
  ) {
    let width = g.phasedRowWidth
    for r in 0..<count {
      let to = padded + r * width
      let y = top + r - g.paddingHeight
      guard y >= 0, y < g.height else {
        zero(to, count: width)
        continue
      }
      let from = plane + y * g.width
      let (stride, padding) = (g.strideWidth, g.paddingWidth)
      if stride == 1 {
        zero(to, count: padding)
        // A copy, not an element loop: that one ran scalar, with an overflow check per float.
        (to + padding).update(from: from, count: g.width)
        zero(to + padding + g.width, count: padding)
      } else if stride == 2 && g.wide {
        zero(to, count: width)
        // Image column x is padded column x + padding: phase (x + padding) % 2.
        zoo_split_phases2_avx2(
          from, g.width, to + padding % 2 * g.phaseWidth + padding / 2,
          to + (padding + 1) % 2 * g.phaseWidth + (padding + 1) / 2)
      } else {
        zero(to, count: width)
        for phase in 0..<stride {
          // Padded columns phase, phase + stride, ...; the leading padding stays zero.
          let target = to + phase * g.phaseWidth
          var (j, x) = (0, phase - padding)
          while x < 0 { (j, x) = (j + 1, x + stride) }
          while x < g.width {
            target[j] = from[x]
            (j, x) = (j + 1, x + stride)
          }
        }
      }
    }
  }

  /// The kh*kw rows (each `ld` apart) of `outRows` output rows, read from `source`: image rows
  /// `width` floats apart, padding included, starting at the first row the band reads. With
  /// `phased`, each row is split into `strideWidth` phases `g.phaseWidth` long.
  @inline(__always)
  private static func gather(
    _ source: UnsafePointer<Float>, width: Int, _ g: Geometry, outRows: Int,
    into rows: UnsafeMutablePointer<Float>, ld: Int, phased: Bool = false
  ) {
    let (outWidth, stride, step) = (g.outWidth, g.strideWidth, g.strideHeight * width)
    for ki in 0..<g.kernelHeight {
      for kj in 0..<g.kernelWidth {
        let (row, column) = (ki * g.dilation * width, kj * g.dilation)
        // (Stride 1 skips the division: small planes do little else per tap.)
        let (offset, phase) =
          phased && stride > 1 ? column.quotientAndRemainder(dividingBy: stride) : (column, 0)
        var from = source + row + phase * g.phaseWidth + offset
        var to = rows + (ki * g.kernelWidth + kj) * ld
        for _ in 0..<outRows {
          if stride == 1 || phased {
            for ox in 0..<outWidth { to[ox] = from[ox] }
          } else {
            for ox in 0..<outWidth { to[ox] = from[ox * stride] }
          }
          from += step
          to += outWidth
        }
      }
    }
  }

  /// Where one plane of a band lies: offsets of the plane in the image and of its kh*kw rows
  /// in the band's columns (`ld` apart), and the padded rows the band reads (`sliceHeight`
  /// from padded row `top`; image row y is padded row y + paddingHeight).
  private struct BandPlane {
    var image, rows, ld, top, sliceHeight: Int
  }

  /// Calls `body` for each channel's plane of the band of output rows `outRows`.
  @inline(__always)
  private static func forEachBandPlane(
    _ g: Geometry, outRows: Range<Int>, _ body: (BandPlane) -> Void
  ) {
    let ld = outRows.count * g.outWidth
    let top = outRows.lowerBound * g.strideHeight
    let sliceHeight = (outRows.count - 1) * g.strideHeight + g.spanHeight
    for c in 0..<g.channels {
      body(
        BandPlane(
          image: c * g.imageArea, rows: c * g.kernelHeight * g.kernelWidth * ld, ld: ld, top: top,
          sliceHeight: sliceHeight))
    }
  }

  /// Floats of scratch `im2col(_:_:outRows:into:padded:)` needs for bands of `rows` output
  /// rows, beside the columns: one padded slice of a plane.
  static func bandSliceCount(_ g: Geometry, rows: Int) -> Int {
    g.isPadded ? ((rows - 1) * g.strideHeight + g.spanHeight) * g.phasedRowWidth : 0
  }

  /// Fills `columns` (rows, outRows.count*outWidth) with the columns of output rows `outRows`
  /// of one image (channels, height, width): a band of the output, whose columns fit in a
  /// cache where the whole image's would not. `padded` holds `bandSliceCount` floats.
  static func im2col(
    _ image: UnsafePointer<Float>, _ g: Geometry, outRows: Range<Int>,
    into columns: UnsafeMutablePointer<Float>, padded: UnsafeMutablePointer<Float>
  ) {
    forEachBandPlane(g, outRows: outRows) { band in
      let (plane, rows, ld, top) = (image + band.image, columns + band.rows, band.ld, band.top)
      guard g.isPadded else {
        gather(plane + top * g.width, width: g.width, g, outRows: outRows.count, into: rows, ld: ld)
        return
      }
      fillPaddedRows(plane, g, top: top, count: band.sliceHeight, into: padded)
      gather(
        UnsafePointer(padded), width: g.phasedRowWidth, g, outRows: outRows.count, into: rows,
        ld: ld, phased: true)
    }
  }

  /// Adds the kh*kw rows (each `ld` apart) back into one image plane.
  @inline(__always)
  private static func col2imPlane(
    _ rows: UnsafePointer<Float>, _ g: Geometry, ld: Int,
    addingTo image: UnsafeMutablePointer<Float>, padded: UnsafeMutablePointer<Float>?
  ) {
    guard let padded else {
      return scatter(rows, ld: ld, g, outRows: g.outHeight, addingTo: image, width: g.width)
    }
    zero(padded, count: g.paddedArea)
    scatter(rows, ld: ld, g, outRows: g.outHeight, addingTo: padded, width: g.paddedWidth)
    for y in 0..<g.height {
      let from = padded + (y + g.paddingHeight) * g.paddedWidth + g.paddingWidth
      let to = image + y * g.width
      for x in 0..<g.width { to[x] += from[x] }
    }
  }

  /// Adds the kh*kw rows (each `ld` apart) of `outRows` output rows into `target`: image rows
  /// `width` floats apart, padding included, starting at the first row they read. The
  /// adjoint of `gather`.
  @inline(__always)
  private static func scatter(
    _ rows: UnsafePointer<Float>, ld: Int, _ g: Geometry, outRows: Int,
    addingTo target: UnsafeMutablePointer<Float>, width: Int
  ) {
    let (outWidth, stride, step) = (g.outWidth, g.strideWidth, g.strideHeight * width)
    for ki in 0..<g.kernelHeight {
      for kj in 0..<g.kernelWidth {
        var from = rows + (ki * g.kernelWidth + kj) * ld
        var to = target + (ki * width + kj) * g.dilation
        for _ in 0..<outRows {
          if stride == 1 {
            for ox in 0..<outWidth { to[ox] += from[ox] }
          } else {
            for ox in 0..<outWidth { to[ox * stride] += from[ox] }
          }
          from += outWidth
          to += step
        }
      }
    }
  }

  /// Adds `columns` (rows, outRows.count*outWidth) of output rows `outRows` back into one image
  /// (channels, height, width): the adjoint of the band `im2col`. Bands of one image overlap
  /// in the input rows they read, so one image's bands must be added one after another.
  static func col2im(
    _ columns: UnsafePointer<Float>, _ g: Geometry, outRows: Range<Int>,
    addingTo image: UnsafeMutablePointer<Float>, padded: UnsafeMutablePointer<Float>
  ) {
    forEachBandPlane(g, outRows: outRows) { band in
      let (plane, rows, ld, top) = (image + band.image, columns + band.rows, band.ld, band.top)
      guard g.isPadded else {
        scatter(
          rows, ld: ld, g, outRows: outRows.count, addingTo: plane + top * g.width,
          width: g.width)
        return
      }
      zero(padded, count: band.sliceHeight * g.paddedWidth)
      scatter(rows, ld: ld, g, outRows: outRows.count, addingTo: padded, width: g.paddedWidth)
      for r in 0..<band.sliceHeight {
        let y = top + r - g.paddingHeight
        guard y >= 0, y < g.height else { continue }
        let (from, to) = (padded + r * g.paddedWidth + g.paddingWidth, plane + y * g.width)
        for x in 0..<g.width { to[x] += from[x] }
      }
    }
  }

  @inline(__always)
  private static func zero(_ target: UnsafeMutablePointer<Float>, count: Int) {
    for i in 0..<count { target[i] = 0 }
  }

  /// (channels, batch*area) -> (batch, channels, area), plus `bias[channel]`; with
  /// `accumulate` adds into `target` instead.
  static func channelsToBatch(
    _ source: UnsafePointer<Float>, channels: Int, batch: Int, area: Int,
    into target: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>? = nil,
    accumulate: Bool = false, parallel: Bool = true
  ) {
    Parallel.forEach(batch * channels, costPerItem: area, parallel: parallel) { item in
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
    into target: UnsafeMutablePointer<Float>, parallel: Bool = true
  ) {
    Parallel.forEach(batch * channels, costPerItem: area, parallel: parallel) { item in
      let (n, c) = item.quotientAndRemainder(dividingBy: channels)
      (target + (c * batch + n) * area).update(from: source + item * area, count: area)
    }
  }

  /// Adds `bias[c]` to every plane of (batch, channels, area).
  static func addBias(
    _ bias: UnsafePointer<Float>, to target: UnsafeMutablePointer<Float>,
    channels: Int, batch: Int, area: Int, parallel: Bool = true
  ) {
    Parallel.forEach(batch * channels, costPerItem: area, parallel: parallel) { item in
      let b = bias[item % channels]
      let plane = target + item * area
      for i in 0..<area { plane[i] += b }
    }
  }

  /// Sets every plane of (batch, channels, area) to `bias[c]`, or zero.
  static func fill(
    _ target: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>?,
    channels: Int, batch: Int, area: Int, parallel: Bool = true
  ) {
    Parallel.forEach(batch * channels, costPerItem: area, parallel: parallel) { item in
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
