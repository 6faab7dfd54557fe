// 2-D convolution (cross-correlation, as PyTorch): x (N, C, H, W), weight (O, C, kh, kw),
// bias (O) -> (N, O, OH, OW), OH = (H + 2*padH - dilation*(kh-1) - 1) / strideH + 1, and
// likewise OW with the horizontal stride and padding.

/// PyTorch's `conv2d` with square stride and padding: `conv2d(x, weight:, stride: (s, s),
/// padding: (p, p))`.
public func conv2d(
  _ x: Tensor, weight: Tensor, bias: Tensor? = nil, stride: Int = 1, padding: Int = 0,
  dilation: Int = 1, groups: Int = 1
) throws -> Tensor {
  try conv2d(
    x, weight: weight, bias: bias, stride: (stride, stride), padding: (padding, padding),
    dilation: dilation, groups: groups)
}

/// PyTorch's `conv2d`: `y[n, o] = sum_c weight[o, c] * x[n, g*C/groups + c] + bias[o]` for
/// output channel o of group g. x (N, C, H, W), weight (O, C/groups, kh, kw) [PyTorch
/// layout], bias (O); stride and padding are (vertical, horizontal) pairs, as
/// `nn.Conv2d(kernel_size=(1, 7), padding=(0, 3))`. Depthwise (groups == C == O) runs direct
/// kernels; other groups run one convolution per group.
public func conv2d(
  _ x: Tensor, weight: Tensor, bias: Tensor? = nil, stride: (Int, Int), padding: (Int, Int),
  dilation: Int = 1, groups: Int = 1
) throws -> Tensor {
  try OpTrace.traced(
    .conv2d(
      stride: [stride.0, stride.1], padding: [padding.0, padding.1], dilation: dilation,
      groups: groups),
    [x, weight, bias]
  ) {
    let op = "conv2d"
    try expectRank(x, 4, op)
    try expectRank(weight, 4, "conv2d weight")
    let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let (o, kh, kw) = (weight.shape[0], weight.shape[2], weight.shape[3])
    guard groups > 0, c % groups == 0, o % groups == 0 else {
      throw TensorError.invalidArgument(
        op: op,
        message: "input channels \(c) and output channels \(o) must be multiples of groups, "
          + "got groups \(groups)")
    }
    guard weight.shape[1] * groups == c else {
      throw TensorError.shapeMismatch(
        op: "conv2d: input channels", expected: [n, weight.shape[1] * groups, h, w],
        actual: x.shape)
    }
    if let bias { try expectShape(bias, [o], "conv2d bias") }
    for (s, p) in [(stride.0, padding.0), (stride.1, padding.1)] {
      try Im2Col.checkHyperparameters(op, stride: s, padding: p, dilation: dilation)
    }
    guard weight.count > 0 else {
      throw TensorError.invalidArgument(
        op: op, message: "weight \(describe(shape: weight.shape)) has a zero-size dimension")
    }
    let (spanH, spanW) = (dilation * (kh - 1) + 1, dilation * (kw - 1) + 1)
    let (paddedH, paddedW) = (h + 2 * padding.0, w + 2 * padding.1)
    guard spanH <= paddedH, spanW <= paddedW else {
      throw TensorError.invalidArgument(
        op: op,
        message: "kernel \(kh)x\(kw) with dilation \(dilation) spans \(spanH)x\(spanW), larger "
          + "than the padded input \(paddedH)x\(paddedW) (input \(describe(shape: x.shape)), "
          + "padding \(padding.0)x\(padding.1))")
    }
    let geometry = Im2Col.Geometry(
      channels: c, height: h, width: w, kernelHeight: kh, kernelWidth: kw,
      strideHeight: stride.0, strideWidth: stride.1, paddingHeight: padding.0,
      paddingWidth: padding.1, dilation: dilation, outHeight: (paddedH - spanH) / stride.0 + 1,
      outWidth: (paddedW - spanW) / stride.1 + 1)
    if groups > 1 && !(groups == c && o == c) {
      return try groupedConv2d(
        x, weight: weight, bias: bias, stride: stride, padding: padding, dilation: dilation,
        groups: groups)
    }
    let outShape = [n, o, geometry.outHeight, geometry.outWidth]
    let y = Tensor(shape: outShape, scalars: Im2Col.buffer(outShape.reduce(1, *)))
    guard y.count > 0 else { return y }
    if groups > 1 {
      depthwiseConv2d(x, weight: weight, bias: bias, y: y, geometry)
      return y
    }
    Conv2DKernels.forward(x: x, weight: weight, bias: bias, y: y, outChannels: o, geometry)
    y.record(op, inputs: [x, weight] + (bias.map { [$0] } ?? [])) { dy in
      Conv2DKernels.backward(
        dy: dy, x: x, weight: weight, bias: bias, outChannels: o, geometry)
    }
    return y
  }
}

