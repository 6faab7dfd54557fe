import ArgumentParser
@preconcurrency import Foundation
import Zoo
import ZooData
import ZooMPI
import ZooNN
import ZooTensor

/// The options of a data-parallel run.
struct DataParallelArguments: ParsableArguments {
  @Flag(
    help:
      "Train data-parallel over MPI, one rank per process; on by itself under mpirun. --batch-size is the global batch, split over the ranks."
  )
  var distributed = false

  @Flag(
    help:
      "Data-parallel: batch norm takes its statistics over the whole global batch, as one process would, instead of each rank's shard."
  )
  var syncBn = false
}

/// This process's part in a data-parallel run over MPI: every rank trains on its shard of each
/// global batch; rank 0 alone prints and writes files.
struct DataParallelRun {
  let group: MPIGroup
  let syncBatchNorm: Bool

  var isRoot: Bool { group.rank == 0 }

  /// Runs `body` with the run when started by mpirun (or asked to with --distributed), else
  /// with nil. A rank that fails prints its error and ends the job (MPI_Abort), so the others
  /// stop instead of waiting for it; mpirun then exits with status 1.
  static func running(
    _ arguments: DataParallelArguments, _ body: (DataParallelRun?) throws -> Void
  ) throws {
    try running(distributed: arguments.distributed, syncBatchNorm: arguments.syncBn, body)
  }

  static func running(
    distributed: Bool, syncBatchNorm: Bool, _ body: (DataParallelRun?) throws -> Void
  ) throws {
    guard distributed || MPIGroup.isLaunchedByLauncher else {
      guard !syncBatchNorm else {
        throw ValidationErrorLine(
          message:
            "--sync-bn needs a data-parallel run: start zoo with mpirun, or add --distributed")
      }
      return try body(nil)
    }
    let group = try MPIGroup()
    RankTermination.install(rank: group.rank, size: group.size)
    // The ranks on one host share its cores, unless ZOO_THREADS says otherwise.
    if ProcessInfo.processInfo.environment["ZOO_THREADS"] == nil {
      let threads = max(
        1, ProcessInfo.processInfo.activeProcessorCount / MPIGroup.ranksOnThisHost)
      Parallel.threadCount = threads
    }
    if group.rank != 0 {
      _ = freopen("/dev/null", "w", stdout)
      ProgressBar.isSilent = true
    }
    print(
      "data-parallel over \(group.size) ranks, \(Parallel.threadCount) threads each\(syncBatchNorm ? ", synchronised batch norm" : "")"
    )
    do {
      try body(DataParallelRun(group: group, syncBatchNorm: syncBatchNorm))
    } catch let exit as ExitCode {
      // Ctrl-C: every rank stopped after the same step.
      group.finish()
      throw exit
    } catch {
      FileHandle.standardError.write(
        Data("Error: rank \(group.rank) of \(group.size): \(Train.message(for: error))\n".utf8))
      group.abort(status: 1)
    }
    group.finish()
  }

  /// Makes `trainer` one member of the run: rank 0's parameters and optimiser state on every
  /// rank, each global batch of `batches` split over the ranks, batch norm synchronised when
  /// asked.
  func join(_ trainer: ClassifierTrainer, batches: some ExampleSource) throws {
    try join(
      model: trainer.model, optimizer: trainer.optimizer, examples: batches.count,
      batchSize: batches.batchSize)
    trainer.replicas = group
  }

  /// Rank 0's parameters and optimiser state on every rank, after checking that every batch
  /// of an epoch of `examples` gives every rank a part; batch norm synchronised when asked.
  func join(model: Module, optimizer: Optimizer, examples: Int, batchSize: Int) throws {
    try checkBatches(examples, batchSize: batchSize)
    try model.broadcastState(over: group)
    try optimizer.broadcastState(over: group)
    model.synchronizeBatchNorm(over: syncBatchNorm ? group : nil)
  }

  /// Throws unless every batch of an epoch of `count` examples gives every rank an example.
  func checkBatches(_ count: Int, batchSize: Int) throws {
    let last = count % batchSize
    let smallest = last == 0 ? batchSize : last
    guard smallest >= group.size else {
      throw ValidationErrorLine(
        message:
          "each of the \(group.size) ranks needs a part of every batch; the smallest batch (the last of an epoch of \(count) examples at --batch-size \(batchSize)) has \(smallest) examples"
      )
    }
  }

  /// Prints the training throughput of an epoch of `images` that took `seconds` to train, and
  /// what averaging the gradients cost in it.
  func reportReduction(of trainer: ClassifierTrainer, images: Int, seconds: Double) {
    let (reduced, steps, buckets) = trainer.reduction
    guard steps > 0 else { return }
    print(
      String(
        format:
          "training: %.0f images/s; gradient allreduce: %d bucket%@, %.2f ms per step, %.1f%% of the training time",
        Double(images) / seconds, buckets, buckets == 1 ? "" : "s", 1000 * reduced / Double(steps),
        100 * reduced / seconds))
  }

  /// Every rank's `value`, by rank.
  func gathered<Value: Codable>(_ value: Value) throws -> [Value] {
    let mine = Array(try JSONEncoder().encode(value))
    return try (0..<group.size).map { root in
      try JSONDecoder().decode(
        Value.self, from: Data(try group.broadcast(root == group.rank ? mine : [], from: root)))
    }
  }

  /// `read()` on rank 0 (which holds the files), its value on every rank.
  func shared<Value: Codable>(_ read: () throws -> Value) throws -> Value {
    var bytes: [UInt8] = []
    var failure: Error?
    if isRoot {
      do {
        bytes = Array(try JSONEncoder().encode(read()))
      } catch {
        failure = error
      }
    }
    bytes = try group.broadcast(bytes, from: 0)
    if let failure { throw failure }
    guard !bytes.isEmpty else {
      throw ValidationErrorLine(
        message: "rank 0 could not read what this rank needs (see its error)")
    }
    return try JSONDecoder().decode(Value.self, from: Data(bytes))
  }
}
