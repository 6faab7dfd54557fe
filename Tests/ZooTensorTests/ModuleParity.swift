import Testing
import ZooNN
import ZooTensor

extension TorchParityTests {
  /// Sets every parameter of `module` from the case's tensor of the same path, runs it on `x`
  /// and compares the output and the gradients for `x` and every parameter (`grad_<path>`).
  static func checkModule(
    _ module: Module, input x: Tensor, _ c: TorchFixture.Case, _ family: String,
    sourceLocation: SourceLocation = #_sourceLocation
  ) throws {
    for (path, parameter) in module.namedParameters() {
      let stored = try c.tensor(path)
      try #require(
        parameter.shape == stored.shape, "\(path): \(parameter.shape) vs \(stored.shape)",
        sourceLocation: sourceLocation)
      parameter.scalars = stored.scalars
    }
    let out = try module(x)
    try backward(out, c, sourceLocation: sourceLocation)
    var ours: [String: Tensor?] = ["out": out, "grad_x": x.grad]
    for (path, parameter) in module.namedParameters() { ours["grad_" + path] = parameter.grad }
    try compare(c, family, ours, sourceLocation: sourceLocation)
  }
}
