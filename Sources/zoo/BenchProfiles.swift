import Foundation
import Zoo
import ZooNN
import ZooTensor

/// Where inference time goes: each convolution's GFLOP/s against the sgemm rate, and
/// resnet18's time per image across batch sizes and input sizes.
struct BenchProfiles {
  let repeats: Int

  /// One row per convolution of registry model `name` (resnet18 by default) at 224 px, batch
  /// `batch`, each timed alone; then the convolutions' total against the whole network's time,
  /// the rest being everything else the network does (pooling, activations, additions).
  func convolutionLayers(model name: String, batch: Int = 8, sgemm: Double) throws -> String {
    let model = try ModelRegistry.entry(named: name).build(rng: RandomStream(seed: 0))
    model.setTraining(false)
    let trace = try ModuleTrace.run(model, inputShape: [batch, 3, 224, 224])
    let calls = Dictionary(trace.calls.map { ($0.path, $0) }, uniquingKeysWith: { a, _ in a })
    var lines = [
      "\(name) convolutions, inference, 3x224x224, batch \(batch); sgemm \(format(sgemm)) GFLOP/s",
      "| layer | input | kernel | output | ms | GFLOP/s | of sgemm |",
      "| --- | --- | --- | --- | ---: | ---: | ---: |",
    ]
    var (convSeconds, convMACs) = (0.0, 0)
    for (path, module) in model.namedModules() {
      guard let conv = module as? Conv2d, let call = calls[path] else { continue }
      let (input, output) = (call.input, call.output)
      let x = BenchTiming.randomTensor(input, seed: 2)
      let seconds = try BenchTiming.median(repeats) {
        try BenchTiming.seconds {
          _ = try withoutGradients {
            try conv2d(
              x, weight: conv.weight, stride: conv.stride, padding: conv.padding,
              dilation: conv.dilation, groups: conv.groups)
          }
        }
      }
      let macs = output.reduce(1, *) * conv.weight.shape.dropFirst().reduce(1, *)
      convSeconds += seconds
      convMACs += macs
      let rate = BenchTiming.gflops(multiplyAccumulates: macs, seconds: seconds)
      let (kh, kw) = (conv.weight.shape[2], conv.weight.shape[3])
      let kind = conv.groups == 1 ? "" : conv.groups == input[1] ? " dw" : " g\(conv.groups)"
      lines.append(
        "| \(path) | \(input.dropFirst().map(String.init).joined(separator: "x")) | "
          + "\(kh)x\(kw)/\(conv.stride.0)\(kind) | "
          + "\(output.dropFirst().map(String.init).joined(separator: "x")) | "
          + "\(format(1000 * seconds, 2)) | \(format(rate)) | "
          + "\(Int((100 * rate / sgemm).rounded()))% |")
    }
    let x = BenchTiming.randomTensor([batch, 3, 224, 224], seed: 2)
    let whole = try BenchTiming.median(repeats) {
      try BenchTiming.seconds { _ = try withoutGradients { try model(x) } }
    }
    let convRate = BenchTiming.gflops(multiplyAccumulates: convMACs, seconds: convSeconds)
    lines.append(
      "| all convolutions | | | | \(format(1000 * convSeconds, 1)) | \(format(convRate)) | "
        + "\(Int((100 * convRate / sgemm).rounded()))% |")
    lines.append(
      "| whole network | | | | \(format(1000 * whole, 1)) | "
        + "\(format(BenchTiming.gflops(multiplyAccumulates: trace.totalMultiplyAccumulates, seconds: whole))) | |"
    )
    return lines.joined(separator: "\n")
  }

  /// Milliseconds per image (and GFLOP/s) of resnet18 inference for each batch size and input size.
  func scaling(batches: [Int] = [1, 8, 32], sizes: [Int] = [64, 128, 224]) throws -> String {
    let model = ResNet(.resnet18, rng: RandomStream(seed: 0))
    model.setTraining(false)
    var lines = [
      "resnet18 inference, milliseconds per image (GFLOP/s)",
      "| input | " + batches.map { "batch \($0)" }.joined(separator: " | ") + " |",
      "| --- |" + String(repeating: " ---: |", count: batches.count),
    ]
    for size in sizes {
      let macs = try ModuleTrace.run(model, inputShape: [1, 3, size, size])
        .totalMultiplyAccumulates
      var cells: [String] = []
      for batch in batches {
        let x = BenchTiming.randomTensor([batch, 3, size, size], seed: 2)
        let seconds = try BenchTiming.median(repeats) {
          try BenchTiming.seconds { _ = try withoutGradients { try model(x) } }
        }
        let perImage = seconds / Double(batch)
        cells.append(
          "\(format(1000 * perImage, 2)) (\(format(BenchTiming.gflops(multiplyAccumulates: macs, seconds: perImage))))"
        )
      }
      lines.append("| \(size)x\(size) | " + cells.joined(separator: " | ") + " |")
    }
    return lines.joined(separator: "\n")
  }

  private func format(_ value: Double, _ digits: Int = 1) -> String {
    String(format: "%.\(digits)f", value)
  }
}
