import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// Why a file could not be written. The file that was at the path before is unchanged.
public struct FileWriteError: Error, Equatable, Sendable, LocalizedError {
  public var path: String
  /// The system's reason (`No space left on device`, `Permission denied`).
  public var reason: String

  public init(path: String, reason: String) {
    self.path = path
    self.reason = reason
  }

  public var errorDescription: String? {
    "could not write \(path): \(reason); the file there before, if any, is unchanged"
  }
}

/// Writes `data` to `url` so that `url` never names a half-written file: the bytes go to a
/// temporary file in the same folder, reach the disk (fsync), and replace `url` in one rename,
/// which the folder's fsync then makes durable. On any failure (a full disk, a file-size
/// limit) the temporary file is removed and `url` keeps what it held. Takes the bytes where
/// they are (`Data`, `[UInt8]`), without a copy.
public func writeAtomically(_ data: some ContiguousBytes, to url: URL) throws {
  let temporary = url.deletingLastPathComponent().appendingPathComponent(
    ".\(url.lastPathComponent).\(UUID().uuidString).tmp")
  func failure() -> FileWriteError {
    let reason = String(cString: strerror(errno))
    unlink(temporary.path)
    return FileWriteError(path: url.path, reason: reason)
  }
  let descriptor = open(temporary.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
  guard descriptor >= 0 else {
    throw FileWriteError(path: url.path, reason: String(cString: strerror(errno)))
  }
  let written = data.withUnsafeBytes { bytes -> Bool in
    var offset = 0
    while offset < bytes.count {
      let count = write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
      if count < 0 && errno == EINTR { continue }
      guard count > 0 else { return false }
      offset += count
    }
    return true
  }
  guard written, fsync(descriptor) == 0 else {
    let error = failure()
    close(descriptor)
    throw error
  }
  guard close(descriptor) == 0, rename(temporary.path, url.path) == 0 else { throw failure() }
  // Best effort: the file is complete and in place; this only hurries the rename to the disk.
  let folder = open(url.deletingLastPathComponent().path, O_RDONLY | O_CLOEXEC)
  if folder >= 0 {
    fsync(folder)
    close(folder)
  }
}

/// Writes `text` as UTF-8 through `writeAtomically(_:to:)`.
public func writeAtomically(_ text: String, to url: URL) throws {
  try writeAtomically(Data(text.utf8), to: url)
}