/// One convolution per group of channels, concatenated: groups with several input channels
/// each make GEMMs of their own, and autograd carries the gradients through the slices.
private func groupedConv2d(
  _ x: Tensor, weight: Tensor, bias: Tensor?, stride: (Int, Int), padding: (Int, Int),
  dilation: Int, groups: Int
) throws -> Tensor {
  let (inPerGroup, outPerGroup) = (x.shape[1] / groups, weight.shape[0] / groups)
  let kernels = try weight.reshaped([1, weight.shape[0], -1, 1])
  let biases = try bias?.reshaped([1, -1, 1, 1])
  let outputs = try (0..<groups).map { group in
    let (inputs, outputs) = (
      (group * inPerGroup)..<((group + 1) * inPerGroup),
      (group * outPerGroup)..<((group + 1) * outPerGroup)
    )
    return try conv2d(
      sliceChannels(x, inputs),
      weight: sliceChannels(kernels, outputs).reshaped(
        [outPerGroup, inPerGroup, weight.shape[2], weight.shape[3]]),
      bias: biases.map { try sliceChannels($0, outputs).reshaped([outPerGroup]) },
      stride: stride, padding: padding, dilation: dilation)
  }
  return try concatChannels(outputs)
}

/// Fills y and records the depthwise convolution's backward.
private func depthwiseConv2d(
  _ x: Tensor, weight: Tensor, bias: Tensor?, y: Tensor, _ g: Im2Col.Geometry
) {
  let n = x.shape[0]
  x.scalars.withUnsafeBufferPointer { xs in
    weight.scalars.withUnsafeBufferPointer { ws in
      Im2Col.withValues(bias) { bias in
        y.scalars.withUnsafeMutableBufferPointer { ys in
          DepthwiseConv2DKernels.forward(
            xs.baseAddress!, ws.baseAddress!, bias, ys.baseAddress!, batch: n, g)
        }
      }
    }
  }
  y.record("depthwiseConv2d", inputs: [x, weight] + (bias.map { [$0] } ?? [])) { dy in
    dy.scalars.withUnsafeBufferPointer { dys in
      let dyp = dys.baseAddress!
      Im2Col.withGradient(bias) { db in
        guard let db else { return }
        Im2Col.addChannelSums(of: dyp, channels: g.channels, batch: n, area: g.outArea, into: db)
      }
      x.scalars.withUnsafeBufferPointer { xs in
        weight.scalars.withUnsafeBufferPointer { ws in
          Im2Col.withGradient(x) { dx in
            Im2Col.withGradient(weight) { dw in
              guard dx != nil || dw != nil else { return }
              DepthwiseConv2DKernels.backward(
                dyp, xs.baseAddress!, ws.baseAddress!, dx, dw, batch: n, g)
            }
          }
        }
      }
    }
  }
}

/// im2col + GEMM kernels for `conv2d`; gradients are accumulated (`+=`).
enum Conv2DKernels {
  static func plan(batch: Int, outChannels o: Int, _ g: Im2Col.Geometry) -> Im2Col.Plan {
    Im2Col.Plan(
      batch: batch, outArea: g.outArea, floatsPerSample: (g.rows + o) * g.outArea,
      weights: o * g.rows)
  }

  static func forward(
    x: Tensor, weight: Tensor, bias: Tensor?, y: Tensor, outChannels o: Int,
    _ g: Im2Col.Geometry
  ) {
    let n = x.shape[0]
    x.scalars.withUnsafeBufferPointer { xBuffer in
      weight.scalars.withUnsafeBufferPointer { wBuffer in
        Im2Col.withValues(bias) { bias in
          y.scalars.withUnsafeMutableBufferPointer { yBuffer in
            let (xp, wp, yp) = (xBuffer.baseAddress!, wBuffer.baseAddress!, yBuffer.baseAddress!)
            if WinogradTile.applies(batch: n, outChannels: o, g) {
              WinogradTile.convolve(
                xp, wp, bias, yp, batch: n, inChannels: g.channels, outChannels: o)
              return
            }
            if Winograd.applies(batch: n, outChannels: o, g) {
              Winograd.convolve(xp, wp, bias, yp, batch: n, outChannels: o, g)
              return
            }
            if g.isPointwise {
              forwardPointwise(xp, wp, bias, yp, batch: n, outChannels: o, g)
              return
            }
            let plan = plan(batch: n, outChannels: o, g)
            let bandRows = bandRows(batch: n, g)
            if plan.perCore {
              forwardPerCore(xp, wp, bias, yp, batch: n, outChannels: o, g, plan)
            } else if let bandRows {
              forwardBands(xp, wp, bias, yp, batch: n, outChannels: o, g, bandRows: bandRows)
            } else {
              forwardBatched(xp, wp, bias, yp, batch: n, outChannels: o, g, plan)
            }
          }
        }
      }
    }
  }

