import Foundation
import Testing
import ZooTensor
import ZooTestSupport

@Suite struct ActivationTests {
  typealias Function = ActivationReference.Function

  /// Each activation with its op, tested on inputs kept at least 0.1 away from the kinks at 0
  /// (relu) and at -3 and 3 (hard sigmoid and hard swish).
  static var cases: [(String, Function, (Tensor) -> Tensor)] {
    [
      ("relu", .relu, { relu($0) }),
      ("relu6", .relu6, { relu6($0) }),
      ("leakyRelu", .leakyRelu(negativeSlope: 0.2), { leakyRelu($0, negativeSlope: 0.2) }),
      ("sigmoid", .sigmoid, { sigmoid($0) }),
      ("tanh", .tanh, { tanh($0) }),
      ("gelu", .gelu, { gelu($0) }),
      ("gelu tanh", .geluTanh, { gelu($0, approximate: .tanh) }),
      ("silu", .silu, { silu($0) }),
      ("hardSigmoid", .hardSigmoid, { hardSigmoid($0) }),
      ("hardSwish", .hardSwish, { hardSwish($0) }),
      ("softplus", .softplus(beta: 1, threshold: 20), { softplus($0) }),
      ("softplus beta 2", .softplus(beta: 2, threshold: 20), { softplus($0, beta: 2) }),
    ]
  }

  private static func input(seed: UInt64, shape: [Int] = [3, 4, 5]) -> Tensor {
    var g = SeededGenerator(seed: seed)
    let x = Tensor.normal(shape: shape, std: 2, generator: &g, requiresGrad: true)
    x.scalars = x.scalars.map { v in
      let shifted = v >= 0 ? v + 0.1 : v - 0.1
      return abs(abs(shifted) - 3) < 0.1 ? shifted + (shifted > 0 ? 0.2 : -0.2) : shifted
    }
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
    for (name, function, op) in Self.cases where ["relu", "gelu", "sigmoid", "silu"].contains(name)
    {
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

  /// `activateInPlace` and `activate` compute each activation's own function: on a tensor
  /// split across threads, with a length that leaves a partial group of eight.
  @Test func inPlaceAndByNameMatchTheFunctions() {
    let activations: [TracedOp.Activation] = [
      .relu, .relu6, .sigmoid, .silu, .hardSigmoid, .hardSwish, .tanh, .leakyRelu(slope: 0.2),
      .gelu(.exact), .gelu(.tanh), .softplus(beta: 2, threshold: 20),
    ]
    let x = Self.input(seed: 6, shape: [(1 << 16) + 5])
    x.requiresGrad = false
    let functions: [(Tensor) -> Tensor] = [
      { relu($0) }, { relu6($0) }, { sigmoid($0) }, { silu($0) }, { hardSigmoid($0) },
      { hardSwish($0) }, { tanh($0) }, { leakyRelu($0, negativeSlope: 0.2) }, { gelu($0) },
      { gelu($0, approximate: .tanh) }, { softplus($0, beta: 2) },
    ]
    for (activation, function) in zip(activations, functions) {
      let expected = function(x).scalars
      #expect(activate(x, activation).scalars == expected, "\(activation)")
      let copy = Tensor(shape: x.shape, scalars: x.scalars)
      activateInPlace(copy, activation)
      #expect(copy.scalars == expected, "\(activation) in place")
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
      (gelu(x), [0, 0, 90, 1000]), (gelu(x, approximate: .tanh), [0, 0, 90, 1000]),
      (silu(x), [0, 0, 90, 1000]), (hardSwish(x), [0, 0, 90, 1000]),
      (hardSigmoid(x), [0, 0, 1, 1]),
    ]
    for (y, values) in expected {
      #expect(zip(y.scalars, values).allSatisfy { abs($0 - $1) < 1e-30 }, "\(y)")
    }
  }

  @Test func largeInputsHaveFiniteGradients() throws {
    let ops: [(String, (Tensor) -> Tensor, [Float])] = [
      ("gelu tanh", { gelu($0, approximate: .tanh) }, [0, 0, 1, 1]),
      ("silu", { silu($0) }, [0, 0, 1, 1]),
      ("hardSwish", { hardSwish($0) }, [0, 0, 1, 1]),
      ("hardSigmoid", { hardSigmoid($0) }, [0, 0, 0, 0]),
    ]
    for (name, op, expected) in ops {
      let x = Tensor(shape: [4], scalars: [-1e30, -90, 90, 1e30], requiresGrad: true)
      try sum(op(x)).backward()
      #expect(zip(x.grad!.scalars, expected).allSatisfy { abs($0 - $1) < 1e-30 }, "\(name)")
    }
  }

  /// torch's derivatives at the kinks (torch 2.15): hardswish'(-3) = 0, hardswish'(3) = 1,
  /// hardsigmoid' is 0 at both.
  @Test func hardFunctionsTakeTorchDerivativesAtKinks() throws {
    let x = Tensor(shape: [2], scalars: [-3, 3], requiresGrad: true)
    try sum(hardSwish(x)).backward()
    #expect(x.grad!.scalars == [0, 1])
    x.zeroGrad()
    try sum(hardSigmoid(x)).backward()
    #expect(x.grad!.scalars == [0, 0])
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
