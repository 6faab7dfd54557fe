import ArgumentParser
import Foundation
import Transfer
import Zoo
import ZooData
import ZooNN
import ZooTensor

extension EncoderFeatures: ExpressibleByArgument {}

struct TransferBench: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "transfer-bench",
    abstract: "Measure transfer learning against training from scratch on k-shot sets.",
    discussion: """
      For each number of shots K and each seed, draws K labelled images per class (and a \
      validation split) as zoo finetune does, then (head) fine-tunes only a new head on the \
      frozen backbone, (two-stage) does that and then trains everything with per-stage rates, \
      and (scratch) trains the same architecture from random weights on the same images. Every \
      run is scored on the whole test split; the table gives mean and standard deviation over \
      the seeds and the mean time of a run (fine-tuning and test evaluation, data loaded once).
      """)

  @Argument(help: "A shipped weight file's name (see `zoo list`) or a weight file path.")
  var source = Finetune.defaultSource

  @Option(help: ArgumentHelp("Target data source (it needs a test split).", valueName: "source"))
  var data = "fashion-mnist:5-9"

  @Option(help: "Labelled images per class, comma-separated.")
  var shots = "5,20,100"

  @Option(help: "Seeds, comma-separated: each draws its own k-shot set and initialisation.")
  var seeds = "0,1,2"

  @Option(help: "Which runs: head, two-stage, scratch (comma-separated).")
  var arms = "head,two-stage,scratch"

  @OptionGroup var recipe: FineTuneArguments

  @Option(
    help: ArgumentHelp(
      "The layer the new head reads when the source is an autoencoder or a VAE: code (the latent code or posterior mean) or map (the 1,568-wide convolutional map before it); training from scratch trains the same model.",
      valueName: "layer"))
  var encoderFeatures: EncoderFeatures = .code

  @Option(help: "Epochs for training from scratch.")
  var scratchEpochs = 60

  @Option(help: "Learning rate (AdamW) for training from scratch.")
  var scratchLr: Float = 3e-3

  @Option(
    help: ArgumentHelp(
      "Write the recipe, the drawn sets (indices into the training split) and every run here, for Tools/transfer_bench_torch.py.",
      valueName: "results.json"))
  var json: String?

  func validate() throws {
    guard shotList != nil, seedList != nil, armList != nil else {
      throw ValidationError(
        "--shots and --seeds take comma-separated positive numbers, --arms a list of head, two-stage, scratch; got \(shots), \(seeds), \(arms)"
      )
    }
    guard scratchEpochs > 0, scratchLr > 0 else {
      throw ValidationError("--scratch-epochs and --scratch-lr must be positive")
    }
  }

  /// The items of a comma-separated list, or nil when one does not parse.
  private static func list<T>(_ text: String, _ parse: (Substring) -> T?) -> [T]? {
    let items = text.split(separator: ",", omittingEmptySubsequences: false)
    let values = items.compactMap(parse)
    return values.isEmpty || values.count != items.count ? nil : values
  }

  private var shotList: [Int]? { Self.list(shots) { Int($0).flatMap { $0 > 0 ? $0 : nil } } }
  private var seedList: [UInt64]? { Self.list(seeds) { UInt64($0) } }
  private var armList: [Arm]? { Self.list(arms) { Arm(rawValue: String($0)) } }

  enum Arm: String, CaseIterable, Codable {
    case head
    case twoStage = "two-stage"
    case scratch

    var title: String {
      switch self {
      case .head: return "head only"
      case .twoStage: return "two-stage"
      case .scratch: return "from scratch"
      }
    }
  }

  /// What --json writes: enough for a reference implementation to repeat the head-only runs.
  struct Report: Codable {
    var source: String
    var architecture: String
    var data: String
    var classNames: [String]
    var recipe: [String: String]
    var draws: [Draw]
    var runs: [Run]
    var loadSeconds: Double
  }

  /// One k-shot set: indices into the training split of `data` (its classes relabelled 0..<k).
  struct Draw: Codable {
    var shots: Int
    var seed: UInt64
    var train: [Int]
    var validation: [Int]
  }

  /// One fine-tuning or training run and its figures.
  struct Run: Codable {
    var arm: Arm
    var shots: Int
    var seed: UInt64
    var testAccuracy: Float
    var bestEpoch: String
    var seconds: Double
  }

  @Flag(
    help:
      "Spread the (shots, seed) draws over the ranks of an MPI job; on by itself under mpirun.")
  var distributed = false

  func run() throws {
    try DataParallelRun.running(distributed: distributed, syncBatchNorm: false) {
      try bench(parallel: $0)
    }
  }

  /// Runs the draws (with `parallel`, this rank's share of them; rank 0 reports them all).
  private func bench(parallel: DataParallelRun?) throws {
    try reportingErrors {
      let (shotCounts, seedList, armList) = (shotList!, seedList!, armList!)
      let source = try PretrainedSource(source)
      print("source: \(source.summary)")
      guard encoderFeatures == .code || source.entry.task == .generation else {
        throw ValidationErrorLine(
          message:
            "--encoder-features needs an autoencoder or a VAE as the source, got \(source.entry.name); leave it out for a classifier"
        )
      }
      let loadStart = Date()
      let data = try DataSource(parsing: data).load(
        DataOptions(
          imageShape: ImageShape(
            channels: source.inputShape[0], height: source.inputShape[1],
            width: source.inputShape[2])))
      guard data.validationName == "test" else {
        throw ValidationErrorLine(message: "\(self.data) has no test split to score on")
      }
      let loadSeconds = Date().timeIntervalSince(loadStart)
      print(
        String(
          format: "data: %@, %d training and %d test images, loaded in %.1f s", self.data,
          data.train.count, data.validation.count, loadSeconds))
      let normalization = source.normalization
      let test = data.validation.batches(batchSize: 256, normalization: normalization)

      var runs: [Run] = []
      var draws: [Draw] = []
      let allDraws = shotCounts.flatMap { shots in seedList.map { (shots, $0) } }
      for (index, (shots, seed)) in allDraws.enumerated()
      where parallel.map({ index % $0.group.size == $0.group.rank }) ?? true {
        do {
          let splits = try FewShotSplits(data, shots: shots, seed: seed)
          draws.append(
            Draw(
              shots: shots, seed: seed, train: splits.trainIndices,
              validation: splits.validationIndices ?? []))
          let train = splits.train.batches(
            batchSize: recipe.batchSize, normalization: normalization)
          let validation = splits.validation.batches(batchSize: 256, normalization: normalization)
          for arm in armList {
            let started = Date()
            let (model, configuration) = try prepare(
              arm, source: source, classCount: data.classNames.count, seed: seed)
            let result = try FineTuner(model: model, configuration: configuration).run(
              train: train, validation: validation)
            let accuracy = try ClassifierTrainer.evaluate(model, on: test).accuracy
            let run = Run(
              arm: arm, shots: shots, seed: seed, testAccuracy: accuracy,
              bestEpoch: "\(result.best.stage.rawValue) \(result.best.epoch)",
              seconds: Date().timeIntervalSince(started))
            runs.append(run)
            print(
              String(
                format: "K=%d seed %d %@: test accuracy %.2f%% (best %@), %.2f s", shots, seed,
                arm.title, 100 * accuracy, run.bestEpoch, run.seconds))
          }
        }
      }
      if let parallel {
        // In the order one process would have run them.
        let position = { (shots: Int, seed: UInt64) in
          allDraws.firstIndex { $0 == (shots, seed) }!
        }
        runs = try parallel.gathered(runs).joined().sorted {
          (position($0.shots, $0.seed), armList.firstIndex(of: $0.arm)!)
            < (position($1.shots, $1.seed), armList.firstIndex(of: $1.arm)!)
        }
        draws = try parallel.gathered(draws).joined().sorted {
          position($0.shots, $0.seed) < position($1.shots, $1.seed)
        }
        guard parallel.isRoot else { return }
      }
      print()
      print(Self.table(runs, shots: shotCounts, arms: armList))
      if let json {
        var recipe = self.recipe.recipe(freeze: .backbone)
        recipe["unfreeze_epochs"] = "\(self.recipe.unfreezeEpochs ?? 10)"
        recipe["weight_decay"] = "\(FineTuneConfiguration().weightDecay)"
        recipe["scratch_epochs"] = "\(scratchEpochs)"
        if source.entry.task == .generation {
          recipe["encoder_features"] = encoderFeatures.rawValue
        }
        recipe["scratch_lr"] = "\(scratchLr)"
        let report = Report(
          source: source.url.path, architecture: source.entry.name, data: self.data,
          classNames: data.classNames, recipe: recipe, draws: draws, runs: runs,
          loadSeconds: loadSeconds)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        try writeAtomically(
          String(decoding: try encoder.encode(report), as: UTF8.self),
          to: URL(fileURLWithPath: json))
      }
    }
  }

  /// A fresh model and its recipe for one run.
  private func prepare(_ arm: Arm, source: PretrainedSource, classCount: Int, seed: UInt64)
    throws -> (Classifier, FineTuneConfiguration)
  {
    switch arm {
    case .head, .twoStage:
      let model = try source.classifier(encoderFeatures: encoderFeatures)
      model.replaceHead(
        classCount: classCount, hidden: recipe.hidden, rng: RandomStream(seed: seed))
      let configuration = recipe.configuration(
        freeze: .backbone, seed: seed,
        unfreezeEpochs: arm == .head ? 0 : (recipe.unfreezeEpochs ?? 10))
      return (model, configuration)
    case .scratch:
      let model = try source.untrainedClassifier(
        classCount: classCount, encoderFeatures: encoderFeatures, rng: RandomStream(seed: seed))
      var configuration = recipe.configuration(freeze: .none, seed: seed, unfreezeEpochs: 0)
      configuration.headEpochs = scratchEpochs
      configuration.learningRate = scratchLr
      return (model, configuration)
    }
  }

  /// Markdown: one row per K, one column per arm (mean ± std over seeds, mean time per run).
  static func table(_ runs: [Run], shots: [Int], arms: [Arm]) -> String {
    var lines = [
      "| K | " + arms.map(\.title).joined(separator: " | ") + " |",
      "| ---: | " + arms.map { _ in "---:" }.joined(separator: " | ") + " |",
    ]
    for k in shots {
      let cells = arms.map { arm -> String in
        let chosen = runs.filter { $0.arm == arm && $0.shots == k }
        let accuracies = chosen.map { 100 * Double($0.testAccuracy) }
        let mean = accuracies.reduce(0, +) / Double(max(accuracies.count, 1))
        let variance =
          accuracies.map { ($0 - mean) * ($0 - mean) }.reduce(0, +)
          / Double(max(accuracies.count - 1, 1))
        let seconds = chosen.map(\.seconds).reduce(0, +) / Double(max(chosen.count, 1))
        return String(format: "%.1f ± %.1f%% (%.1f s)", mean, variance.squareRoot(), seconds)
      }
      lines.append("| \(k) | " + cells.joined(separator: " | ") + " |")
    }
    return lines.joined(separator: "\n")
  }
}
