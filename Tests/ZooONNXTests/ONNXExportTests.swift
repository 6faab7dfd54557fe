import Testing
import ZooNN
import ZooONNX
import ZooTensor

/// A module that does its own arithmetic on values, which no op records.
private final class RawArithmetic: Module {
  override func forward(_ x: Tensor) throws -> Tensor {
    relu(Tensor(shape: x.shape, scalars: x.scalars.map { $0 * 2 }))
  }
}

/// A module whose forward pass runs an op ONNX export has no mapping for.
private final class Reduces: Module {
  override func forward(_ x: Tensor) throws -> Tensor { mean(x) }
}

@Suite struct ONNXExportTests {
  static func smallNet() -> Sequential {
    Sequential {
      Conv2d(1, 4, kernelSize: 3, padding: 1, rng: RandomStream(seed: 1))
      BatchNorm(4)
      ReLU()
      MaxPool2d(2)
      Flatten()
      Linear(4 * 4 * 4, 3, rng: RandomStream(seed: 2))
    }
  }

  static func input(_ shape: [Int]) -> Tensor {
    let rng = RandomStream(seed: 3)
    return Tensor(
      shape: shape,
      scalars: rng.withGenerator { g in (0..<shape.reduce(1, *)).map { _ in g.nextNormal() } })
  }

  @Test func theGraphHasOneNodePerOpAndTheStateDictAsInitializers() throws {
    let net = Self.smallNet()
    let (model, output) = try ONNXExport.export(net, input: Self.input([2, 1, 8, 8]))
    #expect(output.shape == [2, 3])
    #expect(
      model.graph.nodes.map(\.opType) == [
        "Conv", "BatchNormalization", "Relu", "MaxPool", "Flatten", "Gemm", "Identity",
      ])
    #expect(model.graph.initializers.map(\.name) == net.stateDict().map(\.path))
    #expect(model.graph.inputs.first?.dims == [.parameter("N"), .value(1), .value(8), .value(8)])
    #expect(model.graph.outputs.first?.dims == [.parameter("N"), .value(3)])
    #expect(net.isTraining, "export restores the training mode")
  }

  @Test func exportedWeightsImportBitForBit() throws {
    let net = Self.smallNet()
    for (_, tensor) in net.stateDict() {
      tensor.scalars = tensor.scalars.indices.map { Float($0 % 7) * 0.25 - 0.5 }
    }
    let (model, _) = try ONNXExport.export(net, input: Self.input([1, 1, 8, 8]))
    let copy = Self.smallNet()
    try ONNXImport.load(try ONNXModel.deserialize(model.serialized()), into: copy)
    for (original, loaded) in zip(net.stateDict(), copy.stateDict()) {
      #expect(original.tensor.scalars == loaded.tensor.scalars, "\(original.path)")
    }
  }

  @Test func anOpWithoutMappingIsNamed() {
    #expect(throws: ONNXError.unsupportedOp("sum")) {
      _ = try ONNXExport.export(Reduces(), input: Self.input([1, 2]))
    }
  }

  @Test func aValueFromOutsideTheOpsIsRefused() {
    #expect(throws: ONNXError.untracedTensor(op: "Relu", shape: [1, 2])) {
      _ = try ONNXExport.export(RawArithmetic(), input: Self.input([1, 2]))
    }
  }

  /// Adaptive pooling whose windows are equal and evenly spaced exports as AveragePool; 3x3 to
  /// 2x2 takes windows 0..<2 and 1..<3: kernel 2, stride 1.
  @Test func adaptivePoolingWithEqualWindowsIsAnAveragePool() throws {
    let (model, _) = try ONNXExport.export(
      AdaptiveAvgPool2d(2, 2), input: Self.input([1, 1, 3, 3]))
    let pool = try #require(model.graph.nodes.first)
    #expect(pool.opType == "AveragePool")
    #expect(pool.attributes.map(\.value) == [.ints([2, 2]), .ints([1, 1])])
  }

  @Test func adaptivePoolingWithUnequalWindowsIsRefusedWithAHint() {
    #expect(throws: ONNXError.self) {
      _ = try ONNXExport.export(AdaptiveAvgPool2d(3, 3), input: Self.input([1, 1, 5, 5]))
    }
  }
}

@Suite struct ONNXImportTests {
  static func exported() throws -> ONNXModel {
    try ONNXExport.export(
      ONNXExportTests.smallNet(), input: ONNXExportTests.input([1, 1, 8, 8])
    ).model
  }

  @Test func aMissingTensorIsNamed() throws {
    var model = try Self.exported()
    model.graph.initializers.removeAll { $0.name == "1.running_var" }
    #expect(throws: ONNXError.missingTensor("1.running_var")) {
      try ONNXImport.load(model, into: ONNXExportTests.smallNet())
    }
  }

  @Test func anExtraTensorIsNamed() throws {
    var model = try Self.exported()
    model.graph.initializers.append(ONNXTensor(name: "5.extra", dims: [1], floats: [0]))
    #expect(throws: ONNXError.unexpectedTensor("5.extra")) {
      try ONNXImport.load(model, into: ONNXExportTests.smallNet())
    }
  }

  @Test func aMisShapedTensorNamesBothShapesAndChangesNothing() throws {
    var model = try Self.exported()
    let index = try #require(model.graph.initializers.firstIndex { $0.name == "5.weight" })
    model.graph.initializers[index] = ONNXTensor(
      name: "5.weight", dims: [3, 32], floats: [Float](repeating: 1, count: 96))
    let net = ONNXExportTests.smallNet()
    let before = net.stateDict().map(\.tensor.scalars)
    let error = ONNXError.shapeMismatch(name: "5.weight", expected: [3, 64], actual: [3, 32])
    #expect(throws: error) { try ONNXImport.load(model, into: net) }
    #expect(
      error.description
        == "shape mismatch for 5.weight: the model expects [3, 64], the ONNX file has [3, 32]")
    #expect(net.stateDict().map(\.tensor.scalars) == before)
  }
}
