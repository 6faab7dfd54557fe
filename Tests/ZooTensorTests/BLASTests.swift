import Testing
import ZooTensor

/// `BLAS.gemm` splits large products into blocks, one per thread; the blocks must cover every
/// element of C whatever the shape and the number of threads.
@Suite(.serialized) struct BLASTests {
  /// The largest difference of C = A B from a plain loop, computed over a C that starts as
  /// NaN (beta 0 must overwrite it); infinity where an element was left NaN.
  func worstDifference(m: Int, n: Int, k: Int, threads: Int) -> Float {
    Parallel.$scopedThreadCount.withValue(threads) { worstDifference(m: m, n: n, k: k) }
  }

  func worstDifference(m: Int, n: Int, k: Int) -> Float {
    let a = (0..<(m * k)).map { Float(($0 * 7) % 13) / 13 - 0.5 }
    let b = (0..<(k * n)).map { Float(($0 * 5) % 11) / 11 - 0.5 }
    var c = [Float](repeating: .nan, count: m * n)
    c.withUnsafeMutableBufferPointer { c in
      BLAS.gemm(m: m, n: n, k: k, a: a, lda: k, b: b, ldb: n, c: c.baseAddress!, ldc: n)
    }
    var worst: Float = 0
    for i in 0..<m {
      for j in 0..<n {
        let expected = (0..<k).reduce(Float(0)) { $0 + a[i * k + $1] * b[$1 * n + j] }
        let difference = abs(c[i * n + j] - expected)
        worst = difference.isNaN ? .infinity : max(worst, difference)
      }
    }
    return worst
  }

  // Wide products (n >= m) split by columns, tall ones by rows; 289 = 17x17 (Inception's
  // grid) and 1089 = 33x33 are one column past a multiple of 32, the shapes that once left
  // the last column unwritten.
  @Test(arguments: [(64, 289), (48, 1089), (192, 289), (300, 97), (1000, 65)], [2, 3, 4])
  func splitProductsWriteEveryElement(_ shape: (m: Int, n: Int), _ threads: Int) {
    let worst = worstDifference(m: shape.m, n: shape.n, k: 64, threads: threads)
    #expect(worst < 1e-4, "\(shape.m)x\(shape.n) over \(threads) threads: worst \(worst)")
  }
}
