import Dispatch
import Foundation
import Testing
import ZooTensor

/// The parallel loops visit every index exactly once, also when nested or called from
/// several threads at once (the pool serves one caller, the others run on their own thread).
@Suite(.serialized) struct ParallelTests {
  private func visits(_ count: Int, cost: Int = 1 << 16, nested: Bool = false) -> [Int] {
    var seen = [Int](repeating: 0, count: count)
    seen.withUnsafeMutableBufferPointer { seen in
      Parallel.forEach(count, costPerItem: cost) { i in
        if nested {
          var inner = [Int](repeating: 0, count: 8)
          inner.withUnsafeMutableBufferPointer { inner in
            Parallel.forEach(8, costPerItem: 1 << 16) { inner[$0] += 1 }
          }
          seen[i] += inner.reduce(0, +) == 8 ? 1 : 100
        } else {
          seen[i] += 1
        }
      }
    }
    return seen
  }

  @Test func forEachVisitsEveryIndexOnce() {
    for threads in [1, 2, 3, 5] {
      Parallel.$scopedThreadCount.withValue(threads) {
        for count in [0, 1, 2, 3, 7, 64, 129] {
          #expect(visits(count) == [Int](repeating: 1, count: count), "\(threads) threads")
          #expect(visits(count, nested: true) == [Int](repeating: 1, count: count))
        }
      }
    }
  }

  /// A scoped count holds for the kernels started in its scope, on the helpers too, and
  /// leaves the process's count, which other tests' kernels read meanwhile, as it was.
  @Test func scopedThreadCountReachesHelpersOnly() {
    let processCount = Parallel.threadCount
    let outside = processCount == 7 ? 6 : 7
    var seen = [Int](repeating: 0, count: 4)
    Parallel.$scopedThreadCount.withValue(outside) {
      seen.withUnsafeMutableBufferPointer { seen in
        Parallel.forEach(4, costPerItem: 1 << 20) { task in
          // Long enough that helpers claim tasks before the caller has run them all.
          usleep(20_000)
          seen[task] = Parallel.threadCount
        }
      }
    }
    #expect(seen == [Int](repeating: outside, count: 4))
    #expect(Parallel.threadCount == processCount)
  }

  @Test func concurrentCallersAllFinish() {
    var results = [Bool](repeating: false, count: 8)
    results.withUnsafeMutableBufferPointer { results in
      nonisolated(unsafe) let results = results
      DispatchQueue.concurrentPerform(iterations: 8) { caller in
        results[caller] = (0..<50).allSatisfy { _ in
          visits(33) == [Int](repeating: 1, count: 33)
        }
      }
    }
    #expect(results == [Bool](repeating: true, count: 8))
  }

  @Test func forRangesCoversTheRangeInOrder() {
    var chunks: [Range<Int>] = []
    let lock = NSLock()
    Parallel.forRanges(1 << 17) { range in lock.withLock { chunks.append(range) } }
    let sorted = chunks.sorted { $0.lowerBound < $1.lowerBound }
    #expect(sorted.first?.lowerBound == 0)
    #expect(sorted.last?.upperBound == 1 << 17)
    for (a, b) in zip(sorted, sorted.dropFirst()) { #expect(a.upperBound == b.lowerBound) }
  }
}
