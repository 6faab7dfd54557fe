import CZlib
import Foundation

/// An array read from an IDX file (the MNIST format): unsigned bytes with their dimensions.
public struct IDXArray: Sendable {
  public let dimensions: [Int]
  public let bytes: [UInt8]
}

/// Errors reading IDX files; each names the file.
public enum IDXError: Error, Equatable, LocalizedError {
  case unreadable(path: String, reason: String)
  case wrongMagic(path: String, found: [UInt8])
  case unsupportedType(path: String, typeCode: UInt8)
  case truncated(path: String, expectedBytes: Int, actualBytes: Int)
  case countMismatch(images: String, imageCount: Int, labels: String, labelCount: Int)
  case unexpectedRank(path: String, expected: Int, actual: Int)
  /// No images, or images without rows or columns.
  case noPixels(path: String, count: Int, rows: Int, columns: Int)
  case oneClass(path: String, label: Int)
  /// A label past the class names given for the labels.
  case labelOutOfRange(path: String, label: Int, classCount: Int)

  public var errorDescription: String? {
    switch self {
    case .unreadable(let path, let reason):
      return "\(path): cannot read IDX file: \(reason)"
    case .wrongMagic(let path, let found):
      let hex = found.map { String(format: "%02x", $0) }.joined(separator: " ")
      return "\(path): not an IDX file: expected magic 00 00 08 <rank>, found \(hex)"
    case .unsupportedType(let path, let typeCode):
      return
        "\(path): IDX element type 0x\(String(typeCode, radix: 16)) is not supported, only unsigned bytes (0x08)"
    case .truncated(let path, let expected, let actual):
      return "\(path): IDX file is truncated: header declares \(expected) bytes, file has \(actual)"
    case .countMismatch(let images, let imageCount, let labels, let labelCount):
      return "\(images) has \(imageCount) images but \(labels) has \(labelCount) labels"
    case .unexpectedRank(let path, let expected, let actual):
      return "\(path): expected a rank-\(expected) IDX array, found rank \(actual)"
    case .noPixels(let path, let count, let rows, let columns):
      return
        "\(path): needs at least one image of at least 1x1 pixels; the header declares \(count)"
        + " image\(count == 1 ? "" : "s") of \(rows)x\(columns)"
    case .oneClass(let path, let label):
      return "\(path): needs at least two classes, every label is \(label)"
    case .labelOutOfRange(let path, let label, let classCount):
      return
        "\(path): labels must be below the number of classes, \(classCount); the file has \(label)"
    }
  }
}

public enum IDX {
  /// Reads an IDX file, gzip-compressed or not.
  public static func read(contentsOf url: URL) throws -> IDXArray {
    let path = url.path
    let data = try readMaybeGzipped(path: path)
    guard data.count >= 4, data[0] == 0, data[1] == 0 else {
      throw IDXError.wrongMagic(path: path, found: Array(data.prefix(4)))
    }
    guard data[2] == 0x08 else { throw IDXError.unsupportedType(path: path, typeCode: data[2]) }
    let rank = Int(data[3])
    let headerSize = 4 + 4 * rank
    guard rank > 0, data.count >= headerSize else {
      throw IDXError.truncated(path: path, expectedBytes: headerSize, actualBytes: data.count)
    }
    let dimensions = (0..<rank).map { d in
      (0..<4).reduce(0) { $0 << 8 | Int(data[4 + 4 * d + $1]) }
    }
    let (payload, overflow) = dimensions.reduce((1, false)) { acc, size in
      let (product, o) = acc.0.multipliedReportingOverflow(by: size)
      return (product, acc.1 || o)
    }
    guard !overflow, headerSize + payload <= data.count else {
      throw IDXError.truncated(
        path: path, expectedBytes: overflow ? Int.max : headerSize + payload,
        actualBytes: data.count)
    }
    return IDXArray(dimensions: dimensions, bytes: Array(data[headerSize..<(headerSize + payload)]))
  }

  /// The whole file, decompressed when it is gzip (zlib reads plain files unchanged).
  static func readMaybeGzipped(path: String) throws -> [UInt8] {
    guard FileManager.default.isReadableFile(atPath: path) else {
      throw IDXError.unreadable(path: path, reason: "no such readable file")
    }
    guard let file = gzopen(path, "rb") else {
      throw IDXError.unreadable(path: path, reason: String(cString: strerror(errno)))
    }
    defer { gzclose(file) }
    var result: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 20)
    while true {
      let read = chunk.withUnsafeMutableBytes { gzread(file, $0.baseAddress, UInt32($0.count)) }
      if read < 0 {
        var code: Int32 = 0
        let message = gzerror(file, &code).map { String(cString: $0) } ?? "gzip error \(code)"
        throw IDXError.unreadable(path: path, reason: message)
      }
      if read == 0 { break }
      result.append(contentsOf: chunk[0..<Int(read)])
    }
    // zlib reports a gzip stream cut short as end of file, not as an error.
    var code: Int32 = 0
    if let message = gzerror(file, &code), code != Z_OK {
      throw IDXError.unreadable(path: path, reason: String(cString: message))
    }
    return result
  }
}
