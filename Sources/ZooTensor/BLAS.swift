import CBLAS
import Dispatch

/// Matrix products through OpenBLAS's `cblas_sgemm`: the only place the engine multiplies matrices.
///
/// OpenBLAS runs single-threaded here and a large product is split into column (or row) blocks,
/// one per core, each an independent sgemm call. OpenBLAS's own threads spin in `sched_yield`
/// between calls, which on small products (LeNet, small images) cost more than they gain and
/// compete with the engine's parallel kernels; blocks of our own keep every core busy instead.
public enum BLAS {
  /// Products below this many multiply-adds run on the calling thread.
  static let parallelThreshold = 1 << 18

  private static let singleThreaded: Void = openblas_set_num_threads(1)

  /// The kernels OpenBLAS chose for this CPU when it loaded ("Haswell", "SkylakeX", ...), or
  /// those the environment variable `OPENBLAS_CORETYPE` named; benchmarks report it.
  public static var kernelName: String { String(cString: openblas_get_corename()) }

  /// `C = alpha * op(A) * op(B) + beta * C`, row-major; `op(A)` is m x k, `op(B)` is k x n.
  public static func gemm(
    transposeA: Bool = false, transposeB: Bool = false, m: Int, n: Int, k: Int,
    alpha: Float = 1, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
    beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
  ) {
    guard m > 0, n > 0 else { return }
    _ = singleThreaded
    let threads = min(Parallel.threadCount, max(m, n) / 16)
    if threads <= 1 || m * n * k < parallelThreshold {
      sgemm(transposeA, transposeB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
      return
    }
    if n >= m {
      // Column blocks of C (multiples of 16 wide) need the matching columns of op(B). The
      // share is rounded up before the block is: from n / threads, 289 columns over 2 threads
      // made two blocks of 144 and left the last column unwritten.
      let block = ((n + threads - 1) / threads + 15) / 16 * 16
      Parallel.run(threads) { t in
        let start = t * block
        guard start < n else { return }
        let width = min(block, n - start)
        let bBlock = transposeB ? b + start * ldb : b + start
        sgemm(transposeA, transposeB, m, width, k, alpha, a, lda, bBlock, ldb, beta, c + start, ldc)
      }
    } else {
      // Row blocks of C need the matching rows of op(A).
      let block = (m + threads - 1) / threads
      Parallel.run(threads) { t in
        let start = t * block
        guard start < m else { return }
        let height = min(block, m - start)
        let aBlock = transposeA ? a + start : a + start * lda
        sgemm(
          transposeA, transposeB, height, n, k, alpha, aBlock, lda, b, ldb, beta,
          c + start * ldc, ldc)
      }
    }
  }

  /// `gemm` on the calling thread only, for kernels that already run one task per core.
  /// Never split: a product called from inside a `Parallel` loop must not start threads.
  static func serialGemm(
    transposeA: Bool = false, transposeB: Bool = false, m: Int, n: Int, k: Int,
    alpha: Float = 1, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
    beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
  ) {
    guard m > 0, n > 0 else { return }
    _ = singleThreaded
    sgemm(transposeA, transposeB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
  }

  @inline(__always)
  private static func sgemm(
    _ transposeA: Bool, _ transposeB: Bool, _ m: Int, _ n: Int, _ k: Int, _ alpha: Float,
    _ a: UnsafePointer<Float>, _ lda: Int, _ b: UnsafePointer<Float>, _ ldb: Int, _ beta: Float,
    _ c: UnsafeMutablePointer<Float>, _ ldc: Int
  ) {
    SanitizerHooks.access(
      a, rows: transposeA ? k : m, columns: transposeA ? m : k, stride: lda, writes: false)
    SanitizerHooks.access(
      b, rows: transposeB ? n : k, columns: transposeB ? k : n, stride: ldb, writes: false)
    SanitizerHooks.access(c, rows: m, columns: n, stride: ldc, writes: true)
    cblas_sgemm(
      CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
      Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
  }
}
