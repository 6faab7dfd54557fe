import ArgumentParser
import Foundation
import ZooData
import ZooTensor

struct Bench: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Measure the benchmark workloads (build with -c release).",
    discussion: """
      Workloads: sgemm (2048^3), w1 (LeNet-5 training and inference on Fashion-MNIST), w2 \
      (resnet18 inference, 224 px, batch 8), w3 (resnet18 training, 64 px, batch 32), w4 \
      (resnet18 head-only fine-tune on 2,000 Fashion-MNIST images), w5 (U-Net forward and \
      backward), w6 (vgg11 and alexnet inference), w7 (mobilenet_v2, efficientnet_b0 and \
      densenet121 inference, 224 px, batch 8), w8 (mobilenet_v2 training, 64 px, batch 32), \
      r20 (resnet20 training on Fashion-MNIST, 28 px, batch 64), dw (depthwise 3x3 \
      convolution, 144x56x56, batch 8, stride 1 and 2, GB/s). Prints medians over --repeats \
      timed runs after a warm-up, with the GFLOP/s each achieves. Tools/bench runs this and \
      PyTorch's reference side by side and prints the ratios. Instead of the workloads, \
      --layers prints the per-convolution rates of a model (--model, resnet18 by default) and \
      --scaling resnet18's time per image by batch and input size.
      """)

  @Option(help: "Timed runs per workload.")
  var repeats = 5

  @Option(help: "Threads for the engine's parallel kernels and matrix products.")
  var threads = 2

  @Option(help: "Folder holding the Fashion-MNIST IDX files.")
  var data = FashionMNIST.defaultDirectory.path

  @Option(
    help: "Comma-separated workloads to run (\(BenchWorkloads.names.joined(separator: ","))).")
  var workloads = BenchWorkloads.names.joined(separator: ",")

  @Flag(help: "Print a model's per-convolution GFLOP/s at 224 px against the sgemm rate.")
  var layers = false

  @Option(help: "The registry model --layers profiles.")
  var model = "resnet18"

  @Flag(help: "Print resnet18's time per image for batch 1/8/32 and input 64/128/224.")
  var scaling = false

  @Flag(help: "Print one JSON object instead of a table.")
  var json = false

  func validate() throws {
    let unknown = selected.filter { !BenchWorkloads.names.contains($0) }
    guard unknown.isEmpty else {
      throw ValidationError(
        "unknown workload \(unknown.joined(separator: ", ")); choose from "
          + BenchWorkloads.names.joined(separator: ", "))
    }
  }

  private var selected: [String] {
    workloads.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
  }

  func run() throws {
    try reportingErrors {
      Parallel.threadCount = threads
      let suite = BenchWorkloads(repeats: repeats, data: URL(fileURLWithPath: data))
      if !json { print("OpenBLAS kernels: \(BLAS.kernelName)") }
      if layers || scaling {
        let profiles = BenchProfiles(repeats: repeats)
        if layers {
          print(try profiles.convolutionLayers(model: model, sgemm: suite.sgemm().value))
        }
        if scaling { print(try profiles.scaling()) }
        return
      }
      var results: [BenchResult] = []
      for name in selected {
        let measured = try suite.run(name)
        results += measured
        if !json {
          for result in measured {
            let label = result.label.padding(toLength: 50, withPad: " ", startingAt: 0)
            let rate = result.gflops.map { String(format: "%10.1f GFLOP/s", $0) } ?? ""
            print(label + String(format: "%12.1f", result.value) + rate)
          }
        }
      }
      let peak = BenchTiming.peakResidentMiB()
      if json {
        var fields = results.map { "\"\($0.key)\": \(String(format: "%.3f", $0.value))" }
        fields += results.compactMap { result in
          result.gflops.map { "\"\(result.key)_gflops\": \(String(format: "%.2f", $0))" }
        }
        fields.append("\"threads\": \(threads)")
        fields.append("\"blas_kernels\": \"\(BLAS.kernelName)\"")
        if let peak { fields.append("\"peak_rss_mib\": \(String(format: "%.1f", peak))") }
        print("{" + fields.joined(separator: ", ") + "}")
      } else if let peak {
        print(String(format: "peak resident memory: %.1f MiB", peak))
      }
    }
  }
}
