import Dispatch
import Foundation

/// Runs kernels over a batch on all cores. OpenBLAS runs single-threaded: inside these loops
/// only `BLAS.serialGemm` may be called, never the splitting `BLAS.gemm`, so threads never nest.
public enum Parallel {
  /// Cores to use; 1 runs everything on the calling thread.
  nonisolated(unsafe) public static var threadCount = ProcessInfo.processInfo.activeProcessorCount

  /// Calls `body(i)` for every `i` in `0..<count`, in parallel chunks when the total work
  /// (`count * costPerItem` scalar operations) is large enough to pay for the threads.
  public static func forEach(_ count: Int, costPerItem: Int = 1 << 16, _ body: (Int) -> Void) {
    let threads = min(threadCount, count)
    if threads <= 1 || count * costPerItem < 1 << 15 {
      for i in 0..<count { body(i) }
      return
    }
    // Each index is visited by exactly one thread; the caller's buffers outlive the call.
    nonisolated(unsafe) let work = body
    DispatchQueue.concurrentPerform(iterations: threads) { chunk in
      let start = count * chunk / threads
      let end = count * (chunk + 1) / threads
      for i in start..<end { work(i) }
    }
  }

  /// Splits `0..<count` into one contiguous range per thread, for element-wise kernels.
  public static func forRanges(_ count: Int, _ body: (Range<Int>) -> Void) {
    let threads = count >= 1 << 16 ? threadCount : 1
    if threads <= 1 {
      body(0..<count)
      return
    }
    nonisolated(unsafe) let work = body
    DispatchQueue.concurrentPerform(iterations: threads) { chunk in
      work((count * chunk / threads)..<(count * (chunk + 1) / threads))
    }
  }
}