  // y[s] (O, HW) = W (O, C) x[s] (C, HW)
  private static func forwardPointwise(
    _ xp: UnsafePointer<Float>, _ wp: UnsafePointer<Float>, _ bias: UnsafePointer<Float>?,
    _ yp: UnsafeMutablePointer<Float>, batch n: Int, outChannels o: Int, _ g: Im2Col.Geometry
  ) {
    let (k, area) = (g.rows, g.outArea)
    if n >= Parallel.threadCount {
      // A sample per task: one hand-off for the batch instead of one per sample's product,
      // whose columns on small maps (7x7) are too few to split well.
      Parallel.forEach(n, costPerItem: o * k * area) { s in
        let target = yp + s * o * area
        if let bias {
          Im2Col.fill(target, bias: bias, channels: o, batch: 1, area: area, parallel: false)
        }
        BLAS.serialGemm(
          m: o, n: area, k: k, a: wp, lda: k, b: xp + s * k * area, ldb: area,
          beta: bias == nil ? 0 : 1, c: target, ldc: area)
      }
      return
    }
    for s in 0..<n {
      BLAS.gemm(
        m: o, n: area, k: k, a: wp, lda: k, b: xp + s * k * area, ldb: area,
        c: yp + s * o * area, ldc: area)
    }
    if let bias { Im2Col.addBias(bias, to: yp, channels: o, batch: n, area: area) }
  }

  /// Each core takes runs of groups: columns, GEMM and bias without leaving its cache.
  private static func forwardPerCore(
    _ xp: UnsafePointer<Float>, _ wp: UnsafePointer<Float>, _ bias: UnsafePointer<Float>?,
    _ yp: UnsafeMutablePointer<Float>, batch n: Int, outChannels o: Int, _ g: Im2Col.Geometry,
    _ plan: Im2Col.Plan
  ) {
    let (k, area) = (g.rows, g.outArea)
    let scratch = (k + (plan.groupSize > 1 ? o : 0)) * plan.groupSize * area
    Parallel.forEach(plan.runCount, costPerItem: 1 << 20) { run in
      Scratch.withBuffer(scratch) { columns in
        let product = columns + k * plan.groupSize * area
        for group in plan.groups(ofRun: run) {
          let samples = plan.samples(ofGroup: group, batch: n)
          let width = samples.count * area
          let target = yp + samples.lowerBound * o * area
          Im2Col.im2col(
            xp + samples.lowerBound * g.channels * g.imageArea, batch: samples.count, g,
            into: columns, parallel: false)
          if samples.count == 1 {
            // y[s] (O, L) = bias + W (O, K) columns (K, L)
            if let bias {
              Im2Col.fill(target, bias: bias, channels: o, batch: 1, area: area, parallel: false)
            }
            BLAS.serialGemm(
              m: o, n: area, k: k, a: wp, lda: k, b: columns, ldb: area, beta: bias == nil ? 0 : 1,
              c: target, ldc: area)
          } else {
            // (O, K) x (K, count*L) -> (O, count*L), then back to (count, O, L).
            BLAS.serialGemm(
              m: o, n: width, k: k, a: wp, lda: k, b: columns, ldb: width, c: product,
              ldc: width)
            Im2Col.channelsToBatch(
              product, channels: o, batch: samples.count, area: area, into: target, bias: bias,
              parallel: false)
          }
        }
      }
    }
  }

  /// Output positions a sample needs for bands: below this a sample's GEMMs are too thin
  /// (resnet18's 4x4 maps at 64 px made GEMMs 16 columns wide, and weight gradients summed
  /// over 16 positions per sample), and one GEMM over the batch does better.
  static let minimumBandArea = 256

