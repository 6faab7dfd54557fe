import Foundation
import Testing
import Zoo
import ZooIO
import ZooTensor

/// `zoo train` under `mpirun -np 2` on this machine (loopback). Open MPI comes with
/// Tools/install-deps; without mpirun these tests fail rather than skip.
@Suite(.serialized) struct DataParallelTests {
  static let mpirun = [
    "/usr/bin/mpirun", "--allow-run-as-root", "--oversubscribe", "-np", "2", "-x", "ZOO_THREADS=1",
  ]

  static func train(_ arguments: [String], ranks: Bool, in folder: URL) throws -> ZooProcess {
    try #require(
      FileManager.default.isExecutableFile(atPath: mpirun[0]),
      "mpirun is missing: install Open MPI (Tools/install-deps)")
    return try ZooProcess(["train"] + arguments, in: folder, launcher: ranks ? mpirun : [])
  }

  /// Trains with `arguments` in one process and over two ranks; returns both weight files.
  static func trainBothWays(
    _ arguments: [String], rankOptions: [String] = [], in given: URL? = nil
  ) throws -> (one: [String: Tensor], two: [String: Tensor]) {
    let folder = try given ?? Self.temporaryFolder()
    defer { if given == nil { try? FileManager.default.removeItem(at: folder) } }
    for (name, ranks) in [("one", false), ("two", true)] {
      let run = try train(
        arguments + (ranks ? rankOptions : []) + ["--out", "\(name).h5"], ranks: ranks, in: folder
      ).wait(timeout: 300)
      try #require(run.status == 0, "\(name): \(run.stderr)")
    }
    return try (weights(folder, "one"), weights(folder, "two"))
  }

  static func weights(_ folder: URL, _ name: String) throws -> [String: Tensor] {
    try WeightFile.read(contentsOf: folder.appendingPathComponent("\(name).h5")).tensors
  }

  /// A fresh folder for one test's files; the test removes it when it ends.
  static func temporaryFolder() throws -> URL {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
      "zoo-mpi-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    return folder
  }

  /// The largest difference of any tensor, relative to that tensor's largest value.
  static func worstDifference(_ a: [String: Tensor], _ b: [String: Tensor]) -> Float {
    a.map { path, tensor in
      let other = b[path]!.scalars
      let scale = max(tensor.scalars.map(abs).max() ?? 0, 1e-12)
      return zip(tensor.scalars, other).map { abs($0 - $1) }.max()! / scale
    }.max()!
  }

  /// |a - b| / |a| over every value of every tensor.
  static func overallDifference(_ a: [String: Tensor], _ b: [String: Tensor]) -> Double {
    var (difference, norm) = (0.0, 0.0)
    for (path, tensor) in a {
      for (x, y) in zip(tensor.scalars, b[path]!.scalars) {
        difference += Double(x - y) * Double(x - y)
        norm += Double(x) * Double(x)
      }
    }
    return (difference / norm).squareRoot()
  }

  static let lenet = [
    "lenet5", "--data", "fashion-mnist:0-1", "--shots", "400", "--batch-size", "16",
  ]

  @Test func twoRanksOfLeNetEqualOneProcessWithTheGlobalBatch() throws {
    // 800 examples in batches of 16: 50 steps, 8 examples per rank.
    let (one, two) = try Self.trainBothWays(Self.lenet + ["--epochs", "1"])
    #expect(one.keys.sorted() == two.keys.sorted())
    #expect(Self.worstDifference(one, two) < 1e-5)
  }

  /// One step of 16 examples, 8 per rank: summation order is the only difference, and
  /// synchronised batch norm is what makes it so. No per-tensor bound: after one step a batch
  /// norm's shift is a sum of its output gradients that nearly cancel (2e-4 of terms of order
  /// 1), so it carries their rounding a thousandfold; with GEMM kernels whose rounding depends
  /// on the number of columns (OpenBLAS's AVX2 ones) a shift measured 8e-3 of itself apart.
  @Test func twoRanksOfResNetWithSynchronisedBatchNormTakeTheSameStep() throws {
    let arguments = [
      "resnet20", "--data", "fashion-mnist:0-1", "--shots", "8", "--batch-size", "16",
      "--epochs", "1",
    ]
    let folder = try Self.temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let (one, two) = try Self.trainBothWays(arguments, rankOptions: ["--sync-bn"], in: folder)
    let run = try Self.train(arguments + ["--out", "unsynchronised.h5"], ranks: true, in: folder)
      .wait(timeout: 300)
    try #require(run.status == 0, "unsynchronised: \(run.stderr)")
    let unsynchronised = try Self.weights(folder, "unsynchronised")
    let synchronisedGap = Self.overallDifference(one, two)
    let unsynchronisedGap = Self.overallDifference(one, unsynchronised)
    #expect(synchronisedGap < 1e-5, "\(synchronisedGap)")
    #expect(synchronisedGap < unsynchronisedGap / 100, "\(synchronisedGap), \(unsynchronisedGap)")
  }

  /// From scratch, resnet20's trajectory amplifies float rounding: raising the learning rate
  /// by one float step (0.001 to 0.0010000002, 1.6e-7 of itself) moves one process's weights
  /// after 50 steps by about 5e-3 (relative norm; 4e-10 after one step). Two ranks, which
  /// differ from one process only in the order of the batch's sums, must stay within that
  /// noise of one process; without synchronised batch norm they land several times as far.
  @Test func twoRanksOfResNetWithSynchronisedBatchNormFollowOneProcess() throws {
    let arguments = [
      "resnet20", "--data", "fashion-mnist:0-1", "--shots", "200", "--batch-size", "8",
      "--epochs", "1",
    ]
    let folder = try Self.temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    for (name, lr, ranks) in [
      ("one", "0.001", false), ("nudged", "0.0010000002", false), ("two", "0.001", true),
    ] {
      let run = try Self.train(
        arguments + ["--lr", lr, "--out", "\(name).h5"] + (ranks ? ["--sync-bn"] : []),
        ranks: ranks, in: folder
      ).wait(timeout: 300)
      try #require(run.status == 0, "\(name): \(run.stderr)")
    }
    let one = try Self.weights(folder, "one")
    let noise = Self.overallDifference(one, try Self.weights(folder, "nudged"))
    let ranks = Self.overallDifference(one, try Self.weights(folder, "two"))
    #expect(ranks < 2 * noise, "two ranks \(ranks), nudged learning rate \(noise)")
  }

  @Test func twoRanksFineTuneAsOneProcess() throws {
    let folder = try Self.temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    var summaries: [String] = []
    for (name, ranks) in [("one", false), ("two", true)] {
      let run = try ZooProcess(
        [
          "finetune", "--shots", "10", "--epochs", "2", "--unfreeze-epochs", "1", "--out",
          "\(name).h5",
        ]
          + (ranks ? ["--sync-bn"] : []), in: folder, launcher: ranks ? Self.mpirun : []
      ).wait(timeout: 300)
      try #require(run.status == 0, "\(name): \(run.stderr)")
      summaries.append(
        run.stdout.split(separator: "\n").first { $0.hasPrefix("best:") }.map(String.init) ?? "")
    }
    #expect(!summaries[0].isEmpty && summaries[0] == summaries[1])
    #expect(
      Self.worstDifference(try Self.weights(folder, "one"), try Self.weights(folder, "two")) < 1e-5)
  }

  /// The draws spread over the ranks give the table and runs of one process (times aside).
  @Test func transferBenchOverTwoRanksGivesOneProcesssTable() throws {
    let folder = try Self.temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    var tables: [String] = []
    var runs: [[[String: String]]] = []
    for (name, ranks) in [("one", false), ("two", true)] {
      let run = try ZooProcess(
        [
          "transfer-bench", "--shots", "3", "--seeds", "0,1", "--arms", "head", "--epochs", "3",
          "--json", "\(name).json",
        ], in: folder, launcher: ranks ? Self.mpirun : []
      ).wait(timeout: 300)
      try #require(run.status == 0, "\(name): \(run.stderr)")
      // The table without the times of the runs.
      tables.append(
        run.stdout.split(separator: "\n").filter { $0.hasPrefix("|") }
          .map { $0.replacing(/\s\([0-9.]+ s\)/, with: "") }.joined(separator: "\n"))
      let report = try JSONSerialization.jsonObject(
        with: Data(contentsOf: folder.appendingPathComponent("\(name).json")))
      let entries = try #require((report as? [String: Any])?["runs"] as? [[String: Any]])
      runs.append(
        entries.map { $0.filter { $0.key != "seconds" }.mapValues { "\($0)" } })
    }
    #expect(tables[0].contains("| 3 |") && tables[0] == tables[1], "\(tables)")
    #expect(runs[0].count == 2 && runs[0] == runs[1], "\(runs)")
  }

  /// U-Net training with cross-entropy and Dice, 4 steps of 4 (2 per rank): Dice is taken over
  /// the whole global batch, so two ranks follow one process (4.0e-7 against one process on
  /// two threads, 4.0e-8 on one; without --sync-bn 1.3e-2). Plain SGD: Adam's first steps divide near-zero gradients by their own size,
  /// which turns rounding into whole steps (3.4e-6 after one).
  @Test func twoRanksOfUNetTrainAsOneProcess() throws {
    let folder = try Self.temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let data = folder.appendingPathComponent("data")
    for (split, indices) in [("train", 0..<8), ("val", 8..<10)] {
      for i in indices {
        let (image, mask) = SegmentationCommandTests.scene(i, binary: true)
        let name = String(format: "s%02d.png", i)
        try SegmentationCommandTests.writePNG(
          image, to: data.appendingPathComponent("\(split)/images/\(name)"))
        try SegmentationCommandTests.writePNG(
          mask, to: data.appendingPathComponent("\(split)/masks/\(name)"))
      }
    }
    let (one, two) = try Self.trainBothWays(
      [
        "unet-tiny", "--data", "folder:\(data.path)", "--batch-size", "4", "--epochs", "2",
        "--lr", "0.01",
      ], rankOptions: ["--sync-bn"], in: folder)
    #expect(one.keys.sorted() == two.keys.sorted())
    #expect(Self.overallDifference(one, two) < 1e-6, "\(Self.overallDifference(one, two))")
  }

  @Test func synchronisedBatchNormOutsideAJobIsOneLine() throws {
    let result = try ZooProcess.run(["train", "lenet5", "--sync-bn"])
    #expect(result.status == 1)
    #expect(
      result.stderr
        == "Error: --sync-bn needs a data-parallel run: start zoo with mpirun, or add --distributed\n"
    )
  }

  /// A rank killed from outside ends the job in one line; Ctrl-C on mpirun (which ends the
  /// ranks) ends the resumed job; each time the checkpoint stays, and the second resume
  /// finishes with the uninterrupted run's weights.
  @Test func aKilledRankOrCtrlCStopsTheJobAndResumeFinishes() throws {
    let folder = try Self.temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    // Epochs of about 50 ms: 12 left a resumed job time to finish before the Ctrl-C came.
    let arguments = Self.lenet + ["--epochs", "60", "--seed", "5", "--out", "run.h5"]
    let checkpoint = folder.appendingPathComponent("run.checkpoint.json")
    let job = try Self.train(arguments, ranks: true, in: folder)
    ResumeCommandTests.waitFor("the first epoch's checkpoint", timeout: 120) {
      FileManager.default.fileExists(atPath: checkpoint.path) || !job.process.isRunning
    }
    let rank = try #require(Self.rank(1, under: job.process.processIdentifier))
    kill(rank, SIGTERM)
    let killed = job.wait(timeout: 60)
    #expect((1...127).contains(killed.status) && !killed.signalled, "\(killed.status)")
    #expect(killed.stderr.contains("Error: rank 1 of 2 was terminated"), "\(killed.stderr)")
    #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("run.h5").path))
    let saved = try TrainingCheckpoint.read(contentsOf: checkpoint).completedEpochs
    #expect(saved >= 1)

    // Ctrl-C once the resumed job has written a checkpoint of its own.
    let written = Self.modified(checkpoint)
    // mpirun inherits the test runner's ignored SIGINT unless reset, as a shell would.
    let resumedJob = try ZooProcess(
      ["train"] + arguments + ["--resume"], in: folder,
      launcher: ["/usr/bin/env", "--default-signal=INT"] + Self.mpirun)
    ResumeCommandTests.waitFor("the resumed job's checkpoint", timeout: 120) {
      Self.modified(checkpoint) != written || !resumedJob.process.isRunning
    }
    let ranks = (0..<2).compactMap { Self.rank($0, under: resumedJob.process.processIdentifier) }
    kill(resumedJob.process.processIdentifier, SIGINT)
    let interrupted = resumedJob.wait(timeout: 60)
    ResumeCommandTests.waitFor("the ranks to end", timeout: 10) {
      ranks.allSatisfy { kill($0, 0) != 0 }
    }
    #expect(interrupted.stdout.contains("resuming at epoch \(saved + 1)"))
    #expect(
      (1...127).contains(interrupted.status) && !interrupted.signalled, "\(interrupted.status)")
    #expect(ranks.count == 2)
    #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("run.h5").path))
    let later = try TrainingCheckpoint.read(contentsOf: checkpoint).completedEpochs
    #expect(later > saved)

    let resumed = try Self.train(arguments + ["--resume"], ranks: true, in: folder).wait(
      timeout: 300)
    #expect(resumed.status == 0, "\(resumed.stderr)")
    #expect(resumed.stdout.contains("resuming at epoch \(later + 1)"))
    // The same run without the interruptions gives the same weights bit for bit.
    let whole = try Self.train(
      Self.lenet + ["--epochs", "60", "--seed", "5", "--out", "whole.h5"], ranks: true, in: folder
    ).wait(timeout: 300)
    try #require(whole.status == 0, "\(whole.stderr)")
    let (run, uninterrupted) = try (Self.weights(folder, "run"), Self.weights(folder, "whole"))
    #expect(run.keys.sorted() == uninterrupted.keys.sorted())
    for (path, tensor) in run {
      #expect(tensor.scalars.map(\.bitPattern) == uninterrupted[path]?.scalars.map(\.bitPattern))
    }
  }

  /// When `file` was last written, in nanoseconds (nil when it does not exist).
  static func modified(_ file: URL) -> Int? {
    var status = stat()
    guard stat(file.path, &status) == 0 else { return nil }
    return status.st_mtim.tv_sec * 1_000_000_000 + status.st_mtim.tv_nsec
  }

  /// The process of rank `rank` among the children of mpirun `launcher`.
  static func rank(_ rank: Int, under launcher: Int32) -> Int32? {
    let processes = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    return processes.compactMap(Int32.init).first { pid in
      guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
        status.contains("PPid:\t\(launcher)\n"),
        let environment = FileManager.default.contents(atPath: "/proc/\(pid)/environ")
      else { return false }
      return environment.split(separator: 0).contains(
        Array("OMPI_COMM_WORLD_RANK=\(rank)".utf8)[...])
    }
  }
}
