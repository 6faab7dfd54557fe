import Testing
import ZooTensor

/// Kernels that split work over cores combine partial results in a fixed order, so results
/// are bit-for-bit the same whatever the number of threads (and whatever their timing).
@Suite(.serialized) struct DeterminismTests {
  /// Forward values and every gradient of a LeNet-like conv, ReLU, pool stack.
  private func run(threads: Int) throws -> [[Float]] {
    try Parallel.$scopedThreadCount.withValue(threads) { try run() }
  }

  private func run() throws -> [[Float]] {
    var g = SeededGenerator(seed: 61)
    let x = Tensor.normal(shape: [37, 2, 14, 14], generator: &g, requiresGrad: true)
    let weight = Tensor.normal(shape: [5, 2, 5, 5], std: 0.3, generator: &g, requiresGrad: true)
    let bias = Tensor.normal(shape: [5], generator: &g, requiresGrad: true)
    let features = relu(try conv2d(x, weight: weight, bias: bias, padding: 2))
    let y = try maxPool2d(features, kernelSize: 2)
    try y.backward(seed: Tensor.normal(shape: y.shape, generator: &g))
    return [y.scalars, x.grad!.scalars, weight.grad!.scalars, bias.grad!.scalars]
  }

  @Test func convolutionGradientsDoNotDependOnThreadCount() throws {
    let one = try run(threads: 1)
    for threads in [2, 3] {
      let other = try run(threads: threads)
      for (a, b) in zip(one, other) {
        #expect(a.map(\.bitPattern) == b.map(\.bitPattern), "\(threads) threads")
      }
    }
  }
}