  /// Output rows per band when a large convolution should run in bands, or nil.
  ///
  /// A band is a run of output rows of one sample whose columns fit in `cacheFloats`; there
  /// must be enough (sample, band) tasks to keep every core busy, else the batched path,
  /// which splits each GEMM over the cores, does better.
  static func bandRows(batch: Int, _ g: Im2Col.Geometry) -> Int? {
    guard g.outArea >= minimumBandArea else { return nil }
    let rows = max(1, min(g.outHeight, Im2Col.cacheFloats / max(1, g.rows * g.outWidth)))
    let tasks = batch * ((g.outHeight + rows - 1) / rows)
    let threads = Parallel.threadCount
    return threads == 1 || tasks >= 4 * threads ? rows : nil
  }

  /// One task per (sample, band of output rows): the band's columns stay in the core's cache
  /// and its GEMM writes straight into the output, so nothing batch-sized is built or copied.
  private static func forwardBands(
    _ xp: UnsafePointer<Float>, _ wp: UnsafePointer<Float>, _ bias: UnsafePointer<Float>?,
    _ yp: UnsafeMutablePointer<Float>, batch n: Int, outChannels o: Int, _ g: Im2Col.Geometry,
    bandRows: Int
  ) {
    let (k, area, outWidth) = (g.rows, g.outArea, g.outWidth)
    let bands = (g.outHeight + bandRows - 1) / bandRows
    let scratch = k * bandRows * outWidth + Im2Col.bandSliceCount(g, rows: bandRows)
    Parallel.forEach(n * bands, costPerItem: 1 << 20) { task in
      let (s, band) = task.quotientAndRemainder(dividingBy: bands)
      let rows = (band * bandRows)..<min((band + 1) * bandRows, g.outHeight)
      let width = rows.count * outWidth
      Scratch.withBuffer(scratch) { columns in
        Im2Col.im2col(
          xp + s * g.channels * g.imageArea, g, outRows: rows, into: columns,
          padded: columns + k * width)
        // y[s][:, band] (O, width; rows `area` apart) = bias + W (O, K) columns (K, width)
        let target = yp + s * o * area + rows.lowerBound * outWidth
        if let bias {
          for c in 0..<o { (target + c * area).update(repeating: bias[c], count: width) }
        }
        BLAS.serialGemm(
          m: o, n: width, k: k, a: wp, lda: k, b: columns, ldb: width, beta: bias == nil ? 0 : 1,
          c: target, ldc: area)
      }
    }
  }

  /// Groups one after another; each step (columns, GEMM, layout) spread over the cores.
  private static func forwardBatched(
    _ xp: UnsafePointer<Float>, _ wp: UnsafePointer<Float>, _ bias: UnsafePointer<Float>?,
    _ yp: UnsafeMutablePointer<Float>, batch n: Int, outChannels o: Int, _ g: Im2Col.Geometry,
    _ plan: Im2Col.Plan
  ) {
    let (k, area, group) = (g.rows, g.outArea, plan.groupSize)
    Scratch.withBuffer(k * group * area) { columns in
      Scratch.withBuffer(group > 1 ? o * group * area : 0) { product in
        for start in Swift.stride(from: 0, to: n, by: group) {
          let count = min(group, n - start)
          let width = count * area
          let target = yp + start * o * area
          Im2Col.im2col(xp + start * g.channels * g.imageArea, batch: count, g, into: columns)
          if count == 1 {
            BLAS.gemm(
              m: o, n: area, k: k, a: wp, lda: k, b: columns, ldb: area, c: target, ldc: area)
            if let bias {
              Im2Col.addBias(bias, to: target, channels: o, batch: 1, area: area)
            }
          } else {
            // (O, K) x (K, count*L) -> (O, count*L), then back to (count, O, L).
            BLAS.gemm(
              m: o, n: width, k: k, a: wp, lda: k, b: columns, ldb: width, c: product,
              ldc: width)
            Im2Col.channelsToBatch(
              product, channels: o, batch: count, area: area, into: target, bias: bias)
          }
        }
      }
    }
  }

