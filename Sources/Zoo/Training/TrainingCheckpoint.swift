import Foundation
import ZooNN
import ZooTensor

/// How far into an epoch a run is: the steps taken and the running sums the epoch's mean loss
/// and accuracy come from.
public struct EpochPosition: Codable, Equatable, Sendable {
  /// Steps of the epoch already taken.
  public var step: Int
  public var lossSum: Double
  public var correct: Int
  public var seen: Int

  public init(step: Int = 0, lossSum: Double = 0, correct: Int = 0, seen: Int = 0) {
    self.step = step
    self.lossSum = lossSum
    self.correct = correct
    self.seen = seen
  }
}

/// Everything a training run needs to continue exactly where it stopped: weights and buffers,
/// optimiser state, the schedule's position, the model's random stream (dropout), the epoch and
/// step, and the log so far. Batch order and augmentation are functions of (seed, epoch,
/// example), so the seed and the position restore them.
///
/// Stored as JSON with each tensor as base64 little-endian float32, so values come back bit
/// for bit.
public struct TrainingCheckpoint: Codable, Equatable, Sendable {
  public static let formatVersion = 1

  public var formatVersion = Self.formatVersion
  public var architecture: String
  /// The settings the run was started with; a resumed run must be started with the same ones.
  public var settings: [String: String]
  public var seed: UInt64
  /// Epochs finished completely.
  public var completedEpochs: Int
  /// Where the next epoch stands: zero steps unless the run was interrupted mid-epoch.
  public var position: EpochPosition
  /// Optimiser steps taken; drives the learning-rate schedule.
  public var globalStep: Int
  public var optimizerSteps: Int
  /// The state of the random stream the model's dropout draws from.
  public var randomState: UInt64
  public var history: [EpochFigures]
  /// Seconds spent in earlier sessions of this run.
  public var elapsedSeconds: Double
  public var modelState: [NamedValues]
  public var optimizerState: [NamedValues]

  /// A tensor's values by path.
  public struct NamedValues: Codable, Equatable, Sendable {
    public var path: String
    public var shape: [Int]
    public var values: [Float]

    public init(path: String, shape: [Int], values: [Float]) {
      self.path = path
      self.shape = shape
      self.values = values
    }

    enum CodingKeys: String, CodingKey { case path, shape, values }

    public init(from decoder: Decoder) throws {
      let container = try decoder.container(keyedBy: CodingKeys.self)
      path = try container.decode(String.self, forKey: .path)
      shape = try container.decode([Int].self, forKey: .shape)
      let data = try container.decode(Data.self, forKey: .values)
      guard data.count == 4 * shape.reduce(1, *) else {
        throw DecodingError.dataCorruptedError(
          forKey: .values, in: container,
          debugDescription:
            "\(path): shape \(shape) needs \(4 * shape.reduce(1, *)) bytes, found \(data.count)")
      }
      values = data.withUnsafeBytes { raw in
        (0..<(data.count / 4)).map {
          Float(
            bitPattern: UInt32(
              littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self)))
        }
      }
    }

