/// Eight float lanes at a time over runs of memory, the last group partial: explicit vectors
/// for loops the compiler leaves scalar (strided lines, selects across several arrays).
enum Lanes {
  /// Eight lanes from `p + k`, or the `count` left (< 8) with zeros after them.
  @inline(__always)
  static func load(_ p: UnsafePointer<Float>, _ k: Int, _ count: Int) -> SIMD8<Float> {
    if count >= 8 { return UnsafeRawPointer(p + k).loadUnaligned(as: SIMD8<Float>.self) }
    var lanes = SIMD8<Float>()
    for i in 0..<count { lanes[i] = p[k + i] }
    return lanes
  }

  /// The first `min(count, 8)` lanes to `p + k`.
  @inline(__always)
  static func store(
    _ lanes: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>, _ k: Int, _ count: Int
  ) {
    if count >= 8 {
      UnsafeMutableRawPointer(p + k).storeBytes(of: lanes, as: SIMD8<Float>.self)
      return
    }
    for i in 0..<count { p[k + i] = lanes[i] }
  }

  /// The sum of `count` floats from `p`, in sixteen lanes: another order of adds than a plain
  /// loop's, which is one chain the compiler may not reorder.
  @inline(__always)
  static func sum(_ p: UnsafePointer<Float>, _ count: Int) -> Float {
    var (a, b) = (SIMD8<Float>(), SIMD8<Float>())
    var k = 0
    while k + 16 <= count {
      a += load(p, k, 8)
      b += load(p, k + 8, 8)
      k += 16
    }
    while k < count {
      a += load(p, k, count - k)
      k += 8
    }
    return (a + b).sum()
  }
}