  static func backward(
    dy: Tensor, x: Tensor, weight: Tensor, bias: Tensor?, outChannels o: Int,
    _ g: Im2Col.Geometry
  ) {
    let (n, area) = (x.shape[0], g.outArea)
    let plan = plan(batch: n, outChannels: o, g)
    // Where Winograd takes the forward, it takes the weight gradient too; on 2x2 maps, the
    // input gradient as well (the same convolution, kernels flipped and transposed).
    let tile = WinogradTile.applies(batch: n, outChannels: o, g)
    let winogradWeights =
      weight.requiresGrad && (tile || Winograd.applies(batch: n, outChannels: o, g))
    let perCore = plan.perCore && !g.isPointwise && !winogradWeights
    dy.scalars.withUnsafeBufferPointer { dyBuffer in
      let dyp = dyBuffer.baseAddress!
      if !perCore {
        Im2Col.withGradient(bias) { db in
          guard let db else { return }
          Im2Col.addChannelSums(of: dyp, channels: o, batch: n, area: area, into: db)
        }
      }
      guard perCore || x.requiresGrad || weight.requiresGrad else { return }
      x.scalars.withUnsafeBufferPointer { xBuffer in
        weight.scalars.withUnsafeBufferPointer { wBuffer in
          let (xp, wp) = (xBuffer.baseAddress!, wBuffer.baseAddress!)
          // The input gradient of a 3x3 stride-1 convolution is one too, so Winograd's
          // transforms may take it (writing a fresh gradient, not zero-filling and adding).
          let winograd =
            x.requiresGrad && !tile ? Winograd.inputGradient(batch: n, outChannels: o, g) : nil
          if let winograd {
            x.accumulateOrWriteGrad { dx, overwrite in
              Winograd.convolve(
                dyp, wp, nil, dx.baseAddress!, batch: n, outChannels: g.channels, winograd,
                flipped: true, accumulate: !overwrite)
            }
          } else if tile && x.requiresGrad {
            x.accumulateOrWriteGrad { dx, overwrite in
              WinogradTile.convolve(
                dyp, wp, nil, dx.baseAddress!, batch: n, inChannels: o, outChannels: g.channels,
                flipped: true, accumulate: !overwrite)
            }
          }
          if winogradWeights {
            weight.accumulateOrWriteGrad { dw, overwrite in
              if tile {
                WinogradTile.weightGradient(
                  dyp, xp, dw.baseAddress!, batch: n, inChannels: g.channels, outChannels: o,
                  accumulate: !overwrite)
              } else {
                Winograd.weightGradient(
                  dyp, xp, dw.baseAddress!, batch: n, outChannels: o, g, accumulate: !overwrite)
              }
            }
          }
          Im2Col.withGradient(winograd == nil && !tile ? x : nil) { dx in
            Im2Col.withGradient(winogradWeights ? nil : weight) { dw in
              if dx == nil && dw == nil && !perCore { return }
              if g.isPointwise {
                backwardPointwise(dyp, xp, wp, dx, dw, batch: n, outChannels: o, g)
              } else if perCore {
                Im2Col.withGradient(bias) { db in
                  backwardPerCore(dyp, xp, wp, dx, dw, db, batch: n, outChannels: o, g, plan)
                }
              } else if let bandRows = backwardBandRows(batch: n, outChannels: o, g) {
                backwardBands(dyp, xp, wp, dx, dw, batch: n, outChannels: o, g, bandRows: bandRows)
              } else {
                backwardBatched(dyp, xp, wp, dx, dw, batch: n, outChannels: o, g, plan)
              }
            }
          }
        }
      }
    }
  }

  private static func backwardPointwise(
    _ dyp: UnsafePointer<Float>, _ xp: UnsafePointer<Float>, _ wp: UnsafePointer<Float>,
    _ dx: UnsafeMutablePointer<Float>?, _ dw: UnsafeMutablePointer<Float>?, batch n: Int,
    outChannels o: Int, _ g: Im2Col.Geometry
  ) {
    let (k, area) = (g.rows, g.outArea)
    for s in 0..<n {
      let (xs, dys) = (xp + s * k * area, dyp + s * o * area)
      if let dw {
        // dW (O, C) += dy[s] (O, HW) x[s]^T (HW, C)
        BLAS.gemm(
          transposeB: true, m: o, n: k, k: area, a: dys, lda: area, b: xs, ldb: area,
          beta: 1, c: dw, ldc: k)
      }
      if let dx {
        // dx[s] (C, HW) += W^T (C, O) dy[s] (O, HW)
        BLAS.gemm(
          transposeA: true, m: k, n: area, k: o, a: wp, lda: k, b: dys, ldb: area,
          beta: 1, c: dx + s * k * area, ldc: area)
      }
    }
  }