    public func encode(to encoder: Encoder) throws {
      var container = encoder.container(keyedBy: CodingKeys.self)
      try container.encode(path, forKey: .path)
      try container.encode(shape, forKey: .shape)
      var data = Data(capacity: 4 * values.count)
      for value in values {
        withUnsafeBytes(of: value.bitPattern.littleEndian) { data.append(contentsOf: $0) }
      }
      try container.encode(data, forKey: .values)
    }
  }

  /// A snapshot of `trainer`'s run.
  public init(
    trainer: ClassifierTrainer, architecture: String, settings: [String: String], seed: UInt64,
    completedEpochs: Int, position: EpochPosition, random: RandomStream,
    history: [EpochFigures], elapsedSeconds: Double
  ) {
    self.architecture = architecture
    self.settings = settings
    self.seed = seed
    self.completedEpochs = completedEpochs
    self.position = position
    globalStep = trainer.globalStep
    optimizerSteps = trainer.optimizer.stepCount
    randomState = random.state
    self.history = history
    self.elapsedSeconds = elapsedSeconds
    modelState = trainer.model.stateDict().map {
      NamedValues(path: $0.path, shape: $0.tensor.shape, values: $0.tensor.scalars)
    }
    optimizerState = trainer.optimizer.stateTensors().map {
      NamedValues(path: $0.path, shape: [$0.values.count], values: $0.values)
    }
  }

  /// Puts the snapshot back: weights, buffers, optimiser state, schedule position and the
  /// random stream. Checks every tensor's path and shape first, so a mismatch changes nothing.
  public func restore(into trainer: ClassifierTrainer, random: RandomStream) throws {
    let state = trainer.model.stateDict()
    let saved = Dictionary(modelState.map { ($0.path, $0) }, uniquingKeysWith: { a, _ in a })
    let missing = state.map(\.path).filter { saved[$0] == nil }
    let known = Set(state.map(\.path))
    let unexpected = modelState.map(\.path).filter { !known.contains($0) }
    guard missing.isEmpty, unexpected.isEmpty else {
      throw CheckpointError.tensorMismatch(missing: missing, unexpected: unexpected)
    }
    for (path, tensor) in state where saved[path]!.shape != tensor.shape {
      throw CheckpointError.shapeMismatch(
        path: path, expected: tensor.shape, found: saved[path]!.shape)
    }
    for (path, tensor) in state { tensor.scalars = saved[path]!.values }
    trainer.optimizer.restoreState(
      optimizerState.map { ($0.path, $0.values) }, step: optimizerSteps)
    trainer.restorePosition(globalStep: globalStep)
    random.reseed(randomState)
  }

  /// Writes the checkpoint to `url` through a temporary file and a rename.
  public func write(to url: URL) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    try writeAtomically(try encoder.encode(self), to: url)
  }

  public static func read(contentsOf url: URL) throws -> TrainingCheckpoint {
    let data: Data
    do {
      data = try Data(contentsOf: url)
    } catch {
      throw CheckpointError.unreadable(file: url.path, reason: error.localizedDescription)
    }
    let checkpoint: TrainingCheckpoint
    do {
      checkpoint = try JSONDecoder().decode(TrainingCheckpoint.self, from: data)
    } catch {
      throw CheckpointError.unreadable(
        file: url.path, reason: "not a training checkpoint (\(error))")
    }
    guard checkpoint.formatVersion == formatVersion else {
      throw CheckpointError.unreadable(
        file: url.path,
        reason: "format version \(checkpoint.formatVersion), this zoo reads \(formatVersion)")
    }
    return checkpoint
  }
}

public enum CheckpointError: Error, Equatable, LocalizedError {
  case unreadable(file: String, reason: String)
  case tensorMismatch(missing: [String], unexpected: [String])
  case shapeMismatch(path: String, expected: [Int], found: [Int])
  case settingsDiffer(file: String, differences: [String])

  public var errorDescription: String? {
    switch self {
    case .unreadable(let file, let reason):
      return "cannot resume from \(file): \(reason)"
    case .tensorMismatch(let missing, let unexpected):
      var parts: [String] = []
      if !missing.isEmpty { parts.append("missing \(missing.joined(separator: ", "))") }
      if !unexpected.isEmpty { parts.append("unexpected \(unexpected.joined(separator: ", "))") }
      return "the checkpoint does not fit the model: \(parts.joined(separator: "; "))"
    case .shapeMismatch(let path, let expected, let found):
      return
        "the checkpoint does not fit the model: \(path) is \(expected) in the model, \(found) in the checkpoint"
    case .settingsDiffer(let file, let differences):
      return
        "\(file) was written by a run with other settings (\(differences.joined(separator: "; "))); resume with the same options or start afresh without --resume"
    }
  }
}
