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
  /// Reads an IDX file, gzip-compressed or not. It decompresses only as much as the header
  /// declares (then checks the rest of the stream without keeping it), so a small gzip file
  /// that inflates to gigabytes costs no more memory than its declared array.
  public static func read(contentsOf url: URL) throws -> IDXArray {
    let path = url.path
    let input = try GzipInput(path: path)
    let magic = try input.read(4)
    guard magic.count == 4, magic[0] == 0, magic[1] == 0 else {
      throw IDXError.wrongMagic(path: path, found: magic)
    }
    guard magic[2] == 0x08 else { throw IDXError.unsupportedType(path: path, typeCode: magic[2]) }
    let rank = Int(magic[3])
    let headerSize = 4 + 4 * rank
    let sizes = try input.read(4 * rank)
    guard rank > 0, sizes.count == 4 * rank else {
      let actual = 4 + sizes.count + (try input.skipToEnd())
      throw IDXError.truncated(path: path, expectedBytes: headerSize, actualBytes: actual)
    }
    let dimensions = (0..<rank).map { d in
      (0..<4).reduce(0) { $0 << 8 | Int(sizes[4 * d + $1]) }
    }
    let (payloadSize, overflow) = dimensions.reduce((1, false)) { acc, size in
      let (product, o) = acc.0.multipliedReportingOverflow(by: size)
      return (product, acc.1 || o)
    }
    let payload = overflow ? [] : try input.read(payloadSize)
    guard !overflow, payload.count == payloadSize else {
      let actual = headerSize + payload.count + (try input.skipToEnd())
      throw IDXError.truncated(
        path: path, expectedBytes: overflow ? Int.max : headerSize + payloadSize,
        actualBytes: actual)
    }
    _ = try input.skipToEnd()
    return IDXArray(dimensions: dimensions, bytes: payload)
  }
}

/// A file read through zlib, which decompresses gzip and passes other files through unchanged.
private final class GzipInput {
  let path: String
  let file: gzFile
  static let chunkSize = 1 << 20

  init(path: String) throws {
    self.path = path
    guard FileManager.default.isReadableFile(atPath: path) else {
      throw IDXError.unreadable(path: path, reason: "no such readable file")
    }
    guard let file = gzopen(path, "rb") else {
      throw IDXError.unreadable(path: path, reason: String(cString: strerror(errno)))
    }
    self.file = file
  }

  deinit { gzclose(file) }

  /// The next `count` bytes, fewer at the end of the file. Memory grows with what the file
  /// holds, not with `count`.
  func read(_ count: Int) throws -> [UInt8] {
    var result: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: min(count, Self.chunkSize))
    while result.count < count {
      let read = try readChunk(&chunk, upTo: count - result.count)
      if read == 0 { break }
      result.append(contentsOf: chunk[0..<read])
    }
    return result
  }

  /// Reads to the end without keeping the bytes and says how many there were: a gzip stream
  /// that is cut short or corrupt shows only at its end.
  func skipToEnd() throws -> Int {
    var chunk = [UInt8](repeating: 0, count: Self.chunkSize)
    var total = 0
    while true {
      let read = try readChunk(&chunk, upTo: chunk.count)
      if read == 0 { return total }
      total += read
    }
  }

  private func readChunk(_ chunk: inout [UInt8], upTo limit: Int) throws -> Int {
    let wanted = UInt32(min(limit, chunk.count))
    let read = chunk.withUnsafeMutableBytes { gzread(file, $0.baseAddress, wanted) }
    var code: Int32 = 0
    let message = gzerror(file, &code)
    // zlib reports a gzip stream cut short as end of file, not as an error: the code tells.
    if read < 0 || code != Z_OK {
      let reason = message.map { String(cString: $0) } ?? "gzip error \(code)"
      throw IDXError.unreadable(path: path, reason: reason)
    }
    return Int(read)
  }
}
