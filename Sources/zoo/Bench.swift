import ArgumentParser
import Foundation
import Zoo
import ZooData
import ZooNN
import ZooTensor

struct Bench: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Measure GEMM and LeNet-5 throughput (build with -c release).",
    discussion: """
      Prints medians over --repeats timed runs after a warm-up. Tools/bench runs this and
      PyTorch's reference side by side and prints the ratios.
      """)

  @Option(help: "Timed runs per workload.")
  var repeats = 5

  @Option(help: "Threads for OpenBLAS and for the engine's parallel kernels.")
  var threads = 2

  @Option(help: "Folder holding the Fashion-MNIST IDX files.")
  var data = FashionMNIST.defaultDirectory.path

  @Flag(help: "Print one JSON object instead of a table.")
  var json = false

  func run() throws {
    try reportingErrors {
      BLAS.threadCount = threads
      Parallel.threadCount = threads
      let directory = URL(fileURLWithPath: data)
      var results: [(key: String, label: String, value: Double)] = []
      results.append(
        ("sgemm_gflops", "sgemm 2048^3 GFLOP/s", median(repeats) { sgemmGFLOPs(size: 2048) }))
      let train = ImageBatches(
        try FashionMNIST.load(.train, directory: directory), normalization: .fashionMNIST,
        batchSize: 64)
      results.append(
        (
          "lenet_train_images_per_s", "LeNet-5 training images/s (batch 64)",
          try lenetTraining(train)
        ))
      let test = ImageBatches(
        try FashionMNIST.load(.test, directory: directory), normalization: .fashionMNIST,
        batchSize: 256)
      results.append(
        (
          "lenet_infer_images_per_s", "LeNet-5 inference images/s (batch 256)",
          try lenetInference(test)
        ))
      if json {
        let fields =
          results.map { "\"\($0.key)\": \(String(format: "%.2f", $0.value))" } + [
            "\"threads\": \(threads)"
          ]
        print("{" + fields.joined(separator: ", ") + "}")
      } else {
        for result in results {
          let label = result.label.padding(toLength: 42, withPad: " ", startingAt: 0)
          print(label + String(format: "%12.1f", result.value))
        }
      }
    }
  }

  /// Median of `count` measurements after one warm-up run.
  private func median(_ count: Int, _ measure: () throws -> Double) rethrows -> Double {
    _ = try measure()
    let values = try (0..<max(count, 1)).map { _ in try measure() }.sorted()
    return values[values.count / 2]
  }

  private func seconds(_ body: () throws -> Void) rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
  }

  private func sgemmGFLOPs(size n: Int) -> Double {
    var g = SeededGenerator(seed: 1)
    let a = (0..<(n * n)).map { _ in g.nextUniform() }
    let b = (0..<(n * n)).map { _ in g.nextUniform() }
    var c = [Float](repeating: 0, count: n * n)
    let time = seconds {
      c.withUnsafeMutableBufferPointer { c in
        BLAS.gemm(m: n, n: n, k: n, a: a, lda: n, b: b, ldb: n, c: c.baseAddress!, ldc: n)
      }
    }
    return 2 * Double(n * n * n) / time / 1e9
  }

  /// Images per second for SGD steps (lr 0.05, momentum 0.9) over 300 batches.
  private func lenetTraining(_ data: ImageBatches) throws -> Double {
    let model = LeNet5(rng: RandomStream(seed: 0))
    let optimizer = SGD(parameters: model.trainableParameters(), learningRate: 0.05, momentum: 0.9)
    let trainer = ClassifierTrainer(model: model, optimizer: optimizer)
    let steps = min(300, data.batchCount)
    let subset = ImageBatches(
      data.images.prefix(steps * data.batchSize), normalization: data.normalization,
      batchSize: data.batchSize)
    return try median(repeats) {
      let time = try seconds { _ = try trainer.trainEpoch(subset, epoch: 1, epochs: 1, seed: 0) }
      return Double(subset.count) / time
    }
  }

  /// Images per second for inference over the first 10,240 test images.
  private func lenetInference(_ data: ImageBatches) throws -> Double {
    let model = LeNet5(rng: RandomStream(seed: 0))
    model.setTraining(false)
    let subset = ImageBatches(
      data.images.prefix(10_240), normalization: data.normalization, batchSize: data.batchSize)
    let order = subset.order(seed: nil)
    let batches = (0..<subset.batchCount).map { subset.batch($0, order: order).images }
    return try median(repeats) {
      let time = try seconds {
        try withoutGradients {
          for x in batches { _ = try model(x) }
        }
      }
      return Double(subset.count) / time
    }
  }
}
