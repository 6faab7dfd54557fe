import CKernels
import Foundation
import Testing
import ZooTensor

/// The eight-lane exp and sigmoid against the C library's scalar ones, over the whole float
/// range: every 509th bit pattern of both signs (about 8.4 million values, subnormals, overflow,
/// infinities and NaN among them).
@Suite struct VectorExpTests {
  /// Distance in units in the last place; both finite or equal infinities, same sign.
  private static func ulps(_ a: Float, _ b: Float) -> Int {
    if a == b { return 0 }
    guard a.isFinite, b.isFinite, a.sign == b.sign || a == 0 || b == 0 else { return .max }
    return abs(Int(a.bitPattern & 0x7fff_ffff) - Int(b.bitPattern & 0x7fff_ffff))
  }

  /// The worst ulp distance of `lanes` from `scalar` on the sampled bit patterns, and whether
  /// NaN inputs gave NaN.
  private static func worst(
    _ lanes: (SIMD8<Float>) -> SIMD8<Float>, _ scalar: (Float) -> Float
  ) -> (ulps: Int, at: Float, nanKept: Bool) {
    var (worst, at, nanKept) = (0, Float.zero, true)
    var batch = SIMD8<Float>()
    var filled = 0
    func check() {
      let got = lanes(batch)
      for i in 0..<filled {
        let x = batch[i]
        if x.isNaN {
          nanKept = nanKept && got[i].isNaN
          continue
        }
        let d = ulps(got[i], scalar(x))
        if d > worst { (worst, at) = (d, x) }
      }
      filled = 0
    }
    for bits in stride(from: UInt64(0), through: 0xffff_ffff, by: 509) {
      batch[filled] = Float(bitPattern: UInt32(bits))
      filled += 1
      if filled == 8 { check() }
    }
    for special in [
      Float.infinity, -.infinity, .nan, 88.72283, 88.72284, -87.33655, -103.97208, -103.97209,
    ] {
      batch[filled] = special
      filled += 1
      if filled == 8 { check() }
    }
    check()
    return (worst, at, nanKept)
  }

  @Test func expWithinTwoUlpOfExpf() {
    let (ulps, at, nanKept) = Self.worst(VectorExp.exp) { Foundation.exp($0) }
    #expect(ulps <= 2, "worst \(ulps) ulp at \(at)")
    #expect(nanKept)
  }

  @Test func sigmoidWithinThreeUlpOfScalar() {
    let (ulps, at, nanKept) = Self.worst(VectorExp.sigmoid) { x in
      x >= 0 ? 1 / (1 + Foundation.exp(-x)) : Foundation.exp(x) / (1 + Foundation.exp(x))
    }
    #expect(ulps <= 3, "worst \(ulps) ulp at \(at)")
    #expect(nanKept)
  }

  /// Against SiLU in Double rounded once, from -88 up; below -88 (clamped) only near 0.
  @Test func siluWithinThreeUlpOfDouble() {
    Self.expectSiLUBounds(VectorExp.silu)
  }

  /// The AVX2/FMA kernel the SiLU op runs on a CPU that has them, to the same bounds.
  @Test(.enabled(if: WideKernels.isSupported)) func wideSiLUWithinThreeUlpOfDouble() {
    Self.expectSiLUBounds { x in
      var y = SIMD8<Float>()
      withUnsafeBytes(of: x) { xs in
        withUnsafeMutableBytes(of: &y) { ys in
          zoo_silu_avx2(
            xs.assumingMemoryBound(to: Float.self).baseAddress,
            ys.assumingMemoryBound(to: Float.self).baseAddress, 8)
        }
      }
      return y
    }
  }

  private static func expectSiLUBounds(_ silu: (SIMD8<Float>) -> SIMD8<Float>) {
    let (ulps, at, nanKept) = Self.worst(
      { x in silu(x).replacing(with: 0, where: x .< -88) },
      { x in x < -88 ? 0 : Float(Double(x) / (1 + Foundation.exp(-Double(x)))) })
    #expect(ulps <= 3, "worst \(ulps) ulp at \(at)")
    #expect(nanKept)
    let tail = silu(
      SIMD8(-88.5, -90, -100, -1000, -1e30, -.greatestFiniteMagnitude, -.infinity, 100))
    #expect((0..<7).allSatisfy { tail[$0] <= 0 && tail[$0] > -1e-36 }, "\(tail)")
    #expect(tail[7] == 100)
  }

  @Test func limits() {
    let x = SIMD8<Float>(0, 1, -1, 88.8, -104, .infinity, -.infinity, 89.5)
    let e = VectorExp.exp(x)
    #expect(e[0] == 1)
    #expect(e[1] == Foundation.exp(Float(1)))
    #expect(e[2] == Foundation.exp(Float(-1)))
    #expect(e[3] == .infinity && e[5] == .infinity && e[7] == .infinity)
    #expect(e[4] == 0 && e[6] == 0)
    let s = VectorExp.sigmoid(SIMD8<Float>(0, -.infinity, .infinity, -100, 100, -20, 20, 1))
    #expect(s[0] == 0.5 && s[1] == 0 && s[2] == 1 && s[4] == 1)
    #expect(s[3] > 0 && s[3] < .leastNormalMagnitude, "sigmoid(-100) = \(s[3]) is subnormal, not 0")
  }
}
