import Foundation

extension EpochBatches {
  /// The same batches, each assembled (gathered, augmented, normalised) on a background
  /// thread while the previous one is in use; at most `depth` finished batches wait. The
  /// result equals iterating directly: every batch is a pure function of the epoch.
  public func prefetched(depth: Int = 2) -> PrefetchedBatches {
    precondition(depth >= 1, "prefetch depth must be at least 1, got \(depth)")
    return PrefetchedBatches(epoch: self, depth: depth)
  }
}

/// An epoch's batches served from a bounded queue filled by a background thread.
public struct PrefetchedBatches: Sequence, Sendable {
  public let epoch: EpochBatches
  public let depth: Int

  /// Starts the background thread; it stops at the end of the epoch or when the iterator is
  /// released.
  public func makeIterator() -> Iterator {
    Iterator(epoch: epoch, depth: depth)
  }

  public final class Iterator: IteratorProtocol {
    private let queue: BatchQueue
    private let count: Int
    private var taken = 0

    init(epoch: EpochBatches, depth: Int) {
      count = epoch.count
      queue = BatchQueue(depth: depth)
      let queue = self.queue
      let thread = Thread {
        for index in 0..<epoch.count {
          guard !queue.isCancelled, queue.put(epoch[index]) else { return }
        }
      }
      thread.name = "zoo.prefetch"
      thread.start()
    }

    deinit { queue.cancel() }

    public func next() -> Batch? {
      guard taken < count else { return nil }
      taken += 1
      return queue.take()
    }
  }
}

/// A first-in first-out queue of at most `depth` batches between one producer and one consumer.
final class BatchQueue: @unchecked Sendable {
  private let condition = NSCondition()
  private var batches: [Batch] = []
  private var cancelled = false
  private let depth: Int

  init(depth: Int) {
    self.depth = depth
  }

  var isCancelled: Bool {
    condition.lock()
    defer { condition.unlock() }
    return cancelled
  }

  /// Waits for room and appends; false when the consumer has gone.
  func put(_ batch: Batch) -> Bool {
    condition.lock()
    defer { condition.unlock() }
    while batches.count >= depth && !cancelled { condition.wait() }
    guard !cancelled else { return false }
    batches.append(batch)
    condition.broadcast()
    return true
  }

  /// Waits for a batch and removes it.
  func take() -> Batch {
    condition.lock()
    defer { condition.unlock() }
    while batches.isEmpty { condition.wait() }
    let batch = batches.removeFirst()
    condition.broadcast()
    return batch
  }

  func cancel() {
    condition.lock()
    cancelled = true
    condition.broadcast()
    condition.unlock()
  }
}
