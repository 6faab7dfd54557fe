// e^x on eight float lanes at once, for the activations that need it (sigmoid, SiLU).
// glibc's scalar expf was most of EfficientNet's inference time. The build targets baseline
// x86-64, so nothing here may call a per-lane library function: rounding to an integer uses
// the 1.5 * 2^23 trick and the power of two is built from its bits.

public enum VectorExp {
  /// Cephes' `expf`: x = n ln 2 + r, |r| <= ln 2 / 2, e^r by a degree-7 polynomial, then the
  /// power of two in two halves, so results just below overflow and in the subnormal range
  /// round once, like `expf`'s. Within 2 ulp of `expf` over the whole range (tests);
  /// `inf` above 88.72, 0 below -103.98, NaN stays NaN.
  @inline(__always)
  public static func exp(_ x: SIMD8<Float>) -> SIMD8<Float> {
    // Beyond these, e^x is inf or 0 in float; clamping keeps n in Int32's easy range. A NaN
    // lane fails both comparisons and stays NaN.
    var x = x.replacing(with: 89, where: x .> 89)
    x.replace(with: -104, where: x .< -104)
    let (n, er) = reduced(x)
    // 2^n as 2^half * 2^(n - half): each half is a normal float's power for n in [-150, 129].
    let half = n &>> 1
    return er * powerOfTwo(half) * powerOfTwo(n &- half)
  }

  /// n = round(x / ln 2) and e^r for r = x - n ln 2, |r| <= ln 2 / 2, so e^x = 2^n e^r.
  @inline(__always)
  private static func reduced(_ x: SIMD8<Float>) -> (n: SIMD8<Int32>, er: SIMD8<Float>) {
    // n = round(x / ln 2): adding 1.5 * 2^23 leaves n in the low bits of the sum.
    let magic = SIMD8<Float>(repeating: 12_582_912)
    let shifted = x * 1.442_695_04 + magic
    let n = shifted - magic
    let nBits =
      unsafeBitCast(shifted, to: SIMD8<Int32>.self) &- unsafeBitCast(magic, to: SIMD8<Int32>.self)
    // r = x - n ln 2, ln 2 in two parts so that n * 0.693359375 is exact.
    let r = (x - n * 0.693_359_375) + n * 2.121_944_4e-4
    var p = SIMD8<Float>(repeating: 1.987_569_150_0e-4)
    p = p * r + 1.398_199_950_7e-3
    p = p * r + 8.333_451_907_3e-3
    p = p * r + 4.166_579_589_4e-2
    p = p * r + 1.666_666_545_9e-1
    p = p * r + 5.000_000_120_1e-1
    return (nBits, p * (r * r) + r + 1)
  }

  /// 2^k for k in [-126, 127], from the exponent bits.
  @inline(__always)
  private static func powerOfTwo(_ k: SIMD8<Int32>) -> SIMD8<Float> {
    unsafeBitCast((k &+ 127) &<< 23, to: SIMD8<Float>.self)
  }

  /// `1 / (1 + e^-x)`, as `ActivationKernels.stableSigmoid`: from e^-|x|, so very negative x
  /// gives e / (1 + e) (subnormal results included) instead of 1 / inf.
  @inline(__always)
  public static func sigmoid(_ x: SIMD8<Float>) -> SIMD8<Float> {
    let negative = x .< 0
    let e = exp(x.replacing(with: -x, where: .!negative))
    let one = SIMD8<Float>(repeating: 1)
    return one.replacing(with: e, where: negative) / (one + e)
  }

  /// SiLU, `x / (1 + e^-x)`, with e^-x from a single power of two: x is clamped to [-88, 87]
  /// first, where e^-x and 2^n are normal floats. Below -88 that gives -88 / (1 + e^88), under
  /// 1e-36 in magnitude, instead of x e^x; above 87 it gives x, as before. About half the
  /// instructions of `x * sigmoid(x)`: SiLU is most of EfficientNet's activations.
  @inline(__always)
  public static func silu(_ x: SIMD8<Float>) -> SIMD8<Float> {
    // Selects, not pointwiseMin/Max, which are calls into the standard library. NaN stays.
    let low = x.replacing(with: -88, where: x .< -88)
    let (n, er) = reduced(-low.replacing(with: 87, where: low .> 87))
    return low / (er * powerOfTwo(n) + 1)
  }
}
