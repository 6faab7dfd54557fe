import Foundation
import ZooIO
import ZooNN
import ZooTensor

/// A fresh temporary folder, removed by `remove()`.
struct TemporaryFolder {
  let url: URL

  init() throws {
    url = FileManager.default.temporaryDirectory.appendingPathComponent(
      "zoo-io-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
  }

  func file(_ name: String) -> URL { url.appendingPathComponent(name) }

  /// Names of everything in the folder, hidden files included.
  func contents() throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: url.path).sorted()
  }

  func remove() { try? FileManager.default.removeItem(at: url) }
}

/// Replaces every tensor of one value per channel (biases, batch- and layer-norm weights,
/// running statistics and layer scales, which a fresh model holds at 0, 1 or 1e-6) with seeded
/// random values, so a load that skipped or
/// swapped any tensor shows. Kernels keep their seeded initialisation: drawing VGG's 138M
/// values again would only slow the tests.
func randomize(_ model: Module, seed: UInt64) {
  var generator = SeededGenerator(seed: seed)
  // One value per channel: vectors, and layer scales (C, 1, 1).
  for (path, tensor) in model.stateDict() where tensor.shape.dropFirst().allSatisfy({ $0 == 1 }) {
    tensor.scalars = (0..<tensor.count).map { _ in
      path.hasSuffix("running_var")
        ? 0.5 + generator.nextUniform() : 0.2 * generator.nextNormal()
    }
  }
}

/// The first path whose tensors are not bit-identical (or whose shapes differ), or nil.
func firstDifference(_ a: Module, _ b: Module) -> String? {
  let left = a.stateDict()
  let right = b.stateDict()
  guard left.map(\.path) == right.map(\.path) else { return "the state-dict paths differ" }
  for (l, r) in zip(left, right) where !identical(l.tensor, r.tensor) {
    return l.path
  }
  return nil
}

/// Same shape and the same bytes (so -0 and NaN payloads count as differences).
func identical(_ a: Tensor, _ b: Tensor) -> Bool {
  a.shape == b.shape
    && a.scalars.withUnsafeBytes { x in
      b.scalars.withUnsafeBytes { y in
        x.count == 0 || memcmp(x.baseAddress!, y.baseAddress!, x.count) == 0
      }
    }
}

/// Copies of every tensor, to check later that nothing changed.
func snapshot(_ model: Module) -> [(path: String, tensor: Tensor)] {
  model.stateDict().map { ($0.path, $0.tensor.detached()) }
}

func unchanged(_ model: Module, since snapshot: [(path: String, tensor: Tensor)]) -> Bool {
  let state = model.stateDict()
  return state.count == snapshot.count
    && zip(state, snapshot).allSatisfy { $0.path == $1.path && identical($0.tensor, $1.tensor) }
}

/// Children with chosen names, run in order.
final class NamedSequence: Module {
  init(_ layers: [(String, Module)]) {
    super.init()
    for (name, layer) in layers { register(name, layer) }
  }

  override func forward(_ x: Tensor) throws -> Tensor {
    try children.reduce(x) { try $1.module($0) }
  }
}

/// The input of the interop fixtures: element i of the NCHW tensor is 1.5 sin(0.011 i).
func sineInput(_ shape: [Int]) -> Tensor {
  let count = shape.reduce(1, *)
  return Tensor(shape: shape, scalars: (0..<count).map { Float(1.5 * sin(0.011 * Double($0))) })
}

/// Small models for layout and error tests.
enum TestModels {
  /// Every kind of layer a file stores: a convolution, a batch norm, a transposed
  /// convolution, a convolution without bias and a linear layer; input (N, 2, 2, 2).
  static func everyKind(classCount: Int = 3, seed: UInt64 = 5) -> NamedSequence {
    let rng = RandomStream(seed: seed)
    let model = NamedSequence([
      ("conv1", Conv2d(2, 4, kernelSize: 3, padding: 1, rng: rng)),
      ("bn1", BatchNorm(4)),
      ("up", ConvTranspose2d(4, 3, kernelSize: 2, stride: 2, rng: rng)),
      ("proj", Conv2d(3, 5, kernelSize: 1, bias: false, rng: rng)),
      ("flatten", Flatten()),
      ("fc", Linear(5 * 4 * 4, classCount, rng: rng)),
    ])
    randomize(model, seed: seed)
    return model
  }
}

#if canImport(Glibc)
  import Glibc
#endif