  /// Each core takes runs of groups and keeps its own weight and bias gradient sums; the
  /// runs' sums are added in run order at the end, so the result does not depend on timing.
  private static func backwardPerCore(
    _ dyp: UnsafePointer<Float>, _ xp: UnsafePointer<Float>, _ wp: UnsafePointer<Float>,
    _ dx: UnsafeMutablePointer<Float>?, _ dw: UnsafeMutablePointer<Float>?,
    _ db: UnsafeMutablePointer<Float>?, batch n: Int, outChannels o: Int, _ g: Im2Col.Geometry,
    _ plan: Im2Col.Plan
  ) {
    let (k, area, plane) = (g.rows, g.outArea, g.imageArea)
    let (runs, group) = (plan.runCount, plan.groupSize)
    // A row of ones under the columns makes the weight-gradient GEMM also sum dy per channel:
    // the bias gradient comes with it.
    let (ones, sumRows) = (db == nil ? 0 : 1, k + 1)
    let scratch = (k + ones + (group > 1 ? o : 0)) * group * area
    // Per run: [dW^T; db^T] (K+1, O).
    let sums = sumRows * o
    Scratch.withBuffer(sums * runs) { partials in
      Parallel.forEach(runs, costPerItem: 1 << 20) { run in
        let partial = partials + run * sums
        if dw == nil { partial.update(repeating: 0, count: sums) }
        Scratch.withBuffer(scratch) { columns in
          let gathered = columns + (k + ones) * group * area
          for (index, group) in plan.groups(ofRun: run).enumerated() {
            let samples = plan.samples(ofGroup: group, batch: n)
            let width = samples.count * area
            var dyColumns = dyp + samples.lowerBound * o * area
            if samples.count > 1 {
              Im2Col.batchToChannels(
                dyColumns, channels: o, batch: samples.count, area: area, into: gathered,
                parallel: false)
              dyColumns = UnsafePointer(gathered)
            }
            if dw != nil {
              // [dW^T; db^T] (K+1, O) (+)= [columns; 1] (K+1, count*L) dy^T (count*L, O).
              // dW^T rather than dW: much faster when K is much larger than O, as in every
              // convolution after the first.
              Im2Col.im2col(
                xp + samples.lowerBound * g.channels * plane, batch: samples.count, g,
                into: columns, parallel: false)
              (columns + k * width).update(repeating: 1, count: ones * width)
              BLAS.serialGemm(
                transposeB: true, m: k + ones, n: o, k: width, a: columns, lda: width,
                b: dyColumns, ldb: width, beta: index == 0 ? 0 : 1, c: partial, ldc: o)
            } else if db != nil {
              let sum = partial + k * o
              for c in 0..<o {
                let values = dyColumns + c * width
                for i in 0..<width { sum[c] += values[i] }
              }
            }
            if let dx {
              // dColumns (K, count*L) = W^T (K, O) dy (O, count*L), folded back.
              BLAS.serialGemm(
                transposeA: true, m: k, n: width, k: o, a: wp, lda: k, b: dyColumns,
                ldb: width, c: columns, ldc: width)
              Im2Col.col2im(
                columns, batch: samples.count, g,
                addingTo: dx + samples.lowerBound * g.channels * plane, parallel: false)
            }
          }
        }
      }
      // Runs in order; row k holds the bias sums.
      for row in 0..<sumRows {
        let target = row < k ? dw : db
        guard let target else { continue }
        for c in 0..<o {
          var total = partials[row * o + c]
          for run in 1..<runs { total += partials[run * sums + row * o + c] }
          target[row < k ? c * k + row : c] += total
        }
      }
    }
  }

  /// Output rows per band when a large convolution's backward should run in bands, or nil:
  /// one task per sample (its bands overlap in the input rows, so they go one after another),
  /// enough samples for every core, and room for one weight-gradient sum per sample.
  static func backwardBandRows(batch: Int, outChannels o: Int, _ g: Im2Col.Geometry) -> Int? {
    let threads = Parallel.threadCount
    guard g.outArea >= minimumBandArea, threads == 1 || batch >= 2 * threads,
      batch * o * g.rows <= Im2Col.columnBudget
    else { return nil }
    return max(1, min(g.outHeight, Im2Col.cacheFloats / max(1, g.rows * g.outWidth)))
  }

