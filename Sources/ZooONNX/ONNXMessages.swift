import ZooTensor

// The messages of onnx.proto (Apache-2.0, github.com/onnx/onnx) an exporter writes and an
// importer reads, with their field numbers. Fields this project does not use are left out;
// a reader skips the fields it does not know, as protobuf readers do.

/// TensorProto: an initializer or a test tensor, values little-endian in `raw_data`.
public struct ONNXTensor: Equatable, Sendable {
  /// TensorProto.DataType values used here.
  public enum DataType: Int, Sendable {
    case float = 1
    case int64 = 7
  }

  public var name: String
  public var dims: [Int]
  public var dataType: Int
  /// The values' bytes, little-endian, row-major.
  public var rawData: [UInt8]

  public init(name: String, dims: [Int], floats: [Float]) {
    self.name = name
    self.dims = dims
    dataType = DataType.float.rawValue
    rawData = littleEndianBytes(floats)
  }

  public init(name: String, int64s: [Int]) {
    self.name = name
    dims = [int64s.count]
    dataType = DataType.int64.rawValue
    rawData = []
    for value in int64s {
      withUnsafeBytes(of: Int64(value).littleEndian) { rawData.append(contentsOf: $0) }
    }
  }

  /// The values of a float tensor.
  public func floats() throws -> [Float] {
    guard dataType == DataType.float.rawValue else {
      throw ONNXError.unsupportedTensor(
        name: name, reason: "data type \(dataType) is not float (1)")
    }
    let count = dims.reduce(1, *)
    guard dims.allSatisfy({ $0 >= 0 }), rawData.count == count * 4 else {
      throw ONNXError.unsupportedTensor(
        name: name,
        reason: "dims \(describe(shape: dims)) need \(count * 4) bytes, it holds \(rawData.count)")
    }
    return [Float](unsafeUninitializedCapacity: count) { values, initialized in
      rawData.withUnsafeBytes { UnsafeMutableRawBufferPointer(values).copyMemory(from: $0) }
      #if _endian(big)
        for i in 0..<count {
          values[i] = Float(bitPattern: UInt32(littleEndian: values[i].bitPattern))
        }
      #endif
      initialized = count
    }
  }

  func encode(_ w: inout ProtobufWriter) {
    w.ints(1, dims)
    w.int(2, dataType)
    w.string(8, name)
    w.bytes(9, rawData)
  }

  /// Reads a TensorProto; `float_data` (field 4) is turned into `rawData`.
  static func decode(_ bytes: ArraySlice<UInt8>) throws -> ONNXTensor {
    var tensor = ONNXTensor(name: "", dims: [], floats: [])
    tensor.dataType = 0
    var reader = ProtobufReader(bytes)
    while let (field, value) = try reader.next() {
      switch field {
      case 1: tensor.dims += try value.ints("TensorProto.dims")
      case 2: tensor.dataType = try value.int("TensorProto.data_type")
      case 4:
        // Packed floats are already little-endian bytes; a single float is a fixed32.
        switch value {
        case .bytes(let b): tensor.rawData += b
        case .fixed32(let bits):
          withUnsafeBytes(of: bits.littleEndian) { tensor.rawData.append(contentsOf: $0) }
        default: throw ONNXError.malformed("TensorProto.float_data is neither packed nor fixed32")
        }
      case 8: tensor.name = try value.string("TensorProto.name")
      case 9: tensor.rawData = Array(try value.bytes("TensorProto.raw_data"))
      case 13, 14:
        throw ONNXError.unsupportedTensor(
          name: tensor.name.isEmpty ? "(unnamed)" : tensor.name,
          reason: "its values are stored outside the file (external data)")
      default: continue
      }
    }
    return tensor
  }

  /// A serialized TensorProto on its own: the `input_0.pb` / `output_0.pb` files of ONNX's
  /// test data sets, which `onnx.load_tensor` reads.
  public func serialized() -> [UInt8] {
    var w = ProtobufWriter()
    encode(&w)
    return w.bytes
  }

  public static func deserialize(_ bytes: [UInt8]) throws -> ONNXTensor {
    try decode(bytes[...])
  }
}

