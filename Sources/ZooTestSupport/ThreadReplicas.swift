import Foundation
import ZooTensor

/// A replica group whose members are threads of one process, for tests of data-parallel code
/// without MPI. `run(size:)` starts one thread per member and waits for all of them.
public final class ThreadReplicas: ReplicaGroup, @unchecked Sendable {
  public let rank: Int
  public let size: Int
  private let shared: Rendezvous

  private init(rank: Int, size: Int, shared: Rendezvous) {
    (self.rank, self.size, self.shared) = (rank, size, shared)
  }

  /// Runs `body` on `size` threads, each with its member; returns their results by rank.
  /// The threads end before this returns, so `body` may use the caller's values.
  public static func run<T>(size: Int, _ body: @escaping (ThreadReplicas) throws -> T) throws
    -> [T]
  {
    let shared = Rendezvous(size: size)
    let results = Results<T>(count: size)
    nonisolated(unsafe) let body = body
    let group = DispatchGroup()
    for rank in 0..<size {
      let member = ThreadReplicas(rank: rank, size: size, shared: shared)
      group.enter()
      Thread {
        results.set(rank, Result { try body(member) })
        group.leave()
      }.start()
    }
    group.wait()
    return try results.values.map { try $0!.get() }
  }

  public func sum(_ values: UnsafeMutableBufferPointer<Float>) throws {
    let total = shared.combine(values.map(Double.init)) { zip($0, $1).map(+) }
    for i in values.indices { values[i] = Float(total[i]) }
  }

  public func sum(_ values: UnsafeMutableBufferPointer<Double>) throws {
    let total = shared.combine(Array(values)) { zip($0, $1).map(+) }
    for i in values.indices { values[i] = total[i] }
  }

  public func broadcast(_ bytes: UnsafeMutableRawBufferPointer, from root: Int) throws {
    let mine = rank == root ? bytes.map(Double.init) : []
    let root = shared.combine(mine) { $0.isEmpty ? $1 : $0 }
    for i in bytes.indices { bytes[i] = UInt8(root[i]) }
  }
}

/// Members meet here; the last to arrive publishes the combined value to the others.
private final class Rendezvous: @unchecked Sendable {
  private let condition = NSCondition()
  private let size: Int
  private var arrived = 0
  private var partial: [Double] = []
  private var result: [Double] = []
  private var generation = 0

  init(size: Int) { self.size = size }

  func combine(_ values: [Double], _ merge: ([Double], [Double]) -> [Double]) -> [Double] {
    condition.lock()
    defer { condition.unlock() }
    partial = arrived == 0 ? values : merge(partial, values)
    arrived += 1
    let mine = generation
    if arrived == size {
      (result, arrived, generation) = (partial, 0, generation + 1)
      condition.broadcast()
    } else {
      while generation == mine { condition.wait() }
    }
    return result
  }
}

private final class Results<T>: @unchecked Sendable {
  private let lock = NSLock()
  private(set) var values: [Result<T, Error>?]
  init(count: Int) { values = Array(repeating: nil, count: count) }
  func set(_ index: Int, _ value: Result<T, Error>) { lock.withLock { values[index] = value } }
}
