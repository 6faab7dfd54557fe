import CMPI
import Foundation
import ZooTensor

/// An MPI call that failed.
public struct MPIError: Error, Equatable, LocalizedError {
  public let operation: String
  public let rank: Int
  public let message: String

  public var errorDescription: String? {
    "rank \(rank): \(operation) failed: \(message); the data-parallel run cannot go on"
  }
}

/// The processes of `MPI_COMM_WORLD` as a replica group. Errors come back as `MPIError`
/// (`MPI_ERRORS_RETURN`) instead of ending the process; a failure is kept and thrown again
/// by every later call, so a failure inside a backward pass (which cannot throw) surfaces at
/// the next reduction.
public final class MPIGroup: ReplicaGroup {
  public let rank: Int
  public let size: Int
  private var failure: MPIError?

  /// Whether a launcher started this process as one rank of a job: Open MPI's mpirun sets
  /// `OMPI_COMM_WORLD_SIZE`, PMIx-based launchers (srun, MPICH's hydra) `PMIX_RANK` or
  /// `PMI_RANK`.
  public static var isLaunchedByLauncher: Bool {
    let environment = ProcessInfo.processInfo.environment
    return ["OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK"].contains { environment[$0] != nil }
  }

  /// Ranks of the job on this host, from Open MPI's environment (1 when unknown).
  public static var ranksOnThisHost: Int {
    ProcessInfo.processInfo.environment["OMPI_COMM_WORLD_LOCAL_SIZE"].flatMap(Int.init) ?? 1
  }

  /// Initialises MPI for calls from one thread (the one that trains; kernel threads never
  /// call MPI).
  public init() throws {
    var provided: Int32 = 0
    var code = MPI_Init_thread(nil, nil, zoo_mpi_thread_funneled(), &provided)
    guard code == MPI_SUCCESS else {
      throw MPIError(operation: "MPI_Init_thread", rank: -1, message: Self.describe(code))
    }
    MPI_Comm_set_errhandler(zoo_mpi_comm_world(), zoo_mpi_errors_return())
    var (rank, size): (Int32, Int32) = (0, 0)
    code = MPI_Comm_rank(zoo_mpi_comm_world(), &rank)
    if code == MPI_SUCCESS { code = MPI_Comm_size(zoo_mpi_comm_world(), &size) }
    guard code == MPI_SUCCESS else {
      throw MPIError(operation: "MPI_Comm_rank", rank: -1, message: Self.describe(code))
    }
    (self.rank, self.size) = (Int(rank), Int(size))
  }

  public func sum(_ values: UnsafeMutableBufferPointer<Float>) throws {
    try check("MPI_Allreduce") {
      MPI_Allreduce(
        zoo_mpi_in_place(), values.baseAddress, Int32(values.count), zoo_mpi_float(),
        zoo_mpi_sum(), zoo_mpi_comm_world())
    }
  }

  public func sum(_ values: UnsafeMutableBufferPointer<Double>) throws {
    try check("MPI_Allreduce") {
      MPI_Allreduce(
        zoo_mpi_in_place(), values.baseAddress, Int32(values.count), zoo_mpi_double(),
        zoo_mpi_sum(), zoo_mpi_comm_world())
    }
  }

  public func broadcast(_ bytes: UnsafeMutableRawBufferPointer, from root: Int) throws {
    try check("MPI_Bcast") {
      MPI_Bcast(
        bytes.baseAddress, Int32(bytes.count), zoo_mpi_byte(), Int32(root), zoo_mpi_comm_world())
    }
  }

  /// Ends MPI after a successful run; every rank must call it.
  public func finish() {
    MPI_Finalize()
  }

  /// Ends every rank of the job with `status` (mpirun then stops the others), for a rank
  /// that cannot go on: finishing normally would wait for ranks that wait for this one.
  public func abort(status: Int32) -> Never {
    MPI_Abort(zoo_mpi_comm_world(), status)
    exit(status)
  }

  private func check(_ operation: String, _ call: () -> Int32) throws {
    if let failure { throw failure }
    let code = call()
    guard code == MPI_SUCCESS else {
      failure = MPIError(operation: operation, rank: rank, message: Self.describe(code))
      throw failure!
    }
  }

  private static func describe(_ code: Int32) -> String {
    var text = [CChar](repeating: 0, count: Int(zoo_mpi_max_error_string()) + 1)
    var length: Int32 = 0
    MPI_Error_string(code, &text, &length)
    return String(decoding: text.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
  }
}