/// AttributeProto, of the four kinds the exported ops need.
public struct ONNXAttribute: Equatable, Sendable {
  public enum Value: Equatable, Sendable {
    case int(Int)
    case float(Float)
    case ints([Int])
    case string(String)
    case tensor(ONNXTensor)
  }

  public var name: String
  public var value: Value

  public init(_ name: String, _ value: Value) {
    self.name = name
    self.value = value
  }

  func encode(_ w: inout ProtobufWriter) {
    w.string(1, name)
    switch value {
    case .float(let f):
      w.float(2, f)
      w.int(20, 1)
    case .int(let i):
      w.int(3, i)
      w.int(20, 2)
    case .string(let s):
      w.string(4, s)
      w.int(20, 3)
    case .ints(let values):
      w.ints(8, values)
      w.int(20, 7)
    case .tensor(let t):
      w.message(5) { t.encode(&$0) }
      w.int(20, 4)
    }
  }
}

/// NodeProto.
public struct ONNXNode: Equatable, Sendable {
  public var opType: String
  public var inputs: [String]
  public var outputs: [String]
  public var name: String
  public var attributes: [ONNXAttribute]

  public init(
    _ opType: String, inputs: [String], outputs: [String], name: String = "",
    attributes: [ONNXAttribute] = []
  ) {
    self.opType = opType
    self.inputs = inputs
    self.outputs = outputs
    self.name = name
    self.attributes = attributes
  }

  func encode(_ w: inout ProtobufWriter) {
    for input in inputs { w.string(1, input) }
    for output in outputs { w.string(2, output) }
    if !name.isEmpty { w.string(3, name) }
    w.string(4, opType)
    for attribute in attributes { w.message(5) { attribute.encode(&$0) } }
  }

  /// Reads op type, inputs and outputs (attributes are not needed by the importer).
  static func decode(_ bytes: ArraySlice<UInt8>) throws -> ONNXNode {
    var node = ONNXNode("", inputs: [], outputs: [])
    var reader = ProtobufReader(bytes)
    while let (field, value) = try reader.next() {
      switch field {
      case 1: node.inputs.append(try value.string("NodeProto.input"))
      case 2: node.outputs.append(try value.string("NodeProto.output"))
      case 3: node.name = try value.string("NodeProto.name")
      case 4: node.opType = try value.string("NodeProto.op_type")
      default: continue
      }
    }
    return node
  }
}

/// ValueInfoProto of a float tensor: a graph input or output. A dimension is a number or a
/// name (`N`: any batch size).
public struct ONNXValueInfo: Equatable, Sendable {
  public enum Dimension: Equatable, Sendable {
    case value(Int)
    case parameter(String)
  }

  public var name: String
  public var dims: [Dimension]

  public init(name: String, dims: [Dimension]) {
    self.name = name
    self.dims = dims
  }

  func encode(_ w: inout ProtobufWriter) {
    w.string(1, name)
    w.message(2) { type in  // TypeProto
      type.message(1) { tensor in  // TypeProto.Tensor
        tensor.int(1, ONNXTensor.DataType.float.rawValue)
        tensor.message(2) { shape in  // TensorShapeProto
          for dim in dims {
            shape.message(1) { d in
              switch dim {
              case .value(let v): d.int(1, v)
              case .parameter(let p): d.string(2, p)
              }
            }
          }
        }
      }
    }
  }
}

/// GraphProto.
public struct ONNXGraph: Equatable, Sendable {
  public var name: String
  public var nodes: [ONNXNode]
  public var initializers: [ONNXTensor]
  public var inputs: [ONNXValueInfo]
  public var outputs: [ONNXValueInfo]

  public init(
    name: String, nodes: [ONNXNode] = [], initializers: [ONNXTensor] = [],
    inputs: [ONNXValueInfo] = [], outputs: [ONNXValueInfo] = []
  ) {
    self.name = name
    self.nodes = nodes
    self.initializers = initializers
    self.inputs = inputs
    self.outputs = outputs
  }

