import Dispatch
import Foundation
import ZooTensor

/// Timing helpers shared by the benchmark's workloads and profiles.
enum BenchTiming {
  /// Median of `count` measurements after one warm-up run.
  static func median(_ count: Int, _ measure: () throws -> Double) rethrows -> Double {
    _ = try measure()
    let values = try (0..<max(count, 1)).map { _ in try measure() }.sorted()
    return values[values.count / 2]
  }

  /// Wall-clock seconds `body` takes.
  static func seconds(_ body: () throws -> Void) rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
  }

  /// The process's peak resident memory in MiB (Linux's VmHWM), or nil where unknown.
  static func peakResidentMiB() -> Double? {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
      let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
      let kib = line.split(separator: " ").dropFirst().first.flatMap({ Double($0) })
    else { return nil }
    return kib / 1024
  }

  /// Uniform values in [-1, 1) from a fixed seed: inputs for the synthetic workloads.
  static func randomTensor(_ shape: [Int], seed: UInt64) -> Tensor {
    var generator = SeededGenerator(seed: seed)
    let count = shape.reduce(1, *)
    return Tensor(shape: shape, scalars: (0..<count).map { _ in 2 * generator.nextUniform() - 1 })
  }

  /// GFLOP/s of `multiplyAccumulates` (two floating-point operations each) done in `seconds`.
  static func gflops(multiplyAccumulates: Int, seconds: Double) -> Double {
    2 * Double(multiplyAccumulates) / seconds / 1e9
  }
}
