/// The processes of a data-parallel run, each holding a replica of the model and a shard of
/// every batch. Every member makes the same calls in the same order: each call is a
/// collective operation that returns once all members have made it. Implemented over MPI by
/// the `ZooMPI` target; the tensor library only needs the sums.
public protocol ReplicaGroup: AnyObject {
  /// This process's place in the group, from 0.
  var rank: Int { get }
  /// Processes in the group.
  var size: Int { get }
  /// Replaces `values` on every member by their element-wise sum over the members.
  func sum(_ values: UnsafeMutableBufferPointer<Float>) throws
  /// The same in Double (batch statistics).
  func sum(_ values: UnsafeMutableBufferPointer<Double>) throws
  /// Copies `bytes` of member `root` into `bytes` of every other member (same count on all).
  func broadcast(_ bytes: UnsafeMutableRawBufferPointer, from root: Int) throws
}

extension ReplicaGroup {
  /// `values` summed over the members.
  public func sum(_ values: [Double]) throws -> [Double] {
    var result = values
    try result.withUnsafeMutableBufferPointer { try sum($0) }
    return result
  }
}

/// A data-parallel run whose members disagree about what they hold.
public struct ReplicaMismatch: Error, Equatable, CustomStringConvertible {
  public let message: String
  public init(_ message: String) { self.message = message }
  public var description: String { message }
}

extension ReplicaGroup {
  /// `values` of member `root` on every member; every member passes the same count.
  public func broadcast(_ values: inout [Float], from root: Int) throws {
    try values.withUnsafeMutableBytes { try broadcast($0, from: root) }
  }

  /// The bytes of member `root` on every member; the others' `bytes` are ignored.
  public func broadcast(_ bytes: [UInt8], from root: Int) throws -> [UInt8] {
    var count = Int64(bytes.count)
    try withUnsafeMutableBytes(of: &count) { try broadcast($0, from: root) }
    var result = rank == root ? bytes : [UInt8](repeating: 0, count: Int(count))
    try result.withUnsafeMutableBytes { try broadcast($0, from: root) }
    return result
  }

  /// Throws unless every member passes the same `count`; `what` names it in the error.
  public func checkSameCount(_ count: Int, of what: String) throws {
    var counts = [Double](repeating: 0, count: size)
    counts[rank] = Double(count)
    counts = try sum(counts)
    if let other = counts.firstIndex(where: { $0 != counts[0] }) {
      throw ReplicaMismatch(
        "the ranks of a data-parallel run must hold the same \(what): rank 0 has \(Int(counts[0])), rank \(other) has \(Int(counts[other])); start every rank with the same options"
      )
    }
  }
}
