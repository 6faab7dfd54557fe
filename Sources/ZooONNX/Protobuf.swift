// The protocol buffers wire format, as much of it as ONNX files need: varints (wire type 0),
// 32-bit values (5), 64-bit values (1) and length-delimited fields (2: bytes, strings,
// messages, packed repeated numbers). https://protobuf.dev/programming-guides/encoding/

/// Appends fields to a message's bytes. Field numbers are those of onnx.proto.
public struct ProtobufWriter {
  public private(set) var bytes: [UInt8] = []

  public init() {}

  public mutating func varint(_ value: UInt64) {
    var v = value
    while v >= 0x80 {
      bytes.append(UInt8(v & 0x7f) | 0x80)
      v >>= 7
    }
    bytes.append(UInt8(v))
  }

  private mutating func key(_ field: Int, _ wireType: UInt64) {
    varint(UInt64(field) << 3 | wireType)
  }

  /// An int32 or int64 field (negative numbers take ten bytes, as protobuf encodes them).
  public mutating func int(_ field: Int, _ value: Int) {
    key(field, 0)
    varint(UInt64(bitPattern: Int64(value)))
  }

  public mutating func float(_ field: Int, _ value: Float) {
    key(field, 5)
    withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
  }

  public mutating func bytes(_ field: Int, _ value: [UInt8]) {
    key(field, 2)
    varint(UInt64(value.count))
    bytes.append(contentsOf: value)
  }

  public mutating func string(_ field: Int, _ value: String) {
    bytes(field, Array(value.utf8))
  }

  /// An embedded message.
  public mutating func message(_ field: Int, _ body: (inout ProtobufWriter) -> Void) {
    var inner = ProtobufWriter()
    body(&inner)
    bytes(field, inner.bytes)
  }

  /// A repeated int64 field, one key per value: onnx.proto is proto2, where repeated numbers
  /// are packed only when declared so (`dims` and `ints` are not).
  public mutating func ints(_ field: Int, _ values: [Int]) {
    for value in values { int(field, value) }
  }
}

/// Reads a message's fields in order. Malformed input throws, never reads out of bounds.
public struct ProtobufReader {
  public enum Value {
    case varint(UInt64)
    case fixed32(UInt32)
    case fixed64(UInt64)
    case bytes(ArraySlice<UInt8>)
  }

  private let bytes: ArraySlice<UInt8>
  private var offset: Int

  public init(_ bytes: ArraySlice<UInt8>) {
    self.bytes = bytes
    offset = bytes.startIndex
  }

  /// The next field number and value, or nil at the end of the message.
  public mutating func next() throws -> (field: Int, value: Value)? {
    guard offset < bytes.endIndex else { return nil }
    let key = try varint()
    let field = Int(truncatingIfNeeded: key >> 3)
    guard field > 0 else { throw ONNXError.malformed("field number 0 at byte \(offset)") }
    switch key & 7 {
    case 0: return (field, .varint(try varint()))
    case 1: return (field, .fixed64(try fixed(8)))
    case 5: return (field, .fixed32(UInt32(try fixed(4))))
    case 2:
      let length = try varint()
      guard length <= UInt64(bytes.endIndex - offset) else {
        throw ONNXError.malformed(
          "field \(field) declares \(length) bytes, \(bytes.endIndex - offset) remain")
      }
      let start = offset
      offset += Int(length)
      return (field, .bytes(bytes[start..<offset]))
    case let wireType:
      throw ONNXError.malformed("wire type \(wireType) of field \(field) is not supported")
    }
  }

  private mutating func varint() throws -> UInt64 {
    var result: UInt64 = 0
    var shift: UInt64 = 0
    while offset < bytes.endIndex, shift < 64 {
      let byte = bytes[offset]
      offset += 1
      result |= UInt64(byte & 0x7f) << shift
      if byte < 0x80 { return result }
      shift += 7
    }
    throw ONNXError.malformed("a varint runs past the end of its message or over 10 bytes")
  }

  private mutating func fixed(_ size: Int) throws -> UInt64 {
    guard bytes.endIndex - offset >= size else {
      throw ONNXError.malformed("a \(size)-byte value runs past the end of its message")
    }
    var value: UInt64 = 0
    for i in 0..<size { value |= UInt64(bytes[offset + i]) << (8 * UInt64(i)) }
    offset += size
    return value
  }
}

extension ProtobufReader.Value {
  /// The value as an integer field, or a typed error naming `field`.
  public func int(_ field: String) throws -> Int {
    guard case .varint(let v) = self else { throw ONNXError.malformed("\(field) is not a varint") }
    return Int(truncatingIfNeeded: Int64(bitPattern: v))
  }

  public func bytes(_ field: String) throws -> ArraySlice<UInt8> {
    guard case .bytes(let b) = self else {
      throw ONNXError.malformed("\(field) is not length-delimited")
    }
    return b
  }

  public func string(_ field: String) throws -> String {
    String(decoding: try bytes(field), as: UTF8.self)
  }

  /// A repeated int64 field: packed (one length-delimited run) or one varint.
  public func ints(_ field: String) throws -> [Int] {
    if case .varint = self { return [try int(field)] }
    var reader = ProtobufReader(try bytes(field))
    var values: [Int] = []
    while let value = try reader.nextPackedVarint() { values.append(value) }
    return values
  }
}

extension ProtobufReader {
  /// Inside a packed field: the next varint, or nil at the end.
  fileprivate mutating func nextPackedVarint() throws -> Int? {
    guard offset < bytes.endIndex else { return nil }
    return Int(truncatingIfNeeded: Int64(bitPattern: try varint()))
  }
}
