// Separable bilinear resampling as Pillow's `Resample.c` does it: half-pixel centres, a
// triangle filter widened by the scale factor when shrinking (antialiasing), weights
// normalised per output pixel, horizontal pass first. The 8-bit path repeats Pillow's
// fixed-point arithmetic (22 fraction bits, round half up, 8-bit intermediate image), so
// results equal `Image.resize(size, Image.BILINEAR)` exactly.

/// The taps of one resampling pass: for output pixel `i`, input pixels
/// `start[i] ..< start[i] + count[i]` weighted by `weights[i * width ..< ...]`.
struct ResampleTaps {
  let start: [Int]
  let count: [Int]
  let width: Int
  let weights: [Double]

  /// Taps mapping `inputSize` pixels onto `outputSize` pixels.
  init(inputSize: Int, outputSize: Int) {
    let scale = Double(inputSize) / Double(outputSize)
    let filterScale = max(scale, 1)
    let support = filterScale  // the triangle filter reaches 1 pixel, stretched when shrinking
    let width = Int(support.rounded(.up)) * 2 + 1
    var start = [Int](repeating: 0, count: outputSize)
    var count = [Int](repeating: 0, count: outputSize)
    var weights = [Double](repeating: 0, count: outputSize * width)
    for i in 0..<outputSize {
      let center = (Double(i) + 0.5) * scale
      // C's (int) cast truncates toward zero; Pillow relies on it for the rounding here.
      let low = max(Int(center - support + 0.5), 0)
      let high = min(Int(center + support + 0.5), inputSize)
      let n = max(high - low, 0)
      let inverseScale = 1 / filterScale
      var total = 0.0
      for x in 0..<n {
        let w = max(0, 1 - abs((Double(x + low) - center + 0.5) * inverseScale))
        weights[i * width + x] = w
        total += w
      }
      if total != 0 {
        for x in 0..<n { weights[i * width + x] /= total }
      }
      start[i] = low
      count[i] = n
    }
    self.start = start
    self.count = count
    self.width = width
    self.weights = weights
  }

  /// The weights as Pillow's 8-bit fixed-point integers.
  var fixedPoint: [Int] {
    weights.map { w in
      w < 0
        ? Int(-0.5 + w * Double(1 << Resample.precisionBits))
        : Int(0.5 + w * Double(1 << Resample.precisionBits))
    }
  }
}

enum Resample {
  static let precisionBits = 32 - 8 - 2

  /// Resizes interleaved 8-bit pixels (HWC) from `width`x`height` to `outWidth`x`outHeight`.
  static func resize(
    _ pixels: [UInt8], width: Int, height: Int, channels: Int, outWidth: Int, outHeight: Int
  ) -> [UInt8] {
    var current = pixels
    if outWidth != width {
      // Each row is `width` samples of `channels` values; sample x sits at x * channels.
      current = pass(
        current, taps: ResampleTaps(inputSize: width, outputSize: outWidth), lines: height,
        inputLine: width * channels, outputLine: outWidth * channels, step: channels,
        lanes: channels)
    }
    if outHeight != height {
      // Each column of values is a line; row y sits at y * rowLength.
      let rowLength = outWidth * channels
      current = transposedPass(
        current, taps: ResampleTaps(inputSize: height, outputSize: outHeight),
        rowLength: rowLength)
    }
    return current
  }

  /// Horizontal pass: for each of `lines` lines, output value `x * step + lane` sums input
  /// values `(start[x] + t) * step + lane` with fixed-point weights.
  private static func pass(
    _ input: [UInt8], taps: ResampleTaps, lines: Int, inputLine: Int, outputLine: Int, step: Int,
    lanes: Int
  ) -> [UInt8] {
    let k = taps.fixedPoint
    var output = [UInt8](repeating: 0, count: lines * outputLine)
    input.withUnsafeBufferPointer { input in
      output.withUnsafeMutableBufferPointer { output in
        for line in 0..<lines {
          let source = input.baseAddress! + line * inputLine
          let target = output.baseAddress! + line * outputLine
          for x in 0..<taps.start.count {
            let first = taps.start[x]
            let weights = x * taps.width
            for lane in 0..<lanes {
              var sum = 1 << (precisionBits - 1)
              for t in 0..<taps.count[x] {
                sum += Int(source[(first + t) * step + lane]) * k[weights + t]
              }
              target[x * step + lane] = clip8(sum)
            }
          }
        }
      }
    }
    return output
  }

  /// Vertical pass: output row y sums input rows `start[y] + t`.
  private static func transposedPass(_ input: [UInt8], taps: ResampleTaps, rowLength: Int)
    -> [UInt8]
  {
    let k = taps.fixedPoint
    let rows = taps.start.count
    var output = [UInt8](repeating: 0, count: rows * rowLength)
    input.withUnsafeBufferPointer { input in
      output.withUnsafeMutableBufferPointer { output in
        var sums = [Int](repeating: 0, count: rowLength)
        for y in 0..<rows {
          for i in 0..<rowLength { sums[i] = 1 << (precisionBits - 1) }
          for t in 0..<taps.count[y] {
            let row = input.baseAddress! + (taps.start[y] + t) * rowLength
            let weight = k[y * taps.width + t]
            for i in 0..<rowLength { sums[i] += Int(row[i]) * weight }
          }
          for i in 0..<rowLength { output[y * rowLength + i] = clip8(sums[i]) }
        }
      }
    }
    return output
  }

  private static func clip8(_ value: Int) -> UInt8 {
    if value >= 1 << (precisionBits + 8) { return 255 }
    if value <= 0 { return 0 }
    return UInt8(value >> precisionBits)
  }

  /// Resizes each plane of a CHW float image to `outWidth`x`outHeight`, in floating point
  /// (no rounding).
  static func resize(_ image: FloatImage, outWidth: Int, outHeight: Int) -> FloatImage {
    let horizontal = ResampleTaps(inputSize: image.width, outputSize: outWidth)
    let vertical = ResampleTaps(inputSize: image.height, outputSize: outHeight)
    let (w, h) = (image.width, image.height)
    var temp = [Float](repeating: 0, count: outWidth * h)
    var out = [Float](repeating: 0, count: image.channels * outWidth * outHeight)
    for c in 0..<image.channels {
      let plane = c * w * h
      for y in 0..<h {
        for x in 0..<outWidth {
          var sum = 0.0
          for t in 0..<horizontal.count[x] {
            sum +=
              Double(image.values[plane + y * w + horizontal.start[x] + t])
              * horizontal.weights[x * horizontal.width + t]
          }
          temp[y * outWidth + x] = Float(sum)
        }
      }
      let outPlane = c * outWidth * outHeight
      for y in 0..<outHeight {
        for x in 0..<outWidth {
          var sum = 0.0
          for t in 0..<vertical.count[y] {
            sum +=
              Double(temp[(vertical.start[y] + t) * outWidth + x])
              * vertical.weights[y * vertical.width + t]
          }
          out[outPlane + y * outWidth + x] = Float(sum)
        }
      }
    }
    return FloatImage(channels: image.channels, height: outHeight, width: outWidth, values: out)
  }
}