  /// One task per sample, its bands in order: each band's columns (then their gradient) stay
  /// in the core's cache and read dy where it lies. Each sample keeps its own weight-gradient
  /// sum; the sums are added in sample order, so the result does not depend on the threads.
  private static func backwardBands(
    _ dyp: UnsafePointer<Float>, _ xp: UnsafePointer<Float>, _ wp: UnsafePointer<Float>,
    _ dx: UnsafeMutablePointer<Float>?, _ dw: UnsafeMutablePointer<Float>?, batch n: Int,
    outChannels o: Int, _ g: Im2Col.Geometry, bandRows: Int
  ) {
    let (k, area, outWidth, image) = (g.rows, g.outArea, g.outWidth, g.channels * g.imageArea)
    let bands = (g.outHeight + bandRows - 1) / bandRows
    let sums = k * o
    let scratch = k * bandRows * outWidth + Im2Col.bandSliceCount(g, rows: bandRows)
    Scratch.withBuffer(dw == nil ? 0 : sums * n) { partials in
      Parallel.forEach(n, costPerItem: 1 << 20) { s in
        Scratch.withBuffer(scratch) { columns in
          let padded = columns + k * bandRows * outWidth
          for band in 0..<bands {
            let rows = (band * bandRows)..<min((band + 1) * bandRows, g.outHeight)
            let width = rows.count * outWidth
            // dy[s][:, band] (O, width; rows `area` apart)
            let dyBand = dyp + s * o * area + rows.lowerBound * outWidth
            if dw != nil {
              // dW^T (K, O) (+)= columns (K, width) dy^T (width, O)
              Im2Col.im2col(xp + s * image, g, outRows: rows, into: columns, padded: padded)
              BLAS.serialGemm(
                transposeB: true, m: k, n: o, k: width, a: columns, lda: width, b: dyBand,
                ldb: area, beta: band == 0 ? 0 : 1, c: partials + s * sums, ldc: o)
            }
            if let dx {
              // dColumns (K, width) = W^T (K, O) dy (O, width), folded back.
              BLAS.serialGemm(
                transposeA: true, m: k, n: width, k: o, a: wp, lda: k, b: dyBand, ldb: area,
                c: columns, ldc: width)
              Im2Col.col2im(columns, g, outRows: rows, addingTo: dx + s * image, padded: padded)
            }
          }
        }
      }
      guard let dw else { return }
      for row in 0..<k {
        for c in 0..<o {
          var total = partials[row * o + c]
          for s in 1..<n { total += partials[s * sums + row * o + c] }
          dw[c * k + row] += total
        }
      }
    }
  }

  /// Groups one after another; each step spread over the cores.
  private static func backwardBatched(
    _ dyp: UnsafePointer<Float>, _ xp: UnsafePointer<Float>, _ wp: UnsafePointer<Float>,
    _ dx: UnsafeMutablePointer<Float>?, _ dw: UnsafeMutablePointer<Float>?, batch n: Int,
    outChannels o: Int, _ g: Im2Col.Geometry, _ plan: Im2Col.Plan
  ) {
    let (k, area, plane, group) = (g.rows, g.outArea, g.imageArea, plan.groupSize)
    // One buffer serves as the columns for dW, then as their gradient for dx.
    Scratch.withBuffer(k * group * area) { cp in
      Scratch.withBuffer(group > 1 ? o * group * area : 0) { gathered in
        for start in Swift.stride(from: 0, to: n, by: group) {
          let count = min(group, n - start)
          let width = count * area
          var dyColumns = dyp + start * o * area
          if count > 1 {
            Im2Col.batchToChannels(
              dyColumns, channels: o, batch: count, area: area, into: gathered)
            dyColumns = UnsafePointer(gathered)
          }
          if let dw {
            // dW (O, K) += dy (O, count*L) columns^T (count*L, K)
            Im2Col.im2col(xp + start * g.channels * plane, batch: count, g, into: cp)
            BLAS.gemm(
              transposeB: true, m: o, n: k, k: width, a: dyColumns, lda: width, b: cp,
              ldb: width, beta: 1, c: dw, ldc: k)
          }
          if let dx {
            // dColumns (K, count*L) = W^T (K, O) dy (O, count*L), folded back.
            BLAS.gemm(
              transposeA: true, m: k, n: width, k: o, a: wp, lda: k, b: dyColumns,
              ldb: width, c: cp, ldc: width)
            Im2Col.col2im(cp, batch: count, g, addingTo: dx + start * g.channels * plane)
          }
        }
      }
    }
  }
}

