import Foundation
import Testing
import ZooTensor
import ZooTestSupport

@Suite struct ActivationTests {
  typealias Function = ActivationReference.Function

  /// Each activation with its op, tested on inputs kept at least 0.1 away from 0 (relu's kink).
  static var cases: [(String, Function, (Tensor) -> Tensor)] {
    [
      ("relu", .relu, { relu($0) }),
      ("relu6", .relu6, { relu6($0) }),
      ("leakyRelu", .leakyRelu(negativeSlope: 0.2), { leakyRelu($0, negativeSlope: 0.2) }),
      ("sigmoid", .sigmoid, { sigmoid($0) }),
      ("tanh", .tanh, { tanh($0) }),
      ("gelu", .gelu, { gelu($0) }),
      ("softplus", .softplus(beta: 1, threshold: 20), { softplus($0) }),
      ("softplus beta 2", .softplus(beta: 2, threshold: 20), { softplus($0, beta: 2) }),
    ]
  }

  private static func input(seed: UInt64, shape: [Int] = [3, 4, 5]) -> Tensor {
    var g = SeededGenerator(seed: seed)
    let x = Tensor.normal(shape: shape, std: 2, generator: &g, requiresGrad: true)
    x.scalars = x.scalars.map { $0 >= 0 ? $0 + 0.1 : $0 - 0.1 }
    return x
  }

  @Test func matchesReferenceForwardAndBackward() throws {
    for (name, function, op) in Self.cases {
      let x = Self.input(seed: 1)
      var g = SeededGenerator(seed: 2)
      let dy = Tensor.normal(shape: x.shape, generator: &g)
      let y = op(x)
      let expected = ActivationReference.forward(function, x: x)
      #expect(relativeDifference(y.scalars, expected.scalars) < 1e-5, "\(name) forward")
      try y.backward(seed: dy)
      let dx = ActivationReference.backward(function, x: x, dy: dy)
      #expect(relativeDifference(x.grad!.scalars, dx.scalars) < 1e-5, "\(name) backward")
    }
  }

  /// Large enough to be split across threads.
  @Test func largeTensorMatchesReference() throws {
    for (name, function, op) in Self.cases where name == "relu" || name == "gelu" {
      let x = Self.input(seed: 4, shape: [1 << 16])
      var g = SeededGenerator(seed: 5)
      let dy = Tensor.normal(shape: x.shape, generator: &g)
      let y = op(x)
      #expect(
        relativeDifference(y.scalars, ActivationReference.forward(function, x: x).scalars) < 1e-5,
        "\(name)")
      try y.backward(seed: dy)
      let dx = ActivationReference.backward(function, x: x, dy: dy)
      #expect(relativeDifference(x.grad!.scalars, dx.scalars) < 1e-5, "\(name)")
    }
  }

  @Test func gradientsMatchFiniteDifferences() throws {
    for (name, _, op) in Self.cases {
      let x = Self.input(seed: 3, shape: [2, 3, 4])
      let report = try checkGradients([x]) { op($0[0]) }
      #expect(report.passed, "\(name): \(report)")
    }
  }

  @Test func largeInputsStayFinite() {
    let x = Tensor(shape: [4], scalars: [-1000, -90, 90, 1000])
    let expected: [(Tensor, [Float])] = [
      (sigmoid(x), [0, 0, 1, 1]), (tanh(x), [-1, -1, 1, 1]), (softplus(x), [0, 0, 90, 1000]),
      (gelu(x), [0, 0, 90, 1000]),
    ]
    for (y, values) in expected {
      #expect(zip(y.scalars, values).allSatisfy { abs($0 - $1) < 1e-30 }, "\(y)")
    }
  }

  @Test func matchesTorchValues() {
    // torch.nn.functional.softplus(x, beta=2, threshold=20) and gelu(x).
    let x = Tensor(shape: [6], scalars: [-30, -1, 0, 1, 9, 11])
    let softplusTorch: [Float] = [
      4.37825544636038e-27, 0.06346400082111359, 0.3465735912322998, 1.0634640455245972, 9, 11,
    ]
    #expect(relativeDifference(softplus(x, beta: 2).scalars, softplusTorch) < 1e-6)
    let g = Tensor(shape: [4], scalars: [-2, -0.5, 0.7, 3])
    let geluTorch: [Float] = [
      -0.04550027847290039, -0.1542687714099884, 0.5306254625320435, 2.9959497451782227,
    ]
    #expect(relativeDifference(gelu(g).scalars, geluTorch) < 1e-6)
  }

  @Test func softplusIsLinearAboveThreshold() throws {
    let x = Tensor(shape: [3], scalars: [1, 2, 4], requiresGrad: true)
    let y = softplus(x, beta: 2, threshold: 5)
    #expect(y.scalars[1] == Float(log1p(exp(4.0)) / 2))
    #expect(y.scalars[2] == 4)
    try sum(y).backward()
    #expect(x.grad!.scalars[2] == 1)
    #expect(abs(x.grad!.scalars[1] - Float(1 / (1 + exp(-4.0)))) < 1e-6)
  }

  @Test func leakyReluScalesNegativeSide() {
    let x = Tensor(shape: [4], scalars: [-2, -0.5, 0, 3])
    #expect(leakyRelu(x).scalars == [-0.02, -0.005, 0, 3])
    #expect(relu(x).scalars == [0, 0, 0, 3])
  }

  @Test func unrecordedWhenInputNeedsNoGradient() {
    let y = relu(Tensor(shape: [2], scalars: [1, -1]))
    #expect(!y.requiresGrad)
  }
}
