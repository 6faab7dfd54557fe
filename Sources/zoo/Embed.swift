import ArgumentParser
import Foundation
import Transfer
import Zoo
import ZooData

struct Embed: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Write a pretrained backbone's features of a data set to HDF5 or CSV.",
    discussion: """
      HDF5: datasets features (N x D, float32) and labels (N, int32), attribute class_names. \
      CSV: columns feature_0 ... feature_{D-1} and label (the class name); \
      zoo train --data csv:FILE,label=label reads it back.
      """)

  @Argument(help: "A shipped weight file's name (see `zoo list`) or a weight file path.")
  var source: String

  @OptionGroup var dataOptions: DataArguments

  @Option(
    help: "Which split to embed: train, or test (validation for sources without a test split).")
  var split: EmbedSplit = .train

  @Option(help: "Seed for the validation split and k-shot sampling, when they apply.")
  var seed: UInt64 = 0

  @Option(help: ArgumentHelp("Write the features here.", valueName: "file.h5|file.csv"))
  var out: String

  func validate() throws {
    guard ["h5", "hdf5", "csv"].contains(URL(fileURLWithPath: out).pathExtension.lowercased())
    else {
      throw ValidationError("--out must end in .h5, .hdf5 or .csv, got \(out)")
    }
  }

  func run() throws {
    try reportingErrors {
      let started = Date()
      let source = try PretrainedSource(source)
      print("source: \(source.summary)")
      let model = try source.classifier()
      let data = try dataOptions.load(inputShape: source.inputShape, seed: seed)
      for line in data.report.lines { print(line) }
      guard split == .train || split.rawValue == data.validationName else {
        throw ValidationErrorLine(
          message:
            "\(dataOptions.data) has no \(split.rawValue) split; choose train or \(data.validationName)"
        )
      }
      let examples = split == .train ? data.train : data.validation
      let progress = ProgressBar()
      let embeddings = try Embeddings(
        model: model,
        data: examples.batches(batchSize: 256, normalization: source.normalization),
        classNames: data.classNames,
        progress: { progress.update("features", done: $0, total: $1) })
      let url = URL(fileURLWithPath: out)
      try FileManager.default.createDirectory(
        at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
      try embeddings.write(to: url)
      print(
        "wrote \(out): \(embeddings.count) \(split.rawValue) examples x \(embeddings.featureCount) features, \(data.classNames.count) classes"
      )
      print(String(format: "done in %.1f s", Date().timeIntervalSince(started)))
    }
  }
}

/// The splits a data source can have: test for sources with a test split (Fashion-MNIST, a
/// `test/` folder), validation for the others.
enum EmbedSplit: String, ExpressibleByArgument, CaseIterable {
  case train, test, validation
}