/// Plain loops that define what `conv2d` computes; tests compare the two.
public enum Conv2DReference {
  public static func forward(
    x: Tensor, weight: Tensor, bias: Tensor?, stride: (Int, Int) = (1, 1),
    padding: (Int, Int) = (0, 0), dilation: Int = 1, groups: Int = 1
  ) -> Tensor {
    let s = Sizes(
      x: x.shape, weight: weight.shape, stride: stride, padding: padding,
      dilation: dilation, groups: groups)
    let (xs, ws) = (x.scalars, weight.scalars)
    var y = [Float](repeating: 0, count: s.n * s.o * s.oh * s.ow)
    for b in 0..<s.n {
      for oc in 0..<s.o {
        for oy in 0..<s.oh {
          for ox in 0..<s.ow {
            var sum = Double(bias?.scalars[oc] ?? 0)
            s.forEachTap(oc: oc, oy: oy, ox: ox) { ic, wc, ki, kj, iy, ix in
              sum +=
                Double(xs[((b * s.c + ic) * s.h + iy) * s.w + ix])
                * Double(ws[((oc * s.cg + wc) * s.kh + ki) * s.kw + kj])
            }
            y[((b * s.o + oc) * s.oh + oy) * s.ow + ox] = Float(sum)
          }
        }
      }
    }
    return Tensor(shape: [s.n, s.o, s.oh, s.ow], scalars: y)
  }

  /// Gradients of `sum(dy * conv2d(x, weight, bias))` for x, weight and bias.
  public static func backward(
    x: Tensor, weight: Tensor, dy: Tensor, stride: (Int, Int) = (1, 1),
    padding: (Int, Int) = (0, 0), dilation: Int = 1, groups: Int = 1
  ) -> (dx: Tensor, dWeight: Tensor, dBias: Tensor) {
    let s = Sizes(
      x: x.shape, weight: weight.shape, stride: stride, padding: padding,
      dilation: dilation, groups: groups)
    let (xs, ws, gs) = (x.scalars, weight.scalars, dy.scalars)
    var dx = [Double](repeating: 0, count: x.count)
    var dw = [Double](repeating: 0, count: weight.count)
    var db = [Double](repeating: 0, count: s.o)
    for b in 0..<s.n {
      for oc in 0..<s.o {
        for oy in 0..<s.oh {
          for ox in 0..<s.ow {
            let g = Double(gs[((b * s.o + oc) * s.oh + oy) * s.ow + ox])
            db[oc] += g
            s.forEachTap(oc: oc, oy: oy, ox: ox) { ic, wc, ki, kj, iy, ix in
              let xi = ((b * s.c + ic) * s.h + iy) * s.w + ix
              let wi = ((oc * s.cg + wc) * s.kh + ki) * s.kw + kj
              dx[xi] += g * Double(ws[wi])
              dw[wi] += g * Double(xs[xi])
            }
          }
        }
      }
    }
    return (
      Tensor(shape: x.shape, scalars: dx.map { Float($0) }),
      Tensor(shape: weight.shape, scalars: dw.map { Float($0) }),
      Tensor(shape: [s.o], scalars: db.map { Float($0) })
    )
  }

  private struct Sizes {
    /// cg, og: input and output channels per group.
    let n, c, h, w, o, kh, kw, strideH, strideW, padH, padW, dilation, cg, og, oh, ow: Int

    init(
      x: [Int], weight: [Int], stride: (Int, Int), padding: (Int, Int), dilation: Int,
      groups: Int
    ) {
      (n, c, h, w) = (x[0], x[1], x[2], x[3])
      (o, kh, kw) = (weight[0], weight[2], weight[3])
      (cg, og) = (c / groups, o / groups)
      (strideH, strideW, padH, padW) = (stride.0, stride.1, padding.0, padding.1)
      self.dilation = dilation
      oh = (h + 2 * padH - dilation * (kh - 1) - 1) / strideH + 1
      ow = (w + 2 * padW - dilation * (kw - 1) - 1) / strideW + 1
    }

    /// Calls `body(ic, wc, ki, kj, iy, ix)` for each kernel tap of output (oc, oy, ox) inside
    /// x: input channel ic is the weight's channel wc of oc's group.
    func forEachTap(oc: Int, oy: Int, ox: Int, _ body: (Int, Int, Int, Int, Int, Int) -> Void) {
      for wc in 0..<cg {
        let ic = oc / og * cg + wc
        for ki in 0..<kh {
          let iy = oy * strideH - padH + ki * dilation
          guard iy >= 0, iy < h else { continue }
          for kj in 0..<kw {
            let ix = ox * strideW - padW + kj * dilation
            guard ix >= 0, ix < w else { continue }
            body(ic, wc, ki, kj, iy, ix)
          }
        }
      }
    }
  }
}
