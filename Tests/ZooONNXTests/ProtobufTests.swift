import Foundation
import Testing
import ZooONNX

@Suite struct ProtobufTests {
  static func fixture(_ name: String) throws -> [UInt8] {
    let url = try #require(Bundle.module.url(forResource: "Fixtures/\(name)", withExtension: nil))
    return Array(try Data(contentsOf: url))
  }

  @Test func varintsAreLittleEndianGroupsOfSevenBits() {
    var w = ProtobufWriter()
    w.int(1, 300)
    #expect(w.bytes == [0x08, 0xAC, 0x02])
    var negative = ProtobufWriter()
    negative.int(1, -1)
    #expect(negative.bytes == [0x08] + [UInt8](repeating: 0xFF, count: 9) + [0x01])
  }

  @Test func fieldsReadBackAsWritten() throws {
    var w = ProtobufWriter()
    w.int(3, -7)
    w.float(2, 1.5)
    w.string(4, "Conv")
    w.ints(1, [2, 300])
    var reader = ProtobufReader(w.bytes[...])
    #expect(try reader.next()?.value.int("i") == -7)
    let float = try #require(try reader.next())
    guard case .fixed32(let bits) = float.value else {
      Issue.record("field 2 is not a fixed32")
      return
    }
    #expect(Float(bitPattern: bits) == 1.5)
    #expect(try reader.next()?.value.string("s") == "Conv")
    #expect(try reader.next()?.value.ints("d") == [2])
    #expect(try reader.next()?.value.ints("d") == [300])
    #expect(try reader.next() == nil)
  }

  @Test func aTensorIsWrittenByteForByteAsTheOnnxPackageWritesIt() throws {
    let values: [Float] = (0..<6).map { 0.5 * Float($0) }
    let tensor = ONNXTensor(name: "x", dims: [2, 3], floats: values)
    let python = try Self.fixture("tensor.pb")
    #expect(tensor.serialized() == python)
    let read = try ONNXTensor.deserialize(python)
    #expect(read == tensor)
    #expect(try read.floats() == values)
  }

  @Test func aModelWrittenByTheOnnxPackageReadsInitializersNodesAndMetadata() throws {
    let model = try ONNXModel.deserialize(try Self.fixture("tiny.onnx"))
    #expect(model.producerName == "onnx-fixture")
    #expect(model.metadata.map(\.key) == ["class_names"])
    #expect(model.metadata.first?.value == #"["a","b"]"#)
    #expect(model.graph.initializers.map(\.name) == ["fc.weight", "fc.bias", "shape"])
    #expect(model.graph.nodes.map(\.opType) == ["Identity", "Reshape", "Gemm"])
    let weights = ONNXImport.weights(of: model)
    #expect(weights.keys.sorted() == ["fc.bias", "fc.weight", "head.bias"])
    // float_data (packed floats) and raw_data read alike.
    #expect(try weights["fc.weight"]?.floats() == [0, 1, 2, 3, 4, 5])
    #expect(weights["fc.weight"]?.dims == [2, 3])
    #expect(try weights["head.bias"]?.floats() == [-1, 1])
  }

  @Test func aModelReadsBackAsWritten() throws {
    let node = ONNXNode(
      "Conv", inputs: ["input", "w"], outputs: ["y"], name: "y",
      attributes: [ONNXAttribute("pads", .ints([1, 1, 1, 1])), ONNXAttribute("group", .int(2))])
    let graph = ONNXGraph(
      name: "g", nodes: [node], initializers: [ONNXTensor(name: "w", dims: [1], floats: [2])],
      inputs: [ONNXValueInfo(name: "input", dims: [.parameter("N"), .value(3)])])
    let model = ONNXModel(graph: graph, producerVersion: "1", metadata: [("k", "v")])
    let read = try ONNXModel.deserialize(model.serialized())
    #expect(read.graph.initializers == graph.initializers)
    #expect(read.graph.nodes.map(\.opType) == ["Conv"])
    #expect(read.graph.nodes.first?.inputs == ["input", "w"])
    #expect(read.metadata.first?.value == "v")
  }

  @Test(arguments: [10, 50, 100, 150])
  func truncatedFilesAreMalformedNotACrash(length: Int) throws {
    let bytes = try Self.fixture("tiny.onnx")
    #expect(throws: ONNXError.self) {
      _ = try ONNXModel.deserialize(Array(bytes.prefix(length)))
    }
  }

  @Test func anInitializerOfTheWrongSizeIsNamed() throws {
    var tensor = ONNXTensor(name: "conv1.weight", dims: [2, 3], floats: [1, 2])
    tensor.dims = [2, 3]
    #expect(
      throws: ONNXError.unsupportedTensor(
        name: "conv1.weight", reason: "dims [2, 3] need 24 bytes, it holds 8")
    ) {
      _ = try tensor.floats()
    }
  }
}
