import Foundation
import ZooTensor

/// Averages gradients over the members of a data-parallel run. The gradients are packed into
/// fused buckets of about `bucketBytes`, in the order of `parameters` (which every member
/// shares), so a few large reductions replace one per tensor and every member issues them in
/// the same order.
public final class GradientAverager {
  public let group: ReplicaGroup
  private let parameters: [Tensor]
  /// Ranges of `parameters`, one per bucket.
  public let buckets: [Range<Int>]
  /// Seconds each bucket's reduction took in the last `average()`.
  public private(set) var lastReductionSeconds: [Double] = []
  private var buffer: [Float]

  public init(parameters: [Tensor], group: ReplicaGroup, bucketBytes: Int = 4 << 20) {
    self.group = group
    self.parameters = parameters
    var buckets: [Range<Int>] = []
    var start = 0
    var bytes = 0
    for (index, parameter) in parameters.enumerated() {
      bytes += 4 * parameter.count
      if bytes >= bucketBytes || index == parameters.count - 1 {
        buckets.append(start..<(index + 1))
        (start, bytes) = (index + 1, 0)
      }
    }
    self.buckets = buckets
    let largest = buckets.map { parameters[$0].reduce(0) { $0 + $1.count } }.max() ?? 0
    buffer = [Float](repeating: 0, count: largest)
  }

  /// Replaces each parameter's gradient by its mean over the members. A parameter without a
  /// gradient counts as zeros and is left without one (the members run the same graph, so it
  /// has none on any member).
  public func average() throws {
    let scale = 1 / Float(group.size)
    lastReductionSeconds = []
    for bucket in buckets {
      var offset = 0
      for parameter in parameters[bucket] {
        let count = parameter.count
        if let grad = parameter.grad {
          buffer.replaceSubrange(offset..<(offset + count), with: grad.scalars)
        } else {
          for i in offset..<(offset + count) { buffer[i] = 0 }
        }
        offset += count
      }
      let started = DispatchTime.now().uptimeNanoseconds
      try buffer.withUnsafeMutableBufferPointer {
        try group.sum(UnsafeMutableBufferPointer(rebasing: $0[0..<offset]))
      }
      lastReductionSeconds.append(
        Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9)
      offset = 0
      for parameter in parameters[bucket] {
        let count = parameter.count
        if let grad = parameter.grad {
          for i in 0..<count { grad.scalars[i] = buffer[offset + i] * scale }
        }
        offset += count
      }
    }
  }
}

extension Module {
  /// Makes every batch norm below this module share its batch statistics with `group` (nil:
  /// each member keeps its own).
  public func synchronizeBatchNorm(over group: ReplicaGroup?) {
    for (_, module) in namedModules() {
      (module as? BatchNorm)?.replicas = group
    }
  }

  /// Copies member `root`'s parameters and buffers into every member's model.
  public func broadcastState(from root: Int = 0, over group: ReplicaGroup) throws {
    let state = stateDict().map(\.tensor)
    var values = state.flatMap(\.scalars)
    try group.checkSameCount(values.count, of: "number of model values")
    try group.broadcast(&values, from: root)
    var offset = 0
    for tensor in state {
      tensor.scalars = Array(values[offset..<(offset + tensor.count)])
      offset += tensor.count
    }
  }
}

extension Optimizer {
  /// Copies member `root`'s optimiser state (momentum buffers, moments, step count) to every
  /// member.
  public func broadcastState(from root: Int = 0, over group: ReplicaGroup) throws {
    let bytes = try group.broadcast(
      group.rank == root ? OptimizerStateBytes.encode(stateTensors(), step: stepCount) : [],
      from: root)
    let (state, step) = OptimizerStateBytes.decode(bytes)
    restoreState(state, step: step)
  }
}

/// Optimiser state as bytes, in the byte order of the members (they run on one kind of
/// machine): the step count, then for each tensor its path's length, the path, the value count
/// and the values.
enum OptimizerStateBytes {
  static func encode(_ state: [(path: String, values: [Float])], step: Int) -> [UInt8] {
    var bytes: [UInt8] = []
    func append(_ count: Int) { withUnsafeBytes(of: Int64(count)) { bytes += $0 } }
    append(step)
    for (path, values) in state {
      append(path.utf8.count)
      bytes += path.utf8
      append(values.count)
      values.withUnsafeBytes { bytes += $0 }
    }
    return bytes
  }

  static func decode(_ bytes: [UInt8]) -> (state: [(path: String, values: [Float])], step: Int) {
    var offset = 0
    func count() -> Int {
      defer { offset += 8 }
      return Int(bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset, as: Int64.self) })
    }
    let step = count()
    var state: [(path: String, values: [Float])] = []
    while offset < bytes.count {
      let length = count()
      let path = String(decoding: bytes[offset..<(offset + length)], as: UTF8.self)
      offset += length
      let values = [Float](unsafeUninitializedCapacity: count()) { buffer, initialized in
        bytes.withUnsafeBytes {
          UnsafeMutableRawBufferPointer(buffer).copyMemory(
            from: UnsafeRawBufferPointer(rebasing: $0[offset..<(offset + 4 * buffer.count)]))
        }
        initialized = buffer.count
      }
      offset += 4 * values.count
      state.append((path, values))
    }
    return (state, step)
  }
}