  func encode(_ w: inout ProtobufWriter) {
    for node in nodes { w.message(1) { node.encode(&$0) } }
    w.string(2, name)
    for tensor in initializers { w.message(5) { tensor.encode(&$0) } }
    for input in inputs { w.message(11) { input.encode(&$0) } }
    for output in outputs { w.message(12) { output.encode(&$0) } }
  }

  /// Reads name, nodes and initializers (inputs and outputs are not needed by the importer).
  static func decode(_ bytes: ArraySlice<UInt8>) throws -> ONNXGraph {
    var graph = ONNXGraph(name: "")
    var reader = ProtobufReader(bytes)
    while let (field, value) = try reader.next() {
      switch field {
      case 1: graph.nodes.append(try ONNXNode.decode(try value.bytes("GraphProto.node")))
      case 2: graph.name = try value.string("GraphProto.name")
      case 5:
        graph.initializers.append(
          try ONNXTensor.decode(try value.bytes("GraphProto.initializer")))
      default: continue
      }
    }
    return graph
  }
}

/// ModelProto: IR version 8 and the default domain at opset 17 (ONNX 1.12).
public struct ONNXModel: Equatable, Sendable {
  public static let irVersion = 8
  public static let opsetVersion = 17

  public var graph: ONNXGraph
  public var producerName: String
  public var producerVersion: String
  /// `metadata_props`: key-value strings (class names, normalisation).
  public var metadata: [(key: String, value: String)]

  public init(
    graph: ONNXGraph, producerName: String = "zoo", producerVersion: String = "",
    metadata: [(key: String, value: String)] = []
  ) {
    self.graph = graph
    self.producerName = producerName
    self.producerVersion = producerVersion
    self.metadata = metadata
  }

  public static func == (a: ONNXModel, b: ONNXModel) -> Bool {
    a.graph == b.graph && a.producerName == b.producerName
      && a.producerVersion == b.producerVersion
      && a.metadata.map(\.key) == b.metadata.map(\.key)
      && a.metadata.map(\.value) == b.metadata.map(\.value)
  }

  public func serialized() -> [UInt8] {
    var w = ProtobufWriter()
    w.int(1, Self.irVersion)
    w.string(2, producerName)
    if !producerVersion.isEmpty { w.string(3, producerVersion) }
    w.message(7) { graph.encode(&$0) }
    w.message(8) { opset in  // OperatorSetIdProto, default domain ""
      opset.int(2, Self.opsetVersion)
    }
    for (key, value) in metadata {
      w.message(14) { entry in
        entry.string(1, key)
        entry.string(2, value)
      }
    }
    return w.bytes
  }

  /// Reads the graph (nodes and initializers), producer and metadata of a serialized model.
  public static func deserialize(_ bytes: [UInt8]) throws -> ONNXModel {
    var model = ONNXModel(graph: ONNXGraph(name: ""), producerName: "")
    var sawGraph = false
    var reader = ProtobufReader(bytes[...])
    while let (field, value) = try reader.next() {
      switch field {
      case 2: model.producerName = try value.string("ModelProto.producer_name")
      case 3: model.producerVersion = try value.string("ModelProto.producer_version")
      case 7:
        model.graph = try ONNXGraph.decode(try value.bytes("ModelProto.graph"))
        sawGraph = true
      case 14:
        var entry = ProtobufReader(try value.bytes("ModelProto.metadata_props"))
        var (key, text) = ("", "")
        while let (f, v) = try entry.next() {
          if f == 1 { key = try v.string("StringStringEntryProto.key") }
          if f == 2 { text = try v.string("StringStringEntryProto.value") }
        }
        model.metadata.append((key, text))
      default: continue
      }
    }
    guard sawGraph else { throw ONNXError.malformed("the model has no graph (field 7)") }
    return model
  }
}

/// The values' bytes, little-endian (a plain copy on little-endian machines: a model's
/// hundreds of megabytes are copied once).
private func littleEndianBytes(_ values: [Float]) -> [UInt8] {
  #if _endian(little)
    values.withUnsafeBytes { Array($0) }
  #else
    values.map(\.bitPattern.littleEndian).withUnsafeBytes { Array($0) }
  #endif
}
